package roundthree

import (
	"context"
	"errors"
	"fmt"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// errDropped is what a bot returns for a frame it did not persist.
var errDropped = errors.New("roundthree: frame dropped: not recording")

// machineBot is the wiring a team copies from README: one fsm.Machine per
// call, one Stream per media stream, a hook that flushes, the gate's
// openings reported to the suite. Each bot embeds it and changes what its
// team changed.
type machineBot struct {
	env     *properties.Env
	m       *fsm.Machine
	streams []*fsm.Stream
}

// flushHook is the hook most teams write: flush storage.
func flushHook(env *properties.Env) fsm.EndedHook {
	return func(context.Context, fsm.Trigger) error { return env.Sink.Flush() }
}

// newMachineBot builds the wiring around hook; u replaces env.Updater when
// it is not nil (a bot that wraps Graph).
func newMachineBot(env *properties.Env, hook fsm.EndedHook, u fsm.Updater) (*machineBot, error) {
	if u == nil {
		u = env.Updater
	}
	m, err := fsm.New(env.CallID, u,
		fsm.WithRecordingEndedHook(hook),
		fsm.WithObserver(func(e fsm.Event) {
			if e.Kind == fsm.EventGate && e.Open {
				env.GateOpened()
			}
		}))
	if err != nil {
		return nil, err
	}
	b := &machineBot{env: env, m: m}
	for i := 0; i < env.Streams; i++ {
		b.streams = append(b.streams, m.Gate().NewStream())
	}
	return b, nil
}

func (b *machineBot) stream(i int) (*fsm.Stream, error) {
	if i < 0 || i >= len(b.streams) {
		return nil, fmt.Errorf("roundthree: no stream %d (the call has %d)", i, len(b.streams))
	}
	return b.streams[i], nil
}

// persist writes p on stream i under a lease of that stream.
func (b *machineBot) persist(i int, p []byte) error {
	s, err := b.stream(i)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = b.env.Sink.Write(i, p)
	return err
}

func (b *machineBot) Start(ctx context.Context) error {
	_, err := b.m.Start(ctx)
	return err
}

func (b *machineBot) Stop(ctx context.Context) error      { return b.m.Stop(ctx) }
func (b *machineBot) Fail(ctx context.Context) error      { return b.m.Fail(ctx) }
func (b *machineBot) CallEnded(ctx context.Context) error { return b.m.CallEnded(ctx) }

func (b *machineBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return b.m.OperationUpdate(ctx, op)
}

func (b *machineBot) Frame(_ context.Context, stream int, payload []byte) error {
	return b.persist(stream, payload)
}

// GateOpen reports the machine's gate (properties.GateReporter).
func (b *machineBot) GateOpen() bool { return b.m.Gate().IsOpen() }
