package fsm

import "github.com/recgate/recgate/internal/hooks"

// attachChecker hands the gate to the model checker. In a build with the
// recgate_checker tag the gate then pauses between its own atomic steps
// (hooks.AcquireAnnounced, AcquireLooked, DrainLook, and DrainWait through
// hooks.Wait) and can seed the gate-internal mutants; in any other build it
// only lets the checker read the gate's state.
func (g *Gate) attachChecker(h *hooks.Hooks) {
	g.probe.attach(h)
	h.GateSteps = gateChecker
	h.GateState = g.checkerState
}

// checkerState appends each stream's lease word (held and closed bits, in
// the order the streams were registered, which is the drain's order) and
// the probe's own state: what decides the gate's next steps, without the
// generation counters, which only tell leases apart.
func (g *Gate) checkerState(b []byte) []byte {
	g.mu.Lock()
	for _, s := range g.streams {
		b = append(b, '0'+byte(s.word.Load()&(streamHeld|streamClosed)))
	}
	g.mu.Unlock()
	b = append(b, '|')
	return g.probe.appendState(b)
}
