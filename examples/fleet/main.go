// Command fleet runs many calls at once through recgate, the way one bot
// process serving a fleet of meetings would, and checks the compliance rule
// for every one of them.
//
//	go run ./examples/fleet -calls 1000
//	go run ./examples/fleet -calls 10000 -metrics
//
// All N calls share one wiring: one graph.Client, one graph/callback
// Handler (its Validator checks each notification's token against the
// fake's OpenID configuration), one fsm.Registry, one otelrecgate adapter,
// all against one graphtest fake Graph on loopback. Each call asks Graph to
// record (Start), writes media on two streams at -fps frames per second
// through its persist gate (time compressed by -speedup: the output says
// so), Stops and sees the call end by Graph's signed termination. Faults are
// mixed in: throttled Starts (429), pending Starts confirmed by a signed
// notification, refused ones (a failed operation or 8506), and calls that
// end in the middle of the recording.
//
// Each call records for -duration of media, and at least until every call
// is up: then the heap is measured with all calls active at once, after a
// garbage collection. The run stops by itself (-timeout bounds it).
//
// At the end it checks, from the fake's request log, its notification log
// and the sinks the frames went to, that every persisted frame was written
// inside a confirmed interval (after Graph's completed reply or signed
// notification, before notRecording/failed and before the call's end), that
// notRecording/failed came after the last write, that nothing was sent after
// a call ended, and that no frame was refused while its call's gate stood
// confirmed. Any violation makes the exit status 1.
//
// A writer that wakes too late to write the frames due drops them (it
// never writes them late): a dropped frame breaks no rule, but more than
// 1% of the frames due dropped means this machine could not keep up, and
// the report says so in a WARNING before its throughput and latency
// figures and again after its summary: those figures then measure a
// starved process, not recgate.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	ok, err := run(context.Background(), os.Args[1:], os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// options are the flags.
type options struct {
	calls      int
	fps        int
	duration   time.Duration // media recorded per call
	speedup    float64       // media seconds per wall second (1: real time)
	tick       time.Duration // how often writers wake (wall time)
	rate       float64       // calls started (and stopped) per second; 0: all at once
	throttled  float64
	pending    float64
	refused    float64
	endedMid   float64
	retryAfter int // seconds, for throttled Starts
	seed       uint64
	timeout    time.Duration
	metrics    bool
	// requestMetrics wires otelrecgate's Transport and Observer into the
	// Graph client and the machines (frames and notifications are counted
	// either way).
	requestMetrics bool
	// journal, if set, is the directory of an fsm.Journal: every machine
	// keeps its audit trail there, synced before its gate opens and before
	// each report, and the run ends with a Journal.Recover over it.
	journal    string
	progress   time.Duration // 0: no progress lines
	cpuProfile string        // write a CPU profile of the run here
	memProfile string        // write a heap profile at the peak here
}

func parseFlags(args []string, out io.Writer) (options, error) {
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	fs.SetOutput(out)
	var o options
	fs.IntVar(&o.calls, "calls", 1000, "concurrent calls (1 to 100000)")
	fs.IntVar(&o.fps, "fps", 50, "media frames per second per stream (Teams audio: 50, 20 ms frames)")
	fs.DurationVar(&o.duration, "duration", 2*time.Second, "media recorded per call (at least; calls keep recording until all are up)")
	fs.Float64Var(&o.speedup, "speedup", 1, "time compression: media seconds per wall-clock second (1: real time)")
	fs.Float64Var(&o.rate, "rate", 500, "calls started per second, and stopped per second after the peak (0: all at once, a burst)")
	fs.DurationVar(&o.tick, "tick", 50*time.Millisecond, "how often each writer wakes to write the frames due (wall time)")
	fs.Float64Var(&o.throttled, "throttled", 0.05, "fraction of calls whose Start is throttled once (429)")
	fs.Float64Var(&o.pending, "pending", 0.02, "fraction of calls whose Start is answered running, then confirmed by a signed notification")
	fs.Float64Var(&o.refused, "refused", 0.01, "fraction of calls whose Start is refused (half a failed operation, half 8506)")
	fs.Float64Var(&o.endedMid, "ended", 0.01, "fraction of calls that end in the middle of the recording (signed termination)")
	fs.IntVar(&o.retryAfter, "retry-after", 0, "Retry-After of a throttled Start, in seconds (0: the client backs off by itself, a few ms)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed that deals the faults to calls")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up (and fail) after this long")
	fs.BoolVar(&o.metrics, "metrics", false, "print the OpenTelemetry metrics (otelrecgate) at the end")
	fs.BoolVar(&o.requestMetrics, "request-metrics", true, "count Graph requests, retries, transitions and gate time through otelrecgate's Transport and Observer, on the request path (false: measure start-to-confirmed without them; frames and notifications are counted either way)")
	fs.StringVar(&o.journal, "journal", "", "keep every call's audit trail in an fsm.Journal in this directory (synced before the gate opens and before each report, as crash recovery needs), then run Journal.Recover over it: every trail must be clean, and the report gives the cost (empty: no journal)")
	fs.DurationVar(&o.progress, "progress", time.Second, "print a progress line this often (0: never)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile, taken at the peak, to this file")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	switch {
	case o.calls < 1 || o.calls > 100000:
		return options{}, fmt.Errorf("-calls %d: want 1 to 100000", o.calls)
	case o.fps < 1 || o.fps > 1000:
		return options{}, fmt.Errorf("-fps %d: want 1 to 1000", o.fps)
	case o.duration < 0 || o.duration > time.Hour:
		return options{}, fmt.Errorf("-duration %s: want 0 to 1h", o.duration)
	case o.speedup <= 0:
		return options{}, fmt.Errorf("-speedup %g: want > 0 (1: real time)", o.speedup)
	case o.rate < 0:
		return options{}, fmt.Errorf("-rate %g: want >= 0 (0: all at once)", o.rate)
	case o.tick <= 0:
		return options{}, fmt.Errorf("-tick %s: want > 0", o.tick)
	case o.retryAfter < 0 || o.retryAfter > 60:
		return options{}, fmt.Errorf("-retry-after %d: want 0 to 60 seconds (the client waits out at most 60 s)", o.retryAfter)
	case o.timeout <= 0:
		return options{}, fmt.Errorf("-timeout %s: want > 0", o.timeout)
	case o.progress < 0:
		return options{}, fmt.Errorf("-progress %s: want >= 0", o.progress)
	}
	for name, f := range map[string]float64{"-throttled": o.throttled, "-pending": o.pending, "-refused": o.refused, "-ended": o.endedMid} {
		if f < 0 || f > 1 {
			return options{}, fmt.Errorf("%s %g: want a fraction from 0 to 1", name, f)
		}
	}
	if sum := o.throttled + o.pending + o.refused + o.endedMid; sum > 1 {
		return options{}, fmt.Errorf("the fault fractions add up to %g: want at most 1", sum)
	}
	return o, nil
}

// run parses the flags, runs the fleet and prints the report. ok is false
// when an invariant was violated.
func run(ctx context.Context, args []string, out io.Writer) (ok bool, err error) {
	o, err := parseFlags(args, out)
	if errors.Is(err, flag.ErrHelp) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	res, err := runFleet(ctx, o, out)
	if err != nil {
		return false, err
	}
	res.print(out, o)
	return res.violations.total() == 0, nil
}
