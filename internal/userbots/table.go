package userbots

import "github.com/recgate/recgate/properties"

// Pseudo-invariants a Bug may list in Catches besides "P1".."P9".
const (
	// Hung: the suite's watchdog says the bot hung.
	Hung = "hung"
	// Interference: the opt-in noninterference check fails the bot.
	Interference = "noninterference"
)

// Bug is one buggy wiring.
type Bug struct {
	// Name is short and stable, for test names and the report.
	Name string
	// Rule is what the bot breaks: "R1", "R2" or "protocol".
	Rule string
	// Mistake says what the team did and why it breaks the rule.
	Mistake string
	// Catches lists the invariant IDs the suite may name when it catches
	// the bot (or Hung, Interference).
	Catches []string
	// Options are passed to the suite (e.g. WithNoninterference for a
	// bot only that check can catch).
	Options []properties.Option
	// Limit, when set, is the documented limit of the default suite that
	// lets the bot pass it (properties/doc.go, "What cannot be traced"):
	// the test asserts that the default suite passes it, so that a change
	// of that limit shows, and the bot's row with Options catches it.
	Limit string
	// New builds the bot for one case.
	New properties.Factory
}

// CorrectBot is a wiring that keeps the rule: the suite must pass it.
type CorrectBot struct {
	// Name is short and stable.
	Name string
	// What says what the bot does that a suite might mistake for a
	// violation.
	What string
	// Vacuous, when set, says why the suite cannot judge the bot: its run
	// must fail as vacuous, naming what the bot should do, and never pass.
	Vacuous string
	// New builds the bot for one case.
	New properties.Factory
}
