package roundfour

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// Bots whose mistake is in the writers they stack in front of or behind
// the gate.

// streamOf is stream i of a storage as an io.Writer.
type streamOf struct {
	s storage
	i int
}

func (w streamOf) Write(p []byte) (int, error) { return w.s.Write(w.i, p) }

// bufioBeforeGate puts a bufio.Writer in front of a gated writer.
type bufioBeforeGate struct {
	*fsmBot
	mu    sync.Mutex
	gated []*fsm.Writer
	bw    []*bufio.Writer
}

// bufioSize is the buffer in front of the gate: a few frames.
const bufioSize = 256

// NewBufioBeforeGate builds the bot with the buffer in front of the gate.
//
// The mistake: the team read "wrap your io.Writer with Gate.Writer" and
// then, for fewer small writes, put a bufio.Writer in front of it, and
// hands it every frame: "the gate drops what arrives outside a recording".
// But the gate looks when the buffer is flushed, not when the frame
// arrived: frames buffered before Graph's completed (or in an earlier
// recording) go through the open gate with the frames that fill the
// buffer (R1). A refused flush is reset, which only loses frames.
func NewBufioBeforeGate(env *properties.Env) (properties.Bot, error) {
	b := &bufioBeforeGate{}
	fb, err := newFSMBot(callOf(env), b.recordingEnded, nil)
	if err != nil {
		return nil, err
	}
	b.fsmBot = fb
	for i := 0; i < env.Streams; i++ {
		g := fb.m.Gate().Writer(streamOf{env.Sink, i})
		b.gated = append(b.gated, g)
		b.bw = append(b.bw, bufio.NewWriterSize(g, bufioSize))
	}
	return b, nil
}

func (b *bufioBeforeGate) Frame(_ context.Context, stream int, payload []byte) error {
	if _, err := b.stream(stream); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.bw[stream].Write(payload); err != nil {
		b.bw[stream].Reset(b.gated[stream]) // outside a recording: drop and go on
		return errDropped
	}
	return nil
}

// recordingEnded flushes the buffers (the gate is closed by now, so this
// only drops them) and then storage.
func (b *bufioBeforeGate) recordingEnded(context.Context, fsm.Trigger) error {
	b.mu.Lock()
	for i, w := range b.bw {
		if err := w.Flush(); err != nil {
			w.Reset(b.gated[i])
		}
	}
	b.mu.Unlock()
	return b.c.sink.Flush()
}

// gzipSegments writes each recording as one gzip member per stream.
type gzipSegments struct {
	*fsmBot
	// closeInHook is the correct variant: the hook closes each member.
	closeInHook bool
	mu          sync.Mutex
	gz          []*gzip.Writer // nil: no member open on that stream
}

func newGzipSegments(env *properties.Env, closeInHook bool) (*gzipSegments, error) {
	b := &gzipSegments{closeInHook: closeInHook, gz: make([]*gzip.Writer, env.Streams)}
	fb, err := newFSMBot(callOf(env), b.recordingEnded, nil)
	if err != nil {
		return nil, err
	}
	b.fsmBot = fb
	return b, nil
}

// NewGzipTrailerAfterReport builds the bot whose gzip members are closed
// only at the next recording.
//
// The mistake: recordings are stored gzipped, one member per recording and
// stream, flushed after every frame so a crash loses at most one frame.
// The hook calls Flush on each gzip.Writer ("everything is on disk") and
// leaves Close to the next Start, which opens new members, and to
// shutdown. gzip's Close writes the final block and the trailer (CRC-32
// and length of the recorded media: data derived from it) after
// notRecording was sent, or after the call ended (R2).
func NewGzipTrailerAfterReport(env *properties.Env) (properties.Bot, error) {
	return newGzipSegments(env, false)
}

// NewGzipClosedInHook builds the correct gzip bot: the hook closes every
// member before it flushes storage.
func NewGzipClosedInHook(env *properties.Env) (properties.Bot, error) {
	return newGzipSegments(env, true)
}

func (b *gzipSegments) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.gz[stream] == nil {
		b.gz[stream] = gzip.NewWriter(streamOf{b.c.sink, stream})
	}
	if _, err := b.gz[stream].Write(payload); err != nil {
		return err
	}
	return b.gz[stream].Flush()
}

func (b *gzipSegments) recordingEnded(context.Context, fsm.Trigger) error {
	b.mu.Lock()
	var errs []error
	for i, z := range b.gz {
		if z == nil {
			continue
		}
		if b.closeInHook {
			errs = append(errs, z.Close())
			b.gz[i] = nil
		} else {
			errs = append(errs, z.Flush())
		}
	}
	b.mu.Unlock()
	return errors.Join(append(errs, b.c.sink.Flush())...)
}

// closeMembers closes every open member.
func (b *gzipSegments) closeMembers() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var errs []error
	for i, z := range b.gz {
		if z != nil {
			errs = append(errs, z.Close())
			b.gz[i] = nil
		}
	}
	return errors.Join(errs...)
}

func (b *gzipSegments) Start(ctx context.Context) error {
	if !b.closeInHook {
		_ = b.closeMembers() // a new recording: new members
	}
	return b.fsmBot.Start(ctx)
}

// Close closes what is still open (shutdown).
func (b *gzipSegments) Close(context.Context) error { return b.closeMembers() }

// teeAfterGate keeps a debug copy of every recorded frame.
type teeAfterGate struct {
	*fsmBot
	out []io.Writer
}

// NewTeeAfterGate builds the bot with the debug copy behind the gated
// writer.
//
// The mistake: support asked for a copy of every recorded frame under
// debug/, and the team put it second in an io.MultiWriter, behind the
// gated writer: "MultiWriter stops at the first error, so the copy is
// written only when the gate let the frame through". True, but the copy is
// written after the gated writer released its lease: a Stop that waited
// for that lease goes on to flush and report while the copy is being
// written, so the copy can land after notRecording (R2).
func NewTeeAfterGate(env *properties.Env) (properties.Bot, error) {
	return newTeeAfterGate(callOf(env))
}

// newTeeAfterGate writes the debug copy of stream i on stream
// c.streams+i, a stream the suite sends no frames on.
func newTeeAfterGate(c call) (*teeAfterGate, error) {
	fb, err := newFSMBot(c, sinkFlushHook(c.sink), nil)
	if err != nil {
		return nil, err
	}
	b := &teeAfterGate{fsmBot: fb}
	for i := 0; i < c.streams; i++ {
		debug := streamOf{c.sink, c.streams + i}
		b.out = append(b.out, io.MultiWriter(fb.m.Gate().Writer(streamOf{c.sink, i}), debug))
	}
	return b, nil
}

func (b *teeAfterGate) Frame(_ context.Context, stream int, payload []byte) error {
	if _, err := b.stream(stream); err != nil {
		return err
	}
	_, err := b.out[stream].Write(payload)
	return err
}

// failAndRestart reports failed when its storage refuses a write, and
// starts a new recording.
type failAndRestart struct {
	*fsmBot
	writes atomic.Int64
}

// faultEvery is how often the injected storage fault strikes.
const faultEvery = 5

// errDiskFault is the injected storage fault.
var errDiskFault = errors.New("roundfour: storage refused the write (injected fault)")

// NewFailAndRestart builds the correct self-healing bot: when storage
// refuses a write (a fault injected every fifth write, as the team's
// fault-injection test does) it releases the lease, reports failed through
// the machine, and asks Graph for a new recording with a new Start.
func NewFailAndRestart(env *properties.Env) (properties.Bot, error) {
	fb, err := newFSMBot(callOf(env), sinkFlushHook(env.Sink), nil)
	if err != nil {
		return nil, err
	}
	return &failAndRestart{fsmBot: fb}, nil
}

func (b *failAndRestart) Frame(ctx context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	if b.writes.Add(1)%faultEvery != 0 {
		defer lease.Release()
		_, err = b.c.sink.Write(stream, payload)
		return err
	}
	lease.Release()
	if err := b.m.Fail(ctx); err != nil {
		return errors.Join(errDiskFault, err)
	}
	_, err = b.m.Start(ctx)
	return errors.Join(errDiskFault, err)
}
