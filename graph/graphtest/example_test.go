package graphtest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

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

// A pending reply, then Graph's signed notification to the bot's callback.
func ExampleCall_Notify() {
	fake := graphtest.NewServer()
	defer fake.Close()
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A real bot validates the token against fake.OpenIDConfigURL()
		// before it reads the body.
		w.WriteHeader(http.StatusAccepted)
	}))
	defer callback.Close()
	_ = fake.SetCallback(callback.URL, "bot-app-id")
	call := fake.AddCall("call-1").ReplyWith("running")
	client, _ := graph.NewClient(graph.StaticToken("t"), graph.WithBaseURL(fake.BaseURL()), graph.WithHTTPClient(fake.Client()))
	ctx := context.Background()

	op, _ := client.UpdateRecordingStatus(ctx, "call-1", graph.StatusRecording, "ctx-1")
	fmt.Println("reply:", op.Status)
	d, err := call.Notify(ctx, graph.OperationCompleted)
	fmt.Println("notified:", d.Status, d.ClientContext, "callback answered", d.StatusCode, err)
	d, err = call.End(ctx, nil)
	fmt.Println("notified:", d.Status, "callback answered", d.StatusCode, err)
	_, err = client.UpdateRecordingStatus(ctx, "call-1", graph.StatusNotRecording, "ctx-2")
	fmt.Println("after the end:", err != nil)
	// Output:
	// reply: running
	// notified: completed ctx-1 callback answered 202 <nil>
	// notified: terminated callback answered 202 <nil>
	// after the end: true
}

// Forged tokens for testing a callback's validator: it must reject each
// one whose TokenValid is false.
func ExampleServer_ForgedToken() {
	fake := graphtest.NewServer()
	defer fake.Close()
	for _, f := range []graphtest.Forgery{graphtest.ForgedAlgNone, graphtest.ForgedExpired, graphtest.ForgedReplay} {
		tok, err := fake.ForgedToken("bot-app-id", f)
		fmt.Println(f, tok != "", err, "accept:", f.TokenValid())
	}
	// Output:
	// algNone true <nil> accept: false
	// expired true <nil> accept: false
	// replay true <nil> accept: true
}
