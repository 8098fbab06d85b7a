package userbots

import (
	"context"
	"sync"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// Bots that break Graph's protocol for updateRecordingStatus.

// backgroundRetry is the bug. The C# sample's pattern
// `_ = Task.Run(async () => { await Task.Delay(backoff); await StartRecording(); })`
// ported to Go: when Start fails, for any reason, a goroutine tries again
// after a short backoff, up to three times, so the caller is not held up.
// It retries the 8506 policy refusal, a failed operation and a terminated
// call, which the protocol forbids.
type backgroundRetry struct {
	*fsmBot
	wg   sync.WaitGroup
	quit chan struct{}
	once sync.Once
}

// NewBackgroundRetry builds the bot that retries Start in the background.
func NewBackgroundRetry(env *properties.Env) (properties.Bot, error) {
	fb, err := newFSMBot(env, flushSink(env))
	if err != nil {
		return nil, err
	}
	return &backgroundRetry{fsmBot: fb, quit: make(chan struct{})}, nil
}

func (b *backgroundRetry) Start(ctx context.Context) error {
	_, err := b.m.Start(ctx)
	if err != nil && b.m.State() == fsm.NotRecording {
		b.wg.Add(1)
		go b.retry()
	}
	return err
}

func (b *backgroundRetry) retry() {
	defer b.wg.Done()
	for i := 0; i < 3; i++ {
		select {
		case <-time.After(time.Duration(1<<i) * time.Millisecond):
		case <-b.quit:
			return
		}
		if _, err := b.m.Start(context.Background()); err == nil || b.m.State() != fsm.NotRecording {
			return
		}
	}
}

// Close stops the retries (properties.Closer).
func (b *backgroundRetry) Close(context.Context) error {
	b.once.Do(func() { close(b.quit) })
	b.wg.Wait()
	return nil
}

// restartOnFailed is the bug. When Graph's notification says the pending
// recording failed, the handler starts recording again at once ("it was a
// glitch"): a failed operation is Graph's refusal, and the protocol does
// not allow the same request again.
type restartOnFailed struct{ *fsmBot }

// NewRestartOnFailed builds the bot that asks again after a failed
// notification.
func NewRestartOnFailed(env *properties.Env) (properties.Bot, error) {
	fb, err := newFSMBot(env, flushSink(env))
	if err != nil {
		return nil, err
	}
	return &restartOnFailed{fb}, nil
}

func (b *restartOnFailed) OperationUpdate(ctx context.Context, op graph.Operation) error {
	before := b.m.State()
	err := b.m.OperationUpdate(ctx, op) // a refusal is returned as an error
	if before == fsm.AwaitingConfirmation && op.Status.Refused() && b.m.State() == fsm.NotRecording {
		_, err = b.m.Start(ctx)
	}
	return err
}

// NewCallIDAsContext builds the bug. The team passes the call ID as every
// request's clientContext ("it identifies the call; Graph echoes it
// back"). clientContext must be unique per request: with one value for
// all, a late notification for an earlier attempt is indistinguishable
// from one for the attempt now pending (protocol: P10). The bot is the
// hand-rolled port; through fsm.WithClientContexts the same mistake is
// refused by the machine before the second request leaves.
func NewCallIDAsContext(env *properties.Env) (properties.Bot, error) {
	b := newManualBot(env)
	b.callIDContext = true
	return b, nil
}

// machinePerStream is the bug. The team gives every media socket its own
// compliance machine ("audio and video are recorded by different
// pipelines"), all for the same call. Start sends recording once per
// stream, Stop notRecording once per stream; a stream whose machine
// recorded keeps writing after another stream's notRecording was sent
// (protocol, R2: P1, P3, P6).
type machinePerStream struct {
	env *properties.Env
	ms  []*fsm.Machine
	ss  []*fsm.Stream
}

// NewMachinePerStream builds the bot with one machine per stream.
func NewMachinePerStream(env *properties.Env) (properties.Bot, error) {
	b := &machinePerStream{env: env}
	for i := 0; i < env.Streams; i++ {
		m, err := fsm.New(env.CallID, env.Updater, fsm.WithRecordingEndedHook(flushSink(env)))
		if err != nil {
			return nil, err
		}
		b.ms = append(b.ms, m)
		b.ss = append(b.ss, m.Gate().NewStream())
	}
	return b, nil
}

func (b *machinePerStream) each(fn func(*fsm.Machine) error) error {
	var first error
	for _, m := range b.ms {
		if err := fn(m); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (b *machinePerStream) Start(ctx context.Context) error {
	return b.each(func(m *fsm.Machine) error { _, err := m.Start(ctx); return err })
}
func (b *machinePerStream) Stop(ctx context.Context) error {
	return b.each(func(m *fsm.Machine) error { return m.Stop(ctx) })
}
func (b *machinePerStream) Fail(ctx context.Context) error {
	return b.each(func(m *fsm.Machine) error { return m.Fail(ctx) })
}
func (b *machinePerStream) CallEnded(ctx context.Context) error {
	return b.each(func(m *fsm.Machine) error { return m.CallEnded(ctx) })
}
func (b *machinePerStream) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return b.each(func(m *fsm.Machine) error { return m.OperationUpdate(ctx, op) })
}

func (b *machinePerStream) Frame(_ context.Context, stream int, payload []byte) error {
	if stream < 0 || stream >= len(b.ss) {
		return errDropped
	}
	lease, err := b.ss[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = b.env.Sink.Write(stream, payload)
	return err
}
