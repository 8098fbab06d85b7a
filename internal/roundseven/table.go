package roundseven

import (
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
		// Start's result misread.
		{Name: "PendingZeroOperation", Rule: "R1", New: NewPendingZeroOperation, Catches: []string{"P1", "P7"},
			Mistake: "errors.As(err, &*fsm.RequestError) and rerr.Operation.Status.Pending() read as \"Graph has not decided yet\", so the bot records provisionally (straight to storage while the gate is closed); a RequestError's Operation is zero for every refusal that came as an error, and the zero status reads as pending"},
		{Name: "StartDeadlineMeansSent", Rule: "R1", New: NewStartDeadlineMeansSent, Catches: []string{"P1", "P7"},
			Mistake: "Start under the bot's own 300 ms deadline; a context.DeadlineExceeded (also Graph's timeout, as *graph.Client returns it) read as \"the request was sent, Graph has it\", and the bot records provisionally straight to storage"},
		{Name: "SupersededButCompleted", Rule: "R2", New: NewSupersededButCompleted, Catches: []string{"P1", "P9", "P7", "P5"},
			Mistake: "Start's Operation read before its error: a completed reply returned with ErrSuperseded (a Stop came while the request was out) is taken as \"fsm is behind Graph\", and the bot records provisionally, its flag set after the concurrent Stop had cleared it"},
		{Name: "RetryBufferedFrames", Rule: "R1", New: NewRetryBufferedFrames, Catches: []string{"P7"},
			Mistake: "Start retries 429/503/504 with backoff (allowed), and frames arriving meanwhile are kept and written under the leases of the recording once an attempt succeeds: media from before Graph's completed"},
		// Pipelines.
		{Name: "WorkerPoolAfterRelease", Rule: "R2", New: NewWorkerPoolAfterRelease, Catches: []string{"P1", "P2"},
			Mistake: "the frame handler takes the lease, hands the frame to a pool of storage workers over a channel and releases: \"the lease proves capture; the write may come later\"; Stop drains no write, so frames land after notRecording (and after the call ended, when Close drains the pool)"},
		{Name: "RingDrainKeepsRefused", Rule: "R1", New: NewRingDrainKeepsRefused, Catches: []string{"P7"},
			Mistake: "frames admitted under a lease into a ring per stream, drained every 20 ms under the drainer's own lease; a drain the gate refuses keeps the ring for the next tick, and the hook does not drain it: a recording's last frames are written in the next recording"},
		{Name: "BatchFlushAfterRelease", Rule: "R2", New: NewBatchFlushAfterRelease, Catches: []string{"P1", "P2"},
			Mistake: "batches of three frames admitted under a lease; a full batch is written after the lease is released (\"never hold the gate across storage\"), so a concurrent Stop reports before it lands"},
		{Name: "QueueFullFallback", Rule: "R2", New: NewQueueFullFallback, Catches: []string{"P1", "P2"},
			Options: []properties.Option{properties.WithStorageStalls()},
			Mistake: "a writer goroutine per stream, each frame queued with its lease (correct), but when the 32-frame queue is full the handler releases the lease and writes the frame itself (\"never drop audio, never hold the gate across slow storage\"): a write Stop does not wait for (caught with WithStorageStalls, whose stalls and bursts of up to 64 frames fill the queue; 0/10 without it)"},
		// Encoding before persistence.
		{Name: "GzipLeadIn", Rule: "R1", New: NewGzipLeadIn, Catches: []string{"P7"},
			Mistake: "plain frames under leases, each recording prefixed with a gzip-compressed lead-in of the last five frames heard before consent (caught since the sink inflates gzip and zlib members; was 0/10)"},
		{Name: "GzipLeadInNoninterference", Rule: "R1", New: NewGzipLeadIn, Catches: []string{"P7", Interference},
			Options: []properties.Option{properties.WithNoninterference()},
			Mistake: "GzipLeadIn under WithNoninterference"},
		{Name: "MuLawPreRollNoninterference", Rule: "R1", New: NewMuLawPreRoll, Catches: []string{Interference, Vacuous},
			Options: []properties.Option{properties.WithNoninterference()},
			Mistake: "every frame archived as hand-written G.711 mu-law, each recording prefixed with the mu-law lead-in of the last five frames heard before consent; nothing stored keeps a canary"},
		// Re-invites and shutdown.
		{Name: "ReinviteNewMachine", Rule: "R2", New: NewReinviteNewMachine, Catches: []string{"P1", "P9", "P5"},
			Mistake: "a Start while recording (a re-established call) gets a fresh fsm.Machine, the old one left recording; the media handlers keep the first machine's Streams and Stop goes to the new one, so frames are persisted after notRecording"},
		{Name: "SegmentPerRecording", Rule: "R2", New: NewSegmentPerRecording, Catches: []string{"P7", "P1"},
			Mistake: "a bufio segment per recording; the hook's closure captured the first segment, so later recordings' tails stay buffered and are written when the next Start rotates segments (inside the next recording) or by Close after the call ended"},
		{Name: "CallEndedLeftToShutdown", Rule: "R2", New: NewCallEndedLeftToShutdown, Catches: []string{"P1"},
			Mistake: "bufio.Writers flushed by the hook on Stop and Fail but not on CallEnded (\"the shutdown path finalises files\"); Close flushes them after the call ended"},
	}
}

// Correct lists the correct bots of this round.
func Correct() []CorrectBot {
	return []CorrectBot{
		{Name: "PipelineGeneration", New: NewPipelineGeneration,
			What: "the frame handler checks the gate with its own lease and queues the frame with the recording's generation; a consumer per stream writes under a lease of its own, only frames of the current generation; the hook bumps the generation"},
		{Name: "RedactedTranscript", New: NewRedactedTranscript, Options: []properties.Option{properties.WithNoninterference()},
			What: "persists only derived data: a redacted transcript line per frame (lower case, digits masked, short words dropped), under the frame's lease; with WithNoninterference"},
		{Name: "MuLawUnderLease", New: NewMuLawUnderLease,
			What:    "every frame archived as G.711 mu-law under its lease",
			Vacuous: "mu-law keeps no canary: the suite cannot read it"},
		{Name: "ReinviteStopsFirst", New: NewReinviteStopsFirst,
			What: "a Start on a recording (or stopping) call ends that recording (Stop: drain, hook, notRecording completed) before it builds a new machine and asks to record again; frames look up the current Stream (passes since P3 asks the attempt's own label, not StopAsked; was a false alarm 7/10)"},
		{Name: "WebhookStop", New: NewWebhookStop,
			What: "Stop, Fail and CallEnded run on a goroutine of their own, on a detached context, and the webhook waits for them; writers run meanwhile"},
	}
}
