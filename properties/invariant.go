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
	ID   string // P1..P10
	Name string // a name in one word, e.g. NoPersistOutsideConfirmedRecording
	Rule string // the rule, as a sentence
	// check looks at one event against the world before it; a non-empty
	// result is a violation.
	check func(w *World, e Event) string
}

// String is "P1 NoPersistOutsideConfirmedRecording".
func (inv Invariant) String() string { return inv.ID + " " + inv.Name }

// The invariants the suite checks, each with the rule it stands for.
var (
	P1 = Invariant{ID: "P1", Name: "NoPersistOutsideConfirmedRecording",
		Rule:  "Every persisted byte was written while the latest recording request had a completed reply and no later notRecording or failed had been sent, and the call had not ended.",
		check: checkP1}
	P2 = Invariant{ID: "P2", Name: "EndBeforeReport",
		Rule:  "No notRecording or failed request is sent while a lease is held or before the recording-ended hook returned.",
		check: checkP2}
	P3 = Invariant{ID: "P3", Name: "OneRequestPerAttempt",
		Rule:  "Introspection never sends a request; an attempt sends exactly one (retries of that one request for 429/503/504 aside, a new recording attempt with a new clientContext after an answer that decided nothing (a timeout, a 500) until a Stop, Fail or CallEnded is asked, and a report sent again because the last one failed for a reason that is not final: not after 8506 or a call that is gone, from any goroutine, until the bot is next asked to Start, Stop or Fail).",
		check: checkP3}
	P4 = Invariant{ID: "P4", Name: "PendingIsNotSuccess",
		Rule:  "A notStarted, running or missing status never opens the gate.",
		check: checkP4}
	P5 = Invariant{ID: "P5", Name: "EndedIsFinal",
		Rule:  "After CallEnded nothing opens the gate and no request is sent.",
		check: checkP5}
	P6 = Invariant{ID: "P6", Name: "NoLostUpdates",
		Rule:  "A delayed recording reply or retry never lands after a later notRecording for the same call.",
		check: checkP6}
	P7 = Invariant{ID: "P7", Name: "ConsentCoversCapture",
		Rule:  "Every persisted byte comes from media that arrived inside the same confirmed recording interval in which it is written: nothing captured before Graph's completed, after the gate closed, or in an earlier interval reaches storage, nor anything derived from it.",
		check: checkP7}
	P10 = Invariant{ID: "P10", Name: "UniqueClientContext",
		Rule:  "Every request carries a clientContext that no earlier request of the call carried (the API page: \"Unique client context string.\"), except the same request sent again after 429/503/504.",
		check: checkP10}
	P9 = Invariant{ID: "P9", Name: "NoWriteAfterStopAsked",
		Rule:  "Once the bot is asked to Stop or Fail, no new lease is taken and the gate does not open, until the bot sends a new recording request (which must then be confirmed, by P1).",
		check: checkP9}
)

// Invariants lists the invariants in order. (P8, OnlyAuthenticConfirmation,
// is checked where notifications are authenticated: graph/callback and the
// fsm registry.)
func Invariants() []Invariant { return []Invariant{P1, P2, P3, P4, P5, P6, P7, P9, P10} }

// Violation is an invariant broken by one event.
type Violation struct {
	Invariant Invariant // the invariant broken
	Event     Event     // the event that broke it
	Detail    string    // what was wrong, in words
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
	EvAttempt                     // the bot began handling one event (Label)
	EvIntrospect                  // introspection began or ended (Label)
	EvFrame                       // a media frame arrived at the bot (Stream, Frame)
	EvQuiet                       // the bot was asked to finish its work (Close) or the grace period ended (Label)
	EvReturned                    // the bot's handler for an event returned (Label)
)

var eventNames = [...]string{"request", "reply", "update", "write-begin", "write-end", "flush", "call-ended", "gate-open", "attempt", "introspect", "frame", "quiet", "returned"}

// Event is one observation.
type Event struct {
	Kind    EventKind    // what happened
	Status  graph.Status // requests and replies
	Outcome Outcome      // replies and updates
	// Reply says what Graph answered beyond the outcome ("429
	// TooManyRequests", "8506 policy refusal"); Retryable marks the
	// answers after which the rule allows the same request again (429,
	// 503, 504).
	Reply     string
	Retryable bool
	Stream    int // writes and frames
	Bytes     int // write-end
	Frame     int // frames: the frame's number in the case
	// Media lists, for a write, the frames whose canaries the sink found in
	// the bytes written.
	Media []Origin
	// FromSink marks a write the rapid suite saw at its Sink, where it sees
	// bytes, not leases. Such a write is judged by the media it carries
	// (P7) and by when it lands (P1): a bot may still flush what it
	// captured inside the recording after Stop was asked, before it
	// reports. The model checker's writes are leases on the real gate.
	FromSink bool
	Label    string // attempts: the bot event; introspect: "begin"/"end"
	// ClientContext is the request's (and its reply's) clientContext, as
	// the rapid suite's Updater saw it; the model checker leaves it empty.
	ClientContext string
	// Thread tells apart attempts that run at once (the model checker's
	// threads); the rapid suite, which cannot tell, uses 0 and marks
	// concurrent attempts instead.
	Thread int
	// background marks a request (and its reply) the rapid suite saw come
	// from a goroutine outside any bot call: the bot's own timer or
	// goroutine, or the machine's (a confirmation deadline's failed).
	background bool
	// final marks a reply after which the same request must never be
	// sent again: 403 8506 (not a compliance-recording call) and a
	// terminated call (404).
	final bool
	// undecided marks an error reply that says nothing of what Graph did
	// with the request (a timeout, a 5xx other than 503/504): a new
	// recording attempt (a new clientContext) may follow it.
	undecided bool
}

// Origin is where persisted media came from: a frame the suite sent,
// traced by the canary it carried.
type Origin struct {
	Frame  int // the frame's number in the case
	Stream int // the stream it arrived on
	At     int // the number of the event at which it arrived
	// Interval is the confirmed recording interval it arrived in (1, 2,
	// ...); 0 if it arrived outside any.
	Interval int
	// Phase says, for a person, what the world was when it arrived.
	Phase string
}

// String is a short, readable form, as counterexamples print it.
func (e Event) String() string {
	var b strings.Builder
	b.WriteString(eventNames[e.Kind])
	switch e.Kind {
	case EvRequest:
		fmt.Fprintf(&b, "(%s)", e.Status)
	case EvReply:
		fmt.Fprintf(&b, "(%s: %s)", e.Status, e.replyText())
	case EvUpdate:
		fmt.Fprintf(&b, "(%s)", e.Outcome)
	case EvWriteBegin:
		fmt.Fprintf(&b, "(stream %d", e.Stream)
		for _, o := range e.Media {
			fmt.Fprintf(&b, ", frame %d", o.Frame)
		}
		b.WriteString(")")
	case EvWriteEnd:
		fmt.Fprintf(&b, "(stream %d)", e.Stream)
	case EvFrame:
		fmt.Fprintf(&b, "(frame %d on stream %d)", e.Frame, e.Stream)
	case EvAttempt, EvIntrospect, EvQuiet, EvReturned:
		fmt.Fprintf(&b, "(%s)", e.Label)
	}
	return b.String()
}

func (e Event) replyText() string {
	if e.Reply != "" {
		return e.Reply
	}
	return e.Outcome.String()
}

// World is what the invariants need to know of the past: it is updated
// event by event, and every invariant is checked on every event against
// the world just before it.
type World struct {
	Confirmed            bool           // the latest recording request is confirmed (reply or update)
	LastRecordingOutcome Outcome        // of the latest recording request
	Reported             bool           // notRecording or failed sent since the latest recording request
	LastReport           graph.Status   // the status of the latest notRecording or failed sent
	Ended                bool           // the call ended (CallEnded was delivered)
	InFlight             int            // requests sent and not yet answered
	InFlightStatus       graph.Status   // the status of the latest of them
	Writing              int            // writes under way: begun, not yet ended
	UnflushedWrites      bool           // a write ended since the recording-ended hook last flushed
	RequestsThisAttempt  map[int]int    // per thread of events
	LastReply            map[int]Event  // per thread: the latest reply in this attempt
	AttemptLabel         map[int]string // per thread: the attempt under way
	Introspecting        bool           // the bot's Introspect runs: no request may be sent
	Concurrent           bool           // another attempt runs alongside: requests cannot be told apart
	Persisted            int            // bytes
	Interval             int            // confirmed recording intervals so far; the current one while Confirmed
	StopAsked            string         // "Stop" or "Fail" once the bot was asked to, until a new recording request

	// EndedReturned: the bot's CallEnded returned (the rapid suite's sink
	// writes count as after the end of the call from then on).
	EndedReturned bool
	// StopReturned: the Stop or Fail that StopAsked names has returned.
	StopReturned bool

	everRequested  bool
	confirmedAtEnd bool
	// refusedBy is the answer that refused the latest recording request
	// (failed, 8506, a terminated call), sent by refusedThread, until that
	// thread is next asked to Start: P3. (One slot, not one per thread:
	// the key of the model checker's states stays cheap.)
	refusedBy     string
	refusedThread int
	// undecidedBy is an answer to the latest recording request that
	// decided nothing (a timeout, a 500: Event.undecided), from
	// undecidedThread: a new attempt may follow it (a compliance bot's
	// Start loop) until a Stop, Fail or CallEnded is asked, which makes it
	// a refusal (refusedBy): a loop that goes on after the user said stop
	// reopens the recording.
	undecidedBy     string
	undecidedThread int
	// reportRefusedBy is the answer that refused the latest notRecording
	// or failed for good (8506, a terminated call: Event.final), until the
	// bot is next asked to Start, Stop or Fail: P3. A report sent again
	// after it is a duplicate (a background retrier that retries every
	// error, an outbox the next webhook pays), from any goroutine or bot
	// call, unless a Stop or Fail asked before the refusal has not sent
	// its report yet (reportsUnsent): a Stop asked while an earlier report
	// was out, or run on a goroutine of the bot's, sends its own.
	reportRefusedBy string
	// reportsUnsent counts the Stops and Fails asked whose report has not
	// been seen (up to maxStartsUnsent): each report takes one (a
	// goroutine's only once the Stop or Fail returned); a recording
	// request and CallEnded asked clear them. A final refusal while one is
	// unsent does not count (as startsUnsent for Starts).
	reportsUnsent int
	// startsUnsent counts the Starts asked whose recording request has not
	// been seen (up to maxStartsUnsent): each recording request takes one;
	// a confirmed recording, a report, and a Stop, Fail or CallEnded asked
	// clear them (a Start asked before those has nothing left to send). A
	// bot that runs Start on a goroutine of its own sends a Start's
	// request after the handler returned, even after an earlier request
	// was refused: that is the new attempt asked for, not the refused one
	// sent again (P3), so a refusal while a Start is unsent does not
	// count.
	startsUnsent int
	// recordingThread sent the latest recording request: its reply and
	// its updates are about that thread's attempt (the model checker's
	// replies name no thread).
	recordingThread int
	// contexts holds, per clientContext sent, its request or, once it
	// came, its reply: P10. (Nil for the model checker.)
	contexts map[string]Event
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

// Origin describes a frame arriving now: the interval it belongs to and
// the phase of the call, for P7's messages.
func (w *World) Origin(frame, stream, at int) Origin {
	o := Origin{Frame: frame, Stream: stream, At: at, Phase: w.phase()}
	if w.Confirmed && w.StopAsked == "" && !w.Ended {
		o.Interval = w.Interval
	}
	return o
}

func (w *World) phase() string {
	switch {
	case w.Ended:
		return "after the call ended"
	case w.StopAsked != "":
		return "after the bot was asked to " + w.StopAsked
	case w.Reported:
		return fmt.Sprintf("after %s was sent", w.LastReport)
	case w.Confirmed:
		return fmt.Sprintf("inside confirmed recording interval %d", w.Interval)
	case w.InFlight > 0 && w.InFlightStatus == graph.StatusRecording:
		return "while the recording request was in flight, before Graph's reply"
	case w.LastRecordingOutcome == OutcomePending:
		return "while Graph's reply to recording was still pending (notStarted/running)"
	}
	return "before any recording was confirmed"
}

// writeInterval is the confirmed interval a write beginning now belongs
// to, 0 for none. A sink write while the bot handles the end of the call
// still belongs to the interval the end interrupted: the bot may finish
// and flush what it captured there (P1 says the same).
func (w *World) writeInterval(e Event) int {
	switch {
	case w.Confirmed:
		return w.Interval
	case w.Ended && e.FromSink && !w.EndedReturned && w.confirmedAtEnd && !w.Reported:
		return w.Interval
	}
	return 0
}

func (w *World) intervalName() string {
	if !w.Confirmed {
		return "no confirmed interval"
	}
	return fmt.Sprintf("interval %d", w.Interval)
}

func (w *World) confirm(ok bool) {
	if ok && !w.Confirmed {
		w.Interval++
	}
	if ok {
		w.startsUnsent = 0 // recording: a Start still unsent has nothing to send
	}
	w.Confirmed = ok
}

// refuse notes that thread's recording request was refused by an answer
// (by empty: it was not).
func (w *World) refuse(thread int, by string) {
	if by == "" && w.refusedThread != thread {
		return
	}
	w.refusedBy, w.refusedThread = by, thread
}

// noteContext keeps e as the latest request or reply that carried its
// clientContext (P10).
func (w *World) noteContext(e Event) {
	if w.contexts == nil {
		w.contexts = make(map[string]Event)
	}
	w.contexts[e.ClientContext] = e
}

func (w *World) apply(e Event) {
	switch e.Kind {
	case EvRequest:
		w.InFlight++
		w.InFlightStatus = e.Status
		if w.RequestsThisAttempt == nil {
			w.RequestsThisAttempt = make(map[int]int)
		}
		if !e.background {
			w.RequestsThisAttempt[e.Thread]++
		}
		if e.ClientContext != "" {
			w.noteContext(e)
		}
		if e.Status == graph.StatusRecording {
			w.reportRefusedBy, w.reportsUnsent = "", 0
			if w.startsUnsent > 0 {
				w.startsUnsent--
			}
			w.everRequested = true
			w.recordingThread = e.Thread
			w.Confirmed, w.Reported, w.LastRecordingOutcome, w.StopAsked = false, false, OutcomeNone, ""
		} else {
			w.Confirmed, w.Reported, w.LastReport = false, true, e.Status
			w.startsUnsent = 0
			if w.reportsUnsent > 0 && (!e.background || w.StopReturned) {
				// A bot call's report, or a goroutine's once the Stop or
				// Fail has returned (it left its report to a goroutine);
				// not a goroutine's while the Stop runs and may still send
				// its own (a retrier's, for an earlier Stop).
				w.reportsUnsent--
			}
		}
	case EvReply:
		if w.InFlight > 0 {
			w.InFlight--
		}
		if w.LastReply == nil {
			w.LastReply = make(map[int]Event)
		}
		if !e.background {
			w.LastReply[e.Thread] = e
		}
		if e.ClientContext != "" {
			w.noteContext(e)
		}
		if e.Status != graph.StatusRecording && e.final && w.reportsUnsent == 0 {
			w.reportRefusedBy = e.replyText()
		}
		if e.Status == graph.StatusRecording {
			w.undecidedBy = ""
			switch {
			case e.Outcome == OutcomeError && e.undecided:
				if w.startsUnsent == 0 {
					w.undecidedBy, w.undecidedThread = e.replyText(), w.recordingThread
				}
			case e.Outcome == OutcomeFailed || e.Outcome == OutcomeError && !e.Retryable:
				if w.startsUnsent == 0 {
					w.refuse(w.recordingThread, e.replyText())
				}
			case e.Outcome != OutcomeError:
				w.refuse(w.recordingThread, "")
			}
			w.LastRecordingOutcome = e.Outcome
			w.confirm(e.Outcome == OutcomeCompleted && !w.Reported && !w.Ended)
		}
	case EvUpdate:
		if w.LastRecordingOutcome == OutcomePending {
			if e.Outcome == OutcomeFailed {
				w.refuse(w.recordingThread, "a failed operation update")
			}
			w.LastRecordingOutcome = e.Outcome
			w.confirm(e.Outcome == OutcomeCompleted && !w.Reported && !w.Ended)
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
		if !w.Ended {
			w.confirmedAtEnd = w.Confirmed
		}
		w.Ended, w.Confirmed = true, false
	case EvReturned:
		switch strings.TrimPrefix(e.Label, "concurrent ") {
		case "callEnded":
			w.EndedReturned = true
		case "stop", "fail":
			w.StopReturned = true
		}
	case EvAttempt:
		label, concurrent := strings.CutPrefix(e.Label, "concurrent ")
		switch label {
		case "start":
			if w.refusedThread == e.Thread {
				w.refusedBy = "" // a new attempt may send recording again
			}
			w.startsUnsent = min(w.startsUnsent+1, maxStartsUnsent)
			w.reportRefusedBy, w.undecidedBy = "", ""
		case "stop":
			w.StopAsked, w.StopReturned, w.startsUnsent, w.reportRefusedBy = "Stop", false, 0, ""
			w.reportsUnsent = min(w.reportsUnsent+1, maxStartsUnsent)
		case "fail":
			w.StopAsked, w.StopReturned, w.startsUnsent, w.reportRefusedBy = "Fail", false, 0, ""
			w.reportsUnsent = min(w.reportsUnsent+1, maxStartsUnsent)
		case "callEnded":
			w.startsUnsent, w.reportsUnsent = 0, 0
		case "close":
			// A graceful shutdown stops the recording: its report is its
			// own, as a Stop's is.
			w.reportRefusedBy = ""
			w.reportsUnsent = min(w.reportsUnsent+1, maxStartsUnsent)
		}
		if (label == "stop" || label == "fail" || label == "callEnded") && w.undecidedBy != "" {
			w.refuse(w.undecidedThread, w.undecidedBy)
			w.undecidedBy = ""
		}
		if concurrent {
			w.Concurrent = true
			break
		}
		w.Concurrent = false
		delete(w.RequestsThisAttempt, e.Thread)
		delete(w.LastReply, e.Thread)
		if w.AttemptLabel == nil {
			w.AttemptLabel = make(map[int]string)
		}
		w.AttemptLabel[e.Thread] = attemptName(label)
	case EvIntrospect:
		w.Introspecting = e.Label == "begin"
	}
}

// maxStartsUnsent bounds World.startsUnsent, which the model checker's
// key holds.
const maxStartsUnsent = 3

// attemptName is the bot method an attempt label stands for.
func attemptName(label string) string {
	switch {
	case label == "start":
		return "Start"
	case label == "stop":
		return "Stop"
	case label == "fail":
		return "Fail"
	case strings.HasPrefix(label, "update"):
		return "OperationUpdate"
	case label == "callEnded":
		return "CallEnded"
	case label == "frame":
		return "Frame"
	case label == "close":
		return "Close"
	}
	return label
}
