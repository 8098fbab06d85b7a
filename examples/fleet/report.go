package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func ns(d int64) time.Duration { return time.Duration(d) }

// latencies are the run's start-to-confirmed and stop-to-reported times.
type latencies struct {
	confirm, report []time.Duration
	direct          []time.Duration // start-to-confirmed of the calls Graph answered completed at once (one request)
	// The direct calls' start-to-confirmed split by the machine's own
	// events: Start called to the request about to be sent (fsm), the
	// request to its reply (graph.Client, the wire and the fake), the
	// reply to the gate open (fsm).
	beforeRequest, roundTrip, afterReply []time.Duration
}

func (res *result) latencies() latencies {
	var l latencies
	for _, c := range res.calls {
		if o := c.openedAt.Load(); o != 0 && c.startAt != 0 {
			l.confirm = append(l.confirm, ns(o-c.startAt))
			if c.kind == kindNormal || c.kind == kindEndedMid {
				l.direct = append(l.direct, ns(o-c.startAt))
				if q, a := c.requestAt.Load(), c.replyAt.Load(); q != 0 && a >= q && o >= a {
					l.beforeRequest = append(l.beforeRequest, ns(q-c.startAt))
					l.roundTrip = append(l.roundTrip, ns(a-q))
					l.afterReply = append(l.afterReply, ns(o-a))
				}
			}
		}
		if c.stopDone != 0 && c.stopErr == nil {
			l.report = append(l.report, ns(c.stopDone-c.stopAt))
		}
	}
	slices.Sort(l.confirm)
	slices.Sort(l.direct)
	slices.Sort(l.beforeRequest)
	slices.Sort(l.roundTrip)
	slices.Sort(l.afterReply)
	slices.Sort(l.report)
	return l
}

// percentile of sorted d (nearest rank); 0 for none.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(p/100*float64(len(d))+0.5) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func (res *result) print(w io.Writer, o options) {
	n := len(res.calls)
	fmt.Fprintf(w, "\nfleet: %d calls at once through one graph.Client, one graph/callback Handler and one fsm.Registry, against one fake Graph on loopback\n", n)
	fmt.Fprintf(w, "  time compressed %gx: each call records at least %s of media (%d frames per stream at %d fps, 2 streams) in %s of wall time;\n",
		o.speedup, o.duration, int(o.duration.Seconds()*float64(o.fps)), o.fps, time.Duration(float64(o.duration)/o.speedup).Round(time.Millisecond))
	pace := "all at once (a burst)"
	if o.rate > 0 {
		pace = fmt.Sprintf("%g per second", o.rate)
	}
	fmt.Fprintf(w, "  calls start %s; each holds in its recording until every call is up (the peak: all calls at once), then they stop at the same pace;\n", pace)
	fmt.Fprintf(w, "  writers wake every %s and write the frames due\n", o.tick)
	if !o.requestMetrics {
		fmt.Fprintf(w, "  -request-metrics=false: otelrecgate's Transport and Observer are not wired (no request, retry, transition or gate metrics); frames and notifications are still counted\n")
	}
	var dealt []string
	for k := kind(0); k < kinds; k++ {
		dealt = append(dealt, fmt.Sprintf("%d %s", res.kinds[k], k))
	}
	fmt.Fprintf(w, "  calls dealt: %s (seed %d)\n", strings.Join(dealt, ", "), o.seed)

	l := res.latencies()
	k := res.checks
	warning := overloadWarning(k, o, n)
	if warning != "" {
		fmt.Fprintf(w, "\n%s\n", warning)
	}
	fmt.Fprintf(w, "\nthroughput: %.0f calls/s (%d calls in %s; set-up %s); %d Graph requests, %d notifications\n",
		float64(n)/res.wall.Seconds(), n, res.wall.Round(time.Millisecond), res.setup.Round(time.Millisecond), res.requests, res.deliveries)
	fmt.Fprintf(w, "start-to-confirmed: p50 %s, p99 %s (%d calls; Start called to gate open, retries and notifications included)\n",
		round(percentile(l.confirm, 50)), round(percentile(l.confirm, 99)), len(l.confirm))
	if len(res.probe) > 0 && len(l.confirm) > 0 {
		fmt.Fprintf(w, "  side by side: a bare HTTP POST to the same fake, one beside each Start (same goroutine and pool, just before or after it; %d of them): p50 %s, p99 %s;\n",
			len(res.probe), round(percentile(res.probe, 50)), round(percentile(res.probe, 99)))
		fmt.Fprintf(w, "  start-to-confirmed p50 / bare round trip p50 = %.2f (%.2f for the %d calls answered completed at once, p50 %s)\n",
			float64(percentile(l.confirm, 50))/float64(percentile(res.probe, 50)),
			float64(percentile(l.direct, 50))/float64(percentile(res.probe, 50)), len(l.direct), round(percentile(l.direct, 50)))
		if len(l.roundTrip) > 0 {
			fmt.Fprintf(w, "  those calls split by the machine's events (p50 of each): Start to request %s, request to reply %s (graph.Client, wire, fake; %.2fx the bare POST), reply to gate open %s\n",
				round(percentile(l.beforeRequest, 50)), round(percentile(l.roundTrip, 50)),
				float64(percentile(l.roundTrip, 50))/float64(percentile(res.probe, 50)), round(percentile(l.afterReply, 50)))
		}
	}
	fmt.Fprintf(w, "stop-to-reported:   p50 %s, p99 %s (%d calls; Stop called to notRecording answered: close, drain, hook, report)\n",
		round(percentile(l.report, 50)), round(percentile(l.report, 99)), len(l.report))
	fmt.Fprintf(w, "frames: %d persisted (%d MiB), %d refused by the gate (before Graph confirmed, after Stop or the end, or refused calls), %d dropped by writers that woke too late to write them (%.1f%% of the frames due)\n",
		k.persisted, k.bytes>>20, k.refused, k.dropped, 100*k.droppedShare())
	if p := res.peak; p.measured {
		fmt.Fprintf(w, "peak: %d active calls; heap %.0f B per active call (%.1f KiB; HeapAlloc %+d B after GC, over the warmed-up rig);\n",
			p.active, p.heapPerCall, p.heapPerCall/1024, p.heapDelta)
		fmt.Fprintf(w, "      %d goroutines (%d before: 1 control + 2 writers per call), goroutine stacks %d MiB (not heap)\n",
			p.goroutines, p.baseGoroutine, (p.stackInuse-p.baseStack)>>20)
	}
	res.journal.print(w, o)
	if o.journal != "" && res.journal.err == nil {
		fmt.Fprintf(w, "  %s\n", trailCount(res.journal.trails, n))
	}
	fmt.Fprintf(w, "\nchecked, from the fake's request and notification logs and the sinks:\n")
	fmt.Fprintf(w, "  %d calls confirmed (%d by a signed notification); %d Graph requests (%d answered 429, %d refused with 8506, %d failed operations); %d notRecording/failed reports; %d signed terminations\n",
		k.confirmed, k.byNotification, k.requests, k.throttledReplies, k.nonCompliance, k.failedOps, k.reports, k.terminations)
	v := res.violations
	row := func(name string, got int64) {
		verdict := "ok"
		if got != 0 {
			verdict = "VIOLATED"
		}
		fmt.Fprintf(w, "  %-76s %6d  %s\n", name, got, verdict)
	}
	row("frames persisted outside a confirmed interval (P1)", int64(v.outside))
	row("notRecording/failed sent before the last write (P2)", int64(v.reportTooEarly))
	row("requests sent after the call ended (P5)", int64(v.afterEnd))
	row("frames refused while the gate stood confirmed", v.refusedInside)
	row("frames in the wrong sink or out of order", v.crossed)
	row("calls whose machine did not end", int64(v.notEnded))
	row("calls that did not play the fault they were dealt", int64(v.scenario))
	if o.journal != "" {
		row("journal trails a restart would have to put right (all calls ended)", int64(v.uncleanTrails))
	}
	for _, e := range v.examples {
		fmt.Fprintf(w, "    %s\n", e)
	}
	if v.total() == 0 {
		fmt.Fprintf(w, "zero violations\n")
	} else {
		fmt.Fprintf(w, "%d VIOLATIONS\n", v.total())
	}
	if warning != "" {
		fmt.Fprintf(w, "WARNING: this machine could not keep up (%.1f%% of frames dropped): the rule was checked on every frame written, but the throughput and latency figures measure a starved process, not recgate\n",
			100*k.droppedShare())
	}
	if res.metrics != "" {
		fmt.Fprintf(w, "\nOpenTelemetry metrics (otelrecgate, as collected by a ManualReader):\n%s", res.metrics)
	}
}

// droppedWarnShare is the share of the frames due that writers may drop
// before the report warns that its numbers measure a starved machine.
const droppedWarnShare = 0.01

// droppedShare is the share of the frames due (persisted, refused or
// dropped) that writers dropped because they woke too late.
func (k checks) droppedShare() float64 {
	due := k.persisted + k.refused + k.dropped
	if due == 0 {
		return 0
	}
	return float64(k.dropped) / float64(due)
}

// overloadWarning is the report's warning when writers dropped more than
// droppedWarnShare of the frames due, or "" when they kept up. Dropped
// frames are never written, so they break no rule; but a process that
// drops them is starved, and its latencies and throughput say more about
// the machine than about recgate.
func overloadWarning(k checks, o options, calls int) string {
	share := k.droppedShare()
	if share <= droppedWarnShare {
		return ""
	}
	return fmt.Sprintf("WARNING: this machine could not keep up: writers fell behind and dropped %d of the %d frames due (%.1f%%, more than %.0f%%).\n"+
		"  The rule was still checked on every frame that was written (dropped frames are never written, so they are not violations),\n"+
		"  but the throughput and latency figures below measure a starved process, not recgate.\n"+
		"  Run fewer -calls (%d now), a lower -speedup (%g) or -fps (%d), or on more CPUs, until fewer than %.0f%% are dropped.",
		k.dropped, k.persisted+k.refused+k.dropped, 100*share, 100*droppedWarnShare, calls, o.speedup, o.fps, 100*droppedWarnShare)
}

// trailCount explains the journal's trail count: one per machine, and the
// rig's warm-up call (rig.warmUp) is a machine too.
func trailCount(trails, calls int) string {
	if trails == calls+1 {
		return fmt.Sprintf("(%d trails for %d calls: the one more is the warm-up call, played through the whole wiring before the run so that one-time costs, TLS handshakes and the key fetch, are not counted per call; it ended like the rest)", trails, calls)
	}
	return fmt.Sprintf("(%d trails for %d calls; want %d: one per call and one for the warm-up call played before the run)", trails, calls, calls+1)
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// renderMetrics collects the adapter's instruments and writes one line per
// data point: counters with their value, histograms with count, mean and
// sum.
func (r *rig) renderMetrics(ctx context.Context) string {
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(ctx, &rm); err != nil {
		return "  collecting: " + err.Error() + "\n"
	}
	var b strings.Builder
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			var lines []string
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					lines = append(lines, fmt.Sprintf("    %-64s %d", attrText(p.Attributes.ToSlice()), p.Value))
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					mean := 0.0
					if p.Count > 0 {
						mean = p.Sum / float64(p.Count)
					}
					lines = append(lines, fmt.Sprintf("    %-64s count %d, mean %s", attrText(p.Attributes.ToSlice()), p.Count,
						round(time.Duration(mean*float64(time.Second)))))
				}
			}
			sort.Strings(lines)
			fmt.Fprintf(&b, "  %s (%s)\n%s\n", m.Name, m.Unit, strings.Join(lines, "\n"))
		}
	}
	return b.String()
}

func attrText(kvs []attribute.KeyValue) string {
	if len(kvs) == 0 {
		return "(all)"
	}
	var parts []string
	for _, kv := range kvs {
		parts = append(parts, string(kv.Key)+"="+kv.Value.String())
	}
	return strings.Join(parts, " ")
}
