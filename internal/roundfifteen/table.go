package roundfifteen

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

// noninterference is the opt-in check for derived data, which replays
// each case with other media outside the confirmed recordings.
var noninterference = []properties.Option{properties.WithNoninterference()}

// Bugs lists the buggy bots of this round.
func Bugs() []Bug {
	return []Bug{
		// A control actor.
		{Name: "HangupStopsViaActor", Rule: "protocol", New: NewHangupStopsViaActor, Catches: []string{"P5"},
			Mistake: "every control event of the call runs on one control actor, each job with a deadline of its own on the actor's lifetime context (jobs carry no context); CallEnded first stops a recording in progress with a Stop job (\"clear Graph's indicator before we leave\"): notRecording is sent after the call ended, while CallEnded waits for the job (0/10 while the actor's request counted as no call's: CallEnded waited in the actor's mailbox, not inside an UpdateRecordingStatus; 10/10 since the suite took this round's patch: a request from outside every bot call while a control call waits on a channel, a select or a WaitGroup in the bot's own code is that call's)"},
		{Name: "DoubleReportViaActor", Rule: "protocol", New: NewDoubleReportViaActor, Catches: []string{"P3", "P5"},
			Mistake: "the same control actor; the Stop job sends notRecording once more after the machine's Stop succeeded (\"the red dot sticks\"): two reports in one Stop (0 - 3/10, on P5 only, while the actor's requests counted as no call's; 10/10 since this round's control-actor patch: P3 9, P5 1)"},
		// Reports owed to the next webhook.
		{Name: "OwedReportAnyError", Rule: "protocol", New: NewOwedReportAnyError, Catches: []string{"P3"},
			Unreliable: "0/30, 0/10 and 0/5 under -race while World.reportRefusedBg let a bot call send again a report the bot's goroutine got refused for good; since the suite took this round's patch (World.reportsUnsent counts the Stops and Fails asked whose report was not seen yet, and a refusal for good counts only when none is unsent): 4/10 (2 flaky) and 7/10 on the day's final suite (bb9b692), 3/10 and 6 - 8/40 on the round's copy. It needs a report refused for good (8506 or 404, about one case in ten) followed by an update step before the next Start, Stop or Fail",
			Mistake:    "Stop and Fail close admission and run the machine's Stop or Fail on a goroutine (the webhook answers at once); a report that failed, for any reason, is owed and sent again by the next OperationUpdate handler: also after 403 8506 and 404, which Graph refuses for good"},
		// What the sink cannot read, beside what it can.
		{Name: "MulawPreRollTranscript", Rule: "R1", New: NewMulawPreRollTranscript, Catches: []string{"P7", Vacuous},
			Miss:    "measured 0/10 twice: the pre-roll is mu-law, which keeps no canary, and the stream is not blind because the transcript beside it carries traced frames (coverage.go vacuous: a stream is blind only if no frame was ever traced on it); P1 times the pre-roll's write (inside the recording) and cannot read it. Caught 5/5 under WithNoninterference (the next row). A vacuous verdict for a write of 48 bytes or more with no frame, beside traced ones, caught it 5/5 but called two correct bots vacuous (round seven's RedactedTranscript, a transcript line whose canary the redaction masked; round twelve's SegmentFiles, a 97-byte trailer of counts); the round's patch only warned (Coverage.Warnings naming the stream and WithNoninterference), and was not taken",
			Mistake: "each stream archived as G.711 mu-law audio records beside the recognizer's transcript records; each recording's audio begins with the last eight frames heard before consent (a pre-roll \"so the first syllable is not clipped\")"},
		{Name: "MulawPreRollTranscriptNoninterference", Rule: "R1", New: NewMulawPreRollTranscript, Catches: []string{"P7", Vacuous, Interference}, Options: noninterference,
			Mistake: "MulawPreRollTranscript under WithNoninterference (measured 5/5, 10/10: other media before consent changes the pre-roll's mu-law)"},
		// A receive log on an untraced stream.
		{Name: "FramePreviewLog", Rule: "R1", New: NewFramePreviewLog, Catches: []string{"P1", "P7", Vacuous, Interference}, Options: untracedLog,
			Miss:    "measured 0/10 twice: a frame's canary is its last word (scenario.go payload), so 16 bytes from its head never hold one, and bytes without a traced frame on a stream named by WithUntracedStreams are stored and never timed (env.go Sink.Write). Caught 5/5, 10/10 under WithNoninterference (the next row). The round's patch (a second canary of the frame's, glued to its first word, so the frame has as many words as before and round eight's word-window bots are still caught; findCanaries counts a frame once whether one or both of its canaries are found): 5/5, 10/10 (P1, P7) on the round's copy; not taken this late: it changes every frame the suite sends, and every round's rates would need measuring again",
			Mistake: "a receive log on a stream named as holding no media (WithUntracedStreams) quotes the first 16 bytes of every frame in hex, recording or not: media heard before consent is persisted"},
		{Name: "FramePreviewLogNoninterference", Rule: "R1", New: NewFramePreviewLog, Catches: []string{"P1", "P7", Vacuous, Interference}, Options: append([]properties.Option{properties.WithNoninterference()}, untracedLog...),
			Mistake: "FramePreviewLog under WithNoninterference (measured 5/5, 10/10)"},
	}
}

// Correct lists the correct bots of this round.
func Correct() []CorrectBot {
	return []CorrectBot{
		{Name: "ActorControl", New: NewActorControl,
			What: "every control event of the call runs on one control actor, each job with a deadline of its own on the actor's lifetime context; Stop and Fail close admission when asked; the hang-up goes to the machine at once (passes 10/10 and 20/20 with the round's control-actor patch, which the suite took; an earlier version whose Stop closed admission only when the actor ran it was round thirteen's ActorStopQueued, and failed P9 2/10)"},
		{Name: "OwedReportTransient", New: NewOwedReportTransient,
			What: "Stop and Fail close admission and run the machine's Stop or Fail on a goroutine; a report that failed with a timeout, a 5xx, 429 or a failed operation is sent again by the next OperationUpdate handler"},
		{Name: "WavPerRecording", New: NewWavPerRecording,
			What: "each recording's record on a stream begins with a 44-byte WAVE header (no media) under the first frame's lease, then the frames as they came"},
	}
}
