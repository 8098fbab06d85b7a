package properties

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/recgate/recgate/fsm"
)

// queueWriterBot admits each frame under a lease, queues it, and releases
// the lease; one writer goroutine writes the queue, asking the gate again
// just before each write (writesUnderLease false), or the frame keeps its
// lease (a Stream per frame) until the writer wrote it (true, correct).
type queueWriterBot struct {
	*referenceBot
	underLease bool
	q          chan queuedWrite
	wg         sync.WaitGroup
	once       sync.Once
}

type queuedWrite struct {
	stream  int
	payload []byte
	lease   fsm.Lease
	from    *fsm.Stream
}

func newQueueWriterBot(env *Env, underLease bool) (*queueWriterBot, error) {
	rb, err := newReferenceBot(env, 0)
	if err != nil {
		return nil, err
	}
	b := &queueWriterBot{referenceBot: rb, underLease: underLease, q: make(chan queuedWrite, 64)}
	b.wg.Go(func() {
		for w := range b.q {
			if b.underLease || b.m.Gate().IsOpen() {
				_, _ = b.sink.Write(w.stream, w.payload)
			}
			w.lease.Release()
			if w.from != nil {
				_ = w.from.Close()
			}
		}
	})
	return b, nil
}

func (b *queueWriterBot) Frame(_ context.Context, stream int, payload []byte) error {
	if stream < 0 || stream >= len(b.streams) {
		return errors.New("no such stream")
	}
	s := b.m.Gate().NewStream()
	lease, err := s.Acquire()
	if err != nil {
		_ = s.Close()
		return err
	}
	w := queuedWrite{stream: stream, payload: append([]byte(nil), payload...), lease: lease, from: s}
	if !b.underLease {
		lease.Release() // "queued is as good as written"
		_ = s.Close()
		w.lease, w.from = fsm.Lease{}, nil
	}
	b.q <- w
	return nil
}

func (b *queueWriterBot) Close(context.Context) error {
	b.once.Do(func() { close(b.q) })
	b.wg.Wait()
	return nil
}

// TestAStopDrawnDuringAWriteMeetsABackgroundWriter: the Stop the suite
// draws "during the first write" of a step of frames also comes during a
// write the bot's own writer goroutine makes, so a bot that hands each
// frame with its lease to a writer has its drain put to the test (no
// warning that none was), and one whose writer writes without a lease,
// after asking the gate, is caught by P2 (notRecording while that write is
// under way), or by P1 when its write lands after the report. Before,
// such a Stop came only during a write made inside a Frame call: the first
// bot always got the warning, and the second was caught only when an
// ordinary Stop met its writer's backlog (round seventeen's
// AdmitThenRecheckGate, 7 runs in 10). The step's next frame waits for
// that Stop as it does when a Frame call's write started it: a frame that
// reached the bot between a CallEnded's start and its closing the gate
// was judged as one that arrived after the call ended.
func TestAStopDrawnDuringAWriteMeetsABackgroundWriter(t *testing.T) {
	t.Parallel()
	correct := RunSuite(func(env *Env) (Bot, error) { return newQueueWriterBot(env, true) }, WithoutNeighbourCall())
	if !correct.Passed {
		t.Fatalf("the suite failed a bot whose writer holds each frame's lease:\n%.4000s", correct.Output)
	}
	if strings.Contains(correct.Output, "no Stop or Fail ran while one of the bot's writes held its lease") {
		t.Fatalf("no drawn Stop met the writer goroutine's writes (want at least one in 100 cases):\n%.2000s", correct.Output)
	}
	// The noninterference replay does not compare a case whose drawn Stop
	// came during the writer goroutine's write (when that write comes is
	// the scheduler's choice, not the media's), so this bot, which
	// persists every frame as it came, passes with the check on too.
	replayed := RunSuite(func(env *Env) (Bot, error) { return newQueueWriterBot(env, true) }, WithoutNeighbourCall(), WithNoninterference())
	if !replayed.Passed {
		t.Fatalf("the suite failed a bot whose writer holds each frame's lease, with WithNoninterference:\n%.4000s", replayed.Output)
	}
	// Those cases are counted, and said, as left out; the others were
	// compared.
	c := replayed.Coverage
	if c.Replayed == 0 || !strings.Contains(c.String(), fmt.Sprintf("noninterference: %d cases replayed and compared, %d replayed but not comparable", c.Replayed, c.NotComparable)) {
		t.Fatalf("the run compared %d replays (%d not comparable), want some, and a coverage line that says so: %s", c.Replayed, c.NotComparable, c)
	}
	if c.NotComparable > 0 && !strings.Contains(replayed.Output, fmt.Sprintf("compared %d replayed cases and left %d out", c.Replayed, c.NotComparable)) {
		t.Fatalf("%d cases were left out of the noninterference check, and the output does not say so:\n%.2000s", c.NotComparable, replayed.Output)
	}
	for i := range 3 {
		v := RunSuite(func(env *Env) (Bot, error) { return newQueueWriterBot(env, false) }, WithoutNeighbourCall())
		if v.Passed || !strings.Contains(v.Output, "P2 EndBeforeReport violated") && !strings.Contains(v.Output, "P1 NoPersistOutsideConfirmedRecording violated") {
			t.Fatalf("run %d: a writer that writes without a lease, after asking the gate, should break P2 (or P1) when the drawn Stop comes during its write; passed=%v:\n%.4000s", i+1, v.Passed, v.Output)
		}
	}
}
