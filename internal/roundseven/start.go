package roundseven

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// provisionalBot persists under fsm's leases, and also, while its own
// "provisional" flag is set, straight to storage: the team's idea of a
// recording Graph has accepted but fsm has not confirmed yet. What sets
// the flag is the misreading of Start's result each bot makes (accepted);
// a refusal notification, Stop, Fail and CallEnded clear it.
type provisionalBot struct {
	*fsmBot
	accepted    func(op graph.Operation, err error) bool
	startBudget time.Duration // Start's own deadline; 0: the caller's
	provisional atomic.Bool
}

func (b *provisionalBot) Start(ctx context.Context) error {
	if b.startBudget > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.startBudget)
		defer cancel()
	}
	op, err := b.m.Start(ctx)
	if err != nil && b.accepted(op, err) {
		// "Graph has the request and will decide: record provisionally,
		// so the first seconds are not lost; a failed notification
		// (or Stop) ends it."
		b.provisional.Store(true)
	}
	return err
}

func (b *provisionalBot) Frame(ctx context.Context, stream int, payload []byte) error {
	err := b.fsmBot.Frame(ctx, stream, payload)
	if errors.Is(err, fsm.ErrGateClosed) && b.provisional.Load() {
		_, err = b.store.Write(stream, payload) // provisional recording
	}
	return err
}

func (b *provisionalBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	if op.Status.Refused() {
		b.provisional.Store(false)
	}
	return b.fsmBot.OperationUpdate(ctx, op)
}

func (b *provisionalBot) Stop(ctx context.Context) error {
	b.provisional.Store(false)
	return b.fsmBot.Stop(ctx)
}

func (b *provisionalBot) Fail(ctx context.Context) error {
	b.provisional.Store(false)
	return b.fsmBot.Fail(ctx)
}

func (b *provisionalBot) CallEnded(ctx context.Context) error {
	b.provisional.Store(false)
	return b.fsmBot.CallEnded(ctx)
}

// NewPendingZeroOperation builds a bot that reads Start's *fsm.RequestError
// by its Operation: "if Graph's operation is still pending (notStarted,
// running, or no status), Graph has not decided yet; record provisionally
// until it notifies". But the Operation of a RequestError is zero for
// every refusal that came as an error (a failed operation travels inside
// the *graph.OperationError, HTTP errors and timeouts have no operation at
// all), and the zero status reads as pending (graph.OperationStatus: "the
// zero value stands for a reply whose status was missing: pending"). So
// every refused Start starts a provisional recording.
//
// Why a team does it: fsm's docs say a pending reply is not an error, and
// the team, seeing RequestError carry an Operation, wrote the check it
// would write for a notification.
func NewPendingZeroOperation(env *properties.Env) (properties.Bot, error) {
	base, err := newEnvBot(env, nil)
	if err != nil {
		return nil, err
	}
	return &provisionalBot{fsmBot: base, accepted: func(_ graph.Operation, err error) bool {
		var rerr *fsm.RequestError
		return errors.As(err, &rerr) && rerr.Operation.Status.Pending()
	}}, nil
}

// NewStartDeadlineMeansSent builds a bot that gives Start its own deadline
// (300 ms, the team's budget for the join flow) and reads a deadline that
// expired as "the request was sent, so Graph has it and will accept it":
// errors.Is(err, context.DeadlineExceeded) starts a provisional recording.
// A Graph that timed out (the suite draws timeouts as errors matching
// context.DeadlineExceeded, as *graph.Client returns them) never said
// completed.
func NewStartDeadlineMeansSent(env *properties.Env) (properties.Bot, error) {
	base, err := newEnvBot(env, nil)
	if err != nil {
		return nil, err
	}
	return &provisionalBot{fsmBot: base, startBudget: 300 * time.Millisecond, accepted: func(_ graph.Operation, err error) bool {
		return errors.Is(err, context.DeadlineExceeded)
	}}, nil
}

// NewSupersededButCompleted builds a bot that reads Start's Operation
// before its error: "Graph said completed, so Graph shows recording; if
// fsm returned an error anyway, fsm is behind Graph: record
// provisionally". fsm returns Graph's completed reply together with
// ErrSuperseded when a Stop, Fail or CallEnded came while the request was
// out; the bot's flag is set after that Stop already cleared it, and the
// frames that follow are written straight to storage after notRecording.
func NewSupersededButCompleted(env *properties.Env) (properties.Bot, error) {
	base, err := newEnvBot(env, nil)
	if err != nil {
		return nil, err
	}
	return &provisionalBot{fsmBot: base, accepted: func(op graph.Operation, _ error) bool {
		return op.Status.Confirmed()
	}}, nil
}

// NewRetryBufferedFrames builds a bot whose Start retries a throttled
// request (429, 503, 504: what the rule allows) with a backoff of 1, 2, 4
// ms, and keeps every frame that arrives meanwhile in a buffer ("frames
// between attempts must not be lost: the participant has already been
// told we are recording"); when an attempt succeeds, the buffer is written
// under the leases of the open recording. The buffered frames arrived
// before Graph's completed: pre-consent media in the recording.
func NewRetryBufferedFrames(env *properties.Env) (properties.Bot, error) {
	base, err := newEnvBot(env, nil)
	if err != nil {
		return nil, err
	}
	return &retryBufferBot{fsmBot: base}, nil
}

type retryBufferBot struct {
	*fsmBot
	mu        sync.Mutex
	buffering bool
	held      []heldFrame
}

type heldFrame struct {
	stream int
	p      []byte
}

// maxHeld caps the buffer (two seconds of one stream at 50 frames/s).
const maxHeld = 100

func (b *retryBufferBot) Start(ctx context.Context) error {
	b.mu.Lock()
	b.buffering = true
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.buffering, b.held = false, nil
		b.mu.Unlock()
	}()
	backoff := time.Millisecond
	for attempt := 0; ; attempt++ {
		_, err := b.m.Start(ctx)
		var gerr *graph.Error
		if err == nil || attempt == 3 || !errors.As(err, &gerr) || !gerr.Temporary() {
			if err == nil {
				b.flushHeld()
			}
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

// flushHeld writes the buffered frames, each under a lease of its stream.
func (b *retryBufferBot) flushHeld() {
	b.mu.Lock()
	held := b.held
	b.held = nil
	b.mu.Unlock()
	for _, f := range held {
		lease, err := b.streams[f.stream].Acquire()
		if err != nil {
			return // pending, or stopped meanwhile
		}
		_, _ = b.store.Write(f.stream, f.p)
		lease.Release()
	}
}

func (b *retryBufferBot) Frame(ctx context.Context, stream int, payload []byte) error {
	err := b.fsmBot.Frame(ctx, stream, payload)
	if errors.Is(err, fsm.ErrGateClosed) {
		b.mu.Lock()
		if b.buffering && len(b.held) < maxHeld {
			b.held = append(b.held, heldFrame{stream, append([]byte(nil), payload...)})
			err = nil
		}
		b.mu.Unlock()
	}
	return err
}
