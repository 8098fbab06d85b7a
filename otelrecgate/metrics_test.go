package otelrecgate_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/callback"
	"github.com/recgate/recgate/graph/graphtest"
	"github.com/recgate/recgate/otelrecgate"
)

const (
	appID = "0e1a0000-0000-4000-8000-00000000a11d"
	callA = "a0000000-0000-4000-8000-00000000000a"
	callB = "b0000000-0000-4000-8000-00000000000b"
	callC = "c0000000-0000-4000-8000-00000000000c"
)

// rig is the whole wiring: the fake Graph, a client whose transport is
// counted, a registry whose machines are observed, and the callback
// handler on loopback.
type rig struct {
	fake     *graphtest.Server
	registry *fsm.Registry
}

func newRig(t *testing.T, m *otelrecgate.Metrics) *rig {
	t.Helper()
	fake := graphtest.NewServer(graphtest.WithToken("t"))
	t.Cleanup(fake.Close)
	client, err := graph.NewClient(graph.StaticToken("t"), graph.WithBaseURL(fake.BaseURL()),
		graph.WithHTTPClient(&http.Client{Transport: m.Transport(fake.Client().Transport)}),
		graph.WithBackoff(time.Millisecond, 2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	registry, err := fsm.NewRegistry(func(callID string) (*fsm.Machine, error) {
		return fsm.New(callID, client, fsm.WithObserver(m.Observer()))
	}, fsm.WithIgnoredHook(m.IgnoredHook()))
	if err != nil {
		t.Fatal(err)
	}
	v, err := callback.NewValidator(appID, callback.WithOpenIDConfigURL(fake.OpenIDConfigURL()), callback.WithHTTPClient(fake.Client()))
	if err != nil {
		t.Fatal(err)
	}
	h, err := callback.NewHandler(registry, v, callback.WithRejectHook(m.RejectHook()),
		callback.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	if err := fake.SetCallback(srv.URL, appID); err != nil {
		t.Fatal(err)
	}
	return &rig{fake: fake, registry: registry}
}

// A scripted call through the real client, registry, handler and fake:
// every instrument shows exactly what happened.
func TestCountsOfAScriptedCall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, reader := newMetrics(t)
	r := newRig(t, m)

	// Call A: Start is throttled once, then pending; Graph's signed
	// completed opens the gate; a forged one is refused; frames; Stop; end.
	a := r.fake.AddCall(callA).Then(graphtest.Throttle("0"), graphtest.PendingThen(graph.OperationCompleted))
	ma, err := r.registry.Create(callA)
	if err != nil {
		t.Fatal(err)
	}
	stream := ma.Gate().NewStream()
	if _, err := ma.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.fake.WaitDeliveries(ctx, 1); err != nil { // the handler answers after Notify
		t.Fatal(err)
	}
	if !ma.Gate().IsOpen() {
		t.Fatalf("after Graph's signed completed: %v; want the gate open", ma)
	}
	if d, err := a.NotifyForged(ctx, graphtest.ForgedExpired, graph.OperationCompleted); err != nil || d.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged notification: %d, %v; want 401", d.StatusCode, err)
	}
	for range 3 {
		lease, err := stream.Acquire()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Acquire(); !errors.Is(err, fsm.ErrStreamBusy) { // a bot bug, counted
			t.Fatalf("second Acquire: %v; want ErrStreamBusy", err)
		}
		m.FrameRefused(ctx, fsm.ErrStreamBusy)
		lease.Release()
		m.FramePersisted(ctx)
	}
	if got := collect(t, reader).values(otelrecgate.MetricGateOpen); got != ":1" {
		t.Errorf("gates open while recording: %s; want :1", got)
	}
	if err := ma.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_, err := stream.Acquire()
		m.FrameRefused(ctx, err)
	}
	if _, err := a.End(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := stream.Close(); err != nil { // the call ended: its stream too
		t.Fatal(err)
	}
	for range 4 { // late frames of the ended call: normal, not a bot bug
		_, err := stream.Acquire()
		if !errors.Is(err, fsm.ErrStreamClosed) {
			t.Fatalf("Acquire on the closed stream: %v; want ErrStreamClosed", err)
		}
		m.FrameRefused(ctx, err)
	}

	// Call B: a termination for a call the registry does not hold.
	if _, err := r.fake.AddCall(callB).End(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// Call C: refused for policy (8506), then ended.
	c := r.fake.AddCall(callC).Then(graphtest.NonCompliant())
	mc, err := r.registry.Create(callC)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mc.Start(ctx); !graph.IsNonCompliance(err) {
		t.Fatalf("Start of a non-compliance call: %v; want 8506", err)
	}
	if _, err := c.End(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if r.registry.Len() != 0 {
		t.Fatalf("the registry still holds %d machines; want both calls ended", r.registry.Len())
	}

	got := collect(t, reader)
	got.expect(t, otelrecgate.MetricTransitions,
		"recgate.from=NotRecording,recgate.to=AwaitingConfirmation,recgate.trigger=Start:1",
		"recgate.from=AwaitingConfirmation,recgate.to=Recording,recgate.trigger=OperationUpdate:1",
		"recgate.from=Recording,recgate.to=Stopping,recgate.trigger=Stop:1",
		"recgate.from=Stopping,recgate.to=NotRecording,recgate.trigger=Stop:1",
		"recgate.from=NotRecording,recgate.to=Ended,recgate.trigger=CallEnded:2")
	got.expect(t, otelrecgate.MetricGraphRequests,
		"recgate.outcome=pending,recgate.status=recording:1",
		"recgate.outcome=completed,recgate.status=notRecording:1",
		"recgate.outcome=non_compliant,recgate.status=recording:1")
	got.expect(t, otelrecgate.MetricGraphDuration,
		"recgate.outcome=pending,recgate.status=recording:1",
		"recgate.outcome=completed,recgate.status=notRecording:1",
		"recgate.outcome=non_compliant,recgate.status=recording:1")
	got.expect(t, otelrecgate.MetricGraphUpdates, "recgate.outcome=completed,recgate.via=notification:1")
	got.expect(t, otelrecgate.MetricHTTPAttempts, "http.response.status_code=200:2", "http.response.status_code=429:1", "http.response.status_code=403:1")
	got.expect(t, otelrecgate.MetricHTTPDuration, "http.response.status_code=200:2", "http.response.status_code=429:1", "http.response.status_code=403:1")
	got.expect(t, otelrecgate.MetricHTTPRetries, "http.response.status_code=429:1")
	got.expect(t, otelrecgate.MetricGateOpens, "recgate.via=notification:1")
	got.expect(t, otelrecgate.MetricGateOpen, ":0")
	got.expect(t, otelrecgate.MetricGateOpenDuration, ":1")
	if p := got[otelrecgate.MetricGateOpenDuration][""]; p.sum <= 0 || p.sum > 20 {
		t.Errorf("gate open time: %gs; want the seconds between the notification and Stop", p.sum)
	}
	got.expect(t, otelrecgate.MetricFramesPersisted, ":3")
	got.expect(t, otelrecgate.MetricFramesRefused, "recgate.reason=gate_closed:2", "recgate.reason=stream_busy:3", "recgate.reason=stream_closed:4")
	got.expect(t, otelrecgate.MetricNotificationReject, "recgate.reason=expired:1")
	got.expect(t, otelrecgate.MetricNotificationIgnore, "recgate.reason=unknown-call:1")
}

// The hot paths allocate nothing: a frame, a refusal, a transition, a
// rejection.
func TestHotPathsDoNotAllocate(t *testing.T) {
	m, _ := newMetrics(t)
	ctx := context.Background()
	obs := m.Observer()
	reject := m.RejectHook()
	transition := fsm.Event{Kind: fsm.EventTransition, CallID: callA, From: fsm.Recording, To: fsm.Stopping, Trigger: fsm.Stop}
	for name, f := range map[string]func(){
		"FramePersisted":             func() { m.FramePersisted(ctx) },
		"FrameRefused":               func() { m.FrameRefused(ctx, fsm.ErrGateClosed) },
		"FrameRefused stream_closed": func() { m.FrameRefused(ctx, fsm.ErrStreamClosed) },
		"transition":                 func() { obs(transition) },
		"RejectHook":                 func() { reject(callback.RejectBadSignature) },
	} {
		f() // the SDK makes each attribute set's aggregator on first use
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %g allocations per call; want 0", name, n)
		}
	}
}

// Bad input is an error or harmless, never a panic.
func TestBadInput(t *testing.T) {
	if _, err := otelrecgate.New(nil); err == nil {
		t.Error("New(nil): no error")
	}
	m, reader := newMetrics(t)
	//lint:ignore SA1012 a nil context is what the test feeds
	m.FramePersisted(nil) //nolint:staticcheck
	m.FrameRefused(context.Background(), nil)
	m.RejectHook()(callback.RejectReason("something_new"))
	m.Observer()(fsm.Event{Kind: fsm.EventTransition, From: fsm.State(99), To: fsm.State(-1), Trigger: fsm.Trigger(42)})
	m.Observer()(fsm.Event{Kind: fsm.EventGate, Open: false, CallID: "never-opened"})
	got := collect(t, reader)
	got.expect(t, otelrecgate.MetricFramesPersisted, ":1")
	got.expect(t, otelrecgate.MetricFramesRefused, "recgate.reason=other:1")
	got.expect(t, otelrecgate.MetricNotificationReject, "recgate.reason=something_new:1")
	if len(got[otelrecgate.MetricTransitions]) != 1 {
		t.Errorf("an out-of-range transition: %s; want one point", got.values(otelrecgate.MetricTransitions))
	}
	if _, ok := got[otelrecgate.MetricGateOpenDuration]; ok && got.values(otelrecgate.MetricGateOpenDuration) != "" {
		t.Errorf("a gate closed that never opened was timed: %s", got.values(otelrecgate.MetricGateOpenDuration))
	}
}

// TestFrameRefusedCountsClosedStreams: a closed stream's late frame counts
// as stream_closed (normal after the call ends), not stream_busy (a bot
// bug), also when the bot wraps the error; a closed gate still counts as
// gate_closed. (stream_busy while recording is in TestCountsOfAScriptedCall.)
func TestFrameRefusedCountsClosedStreams(t *testing.T) {
	m, reader := newMetrics(t)
	ctx := context.Background()
	machine, err := fsm.New(callA, fsm.UpdaterFunc(func(context.Context, string, graph.Status, string) (graph.Operation, error) {
		return graph.Operation{}, errors.New("not used")
	}))
	if err != nil {
		t.Fatal(err)
	}
	held := machine.Gate().NewStream()
	closed := machine.Gate().NewStream()
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}

	_, closedErr := closed.Acquire()
	m.FrameRefused(ctx, closedErr)
	m.FrameRefused(ctx, fmt.Errorf("stream 2: %w", closedErr))
	_, gateErr := held.Acquire() // no recording: the gate refuses first
	m.FrameRefused(ctx, gateErr)

	got := collect(t, reader)
	got.expect(t, otelrecgate.MetricFramesRefused, "recgate.reason=stream_closed:2", "recgate.reason=gate_closed:1")
	if !errors.Is(closedErr, fsm.ErrStreamClosed) || errors.Is(closedErr, fsm.ErrStreamBusy) {
		t.Errorf("Acquire on a closed stream: %v; want ErrStreamClosed, not ErrStreamBusy", closedErr)
	}
}
