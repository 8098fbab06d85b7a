package roundfourteen

import (
	"context"
	"sync"
	"time"

	"github.com/recgate/recgate/properties"
)

// The fourth team's Start webhook answers at once and runs the machine's
// Start on a goroutine of its own, as round ten's AsyncStart did, but on
// the context idiom Go 1.21 made common for work that outlives a request:
// context.WithoutCancel(ctx) keeps the request's values (trace IDs,
// loggers), and a deadline of its own bounds the work. That context is
// derived from the handler's and has a deadline: while the handler runs it
// is the handler's to the suite (madeFor), once it returned it is no
// call's, and which of the two a request is depends on the scheduler.

// asyncStartTimeout bounds the background Start.
const asyncStartTimeout = 5 * time.Second

// asyncStartBot runs Start in the background, one at a time.
type asyncStartBot struct {
	*fsmBot
	// retryRefusals: the task tries Start again, up to three times, when
	// it fails ("Graph is flaky").
	retryRefusals bool

	mu    sync.Mutex
	busy  bool
	tasks sync.WaitGroup
}

func newAsyncStartBot(env *properties.Env, retryRefusals bool) (*asyncStartBot, error) {
	base, err := newFSMBot(env, wiring{})
	if err != nil {
		return nil, err
	}
	return &asyncStartBot{fsmBot: base, retryRefusals: retryRefusals}, nil
}

// NewAsyncStartDetachedDeadline is the background Start done right: the
// machine's Stop closes the gate at once, so a completed that arrives
// for a stopped attempt opens nothing.
func NewAsyncStartDetachedDeadline(env *properties.Env) (properties.Bot, error) {
	return newAsyncStartBot(env, false)
}

// NewStartRetriesRefusal tries the Start again when Graph refused it: a
// failed operation, 8506, a call that is gone, a timeout. Only 429, 503
// and 504 may be retried; the rest are the attempt's answer.
func NewStartRetriesRefusal(env *properties.Env) (properties.Bot, error) {
	return newAsyncStartBot(env, true)
}

// Start starts the background task, or joins the one under way.
func (b *asyncStartBot) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.busy {
		return nil // a double click: the Start under way answers it
	}
	b.busy = true
	task, cancel := context.WithTimeout(context.WithoutCancel(ctx), asyncStartTimeout)
	b.tasks.Add(1)
	go func() {
		defer b.tasks.Done()
		defer cancel()
		defer func() {
			b.mu.Lock()
			b.busy = false
			b.mu.Unlock()
		}()
		_, err := b.m.Start(task)
		for try := 1; b.retryRefusals && err != nil && try < 3 && task.Err() == nil; try++ {
			time.Sleep(time.Millisecond)
			_, err = b.m.Start(task)
		}
	}()
	return nil
}

// Close waits for a task still running.
func (b *asyncStartBot) Close(ctx context.Context) error {
	done := make(chan struct{})
	go func() { b.tasks.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
