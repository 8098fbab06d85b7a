package botrounds

import (
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/recgate/recgate/properties"
)

// Measure counts, for each bot whose name matches the MEASURE variable, in
// how many of RUNS runs of RunSuite the verdict is "failed", and what the
// failures named, and logs one table row per bot. It skips unless asked
// (minutes, not seconds):
//
//	MEASURE='.' RUNS=10 go test -run TestMeasure -v -timeout 60m ./internal/roundfive
//
// MEASURE is a regexp over the bot names (correct bots are
// "correct/<Name>"); FULL=1 logs every failing verdict in full.
func Measure(t *testing.T, bugs []Bug, correct []CorrectBot) {
	if os.Getenv("MEASURE") == "" {
		t.Skip("set MEASURE (a regexp over bot names) to measure detection rates")
	}
	re := regexp.MustCompile(os.Getenv("MEASURE"))
	runs, _ := strconv.Atoi(os.Getenv("RUNS"))
	if runs <= 0 {
		runs = 1
	}
	named := regexp.MustCompile(`\bP\d+ \w+|hung in \w+|noninterference violated|vacuous|flaky`)
	var logMu sync.Mutex
	measure := func(name string, f properties.Factory, opts []properties.Option) {
		caught := 0
		reasons := map[string]int{}
		for i := 0; i < runs; i++ {
			v := properties.RunSuite(f, opts...)
			if v.Passed {
				continue
			}
			caught++
			seen := map[string]bool{}
			var ms []string
			for _, m := range named.FindAllString(v.Output, -1) {
				if !seen[m] {
					seen[m] = true
					ms = append(ms, m)
				}
			}
			sort.Strings(ms)
			reasons[strings.Join(ms, "+")]++
			if os.Getenv("FULL") != "" {
				logMu.Lock()
				t.Log(v.Output)
				logMu.Unlock()
			}
		}
		var rs []string
		for r, n := range reasons {
			rs = append(rs, r+" ×"+strconv.Itoa(n))
		}
		sort.Strings(rs)
		t.Logf("| %s | %d/%d | %s |", name, caught, runs, strings.Join(rs, "; "))
	}
	for _, b := range bugs {
		if re.MatchString(b.Name) {
			t.Run(b.Name, func(t *testing.T) { t.Parallel(); measure(b.Name, b.New, b.Options) })
		}
	}
	for _, b := range correct {
		if re.MatchString("correct/" + b.Name) {
			t.Run("correct/"+b.Name, func(t *testing.T) { t.Parallel(); measure("correct/"+b.Name, b.New, b.Options) })
		}
	}
}
