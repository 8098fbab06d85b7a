package roundthirteen

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// The fifth team sends Graph requests through an SDK-style pipeline: a
// chain of handlers in front of env.Updater, each wrapping the next (as
// the Graph SDKs' middleware does: a retry handler, a response handler,
// logging), given to the machine as its fsm.Updater.

// handler is one link of the pipeline.
type handler func(next fsm.Updater) fsm.Updater

// updaterFunc adapts a function to fsm.Updater.
type updaterFunc func(ctx context.Context, callID string, status graph.Status, cc string) (graph.Operation, error)

func (f updaterFunc) UpdateRecordingStatus(ctx context.Context, callID string, status graph.Status, cc string) (graph.Operation, error) {
	return f(ctx, callID, status, cc)
}

// pipeline chains the handlers, the first outermost.
func pipeline(last fsm.Updater, hs ...handler) fsm.Updater {
	u := last
	for i := len(hs) - 1; i >= 0; i-- {
		u = hs[i](u)
	}
	return u
}

// maxRetries bounds the retry handlers.
const maxRetries = 2

// retryBackoff is the retry handlers' pause, short for the suite.
const retryBackoff = time.Millisecond

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// throttled reports an answer after which the same request may go again
// (429, 503, 504).
func throttled(err error) bool {
	var ge *graph.Error
	if !errors.As(err, &ge) {
		return false
	}
	switch ge.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// sdkRetry is the SDK's retry handler as the team configured it: retry
// on any 5xx and on a timeout, and rebuild the request for each try,
// which draws a new clientContext ("the request body is serialized per
// try").
func sdkRetry(next fsm.Updater) fsm.Updater {
	return updaterFunc(func(ctx context.Context, callID string, status graph.Status, cc string) (graph.Operation, error) {
		op, err := next.UpdateRecordingStatus(ctx, callID, status, cc)
		for try := 0; try < maxRetries && retriable5xxOrTimeout(err) && ctx.Err() == nil; try++ {
			if pause(ctx, retryBackoff) != nil {
				break
			}
			op, err = next.UpdateRecordingStatus(ctx, callID, status, uuid.NewString())
			if err == nil {
				op.ClientContext = cc // "the SDK echoes the rebuilt body's; ours is the one the caller knows"
			}
		}
		return op, err
	})
}

func retriable5xxOrTimeout(err error) bool {
	var ge *graph.Error
	if errors.As(err, &ge) {
		return ge.StatusCode >= 500
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// throttleRetry retries 429, 503 and 504 only, with the same
// clientContext, honouring Retry-After (capped) and the caller's context.
func throttleRetry(next fsm.Updater) fsm.Updater {
	return updaterFunc(func(ctx context.Context, callID string, status graph.Status, cc string) (graph.Operation, error) {
		op, err := next.UpdateRecordingStatus(ctx, callID, status, cc)
		for try := 0; try < maxRetries && throttled(err); try++ {
			wait := retryBackoff
			var ge *graph.Error
			if errors.As(err, &ge) && ge.RetryAfter > 0 && ge.RetryAfter < 5*time.Millisecond {
				wait = ge.RetryAfter
			}
			if pause(ctx, wait) != nil {
				break
			}
			op, err = next.UpdateRecordingStatus(ctx, callID, status, cc)
		}
		return op, err
	})
}

// acceptedIsSuccess is a response handler that maps every 2xx to
// success: "202 Accepted means Graph took it; the operation's status is
// bookkeeping". A pending operation comes back as completed.
func acceptedIsSuccess(next fsm.Updater) fsm.Updater {
	return updaterFunc(func(ctx context.Context, callID string, status graph.Status, cc string) (graph.Operation, error) {
		op, err := next.UpdateRecordingStatus(ctx, callID, status, cc)
		if err == nil && op.Status.Pending() {
			op.Status = graph.OperationCompleted
		}
		return op, err
	})
}

// normalizeStatus is a response handler that parses the status case-
// insensitively ("Completed" from one region, "completed" from another).
func normalizeStatus(next fsm.Updater) fsm.Updater {
	return updaterFunc(func(ctx context.Context, callID string, status graph.Status, cc string) (graph.Operation, error) {
		op, err := next.UpdateRecordingStatus(ctx, callID, status, cc)
		if err == nil && op.Status != "" {
			if s, perr := graph.ParseOperationStatus(string(op.Status)); perr == nil {
				op.Status = s
			}
		}
		return op, err
	})
}

func newPipelineBot(env *properties.Env, hs ...handler) (properties.Bot, error) {
	return newFSMBot(env, wiring{updater: pipeline(env.Updater, hs...)})
}

// NewSDKPipeline is the pipeline done right: status normalised, retries
// of 429/503/504 only, with the same clientContext and the caller's
// context; the machine judges the reply.
func NewSDKPipeline(env *properties.Env) (properties.Bot, error) {
	return newPipelineBot(env, normalizeStatus, throttleRetry)
}

// NewSDKRetryNewClientContext retries any 5xx and a timeout, each try a
// new request with a new clientContext: a recording (or notRecording)
// that timed out may have reached Graph, and a second operation is
// asked for in the same attempt.
func NewSDKRetryNewClientContext(env *properties.Env) (properties.Bot, error) {
	return newPipelineBot(env, normalizeStatus, sdkRetry)
}

// NewSDKAcceptedIsConfirmed maps every 2xx reply to success: a pending
// operation (notStarted, running, or a 202 without a body) opens the
// gate.
func NewSDKAcceptedIsConfirmed(env *properties.Env) (properties.Bot, error) {
	return newPipelineBot(env, acceptedIsSuccess, throttleRetry)
}
