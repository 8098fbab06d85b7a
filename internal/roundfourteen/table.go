package roundfourteen

import (
	"github.com/recgate/recgate/internal/botrounds"
)

// The table's rows and pseudo-invariants are botrounds', shared by every
// round.
const (
	Hung         = botrounds.Hung
	Interference = botrounds.Interference
	Vacuous      = botrounds.Vacuous
)

type (
	// Bug is one buggy wiring (see botrounds.Bug).
	Bug = botrounds.Bug
	// CorrectBot is a wiring that keeps the rule (see botrounds.CorrectBot).
	CorrectBot = botrounds.CorrectBot
)

// Bugs lists the buggy bots of this round.
func Bugs() []Bug {
	return []Bug{
		{Name: "HangupStopsDetached", Rule: "protocol", New: NewHangupStopsDetached, Catches: []string{"P5"},
			Mistake: "every Graph request sent by one sender goroutine on a context of its own (a per-request deadline on the bot's lifetime context: jobs carry no context, \"don't store contexts in structs\"); CallEnded first stops a recording in progress, \"to clear Graph's indicator before we leave\": notRecording is sent after the call ended while the handler waits for it (0/10 while the suite took the sender's request for no call's (background: outside a bot call, and !madeFor(ctx)), and P5 exempted such a request while CallEnded ran, although CallEnded was waiting for it; 10/10 since the suite took this round's patch (a request from outside any bot call while a bot call waits inside a Graph request of its own, an fsm.Updater's UpdateRecordingStatus that is not the suite's, is that call's). Round twelve's HangupStopsViaSender, whose jobs carry the handler's context, was caught 10/10 before)"},
		{Name: "DoubleReportDetached", Rule: "protocol", New: NewDoubleReportDetached, Catches: []string{"P3", "P5"},
			Mistake: "the same detached sender; after the machine's Stop succeeded, Stop sends notRecording once more \"because the red dot sticks\": two reports in one Stop (2/10, then 4/10 once the suite drew a CallEnded beside reports, always on P5, never on P3 (the second report was no call's, see HangupStopsDetached); 10/10 since the detached-sender patch (P3 8, P5 2))"},
		{Name: "ReportOutbox", Rule: "protocol", New: NewReportOutbox, Catches: []string{"P3", "P5"},
			Unreliable: "0/10 while P3 counted no background request and its rule for refusals covered recording only; since the suite took this round's patch (World.reportRefusedBy: after a report got a final answer, 8506 or a terminated call, no report may be sent again, from any goroutine, until the bot is next asked to Start, Stop or Fail; since round fifteen, a refusal counts only when no Stop or Fail asked is still unsent): 7/10 on the round's scratch copy, 3/10 (each flaky: the replay passed) on the suite with both patches and the hang-ups beside reports, 7/10 on the day's final suite (bb9b692). A Stop's report gets 8506 or 404 in about one case in ten, and the retrier must send before the suite asks the next Start, Stop or Fail",
			Mistake:    "Stop answers at once and hands a failed report to a background retrier that calls the machine's Stop again on any error, on a context of its own: a report Graph refused for good (403 8506, 404 call gone) is sent again, also after the call ended (P5: a clean-clone CI run on 756c606 named only that)"},
		{Name: "SleepDrainLong", Rule: "R2", New: NewSleepDrainLong, Catches: []string{"P1", "P2"},
			Unreliable: "measured 2/10 on an idle machine, 8/10 while other measurements loaded it (all flaky: a passing replay): the frame handler writes inside its Frame call, so the write the suite holds is the one under way when it runs a Stop during a write (duringWrite); the concurrent Stop sleeps in the hook and settle counts a Stop asleep outside fsm's drain as running only for maxSleepWait (100 ms, properties/settle.go), then as blocked: the suite lets the write end at 100 ms, inside the 150 ms sleep, before the report. Round ten's SleepDrain (20 ms) is caught 10/10. A sleep longer than maxSleepWait passes unless scheduling delays the write past it; raising maxSleepWait costs a polling drain (round eleven's PollingDrain) that much per Stop that meets a write",
			Mistake:    "a flag that follows fsm's gate admits frames; the recording-ended hook sleeps 150 ms \"long enough for any write\" instead of waiting for the handlers in flight: a write slower than the sleep lands after notRecording"},
		{Name: "StartRetriesRefusal", Rule: "protocol", New: NewStartRetriesRefusal, Catches: []string{"P3"},
			Mistake: "Start runs in the background (context.WithoutCancel plus a deadline of its own) and tries the machine's Start again, up to three times, after any failure: a failed operation, 8506, a call that is gone or a timeout is answered by recording again"},
	}
}

// Correct lists the correct bots of this round.
func Correct() []CorrectBot {
	return []CorrectBot{
		{Name: "DetachedSender", New: NewDetachedSender,
			What: "every Graph request sent by one sender goroutine on a context of its own (a per-request deadline on the bot's lifetime context); the handlers wait for its reply"},
		{Name: "ReportOutboxTransient", New: NewReportOutboxTransient,
			What:         "Stop answers at once and hands a failed report to a background retrier that calls the machine's Stop again only after a timeout, a 5xx, 429 or a failed operation; CallEnded and Close stop the retrier and wait for it",
			FalseAlarm:   "failed 2/90 (P5, flaky) on the suite with the neighbouring call (58e29a2), 0/90 on 6ec7137, measured side by side: the retrier's repeat of a report that got 504 is sent just as CallEnded begins; CallEnded then cancels the retrier and waits on it, and the suite takes a report sent while a control call is parked on a WaitGroup in the bot's own code as that call's (round fifteen's control-actor rule, attribution.go), so the report counts as CallEnded's, after the call ended. A request that raced the hang-up from the bot's own goroutine is exempt only when it is no bot call's. The neighbouring call's goroutines make the race land more often",
			Intermittent: true},
		{Name: "FlagDrainWaits", New: NewFlagDrainWaits,
			What: "a flag that follows fsm's gate admits frames; the hook waits for every handler in flight before it flushes"},
		{Name: "AsyncStartDetachedDeadline", New: NewAsyncStartDetachedDeadline,
			What: "Start runs the machine's Start on a goroutine of its own with context.WithoutCancel(ctx) and a deadline of its own (a request the suite takes for the handler's or for nobody's, as the scheduler decides); duplicate Starts coalesced; Close waits for the task"},
	}
}
