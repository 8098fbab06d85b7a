package fsm

import (
	"context"

	"github.com/recgate/recgate/internal/hooks"
)

// The gate's steps as the model checker's build runs them, and the
// gate-internal seeded bugs. Everything here is reached only from inside
// `if gateChecker { ... }`, so outside the recgate_checker build it is
// unreachable and the linker drops it.

// waitIdleChecked waits for the stream's lease under the checker: each look
// is a pause whose scheduler resumes it only once the lease is released.
func (s *Stream) waitIdleChecked(ctx context.Context) error {
	for s.word.Load()&streamHolders != 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.probe.wait(hooks.DrainWait, s.idle)
	}
	return nil
}

func (s *Stream) idle() bool { return s.word.Load()&streamHolders == 0 }

// acquireLookingFirst is the AcquireLooksFirst mutant: it looks at the
// gate, then announces the lease. A drain that looks at the stream in
// between finds it idle and does not wait for the write that follows.
func (s *Stream) acquireLookingFirst() (Lease, error) {
	if s.gate.Load()&gateOpenBit == 0 {
		return Lease{}, ErrGateClosed
	}
	s.probe.yield(hooks.AcquireLooked)
	w := s.word.Add(streamHeld)
	if w&(streamGen-1) != streamHeld {
		s.word.Add(^uint64(streamHeld - 1)) // minus streamHeld
		return Lease{}, ErrStreamBusy
	}
	return Lease{s: s, gen: w}, nil
}

// releaseAny is the ReleaseIgnoresGeneration mutant: it ends whatever
// lease the stream holds, not only the one it was handed.
func (s *Stream) releaseAny() bool {
	old := s.word.Load()
	if old&streamHolders == 0 {
		return false
	}
	return s.word.CompareAndSwap(old, old-streamHeld+streamGen)
}
