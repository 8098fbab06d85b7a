package roundfifteen

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

// Bugs lists the buggy bots of this round.
func Bugs() []Bug {
	return []Bug{
		{Name: "HangupStopsViaActor", Rule: "protocol", New: NewHangupStopsViaActor, Catches: []string{"P5"},
			Mistake: "every control event of the call runs on one control actor, each job with a deadline of its own on the actor's lifetime context (jobs carry no context); CallEnded first stops a recording in progress with a Stop job (\"clear Graph's indicator before we leave\"): notRecording is sent after the call ended, while CallEnded waits for the job"},
		{Name: "DoubleReportViaActor", Rule: "protocol", New: NewDoubleReportViaActor, Catches: []string{"P3"},
			Mistake: "the same control actor; the Stop job sends notRecording once more after the machine's Stop succeeded (\"the red dot sticks\"): two reports in one Stop"},
		{Name: "OwedReportAnyError", Rule: "protocol", New: NewOwedReportAnyError, Catches: []string{"P3"},
			Mistake: "Stop and Fail close admission and run the machine's Stop or Fail on a goroutine (the webhook answers at once); a report that failed, for any reason, is owed and sent again by the next OperationUpdate handler: also after 403 8506 and 404, which Graph refuses for good"},
		{Name: "MulawPreRollTranscript", Rule: "R1", New: NewMulawPreRollTranscript, Catches: []string{"P7", Vacuous},
			Mistake: "each stream archived as G.711 mu-law audio records beside the recognizer's transcript records; each recording's audio begins with the last eight frames heard before consent (a pre-roll \"so the first syllable is not clipped\")"},
		{Name: "FramePreviewLog", Rule: "R1", New: NewFramePreviewLog, Catches: []string{"P1", "P7", Vacuous, Interference}, Options: untracedLog,
			Mistake: "a receive log on a stream named as holding no media (WithUntracedStreams) quotes the first 16 bytes of every frame in hex, recording or not: media heard before consent is persisted"},
	}
}

// Correct lists the correct bots of this round.
func Correct() []CorrectBot {
	return []CorrectBot{
		{Name: "ActorControl", New: NewActorControl,
			What: "every control event of the call runs on one control actor, each job with a deadline of its own on the actor's lifetime context; the hang-up goes to the machine at once"},
		{Name: "OwedReportTransient", New: NewOwedReportTransient,
			What: "Stop and Fail close admission and run the machine's Stop or Fail on a goroutine; a report that failed with a timeout, a 5xx, 429 or a failed operation is sent again by the next OperationUpdate handler"},
		{Name: "WavPerRecording", New: NewWavPerRecording,
			What: "each recording's record on a stream begins with a 44-byte WAVE header (no media) under the first frame's lease, then the frames as they came"},
		{Name: "FrameSizeLog", New: NewFrameSizeLog, Options: untracedLog,
			What: "a receive log on a stream named as holding no media: a line per frame received, with its stream and size only"},
	}
}
