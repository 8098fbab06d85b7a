package fsm

import (
	"errors"

	"github.com/recgate/recgate/internal/hooks"
)

// The model checker in package properties pauses a machine at chosen
// points and may seed known bugs. The option that does it takes a type
// internal to this module, so it is not part of fsm's API: fsm installs it
// into internal/hooks when the package is loaded, and only code inside this
// module can reach it there. The same goes for the read of the machine's
// own state that the checker's abstract state needs (hooks.ReadMachine).
func init() {
	hooks.MachineOption = func(h *hooks.Hooks) any { return withInternalHooks(h) }
	hooks.ReadMachine = func(m any) hooks.MachineState { return m.(*Machine).checkerState() }
}

func withInternalHooks(h *hooks.Hooks) Option {
	return func(c *config) error {
		if h == nil || h.Yield == nil || h.Lock == nil || h.Unlock == nil {
			return errors.New("fsm: internal hooks need Yield, Lock and Unlock")
		}
		c.checker = h
		return nil
	}
}

// checkerState is what hooks.ReadMachine reads: only for a checker, which
// calls it while every goroutine of the machine is paused. It allocates
// nothing.
func (m *Machine) checkerState() hooks.MachineState {
	w := m.gate.word.Load()
	st := hooks.MachineState{
		GateEpoch: w / gateEpochUnit, GateOpen: w&gateOpenBit != 0, GateEnded: w&gateEndedBit != 0,
	}
	if p := m.pending; p != nil {
		st.Pending, st.PendingClientContext, st.PendingOperation, st.PendingEpoch = true, p.clientContext, p.operationID, p.epoch
	}
	f := &m.current
	st.FiringTrigger, st.FiringStatus, st.FiringClientContext, st.FiringEpoch = int(f.trigger), string(f.status), f.clientContext, f.epoch
	st.FiringSent, st.FiringErr, st.FiringOpened, st.FiringReply = f.sent, f.err != nil, f.opened, string(f.op.Status)
	return st
}
