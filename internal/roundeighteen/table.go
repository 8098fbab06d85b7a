package roundeighteen

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

// Bugs lists the buggy bots of this round: each admits frames correctly
// and gets the Stop side, the Fail side or the call's end wrong.
func Bugs() []Bug {
	return []Bug{
		{Name: "RecordingFlagCheckThenWrite", Rule: "R2", New: newRecordingFlag, Catches: []string{"P1", "P2"},
			Mistake: "frames admitted under a lease and queued; the writer goroutine writes only while the bot's own recording flag is set, and Stop, Fail and CallEnded lower the flag before they call the machine (\"once the flag is down nothing is written\"), so the hook waits for nothing: a writer that saw the flag up a moment before writes after notRecording"},
		{Name: "GenerationCheckThenWrite", Rule: "R2", New: newGenerationCheckThenWrite, Catches: []string{"P1", "P2"},
			Mistake: "RecordingFlagCheckThenWrite whose writer also drops a frame admitted in an earlier recording (each frame carries the generation read before its admission, bumped when the flag goes down): only the check-then-write race is left, a writer that saw the flag up and its generation current just before Stop lowered it writes after notRecording"},
		{Name: "HookWaitsWithTimeout", Rule: "R2", New: newHookWaitsWithTimeout, Catches: []string{"P1", "P2"},
			Mistake: "frames admitted under a lease, counted and queued; the hook waits for the count in a select with time.After(5 ms) and returns anyway when the timer fires (\"a frame takes microseconds; don't hold the webhook on slow storage\"): a write slower than that lands after notRecording"},
		{Name: "DoneBeforeWrite", Rule: "R2", New: newDoneBeforeWrite, Catches: []string{"P1", "P2"},
			Mistake: "the correct HookWaitsForWriters, but the writer marks the frame done in the hook's count (a WaitGroup's Done) when it takes a frame off its queue, before the write (\"taken off the queue is handled\"; a defer moved up): the hook's wait returns while the last frame is in the writer's hand, and it is written after notRecording"},
		{Name: "HookCancelsAndReturns", Rule: "R2", New: newCancelsAndReturns, Catches: []string{"P1", "P2"},
			Mistake: "a worker per stream started when the gate opens, on a context the hook cancels; the hook cancels and returns (\"cancel is the shutdown\"), and each worker finishes the frame in hand before it sees ctx.Done(): that frame is written after notRecording"},
		{Name: "HookWaitsOnSwappedGroup", Rule: "R2", New: newSwappedGroup, Catches: []string{"P1", "P2"},
			Mistake: "each recording counts its admitted frames on a WaitGroup of its own; Stop and Fail put the next recording's fresh WaitGroup in place before they call the machine, and the hook waits on the one in place, the fresh one: the ending recording's frames are written after notRecording"},
		{Name: "FlushOnTimerAfterHook", Rule: "R2", New: newFlushOnTimerAfterHook, Catches: []string{"P1", "P2", "P7"},
			Mistake: "frames written under the lease into a bufio.Writer per stream; the hook leaves the Flush to time.AfterFunc(1 ms) (\"the hook runs under the machine's lock: no I/O there\"): what the buffers held is written after notRecording"},
		{Name: "SegmentUploadAfterHook", Rule: "R2", New: newSegmentUploadAfterHook, Catches: []string{"P1", "P2"},
			Mistake: "frames appended under the lease to a segment per stream, a full segment uploaded under the lease; the hook hands the open segments to an uploader goroutine and returns (\"uploads take seconds\"): the recording's tail is uploaded after notRecording"},
		{Name: "StopDeadlineThenReport", Rule: "R2", New: newStopDeadlineThenReport, Catches: []string{"P2", "P1", "P6"},
			Mistake: "a lease travels with each queued frame (correct, as in StopDeadlineRetried), but Stop and Fail give the machine a 3 ms deadline and, when it passes with writers still holding leases (fsm returns the context's error and reports nothing), send notRecording or failed themselves through env.Updater (\"Graph must hear it in time\"): the report goes out while leases are held, and the queued frames are written after it; when the 3 ms run out waiting behind a Start whose recording request is out (fsm.ErrMachineBusy), its notRecording goes before that request's reply lands, which P6 names (alone in 3 to 7 runs of 10)"},
		{Name: "FailSkipsDrain", Rule: "R2", New: newFailSkipsDrain, Catches: []string{"P1", "P2"},
			Mistake: "frames admitted under a lease, counted and queued; the hook waits for the count on Stop and CallEnded but not on Fail (\"the recording failed: nothing left worth waiting for\"): the queued frames are written after failed"},
		{Name: "CallEndedOnGoroutine", Rule: "R2", New: newCallEndedOnGoroutine, Catches: []string{"P1", "P5"},
			Mistake: "the correct HookWaitsForWriters, but CallEnded runs the machine's CallEnded on a goroutine and returns at once (\"the termination webhook must answer fast\"): the gate closes, and the writers drain, after the bot said the call ended"},
		{Name: "LeaseKeptAcrossFrames", Rule: "R2", New: newLeaseKept, Catches: []string{"P7", "P9", "P1"},
			Mistake: "the handler writes each frame itself but keeps its stream's lease across frames (released after four, or 20 ms idle: \"a lease per frame is overhead\"): a frame that comes after Stop closed the gate, while the lease is still held, is written under it, and Stop's drain waits for it"},
	}
}

// Correct lists the correct bots of this round: Stop sides that keep the
// rule.
func Correct() []CorrectBot {
	return []CorrectBot{
		{Name: "HookWaitsForWriters", New: newHookWaitsForWriters,
			What: "frames admitted under a lease, counted and queued; the hook waits for the count on Stop, Fail (the storage-error path too) and CallEnded, which is handled inline"},
		{Name: "QueueClosedAndDrained", New: newQueueClosedAndDrained,
			What: "queues and writers per recording, started when the gate opens; the hook closes the queues and waits until the writers have written what they held"},
		{Name: "CancelledPoolWaits", New: newCancelledPoolWaits,
			What: "HookCancelsAndReturns whose hook waits for the workers (a WaitGroup) after it cancelled them: the frame in hand is written before notRecording, the rest dropped"},
		{Name: "StopDeadlineRetried", New: newStopDeadlineRetried,
			What: "each queued frame carries its own lease (a pool of Streams), released by the writer once the frame is written, so the machine's drain waits for every queued frame (round seventeen's LeaseTravelsWithFrame); Stop and Fail give the machine 3 ms and, when they pass, ask it again with the handler's whole context instead of reporting themselves"},
	}
}
