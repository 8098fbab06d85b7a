package roundseven

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
	errDropped  = errors.New("roundseven: frame dropped: not recording")
	errNoStream = errors.New("roundseven: no such stream")
	errStopped  = errors.New("roundseven: the bot is shut down")
	// errReportPending: a re-invite's notRecording was accepted but is
	// still running; the new recording waits for the next Start.
	errReportPending = errors.New("roundseven: the previous recording's notRecording is still pending at Graph; not asking to record again yet: retry Start")
)

// storage is what a bot persists to: env.Sink in the suite, a recorder in
// this package's mechanism tests.
type storage interface {
	Write(stream int, p []byte) (int, error)
	Flush() error
}

// fsmBot is the wiring most teams copy from README: one fsm.Machine for
// the call, one Stream per media stream, a recording-ended hook that
// flushes the storage, the gate's openings reported to the suite. Bots
// embed it and change what their team changed.
type fsmBot struct {
	store   storage
	streams []*fsm.Stream
	m       *fsm.Machine
	n       int // media streams
}

// newFSMBot builds the wiring on callID, Graph u and storage st, with the
// given hook (nil: flush the storage), a gate-opened callback (nil: none)
// and more options.
func newFSMBot(callID string, u fsm.Updater, n int, st storage, opened func(), hook fsm.EndedHook, opts ...fsm.Option) (*fsmBot, error) {
	if hook == nil {
		hook = func(context.Context, fsm.Trigger) error { return st.Flush() }
	}
	all := []fsm.Option{fsm.WithRecordingEndedHook(hook)}
	if opened != nil {
		all = append(all, reportGate(opened))
	}
	m, err := fsm.New(callID, u, append(all, opts...)...)
	if err != nil {
		return nil, err
	}
	b := &fsmBot{store: st, m: m, n: n}
	for i := 0; i < n; i++ {
		b.streams = append(b.streams, m.Gate().NewStream())
	}
	return b, nil
}

// newEnvBot is newFSMBot on the suite's Env.
func newEnvBot(env *properties.Env, hook fsm.EndedHook, opts ...fsm.Option) (*fsmBot, error) {
	return newFSMBot(env.CallID, env.Updater, env.Streams, env.Sink, env.GateOpened, hook, opts...)
}

// reportGate is the observer that tells the suite when the gate opens.
func reportGate(opened func()) fsm.Option {
	return fsm.WithObserver(func(e fsm.Event) {
		if e.Kind == fsm.EventGate && e.Open {
			opened()
		}
	})
}

func checkStream(i, n int) error {
	if i < 0 || i >= n {
		return fmt.Errorf("%w: %d (the call has %d)", errNoStream, i, n)
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
	if err := checkStream(stream, len(b.streams)); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = b.store.Write(stream, payload)
	return err
}

// GateOpen reports the machine's gate (properties.GateReporter).
func (b *fsmBot) GateOpen() bool { return b.m.Gate().IsOpen() }
