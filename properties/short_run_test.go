package properties

import (
	"strings"
	"testing"
)

// A short run (-rapid.checks=10) offered the reference bot no frame inside
// a confirmed recording about one time in a hundred, and called it
// vacuous: that failed CI once, in examples/review. A run that offered
// nothing plays more cases, up to enoughCases; one that offered something,
// or failed, stops where it is.
func TestShortRunPlaysOnUntilAFrameIsOffered(t *testing.T) {
	cases := []struct {
		name    string
		offered []int // frames offered by each batch of 10 cases
		failAt  int   // the batch (1, 2, ...) that fails; 0: none
		batches int   // batches played
	}{
		{"offered in the first batch", []int{3}, 0, 1},
		{"offered in the third batch", []int{0, 0, 5}, 0, 3},
		{"never offered", nil, 0, enoughCases / 10},
		{"a failure stops it", []int{0, 0, 0}, 2, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var cov Coverage
			batches, failed := 0, false
			playUntilOffered(&cov, func() bool { return failed }, func() {
				batches++
				for i := 0; i < 10; i++ {
					k := caseCoverage{}
					if i == 0 && batches <= len(c.offered) {
						k.framesOffered = c.offered[batches-1]
					}
					cov.add(k)
				}
				failed = batches == c.failAt
			})
			if batches != c.batches {
				t.Errorf("played %d batches, want %d (%d cases, %d frames offered)", batches, c.batches, cov.Cases, cov.FramesOffered)
			}
		})
	}
}

// -rapid.checks=0 plays no case: asking again must not loop for ever.
func TestShortRunOfNoCasesStops(t *testing.T) {
	var cov Coverage
	batches := 0
	playUntilOffered(&cov, func() bool { return false }, func() { batches++ })
	if batches != 2 {
		t.Errorf("played %d batches of no case, want 2 (one, then one that shows nothing runs)", batches)
	}
	if err := cov.vacuous(nil); err == nil || !strings.Contains(err.Error(), "no case ran") {
		t.Errorf("vacuous: %v", err)
	}
}

// Vacuity says whose it is: a run that offered nothing asks for more
// cases; a bot that was offered frames and persisted none is told to
// look at its wiring.
func TestVacuityNamesWhoseItIs(t *testing.T) {
	offeredNothing := Coverage{Cases: 100, Confirmed: 4, FramesSent: 12}
	if err := offeredNothing.vacuous(nil); err == nil || !strings.Contains(err.Error(), "no frame arrived while a recording was confirmed") || !strings.Contains(err.Error(), "-rapid.checks") {
		t.Errorf("offered nothing: %v", err)
	}
	persistedNothing := Coverage{Cases: 100, Confirmed: 4, FramesSent: 12, FramesOffered: 5}
	if err := persistedNothing.vacuous(nil); err == nil || !strings.Contains(err.Error(), "the bot never persisted a frame the suite sent") {
		t.Errorf("persisted nothing: %v", err)
	}
}

// The reference bot is offered frames in a default run; it persists only
// frames offered (it drops what comes while its gate is shut), and the
// frames offered are some of those sent.
func TestFramesOfferedAreCounted(t *testing.T) {
	v := RunSuite(ReferenceBot)
	if !v.Passed {
		t.Fatal(v.Output)
	}
	if c := v.Coverage; c.FramesOffered == 0 || c.FramesOffered >= c.FramesSent || c.FramesPersisted > c.FramesOffered {
		t.Errorf("frames sent %d, offered %d, persisted %d", c.FramesSent, c.FramesOffered, c.FramesPersisted)
	}
}
