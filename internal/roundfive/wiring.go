package roundfive

import (
	"context"
	"errors"
	"fmt"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// Errors the bots return for events they do not act on. The suite expects
// errors (a frame dropped, a Start refused) and does not count them.
var (
	errDropped  = errors.New("roundfive: frame dropped: not recording")
	errNoStream = errors.New("roundfive: no such stream")
)

// storage is what a bot persists to: env.Sink in the suite, a recorder in
// this package's mechanism tests.
type storage interface {
	Write(stream int, p []byte) (int, error)
	Flush() error
}

// call is what a bot needs to know of its call: the suite's Env, or the
// fakes of a mechanism test.
type call struct {
	id         string
	streams    int
	updater    fsm.Updater
	sink       storage
	gateOpened func()
}

func callOf(env *properties.Env) call {
	return call{id: env.CallID, streams: env.Streams, updater: env.Updater, sink: env.Sink, gateOpened: env.GateOpened}
}

// streamWriter is env.Sink.Stream(i) for any storage: the io.Writer most
// storage code is written against.
type streamWriter struct {
	s storage
	i int
}

func (w streamWriter) Write(p []byte) (int, error) { return w.s.Write(w.i, p) }

// fsmBot is the wiring most teams copy from README: one fsm.Machine for
// the call, one Stream per media stream, a recording-ended hook, the
// gate's openings reported to the suite. Bots embed it and change what
// their team changed.
type fsmBot struct {
	c       call
	m       *fsm.Machine
	streams []*fsm.Stream
}

// flushHook is the hook most teams write: flush storage.
func flushHook(s storage) fsm.EndedHook {
	return func(context.Context, fsm.Trigger) error { return s.Flush() }
}

// reportGate is the observer that tells the suite when the gate opens.
func reportGate(opened func()) fsm.Option {
	return fsm.WithObserver(func(e fsm.Event) {
		if e.Kind == fsm.EventGate && e.Open {
			opened()
		}
	})
}

// newFSMBot builds the wiring with the given hook (nil: flush storage) and
// more options.
func newFSMBot(c call, hook fsm.EndedHook, opts ...fsm.Option) (*fsmBot, error) {
	if hook == nil {
		hook = flushHook(c.sink)
	}
	all := append([]fsm.Option{fsm.WithRecordingEndedHook(hook), reportGate(c.gateOpened)}, opts...)
	m, err := fsm.New(c.id, c.updater, all...)
	if err != nil {
		return nil, err
	}
	b := &fsmBot{c: c, m: m}
	for i := 0; i < c.streams; i++ {
		b.streams = append(b.streams, m.Gate().NewStream())
	}
	return b, nil
}

func (b *fsmBot) stream(i int) (*fsm.Stream, error) {
	if i < 0 || i >= len(b.streams) {
		return nil, fmt.Errorf("%w: %d (the call has %d)", errNoStream, i, len(b.streams))
	}
	return b.streams[i], nil
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
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = b.c.sink.Write(stream, payload)
	return err
}

// GateOpen reports the machine's gate (properties.GateReporter).
func (b *fsmBot) GateOpen() bool { return b.m.Gate().IsOpen() }
