package fsm

import (
	"context"
	"time"

	"github.com/recgate/recgate/graph"
)

// firing is one attempt: everything a single Fire needs. It is itself the
// context the Fire runs in (so carrying it costs no allocation): guards find
// it with firingFrom, and its Graph request is made at most once, the reply
// kept here for every guard that asks again. It never leaves the package.
type firing struct {
	parent  context.Context // the caller's
	m       *Machine
	trigger Trigger

	// status and clientContext describe the Graph request, if the trigger
	// makes one; epoch is the gate epoch the attempt began in.
	status        graph.Status
	clientContext string
	epoch         uint64

	// update is the notification an OperationUpdate carries.
	update *graph.Operation
	// via, issuer and tenant say how the outcome arrived (Event.Via):
	// ViaReply for a firing that sends, the update's origin otherwise.
	origin

	sent bool
	op   graph.Operation
	err  error

	opened bool // openGate opened the gate

	// moved, from and to: the transition the current Fire made, noted by
	// storeState for fire to finish.
	moved    bool
	from, to State
}

// origin says how an operation's outcome reached the machine.
type origin struct {
	via            Via
	issuer, tenant string
}

type firingKey struct{}

func firingFrom(ctx context.Context) *firing {
	// Guards get the firing itself.
	if f, ok := ctx.(*firing); ok {
		return f
	}
	f, _ := ctx.Value(firingKey{}).(*firing)
	return f
}

// replied makes sure the firing's Graph request was sent (the first guard
// to ask sends it; the others read f.op and f.err) and reports whether the
// reply had the given quality and no error. A firing without a status sends
// nothing.
func (f *firing) replied(want func(graph.OperationStatus) bool) bool {
	if !f.sent && f.status != "" {
		f.sent = true
		f.m.send(f)
	}
	return f.err == nil && want(f.op.Status)
}

// The context methods: the caller's context, plus the firing as a value.

func (f *firing) Deadline() (time.Time, bool) { return f.parent.Deadline() }
func (f *firing) Done() <-chan struct{}       { return f.parent.Done() }
func (f *firing) Err() error                  { return f.parent.Err() }

func (f *firing) Value(key any) any {
	if _, ok := key.(firingKey); ok {
		return f
	}
	return f.parent.Value(key)
}

// requestContext is the context an Updater gets: the caller's, also
// cancelled when the call ends, so CallEnded stops a request in flight.
// release must be called when the request returns.
func (m *Machine) requestContext(parent context.Context) (context.Context, func()) {
	if parent == m.background.values {
		return &m.background, noRelease
	}
	if parent.Done() == nil {
		// The caller cannot cancel: the end of the call is the only
		// cancellation, and the caller's values ride along.
		return &endOfCall{Context: m.life, values: parent}, noRelease
	}
	ctx, cancel := context.WithCancel(parent)
	stop := context.AfterFunc(m.life, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

func noRelease() {}

// endOfCall is the machine's life (Done, Err, Deadline) with the caller's
// values.
type endOfCall struct {
	context.Context
	values context.Context
}

func (c *endOfCall) Value(key any) any { return c.values.Value(key) }
