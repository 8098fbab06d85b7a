package roundeight

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

// faultEvery is how often the rows that prototype storage faults fail a
// write: every fourth.
const faultEvery = 4

// hangTimeout is the suite's timeout for the bot that hangs: a hang is
// named sooner than with the default 2 s, and the tests stay fast.
const hangTimeout = 500 * time.Millisecond

// Bugs lists the buggy bots of this round.
func Bugs() []Bug {
	return []Bug{
		// Storage clients with retries and part sizes of their own.
		{Name: "UploadRetryAfterStop", Rule: "R2", New: NewUploadRetryAfterStop, Catches: []string{"P1", "P2", "P7"},
			Mistake: "the storage SDK tries each append once under the frame's lease and, on a transient failure (503 ServerBusy), retries it from a goroutine with exponential backoff (15, 30, 60 ms...) and returns \"accepted\": a retry lands after the lease, after Stop's drain, after notRecording"},
		{Name: "UploadRetryWithStorageFaults", Rule: "R2", New: withStorageFaults(faultEvery, newUploadRetry), Catches: []string{"P1", "P2", "P7"},
			Mistake: "UploadRetryAfterStop on storage that fails every fourth write with 503 (the row's factory wraps env.Sink: the prototype of the storage faults the suite now draws itself, ErrStorageFault)"},
		{Name: "MultipartPartCarry", Rule: "R1", New: NewMultipartPartCarry, Catches: []string{"P7", "P1"},
			Mistake: "one multipart upload per call: frames appended under their lease to a part buffer per stream, a full part (256 bytes) uploaded under the lease of the frame that filled it; parts must be full except the last, so the hook of Stop and Fail uploads nothing and CompleteMultipartUpload at hang-up uploads the rest: a recording's tail lands in the next recording, or at the end of the call after notRecording"},
		// Panics.
		{Name: "PanicLeaksLease", Rule: "R2", New: NewPanicLeaksLease, Catches: []string{Hung},
			Options: []properties.Option{properties.WithTimeout(hangTimeout)},
			Mistake: "the level meter between Acquire and a Release that is not deferred panics on an odd-length frame (a 16-bit sample loop reads past the end); the middleware recovers and the lease is never released, so the next Stop, Fail or CallEnded waits for it for ever"},
		{Name: "PanicRetryQueue", Rule: "R1", New: NewPanicRetryQueue, Catches: []string{"P7"},
			Mistake: "at-least-once processing: a frame whose handler panicked (the level meter, run before the gate) goes to a retry queue, written under the lease of the stream's next frame that gets one: frames heard before consent are written once the gate opens, and a recording's frames in the next one"},
		{Name: "HookRecoverSwallowsPanic", Rule: "R2", New: NewHookRecoverSwallowsPanic, Catches: []string{"P2", "P1", "P7"},
			Mistake: "the hook flushes a bufio.Writer per stream and recording, made lazily on the stream's first frame; a stream without a frame has a nil writer, whose Flush panics; the team's recover around every hook returns nil, so the machine reports with the later streams' buffers unflushed (and the storage not flushed): they reach storage in the next recording"},
		// Capture time and write time.
		{Name: "JitterBufferAcrossOpen", Rule: "R1", New: NewJitterBufferAcrossOpen, Catches: []string{"P7"},
			Mistake: "a jitter buffer (3 frames per stream) in the transport, fed every frame; the frame it plays out is written under a lease or dropped; nothing empties it when the gate opens or closes: pre-consent frames are written in the recording, a recording's last frames in the next"},
		{Name: "CaptureTickFilter", Rule: "R1", New: NewCaptureTickFilter, Catches: []string{"P7"},
			Mistake: "JitterBufferAcrossOpen fixed by capture time: frames stamped in 20 ms RTP ticks, the gate's opening too, and a frame captured before the opening's tick dropped; a frame captured in the opening's own tick, before Graph's completed, passes"},
		// Metadata and derived data.
		{Name: "UtteranceSpansOpen", Rule: "R1", New: NewUtteranceSpansOpen, Catches: []string{"P7"},
			Mistake: "the recognizer hears every frame (live captions), and each final result (an utterance of 3 frames) is written under a lease, or dropped while the gate is closed; a final just after the opening holds words of frames heard before consent, and one in a recording the end of an utterance begun in the last"},
		{Name: "VoiceprintEnrollmentNoninterference", Rule: "R1", New: NewVoiceprintEnrollment, Catches: []string{Interference},
			Options: []properties.Option{properties.WithNoninterference()},
			Mistake: "each stream's speaker label is a voiceprint (a digest) enrolled from the first two frames heard on it, before consent if the participant spoke then, and persisted with every frame of the recording: biometric data derived from pre-consent audio, which keeps no canary (the default suite passes it, by its documented limit)"},
		{Name: "ShingleIndexPreRoll", Rule: "R1", New: NewShingleIndexPreRoll, Catches: []string{"P7"},
			Mistake: "a search record per frame under its lease: the frame's text and the word bigrams, joined by '_', of the last 6 words heard on the stream, fed by every frame since the bot joined: the first records of a recording hold words heard before consent"},
		{Name: "ShingleIndexPreRollNoninterference", Rule: "R1", New: NewShingleIndexPreRoll, Catches: []string{"P7", Interference},
			Options: []properties.Option{properties.WithNoninterference()},
			Mistake: "ShingleIndexPreRoll under WithNoninterference"},
		// Windows in which media keeps coming.
		{Name: "OptimisticOnNotification", Rule: "R1", New: NewOptimisticOnNotification, Catches: []string{"P1", "P7"},
			Mistake: "the webhook sets a \"recording\" flag on a completed notification before fsm sees it, and clears it when fsm refuses the update (or the gate closes); a frame the gate refuses is written while the flag is set: on a stale completed, frames arriving while the webhook runs are persisted"},
		{Name: "HangupFinalizeBeforeClose", Rule: "R1", New: NewHangupFinalizeBeforeClose, Catches: []string{"P7", "P1"},
			Mistake: "CallEnded finalizes the file (flush, close) before it calls the machine's CallEnded, and frames that arrive meanwhile, from the media socket's buffers, are appended straight to the file: media that arrived after the call ended is persisted"},
	}
}

// Correct lists the correct bots of this round.
func Correct() []CorrectBot {
	return []CorrectBot{
		{Name: "StorageRetryUnderLease", New: withStorageFaults(faultEvery, NewStorageRetryUnderLease),
			What: "storage that fails every fourth write (the row's prototype of storage faults); the bot retries a failed write at once, up to three times, while the frame's lease is held, and drops the frame if every try fails"},
		{Name: "ParallelFinalUpload", New: NewParallelFinalUpload,
			What: "frames kept in memory under their lease; the recording-ended hook uploads every stream's recording in parallel, a goroutine per stream, and waits for all before it flushes, also on CallEnded, while the end of the call is handled"},
		{Name: "PanicRecoveredReleases", New: NewPanicRecoveredReleases,
			What: "the level meter panics on odd-length frames, recovered by the middleware; the lease is released by a defer taken right after Acquire, so the panicking frame is dropped and nothing is held"},
		{Name: "SeparateArchivalRecognizer", New: NewSeparateArchivalRecognizer, Options: []properties.Option{properties.WithNoninterference()},
			What: "a live recognizer hears every frame for the meeting's captions (never stored); an archival one hears only frames under a lease, its finals written under that lease and its unfinished utterance by the hook; with WithNoninterference"},
	}
}
