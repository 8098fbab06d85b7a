package main

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/otelrecgate"
)

// BenchmarkStartVsBare times, in each iteration, one bare POST and one
// Machine.Start to the same fake over the same one-connection pool,
// alternating which goes first, and reports both medians and their ratio
// (start-p50/bare-p50, the target is <= 1.2). Pairing the two in one loop
// removes the run-to-run noise of a shared box from the ratio, which two
// separate benchmarks cannot. Its sub-benchmarks split the gap:
//
//	client: graph.Client.UpdateRecordingStatus alone (no machine)
//	start:  Machine.Start through graph.Client (the Stop that resets it is not timed)
//	otel:   the same with the fleet's otelrecgate transport and observer
func BenchmarkStartVsBare(b *testing.B) {
	for _, mode := range []string{"client", "start", "otel"} {
		b.Run(mode, func(b *testing.B) {
			fake, hc := bareFake(b, 1)
			url := fake.BaseURL() + "/communications/calls/" + callID(1) + "/updateRecordingStatus"
			var opts []fsm.Option
			if mode == "otel" {
				provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				b.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
				metrics, err := otelrecgate.New(provider.Meter("fleet-bench"))
				if err != nil {
					b.Fatal(err)
				}
				hc = &http.Client{Transport: metrics.Transport(hc.Transport)}
				opts = append(opts, fsm.WithObserver(metrics.Observer()))
			}
			client, err := graph.NewClient(graph.StaticToken(token), graph.WithBaseURL(fake.BaseURL()), graph.WithHTTPClient(hc))
			if err != nil {
				b.Fatal(err)
			}
			m, err := fsm.New(callID(1), client, opts...)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			timed := func() error {
				if mode == "client" {
					_, err := client.UpdateRecordingStatus(ctx, callID(1), graph.StatusRecording, "bench")
					return err
				}
				_, err := m.Start(ctx)
				return err
			}
			bare, ours := make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				for j := range 2 {
					t := time.Now()
					if (i+j)%2 == 0 {
						if err := barePost(hc, url, i); err != nil {
							b.Fatal(err)
						}
						bare = append(bare, time.Since(t))
						continue
					}
					if err := timed(); err != nil {
						b.Fatal(err)
					}
					ours = append(ours, time.Since(t))
				}
				if mode != "client" {
					if err := m.Stop(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			slices.Sort(bare)
			slices.Sort(ours)
			b.ReportMetric(float64(percentile(bare, 50)), "bare-p50-ns")
			b.ReportMetric(float64(percentile(ours, 50)), "ours-p50-ns")
			b.ReportMetric(float64(percentile(ours, 50))/float64(percentile(bare, 50)), "ours/bare-p50")
		})
	}
}
