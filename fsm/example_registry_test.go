package fsm_test

import (
	"context"
	"fmt"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// A bot serving many calls keeps one Registry. Its Notify is what the
// callback handler (package graph/callback) hands each authenticated
// notification to: callback.NewHandler(registry, validator, ...). Here the
// notifications are built by hand, as the handler would build them from
// Graph's POST.
func ExampleRegistry() {
	// Graph answers running: the outcome will come by notification.
	updater := fsm.UpdaterFunc(func(_ context.Context, _ string, _ graph.Status, cc string) (graph.Operation, error) {
		return graph.Operation{ID: "op-1", ClientContext: cc, Status: graph.OperationRunning}, nil
	})
	registry, err := fsm.NewRegistry(func(callID string) (*fsm.Machine, error) {
		return fsm.New(callID, updater)
	}, fsm.WithIgnoredHook(func(n graph.Notification, why fsm.IgnoreReason) {
		fmt.Println("ignored:", why) // count these in metrics
	}))
	if err != nil {
		panic(err)
	}

	// The bot joined a call.
	m, err := registry.Create("call-1")
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	op, _ := m.Start(ctx)
	fmt.Println(m.State(), m.Gate().IsOpen())

	// Graph's notifications, authenticated by the handler.
	forOtherCall := graph.Notification{Kind: graph.NotificationOperation, CallID: "call-9", Operation: op}
	_ = registry.Notify(ctx, forOtherCall)

	op.Status = graph.OperationCompleted
	confirmed := graph.Notification{Kind: graph.NotificationOperation, CallID: "call-1", Operation: op,
		Issuer: "https://api.botframework.com", Tenant: "contoso-tenant-id"}
	_ = registry.Notify(ctx, confirmed)
	fmt.Println(m.State(), m.Gate().IsOpen())

	ended := graph.Notification{Kind: graph.NotificationCallEnded, CallID: "call-1"}
	_ = registry.Notify(ctx, ended)
	_, held := registry.Get("call-1")
	fmt.Println(m.State(), "held:", held)
	// Output:
	// AwaitingConfirmation false
	// ignored: unknown-call
	// Recording true
	// Ended held: false
}
