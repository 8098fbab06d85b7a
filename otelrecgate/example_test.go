package otelrecgate_test

import (
	"context"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/otelrecgate"
)

// One call's machine observed by the adapter: Start, three frames, Stop,
// a frame too late. A ManualReader stands in for an exporter.
func ExampleNew() {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(ctx)

	metrics, err := otelrecgate.New(provider.Meter("github.com/recgate/recgate"))
	if err != nil {
		panic(err)
	}
	graphSaysCompleted := fsm.UpdaterFunc(func(ctx context.Context, callID string, status graph.Status, clientContext string) (graph.Operation, error) {
		return graph.Operation{ClientContext: clientContext, Status: graph.OperationCompleted}, nil
	})
	m, err := fsm.New("57dab8b1-894c-409a-b240-bd8beae78896", graphSaysCompleted, fsm.WithObserver(metrics.Observer()))
	if err != nil {
		panic(err)
	}
	stream := m.Gate().NewStream()
	write := func() {
		lease, err := stream.Acquire()
		if err != nil {
			metrics.FrameRefused(ctx, err) // the frame is dropped
			return
		}
		// ... persist the frame ...
		lease.Release()
		metrics.FramePersisted(ctx)
	}

	if _, err := m.Start(ctx); err != nil {
		panic(err)
	}
	write()
	write()
	write()
	if err := m.Stop(ctx); err != nil {
		panic(err)
	}
	write()

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		panic(err)
	}
	for _, mt := range rm.ScopeMetrics[0].Metrics {
		switch d := mt.Data.(type) {
		case metricdata.Sum[int64]:
			var total int64
			for _, p := range d.DataPoints {
				total += p.Value
			}
			fmt.Printf("%s: %d\n", mt.Name, total)
		case metricdata.Histogram[float64]:
			var n uint64
			for _, p := range d.DataPoints {
				n += p.Count
			}
			fmt.Printf("%s: %d measured\n", mt.Name, n)
		}
	}
	// Output:
	// recgate.transitions: 3
	// recgate.graph.requests: 2
	// recgate.graph.request.duration: 2 measured
	// recgate.gate.opens: 1
	// recgate.gate.open: 0
	// recgate.gate.open.duration: 1 measured
	// recgate.frames.persisted: 3
	// recgate.frames.refused: 1
}
