package graphtest_test

import (
	"context"
	"fmt"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

// A throttled request is retried; the log shows both attempts with the
// token redacted.
func ExampleServer() {
	fake := graphtest.NewServer(graphtest.WithToken("test-token"))
	defer fake.Close()
	fake.AddCall("call-1").Then(graphtest.Throttle(graphtest.RetryAfterSeconds(0)))

	client, err := graph.NewClient(graph.StaticToken("test-token"),
		graph.WithBaseURL(fake.BaseURL()), graph.WithHTTPClient(fake.Client()))
	if err != nil {
		panic(err)
	}
	op, err := client.UpdateRecordingStatus(context.Background(), "call-1", graph.StatusRecording, "ctx-1")
	fmt.Println(op.Status, err)
	for _, r := range fake.Requests() {
		fmt.Println(r.Method, r.Status, r.Reply, r.Header.Get("Authorization"))
	}
	// Output:
	// completed <nil>
	// POST recording 429 Bearer [redacted]
	// POST recording 200 Bearer [redacted]
}

// A pending reply is not a success; Graph completes it later.
func ExampleCall_SetOperationStatus() {
	fake := graphtest.NewServer()
	defer fake.Close()
	call := fake.AddCall("call-1").ReplyWith("running")
	client, _ := graph.NewClient(graph.StaticToken("t"), graph.WithBaseURL(fake.BaseURL()), graph.WithHTTPClient(fake.Client()))
	ctx := context.Background()

	op, _ := client.UpdateRecordingStatus(ctx, "call-1", graph.StatusRecording, "ctx-1")
	fmt.Println(op.Status, op.Status.Confirmed())
	_ = call.SetOperationStatus(op.ID, graph.OperationCompleted)
	op, _ = client.Operation(ctx, "call-1", op)
	fmt.Println(op.Status, op.Status.Confirmed())
	// Output:
	// running false
	// completed true
}
