package roundten

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
		{Name: "HangupSkipsDrain", Rule: "R2", New: NewHangupSkipsDrain, Catches: []string{"P1"},
			Mistake: "frames go through an atomic flag that follows fsm's gate and a WaitGroup of handlers in flight; the hook waits for them on Stop and Fail but not on CallEnded (\"the socket is gone, no frame can be on its way\"): a handler that saw the flag just before the hang-up lands its write after CallEnded returned"},
		{Name: "SleepDrain", Rule: "R2", New: NewSleepDrain, Catches: []string{"P1", "P2"},
			Mistake: "the same flag, and a hook that lets handlers in flight finish by sleeping one frame time (20 ms) before it flushes and the machine reports: a write slower than the sleep lands after notRecording"},
		{Name: "ResumeTailByCallID", Rule: "R1", New: NewResumeTailByCallID, Catches: []string{"P7"},
			Mistake: "segment files whose header repeats the previous segment's last lines, the tail kept in a process-wide registry keyed by call ID so a re-created session of the call continues the chain; cleared on Stop and Fail but not on CallEnded or a dropped session: the next bot for that call ID writes lines of an earlier session's recording into its first segment",
			Miss:    "measured 0/10 since every call the suite plays has an ID no earlier call of the process had (properties/callids.go, as Graph gives every call its own): no later bot is built for a call ID an earlier bot served, so the tail is never resumed. It was 10/10 before, by accident: every case had the same call ID and canaries name a frame number, not a case, so an earlier case's lines were traced as this case's frames of the same numbers, with the wrong frame and phase in the report. The suite does not re-create a session for the same call (a media socket that reconnects within a call), which is where this bot breaks the rule"},
		{Name: "AsyncStartAcceptedIsRecording", Rule: "R1", New: NewAsyncStartAcceptedIsRecording, Catches: []string{"P1", "P4", "P7"},
			Mistake: "the Start webhook answers at once and runs fsm's Start on a goroutine, which takes a pending reply (running) as the recording having begun: frames the gate refuses are written while the machine awaits Graph's confirmation"},
		{Name: "WebhookOptimisticWhileAwaiting", Rule: "R1", New: NewWebhookOptimisticWhileAwaiting, Catches: []string{"P1", "P7"},
			Mistake: "while the machine awaits a confirmation, the notification webhook lets media through on any completed notification before the machine checks it, and takes it back when the machine refuses it (a stale or foreign one): frames that arrive while the webhook runs are persisted without Graph's confirmation",
			Miss:    "measured 0/10: no frame arrives while a drawn update step's OperationUpdate runs (play.go step, case stepUpdate: a bare r.call); frames meet a webhook only in the stale completed drawn during Start's request (play.go whileInFlight), when this bot's machine awaits nothing"},
	}
}

// Correct lists the correct bots of this round.
func Correct() []CorrectBot {
	return []CorrectBot{
		{Name: "FlagGateDrainsAlways", New: NewFlagGateDrainsAlways,
			What: "an atomic flag that follows fsm's gate and a WaitGroup of frame handlers in flight, waited for by the hook on every trigger (CallEnded too) before it flushes"},
		{Name: "AsyncStart", New: NewAsyncStart,
			What: "the Start webhook answers at once and fsm's Start runs on a goroutine; fsm decides everything else (Close waits for the goroutine)"},
	}
}
