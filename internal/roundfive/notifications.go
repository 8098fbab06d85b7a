package roundfive

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// NewFailedIsDone builds the bot whose notification handler asks "is the
// operation over?" instead of "did Graph say completed?".
//
// The mistake: the team ported a C# handler that switches on
// IsTerminal(status) (completed or failed) and hands fsm a completed
// operation when it is over, because returning fsm's error for a failed
// update made their callback answer 500 and Graph delivered it again and
// again. A failed notification then opens the gate.
func NewFailedIsDone(env *properties.Env) (properties.Bot, error) {
	b, err := newFSMBot(callOf(env), nil)
	if err != nil {
		return nil, err
	}
	return &failedIsDone{b}, nil
}

type failedIsDone struct{ *fsmBot }

func (b *failedIsDone) OperationUpdate(ctx context.Context, op graph.Operation) error {
	if op.Status.Known() && !op.Status.Pending() {
		// "The operation is done": normalise, so fsm settles the attempt.
		op.Status = graph.OperationCompleted
		op.ResultInfo = nil
	}
	return b.m.OperationUpdate(ctx, op)
}

// repostGetter is the team's "poll": it re-POSTs the recording request
// with the pending attempt's clientContext and reads the status Graph
// gives back.
type repostGetter struct{ u fsm.Updater }

func (g repostGetter) Operation(ctx context.Context, callID string, op graph.Operation) (graph.Operation, error) {
	return g.u.UpdateRecordingStatus(ctx, callID, graph.StatusRecording, op.ClientContext)
}

// NewPollByRepost builds the bot that polls a pending attempt by sending
// its recording request again.
//
// The mistake: the bot's host cannot receive Graph's callbacks, so the
// team turned on fsm.WithOperationPolling; their Graph proxy allows only
// the updateRecordingStatus POST (no GET on operations), and they read
// "clientContext ties the reply to the attempt" as "the POST is
// idempotent per clientContext", so the getter POSTs recording again with
// the same clientContext and feeds back whatever status comes. Every poll
// is a second recording request of one attempt.
func NewPollByRepost(env *properties.Env) (properties.Bot, error) {
	c := callOf(env)
	b, err := newFSMBot(c, nil, fsm.WithOperationPolling(repostGetter{c.updater}, time.Millisecond, 3))
	if err != nil {
		return nil, err
	}
	return b, nil
}

// counterContexts is the readable clientContext generator the team wrote
// for log correlation: "<call>/attempt-N".
func counterContexts(callID string) fsm.Option {
	n := 0
	return fsm.WithClientContexts(func() string {
		n++
		return fmt.Sprintf("%s/attempt-%d", callID, n)
	})
}

// NewFreshMachineAfterFail builds the bot that replaces a failed machine.
//
// The mistake: after Fail, the team "resets" the call by building a new
// fsm.Machine (a Failed machine looked stuck in their dashboard), with
// the same options as the first, among them a readable clientContext
// generator whose counter lives in the option's closure. The new
// machine's counter starts at 1 again, so its first request repeats the
// clientContext of the call's first request: fsm refuses a repeat only
// within one machine.
func NewFreshMachineAfterFail(env *properties.Env) (properties.Bot, error) {
	c := callOf(env)
	b := &freshMachine{c: c}
	if err := b.reset(); err != nil {
		return nil, err
	}
	return b, nil
}

type freshMachine struct {
	c  call
	mu sync.RWMutex // guards cur; frames read-lock it
	// cur is the machine in use, with its streams.
	cur *fsmBot
}

func (b *freshMachine) reset() error {
	m, err := newFSMBot(b.c, nil, counterContexts(b.c.id))
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.cur = m
	b.mu.Unlock()
	return nil
}

func (b *freshMachine) machine() *fsmBot {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.cur
}

func (b *freshMachine) Start(ctx context.Context) error { return b.machine().Start(ctx) }
func (b *freshMachine) Stop(ctx context.Context) error  { return b.machine().Stop(ctx) }
func (b *freshMachine) CallEnded(ctx context.Context) error {
	return b.machine().CallEnded(ctx)
}
func (b *freshMachine) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return b.machine().OperationUpdate(ctx, op)
}
func (b *freshMachine) Frame(ctx context.Context, stream int, p []byte) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.cur.Frame(ctx, stream, p)
}
func (b *freshMachine) GateOpen() bool { return b.machine().GateOpen() }

func (b *freshMachine) Fail(ctx context.Context) error {
	m := b.machine()
	if err := m.Fail(ctx); err != nil {
		return err
	}
	if m.m.State() != fsm.Failed {
		return nil
	}
	return b.reset() // "a clean machine for the next recording"
}

// NewShortConfirmationDeadline builds a correct bot: README's wiring with
// a confirmation deadline of 2 ms.
//
// Why a team does it: their integration tests use a fake Graph that never
// notifies, and a short deadline keeps the tests fast; the option ended up
// in the shared constructor. Every pending attempt then expires at once:
// the machine reports failed by itself (trigger ConfirmationTimeout) and
// a later completed is stale. That keeps the rule (nothing opens on a
// pending reply, failed is reported with the gate closed); it only makes
// pending attempts useless.
func NewShortConfirmationDeadline(env *properties.Env) (properties.Bot, error) {
	b, err := newFSMBot(callOf(env), nil, fsm.WithConfirmationDeadline(2*time.Millisecond))
	if err != nil {
		return nil, err
	}
	return b, nil
}
