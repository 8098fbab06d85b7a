package roundeleven

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
		{Name: "TimerDrain", Rule: "R2", New: NewTimerDrain, Catches: []string{"P1", "P2"},
			Mistake:    "an atomic flag that follows fsm's gate, and a hook that lets handlers in flight finish by waiting one frame time (20 ms) on a timer's channel or its context, then flushes: a write slower than the timer lands after notRecording",
			Unreliable: "measured 4/10 (all flaky) before the suite took round eleven's patch, 3/10 (all flaky) with it on a scratch copy, 0/10 once it landed: the write Stop met is let go once Stop is seen blocked (play.go watched.hold -> settle.go settle), and a goroutine parked on a timer's channel (chan receive, select) looks exactly like one waiting for the write, so the write lands inside the timer wait, before the report; it is caught only when the timer fires before stack sampling sees Stop parked. The runtime does not say which channel a goroutine waits on, so no sampling fix tells the two apart"},
		{Name: "SleepDrainShort", Rule: "R2", New: NewSleepDrainShort, Catches: []string{"P1", "P2"},
			Mistake: "the same flag, and a hook that sleeps 2 ms (\"a write takes microseconds\") instead of waiting for the handlers in flight"},
		{Name: "PollThenGiveUp", Rule: "R2", New: NewPollThenGiveUp, Catches: []string{"P1", "P2"},
			Mistake: "the same flag, and a hook that polls the count of handlers in flight every millisecond but gives up after one frame time (\"never hold up the report\") and lets the machine report with a write still in flight"},
	}
}

// Correct lists the correct bots of this round.
func Correct() []CorrectBot {
	return []CorrectBot{
		{Name: "PollingDrain", New: NewPollingDrain,
			What: "the same flag, and a hook that polls the count of handlers in flight every millisecond (time.Sleep) until it is zero, then flushes"},
		{Name: "ZlibInGzip", New: NewZlibInGzip,
			What: "each frame packed with zlib (a per-frame codec), the packed frames written through one gzip.Writer per stream straight over env.Sink and flushed after each frame, under fsm's leases"},
	}
}
