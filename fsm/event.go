package fsm

import (
	"time"

	"github.com/recgate/recgate/graph"
)

// EventKind names what an Event records.
type EventKind string

// The kinds of Event.
const (
	EventTransition    EventKind = "transition"     // From -(Trigger)-> To
	EventRequest       EventKind = "request"        // a Graph request is about to be sent
	EventReply         EventKind = "reply"          // its reply (Operation) or error (Err) arrived
	EventGate          EventKind = "gate"           // the gate opened (Open) or closed
	EventLeasesDrained EventKind = "leases-drained" // every lease was released
	EventHookRan       EventKind = "hook-ran"       // the recording-ended hook returned
)

// Event is one step of the machine, for observers (WithObserver): logs,
// audit trails and tests that check the order of things.
type Event struct {
	Kind    EventKind
	Time    time.Time
	CallID  string
	Trigger Trigger
	// From and To are set for transitions.
	From, To State
	// Status and ClientContext are set for requests and replies.
	Status        graph.Status
	ClientContext string
	// Operation and Err are set for replies.
	Operation graph.Operation
	Err       error
	// Open and Epoch are set for gate events.
	Open  bool
	Epoch uint64
}
