package roundsix

import (
	"context"
	"sync/atomic"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// NewFlagClearedAfterStop builds a bot that persists while its own
// "recording" flag is set: set when Start returns with Graph's completed
// (or a completed update), cleared when the machine's Stop, Fail or
// CallEnded has returned. Its GateReporter tells the truth about fsm's
// gate, which is closed while the bot still writes: the reporter says
// nothing of the flag that decides.
//
// Why a team does it: the flag is the application's "are we recording?"
// shown in the UI; the team clears it "once Graph has been told", so the
// UI never says "stopped" too early, and wired frames to the same flag.
// Frames that arrive during the hook and the notRecording request are
// written after the gate closed, and some after the report.
func NewFlagClearedAfterStop(env *properties.Env) (properties.Bot, error) {
	base, err := newFSMBot(env, nil)
	if err != nil {
		return nil, err
	}
	return &flagAfterStopBot{fsmBot: base}, nil
}

type flagAfterStopBot struct {
	*fsmBot
	recording atomic.Bool
}

func (b *flagAfterStopBot) Start(ctx context.Context) error {
	op, err := b.m.Start(ctx)
	if err == nil && op.Status.Confirmed() && b.m.Gate().IsOpen() {
		b.recording.Store(true)
	}
	return err
}

func (b *flagAfterStopBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	err := b.m.OperationUpdate(ctx, op)
	if err == nil && b.m.Gate().IsOpen() {
		b.recording.Store(true)
	}
	return err
}

func (b *flagAfterStopBot) Stop(ctx context.Context) error {
	err := b.m.Stop(ctx)
	b.recording.Store(false)
	return err
}

func (b *flagAfterStopBot) Fail(ctx context.Context) error {
	err := b.m.Fail(ctx)
	b.recording.Store(false)
	return err
}

func (b *flagAfterStopBot) CallEnded(ctx context.Context) error {
	err := b.m.CallEnded(ctx)
	b.recording.Store(false)
	return err
}

func (b *flagAfterStopBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, b.env.Streams); err != nil {
		return err
	}
	if !b.recording.Load() {
		return errDropped
	}
	_, err := b.env.Sink.Write(stream, payload)
	return err
}

// NewGateOpenedOnPending builds a bot that calls env.GateOpened when its
// own flag flips, not from fsm's observer, and sets the flag when Start
// returns nil. fsm's Start returns nil for a pending reply too (notStarted
// or running: AwaitingConfirmation, gate closed), so the bot records, and
// says it does, on a pending attempt. It writes without a lease while the
// flag is set; Stop and Fail clear the flag first.
//
// Why a team does it: "if err != nil { return err }; recording = true" is
// how every other call in the codebase is checked; Start's doc says nil
// for pending too, in its second sentence.
func NewGateOpenedOnPending(env *properties.Env) (properties.Bot, error) {
	m, err := newFSMBotNoObserver(env)
	if err != nil {
		return nil, err
	}
	return &pendingFlagBot{fsmBot: m}, nil
}

type pendingFlagBot struct {
	*fsmBot
	recording atomic.Bool
}

func (b *pendingFlagBot) Start(ctx context.Context) error {
	_, err := b.m.Start(ctx)
	if err == nil && !b.recording.Swap(true) {
		b.env.GateOpened()
	}
	return err
}

func (b *pendingFlagBot) Stop(ctx context.Context) error {
	b.recording.Store(false)
	return b.m.Stop(ctx)
}

func (b *pendingFlagBot) Fail(ctx context.Context) error {
	b.recording.Store(false)
	return b.m.Fail(ctx)
}

func (b *pendingFlagBot) CallEnded(ctx context.Context) error {
	b.recording.Store(false)
	return b.m.CallEnded(ctx)
}

func (b *pendingFlagBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, b.env.Streams); err != nil {
		return err
	}
	if !b.recording.Load() {
		return errDropped
	}
	_, err := b.env.Sink.Write(stream, payload)
	return err
}

// GateOpen reports the bot's own flag: the gate its frames obey.
func (b *pendingFlagBot) GateOpen() bool { return b.recording.Load() }
