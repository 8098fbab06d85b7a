package roundthirteen

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

// stalls is the suite's storage that falls behind, the second test a
// team with queues runs.
var stalls = []properties.Option{properties.WithStorageStalls()}

// Bugs lists the buggy bots of this round.
func Bugs() []Bug {
	return []Bug{
		// An actor per call.
		{Name: "ActorChecksLate", Rule: "R1", New: NewActorChecksLate, Catches: []string{"P7", "P9", "P1"},
			Mistake: "the call's actor owns the machine and asks the gate when it gets to a frame: frames posted while the actor waits in Start for Graph are written once Graph said completed, though they arrived before consent"},
		{Name: "ActorStopQueued", Rule: "R1", New: NewActorStopQueued, Catches: []string{"P9", "P7", "P1"},
			Mistake: "frames stamped on arrival, but a Stop waits its turn in the actor's mailbox: a Stop asked while the actor waits in Start for Graph runs after Start, so a completed opens the recording after the user said stop and frames are admitted until the actor gets to the Stop (measured 1/10, 1/20, 3/10 under -race while Env.GateOpened took an opening from a goroutine in no bot call for a background one and P9 excused it if Stop closed it, an exemption for bots whose Start handler has returned; here the handler still waits for the actor. 10/10 (P9) since round13-start-opening.patch landed in e8d01a8: an opening while a Start call runs is that Start's)"},
		{Name: "MediaActorAckBeforeDrain", Rule: "R2", New: NewMediaActorAckBeforeDrain, Catches: []string{"P1", "P2"},
			Mistake: "the media actor's \"recording ended\" is posted by the hook, which returns without waiting: notRecording goes out while the actor still writes frames posted before it"},
		{Name: "MediaActorTwoLanes", Rule: "R2", New: NewMediaActorTwoLanes, Catches: []string{"P1", "P2"},
			Mistake: "control on a lane of its own beside the frames, one select: Go picks a ready channel at random, so \"recording ended\" is answered (flush, then notRecording) before frames posted earlier, which are written after the report"},
		{Name: "MediaActorGoSend", Rule: "R2", New: NewMediaActorGoSend, Catches: []string{"P1", "P2"},
			Mistake:    "each frame posted to the media actor from a goroutine of its own (\"an unbounded mailbox: never block, never drop\"): a frame's goroutine may post it behind \"recording ended\", and it is written after notRecording",
			Unreliable: "measured 9/10, 4/10 under -race, 6/10 on the suite of a40a682 (P1, mostly flaky): it shows only when a frame's posting goroutine, started by a Frame that held its lease before Stop closed the gate, has not yet run when the hook posts \"recording ended\". The suite waits for Frame to return, not for the goroutines it starts, and cannot make one run late; under -race the goroutine almost always runs first. No suite fix proposed: the order is the scheduler's, and the late write is judged (P1) whenever it happens"},
		// Graceful shutdown.
		{Name: "ShutdownReportsFirst", Rule: "R2", New: NewShutdownReportsFirst, Catches: []string{"P1", "P2", "P3"},
			Mistake: "on shutdown (Close) the bot reports notRecording for the call first (\"the indicator must go off before the process dies\"), then writes the chunks still in memory, then ends the machine (measured 10/10, but named only P3 in 7 of 10, then 10 of 10: the false alarm ShutdownStopsFirst met, Close's report taken for a second request of the event before Close, failed the case first and the write after the report went unjudged; 10/10 by P1 since round13-close-attempt.patch landed in e8d01a8)"},
		// Chunked uploads.
		{Name: "ChunkTickerAfterReport", Rule: "R2", New: NewChunkTickerAfterReport, Catches: []string{"P1", "P2"},
			Mistake: "chunks uploaded by a goroutine on a 2 ms ticker; the hook seals the partial chunks and returns: they reach storage after notRecording"},
		{Name: "ChunkTickerAfterReportStalled", Rule: "R2", New: NewChunkTickerAfterReport, Catches: []string{"P1", "P2"}, Options: stalls,
			Mistake: "ChunkTickerAfterReport under WithStorageStalls"},
		{Name: "ChunkMixesRecordings", Rule: "R1", New: NewChunkMixesRecordings, Catches: []string{"P7"},
			Mistake: "the hook uploads full chunks only; a stream's partial chunk stays in memory and the next recording fills it: its first chunk carries the last recording's tail"},
		// An SDK-style Graph pipeline.
		{Name: "SDKRetryNewClientContext", Rule: "protocol", New: NewSDKRetryNewClientContext, Catches: []string{"P3", "P6", "P10"},
			Mistake: "the SDK's retry handler retries any 5xx and a timeout, rebuilding the request with a new clientContext: a second operation in one of fsm's attempts (DESIGN's P3), after one that may have reached Graph",
			Miss:    "measured 9/10 and 10/10 (P3) until round13-retry-after-undecided.patch landed in 3cf4111, 0/10 since: on the wire it is PolicyRetriesTransient's Start loop (a timeout or a 500, then a recording request with a new clientContext, in one bot event), which keeps R1 and R2, so the suite now lets both pass; what differs is inside the bot (one of fsm's attempts sends two requests, and the retry's reply is handed back under the first request's clientContext), which the suite cannot see. Kept as the known cost of that patch; P10 still fails it if the retry reuses a clientContext"},
		{Name: "SDKAcceptedIsConfirmed", Rule: "R1", New: NewSDKAcceptedIsConfirmed, Catches: []string{"P4", "P1", "P7"},
			Mistake: "a response handler maps every 2xx to success (\"202 Accepted means Graph took it\"): a pending operation comes back completed and opens the gate"},
		// A media socket that reconnects and replays.
		{Name: "ReplaySocketBuffer", Rule: "R1", New: NewReplaySocketBuffer, Catches: []string{"P7"},
			Mistake: "the socket keeps every frame it received for replay after a reconnect (a storage fault), emptied when a recording ends: frames that arrived before the next recording was confirmed are replayed into it"},
		{Name: "ReplayAcrossRecordings", Rule: "R1", New: NewReplayAcrossRecordings, Catches: []string{"P7"},
			Mistake:    "the replay buffer holds what was written (under the lease) and is never emptied: a reconnect in the second recording replays the first one's frames",
			Unreliable: "measured 7 to 9/10 (8/10 on the suite of 6ec7137 and 8/10 with the neighbouring call, side by side): it needs two recordings in one case and a storage fault in the second, so a run of 100 cases misses it about one time in five, and the package test failed once with two tries"},
		// Compliance policy.
		{Name: "PolicyIgnoresRefusal", Rule: "protocol", New: NewPolicyIgnoresRefusal, Catches: []string{"P3", "P9", "P5"},
			Mistake: "a compliance bot that starts recording when the call is established and retries Start whatever the answer: after a failed operation or the 8506 policy refusal (\"never retried\", DESIGN) it asks again, and after a Stop that superseded its Start it starts a recording the user just stopped"},
		{Name: "PolicyLoopsRace", Rule: "protocol", New: NewPolicyLoopsRace, Catches: []string{"P3"},
			Mistake: "PolicyHonorsRefusal with two loops that do not tell each other (the one started at establishment and the user's Start): each stops at its own refusal, so one asks again after the other got 8506 or a failed operation, or after a failed notification"},
		// Per-participant tracks.
		{Name: "ParticipantFromJoin", Rule: "R1", New: NewParticipantFromJoin, Catches: []string{"P7"},
			Mistake: "a participant's track begins with everything held since they joined, also the frames that came before the recording was confirmed"},
	}
}

// Correct lists the correct bots of this round.
func Correct() []CorrectBot {
	return []CorrectBot{
		{Name: "ActorStamped", New: NewActorStamped,
			What: "the call's actor owns the machine; frames are posted with a stamp of the recording admitted when they arrived and written (under a lease) only into it, in mailbox order; Stop and Fail close admission the moment they are asked, before they wait in the mailbox"},
		{Name: "MediaActorInOrder", New: NewMediaActorInOrder,
			What: "frames admitted under a lease and posted to the media actor's FIFO mailbox; the hook posts \"recording ended\" behind them and waits until the actor wrote them all and flushed"},
		{Name: "MediaActorInOrderStalled", New: NewMediaActorInOrder, Options: stalls,
			What: "MediaActorInOrder under WithStorageStalls"},
		{Name: "ShutdownStopsFirst", New: NewShutdownStopsFirst,
			What: "on shutdown (Close) the bot calls the machine's Stop: gate closed, leases drained, the hook writes the chunks in memory and flushes, then notRecording (failed 10/10 by P3 while the suite began no attempt for Close: its one report counted as a second request of the event before; passes 10/10 since round13-close-attempt.patch landed in e8d01a8)"},
		{Name: "ChunkUploader", New: NewChunkUploader,
			What: "chunks of four frames handed to an uploader goroutine; the hook hands it the partial chunks and waits until everything handed over is written, then flushes"},
		{Name: "SDKPipeline", New: NewSDKPipeline,
			What: "an SDK-style pipeline in front of env.Updater: status parsed case-insensitively, 429/503/504 retried with the same clientContext and the caller's context"},
		{Name: "ReplayThisRecording", New: NewReplayThisRecording,
			What: "a reconnecting socket that replays the frames this recording wrote (held under the lease, emptied when the gate opens): duplicates, all of them inside the recording"},
		{Name: "PolicyHonorsRefusal", New: NewPolicyHonorsRefusal,
			What: "a compliance bot that starts recording when the call is established (a goroutine, context.Background) and on Start, retries a timeout, a 5xx or 429 (each try the machine's Start, a new clientContext), one loop at a time, and every loop stops at a refusal (8506, a failed operation or notification), a superseding Stop or the end of the call (failed 7/10 by P3 while the suite took a timeout or a 500 for a refusal, so a new attempt after it needed a new Start; passes 10/10 since round13-retry-after-undecided.patch landed in 3cf4111. The suite also caught two real faults in earlier versions of this bot: two loops that did not share a refusal, now PolicyLoopsRace, and a failed notification not taken as a refusal)"},
		{Name: "PolicyRetriesTransient", New: NewPolicyRetriesTransient,
			What: "PolicyHonorsRefusal without the start at establishment: the suite's Start runs the loop (a timeout, a 5xx or 429 retried as a new Start with a new clientContext; a refusal ends it) (failed 7 - 8/10, 10/10 under -race, by P3 until 3cf4111; passes 10/10 since)"},
		{Name: "ParticipantHeldInRecording", New: NewParticipantHeldInRecording,
			What: "a participant's first frames of the recording held under their leases and written when their track begins; the hook drops what was held"},
	}
}
