package fsm

import (
	"errors"

	"github.com/recgate/recgate/internal/hooks"
)

// The model checker in package properties pauses a machine at chosen
// points and may seed known bugs. The option that does it takes a type
// internal to this module, so it is not part of fsm's API: fsm installs it
// into internal/hooks when the package is loaded, and only code inside this
// module can reach it there.
func init() {
	hooks.MachineOption = func(h *hooks.Hooks) any { return withInternalHooks(h) }
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
