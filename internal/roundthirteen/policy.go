package roundthirteen

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// The seventh team writes a compliance-recording bot: a policy says
// every call of these users is recorded, so the bot starts recording by
// itself when the call is established (the factory: the bot joins as
// the call comes up) and keeps trying when Start fails. The suite's
// Start (a user or an admin asking) runs the same loop.

// policyTries bounds the loop.
const policyTries = 4

// policyBot is the README's machine with a retrying Start.
type policyBot struct {
	*fsmBot
	// honorRefusal: the loop stops at a final answer (a failed operation,
	// a 4xx such as the 8506 policy refusal, a superseded or ended call);
	// otherwise it retries whatever went wrong.
	honorRefusal bool
	// perLoop: each loop honours the refusals it got itself only; the
	// establishment's loop and a Start's do not tell each other.
	perLoop bool

	// refused is set once Graph refused for good (honorRefusal): every
	// loop of the call, the establishment's and a Start's, stops then.
	refused atomic.Bool
	// starting lets one loop at a time look at refused and ask Graph, so
	// a loop never asks after another loop's try was refused.
	starting chan struct{}

	auto   sync.WaitGroup
	cancel context.CancelFunc
}

func newPolicyBot(env *properties.Env, honorRefusal, autoStart bool, perLoop ...bool) (*policyBot, error) {
	base, err := newFSMBot(env, wiring{})
	if err != nil {
		return nil, err
	}
	b := &policyBot{fsmBot: base, honorRefusal: honorRefusal, cancel: func() {}, starting: make(chan struct{}, 1)}
	b.perLoop = len(perLoop) > 0 && perLoop[0]
	if autoStart {
		ctx, cancel := context.WithCancel(context.Background())
		b.cancel = cancel
		b.auto.Add(1)
		go func() {
			defer b.auto.Done()
			_ = b.Start(ctx)
		}()
	}
	return b, nil
}

// NewPolicyHonorsRefusal starts when the call is established and on
// Start, retries only what may pass next time (a timeout, a 5xx, 429),
// and stops at a refusal, a Stop that came meanwhile, or the end of
// the call.
func NewPolicyHonorsRefusal(env *properties.Env) (properties.Bot, error) {
	return newPolicyBot(env, true, true)
}

// NewPolicyLoopsRace is PolicyHonorsRefusal whose loops do not tell
// each other: each stops at the refusal it got itself, so the
// establishment's loop, pausing after a timeout, asks again after the
// user's Start was refused for good (8506, failed), and after a failed
// notification.
func NewPolicyLoopsRace(env *properties.Env) (properties.Bot, error) {
	return newPolicyBot(env, true, true, true)
}

// NewPolicyRetriesTransient is the Start loop without the start at
// establishment: the suite's Start runs it, retrying a timeout, a 5xx
// or 429 (each try the machine's Start, a new attempt with a new
// clientContext) and stopping at a final answer.
func NewPolicyRetriesTransient(env *properties.Env) (properties.Bot, error) {
	return newPolicyBot(env, true, false)
}

// NewPolicyIgnoresRefusal retries Start whatever the answer ("the
// policy says record; Graph will come round"): after Graph's failed
// operation or the 8506 policy refusal it asks again, and after a Stop
// that superseded its Start it starts a recording the user just stopped.
func NewPolicyIgnoresRefusal(env *properties.Env) (properties.Bot, error) {
	return newPolicyBot(env, false, true)
}

// final reports an answer after which the loop must stop.
func final(err error) bool {
	if errors.Is(err, fsm.ErrSuperseded) || errors.Is(err, fsm.ErrCallEnded) ||
		errors.Is(err, fsm.ErrNotPermitted) || errors.Is(err, context.Canceled) {
		return true
	}
	var oe *graph.OperationError
	if errors.As(err, &oe) {
		return true // Graph refused
	}
	var ge *graph.Error
	if errors.As(err, &ge) {
		return ge.NonCompliance() || (ge.StatusCode >= 400 && ge.StatusCode < 500 && ge.StatusCode != 429)
	}
	return false
}

// errPolicyRefused is what a Start gets once Graph refused the call's
// recording for good.
var errPolicyRefused = errors.New("roundthirteen: Graph refused this call's recording for good (a failed operation or 8506); not asking again")

// refusal reports Graph's own refusal (as opposed to the call's state):
// a failed operation or a 4xx other than 429.
func refusal(err error) bool {
	var oe *graph.OperationError
	var ge *graph.Error
	return errors.As(err, &oe) || errors.As(err, &ge) && ge.StatusCode >= 400 && ge.StatusCode < 500 && ge.StatusCode != 429
}

// Start runs the machine's Start until it is confirmed or pending, or
// (honorRefusal) a final answer came.
func (b *policyBot) Start(ctx context.Context) error {
	err := errPolicyRefused
	for try := 0; try < policyTries; try++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err = b.try(ctx); err == nil {
			return nil
		}
		if errors.Is(err, errPolicyRefused) {
			return err
		}
		if errors.Is(err, fsm.ErrCallEnded) || ctx.Err() != nil {
			return err // even this team stops when the call is gone
		}
		if b.honorRefusal && final(err) {
			return err
		}
		if pause(ctx, retryBackoff) != nil {
			return err
		}
	}
	return err
}

// try is one Start, one loop at a time (honorRefusal), none once Graph
// refused for good.
func (b *policyBot) try(ctx context.Context) error {
	if !b.honorRefusal || b.perLoop {
		_, err := b.m.Start(ctx)
		return err
	}
	select {
	case b.starting <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-b.starting }()
	if b.refused.Load() {
		return errPolicyRefused
	}
	_, err := b.m.Start(ctx)
	if refusal(err) {
		b.refused.Store(true)
	}
	return err
}

// Close stops the establishment loop and waits for it.
func (b *policyBot) Close(context.Context) error {
	b.cancel()
	b.auto.Wait()
	return nil
}

// OperationUpdate feeds Graph's later outcome to the machine; a failed
// one is Graph's refusal too.
func (b *policyBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	if b.honorRefusal && !b.perLoop && op.Status.Refused() {
		b.refused.Store(true)
	}
	return b.m.OperationUpdate(ctx, op)
}
