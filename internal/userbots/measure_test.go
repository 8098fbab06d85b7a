package userbots

import (
	"testing"

	"github.com/recgate/recgate/internal/botrounds"
)

// TestMeasure logs each bot's catch rate when asked (botrounds.Measure):
//
//	MEASURE='.' RUNS=10 go test -run TestMeasure -v -timeout 60m ./internal/userbots
//
// MEASURE is a regexp over the bot names; FULL=1 logs every failing
// verdict in full.
func TestMeasure(t *testing.T) {
	var bugs []botrounds.Bug
	for _, b := range Bugs() {
		bugs = append(bugs, botrounds.Bug{Name: b.Name, New: b.New, Options: b.Options})
	}
	var correct []botrounds.CorrectBot
	for _, b := range Correct() {
		correct = append(correct, botrounds.CorrectBot{Name: b.Name, New: b.New})
	}
	botrounds.Measure(t, bugs, correct)
}
