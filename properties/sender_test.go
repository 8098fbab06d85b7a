package properties

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// oneSender sends every Graph request from one goroutine, as bots that
// pace their requests for Graph's per-application throttling do; a
// handler hands it the request, with its own context, and waits.
type oneSender struct {
	next fsm.Updater
	// detached: the sender bounds each request with a context of its own
	// (a job carries no context), and the handler still waits for it.
	detached bool
	jobs     chan senderJob
	quit     chan struct{}
	done     sync.WaitGroup
}

type senderJob struct {
	ctx    context.Context
	status graph.Status
	cc     string
	callID string
	reply  chan senderReply
}

type senderReply struct {
	op  graph.Operation
	err error
}

func newOneSender(next fsm.Updater, detached bool) *oneSender {
	s := &oneSender{next: next, detached: detached, jobs: make(chan senderJob), quit: make(chan struct{})}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		for {
			select {
			case <-s.quit:
				return
			case j := <-s.jobs:
				ctx, cancel := j.ctx, context.CancelFunc(func() {})
				if s.detached {
					ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
				}
				op, err := s.next.UpdateRecordingStatus(ctx, j.callID, j.status, j.cc)
				cancel()
				j.reply <- senderReply{op, err}
			}
		}
	}()
	return s
}

func (s *oneSender) UpdateRecordingStatus(ctx context.Context, callID string, status graph.Status, cc string) (graph.Operation, error) {
	j := senderJob{ctx: ctx, status: status, cc: cc, callID: callID, reply: make(chan senderReply, 1)}
	select {
	case s.jobs <- j:
	case <-ctx.Done():
		return graph.Operation{}, ctx.Err()
	case <-s.quit:
		return graph.Operation{}, errors.New("the sender is shut down")
	}
	r := <-j.reply
	return r.op, r.err
}

func (s *oneSender) close() {
	close(s.quit)
	s.done.Wait()
}

// senderBot is the reference wiring over oneSender; with doubleReport,
// its Stop sends notRecording once more after the machine's Stop
// succeeded ("the red dot sticks"): two reports in one Stop.
type senderBot struct {
	*referenceBot
	sender       *oneSender
	env          *Env
	doubleReport bool
	reports      int
}

func newSenderBot(doubleReport bool) Factory { return newSenderBotOver(doubleReport, false) }

func newSenderBotOver(doubleReport, detached bool) Factory {
	return func(env *Env) (Bot, error) {
		s := newOneSender(env.Updater, detached)
		b, err := newReferenceBotOver(env, s, 0)
		if err != nil {
			s.close()
			return nil, err
		}
		return &senderBot{referenceBot: b, sender: s, env: env, doubleReport: doubleReport}, nil
	}
}

func (b *senderBot) Stop(ctx context.Context) error {
	if err := b.m.Stop(ctx); err != nil || !b.doubleReport {
		return err
	}
	b.reports++
	_, err := b.sender.UpdateRecordingStatus(ctx, b.env.CallID, graph.StatusNotRecording, fmt.Sprintf("red-dot-again-%d", b.reports))
	return err
}

func (b *senderBot) Close(context.Context) error {
	b.sender.close()
	return nil
}

// A request sent from a bot's own sender goroutine with the context of
// the handler that waits for it is that handler's: a second report in one
// Stop breaks P3 there as it does from the handler itself. (Before, every
// such request counted as no call's, and the suite passed this bot.)
func TestRequestsFromASenderGoroutineAreTheHandlers(t *testing.T) {
	if v := RunSuite(newSenderBot(false)); !v.Passed {
		t.Fatalf("the reference wiring over one sender goroutine failed:\n%.3000s", v.Output)
	}
	// One case, so that nothing else (a hang-up beside the report, P5)
	// can name the second report first.
	sc := scenario{streams: 1, steps: []step{
		{kind: stepStart, replies: []reply{replyCompleted}},
		{kind: stepFrames, frames: []int{0}},
		{kind: stepStop, replies: []reply{replyCompleted}},
	}}
	vs, failure := playScenario(t, sc, newSenderBot(true))
	if failure != "" || len(vs) == 0 || vs[0].Invariant.ID != "P3" {
		t.Fatalf("two reports in one Stop, sent through a sender goroutine, were not caught as P3: %v %s", vs, failure)
	}
}

// A sender goroutine that sends on a context of its own while the
// handler waits for its reply sends the handler's request: a second
// report in one Stop breaks P3 as well. (Before, such a request was no
// call's, and the suite passed this bot.)
func TestRequestsFromADetachedSenderAreTheWaitingHandlers(t *testing.T) {
	if v := RunSuite(newSenderBotOver(false, true)); !v.Passed {
		t.Fatalf("the reference wiring over a detached sender goroutine failed:\n%.3000s", v.Output)
	}
	sc := scenario{streams: 1, steps: []step{
		{kind: stepStart, replies: []reply{replyCompleted}},
		{kind: stepFrames, frames: []int{0}},
		{kind: stepStop, replies: []reply{replyCompleted}},
	}}
	vs, failure := playScenario(t, sc, newSenderBotOver(true, true))
	if failure != "" || len(vs) == 0 || vs[0].Invariant.ID != "P3" {
		t.Fatalf("two reports in one Stop, sent through a detached sender goroutine, were not caught as P3: %v %s", vs, failure)
	}
}

// madeFor: a running call's context, or one derived from it, is the
// call's; once the call returned, or with its deadline stripped
// (context.WithoutCancel, a Start run in the background), it is no call's.
func TestMadeFor(t *testing.T) {
	live := new(atomic.Bool)
	live.Store(true)
	env := newEnv(suiteCallID, 1)
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), botCallKey{env}, live), time.Minute)
	defer cancel()
	derived, cancelDerived := context.WithCancel(ctx)
	defer cancelDerived()
	for _, c := range []struct {
		name string
		ctx  context.Context
		want bool
	}{
		{"the call's context", ctx, true},
		{"derived from it", derived, true},
		{"its deadline stripped", context.WithoutCancel(ctx), false},
		{"another context", context.Background(), false},
	} {
		if got := madeFor(c.ctx, env); got != c.want {
			t.Errorf("%s: madeFor %v, want %v", c.name, got, c.want)
		}
	}
	if madeFor(ctx, newEnv(suiteCallID, 1)) {
		t.Error("a call's context is another call's")
	}
	live.Store(false)
	if madeFor(ctx, env) {
		t.Error("the context of a call that returned is still the call's")
	}
}
