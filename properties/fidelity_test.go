package properties

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

// The suite's Graph must answer as a bot's real Graph client would, or a
// bot that handles the client's errors correctly could fail the suite (or
// a wrong one pass it). This holds every answer the suite draws to what
// *graph.Client returns when graphtest plays the same answer.
func TestSuiteGraphAnswersAsTheClientDoes(t *testing.T) {
	shares := 0
	for _, k := range replyKinds {
		shares += k.share
	}
	if shares != 100 {
		t.Fatalf("the reply kinds' shares add up to %d, not 100", shares)
	}
	faults := map[string][]graphtest.Fault{
		"completed":  nil,
		"pending":    {graphtest.ReplyStatus("running")},
		"failed":     {graphtest.ReplyFailed(graph.ResultInfo{Code: 500, Subcode: 7000, Message: "failure"})},
		"429":        {graphtest.Throttle("1")},
		"503":        {graphtest.Unavailable("")},
		"504":        {graphtest.GatewayTimeout()},
		"timeout":    {graphtest.Hang()},
		"8506":       {graphtest.NonCompliant()},
		"terminated": {graphtest.TerminateCall()},
	}
	for _, k := range replyKinds {
		t.Run(k.name, func(t *testing.T) {
			fs, ok := faults[k.name]
			if !ok {
				t.Fatalf("no graphtest fault plays %q: add it to this table", k.name)
			}
			fake := graphtest.NewServer(graphtest.WithToken("t"))
			defer fake.Close()
			fake.AddCall(suiteCallID).Then(fs...)
			// Only a Graph that never answers needs a short attempt
			// timeout; every other kind gets one that a loaded machine's
			// TLS exchange cannot reach, or the client's error would be
			// a timeout where the suite's is not.
			attempt := 10 * time.Second
			if k.name == "timeout" {
				attempt = 200 * time.Millisecond
			}
			client, err := graph.NewClient(graph.StaticToken("t"), graph.WithBaseURL(fake.BaseURL()), graph.WithHTTPClient(fake.Client()),
				graph.WithMaxAttempts(1), graph.WithAttemptTimeout(attempt))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			const cc = "fidelity-1"
			wantOp, wantErr := client.UpdateRecordingStatus(ctx, suiteCallID, graph.StatusRecording, cc)

			env := newEnv(suiteCallID, 1)
			env.Updater.arm(&step{replies: []reply{k.reply}})
			gotOp, gotErr := env.Updater.UpdateRecordingStatus(ctx, suiteCallID, graph.StatusRecording, cc)

			if (wantErr == nil) != (gotErr == nil) {
				t.Fatalf("client: %v; suite: %v", wantErr, gotErr)
			}
			if wantOp.Status != gotOp.Status || (wantOp.ClientContext == "") != (gotOp.ClientContext == "") {
				t.Errorf("operation: client %+v, suite %+v", wantOp, gotOp)
			}
			if wantErr == nil {
				return
			}
			var wg, gg *graph.Error
			if errors.As(wantErr, &wg) != errors.As(gotErr, &gg) {
				t.Fatalf("*graph.Error: client %T %v, suite %T %v", wantErr, wantErr, gotErr, gotErr)
			}
			if wg != nil {
				if wg.StatusCode != gg.StatusCode || wg.Code != gg.Code || (wg.RetryAfter > 0) != (gg.RetryAfter > 0) || wg.Temporary() != gg.Temporary() {
					t.Errorf("*graph.Error: client %d %q retry-after %s temporary %v; suite %d %q retry-after %s temporary %v",
						wg.StatusCode, wg.Code, wg.RetryAfter, wg.Temporary(), gg.StatusCode, gg.Code, gg.RetryAfter, gg.Temporary())
				}
			}
			var wo, gop *graph.OperationError
			if errors.As(wantErr, &wo) != errors.As(gotErr, &gop) {
				t.Errorf("*graph.OperationError: client %v, suite %v", wantErr, gotErr)
			}
			for _, target := range []error{context.DeadlineExceeded, graph.ErrOperationFailed} {
				if errors.Is(wantErr, target) != errors.Is(gotErr, target) {
					t.Errorf("errors.Is(err, %v): client %v, suite %v", target, errors.Is(wantErr, target), errors.Is(gotErr, target))
				}
			}
			if graph.IsNonCompliance(wantErr) != graph.IsNonCompliance(gotErr) {
				t.Errorf("IsNonCompliance: client %v, suite %v", graph.IsNonCompliance(wantErr), graph.IsNonCompliance(gotErr))
			}
		})
	}
}
