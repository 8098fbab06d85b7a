package roundtwelve

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// The third team's webhook must answer Teams within seconds, and Graph
// can take longer: Start runs the machine's Start on a goroutine of its
// own (a task), with a context the bot can cancel. A second Start while
// the task runs is the same user clicking twice: it is coalesced into
// the first. A Stop that comes while the task still waits for Graph
// cancels it.

// startTaskBot is the README wiring with Start as a cancellable task.
type startTaskBot struct {
	*fsmBot
	// stopSkipsMachine: a Stop that cancelled a task returns without
	// calling the machine's Stop ("the recording never started").
	stopSkipsMachine bool

	mu     sync.Mutex
	cancel context.CancelFunc // the task under way, or nil
	tasks  sync.WaitGroup
}

func newStartTaskBot(env *properties.Env, stopSkipsMachine bool) (*startTaskBot, error) {
	base, err := newFSMBot(env, wiring{})
	if err != nil {
		return nil, err
	}
	return &startTaskBot{fsmBot: base, stopSkipsMachine: stopSkipsMachine}, nil
}

// NewStartTask is the task done right: a Stop cancels the task and still
// calls the machine's Stop, which closes the gate at once, so a completed
// already on its way opens nothing.
func NewStartTask(env *properties.Env) (properties.Bot, error) {
	return newStartTaskBot(env, false)
}

// NewStartCancelledByStop cancels the task on Stop and returns: "the
// recording never started, so cancelling its Start is the whole stop".
// When Graph's completed was already on its way, the cancelled Start
// still gets it, the gate opens, and media is persisted after the user
// said stop, with no Stop to come.
func NewStartCancelledByStop(env *properties.Env) (properties.Bot, error) {
	return newStartTaskBot(env, true)
}

// Start starts the task, or joins the one under way.
func (b *startTaskBot) Start(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cancel != nil {
		return nil // a double click: the Start under way answers it
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.tasks.Add(1)
	go func() {
		defer b.tasks.Done()
		defer cancel()
		_, _ = b.m.Start(ctx) // the outcome reaches the user through the machine's events
		b.mu.Lock()
		b.cancel = nil
		b.mu.Unlock()
	}()
	return nil
}

// Stop cancels a task under way, then stops the machine (unless the team
// thought that unneeded).
func (b *startTaskBot) Stop(ctx context.Context) error {
	if b.cancelTask() && b.stopSkipsMachine {
		return nil
	}
	return b.m.Stop(ctx)
}

// Fail is Stop with the report failed.
func (b *startTaskBot) Fail(ctx context.Context) error {
	if b.cancelTask() && b.stopSkipsMachine {
		return nil
	}
	return b.m.Fail(ctx)
}

// cancelTask cancels the task under way and reports whether there was one.
func (b *startTaskBot) cancelTask() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cancel == nil {
		return false
	}
	b.cancel()
	b.cancel = nil
	return true
}

// Close waits for a task still running.
func (b *startTaskBot) Close(ctx context.Context) error {
	done := make(chan struct{})
	go func() { b.tasks.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryingGraph is the team's Graph middleware: it retries 429, 503 and
// 504 with the same clientContext, at most three times, waiting
// Retry-After capped at 20 ms ("never hold a webhook longer"). It sends
// each try with the request's values but not its cancellation ("a retry
// must not inherit the webhook's deadline"), so a request the machine
// gave up on, or the call's end cancelled, is still retried.
type retryingGraph struct {
	next fsm.Updater
}

// maxRetryWait caps the wait between tries.
const maxRetryWait = 20 * time.Millisecond

// UpdateRecordingStatus sends the request, retrying throttling.
func (g retryingGraph) UpdateRecordingStatus(ctx context.Context, callID string, status graph.Status, cc string) (graph.Operation, error) {
	detached := context.WithoutCancel(ctx)
	for try := 1; ; try++ {
		op, err := g.next.UpdateRecordingStatus(detached, callID, status, cc)
		var ge *graph.Error
		if err == nil || try == 4 || !errors.As(err, &ge) || (ge.StatusCode != 429 && ge.StatusCode != 503 && ge.StatusCode != 504) {
			return op, err
		}
		time.Sleep(min(max(ge.RetryAfter, time.Millisecond), maxRetryWait))
	}
}

// NewRetryIgnoresCancel is the README wiring over that middleware.
func NewRetryIgnoresCancel(env *properties.Env) (properties.Bot, error) {
	return newFSMBot(env, wiring{updater: retryingGraph{next: env.Updater}})
}
