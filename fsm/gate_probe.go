//go:build !recgate_checker

package fsm

import "github.com/recgate/recgate/internal/hooks"

// gateChecker is true only in a build with the recgate_checker tag, where
// the model checker pauses inside the gate's own atomic steps. Every use is
// `if gateChecker { ... }`: with the constant false the compiler drops the
// block (and the inliner does not count it), so the hot path of this build
// carries no trace of the checker.
const gateChecker = false

// gateProbe is where the checker's build pauses the gate; here it is empty
// and takes no space.
type gateProbe struct{}

func (gateProbe) attach(*hooks.Hooks)             {}
func (gateProbe) stream() streamProbe             { return streamProbe{} }
func (gateProbe) mutant(hooks.Mutant) bool        { return false }
func (gateProbe) look(int)                        {}
func (gateProbe) keepList(*[]*Stream)             {}
func (gateProbe) keptList() *[]*Stream            { return nil }
func (gateProbe) appendState(b []byte) []byte     { return b }
func (streamProbe) on() bool                      { return false }
func (streamProbe) yield(hooks.Point)             {}
func (streamProbe) mutant(hooks.Mutant) bool      { return false }
func (streamProbe) wait(hooks.Point, func() bool) {}

// streamProbe is a stream's share of the probe: empty here.
type streamProbe struct{}
