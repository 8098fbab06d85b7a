package endtoend_test

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/callback"
	"github.com/recgate/recgate/graph/graphtest"
)

// appID is the bot's app ID: the audience of the fake's tokens.
const appID = "5e1f0b07-0000-4000-8000-00000000b07a"

// fake is the Graph every test talks to. It is shared because its signing
// key and the attacker's key (for the other-key forgeries) are generated on
// first use, which takes seconds under the race detector; each test makes
// calls of its own, with their own callback.
var fake *graphtest.Server

func TestMain(m *testing.M) {
	flag.Parse()
	limitRapidChecks()
	fake = graphtest.NewServer()
	code := m.Run()
	fake.Close()
	os.Exit(code)
}

// limitRapidChecks runs 50 rapid cases instead of 100, unless the command
// line (-rapid.checks) or the environment (RAPID_CHECKS) asks for a number:
// each case makes a dozen loopback requests, and the package should finish
// in seconds under -race. It also keeps rapid from writing fail files into
// the package (a failure prints the seed that reproduces it), unless asked.
func limitRapidChecks() {
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if _, ok := os.LookupEnv("RAPID_CHECKS"); !ok && !set["rapid.checks"] {
		_ = flag.Set("rapid.checks", "50")
	}
	if _, ok := os.LookupEnv("RAPID_NOFAILFILE"); !ok && !set["rapid.nofailfile"] && !set["rapid.failfile"] {
		_ = flag.Set("rapid.nofailfile", "true")
	}
}

// watchdog panics, with every goroutine's stack and the name of the step the
// test was at, if the test is still running after limit. A panic rather than
// t.Fatal: a hung test goroutine cannot call t.Fatal, and the stacks show
// what it hangs on.
type watchdog struct {
	step  atomic.Value // string
	timer *time.Timer
}

func newWatchdog(t testing.TB, limit time.Duration) *watchdog {
	w := &watchdog{}
	w.step.Store("setup")
	name := t.Name()
	w.timer = time.AfterFunc(limit, func() {
		debug.SetTraceback("all")
		panic(fmt.Sprintf("watchdog: %s still running after %v, at step %q", name, limit, w.step.Load()))
	})
	t.Cleanup(func() { w.timer.Stop() })
	return w
}

// at names the step the test is at now.
func (w *watchdog) at(step string) { w.step.Store(step) }

// testContext returns a context that ends before the test's watchdog
// fires (give it the watchdog's limit), so a call that waits on the network
// returns an error first.
func testContext(t testing.TB, limit time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), limit*3/4)
	t.Cleanup(cancel)
	return ctx
}

// failer is what the helpers need of a test: a *testing.T, or a *rapid.T
// inside a property.
type failer interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Error(args ...any)
	Errorf(format string, args ...any)
}

// bot is a bot's callback side wired as in production: a Validator that
// fetches the fake's keys from its OpenID configuration, the callback
// Handler on a loopback HTTP server, and the Registry of machines as the
// Handler's Receiver. The machines talk to the fake through a real
// graph.Client.
type bot struct {
	registry *fsm.Registry
	client   *graph.Client
	url      string // the callback URL the fake POSTs to

	createMu sync.Mutex   // one Create at a time, so newMachine sees its call's options
	opts     []fsm.Option // the options of the machine being created

	mu      sync.Mutex
	rejects []callback.RejectReason
	ignored []ignoredNotification
}

// ignoredNotification is one notification the registry ignored.
type ignoredNotification struct {
	callID string
	why    fsm.IgnoreReason
}

func newBot(t testing.TB) *bot {
	t.Helper()
	b := &bot{}
	client, err := graph.NewClient(graph.StaticToken("test-token"), graph.WithBaseURL(fake.BaseURL()),
		graph.WithHTTPClient(fake.Client()), graph.WithBackoff(time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	b.client = client
	b.registry, err = fsm.NewRegistry(func(callID string) (*fsm.Machine, error) {
		return fsm.New(callID, b.client, b.opts...)
	}, fsm.WithIgnoredHook(func(n graph.Notification, why fsm.IgnoreReason) {
		b.mu.Lock()
		b.ignored = append(b.ignored, ignoredNotification{callID: n.CallID, why: why})
		b.mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	v, err := callback.NewValidator(appID, callback.WithOpenIDConfigURL(fake.OpenIDConfigURL()), callback.WithHTTPClient(fake.Client()))
	if err != nil {
		t.Fatal(err)
	}
	h, err := callback.NewHandler(b.registry, v, callback.WithLogger(slog.New(slog.DiscardHandler)),
		callback.WithRejectHook(func(r callback.RejectReason) {
			b.mu.Lock()
			b.rejects = append(b.rejects, r)
			b.mu.Unlock()
		}))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /api/calling", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	b.url = srv.URL + "/api/calling"
	return b
}

// rejected returns the reasons of the requests the handler refused so far.
func (b *bot) rejected() []callback.RejectReason {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]callback.RejectReason(nil), b.rejects...)
}

// ignoredFor returns why the registry ignored each notification for callID.
func (b *bot) ignoredFor(callID string) []fsm.IgnoreReason {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []fsm.IgnoreReason
	for _, in := range b.ignored {
		if in.callID == callID {
			out = append(out, in.why)
		}
	}
	return out
}

// call is one call the bot is in: the fake's side of it and the machine
// that guards it, whose events a recorder keeps.
type call struct {
	id     string
	fake   *graphtest.Call
	m      *fsm.Machine
	events *recorder
}

// newCall makes a call known to the fake, registers the bot's callback for
// it, and creates its machine in the registry.
func (b *bot) newCall(t failer, opts ...fsm.Option) *call {
	t.Helper()
	c := &call{id: uuid.NewString(), events: newRecorder()}
	c.fake = fake.AddCall(c.id)
	if err := c.fake.SetCallback(b.url, appID); err != nil {
		t.Fatal(err)
	}
	b.createMu.Lock()
	b.opts = append([]fsm.Option{fsm.WithObserver(c.events.observe)}, opts...)
	m, err := b.registry.Create(c.id)
	b.createMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	c.m = m
	return c
}

// startPending sends recording, which the fake answers running, and checks
// the machine waits for the outcome with the gate closed.
func (c *call) startPending(ctx context.Context, t failer) graph.Operation {
	t.Helper()
	c.fake.Then(graphtest.ReplyStatus(string(graph.OperationRunning)))
	op, err := c.m.Start(ctx)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if got := c.m.State(); got != fsm.AwaitingConfirmation || c.m.Gate().IsOpen() {
		t.Fatalf("after a running reply: state %v, gate open %v; want AwaitingConfirmation with the gate closed", got, c.m.Gate().IsOpen())
	}
	if op.ID == "" || op.ClientContext == "" {
		t.Fatalf("the pending reply names no operation (id %q, clientContext %q)", op.ID, op.ClientContext)
	}
	return op
}

// recorder keeps a machine's events and lets a test wait for one.
type recorder struct {
	mu      sync.Mutex
	events  []fsm.Event
	changed chan struct{} // closed and replaced on every event
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) observe(e fsm.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	close(r.changed)
	r.changed = make(chan struct{})
}

// all returns the events so far.
func (r *recorder) all() []fsm.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]fsm.Event(nil), r.events...)
}

// count returns how many events there were so far.
func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// waitFor waits until some event satisfies match, or ctx ends; the error
// names what was awaited.
func (r *recorder) waitFor(ctx context.Context, what string, match func(fsm.Event) bool) (fsm.Event, error) {
	seen := 0
	for {
		r.mu.Lock()
		for ; seen < len(r.events); seen++ {
			if match(r.events[seen]) {
				e := r.events[seen]
				r.mu.Unlock()
				return e, nil
			}
		}
		changed := r.changed
		r.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return fsm.Event{}, fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		}
	}
}

// gateOpened reports whether the gate ever opened.
func gateOpened(events []fsm.Event) bool {
	for _, e := range events {
		if e.Kind == fsm.EventGate && e.Open {
			return true
		}
	}
	return false
}

// isTransitionTo matches the transition into state.
func isTransitionTo(state fsm.State) func(fsm.Event) bool {
	return func(e fsm.Event) bool { return e.Kind == fsm.EventTransition && e.To == state }
}
