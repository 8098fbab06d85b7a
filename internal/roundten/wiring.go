package roundten

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

// Errors the bots return for frames they do not persist. The suite expects
// errors (a frame dropped) and does not count them.
var (
	errNoStream = errors.New("roundten: no such stream")
	errNotOpen  = errors.New("roundten: not recording; frame dropped")
)

// fsmBot is the wiring most teams copy from README: one fsm.Machine for
// the call, one Stream per media stream, a recording-ended hook, the
// gate's openings reported to the suite. Bots embed it and change what
// their team changed.
type fsmBot struct {
	sink    *properties.Sink
	streams []*fsm.Stream
	m       *fsm.Machine
}

// wiring is what newFSMBot needs besides the Env.
type wiring struct {
	hook     fsm.EndedHook   // nil: flush the sink
	observer func(fsm.Event) // the bot's own observation, or nil
}

func newFSMBot(env *properties.Env, w wiring) (*fsmBot, error) {
	hook := w.hook
	if hook == nil {
		hook = func(context.Context, fsm.Trigger) error { return env.Sink.Flush() }
	}
	own := w.observer
	m, err := fsm.New(env.CallID, env.Updater,
		fsm.WithRecordingEndedHook(hook),
		fsm.WithObserver(func(e fsm.Event) {
			if e.Kind == fsm.EventGate && e.Open {
				env.GateOpened()
			}
			if own != nil {
				own(e)
			}
		}))
	if err != nil {
		return nil, err
	}
	b := &fsmBot{sink: env.Sink, m: m}
	for i := 0; i < env.Streams; i++ {
		b.streams = append(b.streams, m.Gate().NewStream())
	}
	return b, nil
}

func (b *fsmBot) checkStream(i int) error {
	if i < 0 || i >= len(b.streams) {
		return fmt.Errorf("%w: %d (the call has %d)", errNoStream, i, len(b.streams))
	}
	return nil
}

// Start asks Graph to record.
func (b *fsmBot) Start(ctx context.Context) error {
	_, err := b.m.Start(ctx)
	return err
}

// Stop ends the recording and reports notRecording.
func (b *fsmBot) Stop(ctx context.Context) error { return b.m.Stop(ctx) }

// Fail ends the recording and reports failed.
func (b *fsmBot) Fail(ctx context.Context) error { return b.m.Fail(ctx) }

// CallEnded ends the machine.
func (b *fsmBot) CallEnded(ctx context.Context) error { return b.m.CallEnded(ctx) }

// OperationUpdate feeds Graph's later outcome to the machine.
func (b *fsmBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return b.m.OperationUpdate(ctx, op)
}

// Frame persists payload on its stream under a lease.
func (b *fsmBot) Frame(_ context.Context, stream int, payload []byte) error {
	return b.frameUnlessBypassed(stream, payload, func() bool { return false })
}

// frameUnlessBypassed writes under the stream's lease; a frame the gate
// refuses is written anyway while bypass says so (the buggy bots' belief
// that the recording has begun).
func (b *fsmBot) frameUnlessBypassed(stream int, payload []byte, bypass func() bool) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if errors.Is(err, fsm.ErrGateClosed) && bypass() {
		_, err = b.sink.Write(stream, payload)
		return err
	}
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = b.sink.Write(stream, payload)
	return err
}

// GateOpen reports the machine's gate (properties.GateReporter).
func (b *fsmBot) GateOpen() bool { return b.m.Gate().IsOpen() }

// flagGate is the media path many teams build beside fsm instead of its
// leases: an atomic "recording" flag that follows the machine's gate (set
// on its opening, cleared on its closing, through the observer), and a
// WaitGroup of the frame handlers that saw the flag set and are writing.
// Whether the bot waits for that WaitGroup, and when, is what the bots of
// this round get right or wrong.
type flagGate struct {
	mu       sync.Mutex // orders a handler's look at the flag with close
	open     atomic.Bool
	inflight sync.WaitGroup
}

// follow is the machine observer that moves the flag with the gate.
func (g *flagGate) follow(e fsm.Event) {
	if e.Kind != fsm.EventGate {
		return
	}
	g.mu.Lock()
	g.open.Store(e.Open)
	g.mu.Unlock()
}

// enter reports whether a frame may be written now, and if so counts its
// handler in flight until leave.
func (g *flagGate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.open.Load() {
		return false
	}
	g.inflight.Add(1)
	return true
}

func (g *flagGate) leave() { g.inflight.Done() }

// wait waits until every handler in flight has written, or ctx ends.
func (g *flagGate) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { g.inflight.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("roundten: frame handlers still writing: %w", ctx.Err())
	}
}
