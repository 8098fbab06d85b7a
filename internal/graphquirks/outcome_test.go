package graphquirks

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/recgate/recgate/graph"
)

// outcome is what a careful client makes of one reply.
type outcome int

const (
	// confirmed: nil error, status completed, the request's clientContext
	// (or none), the zero-free Operation. The only outcome that may open
	// the gate.
	confirmed outcome = iota
	// pending: nil error, status notStarted, running or missing.
	pending
	// refused: an *graph.OperationError (Graph said failed).
	refused
	// badReply: graph.ErrBadReply, the zero Operation.
	badReply
	// httpError: a *graph.Error (a non-2xx reply).
	httpError
)

func (o outcome) String() string {
	return [...]string{"confirmed", "pending", "refused", "badReply", "httpError"}[o]
}

// quirk is one way of answering a recording request: answer writes the
// reply to req (req.ClientContext is the request's); want is what the client must make of it.
type quirk struct {
	name   string
	answer func(w http.ResponseWriter, req seenRequest)
	want   outcome
	// check, if set, looks further at a reply that came out as wanted.
	check func(t *testing.T, op graph.Operation, err error)
	// skip, if set, is why the case is skipped ("client bug: ...").
	skip string
}

// sendRecording sends one recording request for clientContext cc to f.
func sendRecording(t *testing.T, f *fakeGraph, cc string, opts ...graph.ClientOption) (graph.Operation, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return newClient(t, f, opts...).UpdateRecordingStatus(ctx, callID, graph.StatusRecording, cc)
}

// assertOutcome checks that op and err are the outcome want, and that
// nothing but confirmed could be taken for a success.
func assertOutcome(t *testing.T, want outcome, cc string, op graph.Operation, err error) {
	t.Helper()
	noToken(t, err)
	if err != nil {
		if op != (graph.Operation{}) {
			t.Errorf("with error %v the client returned a non-zero Operation %+v", err, op)
		}
	}
	var oe *graph.OperationError
	var ge *graph.Error
	switch want {
	case confirmed:
		if err != nil || !op.Status.Confirmed() {
			t.Fatalf("want a confirmed operation, got status %q, err %v", op.Status, err)
		}
		if op.ClientContext != "" && op.ClientContext != cc {
			t.Fatalf("confirmed an operation for clientContext %q, the request sent %q", op.ClientContext, cc)
		}
	case pending:
		if err != nil || !op.Status.Pending() {
			t.Fatalf("want a pending operation, got status %q, err %v", op.Status, err)
		}
	case refused:
		if !errors.As(err, &oe) || !errors.Is(err, graph.ErrOperationFailed) {
			t.Fatalf("want an *OperationError, got %v", err)
		}
	case badReply:
		if !errors.Is(err, graph.ErrBadReply) {
			t.Fatalf("want ErrBadReply, got op %+v, err %v", op, err)
		}
	case httpError:
		if !errors.As(err, &ge) {
			t.Fatalf("want a *graph.Error, got op %+v, err %v", op, err)
		}
	}
	if want != confirmed && op.Status.Confirmed() {
		t.Fatalf("a %s reply came out as completed: %+v", want, op)
	}
}

// runQuirks runs each quirk against a fresh fake, one recording request
// each, and checks the outcome and that the fake saw exactly one
// well-formed request.
func runQuirks(t *testing.T, quirks []quirk) {
	for _, q := range quirks {
		t.Run(q.name, func(t *testing.T) {
			t.Parallel()
			if q.skip != "" {
				t.Skip(q.skip)
			}
			cc := "cc-" + t.Name()
			if len(cc) > graph.MaxClientContextLen {
				cc = cc[:graph.MaxClientContextLen]
			}
			f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, req seenRequest) {
				q.answer(w, req)
			})
			op, err := sendRecording(t, f, cc)
			assertOutcome(t, q.want, cc, op, err)
			if q.check != nil {
				q.check(t, op, err)
			}
			noProblems(t, f)
			if got := len(f.requests()); got != 1 {
				t.Errorf("the fake saw %d requests, want 1 (no retry after a reply)", got)
			}
		})
	}
}
