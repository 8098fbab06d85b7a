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
			Mistake: "every Graph request sent by one sender goroutine on a context of its own (a per-request deadline on the bot's lifetime context: jobs carry no context, \"don't store contexts in structs\"); CallEnded first stops a recording in progress, \"to clear Graph's indicator before we leave\": notRecording is sent after the call ended while the handler waits for it"},
		{Name: "DoubleReportDetached", Rule: "protocol", New: NewDoubleReportDetached, Catches: []string{"P3"},
			Mistake: "the same detached sender; after the machine's Stop succeeded, Stop sends notRecording once more \"because the red dot sticks\": two reports in one Stop"},
		{Name: "ReportOutbox", Rule: "protocol", New: NewReportOutbox, Catches: []string{"P3"},
			Mistake: "Stop answers at once and hands a failed report to a background retrier that calls the machine's Stop again on any error, on a context of its own: a report Graph refused for good (403 8506, 404 call gone) is sent again"},
		{Name: "SleepDrainLong", Rule: "R2", New: NewSleepDrainLong, Catches: []string{"P1", "P2"},
			Mistake: "a flag that follows fsm's gate admits frames; the recording-ended hook sleeps 150 ms \"long enough for any write\" instead of waiting for the handlers in flight: a write slower than the sleep lands after notRecording"},
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
