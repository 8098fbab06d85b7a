package roundeight

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// The tests here show each row the suite once missed: its mechanism on fakes of Graph and
// storage, so that a miss is the suite's, not a bot that does not do what
// its row says.

// journal is one ordered log of what Graph was sent and what storage got.
type journal struct {
	mu    sync.Mutex
	lines []string
}

func (j *journal) add(format string, args ...any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lines = append(j.lines, fmt.Sprintf(format, args...))
}

func (j *journal) all() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.lines...)
}

// index is where the first line with prefix is, or -1.
func (j *journal) index(prefix string) int {
	for i, l := range j.all() {
		if strings.HasPrefix(l, prefix) {
			return i
		}
	}
	return -1
}

// journalSink stores writes in the journal; onFlush, if set, runs inside
// Flush (media arriving while the recording is finalized).
type journalSink struct {
	j       *journal
	onFlush func()
}

func (s *journalSink) Write(stream int, p []byte) (int, error) {
	s.j.add("write %d %s", stream, p)
	return len(p), nil
}

func (s *journalSink) Flush() error {
	s.j.add("flush")
	if s.onFlush != nil {
		s.onFlush()
	}
	return nil
}

// graphFake answers every request with status (completed unless set) and
// logs it.
func graphFake(j *journal, recording graph.OperationStatus) fsm.Updater {
	return fsm.UpdaterFunc(func(_ context.Context, _ string, st graph.Status, cc string) (graph.Operation, error) {
		j.add("request %s", st)
		op := graph.Operation{ClientContext: cc, Status: graph.OperationCompleted}
		if st == graph.StatusRecording && recording != "" {
			op.Status = recording
		}
		return op, nil
	})
}

// suiteCanary is the suite's canary pattern (properties/scenario.go's
// canaryPattern), copied: the suite finds a frame only where it matches.
var suiteCanary = regexp.MustCompile(`(?i)\bzq[a-z2-7]{6}\b`)

// TestUploadRetryLandsAfterNotRecording: on storage that fails the first
// write, the SDK's retry of a frame written under its lease lands after
// Stop sent notRecording. The suite's Sink once never failed a write, so the
// suite never ran the retry (UploadRetryAfterStop, once missed); the same bot
// on faulty storage is caught (UploadRetryWithStorageFaults).
func TestUploadRetryLandsAfterNotRecording(t *testing.T) {
	ctx := context.Background()
	j := &journal{}
	st := &faultyStorage{storage: &journalSink{j: j}, every: 1}
	b, err := newUploadRetryOn("call-1", graphFake(j, ""), 1, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := b.Frame(ctx, 0, []byte("hello zqinside")); err != nil {
		t.Fatalf("Frame: the SDK accepts a failed write for retry, got %v", err)
	}
	if err := b.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	// Storage is back only now: every retry before this failed, so the
	// one that lands lands after Stop returned (the SDK retries for
	// 15+30+60+120 ms in all).
	st.mu.Lock()
	st.every = 1 << 30
	st.mu.Unlock()
	_ = b.Close(ctx) // waits for the retry to finish
	report, write := j.index("request notRecording"), j.index("write 0 hello zqinside")
	if report < 0 || write < 0 || write < report {
		t.Fatalf("want the retried write after notRecording; journal: %q", j.all())
	}
}

// TestShingleHidesCanaries: the record written for the first frame of a
// recording holds, in its shingles, the canary of a frame heard before
// consent, joined to its neighbours by '_'; the suite's pattern wants a
// word boundary on each side of a canary, and '_' is a word character, so
// it finds only the recorded frame's own canary (ShingleIndexPreRoll's
// once missed).
func TestShingleHidesCanaries(t *testing.T) {
	ctx := context.Background()
	j := &journal{}
	base, err := newFSMBot("call-1", graphFake(j, ""), 1, &journalSink{j: j}, wiring{})
	if err != nil {
		t.Fatal(err)
	}
	b := &shingleBot{fsmBot: base, window: make([][]string, 1)}
	if err := b.Frame(ctx, 0, []byte("hello zqbefore s0;")); !errors.Is(err, fsm.ErrGateClosed) {
		t.Fatalf("frame before consent: got %v, want ErrGateClosed", err)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := b.Frame(ctx, 0, []byte("okay zqinside s0;")); err != nil {
		t.Fatalf("frame in the recording: %v", err)
	}
	lines := j.all()
	rec := lines[len(lines)-1]
	if !strings.Contains(rec, "zqbefore") {
		t.Fatalf("the record holds no pre-consent word: %q", rec)
	}
	found := suiteCanary.FindAllString(rec, -1)
	if len(found) != 1 || found[0] != "zqinside" {
		t.Fatalf("the suite's pattern finds %q in %q; want only the recorded frame's canary", found, rec)
	}
	if loose := regexp.MustCompile(`(?i)zq[a-z2-7]{6}`).FindAllString(rec, -1); len(loose) < 2 {
		t.Fatalf("without word boundaries the pattern should find the pre-consent canary too; found %q", loose)
	}
}

// TestStaleNotificationPersistsConcurrentFrame: a frame that arrives while
// the webhook handles a stale completed notification (delivered here from
// fsm's observer, inside OperationUpdate) is persisted though the gate
// never opened. The suite delivers no frame while OperationUpdate runs
// (OptimisticOnNotification's once missed).
func TestStaleNotificationPersistsConcurrentFrame(t *testing.T) {
	ctx := context.Background()
	j := &journal{}
	var b *optimisticBot
	var inWindow error
	obs := func(e fsm.Event) {
		if e.Kind == fsm.EventUpdate {
			inWindow = b.Frame(ctx, 0, []byte("said zqduring s0;"))
		}
	}
	var err error
	b, err = newOptimisticOn("call-1", graphFake(j, graph.OperationRunning), 1, &journalSink{j: j}, wiring{observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatalf("Start (pending): %v", err)
	}
	stale := graph.Operation{ID: "op-old", ClientContext: "an-earlier-attempt", Status: graph.OperationCompleted}
	if err := b.OperationUpdate(ctx, stale); !errors.Is(err, fsm.ErrStaleUpdate) {
		t.Fatalf("stale update: got %v, want ErrStaleUpdate", err)
	}
	if b.m.Gate().IsOpen() {
		t.Fatal("the gate opened on a stale update")
	}
	if inWindow != nil || j.index("write 0 said zqduring") < 0 {
		t.Fatalf("want the frame that arrived during the stale update persisted (err %v); journal: %q", inWindow, j.all())
	}
	if err := b.Frame(ctx, 0, []byte("later zqafterup s0;")); !errors.Is(err, fsm.ErrGateClosed) {
		t.Fatalf("after the update the flag is down: got %v, want ErrGateClosed", err)
	}
}

// TestFrameDuringHangupFinalizeIsPersisted: a frame that arrives while
// CallEnded finalizes the file (delivered from storage's Flush) is
// persisted after the call ended. The suite delivers frames while the
// hook flushes on Stop and Fail, not on CallEnded
// (HangupFinalizeBeforeClose's once missed).
func TestFrameDuringHangupFinalizeIsPersisted(t *testing.T) {
	ctx := context.Background()
	j := &journal{}
	sink := &journalSink{j: j}
	b, err := newFinalizeOn("call-1", graphFake(j, ""), 1, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := b.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	var during error
	sink.onFlush = func() { during = b.Frame(ctx, 0, []byte("bye zqhangupx s0;")) }
	if err := b.CallEnded(ctx); err != nil {
		t.Fatalf("CallEnded: %v", err)
	}
	if during != nil || j.index("write 0 bye zqhangupx") < 0 {
		t.Fatalf("want the frame that arrived during the finalize persisted (err %v); journal: %q", during, j.all())
	}
	if err := b.Frame(ctx, 0, []byte("gone zqgonexxx s0;")); !errors.Is(err, errCallOver) {
		t.Fatalf("after CallEnded frames are dropped: got %v", err)
	}
}
