package roundnine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// errNoStream is what a bot returns for a frame on a stream the call does
// not have. The suite expects errors from Frame (a frame dropped) and does
// not count them.
var errNoStream = errors.New("roundnine: no such stream")

// base is the wiring every bot of this round starts from, as README
// shows it: one fsm.Machine for the call, one fsm.Stream per media
// stream, the gate's openings reported to the suite (env.GateOpened),
// and a recording-ended hook the bot supplies (nil: flush the Sink).
// Bots embed it and change what their team changed.
type base struct {
	env     *properties.Env
	sink    *properties.Sink
	m       *fsm.Machine
	streams []*fsm.Stream
	// storageErrors counts the writes storage failed, as a team's
	// metrics would (and the mechanism tests read).
	storageErrors atomic.Int64
}

// newBase builds the wiring on env. hook runs when a recording ends (Stop,
// Fail, or CallEnded while recording); opened, if not nil, runs right
// after the gate opens, inside the machine's transition.
func newBase(env *properties.Env, hook fsm.EndedHook, opened func()) (*base, error) {
	b := &base{env: env, sink: env.Sink}
	if hook == nil {
		hook = func(context.Context, fsm.Trigger) error { return env.Sink.Flush() }
	}
	m, err := fsm.New(env.CallID, env.Updater,
		fsm.WithRecordingEndedHook(hook),
		fsm.WithObserver(func(e fsm.Event) {
			if e.Kind == fsm.EventGate && e.Open {
				env.GateOpened()
				if opened != nil {
					opened()
				}
			}
		}))
	if err != nil {
		return nil, err
	}
	b.m = m
	for i := 0; i < env.Streams; i++ {
		b.streams = append(b.streams, m.Gate().NewStream())
	}
	return b, nil
}

func (b *base) checkStream(i int) error {
	if i < 0 || i >= len(b.streams) {
		return fmt.Errorf("%w: %d (the call has %d)", errNoStream, i, len(b.streams))
	}
	return nil
}

// Start asks Graph to record.
func (b *base) Start(ctx context.Context) error {
	_, err := b.m.Start(ctx)
	return err
}

// Stop ends the recording and reports notRecording.
func (b *base) Stop(ctx context.Context) error { return b.m.Stop(ctx) }

// Fail ends the recording and reports failed.
func (b *base) Fail(ctx context.Context) error { return b.m.Fail(ctx) }

// CallEnded ends the machine.
func (b *base) CallEnded(ctx context.Context) error { return b.m.CallEnded(ctx) }

// OperationUpdate feeds Graph's later outcome to the machine.
func (b *base) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return b.m.OperationUpdate(ctx, op)
}

// GateOpen reports the machine's gate (properties.GateReporter).
func (b *base) GateOpen() bool { return b.m.Gate().IsOpen() }

// write persists p on Sink stream i and counts a failure.
func (b *base) write(i int, p []byte) error {
	_, err := b.sink.Write(i, p)
	if err != nil {
		b.storageErrors.Add(1)
	}
	return err
}

// underLease runs fn while holding a lease on stream i, and releases it
// before returning. The gate's error (closed, stream closed) is returned
// as is: the frame is dropped.
func (b *base) underLease(i int, fn func() error) error {
	if err := b.checkStream(i); err != nil {
		return err
	}
	lease, err := b.streams[i].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	return fn()
}

// countingWriter counts the writes that failed on its way to w, for the
// bots that hand an io.Writer to library code (bufio, gzip, io.Copy).
type countingWriter struct {
	w      io.Writer
	failed *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil {
		c.failed.Add(1)
	}
	return n, err
}

// frameLog keeps copies of frames, per stream, in order: a spool, a retry
// list, an in-memory copy of a recording.
type frameLog struct {
	mu     sync.Mutex
	frames map[int][][]byte
}

func (l *frameLog) add(i int, p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.frames == nil {
		l.frames = make(map[int][][]byte)
	}
	l.frames[i] = append(l.frames[i], append([]byte(nil), p...))
}

// take empties the log and returns what it held.
func (l *frameLog) take() map[int][][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.frames
	l.frames = nil
	return out
}

// takeStream empties stream i's part of the log and returns it.
func (l *frameLog) takeStream(i int) [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.frames[i]
	delete(l.frames, i)
	return out
}

// joined is frames one after the other, as one write.
func joined(frames [][]byte) []byte {
	var out []byte
	for _, f := range frames {
		out = append(out, f...)
	}
	return out
}
