package roundeleven

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// Errors the bots return for frames they do not persist (the suite does
// not count them).
var (
	errNoStream = errors.New("roundeleven: no such stream")
	errNotOpen  = errors.New("roundeleven: not recording; frame dropped")
)

// flagBot is the media path many teams build beside fsm instead of its
// leases: an atomic "recording" flag that follows the machine's gate
// (through the observer) and a count of the frame handlers that saw it
// set and are writing. The hook is what the bots of this round vary.
type flagBot struct {
	m        *fsm.Machine
	sink     *properties.Sink
	streams  int
	mu       sync.Mutex // orders a handler's look at the flag with the close
	open     atomic.Bool
	inflight atomic.Int64
}

// drainPolicy is what the recording-ended hook does about handlers in
// flight before it flushes.
type drainPolicy func(ctx context.Context, b *flagBot) error

func newFlagBot(env *properties.Env, drain drainPolicy) (*flagBot, error) {
	b := &flagBot{sink: env.Sink, streams: env.Streams}
	m, err := fsm.New(env.CallID, env.Updater,
		fsm.WithRecordingEndedHook(func(ctx context.Context, _ fsm.Trigger) error {
			if err := drain(ctx, b); err != nil {
				return err
			}
			return env.Sink.Flush()
		}),
		fsm.WithObserver(func(e fsm.Event) {
			if e.Kind != fsm.EventGate {
				return
			}
			b.mu.Lock()
			b.open.Store(e.Open)
			b.mu.Unlock()
			if e.Open {
				env.GateOpened()
			}
		}))
	if err != nil {
		return nil, err
	}
	b.m = m
	return b, nil
}

// Frame writes payload if the flag is set, counted in flight meanwhile.
func (b *flagBot) Frame(_ context.Context, stream int, payload []byte) error {
	if stream < 0 || stream >= b.streams {
		return fmt.Errorf("%w: %d (the call has %d)", errNoStream, stream, b.streams)
	}
	b.mu.Lock()
	if !b.open.Load() {
		b.mu.Unlock()
		return errNotOpen
	}
	b.inflight.Add(1)
	b.mu.Unlock()
	defer b.inflight.Add(-1)
	_, err := b.sink.Write(stream, payload)
	return err
}

// Start asks Graph to record.
func (b *flagBot) Start(ctx context.Context) error { _, err := b.m.Start(ctx); return err }

// Stop ends the recording and reports notRecording.
func (b *flagBot) Stop(ctx context.Context) error { return b.m.Stop(ctx) }

// Fail ends the recording and reports failed.
func (b *flagBot) Fail(ctx context.Context) error { return b.m.Fail(ctx) }

// CallEnded ends the machine.
func (b *flagBot) CallEnded(ctx context.Context) error { return b.m.CallEnded(ctx) }

// OperationUpdate feeds Graph's later outcome to the machine.
func (b *flagBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return b.m.OperationUpdate(ctx, op)
}

// GateOpen reports the machine's gate (properties.GateReporter).
func (b *flagBot) GateOpen() bool { return b.m.Gate().IsOpen() }
