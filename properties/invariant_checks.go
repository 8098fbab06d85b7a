package properties

import (
	"fmt"

	"github.com/recgate/recgate/graph"
)

// The checks of the invariants (see P1..P10): each is run on every
// observed event, on the world as it stood before the event, and returns
// what the event broke, or "".

func checkP1(w *World, e Event) string {
	// A write is judged by its lease: taken while the recording was
	// confirmed and the call alive, and over before anything was
	// reported. (A write under way when the call ends may finish:
	// nothing can stop bytes already on their way to disk, and
	// CallEnded waits for them.)
	switch e.Kind {
	case EvWriteBegin:
		switch {
		case w.Ended && e.FromSink && !w.EndedReturned:
			// The bot is being told the call ended and may still be
			// finishing writes it began under its lease; what it
			// writes must still be media of the confirmed interval
			// (P7), and nothing may begin once CallEnded returned.
			if w.writeInterval(e) != 0 {
				return ""
			}
			return fmt.Sprintf("stream %d began persisting, while the bot handled the end of the call, without a confirmed recording", e.Stream)
		case w.Ended:
			return fmt.Sprintf("stream %d began persisting after the call ended", e.Stream)
		case w.Reported:
			return fmt.Sprintf("stream %d began persisting after %s was sent", e.Stream, w.LastReport)
		case w.Confirmed:
			return ""
		case w.InFlight > 0 && w.InFlightStatus == graph.StatusRecording:
			return fmt.Sprintf("stream %d began persisting while the recording request was still out, before Graph replied", e.Stream)
		case w.LastRecordingOutcome == OutcomePending:
			return fmt.Sprintf("stream %d began persisting while Graph's reply to recording was only pending (notStarted/running)", e.Stream)
		case w.LastRecordingOutcome == OutcomeNone && !w.everRequested:
			return fmt.Sprintf("stream %d began persisting before any recording request was sent", e.Stream)
		default:
			return fmt.Sprintf("stream %d began persisting without a completed reply to the latest recording request (it got %s)", e.Stream, w.LastRecordingOutcome)
		}
	case EvWriteEnd:
		if w.Reported && e.Bytes > 0 {
			return fmt.Sprintf("stream %d persisted after %s was sent", e.Stream, w.LastReport)
		}
		if w.Ended && w.EndedReturned && e.Bytes > 0 {
			// CallEnded must wait for the writes under way, as Stop
			// does before it reports: once it returned, the bot has
			// said the recording is over.
			return fmt.Sprintf("stream %d persisted after the call ended and the bot's CallEnded had returned (a write begun before the hang-up that CallEnded did not wait for)", e.Stream)
		}
	}
	return ""
}

func checkP2(w *World, e Event) string {
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
}

func checkP3(w *World, e Event) string {
	if e.Kind != EvRequest {
		return ""
	}
	if w.Introspecting && !e.background {
		// (A request from a goroutine outside every bot call, a Start
		// the bot runs on its own goroutine, is not the introspection's:
		// it may land while the suite introspects.)
		return fmt.Sprintf("%s sent during introspection", e.Status)
	}
	if e.Status == graph.StatusRecording && w.refusedBy != "" && w.refusedThread == e.Thread && !w.Concurrent {
		// Whatever event or goroutine sends it: a recording request
		// after a refusal, with no new Start in between, is the
		// refused attempt sent again. (Beside a concurrent event the
		// suite cannot tell whose request it is.)
		return fmt.Sprintf("recording sent again after the last recording request got %s, without a new Start: only 429/503/504 may be retried", w.refusedBy)
	}
	if e.Status != graph.StatusRecording && w.reportRefusedBy != "" && !w.Concurrent {
		// From a goroutine outside any bot call (a retrier of the bot's
		// own, on a context of its own) or from a bot call (an owed
		// report the next webhook pays): Graph refused the last report
		// for good, and nobody asked the bot to Stop, Fail or Start
		// since. (A Stop asked before that refusal whose report was not
		// yet sent sends its own: World.reportsUnsent.)
		return fmt.Sprintf("%s sent again after the last report got %s, without a new Start, Stop or Fail: only an answer that is not final (429, a 5xx, a timeout, a failed operation) allows a report again", e.Status, w.reportRefusedBy)
	}
	if w.Concurrent || e.background || w.RequestsThisAttempt[e.Thread] == 0 {
		return ""
	}
	prev, replied := w.LastReply[e.Thread]
	if label := w.AttemptLabel[e.Thread]; replied && prev.Status != graph.StatusRecording && e.Status == graph.StatusRecording && prev.Outcome == OutcomeCompleted && label != "Stop" && label != "Fail" {
		// The notRecording or failed report Graph accepted ended
		// that attempt: a recording request after it is a new
		// attempt (a bot that fails on a storage fault and starts
		// again in the same handler, or a Start that first
		// finishes a Stop whose report had failed), not the same
		// one sent twice. Not in a Stop or Fail: recording again
		// there is the stop undone. (The attempt's own label, not
		// StopAsked, which lingers from an earlier Stop until the
		// next recording request.)
		return ""
	}
	if replied && prev.undecided && prev.Status == graph.StatusRecording && e.Status == graph.StatusRecording && e.ClientContext != prev.ClientContext {
		// A new recording attempt after one whose answer decided nothing
		// (a timeout, a 500): a compliance bot's Start loop. The same
		// request sent again is P10's to judge.
		return ""
	}
	if replied && prev.Retryable && prev.Status == e.Status {
		return "" // a retry of the same request after 429/503/504: the rule allows it
	}
	if replied && prev.Status != graph.StatusRecording && e.Status != graph.StatusRecording && (prev.Outcome == OutcomeFailed || prev.Outcome == OutcomeError && !prev.final) {
		// A report sent again because the last one failed (a timeout, a
		// 5xx, a failed operation): fsm's Stop says to call it again, and
		// Graph must hear that recording ended (R2). A report Graph
		// accepted, or refused for good (8506, a terminated call), makes
		// another one a duplicate.
		return ""
	}
	after := "before the first was answered"
	if replied {
		after = fmt.Sprintf("after the %s request got %s", prev.Status, prev.replyText())
	}
	return fmt.Sprintf("a second request (%s) in one %s, %s", e.Status, w.AttemptLabel[e.Thread], after)
}

func checkP4(w *World, e Event) string {
	if w.LastRecordingOutcome != OutcomePending || w.Confirmed {
		return ""
	}
	switch e.Kind {
	case EvGateOpen:
		return "the gate opened on a pending reply"
	case EvWriteBegin:
		// Persisting shows an open gate, or a write without one (another
		// call's frame written here under that call's lease).
		return fmt.Sprintf("stream %d began persisting while Graph's reply to recording was only pending: the gate was open on it, or the write took no lease of this call's", e.Stream)
	}
	return ""
}

func checkP5(w *World, e Event) string {
	if !w.Ended {
		return ""
	}
	switch e.Kind {
	case EvGateOpen:
		if e.background && !w.EndedReturned {
			// Opened by a goroutine outside any bot call (a Start run
			// on the bot's own goroutine, whose completed came) while
			// CallEnded was still running: the bot could not yet know,
			// and CallEnded closes it. A bot that reports its gate
			// (GateReporter) is looked at again once CallEnded has
			// returned; any write under a gate left open is judged.
			return ""
		}
		return "the gate was open after the call ended"
	case EvRequest:
		if e.background && !w.EndedReturned {
			// Sent by no bot call (a machine's timer) while the
			// bot's CallEnded was still running: the two raced,
			// and the bot could not yet know. Once CallEnded has
			// returned, every request counts.
			return ""
		}
		return fmt.Sprintf("%s sent after the call ended", e.Status)
	}
	return ""
}

func checkP6(w *World, e Event) string {
	if e.Kind == EvRequest && w.InFlight > 0 {
		return fmt.Sprintf("%s sent while %s was still in flight, so it can land first", e.Status, w.InFlightStatus)
	}
	return ""
}

func checkP7(w *World, e Event) string {
	if e.Kind != EvWriteBegin {
		return ""
	}
	for _, o := range e.Media {
		switch {
		case o.Interval == 0:
			return fmt.Sprintf("stream %d persisted frame %d, which arrived on stream %d at event %d %s", e.Stream, o.Frame, o.Stream, o.At, o.Phase)
		case o.Interval != w.writeInterval(e):
			return fmt.Sprintf("stream %d persisted frame %d, which arrived on stream %d at event %d in an earlier recording interval (%d; this write is in %s)", e.Stream, o.Frame, o.Stream, o.At, o.Interval, w.intervalName())
		}
	}
	return ""
}

func checkP10(w *World, e Event) string {
	if e.Kind != EvRequest || e.ClientContext == "" {
		return "" // the model checker's requests carry none: its machine makes them
	}
	prev, seen := w.contexts[e.ClientContext]
	switch {
	case !seen:
		return ""
	case prev.Kind == EvReply && prev.Retryable && prev.Status == e.Status:
		return "" // the same request again after 429/503/504
	case prev.Kind == EvRequest:
		return fmt.Sprintf("%s sent with clientContext %q while the %s request that carried it was still out", e.Status, e.ClientContext, prev.Status)
	}
	return fmt.Sprintf("%s sent with clientContext %q, which the earlier %s request carried (it got %s)", e.Status, e.ClientContext, prev.Status, prev.replyText())
}

func checkP9(w *World, e Event) string {
	if w.StopAsked == "" {
		return ""
	}
	switch {
	case e.Kind == EvWriteBegin && !e.FromSink:
		return fmt.Sprintf("stream %d took a lease and began persisting after the bot was asked to %s", e.Stream, w.StopAsked)
	case e.Kind == EvGateOpen && e.background && !w.StopReturned:
		// Opened by a goroutine outside any bot call (a Start run on the
		// bot's own goroutine, whose completed came) while the Stop was
		// on its way: the bot could not yet know, and Stop closes it. A
		// bot that reports its gate (GateReporter) is looked at again
		// once Stop has returned; any lease taken meanwhile is judged.
		return ""
	case e.Kind == EvGateOpen:
		return fmt.Sprintf("the gate opened after the bot was asked to %s", w.StopAsked)
	}
	return ""
}
