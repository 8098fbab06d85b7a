package fsm

import (
	"context"

	"github.com/qmuntal/stateless"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/internal/hooks"
)

// transition is one line of the machine's specification. The stateless
// machine, the diagrams and the transition table are all built from the one
// table below, so they cannot drift apart.
type transition struct {
	From    State
	Trigger Trigger
	To      State
	// Guard, when set, must hold for the transition to be taken. Guards are
	// named functions so the diagrams read as a specification.
	Guard stateless.GuardFunc
	// Ignore marks a trigger accepted without a change of state.
	Ignore bool
	// Sends is the Graph request the guard depends on, "" for none.
	Sends string
}

var specification = []transition{
	{From: NotRecording, Trigger: Start, To: Recording, Guard: graphConfirmedRecording, Sends: "recording"},
	{From: NotRecording, Trigger: Start, To: AwaitingConfirmation, Guard: graphPendingRecording, Sends: "recording"},
	{From: NotRecording, Trigger: CallEnded, To: Ended},

	{From: AwaitingConfirmation, Trigger: OperationUpdate, To: Recording, Guard: updateConfirmedRecording},
	{From: AwaitingConfirmation, Trigger: OperationUpdate, To: NotRecording, Guard: updateRefusedRecording},
	{From: AwaitingConfirmation, Trigger: OperationUpdate, To: AwaitingConfirmation, Guard: updateStillPending, Ignore: true},
	{From: AwaitingConfirmation, Trigger: Stop, To: Stopping},
	{From: AwaitingConfirmation, Trigger: Fail, To: Stopping},
	{From: AwaitingConfirmation, Trigger: CallEnded, To: Ended},
	{From: AwaitingConfirmation, Trigger: ConfirmationTimeout, To: Stopping},

	{From: Recording, Trigger: Stop, To: Stopping},
	{From: Recording, Trigger: Fail, To: Stopping},
	{From: Recording, Trigger: CallEnded, To: Ended},

	{From: Stopping, Trigger: Stop, To: NotRecording, Guard: graphAcceptedNotRecording, Sends: "notRecording"},
	{From: Stopping, Trigger: Fail, To: Failed, Guard: graphAcceptedFailed, Sends: "failed"},
	{From: Stopping, Trigger: ConfirmationTimeout, To: Failed, Guard: graphAcceptedFailed, Sends: "failed"},
	{From: Stopping, Trigger: CallEnded, To: Ended},

	{From: Failed, Trigger: Start, To: Recording, Guard: graphConfirmedRecording, Sends: "recording"},
	{From: Failed, Trigger: Start, To: AwaitingConfirmation, Guard: graphPendingRecording, Sends: "recording"},
	{From: Failed, Trigger: CallEnded, To: Ended},

	{From: Ended, Trigger: CallEnded, To: Ended, Ignore: true},
}

// permittedTable[state][trigger] says whether the specification has any
// transition for the pair, whatever its guard: the machine's cheap
// "not permitted" check before it builds an attempt.
var permittedTable = func() (t [len(stateNames)][len(triggerNames)]bool) {
	for _, tr := range specification {
		t[tr.From][tr.Trigger] = true
	}
	return t
}()

// directTable[state][trigger] is the destination of the one transition the
// specification has for the pair, when that transition has no guard, is
// not ignored and changes the state; noDirect otherwise. Stateless would
// take such a transition without evaluating anything: the machine
// configures no entry or exit actions, no superstates and no
// OnTransitioning hooks, so all it would do is store the new state. fire
// takes these transitions itself (the unguarded first step of a Stop, for
// one), which spares a lookup through stateless's maps; everything else
// (a guard, an ignore, a trigger not permitted) goes through stateless.
// TestDirectTransitionsAgreeWithStateless checks the two agree.
var directTable = func() (t [len(stateNames)][len(triggerNames)]State) {
	var count [len(stateNames)][len(triggerNames)]int
	for _, tr := range specification {
		count[tr.From][tr.Trigger]++
	}
	for from := range t {
		for trigger := range t[from] {
			t[from][trigger] = noDirect
		}
	}
	for _, tr := range specification {
		if count[tr.From][tr.Trigger] == 1 && tr.Guard == nil && !tr.Ignore && tr.To != tr.From {
			t[tr.From][tr.Trigger] = tr.To
		}
	}
	return t
}()

// noDirect marks a pair of directTable that stateless must handle.
const noDirect State = -1

// direct returns the destination of the unguarded transition for t from
// state s, if the specification has one (see directTable).
func direct(s State, t Trigger) (State, bool) {
	if s < 0 || int(s) >= len(directTable) || t < 0 || int(t) >= len(directTable[s]) {
		return noDirect, false
	}
	to := directTable[s][t]
	return to, to != noDirect
}

// configure builds the stateless machine from the specification.
func configure(sm *stateless.StateMachine) {
	for _, t := range specification {
		var guards []stateless.GuardFunc
		if t.Guard != nil {
			guards = append(guards, t.Guard)
		}
		sc := sm.Configure(t.From)
		if t.Ignore {
			sc.Ignore(t.Trigger, guards...)
		} else {
			sc.Permit(t.Trigger, t.To, guards...)
		}
	}
}

// The guards. Each reads the firing that travels in the Fire context and
// never starts I/O itself: a Graph request is made at most once per firing
// (firing.reply memoizes it), however often stateless evaluates the guards.
//
// Without a firing in the context (CanFire, PermittedTriggers, String) a
// guard answers "could this happen?": the transition Graph's success leads
// to reports true, the alternatives false, so introspection shows what the
// trigger is for and sends nothing.

func graphConfirmedRecording(ctx context.Context, _ ...any) bool {
	f := firingFrom(ctx)
	if f == nil {
		return true
	}
	if f.m.mutant(hooks.OpenOnPending) {
		return f.replied(graph.OperationStatus.Accepted)
	}
	return f.replied(graph.OperationStatus.Confirmed)
}

func graphPendingRecording(ctx context.Context, _ ...any) bool {
	f := firingFrom(ctx)
	if f == nil || f.m.mutant(hooks.OpenOnPending) {
		return false
	}
	return f.replied(graph.OperationStatus.Pending)
}

// A notRecording or failed report needs Graph to accept it: completed, or
// pending (Graph will finish it). Persistence has already ended either way.
func graphAcceptedNotRecording(ctx context.Context, _ ...any) bool {
	return graphAccepted(ctx)
}

func graphAcceptedFailed(ctx context.Context, _ ...any) bool {
	return graphAccepted(ctx)
}

func graphAccepted(ctx context.Context) bool {
	f := firingFrom(ctx)
	if f == nil {
		return true
	}
	return f.replied(graph.OperationStatus.Accepted)
}

func updateConfirmedRecording(ctx context.Context, _ ...any) bool {
	f := firingFrom(ctx)
	if f == nil {
		return true
	}
	return f.update != nil && f.update.Status.Confirmed()
}

func updateRefusedRecording(ctx context.Context, _ ...any) bool {
	f := firingFrom(ctx)
	return f != nil && f.update != nil && f.update.Status.Refused()
}

func updateStillPending(ctx context.Context, _ ...any) bool {
	f := firingFrom(ctx)
	return f != nil && f.update != nil && f.update.Status.Pending()
}

// openGate is the last step of entering Recording; the machine calls it
// once stateless has stored the new state (Machine.transitioned). It
// opens the gate only if no Stop, Fail or CallEnded happened since the
// attempt began.
//
// The gate is worked by the machine, not by stateless entry and exit
// actions, for two reasons: the order that rule R2 needs (close, drain the
// leases, run the hook, and only then fire the report) then reads top to
// bottom in Machine.stop instead of being spread over callbacks; and each
// stateless action costs two allocations per transition, which the cycle
// benchmark would pay.
func openGate(f *firing) {
	if f.m.cfg.observer != nil {
		f.m.gateEvents.Lock()
		defer f.m.gateEvents.Unlock()
	}
	if f.m.mutant(hooks.LateSuccessReopens) {
		f.m.gate.forceOpen()
		f.opened = true
	} else {
		f.opened = f.m.gate.open(f.epoch)
	}
	if f.m.cfg.observer != nil {
		f.m.emit(Event{Kind: EventGate, Trigger: f.trigger, Open: f.opened, Epoch: f.epoch, Via: f.via, Issuer: f.issuer, Tenant: f.tenant})
	}
}
