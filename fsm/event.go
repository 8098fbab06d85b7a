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
	EventUpdate        EventKind = "update"         // a later operation update arrived (Operation, Via, Err if ignored)
	EventAttempt       EventKind = "http-attempt"   // one HTTP attempt of the request (HTTP), retries included
	EventAuthorized    EventKind = "authorized"     // a completed outcome (Operation, ClientContext, Via) is about to open the gate
)

// Via says how an operation's outcome reached the machine.
type Via string

// The ways an outcome arrives.
const (
	// ViaReply: the reply to the machine's own request.
	ViaReply Via = "reply"
	// ViaNotification: a notification Graph POSTed to the bot's callback,
	// whose token the callback handler validated (Event.Issuer and
	// Event.Tenant say who vouched for it); see Machine.Notify and Registry.
	ViaNotification Via = "notification"
	// ViaPoll: the machine read the operation's Location
	// (WithOperationPolling).
	ViaPoll Via = "poll"
	// ViaCaller: the bot called OperationUpdate itself; recgate cannot say
	// where the bot got it.
	ViaCaller Via = "caller"
)

// Event is one step of the machine, for observers (WithObserver): logs,
// audit trails and tests that check the order of things.
type Event struct {
	Kind   EventKind // what happened
	Time   time.Time // when the machine emitted it
	CallID string    // the call the machine guards
	// Trigger is the trigger whose transition caused the event: every
	// event names one.
	Trigger Trigger
	// From and To are set for transitions.
	From, To State
	// Status and ClientContext are set for requests and replies.
	Status        graph.Status
	ClientContext string
	// Operation and Err are set for replies, updates and authorizations.
	Operation graph.Operation
	Err       error
	// HTTP is set for attempts: one HTTP exchange of the request, as
	// graph.Client reported it (see graph.WithAttemptReporter).
	HTTP graph.Attempt
	// Open and Epoch are set for gate events.
	Open  bool
	Epoch uint64
	// Via says how the outcome behind this event arrived: set on replies,
	// updates, and the transitions and gate openings they cause. Issuer and
	// Tenant are the validated token's iss and tid claims when Via is
	// ViaNotification.
	Via    Via
	Issuer string
	Tenant string
}
