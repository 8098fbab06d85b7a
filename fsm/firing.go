package fsm

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recgate/recgate/graph"
)

// firing is one attempt: everything a single Fire needs. It is itself the
// context the Fire runs in (so carrying it costs no allocation): guards and
// actions find it with firingFrom, and its Graph request is made at most
// once, the reply kept here for every guard that asks again.
//
// As a context it is the caller's context plus one thing: it is cancelled
// when the call ends (CallEnded), so an in-flight request stops at once.
type firing struct {
	parent  context.Context
	m       *Machine
	trigger Trigger

	// status and clientContext describe the Graph request, if the trigger
	// makes one; epoch is the gate epoch the attempt began in.
	status        graph.Status
	clientContext string
	epoch         uint64

	// update is the notification an OperationUpdate carries.
	update *graph.Operation

	sent bool
	op   graph.Operation
	err  error

	opened  bool  // openGate opened the gate
	hookErr error // a hook error CallEnded reports after ending anyway

	// merged is built the first time someone asks for Done: the caller's
	// context cancelled also by the end of the call. Requests that never
	// wait (tests, benchmarks) never pay for it.
	mu        sync.Mutex
	built     atomic.Bool // merged exists; lets done skip the lock
	merged    context.Context
	cancel    context.CancelFunc
	stopAfter func() bool
}

type firingKey struct{}

func firingFrom(ctx context.Context) *firing {
	f, _ := ctx.Value(firingKey{}).(*firing)
	return f
}

// replied makes sure the firing's Graph request was sent (the first guard
// to ask sends it; the others read f.op and f.err) and reports whether the
// reply had the given quality and no error. A firing without a status sends
// nothing.
func (f *firing) replied(ctx context.Context, want func(graph.OperationStatus) bool) bool {
	if !f.sent && f.status != "" {
		f.sent = true
		f.op, f.err = f.m.send(ctx, f)
	}
	return f.err == nil && want(f.op.Status)
}

// Deadline is the caller's.
func (f *firing) Deadline() (time.Time, bool) { return f.parent.Deadline() }

// Value answers for the firing itself, and otherwise asks the caller's
// context.
func (f *firing) Value(key any) any {
	if key == (firingKey{}) {
		return f
	}
	return f.parent.Value(key)
}

// Done closes when the caller's context is done or the call ends.
func (f *firing) Done() <-chan struct{} { return f.mergedContext().Done() }

// Err is the caller's context's error, or context.Canceled once the call
// ended.
func (f *firing) Err() error {
	f.mu.Lock()
	merged := f.merged
	f.mu.Unlock()
	if merged != nil {
		return merged.Err()
	}
	if err := f.parent.Err(); err != nil {
		return err
	}
	return f.m.life.Err()
}

func (f *firing) mergedContext() context.Context {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.merged == nil {
		f.merged, f.cancel = context.WithCancel(f.parent)
		f.stopAfter = context.AfterFunc(f.m.life, f.cancel)
		f.built.Store(true)
	}
	return f.merged
}

// done releases what mergedContext built, once the firing is over.
func (f *firing) done() {
	if !f.built.Load() {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cancel != nil {
		f.stopAfter()
		f.cancel()
	}
}
