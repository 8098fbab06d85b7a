package botrounds

import "github.com/recgate/recgate/properties"

// Pseudo-invariants a Bug may list in Catches besides "P1".."P10".
const (
	// Hung: the suite's watchdog says the bot hung.
	Hung = "hung"
	// Interference: the opt-in noninterference check fails the bot.
	Interference = "noninterference"
	// Vacuous: the suite says it could not judge what the bot persisted.
	Vacuous = "vacuous"
)

// Bug is one buggy wiring.
type Bug struct {
	// Name is short and stable, for test names and the report.
	Name string
	// Rule is what the bot breaks: "R1", "R2" or "protocol".
	Rule string
	// Mistake says what the team did and why it breaks the rule.
	Mistake string
	// Catches lists the invariant IDs the suite should name when it
	// catches the bot (or Hung, Interference, Vacuous).
	Catches []string
	// Options are passed to the suite.
	Options []properties.Option
	// Miss, when set, says why the suite as it is passes this bot: the
	// test still asserts that the suite catches it, and skips with this
	// reason when it does not, so the package stays green and the miss
	// stays visible; if the suite starts catching it, the test fails
	// until Miss is removed.
	Miss string
	// Unreliable, when set, says why the suite catches this bot only in
	// some runs (the measured rate and the diagnosis): the test runs the
	// suite once, passes when it names a listed invariant, skips with
	// this reason when the run passes, and fails when it names another.
	Unreliable string
	// New builds the bot for one case.
	New properties.Factory
}

// CorrectBot is a wiring that keeps the rule.
type CorrectBot struct {
	// Name is short and stable.
	Name string
	// What says what the bot does that a suite might mistake for a
	// violation.
	What string
	// Options are passed to the suite (WithUntracedStreams, say).
	Options []properties.Option
	// Vacuous, when set, says why the suite cannot judge the bot: its run
	// must fail as vacuous, never pass and never name a violation.
	Vacuous string
	// FalseAlarm, when set, says why the suite as it is fails this correct
	// bot: the test still asserts that it passes, and skips with this
	// diagnosis when the suite fails it, so the package stays green; if
	// the suite starts passing it, the test fails until FalseAlarm is
	// removed.
	FalseAlarm string
	// Intermittent says the false alarm comes in some runs only (a timer
	// racing the suite): a run that passes is logged, not a failure.
	Intermittent bool
	// New builds the bot for one case.
	New properties.Factory
}
