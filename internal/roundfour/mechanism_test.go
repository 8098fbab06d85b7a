package roundfour

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// The rows the suite misses (or catches only sometimes) are bugs all the
// same: these tests show each mechanism on fakes of Graph and storage,
// outside the suite, so a Miss is a miss of the suite and not a bot that
// does not do what its row says.

// watchdog bounds each wait of these tests.
const watchdog = 5 * time.Second

// ledger is Graph and storage in one: it logs every request and every
// write in the order they happen.
type ledger struct {
	mu  sync.Mutex
	log []string
	// answer is Graph's answer to recording (notRecording and failed are
	// always completed).
	answer graph.OperationStatus
	// onWrite, if set, runs before a write on stream is logged.
	onWrite func(stream int)
}

func (l *ledger) add(entry string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.log = append(l.log, entry)
}

func (l *ledger) entries() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.log)
}

func (l *ledger) Write(stream int, p []byte) (int, error) {
	if l.onWrite != nil {
		l.onWrite(stream)
	}
	l.add(fmt.Sprintf("write %d", stream))
	return len(p), nil
}

func (l *ledger) Flush() error { l.add("flush"); return nil }

func (l *ledger) UpdateRecordingStatus(_ context.Context, _ string, status graph.Status, cc string) (graph.Operation, error) {
	l.add("request " + string(status))
	st := graph.OperationCompleted
	if status == graph.StatusRecording && l.answer != "" {
		st = l.answer
	}
	return graph.Operation{ODataType: graph.OperationODataType, ID: "op-" + cc, ClientContext: cc, Status: st}, nil
}

func (l *ledger) call(streams int) call {
	return call{id: "2b1c9f0e-5d1a-4c55-8a43-6d9f1f0a7c21", streams: streams, updater: l, sink: l, gateOpened: func() {}}
}

// index is the position of the first entry equal to e, or -1.
func index(log []string, e string) int { return slices.Index(log, e) }

// waitFor waits until cond holds, checking whenever the ledger may have
// changed, or fails naming what did not happen.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(watchdog)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within %v", what, watchdog)
		}
		time.Sleep(5 * time.Millisecond) // the bot's own timer decides when; nothing to wait on
	}
}

// TestDebouncedTailLandsAfterTheReport: the DebouncedFlush bot writes its
// last batch after notRecording; done right, before.
func TestDebouncedTailLandsAfterTheReport(t *testing.T) {
	for _, rightly := range []bool{false, true} {
		t.Run(fmt.Sprintf("rightly=%v", rightly), func(t *testing.T) {
			t.Parallel()
			l := &ledger{}
			b, err := newDebounced(l.call(1), rightly)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if err := b.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if err := b.Frame(ctx, 0, []byte("first words")); err != nil { // under batchLimit: batched
				t.Fatal(err)
			}
			if err := b.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the batch's write", func() bool { return index(l.entries(), "write 0") >= 0 })
			log := l.entries()
			write, report := index(log, "write 0"), index(log, "request notRecording")
			if rightly && write > report {
				t.Fatalf("done right, the batch must be written before notRecording: %v", log)
			}
			if !rightly && write < report {
				t.Fatalf("the buggy bot should write its batch after notRecording (its timer fires %v later): %v", debounceDelay, log)
			}
		})
	}
}

// TestPendingFallbackOpensWithoutGraph: Graph answered running and never
// completed, and the bot's gate opens all the same.
func TestPendingFallbackOpensWithoutGraph(t *testing.T) {
	l := &ledger{answer: graph.OperationRunning}
	c := l.call(1)
	opened := make(chan struct{})
	var once sync.Once
	c.gateOpened = func() { once.Do(func() { close(opened) }) }
	fb, err := newFSMBot(c, sinkFlushHook(l), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &pendingFallback{fsmBot: fb}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b.GateOpen() {
		t.Fatal("the gate opened on the running reply itself: that is fsm's bug, not the bot's")
	}
	select {
	case <-opened:
	case <-time.After(watchdog):
		t.Fatalf("the gate did not open within %v of a running reply (the fallback is %v)", watchdog, fallbackDelay)
	}
	if log := l.entries(); !slices.Equal(log, []string{"request recording"}) {
		t.Fatalf("Graph got %v; the gate opened with no completed from it", log)
	}
}

// TestCrossCallFramesGoToTheOtherCall: before the call under test asked to
// record, its stream-0 frames are recorded into the other call's storage;
// keyed by call and MSI they are dropped.
func TestCrossCallFramesGoToTheOtherCall(t *testing.T) {
	for _, keyed := range []bool{false, true} {
		t.Run(fmt.Sprintf("keyed=%v", keyed), func(t *testing.T) {
			l := &ledger{}
			var other bytes.Buffer
			b, err := newTwoCallBot(l.call(2), keyed, &other)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = b.Close(context.Background()) }()
			err = b.Frame(context.Background(), 0, []byte("said before consent"))
			switch {
			case keyed && (!errors.Is(err, fsm.ErrGateClosed) || other.Len() > 0):
				t.Fatalf("keyed routes must drop the frame at the closed gate: err %v, other call's storage %q", err, other.String())
			case !keyed && other.String() != "said before consent":
				t.Fatalf("the MSI-keyed route should send the frame to the other call (err %v), it holds %q", err, other.String())
			}
			if log := l.entries(); len(log) > 0 {
				t.Fatalf("nothing of the call under test should have happened: %v", log)
			}
		})
	}
}

// TestTeeCopyCanLandAfterTheReport: the debug copy is written after the
// gated write released its lease, so a Stop does not wait for it: held in
// the copy, the frame's goroutine lets Stop report first.
func TestTeeCopyCanLandAfterTheReport(t *testing.T) {
	l := &ledger{}
	copyBegan, release := make(chan struct{}), make(chan struct{})
	l.onWrite = func(stream int) {
		if stream == 1 { // the debug copy of stream 0 (one stream: copies on 1)
			close(copyBegan)
			<-release
		}
	}
	b, err := newTeeAfterGate(l.call(1))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	frameDone := make(chan error, 1)
	go func() { frameDone <- b.Frame(ctx, 0, []byte("last words")) }()
	select {
	case <-copyBegan:
	case <-time.After(watchdog):
		t.Fatalf("the debug copy's write did not begin within %v", watchdog)
	}
	stopDone := make(chan error, 1)
	go func() { stopDone <- b.Stop(ctx) }()
	select {
	case err := <-stopDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(watchdog):
		close(release)
		t.Fatalf("Stop did not return within %v while the copy was being written: it waited for it, so the copy cannot land after the report", watchdog)
	}
	close(release)
	select {
	case <-frameDone:
	case <-time.After(watchdog):
		t.Fatalf("Frame did not return within %v", watchdog)
	}
	log := l.entries()
	if report, cp := index(log, "request notRecording"), index(log, "write 1"); report < 0 || cp < report {
		t.Fatalf("the copy should land after notRecording: %v", log)
	}
}
