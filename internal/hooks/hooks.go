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

	// The gate's own steps. A machine pauses here only in a build with the
	// recgate_checker tag; in any other build these pauses compile to
	// nothing.

	// AcquireAnnounced: Stream.Acquire has announced its lease on the
	// stream and has not looked at the gate yet.
	AcquireAnnounced
	// AcquireLooked: Stream.Acquire has looked at the gate and found it
	// closed, and has not withdrawn its announced lease yet. (In the
	// AcquireLooksFirst mutant: it found the gate open and has not
	// announced its lease yet.)
	AcquireLooked
	// DrainLook: the drain is about to look at the next stream's lease.
	DrainLook
)

var pointNames = [...]string{"Lock", "GateClosed", "DrainWait", "Drained", "HookDone", "AcquireAnnounced", "AcquireLooked", "DrainLook"}

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

// The gate-internal seeded bugs: mistakes inside the gate's own atomic
// steps. They are compiled in only with the recgate_checker build tag, and
// only the model checker of that build (which pauses inside the gate) can
// see them: they are not in All, whose mutants every checker of every build
// must kill.
const (
	// AcquireLooksFirst: Stream.Acquire looks at the gate before it
	// announces its lease (check-then-act), so a Stop whose drain looks at
	// the stream in between does not wait for the write.
	AcquireLooksFirst Mutant = 1 << (iota + 16)
	// DrainStaleList: the drain walks the list of streams taken when the
	// gate last opened, so a stream registered during the recording is not
	// waited for.
	DrainStaleList
	// ReleaseIgnoresGeneration: Lease.Release clears whatever lease the
	// stream holds, so releasing an old lease a second time ends a newer one.
	ReleaseIgnoresGeneration
)

// All lists every mutant that every checker must kill, in order.
var All = []Mutant{OpenOnPending, OpenBeforeReply, ReportBeforeDrain, HookAfterReport, CallEndedWaits, LateSuccessReopens, UnlockedRequest, CheckThenWrite, StopClosesUnderLock}

// GateInternal lists the gate-internal mutants, in order: the model checker
// built with the recgate_checker tag must kill each of them.
var GateInternal = []Mutant{AcquireLooksFirst, DrainStaleList, ReleaseIgnoresGeneration}

// GateInternal reports whether m seeds a bug inside the gate's own steps,
// which only the recgate_checker build compiles in.
func (m Mutant) GateInternal() bool {
	return m&(AcquireLooksFirst|DrainStaleList|ReleaseIgnoresGeneration) != 0
}

var mutantNames = map[Mutant]string{
	OpenOnPending: "OpenOnPending", OpenBeforeReply: "OpenBeforeReply", ReportBeforeDrain: "ReportBeforeDrain",
	HookAfterReport: "HookAfterReport", CallEndedWaits: "CallEndedWaits", LateSuccessReopens: "LateSuccessReopens",
	UnlockedRequest: "UnlockedRequest", CheckThenWrite: "CheckThenWrite", StopClosesUnderLock: "StopClosesUnderLock",
	AcquireLooksFirst: "AcquireLooksFirst", DrainStaleList: "DrainStaleList", ReleaseIgnoresGeneration: "ReleaseIgnoresGeneration",
}

var mutantBugs = map[Mutant]string{
	OpenOnPending:            "a pending reply (notStarted, running, no status) opens the gate",
	OpenBeforeReply:          "the gate opens when recording is sent, before Graph replies",
	ReportBeforeDrain:        "notRecording/failed is sent without waiting for held leases",
	HookAfterReport:          "the recording-ended hook runs after notRecording is sent",
	CallEndedWaits:           "CallEnded closes the gate only once it has the lock, behind an in-flight request",
	LateSuccessReopens:       "a completed reply arriving after CallEnded or a newer Stop reopens the gate",
	UnlockedRequest:          "the lock is let go during a Graph request, so a later request can overtake it",
	CheckThenWrite:           "the writer asks whether the gate is open, then writes without a lease",
	StopClosesUnderLock:      "Stop closes the gate only once it holds the machine's lock, behind an in-flight request",
	AcquireLooksFirst:        "a writer looks at the gate before it announces its lease, so the drain can miss a write that saw the gate open",
	DrainStaleList:           "the drain walks the streams registered when the gate opened, missing a stream registered during the recording",
	ReleaseIgnoresGeneration: "releasing an old lease again ends the stream's newer lease, so the drain stops waiting for a write still under way",
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
	// Wait, if set, is called instead of Yield where the gate waits for a
	// stream's lease to be released (DrainWait): ready reports whether the
	// wait is over, so a scheduler can resume the waiter only when its next
	// look would see a change. It returns when the scheduler lets the
	// machine go on.
	Wait func(p Point, ready func() bool)

	// Filled in by the machine's gate when the machine accepts the hooks.

	// GateSteps is true when the gate pauses inside its own atomic steps
	// (AcquireAnnounced, AcquireLooked, DrainLook): a build with the
	// recgate_checker tag. The gate-internal mutants are seeded only then.
	GateSteps bool
	// GateState appends to b what of the gate's own state decides what can
	// happen next (each stream's lease, where the drain looks), for a
	// checker's abstract state.
	GateState func(b []byte) []byte
}

// MachineOption turns Hooks into an fsm.Option (returned as any: this
// package cannot import fsm). Package fsm installs it when it is loaded, so
// the option is reachable only from inside this module.
var MachineOption func(*Hooks) any
