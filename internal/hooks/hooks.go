// Package hooks lets recgate's own checkers (package properties) pause the
// real machine at the points where interleavings matter, and seed known
// bugs into it to prove that the checkers catch them. Being internal, it is
// out of reach of other modules: a machine built without hooks runs none
// of this.
package hooks

// Point names a place where a machine with hooks pauses for its scheduler.
type Point int

// The pause points.
const (
	// Lock: about to take the machine's lock (granted by Hooks.Lock).
	Lock Point = iota
	// GateClosed: Stop, Fail or CallEnded closed the gate, before the lock.
	GateClosed
	// DrainWait: the machine waits for a lease to be released.
	DrainWait
	// Drained: every lease is released; the hook has not run yet.
	Drained
	// HookDone: the recording-ended hook returned; nothing reported yet.
	HookDone
)

var pointNames = [...]string{"Lock", "GateClosed", "DrainWait", "Drained", "HookDone"}

// String is the point's name.
func (p Point) String() string {
	if p < 0 || int(p) >= len(pointNames) {
		return "Point(?)"
	}
	return pointNames[p]
}

// Mutant is a set of seeded bugs. The zero value is the correct machine.
type Mutant uint32

// The seeded bugs. Each is a mistake a hand-written gate makes.
const (
	// OpenOnPending: a pending reply (notStarted, running, none) opens the gate.
	OpenOnPending Mutant = 1 << iota
	// OpenBeforeReply: the gate opens when recording is sent, before the reply.
	OpenBeforeReply
	// ReportBeforeDrain: notRecording/failed is sent without waiting for leases.
	ReportBeforeDrain
	// HookAfterReport: the recording-ended hook runs after the report.
	HookAfterReport
	// CallEndedWaits: CallEnded closes the gate only once it has the lock,
	// behind an in-flight request.
	CallEndedWaits
	// LateSuccessReopens: a completed reply opens the gate even after a newer
	// Stop or the end of the call.
	LateSuccessReopens
	// UnlockedRequest: the lock is let go during a Graph request, so a later
	// notRecording can overtake a recording still in flight.
	UnlockedRequest
	// CheckThenWrite: the bot asks "is the gate open?" and then writes
	// without a lease. (A bot-side bug: the reference bot plays it.)
	CheckThenWrite
	// StopClosesUnderLock: Stop and Fail close the gate only once they hold
	// the machine's lock, so writes go on after the bot asked to stop while
	// another transition holds the lock.
	StopClosesUnderLock
)

// All lists every mutant, in order.
var All = []Mutant{OpenOnPending, OpenBeforeReply, ReportBeforeDrain, HookAfterReport, CallEndedWaits, LateSuccessReopens, UnlockedRequest, CheckThenWrite, StopClosesUnderLock}

var mutantNames = map[Mutant]string{
	OpenOnPending: "OpenOnPending", OpenBeforeReply: "OpenBeforeReply", ReportBeforeDrain: "ReportBeforeDrain",
	HookAfterReport: "HookAfterReport", CallEndedWaits: "CallEndedWaits", LateSuccessReopens: "LateSuccessReopens",
	UnlockedRequest: "UnlockedRequest", CheckThenWrite: "CheckThenWrite", StopClosesUnderLock: "StopClosesUnderLock",
}

var mutantBugs = map[Mutant]string{
	OpenOnPending:       "a pending reply (notStarted, running, no status) opens the gate",
	OpenBeforeReply:     "the gate opens when recording is sent, before Graph replies",
	ReportBeforeDrain:   "notRecording/failed is sent without waiting for held leases",
	HookAfterReport:     "the recording-ended hook runs after notRecording is sent",
	CallEndedWaits:      "CallEnded closes the gate only once it has the lock, behind an in-flight request",
	LateSuccessReopens:  "a completed reply arriving after CallEnded or a newer Stop reopens the gate",
	UnlockedRequest:     "the lock is let go during a Graph request, so a later request can overtake it",
	CheckThenWrite:      "the writer asks whether the gate is open, then writes without a lease",
	StopClosesUnderLock: "Stop closes the gate only once it holds the machine's lock, behind an in-flight request",
}

// Bug describes the seeded bug in one sentence.
func (m Mutant) Bug() string { return mutantBugs[m] }

// String is the mutant's name, "correct" for none.
func (m Mutant) String() string {
	if m == 0 {
		return "correct"
	}
	if n, ok := mutantNames[m]; ok {
		return n
	}
	return "Mutant(combined)"
}

// Has reports whether m includes bug b.
func (m Mutant) Has(b Mutant) bool { return m&b != 0 }

// Hooks is what a checker hands the machine.
type Hooks struct {
	// Yield is called at each Point; it returns when the scheduler lets the
	// machine go on.
	Yield func(Point)
	// Lock and Unlock replace the machine's mutex, so the scheduler knows
	// who holds it. Lock may pause like Yield.
	Lock, Unlock func()
	// Mutants seeds bugs.
	Mutants Mutant
}

// MachineOption turns Hooks into an fsm.Option (returned as any: this
// package cannot import fsm). Package fsm installs it when it is loaded, so
// the option is reachable only from inside this module.
var MachineOption func(*Hooks) any
