// Command review writes recgate's compliance review report: Markdown that
// GitHub renders, for a reviewer who reads no Go. It leads with the
// verdict; everything in it is computed when it is made: the checks run
// (the model checker, the property suite against recgate's reference bot
// and against seeded bugs, the Go tests the report cites, the SPIN
// cross-check where spin is installed, internal/crashtest's SIGKILL test of
// crash recovery), one call is played with its audit trail verified, and
// every "checked by" cell says what its checks gave here, or why they did
// not run. A section, "What these checks do not cover", read from the
// rounds' tables of user-side bots, README.md's measured rates and
// properties/doc.go, lists what the verdict does not vouch for: the rounds
// not run here, every known miss of the property suite with its diagnosis,
// the bugs caught in only some runs (with where that was measured), the
// suite's documented limits verbatim, and how much of crash recovery ran.
//
//	go run ./examples/review -out review
//
// It writes review/review.md, review/machine.dot (and machine.svg when
// Graphviz's dot program is installed), review/product-k1.dot and
// review/audit.jsonl, and exits 1 if any check that ran failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

func main() {
	// A report runs the suite against seeded bugs on purpose: keep rapid
	// from writing fail files for them.
	_ = flag.Set("rapid.nofailfile", "true")
	if err := run(os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "review:", err)
		os.Exit(1)
	}
}

// settings are the report's flags.
type settings struct {
	out          string
	writers      int
	rapidMutants bool
	bots         bool
	goTests      bool
	checks       int
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("review", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var st settings
	fs.StringVar(&st.out, "out", "review", "directory for the report")
	fs.IntVar(&st.writers, "writers", 2, "K, the concurrent media writers in the model check (1-3; 0 skips the model check of the correct machine)")
	fs.BoolVar(&st.rapidMutants, "rapid-mutants", true, "also run the property suite against every seeded machine bug")
	fs.BoolVar(&st.bots, "bots", true, "run the property suite against the bot-side seeded bugs and the correct bots")
	fs.IntVar(&st.checks, "checks", 0, "cases per property suite run (0: rapid's default, 100)")
	fs.BoolVar(&st.goTests, "go-tests", true, "run the Go tests the report cites, the SPIN cross-check among them (needs a checkout and the go command)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: every setting is a flag (see -h)", fs.Args())
	}
	if st.writers < 0 || st.writers > 3 {
		return fmt.Errorf("-writers %d: want 1 to 3 (or 0 to skip the model check)", st.writers)
	}
	if st.checks < 0 {
		return fmt.Errorf("-checks %d: want 0 (rapid's default) or more", st.checks)
	}
	if st.checks > 0 {
		if err := flag.Set("rapid.checks", strconv.Itoa(st.checks)); err != nil {
			return fmt.Errorf("-checks: %w", err)
		}
	}
	if err := os.MkdirAll(st.out, 0o755); err != nil {
		return err
	}
	r := &report{dir: st.out, sections: map[string]*section{}}
	if err := r.build(st); err != nil {
		return err
	}
	path := filepath.Join(st.out, "review.md")
	if err := os.WriteFile(path, r.assemble(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s in %s (%s)\n", path, r.total.Round(time.Second), r.verdict)
	fmt.Fprintf(stdout, "not covered by that verdict (see %q in the report): %d known misses of the property suite, %d documented limits, %d bots in rounds not run here; %s\n",
		notCoveredTitle, r.gaps.misses, r.gaps.limits, r.gaps.botsNotRun, r.gaps.crash)
	if r.failed {
		return errors.New("the report found a problem: " + r.verdict)
	}
	return nil
}

type report struct {
	dir      string
	sections map[string]*section
	checks   []*check
	failed   bool
	verdict  string
	prov     provenance
	total    time.Duration

	goTestTime    time.Duration
	goTestCommand string

	gaps gaps
}

// order is the reading order of the sections.
var order = []string{"Verdict", "What was reviewed", "Words used here", "The rule", "How each sentence is enforced",
	"The state machine", "Exhaustive model check", "Property suite", "Bot-side seeded bugs", notCoveredTitle, "Audit trail of one call", "Every check, and how long it took"}

func (r *report) build(st settings) error {
	start := time.Now()
	r.prov = findProvenance(start.UTC())
	r.rule()
	r.glossary()
	m, err := fsm.New("review-call", fsm.UpdaterFunc(sendsNothing))
	if err != nil {
		return err
	}
	if err := r.diagrams(m); err != nil {
		return err
	}
	if err := r.modelCheck(st.writers); err != nil {
		return err
	}
	if err := r.suite(st.rapidMutants); err != nil {
		return err
	}
	r.bots(st.bots)
	if err := r.auditRun(); err != nil {
		return err
	}
	r.runGoTests(st.goTests, r.prov.root)
	r.notCovered(st.bots)
	r.enforcement()
	r.total = time.Since(start)
	r.reviewed(st)
	r.conclude()
	return nil
}

// sendsNothing is the diagram machine's Updater: it is never called.
func sendsNothing(context.Context, string, graph.Status, string) (graph.Operation, error) {
	return graph.Operation{}, errors.New("the diagram machine sends nothing")
}

// assemble puts the sections together in reading order.
func (r *report) assemble() []byte {
	var b strings.Builder
	b.WriteString("# recgate compliance review\n\n")
	for _, title := range order {
		s := r.sections[title]
		if s == nil {
			continue
		}
		fmt.Fprintf(&b, "## %s\n\n", s.title)
		b.Write(s.md.Bytes())
	}
	return []byte(b.String())
}

// enforcement maps each sentence of the rule to its invariants, how
// recgate enforces it, and what checked it here.
func (r *report) enforcement() {
	s := r.section("How each sentence is enforced")
	s.p("Each \"checked by\" cell says what its checks gave when this report was made: **passed**, **FAILED**, or *not run here* and why.")
	s.p("")
	s.p("| sentence (recgate's reading) | invariant | enforced by | checked by |")
	s.p("|---|---|---|---|")
	s.p("| R1: do not persist before a success reply to `recording` | %s; %s; %s | the persist gate opens only on entering Recording, which only `completed` reaches | %s |",
		properties.P1, properties.P4, properties.P7,
		r.cell("model", "suite", "mutants", "bots", "TestStartPendingKeepsGateClosed", "TestConcurrentWritersAndController"))
	s.p("| R1: a success reply must be Graph's own, for this attempt | P8 OnlyAuthenticConfirmation | a notification opens the gate only if its token validated and it names the pending attempt | %s |",
		r.cell("TestOnlyAuthenticConfirmationOpensTheGate", "TestEveryForgeryIsRefusedAndChangesNothing"))
	s.p("| R1: no success can be taken from a stale or late reply | %s; %s | attempts carry an epoch; Stop and CallEnded close the gate first | %s |",
		properties.P5, properties.P6, r.cell("model", "suite", "TestCallEndedDuringInflightStartNeverOpens", "TestStopDuringInflightStart"))
	s.p("| R2: end the recording before reporting it ended | %s; %s | Stop closes the gate, waits for every writer's lease, runs the bot's hook that closes its files, then sends `notRecording` | %s |",
		properties.P2, properties.P9, r.cell("model", "suite", "TestSpinAgreesWithGoChecker", "TestLeaseDelaysNotRecording"))
	s.p("| one request per attempt, none from introspection, none again after a refusal | %s | guards never start I/O; the attempt's one reply is kept | %s |",
		properties.P3, r.cell("model", "suite", "TestIntrospectionSendsNothing", "TestOneRequestPerAttempt"))
	s.p("| a unique clientContext per request (the API page) | %s | the machine's clientContexts are random per call plus a sequence number; a caller's generator that repeats a value is refused before sending | %s |",
		properties.P10, r.cell("suite", "TestRepeatingClientContextGeneratorIsRefused"))
	s.p("| evidence: what authorised each recorded interval, from the trail alone | (not an invariant of the rule) | the audit trail, hash-chained, fail-closed, synced at every gate record | %s |",
		r.cell("audit", "TestAuditTrailAnswersTheReviewersQuestions", "TestFailClosedGateNeverOpensWithoutItsRecord", "TestFailClosedOpenGateClosesThroughStop", "TestRefusesTamperedTrails"))
	s.p("")
	s.p("| invariant | what it says |")
	s.p("|---|---|")
	for _, inv := range properties.Invariants() {
		s.p("| %s | %s |", inv, inv.Rule)
	}
	s.p("")
}

// conclude writes the verdict and the summary that lead the report.
func (r *report) conclude() {
	ran, passed, skipped := r.counts()
	var notRun []string
	for _, c := range r.checks {
		if !c.ran {
			notRun = append(notRun, c.name+" ("+strings.TrimPrefix(c.skipped, "not run here: ")+")")
		}
	}
	switch {
	case r.failed:
		r.verdict = fmt.Sprintf("PROBLEMS FOUND: %d of %d checks that ran failed; see the report", ran-passed, ran)
	case skipped > 0:
		r.verdict = fmt.Sprintf("every check that ran passed (%d of %d); %d not run here", passed, ran, skipped)
	default:
		r.verdict = fmt.Sprintf("every check passed (%d of %d ran here)", passed, ran)
	}
	s := r.section("Verdict")
	s.p("**%s.**", r.verdict)
	s.p("")
	if len(notRun) > 0 {
		s.p("Not run here, so this report does not vouch for them: %s.", strings.Join(notRun, "; "))
		s.p("")
	}
	s.p("%s", r.gaps.summary())
	s.p("")
	s.p("recgate stands between a Microsoft Teams media bot and its storage: media may be written only through a gate that opens when Microsoft Graph has confirmed, with a `completed` reply, that the bot told it recording began, and that closes, with every write finished and the bot's files closed, before the bot tells Graph recording ended. This report checked that on %s at commit %s (local changes: %s), with %s: %s. %d checks ran and %d passed; %d were not run here. Took %s in all on %s.",
		r.prov.module, shortCommit(r.prov.commit), r.prov.modifiedShort(), r.prov.goVersion, strings.Join(r.ranNames(), "; "), ran, passed, skipped, r.total.Round(time.Second), r.prov.machine)
	s.p("")
	r.checksSection()
}

func (r *report) checksSection() {
	s := r.section("Every check, and how long it took")
	if r.goTestCommand != "" {
		s.p("The Go tests ran as `%s` in %s (compiling included; the times below are each test's own).", r.goTestCommand, r.goTestTime.Round(time.Millisecond))
		s.p("")
	}
	r.checksTable(s)
}

// ranNames lists the checks that ran, with their results, except the
// single Go tests (counted, not named).
func (r *report) ranNames() []string {
	var out []string
	tests, testsPassed := 0, 0
	for _, c := range r.checks {
		switch {
		case !c.ran:
		case strings.HasPrefix(c.key, "Test"):
			tests++
			if c.passed {
				testsPassed++
			}
		default:
			out = append(out, c.name+" ("+c.result()+")")
		}
	}
	if tests > 0 {
		out = append(out, fmt.Sprintf("%d of the Go tests it cites (%d passed)", tests, testsPassed))
	}
	return out
}

func shortCommit(c string) string {
	if len(c) > 12 && !strings.HasPrefix(c, "(") {
		return c[:12]
	}
	return c
}

// reviewed says what was reviewed, where and when.
func (r *report) reviewed(st settings) {
	p := r.prov
	s := r.section("What was reviewed")
	s.p("| | |")
	s.p("|---|---|")
	s.p("| module | `%s` %s |", p.module, p.version)
	s.p("| commit | `%s`%s (from %s) |", p.commit, map[bool]string{true: "", false: ", committed " + p.commitTime}[p.commitTime == ""], p.source)
	s.p("| local changes | %s |", p.modified)
	s.p("| Go | %s |", p.goVersion)
	s.p("| machine | %s |", p.machine)
	s.p("| date | %s |", p.date.Format(time.RFC1123))
	cases := "rapid's default"
	if st.checks > 0 {
		cases = itoa(st.checks)
	}
	s.p("| settings | `-writers %d -rapid-mutants=%v -bots=%v -go-tests=%v`; %s cases per suite run |", st.writers, st.rapidMutants, st.bots, st.goTests, cases)
	s.p("| time to make this report | %s |", r.total.Round(time.Second))
	s.p("")
}
