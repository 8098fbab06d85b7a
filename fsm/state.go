package fsm

import "strconv"

// State is a state of the compliance machine. Only Recording allows media to
// be persisted.
type State int

// The machine's states, in the order a call usually passes through them.
const (
	// NotRecording is the initial state: Graph was told notRecording, or
	// nothing yet. The gate is closed.
	NotRecording State = iota
	// AwaitingConfirmation: Graph accepted recording but the operation is
	// pending (notStarted, running or no status). The gate is closed until a
	// completed operation update arrives.
	AwaitingConfirmation
	// Recording: Graph replied completed to recording. The only state in
	// which the gate may be open.
	Recording
	// Stopping: persistence has ended (gate closed, leases drained, hook run)
	// and notRecording or failed is being reported. A failed report leaves the
	// machine here; Stop or Fail retries it.
	Stopping
	// Failed: Graph was told failed. The gate is closed; Start may try again.
	Failed
	// Ended: the call is over. Terminal: nothing opens the gate again and no
	// request is sent.
	Ended
)

var stateNames = [...]string{"NotRecording", "AwaitingConfirmation", "Recording", "Stopping", "Failed", "Ended"}

// States lists every state, for tables and exhaustive checks.
func States() []State {
	return []State{NotRecording, AwaitingConfirmation, Recording, Stopping, Failed, Ended}
}

// String returns the state's name as used in diagrams.
func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return "State(" + strconv.Itoa(int(s)) + ")"
	}
	return stateNames[s]
}

// PersistAllowed reports whether the state is one in which the gate may be
// open. It is a property of the state, not of the gate: the gate can be
// closed in Recording while a Stop is under way.
func (s State) PersistAllowed() bool { return s == Recording }

// Trigger is an event the bot or Graph feeds to the machine.
type Trigger int

// The machine's triggers.
const (
	// Start asks Graph for permission to record (status recording).
	Start Trigger = iota
	// Stop ends persistence, then reports notRecording.
	Stop
	// Fail ends persistence because the bot's recording broke, then reports
	// failed.
	Fail
	// OperationUpdate is a later notification about a pending recording
	// operation: completed or failed.
	OperationUpdate
	// CallEnded says the call is over; the gate closes for good.
	CallEnded
	// ConfirmationTimeout is fired by the machine itself when a pending
	// recording attempt got no outcome within the confirmation deadline
	// (WithConfirmationDeadline): the attempt ends with the gate closed and
	// failed is reported, so that Graph does not show a recording that is
	// not happening. No method fires it.
	ConfirmationTimeout
)

var triggerNames = [...]string{"Start", "Stop", "Fail", "OperationUpdate", "CallEnded", "ConfirmationTimeout"}

// Triggers lists every trigger, for tables and exhaustive checks.
func Triggers() []Trigger {
	return []Trigger{Start, Stop, Fail, OperationUpdate, CallEnded, ConfirmationTimeout}
}

// String returns the trigger's name as used in diagrams.
func (t Trigger) String() string {
	if t < 0 || int(t) >= len(triggerNames) {
		return "Trigger(" + strconv.Itoa(int(t)) + ")"
	}
	return triggerNames[t]
}
