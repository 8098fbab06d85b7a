package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// notCoveredTitle is the section a reviewer reads to learn what the
// verdict does not vouch for.
const notCoveredTitle = "What these checks do not cover"

// notCoveredAnchor is the section's GitHub anchor.
const notCoveredAnchor = "#what-these-checks-do-not-cover"

// gaps is what the section found, for the verdict's summary of it.
type gaps struct {
	misses, limits, unreliable, falseAlarms, partialRates int
	roundsNotRun                                          []string
	botsNotRun                                            int
	crash                                                 string // what the verdict says about crash recovery
}

// notCovered writes the section from the sources of truth: each round's
// table (internal/buggybots ... internal/roundeight), README.md's measured
// rates, properties/doc.go's limits and whether internal/crashtest ran.
// Nothing in it is a claim typed here: every name, diagnosis, rate and
// limit is read from where the project keeps it, and said to be so.
func (r *report) notCovered(botsRan bool) {
	s := r.section(notCoveredTitle)
	s.p("The verdict speaks only for the checks listed under \"Every check\". Below, from the project's own sources, what they do not cover. **Nothing below was run in this review unless it says so.**")
	s.p("")
	r.crashRecovery(s)
	rounds := botRounds()
	r.roundsTable(s, rounds, botsRan)
	rates, ratesNote := r.measuredRates(rounds)
	r.knownMisses(s, rounds, rates, ratesNote)
	r.partialCatches(s, rounds, rates, ratesNote)
	r.limitsSection(s)
}

// crashRecovery says whether internal/crashtest ran here, and what it
// does not show even when it did.
func (r *report) crashRecovery(s *section) {
	s.p("### Crash recovery and the journal")
	s.p("")
	c := r.find(crashTestName)
	switch {
	case c == nil || !c.ran:
		why := "the report did not try it"
		if c != nil {
			why = strings.TrimPrefix(c.skipped, "not run here: ")
		}
		r.gaps.crash = "crash recovery (internal/crashtest) was not run"
		s.p("Crash recovery (`fsm.Journal`, `Recover`, `ArchiveEnded`) is proven by `internal/crashtest`, which SIGKILLs `examples/bot -crash-safe-dir` at drawn points and checks its recovery. **Not run in this review** (%s): run `go test ./internal/crashtest -kills 100`.", why)
	case c.passed:
		kills := killCount.FindStringSubmatch(c.detail)
		n := "an unknown number of"
		if kills != nil {
			n = kills[1]
		}
		r.gaps.crash = "crash recovery ran with " + n + " SIGKILLs only"
		s.p("Crash recovery is proven by `internal/crashtest`: **it ran in this review with %s SIGKILLs** (its default; `go test ./internal/crashtest -kills 100` draws more) and passed. What it logged: %s", n, c.detail)
	default:
		r.gaps.crash = "crash recovery FAILED"
		s.p("Crash recovery (`internal/crashtest`) ran in this review and **FAILED**: %s", c.detail)
	}
	s.p("")
	s.p("A SIGKILL ends the process, not the machine: what the operating system had accepted but not yet written stays in its cache and reaches the disk, so these kills do not show what survives a power loss or a kernel crash.")
	s.p("")
}

var killCount = regexp.MustCompile(`\b(\d+) kills\b`)

// roundsTable lists every round of user-side bots and whether it ran here.
func (r *report) roundsTable(s *section, rounds []botRound, botsRan bool) {
	s.p("### Rounds of user-side bots")
	s.p("")
	s.p("Each round is a package of buggy bots (one mistake each) and correct ones, written to find what the property suite misses. This review runs round one only (the section above); `go test ./internal/...` runs every round once per bot.")
	s.p("")
	s.p("| round | package | buggy bots | correct bots | in this review |")
	s.p("|---|---|---|---|---|")
	for i, rd := range rounds {
		here := "**not run in this review**"
		if i == 0 && botsRan {
			here = "ran: once per bot (above)"
		} else {
			r.gaps.roundsNotRun = append(r.gaps.roundsNotRun, rd.ordinal)
			r.gaps.botsNotRun += len(rd.bugs) + len(rd.correct)
		}
		s.p("| %s | `%s` | %d | %d | %s |", rd.ordinal, rd.pkg, len(rd.bugs), len(rd.correct), here)
	}
	s.p("")
}

// measuredRates reads README.md's rates, or says why it could not.
func (r *report) measuredRates(rounds []botRound) (map[string]measuredRate, string) {
	if r.prov.root == "" {
		return nil, "README.md's measured rates are not quoted: the report was not run from a checkout"
	}
	raw, err := os.ReadFile(filepath.Join(r.prov.root, "README.md"))
	if err != nil {
		return nil, "README.md's measured rates are not quoted: " + err.Error()
	}
	known := map[string]bool{}
	for _, rd := range rounds {
		for _, b := range rd.bugs {
			known[b.name] = true
		}
	}
	return readmeRates(string(raw), known), ""
}

// summary is the verdict's paragraph on what it does not cover.
func (g gaps) summary() string {
	var parts []string
	if len(g.roundsNotRun) > 0 {
		parts = append(parts, fmt.Sprintf("%d user-side bots in %d rounds (%s) were not run", g.botsNotRun, len(g.roundsNotRun), strings.Join(g.roundsNotRun, ", ")))
	}
	parts = append(parts, fmt.Sprintf("the rounds' tables list %d known misses of the property suite, %d bugs that pass the default suite by a documented limit, %d caught in some runs only and %d false alarms", g.misses, g.limits, g.unreliable, g.falseAlarms))
	if g.partialRates > 0 {
		parts = append(parts, fmt.Sprintf("README.md records %d more bugs caught in only some runs (measured outside this review)", g.partialRates))
	}
	if g.crash != "" {
		parts = append(parts, g.crash)
	}
	parts = append(parts, "the property suite's documented limits (media it cannot trace, two calls per case whose media overlap only by chance, writes later than its late window) apply to every suite result here")
	return "**What this verdict does not cover** (see [" + notCoveredTitle + "](" + notCoveredAnchor + ")): " + strings.Join(parts, "; ") + "."
}

// rateSource labels a rate with where it was measured.
func rateSource(name string, m measuredRate) string {
	where := "README.md"
	if m.pkg != "" {
		where = "README.md's table for `" + m.pkg + "`"
	}
	pkg := m.pkg
	if pkg == "" {
		pkg = "internal/<round>"
	}
	return fmt.Sprintf("%s records it (measured outside this review; again with `MEASURE='^%s$' RUNS=%s go test ./%s -run TestMeasure -v`)", where, name, m.runs, pkg)
}

// knownMisses lists every row a round marks as missed, a documented
// limit, unreliable or a false alarm.
func (r *report) knownMisses(s *section, rounds []botRound, rates map[string]measuredRate, ratesNote string) {
	s.p("### Known misses of the property suite")
	s.p("")
	s.p("Bugs each round's table marks as passing the suite as it stands (its `Miss`, with the diagnosis), or as passing the default suite because of a documented limit (its `Limit`), or as caught in some runs only (its `Unreliable`); and correct bots the suite fails (its `FalseAlarm`). **None of these was run in this review.**")
	s.p("")
	if ratesNote != "" {
		s.p("%s.", ratesNote)
		s.p("")
	}
	listed := false
	for _, rd := range rounds {
		for _, b := range rd.bugs {
			kind, why := "", ""
			switch {
			case b.miss != "":
				kind, why = "known miss", b.miss
				r.gaps.misses++
			case b.limit != "":
				kind, why = "documented limit of the default suite", b.limit
				r.gaps.limits++
			case b.unreliable != "":
				kind, why = "caught in some runs only", b.unreliable
				r.gaps.unreliable++
			default:
				continue
			}
			listed = true
			s.p("- **%s** (round %s, `%s`, %s): %s; **not run in this review**.", b.name, rd.ordinal, rd.pkg, b.rule, kind)
			s.p("  - The mistake: %s", oneLine(b.mistake))
			s.p("  - Why (the table's diagnosis): %s", oneLine(why))
			if m, ok := rates[b.name]; ok {
				s.p("  - Catch rate as %s: %s", rateSource(b.name, m), m.rate)
			}
		}
		for _, c := range rd.correct {
			if c.falseAlarm == "" {
				continue
			}
			listed = true
			r.gaps.falseAlarms++
			when := "every run"
			if c.intermittent {
				when = "some runs"
			}
			s.p("- **correct/%s** (round %s, `%s`): a false alarm: the suite fails this correct bot in %s; **not run in this review**.", c.name, rd.ordinal, rd.pkg, when)
			s.p("  - What it does: %s", oneLine(c.what))
			s.p("  - Why (the table's diagnosis): %s", oneLine(c.falseAlarm))
		}
	}
	if !listed {
		s.p("No round's table marks a miss, a limit, an unreliable catch or a false alarm.")
	}
	s.p("")
}

// partialCatches lists the bugs README.md records as caught in only some
// runs, that no mark above already lists.
func (r *report) partialCatches(s *section, rounds []botRound, rates map[string]measuredRate, ratesNote string) {
	s.p("### Bugs caught in only some runs")
	s.p("")
	if ratesNote != "" {
		s.p("%s.", ratesNote)
		s.p("")
		return
	}
	s.p("A single run of the suite can pass these bugs. The rates are README.md's, measured outside this review (each with the command given); this review ran none of these bots.")
	s.p("")
	s.p("| round | bot | caught | where measured |")
	s.p("|---|---|---|---|")
	n := 0
	for _, rd := range rounds {
		for _, b := range rd.bugs {
			m, ok := rates[b.name]
			if !ok || !m.partial() || b.miss != "" || b.limit != "" || b.unreliable != "" {
				continue
			}
			n++
			s.p("| %s | %s | %s | %s |", rd.ordinal, b.name, cellText(m.rate), cellText(rateSource(b.name, m)))
		}
	}
	r.gaps.partialRates = n
	s.p("")
}

// limitsSection quotes the property suite's documented limits verbatim.
func (r *report) limitsSection(s *section) {
	s.p("### The property suite's documented limits, in its own words")
	s.p("")
	const file = "properties/doc.go"
	if r.prov.root == "" {
		s.p("Not quoted: the report was not run from a checkout, so `%s` cannot be read. See `go doc github.com/recgate/recgate/properties`.", file)
		s.p("")
		return
	}
	raw, err := os.ReadFile(filepath.Join(r.prov.root, file))
	if err != nil {
		s.p("Not quoted: %v.", err)
		s.p("")
		return
	}
	s.p("Quoted verbatim from the package documentation of `properties` (`%s`):", file)
	s.p("")
	paras := docParagraphs(string(raw))
	for _, l := range suiteLimits {
		q := quoteLimit(paras, l)
		if q == "" {
			s.p("- **%s**: `%s` no longer says %q: this report could not quote it.", l.topic, file, l.marker)
			continue
		}
		s.p("- **%s**:", l.topic)
		s.p("")
		s.p("  > %s", q)
		s.p("")
	}
	s.p("")
}

// oneLine keeps text on one line of a Markdown list.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
