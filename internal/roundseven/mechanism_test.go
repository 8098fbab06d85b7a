package roundseven

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

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
// not in the bytes persisted (the suite, which reads plain text, base64
// and hex, sees nothing there), but inflating the member gives them back:
// the bug is real, and only the tracer misses it.
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
