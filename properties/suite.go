package properties

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/recgate/recgate/graph"
)

// Bot is the bot wiring under test: the handlers a Teams media bot runs
// for each event. Errors are expected (a refused Start, a frame dropped
// outside a recording) and are not failures; broken invariants are.
type Bot interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Fail(ctx context.Context) error
	// OperationUpdate delivers Graph's later notification about a pending
	// operation.
	OperationUpdate(ctx context.Context, op graph.Operation) error
	// Frame is one media frame arriving on stream; the bot persists it to
	// env.Sink only if its gate allows.
	Frame(ctx context.Context, stream int, payload []byte) error
	CallEnded(ctx context.Context) error
}

// GateReporter is optional: a bot that can say whether its gate is open
// lets the suite check P4 and P5 on the gate itself, not only on bytes.
type GateReporter interface {
	GateOpen() bool
}

// Closer is optional: a bot with background work (a writer goroutine, a
// batching queue) finishes it in Close, and the suite judges every write
// that lands until Close returns and for a short grace period after.
type Closer interface {
	Close(ctx context.Context) error
}

// Introspector is optional: a bot whose machine can be introspected lets
// the suite check that introspection sends nothing (P3).
type Introspector interface {
	Introspect()
}

// Factory builds the bot under test around the suite's environment: its
// Graph (env.Updater) and its storage (env.Sink).
type Factory func(env *Env) (Bot, error)

// Check runs the property suite against the bots newBot builds: rapid
// draws Graph's replies and the bot's events, and every invariant is
// checked on every event. A failure shrinks to a short sequence of events.
func Check(t *testing.T, newBot Factory) {
	t.Helper()
	rapid.Check(t, func(rt *rapid.T) { run(rt, newBot) })
}

// Fuzz is Check for go test -fuzz:
//
//	func FuzzMyBot(f *testing.F) { f.Fuzz(properties.Fuzz(newMyBot)) }
func Fuzz(newBot Factory) func(*testing.T, []byte) {
	return rapid.MakeFuzz(func(rt *rapid.T) { run(rt, newBot) })
}

// CheckT runs one drawn scenario on rapid's T; Check and Fuzz wrap it, and
// callers with their own rapid.Check loop may use it directly.
func CheckT(rt *rapid.T, newBot Factory) { run(rt, newBot) }

const suiteCallID = "57dab8b1-894c-409a-b240-bd8beae78896"

var outcomes = []string{"completed", "pending", "failed", "429", "503", "504", "timeout", "8506", "terminated"}

func drawReply(rt *rapid.T, label string) reply {
	switch rapid.SampledFrom(outcomes).Draw(rt, label) {
	case "completed":
		return reply{outcome: OutcomeCompleted}
	case "pending":
		return reply{outcome: OutcomePending}
	case "failed":
		return reply{outcome: OutcomeFailed}
	case "429":
		return reply{outcome: OutcomeError, err: &graph.Error{StatusCode: 429, Code: "TooManyRequests", RetryAfter: time.Second}}
	case "503":
		return reply{outcome: OutcomeError, err: &graph.Error{StatusCode: 503, Code: "ServiceUnavailable"}}
	case "504":
		return reply{outcome: OutcomeError, err: &graph.Error{StatusCode: 504, Code: "GatewayTimeout"}}
	case "timeout":
		return reply{outcome: OutcomeError, err: fmt.Errorf("graph: %w", context.DeadlineExceeded)}
	case "8506":
		return reply{outcome: OutcomeError, err: &graph.Error{StatusCode: 403, Code: graph.CodeNonComplianceCall, Message: "API call not allowed for non-Compliance Recording call"}}
	default:
		return reply{outcome: OutcomeError, err: &graph.Error{StatusCode: 404, Code: "8501", Message: "call terminated"}}
	}
}

var botEvents = []string{"start", "start", "frame", "frame", "frame", "stop", "fail", "update", "callEnded", "introspect"}

func run(rt *rapid.T, newBot Factory) {
	streams := rapid.IntRange(1, 3).Draw(rt, "streams")
	env := newEnv(suiteCallID, streams)
	bot, err := newBot(env)
	if err != nil {
		rt.Fatalf("the bot factory failed: %v", err)
	}
	ctx := context.Background()

	var bg sync.WaitGroup
	defer bg.Wait()
	var bgErr error
	var bgMu sync.Mutex
	env.interrupt = func(what string) {
		// Run the bot event concurrently and give it time to finish; a
		// correct bot makes it wait (for the lease, or for the lock).
		env.observe(Event{Kind: EvAttempt, Label: "concurrent " + what})
		done := make(chan struct{})
		bg.Add(1)
		go func() {
			defer bg.Done()
			defer close(done)
			defer func() {
				if p := recover(); p != nil {
					bgMu.Lock()
					bgErr = fmt.Errorf("the bot panicked on a concurrent %s: %v", what, p)
					bgMu.Unlock()
				}
			}()
			switch what {
			case "start":
				_ = bot.Start(ctx)
			case "stop":
				_ = bot.Stop(ctx)
			case "fail":
				_ = bot.Fail(ctx)
			case "callEnded":
				env.observe(Event{Kind: EvCallEnded})
				_ = bot.CallEnded(ctx)
			}
		}()
		select {
		case <-done:
		case <-time.After(env.wait):
		}
	}

	steps := rapid.IntRange(1, 30).Draw(rt, "steps")
	ended := false
	for i := 0; i < steps; i++ {
		ev := rapid.SampledFrom(botEvents).Draw(rt, fmt.Sprintf("event %d", i))
		var step func() error
		switch ev {
		case "start":
			r := drawReply(rt, fmt.Sprintf("event %d: Graph answers recording", i))
			if rapid.IntRange(0, 3).Draw(rt, fmt.Sprintf("event %d: concurrent while in flight", i)) == 0 {
				r.interrupt = rapid.SampledFrom([]string{"callEnded", "stop", "start"}).Draw(rt, fmt.Sprintf("event %d: which", i))
			}
			env.Updater.push(r)
			step = func() error { return bot.Start(ctx) }
		case "stop", "fail":
			env.Updater.push(drawReply(rt, fmt.Sprintf("event %d: Graph answers the report", i)))
			step = func() error {
				if ev == "stop" {
					return bot.Stop(ctx)
				}
				return bot.Fail(ctx)
			}
		case "update":
			st := rapid.SampledFrom([]graph.OperationStatus{graph.OperationCompleted, graph.OperationFailed, graph.OperationRunning}).Draw(rt, fmt.Sprintf("event %d: update status", i))
			step = func() error {
				op, real := env.Updater.pendingUpdate(st)
				if real {
					env.observe(Event{Kind: EvUpdate, Outcome: map[graph.OperationStatus]Outcome{graph.OperationCompleted: OutcomeCompleted, graph.OperationFailed: OutcomeFailed, graph.OperationRunning: OutcomePending}[st]})
				}
				return bot.OperationUpdate(ctx, op)
			}
		case "frame":
			stream := rapid.IntRange(0, streams-1).Draw(rt, fmt.Sprintf("event %d: stream", i))
			if rapid.IntRange(0, 9).Draw(rt, fmt.Sprintf("event %d: concurrent while writing", i)) == 0 {
				env.Sink.mu.Lock()
				env.Sink.interruptNext = rapid.SampledFrom([]string{"stop", "fail"}).Draw(rt, fmt.Sprintf("event %d: which", i))
				env.Sink.mu.Unlock()
			}
			payload := []byte(fmt.Sprintf("frame %d on stream %d;", i, stream))
			step = func() error { return bot.Frame(ctx, stream, payload) }
		case "callEnded":
			step = func() error {
				if !ended {
					env.observe(Event{Kind: EvCallEnded})
				}
				ended = true
				return bot.CallEnded(ctx)
			}
		case "introspect":
			in, ok := bot.(Introspector)
			if !ok {
				continue
			}
			step = func() error {
				env.observe(Event{Kind: EvIntrospect, Label: "begin"})
				in.Introspect()
				env.observe(Event{Kind: EvIntrospect, Label: "end"})
				return nil
			}
		}
		env.observe(Event{Kind: EvAttempt, Label: ev})
		_ = step()
		env.Sink.mu.Lock()
		env.Sink.interruptNext = ""
		env.Sink.mu.Unlock()
		// Look at the gate at once, while an event that ran concurrently
		// may still be waiting for the bot's lock, and again after it.
		gate, reports := bot.(GateReporter)
		if reports && gate.GateOpen() {
			env.observe(Event{Kind: EvGateOpen})
		}
		bg.Wait() // whatever ran concurrently finishes before the next event
		// A drawn reply belongs to its event: one the event did not use (a
		// Start refused before sending, say) must not answer a later one.
		env.Updater.clear()
		if reports && gate.GateOpen() {
			env.observe(Event{Kind: EvGateOpen})
		}
		bgMu.Lock()
		if bgErr != nil {
			rt.Fatalf("%v", bgErr)
		}
		bgMu.Unlock()
		if vs := env.violations(); len(vs) > 0 {
			rt.Fatalf("%s\nevents so far:\n%s", describe(vs), describeEvents(env.events()))
		}
	}
}

func describe(vs []Violation) string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "%s\n  rule: %s\n", v.Error(), v.Invariant.Rule)
	}
	return b.String()
}

func describeEvents(es []Event) string {
	var b strings.Builder
	for i, e := range es {
		fmt.Fprintf(&b, "  %2d %s\n", i+1, e)
	}
	return b.String()
}
