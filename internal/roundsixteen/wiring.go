package roundsixteen

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
	errNoStream  = errors.New("roundsixteen: no such stream")
	errNotOpen   = errors.New("roundsixteen: not recording; frame dropped")
	errNoSuchBot = errors.New("roundsixteen: the call is not in the process's registry")
)

// call is one call the process serves, wired as README shows for one
// call: its own fsm.Machine over its own Graph (env.Updater: in the suite
// each call's Graph is that call's Updater, so every request of a call
// goes through the Updater of the Env the factory got for it), one
// fsm.Stream per media stream, a recording-ended hook that flushes the
// call's Sink, and the gate's openings and closings told to the suite.
// The process types around it change what each team changed.
type call struct {
	id      string
	env     *properties.Env
	sink    *properties.Sink
	m       *fsm.Machine
	streams []*fsm.Stream
}

// callWiring is what newCall needs besides the Env.
type callWiring struct {
	// updater sends the call's requests (nil: env.Updater).
	updater fsm.Updater
	// hook runs before the sink is flushed when a recording ends (nil:
	// only the flush).
	hook func()
	// onGate is told, before the suite, each time the call's gate opens
	// or closes (nil: nothing).
	onGate func(open bool)
}

func newCall(env *properties.Env, w callWiring) (*call, error) {
	var u fsm.Updater = env.Updater
	if w.updater != nil {
		u = w.updater
	}
	m, err := fsm.New(env.CallID, u,
		fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error {
			if w.hook != nil {
				w.hook()
			}
			return env.Sink.Flush()
		}),
		fsm.WithObserver(func(e fsm.Event) {
			if e.Kind != fsm.EventGate {
				return
			}
			if w.onGate != nil {
				w.onGate(e.Open) // the bot's own bookkeeping first, then the suite's frames
			}
			if e.Open {
				env.GateOpened()
			} else {
				env.GateClosed()
			}
		}))
	if err != nil {
		return nil, fmt.Errorf("roundsixteen: call %s: %w", env.CallID, err)
	}
	c := &call{id: env.CallID, env: env, sink: env.Sink, m: m}
	for i := 0; i < env.Streams; i++ {
		c.streams = append(c.streams, m.Gate().NewStream())
	}
	return c, nil
}

// stream returns the call's Stream for media stream i.
func (c *call) stream(i int) (*fsm.Stream, error) {
	if i < 0 || i >= len(c.streams) {
		return nil, fmt.Errorf("%w: %d (call %s has %d)", errNoStream, i, c.id, len(c.streams))
	}
	return c.streams[i], nil
}

// write persists payload on stream i of this call's sink, under a lease
// of this call's gate.
func (c *call) write(i int, payload []byte) error {
	s, err := c.stream(i)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = c.sink.Write(i, payload)
	return err
}

// control are a call's handlers for Graph's side, each on the call's own
// machine; the bots embed it where the team got the control path right.
type control struct{ c *call }

// Start asks Graph to record the call.
func (k control) Start(ctx context.Context) error {
	_, err := k.c.m.Start(ctx)
	return err
}

// Stop ends the call's recording and reports notRecording.
func (k control) Stop(ctx context.Context) error { return k.c.m.Stop(ctx) }

// Fail ends the call's recording and reports failed.
func (k control) Fail(ctx context.Context) error { return k.c.m.Fail(ctx) }

// OperationUpdate feeds Graph's later outcome to the call's machine.
func (k control) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return k.c.m.OperationUpdate(ctx, op)
}

// GateOpen reports the call's gate (properties.GateReporter).
func (k control) GateOpen() bool { return k.c.m.Gate().IsOpen() }

// silentBot hides every optional interface of the bot it wraps (the
// suite's GateReporter above all): the bot as most teams write it, which
// tells the suite nothing of its gate.
type silentBot struct{ properties.Bot }

// silent returns a factory of the bots f builds, silenced.
func silent(f properties.Factory) properties.Factory {
	return func(env *properties.Env) (properties.Bot, error) {
		b, err := f(env)
		if err != nil {
			return nil, err
		}
		return silentBot{b}, nil
	}
}
