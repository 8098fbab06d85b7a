package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// coverageReport builds only the "What these checks do not cover"
// section, from this checkout, with the crash test recorded as given.
func coverageReport(t *testing.T, crash func(r *report)) (*report, string) {
	t.Helper()
	root := moduleRoot()
	if root == "" {
		t.Fatal("the test does not run inside a recgate checkout: moduleRoot found none")
	}
	r := &report{sections: map[string]*section{}, prov: provenance{root: root}}
	if crash != nil {
		crash(r)
	}
	r.notCovered(true)
	return r, string(r.assemble())
}

// Every row a round's table marks (Miss, Limit, Unreliable, FalseAlarm) is
// in the section, with its round, package and the table's own diagnosis,
// and is said not to have run.
func TestNotCoveredListsEveryKnownMiss(t *testing.T) {
	r, md := coverageReport(t, nil)
	if !strings.Contains(md, "## "+notCoveredTitle+"\n") {
		t.Fatalf("no %q section in:\n%s", notCoveredTitle, md)
	}
	misses := 0
	for _, rd := range botRounds() {
		if !strings.Contains(md, "| "+rd.ordinal+" | `"+rd.pkg+"` | ") {
			t.Errorf("round %s (%s) is not in the rounds table", rd.ordinal, rd.pkg)
		}
		for _, b := range rd.bugs {
			why := b.miss + b.limit + b.unreliable
			if why == "" {
				continue
			}
			if b.miss != "" {
				misses++
			}
			head := "- **" + b.name + "** (round " + rd.ordinal + ", `" + rd.pkg + "`, " + b.rule + "): "
			i := strings.Index(md, head)
			if i < 0 {
				t.Errorf("round %s's known miss %s is not listed (want a line starting %q)", rd.ordinal, b.name, head)
				continue
			}
			entry, _, _ := strings.Cut(md[i+len(head):], "\n- ")
			if !strings.Contains(entry, "**not run in this review**") {
				t.Errorf("%s is not marked as not run in this review: %q", b.name, entry)
			}
			if !strings.Contains(entry, "Why (the table's diagnosis): "+oneLine(why)) {
				t.Errorf("%s: the table's diagnosis is not quoted whole: %q", b.name, entry)
			}
		}
		for _, c := range rd.correct {
			if c.falseAlarm != "" && !strings.Contains(md, "- **correct/"+c.name+"** (round "+rd.ordinal) {
				t.Errorf("round %s's false alarm %s is not listed", rd.ordinal, c.name)
			}
		}
	}
	if misses == 0 {
		t.Error("no round marks a miss: the rounds' tables were not read (README documents several)")
	}
	if r.gaps.misses != misses {
		t.Errorf("the verdict would count %d known misses; the tables mark %d", r.gaps.misses, misses)
	}
	// A miss README documents by name: the round four row is read from its
	// table, not typed here.
	if !strings.Contains(md, "- **CrossCallGateOwnStorage** (round four, `internal/roundfour`") {
		t.Error("CrossCallGateOwnStorage, a miss README documents, is not listed")
	}
}

// Every package under internal/ with a table of bots (a func Bugs) is a
// round the report reads: a new round cannot be left out silently.
func TestEveryRoundIsListed(t *testing.T) {
	root := moduleRoot()
	if root == "" {
		t.Fatal("not inside a recgate checkout")
	}
	listed := map[string]bool{}
	for _, rd := range botRounds() {
		listed[rd.pkg] = true
	}
	dirs, err := os.ReadDir(filepath.Join(root, "internal"))
	if err != nil {
		t.Fatal(err)
	}
	declaresBugs := regexp.MustCompile(`(?m)^func Bugs\(\) \[\]`)
	found := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(root, "internal", d.Name(), "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if declaresBugs.Match(raw) {
				found++
				if !listed["internal/"+d.Name()] {
					t.Errorf("internal/%s has a table of bots (%s declares Bugs) that botRounds does not list: the report would leave its known misses out", d.Name(), filepath.Base(f))
				}
				break
			}
		}
	}
	if found < 8 {
		t.Errorf("found %d packages with a Bugs table under internal/, want at least the 8 rounds", found)
	}
}

// The crash test is claimed only when it ran, with the number of kills it
// logged.
func TestCrashRecoveryIsClaimedOnlyWhenItRan(t *testing.T) {
	_, skipped := coverageReport(t, func(r *report) { r.notRun(crashTestName, "crash recovery", "-go-tests=false") })
	if !strings.Contains(skipped, "**Not run in this review** (-go-tests=false)") || strings.Contains(skipped, "ran in this review with") {
		t.Errorf("a skipped crash test is not said to be skipped:\n%s", part(skipped, "### Crash recovery"))
	}
	r, ran := coverageReport(t, func(r *report) {
		r.ran(crashTestName, "crash recovery", true, 0, "seed 7 (rerun with -seed 7), 12 kills; media: 22 files, 0 lost")
	})
	if !strings.Contains(ran, "**it ran in this review with 12 SIGKILLs**") || strings.Contains(ran, "Not run in this review") {
		t.Errorf("a crash test that ran is not reported with its kills:\n%s", part(ran, "### Crash recovery"))
	}
	if !strings.Contains(r.gaps.summary(), "crash recovery ran with 12 SIGKILLs only") {
		t.Errorf("the verdict's summary: %q", r.gaps.summary())
	}
	_, failed := coverageReport(t, func(r *report) { r.ran(crashTestName, "crash recovery", false, 0, "a frame was lost") })
	if !strings.Contains(failed, "**FAILED**: a frame was lost") {
		t.Errorf("a failed crash test is not reported as failed:\n%s", part(failed, "### Crash recovery"))
	}
}

// Every rate the section quotes is a cell of README.md, labelled as
// measured outside this review.
func TestRatesComeFromReadmeAndSaySo(t *testing.T) {
	_, md := coverageReport(t, nil)
	raw, err := os.ReadFile(filepath.Join(moduleRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	rows := 0
	for _, line := range strings.Split(part(md, "### Bugs caught in only some runs"), "\n") {
		cells := tableCells(line)
		if len(cells) != 4 || cells[0] == "round" || strings.HasPrefix(cells[0], "---") {
			continue
		}
		rows++
		if !strings.Contains(readme, "| "+strings.ReplaceAll(cells[2], "\\|", "|")+" |") {
			t.Errorf("%s's rate %q is not a cell of README.md", cells[1], cells[2])
		}
		if !strings.Contains(cells[3], "measured outside this review") {
			t.Errorf("%s's rate is not labelled with where it was measured: %q", cells[1], cells[3])
		}
	}
	if rows == 0 {
		t.Error("no bug caught in only some runs is listed, though README records several (8/10, 7 - 9/10)")
	}
}

func TestReadmeRates(t *testing.T) {
	readme := "Round five (`internal/roundfive`; `MEASURE=. RUNS=10 go test ./internal/roundfive`):\n\n" +
		"| bug | the mistake | caught | named |\n|---|---|---|---|\n" +
		"| FailedIsDone | fed as completed | 8/10 | P1 |\n" +
		"| AsyncStop, AsyncStopSilent | Stop on a goroutine | 10/10 each (the silent one was 1/10) | P7 |\n" +
		"| Unknown | not a bot of any round | 1/10 | P1 |\n\n" +
		"Round six (`internal/roundsix`):\n\n| bug | the mistake | caught | named |\n|---|---|---|---|\n" +
		"| Missed | x | 0/10: the suite holds a write at `env.Sink` | |\n" +
		"| Gone | x | not caught: the one-call limit | |\n\n" +
		"| mutant | the bug | caught |\n|---|---|---|\n| OpenOnPending | x | 3/20 |\n"
	known := map[string]bool{"FailedIsDone": true, "AsyncStop": true, "AsyncStopSilent": true, "Missed": true, "Gone": true, "OpenOnPending": true}
	got := readmeRates(readme, known)
	for name, want := range map[string]struct {
		rate, pkg string
		partial   bool
	}{
		"FailedIsDone":    {"8/10", "internal/roundfive", true},
		"AsyncStopSilent": {"10/10 each (the silent one was 1/10)", "internal/roundfive", false},
		"Missed":          {"0/10: the suite holds a write at `env.Sink`", "internal/roundsix", true},
		"Gone":            {"not caught: the one-call limit", "internal/roundsix", true},
	} {
		m, ok := got[name]
		if !ok || m.rate != want.rate || m.pkg != want.pkg || m.partial() != want.partial {
			t.Errorf("%s: got %+v (found %v, partial %v), want %+v", name, m, ok, m.partial(), want)
		}
	}
	if _, ok := got["Unknown"]; ok {
		t.Error("a name no round has was kept")
	}
	if _, ok := got["OpenOnPending"]; ok {
		t.Error("a row of the mutants' table (header \"mutant\") was read as a bot's rate")
	}
}

// The suite's limits are properties/doc.go's own sentences, found and
// quoted whole.
func TestLimitsAreQuotedVerbatim(t *testing.T) {
	_, md := coverageReport(t, nil)
	raw, err := os.ReadFile(filepath.Join(moduleRoot(), "properties", "doc.go"))
	if err != nil {
		t.Fatal(err)
	}
	var text []string
	for _, l := range strings.Split(string(raw), "\n") {
		text = append(text, strings.TrimPrefix(strings.TrimSpace(l), "//"))
	}
	doc := oneLine(strings.Join(text, " "))
	for _, l := range suiteLimits {
		q := quoteLimit(docParagraphs(string(raw)), l)
		if q == "" {
			t.Errorf("properties/doc.go no longer says %q: update suiteLimits to the passage that states this limit now", l.marker)
			continue
		}
		if !strings.Contains(doc, q) {
			t.Errorf("the quote for %q is not verbatim in properties/doc.go: %q", l.topic, q)
		}
		if !strings.HasSuffix(q, ".") || !strings.HasPrefix(q, strings.ToUpper(q[:1])) {
			t.Errorf("the quote for %q is not whole sentences: %q", l.topic, q)
		}
		if !strings.Contains(md, "  > "+q+"\n") {
			t.Errorf("the section does not quote %q", l.topic)
		}
	}
	for _, phrase := range []string{"encrypts", "raw deflate", "WithUntracedStreams", "at the same moment", "WithLateWindow"} {
		if !strings.Contains(part(md, "### The property suite's documented limits"), phrase) {
			t.Errorf("the quoted limits do not mention %q", phrase)
		}
	}
}

// part returns the part of md from the heading to the next heading of
// the same level.
func part(md, heading string) string {
	i := strings.Index(md, heading)
	if i < 0 {
		return ""
	}
	level := heading[:strings.Index(heading, " ")+1]
	rest := md[i+len(heading):]
	if j := strings.Index(rest, "\n"+level); j >= 0 {
		rest = rest[:j]
	}
	return heading + rest
}
