package graph_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

// Only completed is a success reply; pending and failed are not.
func ExampleOperationStatus_Confirmed() {
	for _, body := range []string{`{"status":"Completed"}`, `{"status":"running"}`, `{"status":null}`, `{"status":"failed"}`} {
		op, _ := graph.ParseOperation([]byte(body))
		fmt.Printf("%-9s confirmed=%v pending=%v\n", op.Status, op.Status.Confirmed(), op.Status.Pending())
	}
	// Output:
	// completed confirmed=true pending=false
	// running   confirmed=false pending=true
	// missing   confirmed=false pending=true
	// failed    confirmed=false pending=false
}

// A policy refusal (code 8506) is never retried, and the error says what
// to check.
func ExampleClient_UpdateRecordingStatus() {
	fake := graphtest.NewServer()
	defer fake.Close()
	fake.AddCall("call-1").NonCompliance()
	client, err := graph.NewClient(graph.StaticToken("t"), graph.WithBaseURL(fake.BaseURL()), graph.WithHTTPClient(fake.Client()))
	if err != nil {
		panic(err)
	}
	_, err = client.UpdateRecordingStatus(context.Background(), "call-1", graph.StatusRecording, "ctx-1")
	var ge *graph.Error
	if errors.As(err, &ge) {
		fmt.Println(ge.StatusCode, ge.Code, ge.NonCompliance(), len(fake.Requests()))
	}
	// Output:
	// 403 8506 true 1
}

// A failed operation can be a policy refusal too (resultInfo subcode
// 8506): IsNonCompliance recognises it in either form, so the caller does
// not retry it.
func ExampleIsNonCompliance() {
	fake := graphtest.NewServer()
	defer fake.Close()
	fake.AddCall("call-1").Then(graphtest.ReplyFailed(graph.ResultInfo{Code: 403, Subcode: 8506, Message: "API call not allowed for non-Compliance Recording call"}))
	client, err := graph.NewClient(graph.StaticToken("t"), graph.WithBaseURL(fake.BaseURL()), graph.WithHTTPClient(fake.Client()))
	if err != nil {
		panic(err)
	}
	op, err := client.UpdateRecordingStatus(context.Background(), "call-1", graph.StatusRecording, "ctx-1")
	var oe *graph.OperationError
	fmt.Println(errors.As(err, &oe), oe.NonCompliance(), graph.IsNonCompliance(err), op == graph.Operation{})
	// Output:
	// true true true true
}

// Every attempt has a deadline, even when the caller's context has none:
// a Graph that accepts the connection and never answers ends the call with
// a deadline error after MaxAttempts attempt timeouts.
func ExampleWithAttemptTimeout() {
	fake := graphtest.NewServer()
	defer fake.Close()
	fake.AddCall("call-1").Then(graphtest.Hang())
	client, err := graph.NewClient(graph.StaticToken("t"), graph.WithBaseURL(fake.BaseURL()), graph.WithHTTPClient(fake.Client()),
		graph.WithAttemptTimeout(20*time.Millisecond), graph.WithMaxAttempts(1))
	if err != nil {
		panic(err)
	}
	_, err = client.UpdateRecordingStatus(context.Background(), "call-1", graph.StatusRecording, "ctx-1")
	fmt.Println(errors.Is(err, context.DeadlineExceeded), errors.Is(err, graph.ErrAttemptTimeout))
	// Output:
	// true true
}
