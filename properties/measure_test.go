package properties

import (
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/recgate/recgate/internal/hooks"
)

// TestMeasureMutants measures, for README's table, how often the suite
// fails the reference bot with each seeded machine bug over RUNS runs of
// RunSuite with default settings, and how long it took to find the first
// failing case. It runs only when asked:
//
//	MEASURE=. RUNS=20 go test ./properties -run TestMeasureMutants -v -timeout 30m
func TestMeasureMutants(t *testing.T) {
	if os.Getenv("MEASURE") == "" {
		t.Skip("set MEASURE (a regexp over mutant names) and RUNS to measure")
	}
	re := regexp.MustCompile(os.Getenv("MEASURE"))
	runs, _ := strconv.Atoi(os.Getenv("RUNS"))
	if runs <= 0 {
		runs = 1
	}
	named := regexp.MustCompile(`(P\d+) \w+ violated|hung in \w+|flaky`)
	for _, mut := range hooks.All {
		if !re.MatchString(mut.String()) {
			continue
		}
		caught := 0
		var firsts, wholes []time.Duration
		reasons := map[string]int{}
		for i := 0; i < runs; i++ {
			v := RunSuite(func(env *Env) (Bot, error) { return newReferenceBot(env, mut) })
			wholes = append(wholes, v.Duration)
			if !v.Passed {
				caught++
				firsts = append(firsts, v.FirstFailure)
				reasons[named.FindString(v.Output)]++
			}
		}
		var rs []string
		for r, n := range reasons {
			rs = append(rs, r+" ×"+strconv.Itoa(n))
		}
		sort.Strings(rs)
		first := "-"
		if len(firsts) > 0 {
			first = medianDuration(firsts).Round(time.Millisecond).String()
		}
		t.Logf("| %s | %d/%d | %s | %s | %s |", mut, caught, runs, first, medianDuration(wholes).Round(10*time.Millisecond), strings.Join(rs, ", "))
	}
}

func medianDuration(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
