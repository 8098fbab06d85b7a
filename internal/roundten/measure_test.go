package roundten

import (
	"testing"

	"github.com/recgate/recgate/internal/botrounds"
)

// TestMeasure logs each bot's catch rate when asked (botrounds.Measure):
//
//	MEASURE='.' RUNS=10 go test -run TestMeasure -v -timeout 60m ./internal/roundten
func TestMeasure(t *testing.T) { botrounds.Measure(t, Bugs(), Correct()) }
