package roundthree

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
	nonin := []properties.Option{properties.WithNoninterference()}
	// A hang is found when a bot call outlives the suite's timeout: a
	// short one keeps the test fast.
	quick := []properties.Option{properties.WithTimeout(250 * time.Millisecond)}
	return []Bug{
		// fsm's API misused.
		{Name: "PendingStartIsRecording", Rule: "R1", New: NewPendingStartIsRecording, Catches: []string{"P1", "P4"},
			Mistake: "reads Start's nil (also returned for a pending reply) as consent and writes through the raw storage writer kept from before the gate"},
		{Name: "WritesWhileStopping", Rule: "R2", New: NewWritesWhileStopping, Catches: []string{"P1", "P7"},
			Mistake: "while the machine is Stopping (a report that got 429 leaves it there) frames the gate refuses go to the raw writer: \"Graph still shows recording\""},
		{Name: "IsOpenThenWrite", Rule: "R2", New: NewIsOpenThenWrite, Catches: []string{"P1", "P2"},
			Mistake: "Gate.IsOpen (a snapshot) instead of a lease per frame, then a raw write: Stop does not wait for it"},
		{Name: "RetryFailedWrites", Rule: "R1", New: NewRetryFailedWrites, Catches: []string{"P7"},
			Mistake: "frames whose write failed, ErrGateClosed included, are kept and written (under a lease) before the next frame that gets through"},
		{Name: "SharedStreamWritesOnBusy", Rule: "R2", New: NewSharedStreamWritesOnBusy, Catches: []string{"P7", "P1", "P2", "P9"},
			Mistake: "one Stream for all media goroutines; on ErrStreamBusy it writes anyway (\"the other write's lease covers us\"), also while Stop drains"},
		{Name: "StopInHook", Rule: "protocol", New: NewStopInHook, Catches: []string{Hung}, Options: quick,
			Mistake: "the recording-ended hook calls Stop when the trigger is CallEnded: it waits for the machine its own transition holds"},
		{Name: "ReportFromHook", Rule: "protocol", New: NewReportFromHook, Catches: []string{"P3", "P5", "P10"},
			Mistake: "the hook sends notRecording itself after flushing; the machine sends its own, and after CallEnded the hook's goes to a call that is gone"},
		{Name: "RetryWhenSuperseded", Rule: "R1", New: NewRetryWhenSuperseded, Catches: []string{"P3", "P9"},
			Mistake: "a retry-on-conflict wrapper retries Start after ErrSuperseded: a Stop that came while Start waited is answered by asking Graph to record again",
			Miss:    "by design, not flagged: the bot's own recording request is a new attempt that Graph confirms (R1 holds), and bots that record on their own (policy recording) must pass; P9 and P7's intervals end at the bot's next recording request, whoever asked for it"},
		{Name: "StopSkipsWhenIdle", Rule: "R1", New: NewStopSkipsWhenIdle, Catches: []string{"P9", "P7"},
			Mistake: "Stop does nothing when the machine is NotRecording, which it still is while Start waits for Graph: the completed opens the gate after Stop"},
		// Reports and what follows them.
		{Name: "TranscriptAfterStop", Rule: "R2", New: NewTranscriptAfterStop, Catches: []string{"P1"},
			Mistake: "notes of the recorded frames (content inside the recording) are saved after Stop or CallEnded returned, after notRecording"},
		{Name: "DoubleReport", Rule: "protocol", New: NewDoubleReport, Catches: []string{"P3"},
			Mistake: "after the machine's Stop succeeded, notRecording is sent once more through the client \"because the indicator sticks\""},
		{Name: "RestartOnLateCompleted", Rule: "R1", New: NewRestartOnLateCompleted, Catches: []string{"P9", "P7"},
			Mistake: "a stale completed while NotRecording makes the handler Start again to \"re-sync\": the late completed of a stopped attempt restarts recording nobody asked for",
			Miss:    "by design, not flagged: the bot's own recording request ends P9 (\"until the bot sends a new recording request\") and starts a new interval, which Graph confirms (R1 holds); the suite does not require a recording request to follow a Start, so that bots that record on their own pass"},
		// Media in another shape.
		{Name: "Base64AudioPreRoll", Rule: "R1", New: NewBase64AudioPreRoll, Catches: []string{"P7", Vacuous},
			Mistake: "audio as JSON lines ([]byte, so base64) with a pre-roll, plus plain-text captions of the recorded frames (the default suite cannot read the base64 stream and fails the run as vacuous on it; WithNoninterference names the pre-roll)"},
		{Name: "Base64AudioPreRollNoninterference", Rule: "R1", New: NewBase64AudioPreRoll, Catches: []string{Interference, "P7"}, Options: nonin,
			Mistake: "the same base64 pre-roll, under WithNoninterference"},
		{Name: "PacketizedPreRoll", Rule: "R1", New: NewPacketizedPreRoll, Catches: []string{"P7"},
			Mistake: "the pre-roll again, with every frame stored as 12-byte packets (one Sink write each): canaries cut by a packet boundary are traced by no write"},
	}
}

// Correct lists the correct bots of this round.
func Correct() []CorrectBot {
	return []CorrectBot{
		{Name: "BlockAligned", New: NewBlockAligned,
			What: "16-byte blocks: full blocks written under the lease of the frame that filled them, the partial block by the hook before it flushes"},
		{Name: "BatchPerStream", New: NewBatchPerStream,
			What: "batches of three frames per stream written under a lease, the rest by the hook; the lease is released twice"},
		{Name: "RetryingUpdater", New: NewRetryingUpdater,
			What: "Graph middleware retries 429/503/504 with the same clientContext, for recording, notRecording and failed"},
		{Name: "SelfStopSegment", New: NewSelfStopSegment,
			What: "stops its own recording after four frames (notRecording before anyone asked), from the media path, with no lease held"},
		{Name: "DetachedReport", New: NewDetachedReport,
			What: "Stop, Fail and CallEnded run on a context detached from the caller's (context.WithoutCancel) with a deadline of its own"},
		{Name: "AckedUpload", New: NewAckedUpload,
			What: "holds the lease across a blocking call to an uploader goroutine until it acknowledges the write"},
		{Name: "SwappedReports", New: NewSwappedReports,
			What: "debatable: Stop reports failed and Fail notRecording; R2 treats the two alike and the recording ends first, only the stated reason is wrong"},
	}
}
