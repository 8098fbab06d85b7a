//go:build recgate_checker

package fsm

import (
	"runtime"
	"strconv"

	"github.com/recgate/recgate/internal/hooks"
)

// gateChecker is true in this build (tag recgate_checker): the gate pauses
// for the model checker between its own atomic steps, and the gate-internal
// mutants can be seeded. Never ship this build.
const gateChecker = true

// gateProbe connects the gate to the checker's hooks (nil without a
// checker). It also keeps what of the gate's progress the checker's
// abstract state needs: where the drain looks, and the list of streams the
// DrainStaleList mutant keeps from the last open.
type gateProbe struct {
	h      *hooks.Hooks
	cursor *int // the stream the drain looks at, -1 when not draining
	kept   **[]*Stream
}

func (p *gateProbe) attach(h *hooks.Hooks) {
	cursor := -1
	p.h, p.cursor, p.kept = h, &cursor, new(*[]*Stream)
}

func (p gateProbe) stream() streamProbe { return streamProbe{h: p.h} }

func (p gateProbe) mutant(m hooks.Mutant) bool { return p.h != nil && p.h.Mutants.Has(m) }

// look marks the stream the drain is about to look at (-1: the drain is
// over) and pauses there.
func (p gateProbe) look(i int) {
	if p.h == nil {
		return
	}
	*p.cursor = i
	if i >= 0 {
		p.h.Yield(hooks.DrainLook)
	}
}

func (p gateProbe) keepList(l *[]*Stream) {
	if p.h != nil {
		*p.kept = l
	}
}

func (p gateProbe) keptList() *[]*Stream {
	if p.h == nil {
		return nil
	}
	return *p.kept
}

// appendState appends the drain's cursor and, for the DrainStaleList
// mutant, how many streams the kept list has.
func (p gateProbe) appendState(b []byte) []byte {
	if p.h == nil {
		return b
	}
	b = append(b, "drain@"...)
	b = strconv.AppendInt(b, int64(*p.cursor), 10)
	if l := *p.kept; l != nil {
		b = append(b, ",kept="...)
		b = strconv.AppendInt(b, int64(len(*l)), 10)
	}
	return b
}

// streamProbe is a stream's share of the probe.
type streamProbe struct{ h *hooks.Hooks }

func (p streamProbe) on() bool { return p.h != nil }

func (p streamProbe) yield(pt hooks.Point) {
	if p.h != nil {
		p.h.Yield(pt)
	}
}

func (p streamProbe) mutant(m hooks.Mutant) bool { return p.h != nil && p.h.Mutants.Has(m) }

// wait pauses a drain that waits for this stream's lease; ready says when
// the wait is over.
func (p streamProbe) wait(pt hooks.Point, ready func() bool) {
	switch {
	case p.h == nil:
	case p.h.Wait != nil:
		p.h.Wait(pt, ready)
	default:
		p.h.Yield(pt)
		runtime.Gosched()
	}
}
