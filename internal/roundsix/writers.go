package roundsix

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// NewStaleStreamBusyWrite builds a bot that re-creates its Streams for
// every recording (the hook closes them, a successful Start makes new
// ones), while each stream's recorder keeps the Stream it was given when
// the call began. From the second recording on, that Stream is closed, so
// Acquire returns ErrStreamClosed; and the recorder reads ErrStreamBusy and
// ErrStreamClosed alike as "this stream is taken, so the gate is open" and
// writes without a lease.
//
// Why a team does it: ErrStreamBusy showed up in production when two
// frames of one stream overlapped, during recordings; dropping audio then
// was a customer complaint, and "busy means someone is writing, so we are
// recording" looked safe. When fsm split ErrStreamClosed out of
// ErrStreamBusy, the upgrade added it to the same branch. The
// per-recording rotation came later, from another engineer, who did not
// know the recorder kept its own pointer.
func NewStaleStreamBusyWrite(env *properties.Env) (properties.Bot, error) {
	b := &staleStreamBot{}
	base, err := newFSMBot(env, func(context.Context, fsm.Trigger) error {
		b.mu.Lock()
		for _, s := range b.current {
			_ = s.Close() // rotated: the next recording gets fresh streams
		}
		b.current = nil
		b.mu.Unlock()
		return env.Sink.Flush()
	})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	b.current = base.streams
	for i, s := range base.streams {
		b.recorders = append(b.recorders, &recorder{stream: i, s: s, sink: env.Sink})
	}
	return b, nil
}

type staleStreamBot struct {
	*fsmBot
	mu        sync.Mutex
	current   []*fsm.Stream
	recorders []*recorder
}

type recorder struct {
	stream int
	s      *fsm.Stream // kept from the call's start: the bug
	sink   *properties.Sink
}

func (r *recorder) write(p []byte) error {
	lease, err := r.s.Acquire()
	switch {
	case errors.Is(err, fsm.ErrStreamBusy), errors.Is(err, fsm.ErrStreamClosed):
		_, err = r.sink.Write(r.stream, p) // "busy: the gate must be open"
		return err
	case err != nil:
		return err
	}
	defer lease.Release()
	_, err = r.sink.Write(r.stream, p)
	return err
}

func (b *staleStreamBot) Start(ctx context.Context) error {
	_, err := b.m.Start(ctx)
	b.mu.Lock()
	if b.current == nil {
		for i := 0; i < b.env.Streams; i++ {
			b.current = append(b.current, b.m.Gate().NewStream())
		}
	}
	b.mu.Unlock()
	return err
}

func (b *staleStreamBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, len(b.recorders)); err != nil {
		return err
	}
	return b.recorders[stream].write(payload)
}

// NewMultiWriterArchiveFirst builds a bot whose per-stream writer is
// io.MultiWriter(archive, gated): the archive copy (Sink stream
// Streams+i) first, fsm's Gate.Writer second.
//
// Why a team does it: round four's TeeAfterGate bug was fixed by a
// reviewer who read "io.MultiWriter stops at the first error" and swapped
// the order so that the archive copy "happens only if the gated write
// could" — but MultiWriter writes in order, so the archive gets every
// frame before the gated writer refuses it.
func NewMultiWriterArchiveFirst(env *properties.Env) (properties.Bot, error) {
	base, err := newFSMBot(env, nil)
	if err != nil {
		return nil, err
	}
	b := &multiWriterBot{fsmBot: base}
	for i := 0; i < env.Streams; i++ {
		gated := base.m.Gate().Writer(env.Sink.Stream(i))
		b.writers = append(b.writers, io.MultiWriter(env.Sink.Stream(env.Streams+i), gated))
		b.mu = append(b.mu, &sync.Mutex{})
	}
	return b, nil
}

type multiWriterBot struct {
	*fsmBot
	writers []io.Writer
	mu      []*sync.Mutex // one writer per goroutine, as fsm.Writer asks
}

func (b *multiWriterBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, len(b.writers)); err != nil {
		return err
	}
	b.mu[stream].Lock()
	defer b.mu[stream].Unlock()
	_, err := b.writers[stream].Write(payload)
	return err
}

// NewRetryClosedWrite builds a bot that writes through fsm's Gate.Writer
// and keeps a frame whose write failed in a one-frame retry slot, written
// before the stream's next frame. A frame refused with ErrGateClosed waits
// there through the pending attempt, and lands at the next frame after the
// gate opened: media from before consent, in the recording.
//
// Why a team does it: the storage layer's generic "retry the last failed
// write once" wrapper (written for transient disk errors) was put around
// every writer, the gated one included; ErrGateClosed is an error like any
// other to it.
func NewRetryClosedWrite(env *properties.Env) (properties.Bot, error) {
	base, err := newFSMBot(env, nil)
	if err != nil {
		return nil, err
	}
	b := &retryBot{fsmBot: base}
	for i := 0; i < env.Streams; i++ {
		b.writers = append(b.writers, &retryWriter{w: base.m.Gate().Writer(env.Sink.Stream(i))})
	}
	return b, nil
}

type retryBot struct {
	*fsmBot
	writers []*retryWriter
}

type retryWriter struct {
	mu    sync.Mutex
	w     io.Writer
	retry []byte
}

func (r *retryWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.retry != nil {
		if _, err := r.w.Write(r.retry); err == nil {
			r.retry = nil
		}
	}
	n, err := r.w.Write(p)
	if err != nil {
		r.retry = append([]byte(nil), p...)
	}
	return n, err
}

func (b *retryBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, len(b.writers)); err != nil {
		return err
	}
	_, err := b.writers[stream].Write(payload)
	return err
}

// NewRotatedStreams builds a correct bot that re-creates its Streams for
// every recording, as StaleStreamBusyWrite does, but reads the current
// Stream under the lock at every frame; a frame that still got the old,
// closed one sees ErrStreamClosed and is dropped.
func NewRotatedStreams(env *properties.Env) (properties.Bot, error) {
	b := &rotatedBot{}
	base, err := newFSMBot(env, func(context.Context, fsm.Trigger) error {
		b.mu.Lock()
		for _, s := range b.current {
			_ = s.Close()
		}
		b.current = nil
		b.mu.Unlock()
		return env.Sink.Flush()
	})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	b.current = base.streams
	return b, nil
}

type rotatedBot struct {
	*fsmBot
	mu      sync.Mutex
	current []*fsm.Stream
}

func (b *rotatedBot) Start(ctx context.Context) error {
	b.mu.Lock()
	if b.current == nil {
		for i := 0; i < b.env.Streams; i++ {
			b.current = append(b.current, b.m.Gate().NewStream())
		}
	}
	b.mu.Unlock()
	_, err := b.m.Start(ctx)
	return err
}

func (b *rotatedBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, b.env.Streams); err != nil {
		return err
	}
	b.mu.Lock()
	if b.current == nil {
		b.mu.Unlock()
		return errDropped // between the hook and the next Start: no streams
	}
	s := b.current[stream]
	b.mu.Unlock()
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = b.env.Sink.Write(stream, payload)
	return err
}

// ContextStream is the Sink stream PreRollOnControlStream names in
// WithUntracedStreams.
const ContextStream = 99

// NewPreRollOnControlStream builds a bot that keeps a "context" line on a
// stream it declared media-free (WithUntracedStreams(ContextStream)):
// when a recording opens, it writes there the last frame heard before
// consent on each stream, as the "what was being said when recording
// began" note for the reviewer. The frames themselves are persisted
// correctly, under leases.
//
// Why a team does it: the control stream is "ours, not media", so the
// team felt free to write there whenever; the context note quotes media.
func NewPreRollOnControlStream(env *properties.Env) (properties.Bot, error) {
	b := &contextNoteBot{heard: make([][]byte, env.Streams)}
	base, err := newFSMBot(env, nil, fsm.WithObserver(func(e fsm.Event) {
		if e.Kind == fsm.EventGate && e.Open {
			b.note()
		}
	}))
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

type contextNoteBot struct {
	*fsmBot
	mu    sync.Mutex
	heard [][]byte
}

func (b *contextNoteBot) note() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, p := range b.heard {
		if p != nil {
			line := append([]byte("context before recording: "), p...)
			_, _ = b.env.Sink.Write(ContextStream, append(line, '\n'))
			b.heard[i] = nil
		}
	}
}

func (b *contextNoteBot) Frame(ctx context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, len(b.streams)); err != nil {
		return err
	}
	if !b.m.Gate().IsOpen() {
		b.mu.Lock()
		b.heard[stream] = append([]byte(nil), payload...)
		b.mu.Unlock()
		return errDropped
	}
	return b.fsmBot.Frame(ctx, stream, payload)
}
