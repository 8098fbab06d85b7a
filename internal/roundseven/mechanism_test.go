package roundseven

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// recordingSink keeps what a bot persisted, per stream, write by write.
type recordingSink struct {
	mu     sync.Mutex
	writes map[int][][]byte
}

func (s *recordingSink) Write(stream int, p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writes == nil {
		s.writes = map[int][][]byte{}
	}
	s.writes[stream] = append(s.writes[stream], append([]byte(nil), p...))
	return len(p), nil
}

func (s *recordingSink) Flush() error { return nil }

func (s *recordingSink) stream(i int) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.writes[i]...)
}

// alwaysCompleted is a Graph that accepts every request at once.
var alwaysCompleted = fsm.UpdaterFunc(func(_ context.Context, _ string, _ graph.Status, cc string) (graph.Operation, error) {
	return graph.Operation{ClientContext: cc, Status: graph.OperationCompleted}, nil
})

// TestGzipLeadInHidesCanaries shows GzipLeadIn's Miss on fakes: frames
// heard before Start are refused by the gate, and the first frame of the
// recording is preceded by a gzip member that holds them. Their words are
// not in the bytes persisted as plain text, but inflating the member gives
// them back: the bug is real (the suite's sink now inflates gzip and zlib
// members to find them; it read only plain text, base64 and hex before).
func TestGzipLeadInHidesCanaries(t *testing.T) {
	ctx := context.Background()
	sink := &recordingSink{}
	b, err := newLeadIn("call-1", alwaysCompleted, 1, sink, func() {}, plain, gzipFrames)
	if err != nil {
		t.Fatal(err)
	}
	before := []string{"hello zqbefore one", "said zqbefore two"}
	for _, f := range before {
		if err := b.Frame(ctx, 0, []byte(f)); !errors.Is(err, fsm.ErrGateClosed) {
			t.Fatalf("frame before consent: got %v, want ErrGateClosed (dropped)", err)
		}
	}
	if err := b.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := b.Frame(ctx, 0, []byte("recorded zqinside")); err != nil {
		t.Fatalf("frame in the recording: %v", err)
	}
	writes := sink.stream(0)
	if len(writes) != 2 || string(writes[1]) != "recorded zqinside" {
		t.Fatalf("persisted %q, want the lead-in and then the recorded frame", writes)
	}
	leadIn := writes[0]
	if bytes.Contains(leadIn, []byte("zqbefore")) {
		t.Fatalf("the lead-in holds pre-consent words in plain text (%q); the suite would trace them", leadIn)
	}
	zr, err := gzip.NewReader(bytes.NewReader(leadIn))
	if err != nil {
		t.Fatalf("the lead-in is not a gzip member: %v", err)
	}
	inflated, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(before, ""); string(inflated) != want {
		t.Fatalf("the lead-in inflates to %q, want the frames heard before consent %q", inflated, want)
	}
}

// scriptedGraph answers from a list of statuses (completed, failed) in
// order and logs each request's status.
type scriptedGraph struct {
	mu      sync.Mutex
	answers []graph.OperationStatus
	sent    []graph.Status
}

func (g *scriptedGraph) UpdateRecordingStatus(_ context.Context, _ string, st graph.Status, cc string) (graph.Operation, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sent = append(g.sent, st)
	a := graph.OperationCompleted
	if len(g.answers) > 0 {
		a, g.answers = g.answers[0], g.answers[1:]
	}
	op := graph.Operation{ID: "op", ClientContext: cc, Status: a}
	if a == graph.OperationFailed {
		return graph.Operation{}, &graph.OperationError{Operation: op}
	}
	return op, nil
}

// TestSegmentTailLandsInNextRecording shows SegmentPerRecording's
// mechanism on fakes: the second recording's frames stay in its segment
// after Stop (the hook flushed the first segment), and the third Start's
// rotation writes them, outside any lease, after Graph was told
// notRecording.
func TestSegmentTailLandsInNextRecording(t *testing.T) {
	ctx := context.Background()
	sink := &recordingSink{}
	b, err := newSegmentBot("call-1", alwaysCompleted, 1, sink, func() {})
	if err != nil {
		t.Fatal(err)
	}
	for i, word := range []string{"first", "second"} {
		if err := b.Start(ctx); err != nil {
			t.Fatalf("Start %d: %v", i+1, err)
		}
		if err := b.Frame(ctx, 0, []byte(word)); err != nil {
			t.Fatalf("frame %q: %v", word, err)
		}
		if err := b.Stop(ctx); err != nil {
			t.Fatalf("Stop %d: %v", i+1, err)
		}
	}
	if got := sink.stream(0); len(got) != 1 || string(got[0]) != "first" {
		t.Fatalf("after two recordings storage holds %q; want only the first recording's frame (the second is still buffered)", got)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatalf("Start 3: %v", err)
	}
	if got := sink.stream(0); len(got) != 2 || string(got[1]) != "second" {
		t.Fatalf("after the third Start storage holds %q; want the second recording's frame written by the rotation", got)
	}
}

// TestReinviteFinishesFailedStop plays, on fakes, the case behind
// ReinviteStopsFirst's false alarm: a Stop whose notRecording is refused
// leaves the machine Stopping; the next Start (a re-invite) first sends
// notRecording again and, once Graph completed it, recording. The
// sequence keeps the rule; P3 calls the last request a second request of
// the Start because the earlier Stop is still "asked".
func TestReinviteFinishesFailedStop(t *testing.T) {
	ctx := context.Background()
	g := &scriptedGraph{answers: []graph.OperationStatus{graph.OperationCompleted, graph.OperationFailed}}
	env := newTestEnvBot(t, g)
	if err := env.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := env.Stop(ctx); err == nil {
		t.Fatal("Stop with a refused notRecording returned nil")
	}
	if s := env.current().State(); s != fsm.Stopping {
		t.Fatalf("after the refused report the machine is %s, want Stopping", s)
	}
	if err := env.Start(ctx); err != nil {
		t.Fatalf("re-invite Start: %v", err)
	}
	want := []graph.Status{graph.StatusRecording, graph.StatusNotRecording, graph.StatusNotRecording, graph.StatusRecording}
	if !slicesEqual(g.sent, want) {
		t.Fatalf("requests %v, want %v", g.sent, want)
	}
	if !env.GateOpen() {
		t.Fatal("the new recording's gate is closed")
	}
}

func slicesEqual(a, b []graph.Status) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func newTestEnvBot(t *testing.T, g fsm.Updater) *reinviteStopsBot {
	t.Helper()
	b, err := newReinviteStops(sessionConfig{callID: "call-1", u: g, n: 1, store: &recordingSink{}, opened: func() {}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stallingSink is storage that falls behind: every write waits for
// release, and the write of the frame "fallback" waits for its own
// release, after announcing that it began.
type stallingSink struct {
	recordingSink
	release, fallbackRelease, fallbackBegan chan struct{}
}

func (s *stallingSink) Write(stream int, p []byte) (int, error) {
	if string(p) == "fallback" {
		close(s.fallbackBegan)
		<-s.fallbackRelease
	} else {
		<-s.release
	}
	return s.recordingSink.Write(stream, p)
}

// TestQueueFullFallbackUnderSlowStorage shows QueueFullFallback's
// mechanism: with storage that falls behind, the writer's queue fills,
// the next frame is written by the frame handler without a lease, and
// Stop drains, flushes and reports notRecording while that write is still
// in progress; the frame lands after the report. (The suite's storage
// is never slow outside a Stop, so the queue never fills there.)
func TestQueueFullFallbackUnderSlowStorage(t *testing.T) {
	ctx := context.Background()
	sink := &stallingSink{release: make(chan struct{}), fallbackRelease: make(chan struct{}), fallbackBegan: make(chan struct{})}
	var reported atomic.Bool
	g := fsm.UpdaterFunc(func(ctx context.Context, call string, st graph.Status, cc string) (graph.Operation, error) {
		if st != graph.StatusRecording {
			reported.Store(true)
		}
		return alwaysCompleted(ctx, call, st, cc)
	})
	b, err := newQueueFull("call-1", g, 1, sink, func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		select {
		case <-sink.fallbackRelease:
		default:
			close(sink.fallbackRelease)
		}
	}()
	if err := b.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	// The writer takes the first frame and stalls in it; queueDepth more
	// fill its queue.
	if err := b.Frame(ctx, 0, []byte("queued")); err != nil {
		t.Fatalf("first frame: %v", err)
	}
	waitFor(t, "the writer to take the first frame", func() bool { return len(b.queues[0]) == 0 })
	for i := 1; i <= queueDepth; i++ {
		if err := b.Frame(ctx, 0, []byte("queued")); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	waitFor(t, "the writer's queue to fill", func() bool { return len(b.queues[0]) == queueDepth })
	fallbackDone := make(chan struct{})
	go func() {
		defer close(fallbackDone)
		_ = b.Frame(ctx, 0, []byte("fallback"))
	}()
	within(t, "the fallback write to begin", sink.fallbackBegan)
	close(sink.release) // storage catches up with the queue
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		if err := b.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	}()
	within(t, "Stop to return while the fallback write is still in progress", stopped)
	if !reported.Load() {
		t.Fatal("Stop returned without reporting notRecording")
	}
	close(sink.fallbackRelease)
	within(t, "the fallback write", fallbackDone)
	w := sink.stream(0)
	if len(w) == 0 || string(w[len(w)-1]) != "fallback" {
		t.Fatalf("storage holds %d writes, the last %q; want the fallback frame written last, after notRecording", len(w), w[len(w)-1:])
	}
	_ = b.Close(ctx)
}

// within fails the test, naming what, if ch does not close in time: the
// watchdog of a step that could hang.
func within(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not happen within 5 s", what)
	}
}

// waitFor polls cond until it holds, for at most 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 5 s for %s", what)
		}
		runtime.Gosched()
	}
}
