// Command review writes recgate's compliance review report: Markdown that
// GitHub renders, for a reviewer who reads no Go. Everything in it is
// computed when it is made: the state diagram and transition table come
// from the machine, the model checker and the property suite run, and one
// call is played with its audit trail verified.
//
//	go run ./examples/review -out review
//
// It writes review/review.md, review/machine.dot (and machine.svg when
// Graphviz's dot program is installed), review/product-k1.dot and
// review/audit.jsonl.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
	"github.com/recgate/recgate/properties"
)

func main() {
	// A report runs the suite against seeded bugs on purpose: keep rapid
	// from writing fail files for them.
	_ = flag.Set("rapid.nofailfile", "true")
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "review:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("review", flag.ContinueOnError)
	fs.SetOutput(stdout)
	out := fs.String("out", "review", "directory for the report")
	k := fs.Int("writers", 2, "K, the concurrent media writers in the model check (1-3)")
	rapidMutants := fs.Bool("rapid-mutants", true, "also run the rapid suite against every seeded bug (about half a minute)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *k < 1 || *k > 3 {
		return fmt.Errorf("-writers %d: want 1 to 3", *k)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	r := &report{dir: *out}
	if err := r.build(*k, *rapidMutants); err != nil {
		return err
	}
	path := filepath.Join(*out, "review.md")
	if err := os.WriteFile(path, r.md.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s)\n", path, r.verdict)
	if r.failed {
		return errors.New("the report found a problem: " + r.verdict)
	}
	return nil
}

type report struct {
	dir     string
	md      bytes.Buffer
	failed  bool
	verdict string
}

func (r *report) p(format string, args ...any) { fmt.Fprintf(&r.md, format+"\n", args...) }

func (r *report) build(k int, rapidMutants bool) error {
	r.p("# recgate compliance review")
	r.p("")
	r.p("Generated %s by `go run ./examples/review`. Every number below was computed when this report was made.", time.Now().UTC().Format(time.RFC1123))
	r.p("")
	r.rule()
	m, err := fsm.New("review-call", fsm.UpdaterFunc(func(context.Context, string, graph.Status, string) (graph.Operation, error) {
		return graph.Operation{}, errors.New("the diagram machine sends nothing")
	}))
	if err != nil {
		return err
	}
	if err := r.diagrams(m); err != nil {
		return err
	}
	if err := r.modelCheck(k); err != nil {
		return err
	}
	if err := r.suite(rapidMutants); err != nil {
		return err
	}
	if err := r.auditRun(); err != nil {
		return err
	}
	if r.failed {
		r.verdict = "PROBLEMS FOUND: see the report"
	} else {
		r.verdict = "every check passed"
	}
	r.p("## Verdict")
	r.p("")
	r.p("**%s.**", r.verdict)
	return nil
}

func (r *report) rule() {
	r.p("## The rule")
	r.p("")
	r.p("From Microsoft Graph's page for `call: updateRecordingStatus`:")
	r.p("")
	r.p("> **R1.** The application may not record or otherwise persist media content from calls or meetings, or data derived from it, without first calling updateRecordingStatus with `recording` and receiving a success reply.")
	r.p(">")
	r.p("> **R2.** If the application begins recording, it must end the recording before it calls updateRecordingStatus to say that recording has ended (`notRecording`, likewise `failed`).")
	r.p("")
	r.p("Only an operation whose status is `completed` is a success reply; `notStarted`, `running` or no status means the answer is still pending, and `failed` is a refusal.")
	r.p("")
	r.p("## How each sentence is enforced")
	r.p("")
	r.p("| sentence | invariant | enforced by | checked by |")
	r.p("|---|---|---|---|")
	r.p("| R1: do not persist before a success reply to `recording` | %s; %s | the persist gate opens only on entering Recording, which only `completed` reaches | model checker (every interleaving), rapid suite, `fsm` tests (`TestStartPendingKeepsGateClosed`, `TestConcurrentWritersAndController`) |", properties.P1, properties.P4)
	r.p("| R1: no success can be taken from a stale or late reply | %s; %s | attempts carry an epoch; Stop and CallEnded close the gate first | model checker, rapid suite, `TestCallEndedDuringInflightStartNeverOpens`, `TestStopDuringInflightStart` |", properties.P5, properties.P6)
	r.p("| R2: end the recording before reporting it ended | %s | Stop closes the gate, waits for every writer's lease, runs the bot's hook that closes its files, then sends `notRecording` | model checker, rapid suite, SPIN cross-check, `TestLeaseDelaysNotRecording` |", properties.P2)
	r.p("| one request per attempt, none from introspection | %s | guards never start I/O; the attempt's one reply is kept | `TestIntrospectionSendsNothing`, `TestOneRequestPerAttempt`, model checker |", properties.P3)
	r.p("")
	r.p("| invariant | rule |")
	r.p("|---|---|")
	for _, inv := range properties.Invariants() {
		r.p("| %s | %s |", inv, inv.Rule)
	}
	r.p("")
}

func (r *report) diagrams(m *fsm.Machine) error {
	r.p("## The state machine")
	r.p("")
	r.p("Only **Recording** lets media be persisted.")
	r.p("")
	r.p("```mermaid")
	r.md.WriteString(fsm.Mermaid())
	r.p("```")
	r.p("")
	dot := m.DOT()
	if err := os.WriteFile(filepath.Join(r.dir, "machine.dot"), []byte(dot), 0o644); err != nil {
		return err
	}
	if _, err := exec.LookPath("dot"); err == nil {
		cmd := exec.Command("dot", "-Tsvg", "-o", filepath.Join(r.dir, "machine.svg"), filepath.Join(r.dir, "machine.dot"))
		if out, err := cmd.CombinedOutput(); err != nil {
			r.p("The Graphviz rendering failed (%v: %s); `machine.dot` is beside this report.", err, strings.TrimSpace(string(out)))
		} else {
			r.p("![state machine](machine.svg)")
			r.p("")
			r.p("The same diagram from the machine's own configuration, as Graphviz DOT: `machine.dot`.")
		}
	} else {
		r.p("Graphviz's `dot` program is not installed here, so no SVG was drawn; the machine's own DOT is in `machine.dot` (`apt-get install graphviz`, then `dot -Tsvg machine.dot`).")
	}
	r.p("")
	r.p("### Transition table")
	r.p("")
	r.md.WriteString(fsm.TransitionTable())
	r.p("")
	return nil
}

func (r *report) modelCheck(k int) error {
	r.p("## Exhaustive model check")
	r.p("")
	r.p("The model checker drives the real machine through every interleaving of the bot's events, a duplicate Start, the end of the call, Graph's replies (completed, pending, failed, error) and K media writers taking and releasing leases, and checks every invariant on every event.")
	r.p("")
	r.p("| K writers | states | transitions | depth | time | verdict | a byte persisted | states that cannot get back to NotRecording or Ended |")
	r.p("|---|---|---|---|---|---|---|---|")
	var last *properties.ModelResult
	for w := 1; w <= k; w++ {
		res, err := properties.CheckModel(properties.ModelConfig{Writers: w})
		if err != nil {
			return err
		}
		verdict := "no violation"
		if res.Counterexample != nil {
			verdict = "VIOLATION"
			r.failed = true
		}
		if !res.PersistReachable || len(res.Stuck) > 0 {
			r.failed = true
		}
		r.p("| %d | %d | %d | %d | %s | %s | %v | %d |", w, res.States, res.Transitions, res.Depth, res.Duration.Round(time.Millisecond), verdict, res.PersistReachable, len(res.Stuck))
		last = res
		if w == 1 {
			if err := os.WriteFile(filepath.Join(r.dir, "product-k1.dot"), []byte(res.DOT()), 0o644); err != nil {
				return err
			}
		}
	}
	r.p("")
	if last.Counterexample != nil {
		r.p("```")
		r.md.WriteString(last.Counterexample.String())
		r.p("```")
	}
	var missed []string
	for _, st := range fsm.States() {
		if last.StatesReached[st] == 0 {
			missed = append(missed, st.String())
		}
	}
	for _, ev := range []string{"start", "stop", "fail", "update:completed", "update:failed", "callEnded", "dup:start"} {
		if last.TriggersFired[ev] == 0 {
			missed = append(missed, ev)
		}
	}
	if len(missed) == 0 {
		r.p("Coverage (K = %d): every machine state and every event was reached, so no invariant holds merely because its situation never arose.", k)
	} else {
		r.failed = true
		r.p("**Coverage (K = %d): never reached: %s.** The checks above may be vacuous there.", k, strings.Join(missed, ", "))
	}
	r.p("")
	r.md.WriteString(last.CoverageTable())
	r.p("")
	r.p("The reachable product graph for K = 1 is in `product-k1.dot`.")
	r.p("")
	return nil
}

func (r *report) suite(rapidMutants bool) error {
	r.p("## Property suite")
	r.p("")
	sv := properties.RunSuite(properties.ReferenceBot)
	verdict := "passed"
	if !sv.Passed {
		verdict = "FAILED"
		r.failed = true
	}
	r.p("The rapid suite (random calls: Graph's replies drawn, media on several streams, concurrent Stop/Start/CallEnded) against recgate's reference bot: **%s** in %s.", verdict, sv.Duration.Round(time.Millisecond))
	r.p("")
	r.p("### Seeded bugs")
	r.p("")
	r.p("Each bug below is switched into the real machine (or the reference bot); a checker that cannot catch it would prove nothing.")
	r.p("")
	vs, err := properties.CheckMutants(rapidMutants)
	if err != nil {
		return err
	}
	r.p("| bug | what it does | model checker | first invariant broken | shortest path | rapid suite |")
	r.p("|---|---|---|---|---|---|")
	for _, v := range vs {
		model := "caught"
		if !v.ModelKilled {
			model = "MISSED"
			r.failed = true
		}
		rapid := "not run"
		if v.RapidRun {
			rapid = "caught"
			if !v.RapidKilled {
				rapid = "MISSED"
				r.failed = true
			}
		}
		r.p("| %s | %s | %s | %s | %d moves | %s |", v.Name, v.Bug, model, v.Invariant, v.Moves, rapid)
	}
	r.p("")
	return nil
}

// auditRun plays one call against the fake Graph with the audit trail on,
// verifies the trail, and shows it.
func (r *report) auditRun() error {
	fake := graphtest.NewServer(graphtest.WithToken("review"))
	defer fake.Close()
	fake.AddCall("review-call").Then(graphtest.Throttle("0"), graphtest.ReplyStatus("running"))
	client, err := graph.NewClient(graph.StaticToken("review"), graph.WithBaseURL(fake.BaseURL()), graph.WithHTTPClient(fake.Client()))
	if err != nil {
		return err
	}
	trailPath := filepath.Join(r.dir, "audit.jsonl")
	f, err := os.Create(trailPath)
	if err != nil {
		return err
	}
	defer f.Close()
	var file bytes.Buffer
	m, err := fsm.New("review-call", client, fsm.WithAuditTrail(f), fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error { return nil }))
	if err != nil {
		return err
	}
	media := m.Gate().Writer(&file)
	ctx := context.Background()
	_, _ = media.Write([]byte("before"))
	op, err := m.Start(ctx)
	if err != nil {
		return err
	}
	_ = fake.AddCall("review-call").SetOperationStatus(op.ID, graph.OperationCompleted)
	if op, err = client.Operation(ctx, "review-call", op); err != nil {
		return err
	}
	if err := m.OperationUpdate(ctx, op); err != nil {
		return err
	}
	_, _ = media.Write([]byte("frame"))
	if err := m.Stop(ctx); err != nil {
		return err
	}
	_, _ = media.Write([]byte("after"))
	if err := m.CallEnded(ctx); err != nil {
		return err
	}
	head := m.AuditHead()
	if err := f.Sync(); err != nil {
		return err
	}
	raw, err := os.ReadFile(trailPath)
	if err != nil {
		return err
	}
	recs, verr := fsm.VerifyAuditTrailHead(bytes.NewReader(raw), head)
	r.p("## Audit trail of one call")
	r.p("")
	r.p("One call against the fake Graph: a throttled Start, a pending reply later confirmed, one frame persisted (%q), Stop, the call ended. Frames before Start and after Stop were refused.", file.String())
	r.p("")
	if verr != nil {
		r.failed = true
		r.p("**The trail did not verify: %v**", verr)
	} else {
		r.p("The trail (`audit.jsonl`, %d lines) **verifies**: every line chains to the one before by SHA-256, sequence numbers run without gaps, times never go back, and the last line's hash is the head the machine reported (`%s`).", len(recs), head[:16]+"…")
	}
	r.p("")
	r.p("| # | event | trigger | from → to | status | gate | clientContext | operation |")
	r.p("|---|---|---|---|---|---|---|---|")
	for _, rec := range recs {
		fromTo := ""
		if rec.From != "" {
			fromTo = rec.From + " → " + rec.To
		}
		gate := ""
		if rec.GateOpen != nil {
			gate = map[bool]string{true: "open", false: "closed"}[*rec.GateOpen]
		}
		status := rec.Status
		if rec.OperationStatus != "" {
			status += " → " + rec.OperationStatus
		}
		r.p("| %d | %s | %s | %s | %s | %s | %s | %s |", rec.Seq, rec.Kind, rec.Trigger, fromTo, status, gate, rec.ClientContext, rec.OperationID)
	}
	r.p("")
	return nil
}
