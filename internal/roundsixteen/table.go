package roundsixteen

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

// Bugs lists the buggy bots of this round. Each row's factory closes over
// a process made when the row is built: both calls of a case, and every
// case of a run, share it, as the calls of one process do (rows run in
// parallel, so nothing is a package-level variable).
func Bugs() []Bug {
	return []Bug{
		{Name: "StaticRecordingFlag", Rule: "R1", New: newFlagProcess().newBot, Catches: []string{"P1", "P7"},
			Mistake: "the samples' static recording status: one flag for the process, set when a call's gate opens and cleared when a gate closes (under a lock the closing takes for writing, so with one call it is an exact copy of the gate), checked by every call's media handler: while one call records, every call's media is persisted"},
		{Name: "CurrentCallStatic", Rule: "R1", New: newCurrentProcess().newBot, Catches: []string{"P3", "P1", "P7"},
			Mistake: "the call kept in a process-wide variable set when the bot joins a call, as the samples keep theirs in a static field: every handler works on the current call, so once a second call joins, the first call's Start asks Graph to record the second call, and the first call's media go to the second call's storage"},
		{Name: "OutputChosenAtJoin", Rule: "R1", New: newOutputAtJoinProcess().newBot, Catches: []string{"P1", "P7"},
			Mistake: "a machine and leases per call, but one storage output per process (the upload session), opened when a call joins: the recording call's media, written under its own lease, land in the storage of the call that joined last"},
		{Name: "OutputChosenAtStart", Rule: "R1", New: newOutputAtStartProcess().newBot, Catches: []string{"P1", "P7"},
			Mistake: "OutputChosenAtJoin with the output chosen when a call starts recording: while two calls record, the first call's media land in the storage of the one that started last (0/10 on dc29d46, when the suite never asked the bot to record the neighbouring call and only two calls recording at once show this bot; caught since db39503, which asks in half the cases)"},
		{Name: "PolicyOutputChosenAtJoin", Rule: "R1", New: newPolicySharedOutputProcess().newBot, Catches: []string{"P7", "P1", Vacuous},
			Mistake: "OutputChosenAtJoin in a compliance-recording bot that asks Graph to record every call as it joins: the output is the storage of the call that joined last, which records too, so the first call's media (admitted under its own confirmed recording) land in another call's recording"},
		{Name: "PolicyMeetingMix", Rule: "R1", New: newMixProcess().newBot, Catches: []string{"P7", "P1"},
			Mistake: "a compliance-recording bot that asks Graph to record every call as it joins, and stores the meeting's mix (every call's media) with the recording of the call that joined last, under that call's lease: a call's media reach another call's recording whether or not its own recording was confirmed (0/10 on dc29d46: the neighbour records by its own join's request, so P1 holds there, and its Sink knew only its own frames: the call under test's frames in its confirmed recording were stored untraced; caught since db39503, which traces them there too)"},
		{Name: "MediaToLastStarted", Rule: "R1", New: newLastStartedProcess(), Catches: []string{"P7", "P1"},
			Mistake: "a registry of calls by call ID for Graph's side, but the media handler routes frames to the call last asked to Start (\"the media socket belongs to the recording\"): while one call records, every call's frames are written into it, under its lease"},
		{Name: "CallEndedFirstInMap", Rule: "R1", New: newFirstInMapProcess(), Catches: []string{"P5", "P1", "P7"},
			Mistake: "the termination handler lost the call ID (parsed from the wrong segment of the notification's resource) and ends \"the\" call: the first the registry's range yields, which with one call per process is the right one. With two, the call that ended goes on recording half the time"},
		{Name: "CallEndedFirstInMapSilent", Rule: "R1", New: silent(newFirstInMapProcess()), Catches: []string{"P1", "P7", "P5"},
			Mistake: "CallEndedFirstInMap in a bot that does not report its gate (no GateReporter, as most bots): only what it writes after its CallEnded shows the recording that goes on"},
		{Name: "ScratchCallField", Rule: "R1", New: newScratchProcess().newBot, Catches: []string{"P1", "P7"},
			Mistake:    "the media path keeps the call whose frame it handles in a field of the process (set on arrival, read after admission and encoding, under a lock each time): a frame admitted under its own call's lease is written to the storage of whichever call's frame arrived meanwhile",
			Unreliable: "measured 1/10 and 7/10 (the rate follows the machine's load), 18/20 under -race, on 20c4db3 (0/10 and 0/5 before it, when the neighbouring call's frames came only between two steps of the call under test, so the two calls' media never overlapped and -race could not see an unlocked version either; 20c4db3 hands them over beside a step of frames, as round16-media-overlap.patch did). Caught only when the other call's frame lands between this one's arrival and its write, a window of a lease and a copy: under -race the instrumented code widens it. No failure replays (rapid says flaky), and every one fails the run"},
		{Name: "SharedTranscriber", Rule: "R1", New: newTranscriberProcess().newBot, Catches: []string{"P7", "P1"},
			Mistake: "one speech recognizer for the process, fed by every call's media handler while some call records (\"a session costs money\"), reset when a recording opens and its unfinished segment dropped when it closes: its segments, written under the recording call's lease into that call's transcript, carry the other calls' words"},
		{Name: "JitterBufferByStream", Rule: "R1", New: newJitterPerStreamProcess().newBot, Catches: []string{"P7", "P1"},
			Mistake: "jitter buffers in a process-wide map keyed by stream number, not by call and stream: every frame is pushed before admission, a call's gate change empties its buffers, and a full buffer's oldest frame is written under the lease of the call whose frame filled it, so the recording call persists the other call's frame held in the same buffer"},
		{Name: "OneWriterForProcess", Rule: "R1", New: newWriterProcess().newBot, Catches: []string{"P7", "P1"},
			Mistake: "one writer goroutine for the process (the storage client is not safe for concurrent use); a job carries a stream and a frame, not its call, and the writer writes it under a lease of its own into the call that records, while a media handler queues its frame whenever some call records"},
	}
}

// Correct lists the correct bots of this round: what they share between
// calls, the process may share.
func Correct() []CorrectBot {
	return []CorrectBot{
		{Name: "RegistryByCallID", New: newRegistryProcess(),
			What: "a registry of calls by call ID: every handler, media included, looks up its call by the call's own ID; each call has its own machine over its own env.Updater, its own streams and Sink; CallEnded ends and removes that call"},
		{Name: "SharedWorkerPool", New: newPoolProcess().newBot,
			What: "four writer goroutines for the process: a media handler takes its own call's lease, hands the job (its call's Sink, its stream, the frame) to the pool, and holds the lease until a worker wrote it"},
		{Name: "JitterBufferPerCall", New: newJitterPerCallProcess().newBot,
			What: "JitterBufferByStream keyed by call and stream: every frame is held before admission, and what a call's buffers hold is discarded, never persisted, when its gate opens or closes"},
		{Name: "CallEndStopsTheRecording", New: newEndStopsProcess().newBot,
			What: "a call's CallEnded first stops the process's recording, whichever call's it is (its machine's Stop: gate closed, writes drained, hook, notRecording through that call's own Graph): wrong for the product, since a recording ends when another call does, and within the rule (failed 10/10 by P3 on b9147f5, where the neighbour's bot calls carried the call under test's context tag, so the report the neighbour's CallEnded sent for the call under test counted as a second request of that call's Start; passes since db39503 gave the neighbour's calls a tag of their own)"},
		{Name: "RegistryRefusesRejoin", New: newRefuseRejoinProcess(),
			What: "RegistryByCallID that refuses to join a call ID it still serves (Graph never gives two calls one ID; a second join is a replayed webhook or a bug) (failed 10/10, in the first case, with \"the bot factory failed\", while the preflight's bot and every case played one call ID and the preflight dropped its bot without CallEnded; passes 10/10 since 1005173 gave every call its own ID)"},
		{Name: "RegistryIdempotentJoin", New: newIdempotentJoinProcess(),
			What: "RegistryByCallID whose join is idempotent: a join for a call ID it still serves gets that call's bot (Graph may deliver the incoming call twice) (failed 10/10 by P9 while every case played one call ID: the next case's join got an earlier case's call, machine and Sink; passes 10/10 since 1005173)"},
		{Name: "OneGraphClient", New: newOneClientProcess().newBot,
			What: "one Graph client for the process, built once as production code builds one graph.Client at startup: here the first env.Updater the process is handed (the preflight's); every call's machine sends through it with its own call ID (failed 10/10 by P1+P7, \"began persisting before any recording request was sent\", while every case played the preflight's call ID and an Updater took every request for its own ID as its own: each case's requests landed in the preflight's world; passes 10/10 since 1005173 routes a request to the call it names)"},
		{Name: "PolicyRecordsEveryCall", New: newPolicyProcess().newBot,
			What: "a compliance-recording bot that asks Graph to record every call as it joins (a goroutine, once), the neighbouring call too, and persists each call's media to its own Sink under its own lease"},
		{Name: "SharedGraphLimiter", New: newLimiterProcess().newBot,
			What: "a process-wide limit of four Graph requests in flight, in front of each call's own env.Updater, on the caller's context"},
	}
}
