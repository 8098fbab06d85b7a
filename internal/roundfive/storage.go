package roundfive

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// NewPipeCopy builds the bot that feeds an uploader through io.Pipe.
//
// The mistake: the team's blob SDK uploads from an io.Reader, so each
// stream gets an io.Pipe whose reader an io.Copy goroutine drains into
// storage; frames are written into the pipe under a lease. io.Pipe is
// synchronous ("Write blocks until the reader has consumed all the
// data"), so the team took a returned pw.Write for a finished write. It
// is not: the reader has the bytes in its buffer, and io.Copy writes them
// to storage after pw.Write returned and the lease was released, so a
// Stop that comes in between reports notRecording before they land.
func NewPipeCopy(env *properties.Env) (properties.Bot, error) {
	return newPipeCopy(callOf(env))
}

func newPipeCopy(c call) (*pipeCopy, error) {
	b, err := newFSMBot(c, nil)
	if err != nil {
		return nil, err
	}
	p := &pipeCopy{fsmBot: b}
	for i := 0; i < c.streams; i++ {
		pr, pw := io.Pipe()
		p.pipes = append(p.pipes, pw)
		p.copies.Add(1)
		go func(i int) {
			defer p.copies.Done()
			_, _ = io.Copy(streamWriter{c.sink, i}, pr)
		}(i)
	}
	return p, nil
}

type pipeCopy struct {
	*fsmBot
	pipes  []*io.PipeWriter
	copies sync.WaitGroup
	once   sync.Once
}

func (b *pipeCopy) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = b.pipes[stream].Write(payload) // returns once io.Copy has read it
	return err
}

// Close ends the uploads.
func (b *pipeCopy) Close(context.Context) error {
	b.once.Do(func() {
		for _, pw := range b.pipes {
			_ = pw.Close()
		}
	})
	b.copies.Wait()
	return nil
}

// record is one JSON line of the mixed-media bot's storage: the audio as
// bytes (encoding/json writes []byte as base64) and, while recording, the
// recognizer's caption.
type record struct {
	Seq     int    `json:"seq"`
	Audio   []byte `json:"audio"`
	Caption string `json:"caption,omitempty"`
}

// NewMixedJSONPreRoll builds the bot that stores JSON lines of audio and
// captions, with a lead-in of audio heard before consent.
//
// The mistake: each stream's file is JSON lines {seq, audio, caption}.
// So that a recording does not begin mid-word, the bot keeps the last two
// frames heard while not recording and writes them first when the gate
// opens (a pre-roll). The recognizer runs only while recording (it is
// billed per minute), so the lead-in lines carry audio and no caption.
// Audio is base64 in JSON; the captions of the recorded frames are
// plain text on the same stream.
func NewMixedJSONPreRoll(env *properties.Env) (properties.Bot, error) {
	b, err := newFSMBot(callOf(env), nil)
	if err != nil {
		return nil, err
	}
	return &mixedJSON{fsmBot: b, lead: make([][][]byte, env.Streams)}, nil
}

type mixedJSON struct {
	*fsmBot
	mu   sync.Mutex
	seq  int
	lead [][][]byte // per stream: the last frames heard while not recording
}

func (b *mixedJSON) line(r record) []byte {
	out, _ := json.Marshal(r)
	return append(out, '\n')
}

func (b *mixedJSON) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	lease, err := s.Acquire()
	if errors.Is(err, fsm.ErrGateClosed) {
		l := append(b.lead[stream], append([]byte(nil), payload...))
		if len(l) > 2 {
			l = l[len(l)-2:]
		}
		b.lead[stream] = l
		return err
	}
	if err != nil {
		return err
	}
	defer lease.Release()
	var out []byte
	for i, a := range b.lead[stream] {
		out = append(out, b.line(record{Seq: b.seq - len(b.lead[stream]) + i, Audio: a})...)
	}
	b.lead[stream] = nil
	out = append(out, b.line(record{Seq: b.seq, Audio: payload, Caption: string(payload)})...)
	_, err = b.c.sink.Write(stream, out)
	return err
}

// NewGoroutinePerFrame builds the bot that hands each frame to a goroutine
// of its own, which takes the lease when it runs.
//
// The mistake: the media SDK calls the frame handler on its receive
// thread, which must not block, so the handler does `go persist(frame)`
// with context.Background(); the goroutine registers a Stream, takes a
// lease, writes and releases. The lease is taken when the goroutine runs,
// not when the frame arrived: a frame that arrived while the recording
// request was out is written if the goroutine runs after Graph's
// completed.
func NewGoroutinePerFrame(env *properties.Env) (properties.Bot, error) {
	b, err := newFSMBot(callOf(env), nil)
	if err != nil {
		return nil, err
	}
	return &goroutinePerFrame{fsmBot: b, launch: func(f func()) { go f() }}, nil
}

type goroutinePerFrame struct {
	*fsmBot
	wg sync.WaitGroup
	// launch runs f on a goroutine of its own (the SDK's dispatcher; a
	// mechanism test runs f when it chooses).
	launch func(f func())
}

func (b *goroutinePerFrame) Frame(_ context.Context, stream int, payload []byte) error {
	if stream < 0 || stream >= b.c.streams {
		return errNoStream
	}
	p := append([]byte(nil), payload...)
	b.wg.Add(1)
	b.launch(func() {
		defer b.wg.Done()
		s := b.m.Gate().NewStream()
		defer s.Close()
		lease, err := s.Acquire()
		if err != nil {
			return
		}
		defer lease.Release()
		_, _ = b.c.sink.Write(stream, p)
	})
	return nil
}

// Close waits for the goroutines.
func (b *goroutinePerFrame) Close(context.Context) error { b.wg.Wait(); return nil }

// NewSlowTickerRemainder builds the bot that leaves each recording's tail
// to a periodic uploader.
//
// The mistake: frames admitted under a lease are batched per stream and a
// batch of three is written under the lease of the frame that filled it.
// What is left when the recording ends is "not worth an upload of its
// own": the hook parks it for the periodic uploader, which runs every
// five seconds and batches the tails of all calls, without a lease. The
// tail lands seconds after notRecording.
func NewSlowTickerRemainder(env *properties.Env) (properties.Bot, error) {
	return newSlowTicker(callOf(env), 5*time.Second)
}

func newSlowTicker(c call, period time.Duration) (*slowTicker, error) {
	b := &slowTicker{period: period, batch: make([][]byte, c.streams)}
	f, err := newFSMBot(c, func(context.Context, fsm.Trigger) error {
		b.park()
		return c.sink.Flush()
	})
	if err != nil {
		return nil, err
	}
	b.fsmBot = f
	return b, nil
}

type slowTicker struct {
	*fsmBot
	period time.Duration
	mu     sync.Mutex
	batch  [][]byte // per stream, with the count of frames in it
	count  []int
}

func (b *slowTicker) Frame(_ context.Context, stream int, payload []byte) error {
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
	if b.count == nil {
		b.count = make([]int, len(b.batch))
	}
	b.batch[stream] = append(b.batch[stream], payload...)
	b.count[stream]++
	if b.count[stream] < 3 {
		return nil
	}
	out := b.batch[stream]
	b.batch[stream], b.count[stream] = nil, 0
	_, err = b.c.sink.Write(stream, out)
	return err
}

// park hands the tails to the periodic uploader.
func (b *slowTicker) park() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, t := range b.batch {
		if len(t) == 0 {
			continue
		}
		stream, tail := i, t
		time.AfterFunc(b.period, func() { _, _ = b.c.sink.Write(stream, tail) })
		b.batch[i] = nil
		if b.count != nil {
			b.count[i] = 0
		}
	}
}

// NewHookFlushTimeout builds the bot whose hook gives up on a slow flush.
//
// The mistake: frames go under a lease into a bufio.Writer per stream;
// the recording-ended hook flushes them, on a goroutine, and waits at
// most 2 ms ("a stuck disk must not hold up notRecording; Graph's
// indicator matters more"). When storage is slower than that, the hook
// returns, notRecording is sent, and the flush lands after it.
func NewHookFlushTimeout(env *properties.Env) (properties.Bot, error) {
	return newHookFlushTimeout(callOf(env), 2*time.Millisecond)
}

func newHookFlushTimeout(c call, wait time.Duration) (*hookFlushTimeout, error) {
	b := &hookFlushTimeout{}
	for i := 0; i < c.streams; i++ {
		b.bufs = append(b.bufs, bufio.NewWriterSize(streamWriter{c.sink, i}, 4096))
	}
	f, err := newFSMBot(c, func(context.Context, fsm.Trigger) error {
		done := make(chan error, 1)
		go func() { done <- b.flushAll() }()
		select {
		case err := <-done:
			if err != nil {
				return err
			}
		case <-time.After(wait):
			// "the disk is slow; it will get there"
		}
		return c.sink.Flush()
	})
	if err != nil {
		return nil, err
	}
	b.fsmBot = f
	return b, nil
}

type hookFlushTimeout struct {
	*fsmBot
	mu   sync.Mutex
	bufs []*bufio.Writer
}

func (b *hookFlushTimeout) flushAll() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, w := range b.bufs {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func (b *hookFlushTimeout) Frame(_ context.Context, stream int, payload []byte) error {
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
	_, err = b.bufs[stream].Write(payload)
	return err
}
