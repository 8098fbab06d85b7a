package roundfive

import (
	"time"

	"github.com/recgate/recgate/internal/botrounds"
	"github.com/recgate/recgate/properties"
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
		// Notifications and fsm options.
		{Name: "FailedIsDone", Rule: "R1", New: NewFailedIsDone, Catches: []string{"P1", "P4", "P7"},
			Mistake: "the notification handler asks \"is the operation over?\" (completed or failed) and feeds fsm a completed one when it is: a failed notification opens the gate"},
		{Name: "PollByRepost", Rule: "protocol", New: NewPollByRepost, Catches: []string{"P3", "P10"},
			Mistake: "WithOperationPolling with a getter that re-POSTs recording with the pending attempt's clientContext (no GET through the team's proxy): every poll is a second recording request of one attempt"},
		{Name: "FreshMachineAfterFail", Rule: "protocol", New: NewFreshMachineAfterFail, Catches: []string{"P10"},
			Mistake: "after Fail the call gets a new fsm.Machine with the same options; its counter clientContext generator (\"<call>/attempt-N\") starts at 1 again and repeats the call's first clientContext (fsm refuses repeats within one machine only)"},
		// Storage around env.Sink.
		{Name: "PipeCopy", Rule: "R2", New: NewPipeCopy, Catches: []string{"P1", "P2", "P7", Hung},
			Mistake: "frames go under a lease into an io.Pipe that an io.Copy goroutine drains into storage; pw.Write returns when the reader has the bytes, before io.Copy writes them, so the storage write lands after the lease was released. " +
				"A second mistake the suite's storage faults show: once storage fails a write, io.Copy returns, nothing reads the pipe again, and the next frame's pw.Write blocks for good (hung in Frame: 5 of 10 runs with -race named the hang, the other 5 P1/P7)"},
		{Name: "MixedJSONPreRoll", Rule: "R1", New: NewMixedJSONPreRoll, Catches: []string{"P7", Vacuous},
			Mistake: "JSON lines {seq, audio []byte, caption} per stream; the last two frames heard before consent are written as a lead-in when the gate opens, audio only (base64), beside the plain-text captions of the recorded frames on the same stream"},
		{Name: "GoroutinePerFrame", Rule: "R1", New: NewGoroutinePerFrame, Catches: []string{"P7"},
			Mistake: "the frame handler does `go persist(frame)` with context.Background(); the goroutine takes its lease when it runs, so a frame that arrived while recording was in flight is written if its goroutine runs after completed"},
		{Name: "SlowTickerRemainder", Rule: "R2", New: NewSlowTickerRemainder, Catches: []string{"P1"},
			Mistake: "batches of three frames written under a lease; the hook parks each recording's tail for a periodic uploader that runs every 5 s, without a lease, seconds after notRecording",
			Miss:    missSlowTicker},
		{Name: "SlowTickerRemainderLongWindow", Rule: "R2", New: NewSlowTickerRemainder, Catches: []string{"P1", "P7"}, Options: []properties.Option{properties.WithLateWindow(6 * time.Second)},
			Mistake: "the same 5 s uploader, with WithLateWindow(6 s): the remedy a team has today, if it knows its own period"},
		{Name: "HookFlushTimeout", Rule: "R2", New: NewHookFlushTimeout, Catches: []string{"P1", "P2"},
			Mistake: "frames buffered in a bufio.Writer under a lease; the hook flushes on a goroutine and waits at most 2 ms (\"a stuck disk must not hold up notRecording\"): with slower storage the flush lands after the report"},
		// Stop, Fail, and what follows.
		{Name: "AsyncStop", Rule: "R1", New: NewAsyncStop, Catches: []string{"P7", "P9", "P1", "P3"},
			Mistake: "Stop and Fail run the machine's Stop on a goroutine and return at once (the webhook must answer fast): frames that arrive after the bot was asked to stop and before the goroutine closed the gate are persisted"},
		{Name: "AsyncStopSilent", Rule: "R1", New: NewAsyncStopSilent, Catches: []string{"P7", "P9", "P1", "P3"},
			Mistake: "AsyncStop without GateReporter or Closer: judged on what it persists only"},
		{Name: "ResumeOnFrame", Rule: "R1", New: NewResumeOnFrame, Catches: []string{"P7"},
			Mistake: "after Fail, the next frame makes the bot Start again by itself (allowed), and it persists that frame too once Start returns, though it arrived before Graph's completed"},
		{Name: "ObserverFlagNoLease", Rule: "R2", New: NewObserverFlagNoLease, Catches: []string{"P1", "P2"},
			Mistake: "the gate mirrored from fsm's observer into an atomic flag; frames written without a lease while the flag is set, so Stop does not wait for a write in progress"},
	}
}

// Correct lists the correct bots of this round.
func Correct() []CorrectBot {
	control := []properties.Option{properties.WithUntracedStreams(ControlStream)}
	return []CorrectBot{
		{Name: "RecoverOnEveryStart", New: NewRecoverOnEveryStart,
			What: "Journal.Recover runs in every Start (\"before any Start\"); once a bug that recovered the live call's own trail (failed reported under an open gate), it is now safe: fsm leaves the trails this Journal created to their machines (RecoveryOwnTrail), so the live call is never recovered"},
		{Name: "ControlLog", New: NewControlLog, Options: control,
			What: "a control log (Graph exchanges, states, operation ids: no media) on its own Sink stream, named in WithUntracedStreams, written before the first recording request and after notRecording"},
		{Name: "AuditTrailOnSink", New: NewAuditTrailOnSink, Options: control,
			What: "fsm.WithAuditTrail on a Sink stream of its own, named in WithUntracedStreams: the trail (no media) is written whenever the machine acts, also before consent and after the report"},
		{Name: "WorkerPoolLeases", New: NewWorkerPoolLeases,
			What: "two writer goroutines, each with its own fsm.Stream; the frame handler takes the lease at capture time and hands it to the worker, which writes and releases"},
		{Name: "EveryOtherFrame", New: NewEveryOtherFrame,
			What: "persists every other frame of each stream, under a lease"},
		{Name: "RotatePerRecording", New: NewRotatePerRecording,
			What: "each recording's frames go to Sink streams of their own (i+10k); the hook flushes, then rotates"},
		{Name: "ShortConfirmationDeadline", New: NewShortConfirmationDeadline,
			What: "README's wiring with fsm.WithConfirmationDeadline(2 ms): every pending attempt expires and the machine reports failed by itself"},
		{Name: "ResumeOnceAfterFail", New: NewResumeOnceAfterFail,
			What: "after Fail, the next frame makes the bot Start again by itself, once; the frame that woke it is dropped; a refused Start ends the resuming"},
	}
}

// Diagnoses of the rows the suite gets wrong (see the Miss and FalseAlarm
// fields). Each names the prototype of its fix, measured against all
// five rounds' bots (internal/roundfive's doc.go says what it did).
const (
	missSlowTicker = "late writes are watched only up to WithLateWindow (300 ms) after the last case; a tail parked for an uploader that runs every 5 s lands after every RunSuite has returned (the cases of a run take about a second in all); the row below with WithLateWindow(6 s) catches it, so the smallest fix is in properties/options.go + doc.go (WithLateWindow, Checking your own bot): say that a bot with periodic work must set the window above its longest period; " +
		"the real fix is a fake clock (run each case in a testing/synctest bubble, so a bot's timers fire in virtual time and the bubble's quiescence replaces settle/quiesce), which is a rewrite of play.go, not prototyped"
)
