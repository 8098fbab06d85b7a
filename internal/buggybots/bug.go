package buggybots

import "github.com/recgate/recgate/properties"

// Hung is the pseudo-invariant a Bug lists in Catches when the suite is
// expected to catch it by its watchdog ("bot hung in Stop ...") rather than
// by a broken invariant.
const Hung = "hung"

// Interference is the pseudo-invariant a Bug lists in Catches when the
// suite's opt-in noninterference check is expected to catch it ("noninterference
// violated: ...").
const Interference = "noninterference"

// Bug is one bot wiring with one mistake a real team makes.
type Bug struct {
	// Name is short and stable, for test names and the README table.
	Name string
	// Class is the bug class of issue 8 it stands for (pre-roll, derived
	// data, write-behind, ...).
	Class string
	// Mistake says, in a sentence, what the team did and why it breaks
	// the rule.
	Mistake string
	// Catches lists the invariant IDs ("P1", "P7", ...) the suite may name
	// when it catches the bot, or Hung. A verdict that names none of them
	// caught the bot for an unexpected reason.
	Catches []string
	// New builds the bot for one case of the suite.
	New properties.Factory
	// Noninterference marks a bot that persists no media content (counts,
	// digests): only the suite's opt-in noninterference check can catch
	// it, and the default suite is expected to pass it.
	Noninterference bool
}

// CorrectBot is a wiring that keeps the rule: the suite must pass it.
type CorrectBot struct {
	// Name is short and stable, for test names.
	Name string
	// What says what the bot does that a naive suite might mistake for a
	// violation.
	What string
	// New builds the bot for one case of the suite.
	New properties.Factory
}

// Correct lists the correct bots: every one must pass properties.Check.
func Correct() []CorrectBot {
	return []CorrectBot{
		{Name: "RetryingStart", New: NewRetryingStart,
			What: "fsm-based; retries Start itself after 429, 503 or 504 (at most three tries, waiting Retry-After up to a cap), never after 8506, a failed operation, a timeout or a terminated call, and never once Stop, Fail or CallEnded was asked"},
		{Name: "JitterBuffer", New: NewJitterBuffer,
			What: "keeps up to three frames per stream to smooth jitter; buffers only frames that arrived under a lease (inside the confirmed recording) and writes the rest in the recording-ended hook; drops the tail when the call ended"},
		{Name: "BufferedRecording", New: NewBufferedRecording,
			What: "bufio.Writer per stream over the sink, written under a lease per frame; the recording-ended hook flushes the bufio.Writers, then the sink (the fix of HookDoesNotFlush)"},
		{Name: "WriteBehind", New: NewWriteBehind,
			What: "hands frames accepted under a lease to a writer goroutine; the recording-ended hook waits until the writer has written everything queued before it returns, and Close stops the goroutine"},
	}
}

// Bugs lists the seeded bot-side bugs, at least one per class of issue 8.
func Bugs() []Bug {
	return []Bug{
		{Name: "PreRoll", Class: "pre-roll", New: NewPreRoll, Catches: []string{"P7"},
			Mistake: "keeps the last frames before consent in a ring buffer and writes them when the gate opens, so the recording starts a second early"},
		{Name: "DerivedTranscript", Class: "derived data", New: NewDerivedTranscript, Catches: []string{"P7", "P1", "P9"},
			Mistake: "a live transcript fed every frame since the bot joined, persisted with the recording when it ends: it carries words said before consent"},
		{Name: "WriteBehind", Class: "write-behind", New: NewLeakyWriteBehind, Catches: []string{"P1", "P7", "P9"},
			Mistake: "Frame checks the gate and queues the frame for a batching writer goroutine; Stop returns without waiting for it, so a batch lands after notRecording"},
		{Name: "OptimisticOpen", Class: "optimistic open", New: NewOptimisticOpen, Catches: []string{"P1", "P7"},
			Mistake: "hand-rolled gate that opens when recording is sent, to save the round-trip, and closes again unless Graph replies completed; it does not report its gate"},
		{Name: "HookDoesNotFlush", Class: "hook that does not flush", New: NewHookDoesNotFlush, Catches: []string{"P1", "P7", "P9"},
			Mistake: "bufio.Writer over the sink; the recording-ended hook calls Sink.Flush but not the bufio's Flush, so buffered frames reach storage at the next recording or at Close"},
		{Name: "LeaseAcrossRecording", Class: "one lease held across the recording", New: NewLeaseAcrossRecording, Catches: []string{Hung, "P7", "P9"},
			Mistake: "takes one lease per stream when recording starts and releases them in the hook; fsm runs the hook only after every lease is released, and Stop ignores cancellation, so Stop deadlocks"},
		{Name: "LeaseAcrossRecordingWithDeadline", Class: "one lease held across the recording", New: NewLeaseAcrossRecordingWithDeadline, Catches: []string{Hung, "P7", "P9"},
			Mistake: "the same held lease, with Stop honouring its context: Stop gives up waiting for the drain, and frames keep being written through the stale lease after the bot was asked to stop"},
		{Name: "RetryOn8506", Class: "retry on 8506", New: NewRetryOn8506, Catches: []string{"P3"},
			Mistake: "a generic retry helper around Start retries every error: the 8506 policy refusal, a failed operation, a timeout, a terminated call"},
		{Name: "StaleUpdateOpens", Class: "stale update opens the gate", New: NewStaleUpdateOpens, Catches: []string{"P1", "P4", "P7", "P8"},
			Mistake: "hand-rolled notification handler that opens the gate on any completed operation for the call, without matching it to the pending attempt's clientContext"},
		{Name: "HeldAcrossStop", Class: "media held across notRecording", New: NewHeldAcrossStop, Catches: []string{"P7"},
			Mistake: "an encoder with one frame of lookahead emits each frame when the next arrives; the hook does not flush the encoder, so the last frame of one recording is written in the next"},
		{Name: "DigestOnly", Class: "derived data without content", New: NewDigestOnly, Catches: []string{"P7", Interference}, Noninterference: true,
			Mistake: "writes a running SHA-256 fingerprint of all audio since the bot joined next to each recorded frame; the digest depends on pre-consent media but carries no canary"},
		{Name: "CountsOnly", Class: "derived data without content", New: NewCountsOnly, Catches: []string{"P7", Interference}, Noninterference: true,
			Mistake: "writes, next to each recorded frame, the running count of audio bytes seen since the call began; the count depends on pre-consent media (if their lengths vary) but carries no canary"},
	}
}
