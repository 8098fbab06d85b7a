package roundtwelve

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

// untracedMeta declares the metadata stream of the segment bots.
var untracedMeta = []properties.Option{properties.WithUntracedStreams(metaStream)}

// Bugs lists the buggy bots of this round.
func Bugs() []Bug {
	return []Bug{
		// A session of writers per recording.
		{Name: "SessionEndsInHook", Rule: "R1", New: NewSessionEndsInHook, Catches: []string{"P7", "P1"},
			Mistake: "writer goroutines per stream fed by bounded drop-oldest queues, a session started when fsm's gate opens and ended (cancel, wait) by the recording-ended hook; the frame handler queues a frame whenever a session is live, without a lease: frames that arrive after Stop closed the gate and before the hook runs are written (0/10, with and without -race, while the suite delivered no frame between the gate closing and the hook; caught 10/10 since the bot tells the suite its gate closed, Env.GateClosed, and the suite delivers a frame on every stream right then)"},
		{Name: "CancelWithoutWait", Rule: "R2", New: NewCancelWithoutWait, Catches: []string{"P1", "P2"},
			Mistake: "the same session, frames queued under a lease, but the hook only cancels the writers' context (\"they look at it before each write\") and flushes; the group is waited for in Close: a writer that checked the context before the cancel writes after notRecording"},
		{Name: "CancelWithoutWaitStalled", Rule: "R2", New: NewCancelWithoutWait, Catches: []string{"P1", "P2"}, Options: stalls,
			Mistake: "CancelWithoutWait under WithStorageStalls, the second test the docs recommend for a bot with queues"},
		// Start as a task.
		{Name: "StartCancelledByStop", Rule: "R1", New: NewStartCancelledByStop, Catches: []string{"P9", "P7", "P1"},
			Mistake:    "Start runs fsm's Start on a cancellable goroutine (duplicate Starts coalesced); a Stop that comes while it waits for Graph cancels it and returns without the machine's Stop (\"the recording never started\"): a completed already on its way opens the gate after the user said stop",
			Unreliable: "measured 8/10, 9/10 under -race, 10/10 (3 flaky) once the suite judged requests by their context (P9): caught only when the suite runs a Stop or Fail concurrently with Start's request (scenario.go drawStep: st.concurrent, 1 Start in 5, then stop or fail 2 of 5) and draws Graph's completed as already on its way (st.lateReply, 1 in 2); otherwise the cancelled request returns the context's error and nothing opens. The two runs that passed drew no such Start in their 100 cases; the mechanism is sound (GateOpened from the task goroutine after the concurrent Stop returned breaks P9)"},
		{Name: "RetryIgnoresCancel", Rule: "protocol", New: NewRetryIgnoresCancel, Catches: []string{"P5"},
			Mistake:    "Graph middleware retries 429/503/504 (same clientContext, Retry-After capped at 20 ms) on context.WithoutCancel(ctx) (\"a retry must not inherit the webhook's deadline\"): when the call ends while recording is throttled, the retry goes to a call that is gone",
			Unreliable: "measured 2/10, 5/10 under -race, 5/10 again later (P5) while the suite drew concurrent events beside Start's request only (about one case in 200 had CallEnded beside a throttled request); since it also draws a CallEnded beside Stop's and Fail's report (half the throttled ones, one in twenty of the others; this round's suggestion): 8 - 9/10 without -race on its first versions, 13/20 and 4/10 on the day's final suite (only after the case's last Start), 10/10 with -race. It shows only when the call ends while a request whose first answer is 429, 503 or 504 is out, and a run of 100 cases has about one such report in a recording"},
		// Every request from one sender goroutine.
		{Name: "HangupStopsInline", Rule: "protocol", New: NewHangupStopsInline, Catches: []string{"P5"},
			Mistake: "CallEnded first calls the machine's Stop when recording (\"clear Graph's indicator before we leave\"): notRecording is sent after the call ended"},
		{Name: "HangupStopsViaSender", Rule: "protocol", New: NewHangupStopsViaSender, Catches: []string{"P5"},
			Mistake: "HangupStopsInline after the team moved every Graph request to one sender goroutine (pacing for Graph's per-app throttling): the same notRecording after the call ended, sent by the sender while the handler waits for it (0/10, with and without -race, while the suite took a request from another goroutine for no bot call's, P5 exempting it while CallEnded ran; 10/10 since a request made on a running bot call's context is that call's)"},
		{Name: "DoubleReportViaSender", Rule: "protocol", New: NewDoubleReportViaSender, Catches: []string{"P3"},
			Mistake: "round three's DoubleReport (after the machine's Stop succeeded, notRecording once more \"because the red dot sticks\") sent through the sender goroutine: two reports in one Stop (0/10, with and without -race, while the suite took a request from another goroutine for no bot call's and P3 did not count it; 10/10 since a request made on a running bot call's context is that call's)"},
		// Segments and clips.
		{Name: "RingKeptAcrossRecordings", Rule: "R1", New: NewRingKeptAcrossRecordings, Catches: []string{"P7"},
			Mistake: "a ring of each stream's last five seconds (frames written under a lease) that the hook writes as a highlight clip; the ring is the call's, not the recording's, so the next recording's clip starts with the last one's frames"},
	}
}

// Correct lists the correct bots of this round.
func Correct() []CorrectBot {
	return []CorrectBot{
		{Name: "SessionWorkers", New: NewSessionWorkers,
			What: "writer goroutines per stream fed by bounded drop-oldest queues, a session started when fsm's gate opens; frames queued under a lease; the hook cancels the writers' context and waits for them (errgroup-style) before it flushes"},
		{Name: "StartTask", New: NewStartTask,
			What: "Start runs fsm's Start on a cancellable goroutine, duplicate Starts coalesced; a Stop cancels it and still calls the machine's Stop (Close waits for the goroutine)"},
		{Name: "GraphSender", New: NewGraphSender,
			What: "every Graph request sent by one goroutine that paces them; the handlers wait for its reply"},
		{Name: "StopRetriesReport", New: NewStopRetriesReport,
			What: "Stop and Fail call the machine's again (up to three tries) when the report failed with a timeout, a 5xx or a failed operation, as fsm's documentation says (\"call Stop again to retry the report\"); each try is a new clientContext (failed P3 6 - 8/10, with and without -race, while P3 allowed a second request in one attempt only after 429/503/504; passes 10/10 since P3 lets a report be sent again after it failed)"},
		{Name: "SegmentFiles", New: NewSegmentFiles, Options: untracedMeta,
			What: "segment files per stream: header under the first frame's lease, frames, trailer (counts) from the hook; io.MultiWriter to the audio and a lower-case transcript stream; metadata lines (events, participants) at every event, before consent too, on a stream declared with WithUntracedStreams"},
		{Name: "HeaderBeforeGate", New: NewHeaderBeforeGate, Options: untracedMeta,
			What:       "SegmentFiles with each segment's header (format, call ID, stream number; no media) written when the recording is requested, before Graph answers",
			FalseAlarm: "measured failed 10/10, 10/10 under -race (P1: \"stream 0 began persisting before any recording request was sent\"): P1 times every byte on a traced stream (env.go Sink.Write: only a WithUntracedStreams stream stores canary-free bytes untimed), so a header with no media is judged as media would be. R1 is about media and data derived from it; the suite cannot tell a header from an encrypted pre-roll (both carry no canary), which is why untraced bytes are timed, and fsm's EndedHook doc already says to write such bytes only with a frame. A documented strictness, not fixable by sampling: the fix is in the docs (write a segment's header under its first frame's lease)"},
		{Name: "StopLineFirst", New: NewStopLineFirst, Options: untracedMeta,
			What:         "SegmentFiles whose Stop first writes a metadata line with each segment's frame count, read under the lock the frame path holds while it opens a segment, and then calls the machine's Stop; a frame admitted meanwhile (the gate is still open) is written before notRecording",
			FalseAlarm:   "measured failed 5/10 (P7, once with P9), 6/10 under -race, 8/10 later (P7): the Stop the suite draws during a segment's header write (duringWrite, the frame handler holds the segments' lock) waits for that lock before it reaches the machine, so settle sees it blocked and the suite delivers the whileDraining frames: the gate is still open, a frame is admitted under a lease and written before notRecording, inside the confirmed recording, and P7 calls it captured outside any interval because World.Origin ends the interval when the suite asks for Stop (StopAsked), not when the bot's gate closes. R1 and R2 hold (nothing is persisted after notRecording, nothing before completed); P9 says a bot must take no new lease once asked to stop, which no bot can promise for the time its Stop handler runs before it reaches its gate",
			Intermittent: true},
		{Name: "RingClip", New: NewRingClip,
			What: "a ring of each stream's last five seconds (frames written under a lease), written by the hook as a clip and cleared"},
	}
}
