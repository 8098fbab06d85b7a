package roundfifteen

import (
	"context"
	"errors"
	"fmt"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// Errors the bots return for frames they do not persist (the suite does
// not count them).
var (
	errNoStream = errors.New("roundfifteen: no such stream")
	errNotOpen  = errors.New("roundfifteen: not recording; frame dropped")
)

// fsmBot is the wiring the teams copied from README: one fsm.Machine for
// the call, one Stream per media stream, a recording-ended hook that
// flushes, and the gate's openings and closings told to the suite. The
// bots embed it and change what their team changed.
type fsmBot struct {
	env     *properties.Env
	sink    *properties.Sink
	streams []*fsm.Stream
	m       *fsm.Machine
}

// wiring is what newFSMBot needs besides the Env.
type wiring struct {
	updater  fsm.Updater     // nil: env.Updater
	hook     fsm.EndedHook   // nil: flush the sink
	observer func(fsm.Event) // the bot's own observation, or nil
	// admits, when set, is the bot's own admission beside fsm's gate: an
	// opening of fsm's gate is the bot's only while it admits.
	admits func() bool
}

func newFSMBot(env *properties.Env, w wiring) (*fsmBot, error) {
	hook := w.hook
	if hook == nil {
		hook = func(context.Context, fsm.Trigger) error { return env.Sink.Flush() }
	}
	var u fsm.Updater = env.Updater
	if w.updater != nil {
		u = w.updater
	}
	own := w.observer
	m, err := fsm.New(env.CallID, u,
		fsm.WithRecordingEndedHook(hook),
		fsm.WithObserver(func(e fsm.Event) {
			if own != nil {
				own(e)
			}
			if e.Kind == fsm.EventGate && e.Open && (w.admits == nil || w.admits()) {
				env.GateOpened()
			}
			if e.Kind == fsm.EventGate && !e.Open {
				env.GateClosed()
			}
		}))
	if err != nil {
		return nil, err
	}
	b := &fsmBot{env: env, sink: env.Sink, m: m}
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
	if err := b.checkStream(stream); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = b.sink.Write(stream, payload)
	return err
}

// GateOpen reports the machine's gate (properties.GateReporter).
func (b *fsmBot) GateOpen() bool { return b.m.Gate().IsOpen() }
