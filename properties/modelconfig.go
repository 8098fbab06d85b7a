package properties

import (
	"errors"
	"fmt"

	"github.com/recgate/recgate/internal/hooks"
)

// ModelConfig bounds the model the checker explores.
type ModelConfig struct {
	// Writers is K, the number of concurrent media writers (default 2).
	Writers int
	// Starts and Stops bound how many Start and Stop/Fail events a path has
	// (default 2 each); Updates bounds operation updates (default 1).
	Starts, Stops, Updates int
	// Outcomes are the replies Graph may give each request (default:
	// completed, pending, failed, error).
	Outcomes []Outcome
	// MaxStates stops the search early (0: no bound).
	MaxStates int
	// Workers is how many goroutines explore the frontier at once (default:
	// GOMAXPROCS). The result does not depend on it.
	Workers int

	mutants hooks.Mutant
	// keepAlive bounds how many paused machines the search keeps to go on
	// from instead of replaying their paths (0: a default).
	keepAlive int
	// checkReplays makes the search replay every new state's path from a
	// fresh machine and compare the result (a self-test of the abstract
	// state: slow).
	checkReplays bool
	// noDonate keeps the search to each machine's own path (see
	// donateSeen), for the tests that compare the two.
	noDonate bool
}

func (c ModelConfig) withDefaults() ModelConfig {
	if c.Writers == 0 {
		c.Writers = 2
	}
	if c.Starts == 0 {
		c.Starts = 2
	}
	if c.Stops == 0 {
		c.Stops = 2
	}
	if c.Updates == 0 {
		c.Updates = 1
	}
	if len(c.Outcomes) == 0 {
		c.Outcomes = []Outcome{OutcomeCompleted, OutcomePending, OutcomeFailed, OutcomeError}
	}
	return c
}

func (c ModelConfig) validate() error {
	switch {
	case c.Writers < 0 || c.Writers > 6:
		return fmt.Errorf("properties: %d writers: the model checker takes 0 to 6", c.Writers)
	case c.Starts < 0 || c.Stops < 0 || c.Updates < 0:
		return errors.New("properties: negative event bounds")
	case c.Workers < 0 || c.MaxStates < 0:
		return errors.New("properties: negative Workers or MaxStates")
	}
	for _, o := range c.Outcomes {
		if o <= OutcomeNone || o > OutcomeError {
			return fmt.Errorf("properties: outcome %d is not one Graph can give (completed, pending, failed, error)", o)
		}
	}
	return nil
}
