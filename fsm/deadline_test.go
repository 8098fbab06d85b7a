package fsm_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// fakeClock stands in for time.AfterFunc: timers fire only when the test
// calls fire, synchronously, in the test's goroutine.
type fakeClock struct {
	mu     sync.Mutex
	timers []*fakeTimer
}

type fakeTimer struct {
	d    time.Duration
	f    func()
	done bool // fired or stopped
}

func (c *fakeClock) after(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{d: d, f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := t.done
		t.done = true
		return !was
	}
}

// fire runs every live timer set for d and reports how many ran.
func (c *fakeClock) fire(d time.Duration) int {
	c.mu.Lock()
	var due []*fakeTimer
	for _, t := range c.timers {
		if !t.done && t.d == d {
			t.done = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
	return len(due)
}

// fire is clock.fire under the watchdog: a timer's callback that hangs on
// the machine fails the test with its name.
func fire(t *testing.T, clock *fakeClock, d time.Duration) int {
	t.Helper()
	n := 0
	returnsWithin(t, watchdog, "the machine's "+d.String()+" timer callback", func() { n = clock.fire(d) })
	return n
}

// live counts the timers neither fired nor stopped.
func (c *fakeClock) live() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.done {
			n++
		}
	}
	return n
}

const testDeadline = 7 * time.Second // any value: the fake clock decides when it passes

func pendingWithClock(t *testing.T, opts ...fsm.Option) (*fsm.Machine, *fakeUpdater, *fakeClock, graph.Operation) {
	t.Helper()
	clock := &fakeClock{}
	u := (&fakeUpdater{}).then(reply{Status: graph.OperationRunning})
	m := newMachine(t, u, append([]fsm.Option{fsm.WithTimer(clock.after), fsm.WithConfirmationDeadline(testDeadline)}, opts...)...)
	op, err := m.Start(context.Background())
	require.NoError(t, err)
	require.Equal(t, fsm.AwaitingConfirmation, m.State())
	return m, u, clock, op
}

// A recording attempt that stays pending past the deadline ends with the
// gate closed, failed is reported, and a late completed is stale.
func TestConfirmationDeadlineReportsFailed(t *testing.T) {
	var events []fsm.Event
	var mu sync.Mutex
	m, u, clock, op := pendingWithClock(t, fsm.WithObserver(func(e fsm.Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}))
	require.Equal(t, 1, fire(t, clock, testDeadline), "Start armed one deadline")
	assert.Equal(t, fsm.Failed, m.State())
	assert.False(t, m.Gate().IsOpen())
	assert.Equal(t, []graph.Status{graph.StatusRecording, graph.StatusFailed}, u.statuses())

	op.Status = graph.OperationCompleted
	err := m.OperationUpdate(context.Background(), op)
	assert.ErrorIs(t, err, fsm.ErrStaleUpdate, "a completed after the deadline is stale")
	assert.False(t, m.Gate().IsOpen(), "a late completed never opens the gate")
	assert.Equal(t, fsm.Failed, m.State())

	mu.Lock()
	seen := append([]fsm.Event(nil), events...)
	mu.Unlock()
	var sawTimeout bool
	for _, e := range seen {
		if e.Kind == fsm.EventRequest && e.Status == graph.StatusFailed {
			assert.Equal(t, fsm.ConfirmationTimeout, e.Trigger)
			sawTimeout = true
		}
		assert.False(t, e.Kind == fsm.EventGate && e.Open, "the gate never opened")
	}
	assert.True(t, sawTimeout, "the failed report is attributed to ConfirmationTimeout")

	// Start may try again from Failed.
	_, err = m.Start(context.Background())
	require.NoError(t, err)
	assert.Equal(t, fsm.Recording, m.State())
}

// An outcome before the deadline stops it; a deadline timer that fires
// anyway (it lost the race with the outcome) changes nothing.
func TestConfirmationDeadlineStoppedByOutcome(t *testing.T) {
	m, u, clock, op := pendingWithClock(t)
	clock.mu.Lock()
	late := clock.timers[0].f
	clock.mu.Unlock()

	op.Status = graph.OperationCompleted
	require.NoError(t, m.OperationUpdate(context.Background(), op))
	assert.Equal(t, fsm.Recording, m.State())
	assert.Zero(t, clock.live(), "the outcome stopped the deadline")
	returnsWithin(t, watchdog, "the late deadline callback", late) // the timer's goroutine was already on its way
	assert.Equal(t, fsm.Recording, m.State())
	assert.True(t, m.Gate().IsOpen())
	assert.Len(t, u.requests(), 1, "nothing sent")
}

func TestConfirmationDeadlineStoppedByStopAndCallEnded(t *testing.T) {
	m, _, clock, _ := pendingWithClock(t)
	require.NoError(t, m.Stop(context.Background()))
	assert.Zero(t, clock.live())

	m, _, clock, _ = pendingWithClock(t)
	require.NoError(t, m.CallEnded(context.Background()))
	assert.Zero(t, clock.live())
}

// When Graph refuses the failed report, the machine stays in Stopping with
// the gate closed, and Fail (or Stop) retries.
func TestConfirmationDeadlineReportRefused(t *testing.T) {
	m, u, clock, _ := pendingWithClock(t)
	u.then(reply{Err: errHTTP})
	require.Equal(t, 1, fire(t, clock, testDeadline))
	assert.Equal(t, fsm.Stopping, m.State())
	assert.False(t, m.Gate().IsOpen())
	require.NoError(t, m.Fail(context.Background()))
	assert.Equal(t, fsm.Failed, m.State())
	assert.Equal(t, []graph.Status{graph.StatusRecording, graph.StatusFailed, graph.StatusFailed}, u.statuses())
}

func TestConfirmationDeadlineOptionRefusesNonPositive(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		_, err := fsm.New(callID, &fakeUpdater{}, fsm.WithConfirmationDeadline(d))
		assert.ErrorContains(t, err, "positive", "deadline %v", d)
	}
}

// The real clock, end to end: a short deadline passes, failed is reported.
func TestConfirmationDeadlineRealClock(t *testing.T) {
	failed := make(chan struct{})
	u := (&fakeUpdater{}).then(reply{Status: graph.OperationRunning})
	m := newMachine(t, u, fsm.WithConfirmationDeadline(10*time.Millisecond), fsm.WithObserver(func(e fsm.Event) {
		if e.Kind == fsm.EventTransition && e.To == fsm.Failed {
			close(failed)
		}
	}))
	_, err := m.Start(context.Background())
	require.NoError(t, err)
	select {
	case <-failed:
	case <-time.After(watchdog):
		t.Fatal("hung: the 10 ms confirmation deadline never reported failed")
	}
	assert.Equal(t, fsm.Failed, m.State())
	assert.False(t, m.Gate().IsOpen())
}

// fakeGetter answers polls from a script and logs them.
type fakeGetter struct {
	mu      sync.Mutex
	answers []graph.Operation
	errs    []error
	polled  []graph.Operation
}

func (g *fakeGetter) Operation(_ context.Context, _ string, op graph.Operation) (graph.Operation, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.polled = append(g.polled, op)
	var got graph.Operation
	var err error
	if len(g.answers) > 0 {
		got, g.answers = g.answers[0], g.answers[1:]
	}
	if len(g.errs) > 0 {
		err, g.errs = g.errs[0], g.errs[1:]
	}
	return got, err
}

func (g *fakeGetter) polls() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.polled)
}

const pollEvery = 3 * time.Second

// Polling reads the pending operation until it completes, and the gate
// opens with Via poll.
func TestPollingConfirms(t *testing.T) {
	g := &fakeGetter{
		answers: []graph.Operation{{Status: graph.OperationRunning}, {}, {Status: graph.OperationCompleted}},
		errs:    []error{nil, errors.New("connection reset"), nil},
	}
	var opened []fsm.Event
	var mu sync.Mutex
	m, u, clock, op := pendingWithClock(t, fsm.WithOperationPolling(g, pollEvery, 5), fsm.WithObserver(func(e fsm.Event) {
		if e.Kind == fsm.EventGate && e.Open {
			mu.Lock()
			opened = append(opened, e)
			mu.Unlock()
		}
	}))
	for i := 1; i <= 3; i++ {
		require.Equal(t, 1, fire(t, clock, pollEvery), "poll %d was armed", i)
	}
	assert.Equal(t, 3, g.polls())
	assert.Equal(t, op.ClientContext, g.polled[0].ClientContext, "the poll reads the attempt's own operation")
	assert.Equal(t, fsm.Recording, m.State())
	assert.True(t, m.Gate().IsOpen())
	assert.Zero(t, clock.live(), "no poll and no deadline left once confirmed")
	assert.Len(t, u.requests(), 1)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, opened, 1)
	assert.Equal(t, fsm.ViaPoll, opened[0].Via)
	assert.Equal(t, fsm.OperationUpdate, opened[0].Trigger)
}

// Polling is bounded: after maxPolls pending answers, it stops, and the
// deadline settles the attempt.
func TestPollingIsBounded(t *testing.T) {
	g := &fakeGetter{answers: []graph.Operation{{Status: graph.OperationRunning}, {Status: graph.OperationRunning}, {Status: graph.OperationRunning}}}
	m, u, clock, _ := pendingWithClock(t, fsm.WithOperationPolling(g, pollEvery, 2))
	assert.Equal(t, 1, fire(t, clock, pollEvery))
	assert.Equal(t, 1, fire(t, clock, pollEvery))
	assert.Equal(t, 0, fire(t, clock, pollEvery), "no third poll")
	assert.Equal(t, 2, g.polls())
	require.Equal(t, 1, fire(t, clock, testDeadline))
	assert.Equal(t, fsm.Failed, m.State())
	assert.Equal(t, []graph.Status{graph.StatusRecording, graph.StatusFailed}, u.statuses())
}

// A polled operation naming another attempt is stale: it does not open.
func TestPollingIgnoresForeignOperation(t *testing.T) {
	g := &fakeGetter{answers: []graph.Operation{{ClientContext: "another-attempt", Status: graph.OperationCompleted}}}
	m, _, clock, _ := pendingWithClock(t, fsm.WithOperationPolling(g, pollEvery, 1))
	require.Equal(t, 1, fire(t, clock, pollEvery))
	assert.Equal(t, fsm.AwaitingConfirmation, m.State())
	assert.False(t, m.Gate().IsOpen())
}

func TestPollingOptionRefusesBadInput(t *testing.T) {
	for name, o := range map[string]fsm.Option{
		"nil getter":       fsm.WithOperationPolling(nil, time.Second, 1),
		"nil client":       fsm.WithOperationPolling((*graph.Client)(nil), time.Second, 1),
		"zero interval":    fsm.WithOperationPolling(&fakeGetter{}, 0, 1),
		"no polls":         fsm.WithOperationPolling(&fakeGetter{}, time.Second, 0),
		"negative polling": fsm.WithOperationPolling(&fakeGetter{}, -time.Second, 3),
	} {
		_, err := fsm.New(callID, &fakeUpdater{}, o)
		assert.Error(t, err, name)
	}
}
