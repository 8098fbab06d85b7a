package fsm

import (
	"context"

	"github.com/recgate/recgate/graph"
)

// firing is one attempt: everything a single Fire needs, carried in its
// context. Guards read it; its Graph request is made at most once and the
// reply is kept here for every guard that asks again.
type firing struct {
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
}

type firingKey struct{}

func withFiring(ctx context.Context, f *firing) context.Context {
	return context.WithValue(ctx, firingKey{}, f)
}

func firingFrom(ctx context.Context) *firing {
	f, _ := ctx.Value(firingKey{}).(*firing)
	return f
}

// reply returns the firing's Graph reply, sending the request the first
// time it is asked for. A firing without a status sends nothing.
func (f *firing) reply(ctx context.Context) (graph.Operation, error) {
	if !f.sent && f.status != "" {
		f.sent = true
		f.op, f.err = f.m.send(ctx, f)
	}
	return f.op, f.err
}
