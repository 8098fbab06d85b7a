package userbots

import (
	"context"
	"errors"
	"fmt"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// errDropped is what a bot returns for a frame it did not persist.
var errDropped = errors.New("userbots: frame dropped: not recording")

// fsmBot is the wiring a team copies from README and ReferenceBot: one
// fsm.Machine per call, one Stream per media stream, the gate reported.
// The bots embed it and change what their team changed.
type fsmBot struct {
	env     *properties.Env
	m       *fsm.Machine
	streams []*fsm.Stream
}

// flushSink is the hook most teams write: flush storage.
func flushSink(env *properties.Env) fsm.EndedHook {
	return func(context.Context, fsm.Trigger) error { return env.Sink.Flush() }
}

func newFSMBot(env *properties.Env, hook fsm.EndedHook, opts ...fsm.Option) (*fsmBot, error) {
	opts = append([]fsm.Option{
		fsm.WithRecordingEndedHook(hook),
		fsm.WithObserver(func(e fsm.Event) {
			if e.Kind == fsm.EventGate && e.Open {
				env.GateOpened()
			}
		}),
	}, opts...)
	m, err := fsm.New(env.CallID, env.Updater, opts...)
	if err != nil {
		return nil, err
	}
	b := &fsmBot{env: env, m: m}
	for i := 0; i < env.Streams; i++ {
		b.streams = append(b.streams, m.Gate().NewStream())
	}
	return b, nil
}

func (b *fsmBot) stream(i int) (*fsm.Stream, error) {
	if i < 0 || i >= len(b.streams) {
		return nil, fmt.Errorf("userbots: no stream %d (the call has %d)", i, len(b.streams))
	}
	return b.streams[i], nil
}

// persist writes p on stream i under a lease.
func (b *fsmBot) persist(i int, p []byte) error {
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

func (b *fsmBot) Start(ctx context.Context) error {
	_, err := b.m.Start(ctx)
	return err
}

func (b *fsmBot) Stop(ctx context.Context) error      { return b.m.Stop(ctx) }
func (b *fsmBot) Fail(ctx context.Context) error      { return b.m.Fail(ctx) }
func (b *fsmBot) CallEnded(ctx context.Context) error { return b.m.CallEnded(ctx) }

func (b *fsmBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return b.m.OperationUpdate(ctx, op)
}

func (b *fsmBot) Frame(_ context.Context, stream int, payload []byte) error {
	return b.persist(stream, payload)
}

// GateOpen reports the machine's gate (properties.GateReporter).
func (b *fsmBot) GateOpen() bool { return b.m.Gate().IsOpen() }
