package properties

import (
	"fmt"
	"strings"

	"github.com/recgate/recgate/graph"
)

// Invariant is one safety property: a name, the sentence of the rule it
// enforces, and a check. The rapid suite, the model checker and the review
// report all use these same values.
type Invariant struct {
	ID   string // P1..P6
	Name string
	Rule string
	// check looks at one event against the world before it; a non-empty
	// result is a violation.
	check func(w *World, e Event) string
}

// String is "P1 NoPersistOutsideConfirmedRecording".
func (inv Invariant) String() string { return inv.ID + " " + inv.Name }

// The invariants of DESIGN.md.
var (
	P1 = Invariant{ID: "P1", Name: "NoPersistOutsideConfirmedRecording",
		Rule: "Every persisted byte was written while the latest recording request had a completed reply and no later notRecording or failed had been sent, and the call had not ended.",
		check: func(w *World, e Event) string {
			// A write is judged by its lease: taken while the recording was
			// confirmed and the call alive, and over before anything was
			// reported. (A write under way when the call ends may finish:
			// nothing can stop bytes already on their way to disk, and
			// CallEnded waits for them.)
			switch e.Kind {
			case EvWriteBegin:
				switch {
				case !w.Confirmed:
					return fmt.Sprintf("stream %d began persisting without a completed reply to the latest recording request", e.Stream)
				case w.Reported:
					return fmt.Sprintf("stream %d began persisting after %s was sent", e.Stream, w.LastReport)
				case w.Ended:
					return fmt.Sprintf("stream %d began persisting after the call ended", e.Stream)
				}
			case EvWriteEnd:
				if w.Reported && e.Bytes > 0 {
					return fmt.Sprintf("stream %d persisted after %s was sent", e.Stream, w.LastReport)
				}
			}
			return ""
		}}
	P2 = Invariant{ID: "P2", Name: "EndBeforeReport",
		Rule: "No notRecording or failed request is sent while a lease is held or before the recording-ended hook returned.",
		check: func(w *World, e Event) string {
			if e.Kind != EvRequest || e.Status == graph.StatusRecording {
				return ""
			}
			switch {
			case w.Writing > 0:
				return fmt.Sprintf("%s sent while %d write(s) held a lease", e.Status, w.Writing)
			case w.UnflushedWrites:
				return fmt.Sprintf("%s sent before the recording-ended hook flushed the last write", e.Status)
			}
			return ""
		}}
	P3 = Invariant{ID: "P3", Name: "OneRequestPerAttempt",
		Rule: "Introspection never sends a request; an attempt sends exactly one (retries of that one request for 429/503/504 aside).",
		check: func(w *World, e Event) string {
			if e.Kind != EvRequest {
				return ""
			}
			if w.Introspecting {
				return fmt.Sprintf("%s sent during introspection", e.Status)
			}
			if !w.Concurrent && w.RequestsThisAttempt[e.Thread] >= 1 {
				return fmt.Sprintf("a second %s request in one attempt", e.Status)
			}
			return ""
		}}
	P4 = Invariant{ID: "P4", Name: "PendingIsNotSuccess",
		Rule: "A notStarted, running or missing status never opens the gate.",
		check: func(w *World, e Event) string {
			if (e.Kind == EvGateOpen || e.Kind == EvWriteBegin) && w.LastRecordingOutcome == OutcomePending && !w.Confirmed {
				return "the gate opened on a pending reply"
			}
			return ""
		}}
	P5 = Invariant{ID: "P5", Name: "EndedIsFinal",
		Rule: "After CallEnded nothing opens the gate and no request is sent.",
		check: func(w *World, e Event) string {
			if !w.Ended {
				return ""
			}
			switch e.Kind {
			case EvGateOpen:
				return "the gate was open after the call ended"
			case EvRequest:
				return fmt.Sprintf("%s sent after the call ended", e.Status)
			}
			return ""
		}}
	P6 = Invariant{ID: "P6", Name: "NoLostUpdates",
		Rule: "A delayed recording reply or retry never lands after a later notRecording for the same call.",
		check: func(w *World, e Event) string {
			if e.Kind == EvRequest && w.InFlight > 0 {
				return fmt.Sprintf("%s sent while %s was still in flight, so it can land first", e.Status, w.InFlightStatus)
			}
			return ""
		}}
)

// Invariants lists P1..P6 in order.
func Invariants() []Invariant { return []Invariant{P1, P2, P3, P4, P5, P6} }

// Violation is an invariant broken by one event.
type Violation struct {
	Invariant Invariant
	Event     Event
	Detail    string
}

// Error names the invariant, the event and what was wrong.
func (v Violation) Error() string {
	return fmt.Sprintf("%s violated at %s: %s", v.Invariant, v.Event, v.Detail)
}

// Outcome is what Graph did with a request, as the checkers see it.
type Outcome int

// The outcomes.
const (
	OutcomeNone Outcome = iota
	OutcomeCompleted
	OutcomePending
	OutcomeFailed
	OutcomeError
)

// String is the outcome's name.
func (o Outcome) String() string {
	return [...]string{"none", "completed", "pending", "failed", "error"}[o]
}

// EventKind names an observable event.
type EventKind int

// The events the checkers observe.
const (
	EvRequest    EventKind = iota // a request left for Graph
	EvReply                       // its reply arrived (Outcome)
	EvUpdate                      // an operation update was delivered to the bot (Outcome)
	EvWriteBegin                  // a write started persisting (lease taken)
	EvWriteEnd                    // the write's bytes are persisted
	EvFlush                       // the recording-ended hook flushed the recording
	EvCallEnded                   // the call ended
	EvGateOpen                    // the gate was seen open
	EvAttempt                     // the bot began handling one event (Trigger)
	EvIntrospect                  // introspection began (true) or ended (false)
)

var eventNames = [...]string{"request", "reply", "update", "write-begin", "write-end", "flush", "call-ended", "gate-open", "attempt", "introspect"}

// Event is one observation.
type Event struct {
	Kind    EventKind
	Status  graph.Status // requests and replies
	Outcome Outcome      // replies and updates
	Stream  int          // writes
	Bytes   int          // write-end
	Label   string       // attempts: the bot event; introspect: "begin"/"end"
	// Thread tells apart attempts that run at once (the model checker's
	// threads); the rapid suite, which cannot tell, uses 0 and marks
	// concurrent attempts instead.
	Thread int
}

// String is a short, readable form, as counterexamples print it.
func (e Event) String() string {
	var b strings.Builder
	b.WriteString(eventNames[e.Kind])
	switch e.Kind {
	case EvRequest:
		fmt.Fprintf(&b, "(%s)", e.Status)
	case EvReply:
		fmt.Fprintf(&b, "(%s: %s)", e.Status, e.Outcome)
	case EvUpdate:
		fmt.Fprintf(&b, "(%s)", e.Outcome)
	case EvWriteBegin, EvWriteEnd:
		fmt.Fprintf(&b, "(stream %d)", e.Stream)
	case EvAttempt, EvIntrospect:
		fmt.Fprintf(&b, "(%s)", e.Label)
	}
	return b.String()
}

// World is what the invariants need to know of the past: it is updated
// event by event, and every invariant is checked on every event against
// the world just before it.
type World struct {
	Confirmed            bool    // the latest recording request is confirmed (reply or update)
	LastRecordingOutcome Outcome // of the latest recording request
	Reported             bool    // notRecording or failed sent since the latest recording request
	LastReport           graph.Status
	Ended                bool
	InFlight             int
	InFlightStatus       graph.Status
	Writing              int
	UnflushedWrites      bool
	RequestsThisAttempt  map[int]int // per thread of events
	Introspecting        bool
	Concurrent           bool // another attempt runs alongside: requests cannot be told apart
	Persisted            int  // bytes
}

// Observe checks e against every invariant, then applies it to the world.
func (w *World) Observe(e Event) []Violation {
	var vs []Violation
	for _, inv := range Invariants() {
		if d := inv.check(w, e); d != "" {
			vs = append(vs, Violation{Invariant: inv, Event: e, Detail: d})
		}
	}
	w.apply(e)
	return vs
}

func (w *World) apply(e Event) {
	switch e.Kind {
	case EvRequest:
		w.InFlight++
		w.InFlightStatus = e.Status
		if w.RequestsThisAttempt == nil {
			w.RequestsThisAttempt = make(map[int]int)
		}
		w.RequestsThisAttempt[e.Thread]++
		if e.Status == graph.StatusRecording {
			w.Confirmed, w.Reported, w.LastRecordingOutcome = false, false, OutcomeNone
		} else {
			w.Confirmed, w.Reported, w.LastReport = false, true, e.Status
		}
	case EvReply:
		if w.InFlight > 0 {
			w.InFlight--
		}
		if e.Status == graph.StatusRecording {
			w.LastRecordingOutcome = e.Outcome
			w.Confirmed = e.Outcome == OutcomeCompleted && !w.Reported && !w.Ended
		}
	case EvUpdate:
		if w.LastRecordingOutcome == OutcomePending {
			w.LastRecordingOutcome = e.Outcome
			w.Confirmed = e.Outcome == OutcomeCompleted && !w.Reported && !w.Ended
		}
	case EvWriteBegin:
		w.Writing++
	case EvWriteEnd:
		if w.Writing > 0 {
			w.Writing--
		}
		w.UnflushedWrites = true
		w.Persisted += e.Bytes
	case EvFlush:
		if w.Writing == 0 {
			w.UnflushedWrites = false
		}
	case EvCallEnded:
		w.Ended, w.Confirmed = true, false
	case EvAttempt:
		if strings.HasPrefix(e.Label, "concurrent ") {
			w.Concurrent = true
			break
		}
		w.Concurrent = false
		delete(w.RequestsThisAttempt, e.Thread)
	case EvIntrospect:
		w.Introspecting = e.Label == "begin"
	}
}
