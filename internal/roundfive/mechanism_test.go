package roundfive

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recgate/recgate/graph"
)

// The rows the suite misses (or catches only sometimes) are bugs all the
// same: these tests show each mechanism on fakes of Graph and storage,
// outside the suite, so a Miss is a miss of the suite and not a bot that
// does not do what its row says.

// watchdog bounds each wait of these tests.
const watchdog = 5 * time.Second

// ledger is Graph and storage in one: it logs every request and every
// write in the order they happen, and keeps what was written.
type ledger struct {
	mu     sync.Mutex
	log    []string
	stored map[int][]byte
	// onWrite, if set, runs before a write is logged (slow storage).
	onWrite func(stream int)
	// onRequest, if set, runs while a request is out (media keeps coming).
	onRequest func(status graph.Status)
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
	l.mu.Lock()
	defer l.mu.Unlock()
	l.log = append(l.log, fmt.Sprintf("write %d", stream))
	if l.stored == nil {
		l.stored = map[int][]byte{}
	}
	l.stored[stream] = append(l.stored[stream], p...)
	return len(p), nil
}

func (l *ledger) Flush() error { l.add("flush"); return nil }

func (l *ledger) UpdateRecordingStatus(_ context.Context, _ string, status graph.Status, cc string) (graph.Operation, error) {
	l.add("request " + string(status))
	if l.onRequest != nil {
		l.onRequest(status)
	}
	return graph.Operation{ODataType: graph.OperationODataType, ID: "op-" + cc, ClientContext: cc, Status: graph.OperationCompleted}, nil
}

func (l *ledger) call(streams int) call {
	return call{id: "2b1c9f0e-5d1a-4c55-8a43-6d9f1f0a7c21", streams: streams, updater: l, sink: l, gateOpened: func() {}}
}

// index is the position of the first entry equal to e, or -1.
func index(log []string, e string) int { return slices.Index(log, e) }

// waitFor waits until cond holds, or fails naming what did not happen.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(watchdog)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within %v", what, watchdog)
		}
		time.Sleep(2 * time.Millisecond) // the bot's own timer decides when; nothing to wait on
	}
}

// TestMixedJSONLeadInHoldsPreConsentAudio: the frame heard before consent
// is in storage, base64 in the lead-in line, and nowhere in plain text.
func TestMixedJSONLeadInHoldsPreConsentAudio(t *testing.T) {
	l := &ledger{}
	f, err := newFSMBot(l.call(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &mixedJSON{fsmBot: f, lead: make([][][]byte, 1)}
	ctx := context.Background()
	before, after := []byte("said before consent zqbefore"), []byte("said after consent zqaftera")
	if err := b.Frame(ctx, 0, before); err == nil {
		t.Fatal("the gate is closed before Start: the frame must be refused")
	}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Frame(ctx, 0, after); err != nil {
		t.Fatal(err)
	}
	stored := l.stored[0]
	if bytes.Contains(stored, []byte("zqbefore")) || !bytes.Contains(stored, []byte("zqaftera")) {
		t.Fatalf("the pre-consent words should be stored only as base64, the recorded ones in plain text: %s", stored)
	}
	sc := bufio.NewScanner(bytes.NewReader(stored))
	var lines []record
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, r)
	}
	if len(lines) != 2 || !bytes.Equal(lines[0].Audio, before) || lines[0].Caption != "" {
		t.Fatalf("the first stored line should be the pre-consent frame's audio, with no caption: %+v", lines)
	}
}

// TestSlowTickerTailLandsAfterTheReport: the tail of a recording is
// written by the periodic uploader after notRecording (here with a 20 ms
// period instead of 5 s).
func TestSlowTickerTailLandsAfterTheReport(t *testing.T) {
	l := &ledger{}
	b, err := newSlowTicker(l.call(1), 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Frame(ctx, 0, []byte("last words")); err != nil { // under the batch size: held
		t.Fatal(err)
	}
	if err := b.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the tail's write", func() bool { return index(l.entries(), "write 0") >= 0 })
	log := l.entries()
	if w, r := index(log, "write 0"), index(log, "request notRecording"); r < 0 || w < r {
		t.Fatalf("the tail should land after notRecording: %v", log)
	}
}

// TestHookFlushTimeoutReportsBeforeSlowStorage: with storage slower than
// the hook's wait, notRecording is sent while the flush is still being
// written, and the flush lands after it.
func TestHookFlushTimeoutReportsBeforeSlowStorage(t *testing.T) {
	l := &ledger{}
	began, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	l.onWrite = func(int) {
		once.Do(func() { close(began) })
		<-release
	}
	b, err := newHookFlushTimeout(l.call(1), 2*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Frame(ctx, 0, []byte("last words")); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- b.Stop(ctx) }()
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(watchdog):
		close(release)
		t.Fatalf("Stop did not return within %v while storage was stalled: the hook waited for the flush", watchdog)
	}
	select {
	case <-began:
	case <-time.After(watchdog):
		t.Fatalf("the flush never began writing")
	}
	close(release)
	waitFor(t, "the flush's write", func() bool { return index(l.entries(), "write 0") >= 0 })
	log := l.entries()
	if w, r := index(log, "write 0"), index(log, "request notRecording"); r < 0 || w < r {
		t.Fatalf("the flushed frame should land after notRecording: %v", log)
	}
}

// TestGoroutinePerFrameWritesAFrameFromBeforeConsent: a frame that arrives
// while recording is in flight is written, if its goroutine runs after
// Graph's completed.
func TestGoroutinePerFrameWritesAFrameFromBeforeConsent(t *testing.T) {
	l := &ledger{}
	f, err := newFSMBot(l.call(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	var queued []func()
	b := &goroutinePerFrame{fsmBot: f, launch: func(fn func()) { queued = append(queued, fn) }}
	ctx := context.Background()
	l.onRequest = func(s graph.Status) {
		if s == graph.StatusRecording {
			_ = b.Frame(ctx, 0, []byte("heard while recording was in flight"))
		}
	}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for _, fn := range queued { // the goroutines get to run now
		fn()
	}
	if got := string(l.stored[0]); !strings.Contains(got, "in flight") {
		t.Fatalf("the frame from before Graph's completed should be stored: %q (log %v)", got, l.entries())
	}
}
