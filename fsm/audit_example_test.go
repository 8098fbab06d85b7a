package fsm_test

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// A trail read back by a reviewer: verified against the head kept apart
// from it, then each recorded interval with what authorised it and the
// report that followed.
func ExampleAuditIntervals() {
	n := 0
	graphAPI := fsm.UpdaterFunc(func(_ context.Context, _ string, s graph.Status, cc string) (graph.Operation, error) {
		n++
		status := graph.OperationCompleted
		if s == graph.StatusRecording {
			status = graph.OperationRunning // pending: the outcome comes by notification
		}
		return graph.Operation{ID: "op-" + strconv.Itoa(n), ClientContext: cc, Status: status}, nil
	})
	var trail bytes.Buffer // an *os.File in a bot: then gate records are synced
	cc := 0
	m, err := fsm.New("call-1", graphAPI, fsm.WithAuditTrail(&trail),
		fsm.WithClientContexts(func() string { cc++; return "cc-" + strconv.Itoa(cc) }))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	op, _ := m.Start(ctx)
	op.Status = graph.OperationCompleted
	_ = m.Notify(ctx, graph.Notification{Kind: graph.NotificationOperation, CallID: "call-1", Operation: op,
		Issuer: "https://api.botframework.com", Tenant: "contoso"})
	_ = m.Stop(ctx)
	head := m.AuditHead() // keep it where the trail's writer cannot change it

	recs, err := fsm.VerifyAuditTrailHead(bytes.NewReader(trail.Bytes()), head)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, iv := range fsm.AuditIntervals(recs) {
		a := iv.Authorized
		fmt.Printf("authorised by %s %s (%s) via %s from %s\n", a.OperationID, a.OperationStatus, a.ClientContext, a.Via, a.Tenant)
		fmt.Printf("gate opened by %s, closed by %s\n", iv.Opened.Trigger, iv.Closed.Trigger)
		fmt.Printf("then %s (%s), Graph answered %s\n", iv.Report.Status, iv.Report.ClientContext, iv.ReportReply.OperationStatus)
	}
	// Output:
	// authorised by op-1 completed (cc-1) via notification from contoso
	// gate opened by OperationUpdate, closed by Stop
	// then notRecording (cc-2), Graph answered completed
}
