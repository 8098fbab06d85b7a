package properties

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recgate/recgate/fsm"
)

// The bots of the review of the neighbouring call (three correct bots the
// first version failed), each with the test that shows it passes now.

// writerProcess has one writer goroutine for the whole process, fed
// through a bounded queue (a Frame waits while it is full); each job holds
// its call's lease until it is written, so Stop's drain waits for the
// writer.
type writerProcess struct {
	once sync.Once
	jobs chan writerJob
}

type writerJob struct {
	lease  fsm.Lease
	st     *fsm.Stream
	sink   *Sink
	stream int
	p      []byte
}

type writerBot struct {
	*referenceBot
	proc *writerProcess
}

func (p *writerProcess) factory(env *Env) (Bot, error) {
	p.once.Do(func() {
		p.jobs = make(chan writerJob, 4)
		go func() {
			for j := range p.jobs {
				_, _ = j.sink.Write(j.stream, j.p)
				j.lease.Release()
				_ = j.st.Close()
			}
		}()
	})
	ref, err := newReferenceBot(env, 0)
	if err != nil {
		return nil, err
	}
	return &writerBot{referenceBot: ref, proc: p}, nil
}

func (b *writerBot) Frame(ctx context.Context, stream int, payload []byte) error {
	st := b.m.Gate().NewStream()
	lease, err := st.Acquire()
	if err != nil {
		_ = st.Close()
		return errGateClosed
	}
	select {
	case b.proc.jobs <- writerJob{lease: lease, st: st, sink: b.sink, stream: stream, p: append([]byte(nil), payload...)}:
		return nil
	case <-ctx.Done():
		lease.Release()
		_ = st.Close()
		return ctx.Err()
	}
}

// TestOneWriterForTheProcessWaitsOutAStall: with storage stalls, the
// neighbouring call's frames no longer come while a stall holds the call
// under test's write (a shared writer blocked them behind it, and the
// suite called the bot hung).
func TestOneWriterForTheProcessWaitsOutAStall(t *testing.T) {
	t.Parallel() // its own bots and process state; the suite runs beside other suites, as botrounds' rows do
	var p writerProcess
	if v := RunSuite(p.factory, WithStorageStalls()); !v.Passed {
		t.Fatalf("a process with one writer for every call failed with storage stalls:\n%.4000s", v.Output)
	}
}

// lazyStartBot records a call by itself, from the first media frame, on a
// context of its own; here only the neighbouring call.
type lazyStartBot struct {
	*referenceBot
	lazy    bool
	started atomic.Bool
}

func (b *lazyStartBot) Frame(ctx context.Context, stream int, payload []byte) error {
	if b.lazy && b.started.CompareAndSwap(false, true) {
		_, _ = b.m.Start(context.Background())
		return errGateClosed // the frame that set it off is not recorded
	}
	return b.referenceBot.Frame(ctx, stream, payload)
}

// TestAFrameThatStartsARecordingIsNotHeldBack: the reply to a request a
// neighbour frame's own handler sends lands at once (it waited a third of
// the timeout for the frame that sent it, and with a short timeout the
// suite called the bot hung). No reply waits out the hold-back limit: the
// test counts those waits, where it once timed each Frame call against
// 100 ms, which a loaded machine exceeded now and then.
func TestAFrameThatStartsARecordingIsNotHeldBack(t *testing.T) {
	t.Parallel() // its own bots and process state; the suite runs beside other suites, as botrounds' rows do
	var (
		mu         sync.Mutex
		neighbours []*Env
	)
	v := RunSuite(func(env *Env) (Bot, error) {
		ref, err := newReferenceBot(env, 0)
		if err != nil {
			return nil, err
		}
		if env.neighbour {
			mu.Lock()
			neighbours = append(neighbours, env)
			mu.Unlock()
		}
		return &lazyStartBot{referenceBot: ref, lazy: env.neighbour}, nil
	}, WithTimeout(300*time.Millisecond))
	if !v.Passed {
		t.Fatalf("a bot that starts the neighbouring call's recording from its first frame failed:\n%.4000s", v.Output)
	}
	mu.Lock()
	defer mu.Unlock()
	held := int64(0)
	for _, env := range neighbours {
		held += env.repliesHeldOut.Load()
	}
	if len(neighbours) == 0 {
		t.Fatal("the suite built no neighbouring call")
	}
	if held > 0 {
		t.Errorf("%d replies of the neighbouring calls (%d calls) waited out the hold-back limit: a reply was held back for the frame that asked for it", held, len(neighbours))
	}
}

// idempotentRegistry joins a call by ID (get or add) and forgets it on
// CallEnded, the usual shape of a process's call registry.
type idempotentRegistry struct {
	mu    sync.Mutex
	calls map[string]Bot
}

type registeredBot struct {
	*referenceBot
	reg *idempotentRegistry
	id  string
}

func (g *idempotentRegistry) factory(env *Env) (Bot, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.calls == nil {
		g.calls = make(map[string]Bot)
	}
	if b, ok := g.calls[env.CallID]; ok {
		return b, nil
	}
	ref, err := newReferenceBot(env, 0)
	if err != nil {
		return nil, err
	}
	b := &registeredBot{referenceBot: ref, reg: g, id: env.CallID}
	g.calls[env.CallID] = b
	return b, nil
}

func (b *registeredBot) CallEnded(ctx context.Context) error {
	err := b.referenceBot.CallEnded(ctx)
	b.reg.mu.Lock()
	delete(b.reg.calls, b.id)
	b.reg.mu.Unlock()
	return err
}

// TestTheNoninterferenceReplayPlaysNewCalls: the replay's calls have IDs
// of their own, so a registry that still holds the first run's calls (the
// case had no CallEnded) gives the replay new bots (it handed back the
// first run's bot, and the replay failed P9).
func TestTheNoninterferenceReplayPlaysNewCalls(t *testing.T) {
	t.Parallel() // its own bots and process state; the suite runs beside other suites, as botrounds' rows do
	var g idempotentRegistry
	if v := RunSuite(g.factory, WithNoninterference()); !v.Passed {
		t.Fatalf("an idempotent call registry failed under WithNoninterference:\n%.4000s", v.Output)
	}
}
