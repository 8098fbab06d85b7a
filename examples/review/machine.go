package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

func (r *report) diagrams(m *fsm.Machine) error {
	s := r.section("The state machine")
	s.p("Only **Recording** lets media be persisted.")
	s.p("")
	s.p("```mermaid")
	s.write(fsm.Mermaid())
	s.p("```")
	s.p("")
	dot := m.DOT()
	if err := os.WriteFile(filepath.Join(r.dir, "machine.dot"), []byte(dot), 0o644); err != nil {
		return err
	}
	if _, err := exec.LookPath("dot"); err == nil {
		cmd := exec.Command("dot", "-Tsvg", "-o", filepath.Join(r.dir, "machine.svg"), filepath.Join(r.dir, "machine.dot"))
		if out, err := cmd.CombinedOutput(); err != nil {
			s.p("The Graphviz rendering failed (%v: %s); `machine.dot` is beside this report.", err, strings.TrimSpace(string(out)))
		} else {
			s.p("![state machine](machine.svg)")
			s.p("")
			s.p("The same diagram from the machine's own configuration, as Graphviz DOT: `machine.dot`.")
		}
	} else {
		s.p("Graphviz's `dot` program is not installed here, so no SVG was drawn; the machine's own DOT is in `machine.dot` (`apt-get install graphviz`, then `dot -Tsvg machine.dot`).")
	}
	s.p("")
	s.p("### Transition table")
	s.p("")
	s.write(fsm.TransitionTable())
	s.p("")
	return nil
}

func (r *report) modelCheck(k int) error {
	s := r.section("Exhaustive model check")
	if k == 0 {
		r.notRun("model", "model checker of the correct machine", "-writers 0")
		s.p("Not run here (`-writers 0`).")
		s.p("")
		return nil
	}
	s.p("The model checker drives the real machine through every interleaving of the bot's events, a duplicate Start, the end of the call, Graph's replies (completed, pending, failed, error) and K media writers taking and releasing leases, and checks every invariant on every event.")
	s.p("")
	s.p("| K writers | states | transitions | depth | time | verdict | a byte persisted | states that cannot get back to NotRecording or Ended |")
	s.p("|---|---|---|---|---|---|---|---|")
	var last *properties.ModelResult
	start := time.Now()
	ok := true
	var details []string
	for w := 1; w <= k; w++ {
		res, err := properties.CheckModel(properties.ModelConfig{Writers: w})
		if err != nil {
			return err
		}
		verdict := "no violation"
		if res.Counterexample != nil {
			verdict = "VIOLATION"
			ok = false
		}
		if !res.PersistReachable || len(res.Stuck) > 0 || !res.Complete {
			ok = false
		}
		s.p("| %d | %d | %d | %d | %s | %s | %v | %d |", w, res.States, res.Transitions, res.Depth, res.Duration.Round(time.Millisecond), verdict, res.PersistReachable, len(res.Stuck))
		details = append(details, "K="+itoa(w)+": "+itoa(res.States)+" states, "+verdict)
		last = res
		if w == 1 {
			if err := os.WriteFile(filepath.Join(r.dir, "product-k1.dot"), []byte(res.DOT()), 0o644); err != nil {
				return err
			}
		}
	}
	s.p("")
	if last.Counterexample != nil {
		s.p("```")
		s.write(last.Counterexample.String())
		s.p("```")
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
		s.p("Coverage (K = %d): every machine state and every event was reached, so no invariant holds merely because its situation never arose.", k)
	} else {
		ok = false
		s.p("**Coverage (K = %d): never reached: %s.** The checks above may be vacuous there.", k, strings.Join(missed, ", "))
		details = append(details, "never reached: "+strings.Join(missed, ", "))
	}
	s.p("")
	s.write(last.CoverageTable())
	s.p("")
	s.p("The reachable product graph for K = 1 is in `product-k1.dot`.")
	s.p("")
	r.ran("model", "model checker (K = 1 to "+itoa(k)+")", ok, time.Since(start), strings.Join(details, "; "))
	return nil
}

func (r *report) suite(rapidMutants bool) error {
	s := r.section("Property suite")
	sv := properties.RunSuite(properties.ReferenceBot)
	verdict := "passed"
	if !sv.Passed {
		verdict = "FAILED"
	}
	r.ran("suite", "property suite against recgate's reference bot", sv.Passed, sv.Duration, "")
	s.p("The rapid suite (random calls: Graph's replies drawn, media on several streams, concurrent Stop/Start/CallEnded) against recgate's reference bot: **%s** in %s.", verdict, sv.Duration.Round(time.Millisecond))
	s.p("")
	if !sv.Passed {
		s.p("```")
		s.write(sv.Output)
		s.p("```")
	}
	s.p("### Seeded bugs in the machine")
	s.p("")
	s.p("Each bug below is switched into the real machine (or the reference bot); a checker that cannot catch it would prove nothing.")
	s.p("")
	start := time.Now()
	vs, err := properties.CheckMutants(rapidMutants)
	if err != nil {
		return err
	}
	ok, caught := true, 0
	s.p("| bug | what it does | model checker | first invariant broken | shortest path | property suite |")
	s.p("|---|---|---|---|---|---|")
	for _, v := range vs {
		model := "caught"
		if !v.ModelKilled {
			model, ok = "MISSED", false
		} else {
			caught++
		}
		rapid := "not run here: -rapid-mutants=false"
		if v.RapidRun {
			rapid = "caught"
			if !v.RapidKilled {
				rapid, ok = "MISSED", false
			}
		}
		s.p("| %s | %s | %s | %s | %d moves | %s |", v.Name, v.Bug, model, v.Invariant, v.Moves, rapid)
	}
	s.p("")
	how := "the model checker"
	if rapidMutants {
		how += " and the property suite"
	}
	r.ran("mutants", "seeded machine bugs ("+how+")", ok, time.Since(start), itoa(caught)+" of "+itoa(len(vs))+" caught by the model checker")
	return nil
}
