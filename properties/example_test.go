package properties_test

import (
	"fmt"
	"strings"

	"github.com/recgate/recgate/properties"
)

// The invariants are values: a name, the rule, and a check.
func ExampleInvariants() {
	for _, inv := range properties.Invariants() {
		fmt.Println(inv)
	}
	// Output:
	// P1 NoPersistOutsideConfirmedRecording
	// P2 EndBeforeReport
	// P3 OneRequestPerAttempt
	// P4 PendingIsNotSuccess
	// P5 EndedIsFinal
	// P6 NoLostUpdates
	// P7 ConsentCoversCapture
	// P9 NoWriteAfterStopAsked
	// P10 UniqueClientContext
}

// The model checker explores every interleaving of one writer with the
// bot's events and Graph's replies, on the real machine.
func ExampleCheckModel() {
	res, err := properties.CheckModel(properties.ModelConfig{Writers: 1, Starts: 1, Stops: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println("violation:", res.Counterexample != nil)
	fmt.Println("a byte was persisted somewhere:", res.PersistReachable)
	fmt.Println("stuck states:", len(res.Stuck))
	// Output:
	// violation: false
	// a byte was persisted somewhere: true
	// stuck states: 0
}

// RunSuite gives the rapid suite's verdict as a value, for reports; in a
// test, use properties.Check(t, newBot).
func ExampleRunSuite() {
	v := properties.RunSuite(properties.ReferenceBot)
	fmt.Println("reference bot passed:", v.Passed)
	// Output:
	// reference bot passed: true
}

// The same concurrent model, for SPIN.
func ExamplePromela() {
	model, err := properties.Promela(2)
	if err != nil {
		panic(err)
	}
	for _, line := range strings.Split(model, "\n") {
		if strings.HasPrefix(line, "ltl ") {
			fmt.Println(line)
		}
	}
	// Output:
	// ltl p1 { [] !violP1 }
	// ltl p2 { [] !violP2 }
	// ltl vacuity { [] !persisted }
}
