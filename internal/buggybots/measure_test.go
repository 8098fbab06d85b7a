package buggybots

import (
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/recgate/recgate/properties"
)

// TestMeasure measures, for the README's table, how often the suite's
// verdict is "failed" for each bot over RUNS runs of RunSuite with default
// settings, the median and longest run, and what each failure named. It
// runs only when asked (minutes, not seconds):
//
//	MEASURE='.' RUNS=20 go test -run TestMeasure -v -timeout 60m ./internal/buggybots
//
// MEASURE is a regexp over the bug names and "correct/<name>"; FULL=1
// prints every failing verdict in full.
func TestMeasure(t *testing.T) {
	if os.Getenv("MEASURE") == "" {
		t.Skip()
	}
	re := regexp.MustCompile(os.Getenv("MEASURE"))
	runs, _ := strconv.Atoi(os.Getenv("RUNS"))
	if runs == 0 {
		runs = 1
	}
	type entry struct {
		name  string
		nonin bool
		f     properties.Factory
		bug   bool
	}
	var all []entry
	for _, b := range Bugs() {
		all = append(all, entry{b.Name, b.Noninterference, b.New, true})
	}
	for _, b := range Correct() {
		all = append(all, entry{"correct/" + b.Name, false, b.New, false})
	}
	all = append(all, entry{"correct/ReferenceBot", false, properties.ReferenceBot, false})
	for _, e := range all {
		if !re.MatchString(e.name) {
			continue
		}
		var opts []properties.Option
		if e.nonin {
			opts = append(opts, properties.WithNoninterference())
		}
		caught := 0
		var times, firsts []time.Duration
		reasons := map[string]int{}
		for i := 0; i < runs; i++ {
			v := properties.RunSuite(e.f, opts...)
			times = append(times, v.Duration)
			if !v.Passed {
				caught++
				firsts = append(firsts, v.FirstFailure)
				m := regexp.MustCompile(`(P\d+) \w+ violated|hung in \w+|noninterference violated|vacuous|flaky`).FindString(v.Output)
				reasons[m]++
				if os.Getenv("FULL") != "" {
					t.Log(v.Output)
				}
			}
		}
		var rs []string
		for r, n := range reasons {
			rs = append(rs, r+" ×"+strconv.Itoa(n))
		}
		sort.Strings(rs)
		first := "-"
		if len(firsts) > 0 {
			first = median(firsts).Round(time.Millisecond).String()
		}
		// One Markdown row: bot, caught, median time to the first failing
		// case, median whole run (shrinking included), what was named.
		t.Logf("| %s | %d/%d | %s | %s | %s |", e.name, caught, runs, first, median(times).Round(10*time.Millisecond), strings.Join(rs, ", "))
	}
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
