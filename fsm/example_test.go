package fsm_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// A bot wires its Graph client, its recording-ended hook and its media
// writers to one Machine per call. Here the updater is a stand-in that
// confirms every request; in production it is a *graph.Client.
func ExampleMachine() {
	// README:start
	ctx := context.Background()
	updater := fsm.UpdaterFunc(func(ctx context.Context, callID string, status graph.Status, clientContext string) (graph.Operation, error) {
		return graph.Operation{ClientContext: clientContext, Status: graph.OperationCompleted}, nil
	})
	var file bytes.Buffer // the bot's recording
	m, err := fsm.New("57dab8b1-894c-409a-b240-bd8beae78896", updater,
		fsm.WithRecordingEndedHook(func(ctx context.Context, why fsm.Trigger) error {
			fmt.Println("hook: flush and close the recording after", why)
			return nil
		}))
	if err != nil {
		panic(err)
	}
	media := m.Gate().Writer(&file) // every write goes through the gate
	defer media.Close()             // unregister it when the stream ends (open writers pile up)

	_, err = media.Write([]byte("too early "))
	fmt.Println("before Start:", errors.Is(err, fsm.ErrGateClosed))

	if _, err := m.Start(ctx); err != nil { // Graph must reply completed
		panic(err)
	}
	_, _ = media.Write([]byte("confirmed frame "))
	fmt.Println("state:", m.State())

	if err := m.Stop(ctx); err != nil { // drain, hook, then notRecording
		panic(err)
	}
	_, err = media.Write([]byte("too late"))
	fmt.Println("after Stop:", errors.Is(err, fsm.ErrGateClosed))
	fmt.Printf("persisted: %q\n", file.String())
	// README:end

	// Output:
	// before Start: true
	// state: Recording
	// hook: flush and close the recording after Stop
	// after Stop: true
	// persisted: "confirmed frame "
}

// A writer on a hot path takes a lease per frame: it costs about an RWMutex
// read lock and never allocates.
func ExampleStream_Acquire() {
	m, _ := fsm.New("call-1", fsm.UpdaterFunc(func(_ context.Context, _ string, _ graph.Status, cc string) (graph.Operation, error) {
		return graph.Operation{ClientContext: cc, Status: graph.OperationCompleted}, nil
	}))
	stream := m.Gate().NewStream()
	defer stream.Close()

	persist := func(frame []byte) error {
		lease, err := stream.Acquire()
		if err != nil {
			return err // ErrGateClosed: drop the frame
		}
		defer lease.Release()
		_ = frame // write the frame to storage here
		return nil
	}
	fmt.Println(persist([]byte{1, 2, 3}))
	_, _ = m.Start(context.Background())
	fmt.Println(persist([]byte{1, 2, 3}))
	// Output:
	// fsm: persist gate closed: Graph has not confirmed recording; drop the media, do not persist it
	// <nil>
}

// A pending reply leaves the gate closed until Graph's notification says
// completed.
func ExampleMachine_OperationUpdate() {
	m, _ := fsm.New("call-1", fsm.UpdaterFunc(func(_ context.Context, _ string, _ graph.Status, cc string) (graph.Operation, error) {
		return graph.Operation{ID: "op-1", ClientContext: cc, Status: graph.OperationRunning}, nil
	}))
	ctx := context.Background()
	op, _ := m.Start(ctx)
	fmt.Println(m.State(), m.Gate().IsOpen())

	// Later, from the bot's notification endpoint:
	op.Status = graph.OperationCompleted
	_ = m.OperationUpdate(ctx, op)
	fmt.Println(m.State(), m.Gate().IsOpen())
	// Output:
	// AwaitingConfirmation false
	// Recording true
}

// Mermaid renders on GitHub inside a mermaid code block; DOT feeds Graphviz.
func ExampleMermaid() {
	lines := strings.Split(fsm.Mermaid(), "\n")
	fmt.Println(strings.Join(lines[:3], "\n"))
	// Output:
	// stateDiagram-v2
	//     [*] --> NotRecording
	//     NotRecording --> Recording: Start [graphConfirmedRecording]
}
