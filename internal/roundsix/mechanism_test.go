package roundsix

import (
	"bytes"
	"context"
	"runtime"
	"sync"
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

func (s *recordingSink) last(stream int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.writes[stream]
	if len(w) == 0 {
		return nil
	}
	return w[len(w)-1]
}

// alwaysCompleted is a Graph that accepts every request at once.
var alwaysCompleted = fsm.UpdaterFunc(func(_ context.Context, _ string, _ graph.Status, cc string) (graph.Operation, error) {
	return graph.Operation{ClientContext: cc, Status: graph.OperationCompleted}, nil
})

// within fails the test, naming what, if ch does not close or send in
// time: the watchdog of a step that could hang.
func within(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not happen within 5 s", what)
	}
}

// TestMixTableAcrossStop plays, by hand, the interleaving the suite does
// not reach (MixClearedOnGateClose's Miss): a frame of stream 0 takes its
// lease in recording 1, a Stop closes the gate (the table is emptied), the
// frame then refills the table and is written, Stop returns, recording 2
// begins, and stream 1's first frame is mixed. Emptied at the gate's
// close, the mix carries stream 0's frame from recording 1 into recording
// 2 (the bug is real); emptied after the drain (MixCurrentOnly), it does
// not.
func TestMixTableAcrossStop(t *testing.T) {
	for _, c := range []struct {
		name    string
		clearOn func(fsm.Event) bool
		leaks   bool
	}{
		{"MixClearedOnGateClose", clearOnGateClose, true},
		{"MixCurrentOnly", clearOnDrained, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			sink := &recordingSink{}
			b, err := newMixCurrent("call-1", alwaysCompleted, 2, sink, func() {}, false, c.clearOn)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Start(ctx); err != nil {
				t.Fatalf("Start: %v", err)
			}
			acquired, resume := make(chan struct{}), make(chan struct{})
			b.afterAcquire = func() { close(acquired); <-resume }
			gateClosed := make(chan struct{})
			var once sync.Once
			b.cleared = func() { once.Do(func() { close(gateClosed) }) }

			frameDone := make(chan struct{})
			go func() {
				defer close(frameDone)
				_ = b.Frame(ctx, 0, []byte("heard-in-recording-1"))
			}()
			within(t, "stream 0's frame taking its lease", acquired)
			stopDone := make(chan struct{})
			go func() {
				defer close(stopDone)
				if err := b.Stop(ctx); err != nil {
					t.Errorf("Stop: %v", err)
				}
			}()
			if c.leaks {
				// The table is emptied when the gate closes, while the
				// frame still holds its lease.
				within(t, "the gate's close emptying the table", gateClosed)
			} else {
				// The same moment, seen from outside: the gate has closed
				// (Stop closes it before it waits for the lease).
				deadline := time.Now().Add(5 * time.Second)
				for b.m.Gate().IsOpen() {
					if time.Now().After(deadline) {
						t.Fatal("Stop did not close the gate within 5 s")
					}
					runtime.Gosched()
				}
			}
			close(resume)
			within(t, "the frame's write", frameDone)
			within(t, "Stop", stopDone)
			b.afterAcquire, b.cleared = nil, nil

			if err := b.Start(ctx); err != nil {
				t.Fatalf("second Start: %v", err)
			}
			if err := b.Frame(ctx, 1, []byte("heard-in-recording-2")); err != nil {
				t.Fatalf("Frame in recording 2: %v", err)
			}
			got := sink.last(1)
			carried := bytes.Contains(got, []byte("heard-in-recording-1"))
			if carried != c.leaks {
				t.Fatalf("recording 2's first mix is %q: carries recording 1's frame = %v, want %v", got, carried, c.leaks)
			}
		})
	}
}
