package graph_test

import (
	"context"
	"errors"
	"fmt"

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
