package buggybots

import (
	"context"
	"errors"
	"fmt"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// errDropped is what a bot returns for a frame it did not persist.
var errDropped = errors.New("buggybots: frame dropped: not recording")

// machineBot is the wiring most teams copy from properties.ReferenceBot:
// one fsm.Machine per call, one fsm.Stream per media stream, the gate
// reported to the suite. The bots embed it and change what the team
// changed (Frame, the hook, Start).
type machineBot struct {
	env     *properties.Env
	m       *fsm.Machine
	streams []*fsm.Stream
}

// newMachineBot builds the machine with the team's recording-ended hook.
func newMachineBot(env *properties.Env, hook fsm.EndedHook) (*machineBot, error) {
	m, err := fsm.New(env.CallID, env.Updater,
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

// stream returns stream i's lease holder.
func (b *machineBot) stream(i int) (*fsm.Stream, error) {
	if i < 0 || i >= len(b.streams) {
		return nil, fmt.Errorf("buggybots: no stream %d (the call has %d)", i, len(b.streams))
	}
	return b.streams[i], nil
}

// persist writes p to stream i through the gate: lease, write, release.
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
