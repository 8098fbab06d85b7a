package fsm

import "github.com/recgate/recgate/internal/hooks"

// attachChecker hands the gate to the model checker, so that it can pause
// the gate's own atomic steps. Without a checker it does nothing.
func (g *Gate) attachChecker(h *hooks.Hooks) {
	_ = h // the gate-internal pause points are still to come
}
