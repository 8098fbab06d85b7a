package fsm

import (
	"github.com/recgate/recgate/internal/hooks"
)

// lock takes the machine's lock; under a checker, the checker's scheduler
// decides when.
func (m *Machine) lock() {
	if h := m.cfg.checker; h != nil {
		h.Yield(hooks.Lock)
		h.Lock()
	}
	m.mu.Lock()
}

func (m *Machine) unlock() {
	m.mu.Unlock()
	if h := m.cfg.checker; h != nil {
		h.Unlock()
	}
}

// yield pauses at p under a checker, and does nothing otherwise.
func (m *Machine) yield(p hooks.Point) {
	if h := m.cfg.checker; h != nil {
		h.Yield(p)
	}
}

// mutant reports whether seeded bug b is switched on (tests only).
func (m *Machine) mutant(b hooks.Mutant) bool {
	return m.cfg.checker != nil && m.cfg.checker.Mutants.Has(b)
}
