package properties

import (
	"strings"
	"testing"

	"github.com/recgate/recgate/graph"
)

// observeAll feeds events to a fresh World and returns the IDs of the
// invariants broken, in order.
func observeAll(events ...Event) []string {
	var w World
	var ids []string
	for _, e := range events {
		for _, v := range w.Observe(e) {
			ids = append(ids, v.Invariant.ID)
		}
	}
	return ids
}

func request(s graph.Status, cc string) Event {
	return Event{Kind: EvRequest, Status: s, ClientContext: cc}
}

func replied(s graph.Status, cc string, o Outcome, text string, retryable bool) Event {
	return Event{Kind: EvReply, Status: s, ClientContext: cc, Outcome: o, Reply: text, Retryable: retryable}
}

func attempt(label string) Event { return Event{Kind: EvAttempt, Label: label} }

func returned(label string) Event { return Event{Kind: EvReturned, Label: label} }

// finalReply marks a reply as one after which the request is never sent
// again (8506, a terminated call).
func finalReply(e Event) Event {
	e.final = true
	return e
}

// fromGoroutine marks e as sent by a goroutine outside any bot call.
func fromGoroutine(e Event) Event {
	e.background = true
	return e
}

// P3: a recording request after a refusal needs a new Start in between,
// whichever event (or goroutine) sends it; 429/503/504 may be retried.
func TestP3RefusalNeedsANewStart(t *testing.T) {
	rec := graph.StatusRecording
	cases := []struct {
		name   string
		events []Event
		want   string
	}{
		{"again during an update, after failed", []Event{attempt("start"), request(rec, "a"), replied(rec, "a", OutcomeFailed, "", false),
			attempt("update:failed"), request(rec, "b")}, "P3"},
		{"again after 8506, from the bot's own goroutine", []Event{attempt("start"), request(rec, "a"), replied(rec, "a", OutcomeError, "403 8506", false),
			attempt("frame"), request(rec, "b")}, "P3"},
		{"again after a failed notification", []Event{attempt("start"), request(rec, "a"), replied(rec, "a", OutcomePending, "", false),
			attempt("update:failed"), {Kind: EvUpdate, Outcome: OutcomeFailed}, request(rec, "b")}, "P3"},
		{"a new Start after failed", []Event{attempt("start"), request(rec, "a"), replied(rec, "a", OutcomeFailed, "", false),
			attempt("start"), request(rec, "b")}, ""},
		{"again after 429, later", []Event{attempt("start"), request(rec, "a"), replied(rec, "a", OutcomeError, "429", true),
			attempt("frame"), request(rec, "b")}, ""},
		// One handler that reports failed (say, on a storage fault), has
		// it accepted, and starts a new recording: two attempts, not one
		// sent twice (internal/roundfour's FailAndRestart).
		{"failed accepted, then a new recording in the same handler", []Event{attempt("start"), request(rec, "a"), replied(rec, "a", OutcomeCompleted, "", false),
			attempt("frame"), request(graph.StatusFailed, "b"), replied(graph.StatusFailed, "b", OutcomeCompleted, "", false), request(rec, "c")}, ""},
		{"failed not yet accepted, then recording in the same handler", []Event{attempt("start"), request(rec, "a"), replied(rec, "a", OutcomeCompleted, "", false),
			attempt("frame"), request(graph.StatusFailed, "b"), replied(graph.StatusFailed, "b", OutcomeError, "500", false), request(rec, "c")}, "P3"},
		{"Stop reports, then records again in the same handler", []Event{attempt("start"), request(rec, "a"), replied(rec, "a", OutcomeCompleted, "", false),
			attempt("stop"), request(graph.StatusNotRecording, "b"), replied(graph.StatusNotRecording, "b", OutcomeCompleted, "", false), request(rec, "c")}, "P3"},
		{"recording twice in one handler", []Event{attempt("frame"), request(rec, "a"), replied(rec, "a", OutcomeCompleted, "", false), request(rec, "b")}, "P3"},
		// A Stop whose report failed leaves the machine stopping; the next
		// Start finishes that stop (notRecording, accepted) and asks to
		// record: two attempts in one Start, not one sent twice, though
		// the earlier Stop's request lingers in StopAsked
		// (internal/roundseven's ReinviteStopsFirst).
		{"a Start that first finishes a failed Stop", []Event{attempt("start"), request(rec, "a"), replied(rec, "a", OutcomeCompleted, "", false),
			attempt("stop"), request(graph.StatusNotRecording, "b"), replied(graph.StatusNotRecording, "b", OutcomeError, "500", false),
			attempt("start"), request(graph.StatusNotRecording, "c"), replied(graph.StatusNotRecording, "c", OutcomeCompleted, "", false), request(rec, "d")}, ""},
		{"a Fail that reports, then records", []Event{attempt("start"), request(rec, "a"), replied(rec, "a", OutcomeCompleted, "", false),
			attempt("fail"), request(graph.StatusFailed, "b"), replied(graph.StatusFailed, "b", OutcomeCompleted, "", false), request(rec, "c")}, "P3"},
		// fsm's Stop says to call it again when the report failed; a Stop
		// handler that does so sends the report again (internal/
		// roundtwelve's StopRetriesReport). Once Graph accepted a report,
		// another one is a duplicate (round three's DoubleReport).
		{"a report sent again after it timed out", []Event{attempt("start"), request(rec, "a"), replied(rec, "a", OutcomeCompleted, "", false),
			attempt("stop"), request(graph.StatusNotRecording, "b"), replied(graph.StatusNotRecording, "b", OutcomeError, "timeout", false),
			request(graph.StatusNotRecording, "c")}, ""},
		{"a report sent again after a failed operation", []Event{attempt("start"), request(rec, "a"), replied(rec, "a", OutcomeCompleted, "", false),
			attempt("fail"), request(graph.StatusFailed, "b"), replied(graph.StatusFailed, "b", OutcomeFailed, "", false),
			request(graph.StatusFailed, "c")}, ""},
		{"a report sent again after Graph accepted it", []Event{attempt("start"), request(rec, "a"), replied(rec, "a", OutcomeCompleted, "", false),
			attempt("stop"), request(graph.StatusNotRecording, "b"), replied(graph.StatusNotRecording, "b", OutcomeCompleted, "", false),
			request(graph.StatusNotRecording, "c")}, "P3"},
		// 8506 and a terminated call are final: never sent again.
		{"a report sent again after 8506", []Event{attempt("start"), request(rec, "a"), replied(rec, "a", OutcomeCompleted, "", false),
			attempt("stop"), request(graph.StatusNotRecording, "b"), finalReply(replied(graph.StatusNotRecording, "b", OutcomeError, "403 8506", false)),
			request(graph.StatusNotRecording, "c")}, "P3"},
		{"a report sent again after the call was terminated", []Event{attempt("start"), request(rec, "a"), replied(rec, "a", OutcomeCompleted, "", false),
			attempt("stop"), request(graph.StatusNotRecording, "b"), finalReply(replied(graph.StatusNotRecording, "b", OutcomeError, "404 8501", false)),
			request(graph.StatusNotRecording, "c")}, "P3"},
		// A Start that sent nothing (the machine was recording) leaves no
		// credit behind once a Stop was asked: a later refusal counts.
		{"an unsent Start's credit does not outlive a Stop", []Event{attempt("start"), request(rec, "a"), replied(rec, "a", OutcomeCompleted, "", false),
			attempt("start"), attempt("stop"), request(graph.StatusNotRecording, "b"), replied(graph.StatusNotRecording, "b", OutcomeCompleted, "", false),
			attempt("start"), request(rec, "c"), replied(rec, "c", OutcomeFailed, "", false), fromGoroutine(request(rec, "d"))}, "P3"},
		// A bot that runs Start on a goroutine of its own: the second
		// Start was asked while the first's request was out, and sends
		// once that request is answered, refused or not (internal/
		// roundten's AsyncStart failed P3 here under -race). Once only:
		// the refusal of that request needs a Start again.
		{"a Start asked while the refused request was out", []Event{attempt("start"), request(rec, "a"), attempt("start"),
			replied(rec, "a", OutcomeError, "403 8506", false), request(rec, "b")}, ""},
		{"a Start asked while out excuses one request, not two", []Event{attempt("start"), request(rec, "a"), attempt("start"),
			replied(rec, "a", OutcomeError, "403 8506", false), request(rec, "b"), replied(rec, "b", OutcomeFailed, "", false),
			attempt("frame"), request(rec, "c")}, "P3"},
		{"two Starts asked before either sent", []Event{attempt("start"), attempt("start"), fromGoroutine(request(rec, "a")),
			replied(rec, "a", OutcomeError, "403 8506", false), fromGoroutine(request(rec, "b"))}, ""},
		{"an unsent Start is moot once recording is confirmed", []Event{attempt("start"), attempt("start"), request(rec, "a"),
			replied(rec, "a", OutcomeCompleted, "", false), attempt("frame"), request(graph.StatusFailed, "b"),
			replied(graph.StatusFailed, "b", OutcomeError, "500", false), request(rec, "c"), replied(rec, "c", OutcomeFailed, "", false),
			attempt("frame"), request(rec, "d")}, "P3,P3"},
	}
	for _, c := range cases {
		got := strings.Join(observeAll(c.events...), ",")
		if got != c.want {
			t.Errorf("%s: broken %q, want %q", c.name, got, c.want)
		}
	}
}

// P10: a clientContext is never sent twice, except the same request again
// after 429/503/504.
func TestP10UniqueClientContext(t *testing.T) {
	rec, not := graph.StatusRecording, graph.StatusNotRecording
	cases := []struct {
		name   string
		events []Event
		want   string
	}{
		{"reused by the report", []Event{attempt("start"), request(rec, "x"), replied(rec, "x", OutcomeCompleted, "", false),
			attempt("stop"), request(not, "x")}, "P10"},
		{"the same request after 429", []Event{attempt("start"), request(rec, "y"), replied(rec, "y", OutcomeError, "429", true),
			request(rec, "y")}, ""},
		{"another request after 429", []Event{attempt("stop"), request(not, "y"), replied(not, "y", OutcomeError, "429", true),
			attempt("start"), request(rec, "y")}, "P10"},
		{"distinct values", []Event{attempt("start"), request(rec, "p"), replied(rec, "p", OutcomeCompleted, "", false),
			attempt("stop"), request(not, "q")}, ""},
		{"a reply with no request before it", []Event{replied(rec, "z", OutcomeCompleted, "", false)}, ""},
	}
	for _, c := range cases {
		got := strings.Join(observeAll(c.events...), ",")
		if got != c.want {
			t.Errorf("%s: broken %q, want %q", c.name, got, c.want)
		}
	}
}

// P5: a request sent by no bot call (a machine's timer) while the bot's
// CallEnded still runs raced with it; after CallEnded returned, any
// request breaks P5, and so does one from the bot's own CallEnded.
func TestP5RequestRacingCallEnded(t *testing.T) {
	not := graph.StatusNotRecording
	timer := func(s graph.Status, cc string) Event {
		e := request(s, cc)
		e.background = true
		return e
	}
	cases := []struct {
		name   string
		events []Event
		want   string
	}{
		{"a timer's request while CallEnded runs", []Event{{Kind: EvCallEnded}, attempt("callEnded"), timer(graph.StatusFailed, "a")}, ""},
		{"a timer's request after CallEnded returned", []Event{{Kind: EvCallEnded}, attempt("callEnded"), {Kind: EvReturned, Label: "callEnded"}, timer(graph.StatusFailed, "a")}, "P5"},
		{"the bot's CallEnded reports", []Event{{Kind: EvCallEnded}, attempt("callEnded"), request(not, "b")}, "P5"},
		// A Start the bot runs on its own goroutine may open the gate
		// while CallEnded is on its way (internal/roundten's AsyncStart
		// under -race); CallEnded must have closed it by the time it
		// returns, and a bot call may never open it after the end.
		{"the bot's goroutine opens while CallEnded runs", []Event{{Kind: EvCallEnded}, attempt("callEnded"), {Kind: EvGateOpen, background: true}}, ""},
		{"the bot's goroutine opens after CallEnded returned", []Event{{Kind: EvCallEnded}, attempt("callEnded"), {Kind: EvReturned, Label: "callEnded"}, {Kind: EvGateOpen, background: true}}, "P5"},
		{"a bot call opens while CallEnded runs", []Event{{Kind: EvCallEnded}, attempt("callEnded"), {Kind: EvGateOpen}}, "P5"},
	}
	for _, c := range cases {
		if got := strings.Join(observeAll(c.events...), ","); got != c.want {
			t.Errorf("%s: broken %q, want %q", c.name, got, c.want)
		}
	}
}

// P9: the gate may not open once the bot was asked to Stop or Fail. A
// Start the bot runs on its own goroutine may open it while the Stop is
// on its way (internal/roundten's AsyncStart under -race); once the Stop
// returned, and from any bot call, the opening counts.
func TestP9GateOpenRacingStop(t *testing.T) {
	rec := graph.StatusRecording
	confirmed := []Event{attempt("start"), request(rec, "a"), replied(rec, "a", OutcomeCompleted, "", false)}
	cases := []struct {
		name   string
		events []Event
		want   string
	}{
		{"the bot's goroutine opens while Stop runs", append(confirmed[:3:3], attempt("stop"), Event{Kind: EvGateOpen, background: true}), ""},
		{"the bot's goroutine opens while Fail runs", append(confirmed[:3:3], attempt("fail"), Event{Kind: EvGateOpen, background: true}), ""},
		{"the bot's goroutine opens after Stop returned", append(confirmed[:3:3], attempt("stop"), Event{Kind: EvReturned, Label: "stop"}, Event{Kind: EvGateOpen, background: true}), "P9"},
		{"a bot call opens while Stop runs", append(confirmed[:3:3], attempt("stop"), Event{Kind: EvGateOpen}), "P9"},
		{"a second Stop is on its way again", append(confirmed[:3:3], attempt("stop"), Event{Kind: EvReturned, Label: "stop"}, attempt("stop"), Event{Kind: EvGateOpen, background: true}), ""},
	}
	for _, c := range cases {
		if got := strings.Join(observeAll(c.events...), ","); got != c.want {
			t.Errorf("%s: broken %q, want %q", c.name, got, c.want)
		}
	}
}

// P3: a report Graph refused for good (8506, a terminated call) is not
// sent again, from any goroutine, until the bot is next asked to Start,
// Stop or Fail; after a timeout or a failed operation it may be.
func TestP3ReportRefusedForGood(t *testing.T) {
	rec, not := graph.StatusRecording, graph.StatusNotRecording
	recording := []Event{attempt("start"), request(rec, "a"), replied(rec, "a", OutcomeCompleted, "", false)}
	stopped := func(o Outcome, text string, final bool) []Event {
		r := replied(not, "b", o, text, false)
		if final {
			r = finalReply(r)
		}
		return append(recording[:3:3], attempt("stop"), request(not, "b"), r)
	}
	cases := []struct {
		name   string
		events []Event
		want   string
	}{
		{"a retrier's report after 8506", append(stopped(OutcomeError, "403 8506", true), attempt("frame"), fromGoroutine(request(not, "c"))), "P3"},
		{"a retrier's report after the call was gone", append(stopped(OutcomeError, "404 8501", true), fromGoroutine(request(not, "c"))), "P3"},
		{"a retrier's report after a timeout", append(stopped(OutcomeError, "a timeout", false), attempt("frame"), fromGoroutine(request(not, "c"))), ""},
		{"a retrier's report after a failed operation", append(stopped(OutcomeFailed, "", false), fromGoroutine(request(not, "c"))), ""},
		{"the user asks to Stop again after 8506", append(stopped(OutcomeError, "403 8506", true), attempt("stop"), request(not, "c")), ""},
		{"a new recording after 8506", append(stopped(OutcomeError, "403 8506", true), attempt("start"), request(rec, "c")), ""},
		{"an update's report after 8506", append(stopped(OutcomeError, "403 8506", true), attempt("update:completed"), request(not, "c")), "P3"},
		{"a Stop's report after the retrier's got 8506", append(recording[:3:3], attempt("stop"), fromGoroutine(request(not, "b")), fromGoroutine(finalReply(replied(not, "b", OutcomeError, "403 8506", false))), request(not, "c")), ""},
		// Stop run on a goroutine (the webhook answers at once): its report
		// is the goroutine's; an owed report the next webhook pays after
		// it got 8506 is a duplicate (round fifteen's OwedReportAnyError),
		// a second Stop's own report, asked before the refusal, is not.
		{"an update pays a report owed after the goroutine's got 8506", append(recording[:3:3], attempt("stop"), returned("stop"), fromGoroutine(request(not, "b")), fromGoroutine(finalReply(replied(not, "b", OutcomeError, "403 8506", false))), attempt("update:completed"), request(not, "c")), "P3"},
		{"a second Stop's goroutine reports after the first's got 404", append(recording[:3:3], attempt("stop"), returned("stop"), attempt("stop"), returned("stop"), fromGoroutine(request(not, "b")), fromGoroutine(finalReply(replied(not, "b", OutcomeError, "404 8501", false))), fromGoroutine(request(not, "c"))), ""},
		{"a third report after both Stops' reports", append(recording[:3:3], attempt("stop"), returned("stop"), attempt("stop"), returned("stop"), fromGoroutine(request(not, "b")), fromGoroutine(replied(not, "b", OutcomeError, "a timeout", false)), fromGoroutine(request(not, "c")), fromGoroutine(finalReply(replied(not, "c", OutcomeError, "404 8501", false))), fromGoroutine(request(not, "d"))), "P3"},
	}
	for _, c := range cases {
		if got := strings.Join(observeAll(c.events...), ","); got != c.want {
			t.Errorf("%s: broken %q, want %q", c.name, got, c.want)
		}
	}
}

// P3: after an answer that decided nothing (a timeout, a 500), a bot may
// begin a new recording attempt with a new clientContext without a new
// Start (a compliance bot's Start loop); after a refusal it may not, and
// the same request sent again is still a second request.
func TestP3NewAttemptAfterAnUndecidedAnswer(t *testing.T) {
	rec := graph.StatusRecording
	undecided := func(e Event) Event { e.undecided = true; return e }
	cases := []struct {
		name   string
		events []Event
		want   string
	}{
		{"a new attempt after a timeout", []Event{attempt("start"), request(rec, "a"),
			undecided(replied(rec, "a", OutcomeError, "a timeout", false)), request(rec, "b")}, ""},
		{"a new attempt after a 500", []Event{attempt("start"), request(rec, "a"),
			undecided(replied(rec, "a", OutcomeError, "500", false)), request(rec, "b")}, ""},
		{"the same request after a timeout", []Event{attempt("start"), request(rec, "a"),
			undecided(replied(rec, "a", OutcomeError, "a timeout", false)), request(rec, "a")}, "P3,P10"},
		{"a new attempt after 8506", []Event{attempt("start"), request(rec, "a"),
			finalReply(replied(rec, "a", OutcomeError, "403 8506", false)), request(rec, "b")}, "P3"},
		{"a new attempt after a failed operation", []Event{attempt("start"), request(rec, "a"),
			replied(rec, "a", OutcomeFailed, "", false), request(rec, "b")}, "P3"},
		{"a loop that goes on after the user said stop", []Event{attempt("start"), request(rec, "a"),
			undecided(replied(rec, "a", OutcomeError, "a timeout", false)), attempt("stop"),
			fromGoroutine(request(rec, "b"))}, "P3"},
		{"a new Start after the Stop", []Event{attempt("start"), request(rec, "a"),
			undecided(replied(rec, "a", OutcomeError, "a timeout", false)), attempt("stop"),
			attempt("start"), request(rec, "b")}, ""},
	}
	for _, c := range cases {
		if got := strings.Join(observeAll(c.events...), ","); got != c.want {
			t.Errorf("%s: broken %q, want %q", c.name, got, c.want)
		}
	}
}

// P3: Close is an attempt of its own. A graceful shutdown's report after
// a Stop whose report Graph refused for good is Close's one report, not
// the refused one sent again.
func TestP3CloseReportsOnce(t *testing.T) {
	rec, not := graph.StatusRecording, graph.StatusNotRecording
	refused := []Event{attempt("start"), request(rec, "a"), replied(rec, "a", OutcomeCompleted, "", false),
		attempt("stop"), request(not, "b"), finalReply(replied(not, "b", OutcomeError, "403 8506", false))}
	cases := []struct {
		name   string
		events []Event
		want   string
	}{
		{"Close's one report", append(refused[:6:6], attempt("close"), request(not, "c")), ""},
		{"Close reports twice", append(refused[:6:6], attempt("close"), request(not, "c"), replied(not, "c", OutcomeCompleted, "", false), request(not, "d")), "P3"},
		{"a retrier's report before Close", append(refused[:6:6], attempt("frame"), fromGoroutine(request(not, "c"))), "P3"},
	}
	for _, c := range cases {
		if got := strings.Join(observeAll(c.events...), ","); got != c.want {
			t.Errorf("%s: broken %q, want %q", c.name, got, c.want)
		}
	}
}

// P3: introspection sends nothing; a request a goroutine of the bot's
// sends meanwhile (a Start run in the background) is not introspection's.
func TestP3Introspection(t *testing.T) {
	rec := graph.StatusRecording
	begin, end := Event{Kind: EvIntrospect, Label: "begin"}, Event{Kind: EvIntrospect, Label: "end"}
	cases := []struct {
		name   string
		events []Event
		want   string
	}{
		{"a request from introspection", []Event{begin, request(rec, "a"), end}, "P3"},
		{"a background Start's request meanwhile", []Event{attempt("start"), begin, fromGoroutine(request(rec, "a")), end}, ""},
	}
	for _, c := range cases {
		if got := strings.Join(observeAll(c.events...), ","); got != c.want {
			t.Errorf("%s: broken %q, want %q", c.name, got, c.want)
		}
	}
}
