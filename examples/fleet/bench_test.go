package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/qmuntal/stateless"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

// The targets, read as ratios of benchmarks measured in the same run:
//
//	heap per active call (BenchmarkFleet1000 heap-bytes/call)  <= 16 KiB; a bare stateless machine
//	                                                              (BenchmarkBareStateless) is about 4 KiB
//	start-to-confirmed p50, one at a time                       <= 1.2 x a bare round trip timed in the same loop
//	                                                              (BenchmarkStartVsBare ours/bare-p50)
//	start-to-confirmed p50 (BenchmarkFleet1000 confirm/bare-p50) <= 1.2 x a bare round trip timed beside each Start,
//	                                                              on the same goroutine, in the same run
//
// go test -run '^$' -bench 'Fleet|Bare|Start|MachineHeap' -benchmem -count 3 ./examples/fleet

// BenchmarkFleet1000 runs 1000 calls through the whole wiring (see the
// package documentation): paced at 500 calls per second, and all at once.
func BenchmarkFleet1000(b *testing.B) {
	for _, bc := range []struct {
		name string
		rate float64
	}{{"paced", 500}, {"burst", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			o := options{calls: 1000, fps: 50, duration: 200 * time.Millisecond, speedup: 1, tick: 50 * time.Millisecond, rate: bc.rate,
				throttled: 0.05, pending: 0.02, refused: 0.01, endedMid: 0.01, seed: 1, timeout: 5 * time.Minute, requestMetrics: true}
			var heap, confirm50, confirm99, report50, callsPerSec, bare50 float64
			for range b.N {
				res, err := runFleet(context.Background(), o, io.Discard)
				if err != nil {
					b.Fatal(err)
				}
				if n := res.violations.total(); n != 0 {
					var out bytes.Buffer
					res.print(&out, o)
					b.Fatalf("%d violations:\n%s", n, out.String())
				}
				l := res.latencies()
				heap += res.peak.heapPerCall
				confirm50 += float64(percentile(l.confirm, 50))
				confirm99 += float64(percentile(l.confirm, 99))
				report50 += float64(percentile(l.report, 50))
				callsPerSec += float64(len(res.calls)) / res.wall.Seconds()
				bare50 += float64(percentile(res.probe, 50))
			}
			n := float64(b.N)
			b.ReportMetric(heap/n, "heap-bytes/call")
			b.ReportMetric(confirm50/n, "start-to-confirmed-p50-ns")
			b.ReportMetric(confirm99/n, "start-to-confirmed-p99-ns")
			b.ReportMetric(report50/n, "stop-to-reported-p50-ns")
			b.ReportMetric(callsPerSec/n, "calls/s")
			b.ReportMetric(bare50/n, "bare-round-trip-p50-ns")
			b.ReportMetric(confirm50/bare50, "confirm/bare-p50")
		})
	}
}

// bareFake is a fake Graph and a client of it with a warm pool of
// connections, as the fleet has.
func bareFake(b *testing.B, conns int) (*graphtest.Server, *http.Client) {
	b.Helper()
	fake := graphtest.NewServer(graphtest.WithToken(token), graphtest.WithAnyCall())
	b.Cleanup(fake.Close)
	tr := fake.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost = conns, conns
	hc := &http.Client{Transport: tr}
	if err := warmPool(context.Background(), hc, fake.OpenIDConfigURL(), conns); err != nil {
		b.Fatal(err)
	}
	return fake, hc
}

// BenchmarkBareRoundTrip is the baseline of start-to-confirmed: a bare
// HTTP POST to the same fake, one at a time (serial, ns/op), and 1000 at
// once over the fleet's 128 connections (burst1000, the p50 and p99 of
// the 1000).
func BenchmarkBareRoundTrip(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		fake, hc := bareFake(b, 1)
		url := fake.BaseURL() + "/communications/calls/" + callID(1) + "/updateRecordingStatus"
		b.ResetTimer()
		for i := range b.N {
			if err := barePost(hc, url, i); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("burst1000", func(b *testing.B) {
		fake, hc := bareFake(b, maxConns)
		var p50, p99 float64
		for range b.N {
			lat := make([]time.Duration, 1000)
			errs := make([]error, 1000)
			var wg sync.WaitGroup
			for i := range lat {
				wg.Add(1)
				go func() {
					defer wg.Done()
					url := fake.BaseURL() + "/communications/calls/" + callID(i) + "/updateRecordingStatus"
					t := time.Now()
					errs[i] = barePost(hc, url, i)
					lat[i] = time.Since(t)
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
			slices.Sort(lat)
			p50 += float64(percentile(lat, 50))
			p99 += float64(percentile(lat, 99))
		}
		b.ReportMetric(p50/float64(b.N), "p50-ns")
		b.ReportMetric(p99/float64(b.N), "p99-ns")
	})
}

// BenchmarkStartConfirmed is start-to-confirmed of one call at a time:
// Machine.Start through graph.Client to the same fake, answered completed
// (the Stop that resets the machine is not timed). Compare with
// BenchmarkBareRoundTrip/serial.
func BenchmarkStartConfirmed(b *testing.B) {
	fake, hc := bareFake(b, 1)
	client, err := graph.NewClient(graph.StaticToken(token), graph.WithBaseURL(fake.BaseURL()), graph.WithHTTPClient(hc))
	if err != nil {
		b.Fatal(err)
	}
	m, err := fsm.New(callID(1), client)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if _, err := m.Start(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if !m.Gate().IsOpen() {
			b.Fatalf("after Start: %v", m)
		}
		if err := m.Stop(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// heapPer builds n objects, keeps them, and returns the live heap they
// add, per object, after a garbage collection.
func heapPer(n int, build func(i int) any) float64 {
	keep := make([]any, n)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range keep {
		keep[i] = build(i)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}

// BenchmarkBareStateless is the baseline of heap per call: a bare
// qmuntal/stateless machine with recgate's states, triggers, guards and
// transitions, and nothing else.
func BenchmarkBareStateless(b *testing.B) {
	var per float64
	for range b.N {
		per += heapPer(1000, func(int) any { return bareStateless() })
	}
	b.ReportMetric(per/float64(b.N), "heap-bytes/machine")
}

func bareStateless() *stateless.StateMachine {
	sm := stateless.NewStateMachineWithMode(fsm.NotRecording, stateless.FiringImmediate)
	g := func(context.Context, ...any) bool { return true }
	sm.Configure(fsm.NotRecording).
		Permit(fsm.Start, fsm.Recording, g).Permit(fsm.Start, fsm.AwaitingConfirmation, g).Permit(fsm.CallEnded, fsm.Ended)
	sm.Configure(fsm.AwaitingConfirmation).
		Permit(fsm.OperationUpdate, fsm.Recording, g).Permit(fsm.OperationUpdate, fsm.NotRecording, g).
		Permit(fsm.Stop, fsm.Stopping).Permit(fsm.Fail, fsm.Stopping).Permit(fsm.ConfirmationTimeout, fsm.Stopping).
		Permit(fsm.CallEnded, fsm.Ended)
	sm.Configure(fsm.Recording).Permit(fsm.Stop, fsm.Stopping).Permit(fsm.Fail, fsm.Stopping).Permit(fsm.CallEnded, fsm.Ended)
	sm.Configure(fsm.Stopping).
		Permit(fsm.Stop, fsm.NotRecording, g).Permit(fsm.Fail, fsm.Failed, g).Permit(fsm.ConfirmationTimeout, fsm.Failed, g).
		Permit(fsm.CallEnded, fsm.Ended)
	sm.Configure(fsm.Failed).
		Permit(fsm.Start, fsm.Recording, g).Permit(fsm.Start, fsm.AwaitingConfirmation, g).Permit(fsm.CallEnded, fsm.Ended)
	sm.OnTransitioned(func(context.Context, stateless.Transition) {})
	return sm
}

// BenchmarkMachineHeap is recgate's own share of a call's heap: a Machine
// held by a Registry, in Recording, with two open Streams (no HTTP, no
// fake Graph, no sinks).
func BenchmarkMachineHeap(b *testing.B) {
	completed := fsm.UpdaterFunc(func(_ context.Context, _ string, _ graph.Status, cc string) (graph.Operation, error) {
		return graph.Operation{ClientContext: cc, Status: graph.OperationCompleted}, nil
	})
	ctx := context.Background()
	var per float64
	for range b.N {
		reg, err := fsm.NewRegistry(func(id string) (*fsm.Machine, error) { return fsm.New(id, completed) })
		if err != nil {
			b.Fatal(err)
		}
		per += heapPer(1000, func(i int) any {
			m, err := reg.Create(callID(i))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := m.Start(ctx); err != nil {
				b.Fatal(err)
			}
			return [2]*fsm.Stream{m.Gate().NewStream(), m.Gate().NewStream()}
		})
		runtime.KeepAlive(reg)
	}
	b.ReportMetric(per/float64(b.N), "heap-bytes/call")
}
