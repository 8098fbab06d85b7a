package buggybots

import (
	"context"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// leaseAcross is the bug. A profile of an early prototype blamed
// Acquire/Release per frame (it was the logging), so the team takes one
// lease per stream when the recording starts, writes every frame under it,
// and releases the leases in the recording-ended hook: "the hook is where
// the recording ends". But fsm runs the hook only once every lease is
// released, so Stop waits for leases that only the hook would release.
//
// With honourCtx false the team's Stop detaches from its caller's context
// ("a Stop must never be left half-done because a request was cancelled"):
// Stop deadlocks, and the suite's watchdog must say which call hung. With
// honourCtx true, Stop gives up when its context ends, the gate is closed
// but the stale leases still write: frames after the bot was asked to stop
// are persisted (P7, P9).
type leaseAcross struct {
	*machineBot
	honourCtx bool
	mu        sync.Mutex
	held      []fsm.Lease // per stream, while recording
	holding   bool
}

// NewLeaseAcrossRecording builds the bot whose Stop deadlocks.
func NewLeaseAcrossRecording(env *properties.Env) (properties.Bot, error) {
	return newLeaseAcross(env, false)
}

// NewLeaseAcrossRecordingWithDeadline builds the same bot with a Stop that
// gives up when its context ends.
func NewLeaseAcrossRecordingWithDeadline(env *properties.Env) (properties.Bot, error) {
	return newLeaseAcross(env, true)
}

func newLeaseAcross(env *properties.Env, honourCtx bool) (*leaseAcross, error) {
	b := &leaseAcross{honourCtx: honourCtx}
	mb, err := newMachineBot(env, b.recordingEnded)
	if err != nil {
		return nil, err
	}
	b.machineBot = mb
	return b, nil
}

// takeLeases runs when the gate has opened.
func (b *leaseAcross) takeLeases() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.holding {
		return
	}
	b.held = b.held[:0]
	for _, s := range b.streams {
		lease, err := s.Acquire()
		if err != nil {
			for _, l := range b.held {
				l.Release()
			}
			b.held = b.held[:0]
			return
		}
		b.held = append(b.held, lease)
	}
	b.holding = true
}

func (b *leaseAcross) Start(ctx context.Context) error {
	_, err := b.m.Start(ctx)
	if err == nil && b.m.Gate().IsOpen() {
		b.takeLeases()
	}
	return err
}

func (b *leaseAcross) OperationUpdate(ctx context.Context, op graph.Operation) error {
	err := b.m.OperationUpdate(ctx, op)
	if err == nil && b.m.Gate().IsOpen() {
		b.takeLeases()
	}
	return err
}

func (b *leaseAcross) Frame(_ context.Context, stream int, payload []byte) error {
	if _, err := b.stream(stream); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.holding {
		return errDropped
	}
	_, err := b.env.Sink.Write(stream, payload)
	return err
}

func (b *leaseAcross) recordingEnded(context.Context, fsm.Trigger) error {
	b.mu.Lock()
	for _, l := range b.held {
		l.Release()
	}
	b.held, b.holding = b.held[:0], false
	b.mu.Unlock()
	return b.env.Sink.Flush()
}

func (b *leaseAcross) Stop(ctx context.Context) error { return b.m.Stop(b.stopContext(ctx)) }
func (b *leaseAcross) Fail(ctx context.Context) error { return b.m.Fail(b.stopContext(ctx)) }

func (b *leaseAcross) stopContext(ctx context.Context) context.Context {
	if b.honourCtx {
		return ctx
	}
	return context.WithoutCancel(ctx)
}
