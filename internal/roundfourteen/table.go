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
			Miss:    "measured 0/10: the sender's request carries no bot call's context, so the suite takes it for no call's (properties/env.go Updater.UpdateRecordingStatus: background = outside a bot call and !madeFor(ctx)), and P5 exempts such a request while CallEnded runs (invariant_checks.go checkP5: \"Sent by no bot call (a machine's timer)\"), although CallEnded is waiting for it. Round twelve's HangupStopsViaSender, whose jobs carry the handler's context, is caught 10/10. Fix: /work/notes/round14-detached-sender.patch (a request from outside any bot call while a bot call waits inside a Graph request of its own, an fsm.Updater's UpdateRecordingStatus that is not the suite's, is that call's): 3/3 and 10/10 on a scratch copy",
			Mistake: "every Graph request sent by one sender goroutine on a context of its own (a per-request deadline on the bot's lifetime context: jobs carry no context, \"don't store contexts in structs\"); CallEnded first stops a recording in progress, \"to clear Graph's indicator before we leave\": notRecording is sent after the call ended while the handler waits for it"},
		{Name: "DoubleReportDetached", Rule: "protocol", New: NewDoubleReportDetached, Catches: []string{"P3", "P5"},
			Unreliable: "measured 2/10, then 4/10 on the suite of commit 3c50953, always on P5 (when the draw puts a CallEnded beside the Stop's report, the second report goes to a call that has ended), never on P3: the second report is no call's to the suite (see HangupStopsDetached), so P3 does not count it (checkP3 returns early on e.background). Fixed by /work/notes/round14-detached-sender.patch: 3/3 (P3 2, P5 1) and 10/10 on a scratch copy",
			Mistake:    "the same detached sender; after the machine's Stop succeeded, Stop sends notRecording once more \"because the red dot sticks\": two reports in one Stop"},
		{Name: "ReportOutbox", Rule: "protocol", New: NewReportOutbox, Catches: []string{"P3"},
			Miss:    "measured 0/10: the retrier's report comes from a goroutine outside any bot call, which P3 does not count (checkP3 returns early on e.background), and P3's rule for refusals covers recording only (World.refusedBy). Fix: /work/notes/round14-report-refused.patch (World.reportRefusedBy: after a report got a final answer, 8506 or a terminated call, Event.final, no report may be sent again, from any goroutine, until the bot is next asked to Start, Stop or Fail; a bot call's report after its own goroutine's refused one is exempt): 7/10 on a scratch copy (a Stop's report gets 8506 or 404 in about one case in ten, and the retry must come before the next Start, Stop or Fail)",
			Mistake: "Stop answers at once and hands a failed report to a background retrier that calls the machine's Stop again on any error, on a context of its own: a report Graph refused for good (403 8506, 404 call gone) is sent again"},
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
			What: "Stop answers at once and hands a failed report to a background retrier that calls the machine's Stop again only after a timeout, a 5xx, 429 or a failed operation; CallEnded and Close stop the retrier and wait for it"},
		{Name: "FlagDrainWaits", New: NewFlagDrainWaits,
			What: "a flag that follows fsm's gate admits frames; the hook waits for every handler in flight before it flushes"},
		{Name: "AsyncStartDetachedDeadline", New: NewAsyncStartDetachedDeadline,
			What: "Start runs the machine's Start on a goroutine of its own with context.WithoutCancel(ctx) and a deadline of its own (a request the suite takes for the handler's or for nobody's, as the scheduler decides); duplicate Starts coalesced; Close waits for the task"},
	}
}
