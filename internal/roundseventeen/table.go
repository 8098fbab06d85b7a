package roundseventeen

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

// Bugs lists the buggy bots of this round: each hands frames off the
// media SDK's receive thread, and each gets the hand-off wrong.
func Bugs() []Bug {
	return []Bug{
		{Name: "ChannelLeaseAtDequeue", Rule: "R1", New: newLeaseAtDequeue, Catches: []string{"P7"},
			Mistake: "a buffered channel per stream and one writer goroutine per stream, which takes the stream's lease when it dequeues a frame (\"the writer is the one that writes, so it holds the lease\"): a frame that arrived before Graph's completed and is dequeued after it is persisted"},
		{Name: "PoolLeaseAtDequeue", Rule: "R1", New: newPoolLeaseAtDequeue, Catches: []string{"P7"},
			Mistake: "ChannelLeaseAtDequeue with a pool of four writers per call on one queue, each with a Stream of its own (\"a Stream per goroutine\", as ErrStreamBusy says): the lease is still taken at dequeue"},
		{Name: "GroupTaskLeaseWhenRun", Rule: "R1", New: newGroupLeaseInTask, Catches: []string{"P7"},
			Mistake: "each frame a task of an errgroup with SetLimit(8): the task registers a Stream and takes its lease when it runs, not when the frame arrived (round five's GoroutinePerFrame, bounded)"},
		{Name: "WorkerChecksGateOpen", Rule: "R1", New: newGateCheckAtDequeue, Catches: []string{"P7", "P1"},
			Mistake: "one writer goroutine per stream that asks gate.IsOpen() when it dequeues a frame and then writes without a lease (\"a lease per frame is overhead; the gate tells us\"): a frame that arrived before the gate opened is written after, and a check just before Stop closes the gate writes after notRecording"},
		{Name: "LeaseReleasedBeforeWrite", Rule: "R2", New: newLeaseReleasedBeforeWrite, Catches: []string{"P1", "P2"},
			Mistake: "the handler takes the lease when the frame arrives (only frames of a confirmed recording are queued) and releases it once the frame is on the writer's channel (\"queued is as good as written\"): Stop's drain does not wait for the queue, so a frame still queued is written after notRecording"},
		{Name: "HookDrainsByQueueLength", Rule: "R2", New: newHookDrainsByQueueLength, Catches: []string{"P1", "P2"},
			Mistake: "LeaseReleasedBeforeWrite whose recording-ended hook waits until every channel is empty (len(q) == 0): the frame the writer has taken off its channel and not yet written is in no channel, and is written after notRecording"},
		{Name: "AdmitThenRecheckGate", Rule: "R2", New: newAdmitThenRecheckGate, Catches: []string{"P1", "P2"},
			Mistake: "LeaseReleasedBeforeWrite whose writer asks gate.IsOpen() again before it writes (\"so nothing is written once Stop closed the gate\"): a check made just before Stop closed the gate is followed by a write after notRecording"},
		{Name: "AdmitThenRecheckState", Rule: "R2", New: newAdmitThenRecheckState, Catches: []string{"P1", "P2"},
			Mistake: "LeaseReleasedBeforeWrite whose writer asks the machine's State() before it writes: the state says Recording after Stop closed the gate, until the Stop transition runs, so a frame dequeued then is written after notRecording"},
		{Name: "DoubleBufferTickerSwap", Rule: "R2", New: newDoubleBuffer, Catches: []string{"P1", "P2"},
			Mistake: "frames admitted under a lease into a front buffer; a ticker swaps the buffers every 5 ms and writes the back one; the recording-ended hook writes the front buffer (\"nothing admitted stays behind\") but does not wait for a back buffer the ticker is writing, which lands after notRecording"},
		{Name: "BatchLeaseForBatch", Rule: "R1", New: newAfterFuncBatcher, Catches: []string{"P7"},
			Mistake: "a time.AfterFunc batcher: every frame is appended to the batch as it arrives and the flush, 2 ms later, takes one lease for the whole batch (\"the flush is the write\"): a batch that began before Graph's completed carries pre-consent frames into the recording"},
		{Name: "JitterHoldsPreConsent", Rule: "R1", New: newJitterBuffered, Catches: []string{"P7"},
			Mistake: "a jitter buffer of three frames per stream, ordered by sequence number and kept across the gate's changes; when it overflows, the oldest frame is written under the lease taken for the frame that just arrived: the frames held when the gate opens arrived before consent"},
		{Name: "RingFlushedAfterHook", Rule: "R2", New: newRingFlusher, Catches: []string{"P1", "P2"},
			Mistake: "frames admitted under a lease into a sync.Cond-guarded ring; a flusher writes the ring once it holds eight frames, and the recording-ended hook signals it to flush and returns (\"the flusher takes it from here\"): the ring's tail is written after notRecording"},
		{Name: "WriterBoundToFirstCall", Rule: "R1", New: newBoundWriterProcess().newBot, Catches: []string{"P7", "P1"},
			Mistake: "one writer goroutine per stream number for the process, built by the first call whose frame came on that stream, with that call's storage client; each call admits its frame under its own lease and queues it there: while two calls record, the second call's frames are written into the first call's recording"},
	}
}

// Correct lists the correct bots of this round: hand-offs that keep the
// rule.
func Correct() []CorrectBot {
	return []CorrectBot{
		{Name: "LeaseTravelsWithFrame", New: newLeaseTravelsWithFrame,
			What: "the handler takes a lease when the frame arrives (from a pool of Streams, one lease each) and queues it with the frame; the stream's writer releases it once the frame is written, so Stop's drain waits for every queued frame"},
		{Name: "DropWhenFull", New: newDropWhenFull,
			What: "LeaseTravelsWithFrame with a queue of two and `select { case q <- job: default: drop }`: a frame that finds the queue full is dropped and its lease released at once"},
		{Name: "HookWaitsForQueue", New: newHookWaitsForQueue,
			What: "the handler admits the frame under a lease and counts it in a WaitGroup before releasing the lease; the writer writes without a lease and marks it done; the recording-ended hook waits for the count before the flush, so every admitted frame is written before notRecording"},
		{Name: "PerCallPoolByCallID", New: newCallPoolProcess().newBot,
			What: "a worker pool per call in a process map keyed by env.CallID; a handler takes its own call's lease and queues it with the frame and its call's Sink; CallEnded ends the call's pool"},
		{Name: "GoroutineLeaseFirst", New: newGoroutineLeaseFirst,
			What: "`go persist(frame)` done right: the handler registers a Stream and takes its lease before it starts the goroutine, which writes, releases and closes the Stream"},
	}
}
