package properties

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/recgate/recgate/internal/hooks"
)

// spinVerdict runs SPIN on the Promela model: spin -a, gcc -O0 -DBFS, then
// pan once per claim. pan exits 0 even when it finds a violation, so the
// verdict is read from "errors: N" and the trail file.
func spinVerdict(t testing.TB, writers int, mutants hooks.Mutant) map[string]bool {
	t.Helper()
	model, err := promela(writers, mutants)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "model.pml"), []byte(model), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := func(name string, args ...string) string {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	run("spin", "-a", "model.pml")
	run("gcc", "-O0", "-DBFS", "-o", "pan", "pan.c")
	errorsRe := regexp.MustCompile(`errors: (\d+)`)
	verdict := map[string]bool{}
	for _, claim := range []string{"p1", "p2", "p9", "vacuity"} {
		trail := filepath.Join(dir, "model.pml.trail")
		_ = os.Remove(trail)
		out := run("./pan", "-N", claim)
		m := errorsRe.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("pan -N %s printed no error count:\n%s", claim, out)
		}
		n, _ := strconv.Atoi(m[1])
		_, trailErr := os.Stat(trail)
		if (n > 0) != (trailErr == nil) {
			t.Fatalf("pan -N %s: errors: %d but trail file present=%v", claim, n, trailErr == nil)
		}
		verdict[claim] = n > 0
	}
	return verdict
}

func needSpin(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"spin", "gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed; .ci/run installs it (apt-get install -y spin gcc)", tool)
			}
			t.Skipf("%s is not installed (apt-get install -y spin); CI runs this test", tool)
		}
	}
}

// SPIN and the Go checker must agree: the correct model has no violation
// and does persist bytes (the vacuity claim fails), and each seeded bug is
// found by both.
func TestSpinAgreesWithGoChecker(t *testing.T) {
	needSpin(t)
	muts := []hooks.Mutant{0, hooks.ReportBeforeDrain, hooks.CheckThenWrite, hooks.OpenOnPending, hooks.HookAfterReport, hooks.StopClosesUnderLock}
	if gateSteps(t) {
		// Only the checker that pauses inside the gate sees this one.
		muts = append(muts, hooks.AcquireLooksFirst)
	}
	for _, mut := range muts {
		t.Run(mut.String(), func(t *testing.T) {
			spin := spinVerdict(t, 2, mut)
			// The correct machine: the run TestModelCheckerCorrectMachine
			// makes with two writers (memoized).
			i := slices.IndexFunc(modelConfigs(t), func(c ModelConfig) bool { return c.Writers == 2 })
			if i < 0 {
				t.Skip("this build's model checker makes no run with two writers under -race; -deep adds it")
			}
			cfg := modelConfigs(t)[i]
			res := correctModel(t, cfg)
			if mut != 0 {
				var err error
				if res, err = CheckModel(ModelConfig{Writers: 2, mutants: mut}); err != nil {
					t.Fatal(err)
				}
			}
			goViolated := res.Counterexample != nil
			spinViolated := spin["p1"] || spin["p2"] || spin["p9"]
			t.Logf("SPIN: p1 violated=%v, p2 violated=%v, p9 violated=%v, vacuity claim failed=%v; Go checker: violation=%v (%d states)",
				spin["p1"], spin["p2"], spin["p9"], spin["vacuity"], goViolated, res.States)
			if mut == hooks.StopClosesUnderLock && (!spin["p9"] || res.Counterexample.Violations[0].Invariant.ID != "P9") {
				t.Errorf("StopClosesUnderLock must break P9 in both: SPIN p9=%v, Go checker %v", spin["p9"], res.Counterexample.Violations)
			}
			if spinViolated != goViolated {
				t.Fatalf("SPIN says violated=%v, the Go checker says %v", spinViolated, goViolated)
			}
			if mut == 0 {
				if !spin["vacuity"] || !res.PersistReachable {
					t.Fatalf("vacuity: SPIN found a persist=%v, Go checker=%v; both must", spin["vacuity"], res.PersistReachable)
				}
			}
		})
	}
}

// BenchmarkSpinK2 times spin + gcc + pan on the K = 2 model, to compare
// with BenchmarkModelCheckK2.
func BenchmarkSpinK2(b *testing.B) {
	needSpin(b)
	for i := 0; i < b.N; i++ {
		v := spinVerdict(b, 2, 0)
		if v["p1"] || v["p2"] || v["p9"] {
			b.Fatal("violation")
		}
	}
}
