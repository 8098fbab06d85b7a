package main

import (
	"github.com/recgate/recgate/internal/botrounds"
	"github.com/recgate/recgate/internal/buggybots"
	"github.com/recgate/recgate/internal/roundeight"
	"github.com/recgate/recgate/internal/roundeighteen"
	"github.com/recgate/recgate/internal/roundeleven"
	"github.com/recgate/recgate/internal/roundfifteen"
	"github.com/recgate/recgate/internal/roundfive"
	"github.com/recgate/recgate/internal/roundfour"
	"github.com/recgate/recgate/internal/roundfourteen"
	"github.com/recgate/recgate/internal/roundnine"
	"github.com/recgate/recgate/internal/roundseven"
	"github.com/recgate/recgate/internal/roundseventeen"
	"github.com/recgate/recgate/internal/roundsix"
	"github.com/recgate/recgate/internal/roundsixteen"
	"github.com/recgate/recgate/internal/roundten"
	"github.com/recgate/recgate/internal/roundthirteen"
	"github.com/recgate/recgate/internal/roundthree"
	"github.com/recgate/recgate/internal/roundtwelve"
	"github.com/recgate/recgate/internal/userbots"
)

// botRound is one round of user-side bots, read from its package's own
// table: the report copies each row's marks (Miss, Limit, Unreliable,
// FalseAlarm) and types none of them.
type botRound struct {
	ordinal string // "one", "two", ...
	pkg     string // "internal/buggybots"
	bugs    []botRow
	correct []correctRow
}

// botRow is one buggy bot of a round, as its table says.
type botRow struct {
	name, rule, mistake string
	// miss: why the suite as it stands passes the bot (botrounds.Bug.Miss).
	miss string
	// limit: the documented limit of the default suite that lets the bot
	// through; another row catches it with an option (userbots.Bug.Limit).
	limit string
	// unreliable: why the suite catches it only in some runs.
	unreliable string
}

// correctRow is one correct bot of a round.
type correctRow struct {
	name, what string
	// falseAlarm: why the suite as it stands fails this correct bot.
	falseAlarm   string
	intermittent bool
}

// botRounds lists every round of user-side bots in the order they were
// written. TestEveryRoundIsListed fails when internal/ holds a round
// this list lacks.
func botRounds() []botRound {
	rounds := []botRound{
		{ordinal: "one", pkg: "internal/buggybots"},
		{ordinal: "two", pkg: "internal/userbots"},
		fromBotrounds("three", "internal/roundthree", roundthree.Bugs(), roundthree.Correct()),
		fromBotrounds("four", "internal/roundfour", roundfour.Bugs(), roundfour.Correct()),
		fromBotrounds("five", "internal/roundfive", roundfive.Bugs(), roundfive.Correct()),
		fromBotrounds("six", "internal/roundsix", roundsix.Bugs(), roundsix.Correct()),
		fromBotrounds("seven", "internal/roundseven", roundseven.Bugs(), roundseven.Correct()),
		fromBotrounds("eight", "internal/roundeight", roundeight.Bugs(), roundeight.Correct()),
		fromBotrounds("nine", "internal/roundnine", roundnine.Bugs(), roundnine.Correct()),
		fromBotrounds("ten", "internal/roundten", roundten.Bugs(), roundten.Correct()),
		fromBotrounds("eleven", "internal/roundeleven", roundeleven.Bugs(), roundeleven.Correct()),
		fromBotrounds("twelve", "internal/roundtwelve", roundtwelve.Bugs(), roundtwelve.Correct()),
		fromBotrounds("thirteen", "internal/roundthirteen", roundthirteen.Bugs(), roundthirteen.Correct()),
		fromBotrounds("fourteen", "internal/roundfourteen", roundfourteen.Bugs(), roundfourteen.Correct()),
		fromBotrounds("fifteen", "internal/roundfifteen", roundfifteen.Bugs(), roundfifteen.Correct()),
		fromBotrounds("sixteen", "internal/roundsixteen", roundsixteen.Bugs(), roundsixteen.Correct()),
		fromBotrounds("seventeen", "internal/roundseventeen", roundseventeen.Bugs(), roundseventeen.Correct()),
		fromBotrounds("eighteen", "internal/roundeighteen", roundeighteen.Bugs(), roundeighteen.Correct()),
	}
	for _, b := range buggybots.Bugs() {
		rounds[0].bugs = append(rounds[0].bugs, botRow{name: b.Name, rule: b.Class, mistake: b.Mistake})
	}
	for _, c := range buggybots.Correct() {
		rounds[0].correct = append(rounds[0].correct, correctRow{name: c.Name, what: c.What})
	}
	for _, b := range userbots.Bugs() {
		rounds[1].bugs = append(rounds[1].bugs, botRow{name: b.Name, rule: b.Rule, mistake: b.Mistake, limit: b.Limit})
	}
	for _, c := range userbots.Correct() {
		rounds[1].correct = append(rounds[1].correct, correctRow{name: c.Name, what: c.What})
	}
	return rounds
}

func fromBotrounds(ordinal, pkg string, bugs []botrounds.Bug, correct []botrounds.CorrectBot) botRound {
	r := botRound{ordinal: ordinal, pkg: pkg}
	for _, b := range bugs {
		r.bugs = append(r.bugs, botRow{name: b.Name, rule: b.Rule, mistake: b.Mistake, miss: b.Miss, unreliable: b.Unreliable})
	}
	for _, c := range correct {
		r.correct = append(r.correct, correctRow{name: c.Name, what: c.What, falseAlarm: c.FalseAlarm, intermittent: c.Intermittent})
	}
	return r
}
