package properties

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recgate/recgate/graph"
)

// runner plays one scenario against one bot.
type runner struct {
	opts options
	sc   scenario
	env  *Env
	bot  Bot
	// neighbour is the other call the bot's process serves meanwhile
	// (nil with WithoutNeighbourCall): see neighbour.go.
	neighbour *neighbour
	calls     callPair // the two calls' IDs
	// fedNeighbour: the step just played handed the neighbouring call its
	// frames, at the same time as its own (only the suite's goroutine
	// reads and writes it).
	fedNeighbour bool
	// variant gives frames (by number) the other content: the
	// noninterference check's second run.
	variant map[int]bool

	frames atomic.Int64 // frames sent so far
	// baseline is how many goroutines ran before the bot was built: more
	// than that afterwards are the bot's (or the suite's, for a moment).
	baseline int

	mu      sync.Mutex
	failure string // the first hang or panic
	// running are the done channels of the goroutines the suite started
	// and has not waited for yet. (A WaitGroup will not do: a bot's own
	// goroutine may make the suite start one while the suite waits.)
	running []chan struct{}
	// inBot holds the goroutines (by id) that are inside a bot call now:
	// only there does a blocked goroutine mean the bot waits.
	inBot map[uint64]bool
	// control holds the goroutines (by id) of the bot calls that are
	// control events (Start, Stop, Fail, CallEnded, OperationUpdate), with
	// the call's name: see callAwaitsGraph.
	control map[uint64]string
	// startsRunning counts the bot's Start calls under way: a gate that
	// opens on another goroutine meanwhile (an actor, a worker the
	// handler waits for) is that Start's opening, not a background one.
	startsRunning atomic.Int32
	// callsReturned counts the bot calls that have returned (see
	// framesAtTheReply).
	callsReturned atomic.Uint64
	// gateOpenings counts the openings the bot told the suite of
	// (Env.GateOpened; see framesAtTheReply).
	gateOpenings atomic.Uint64
	// during is what the suite runs while the current burst's first write
	// is under way, and what arrives while the hook flushes.
	during string
	// duringGate orders duringWrite's taking its event against frames
	// arriving (see arriveAfterDuringStarted).
	duringGate sync.RWMutex
	// duringStarted closes once the Stop, Fail or CallEnded drawn for the
	// step's first write has returned or blocked (nil before one began):
	// the step's frames wait for it (see duringWrite).
	duringStarted chan struct{}
	// ownWrites is set once a write of the bot's own goroutines (outside
	// every bot call) reached the Sink in this case; ownDuring once such
	// a write took the event drawn for a step's first write. A bot with
	// no writer of its own plays every step as it did before the event
	// could start from such a write, and a case whose event one of them
	// took is not compared by the noninterference replay, which cannot
	// make the bot's goroutines write at the same moments again.
	ownWrites, ownDuring bool
	// whileDraining are the frames that arrive while that Stop or Fail
	// waits for the write's lease.
	whileDraining []int
	atFlush       []int
	// stopping is the concurrent Stop or Fail under way, if any.
	stopping *watched
	// ending closes when the Stop, Fail or CallEnded the suite is playing
	// as a step returns (nil when none runs).
	ending chan struct{}
	// stall is the storage stall, if one runs (see storageStall); active
	// counts the Sink writes under way that no stall holds.
	stall  storageStall
	active atomic.Int64
	// suiteWaits counts the suite's own waits inside bot calls (see
	// backgroundWatch).
	suiteWaits atomic.Int64
	// streamBusy marks the streams whose Frame is under way; streamQueue
	// holds the frames that arrived on them meanwhile (see deliverFrame).
	streamBusy  map[int]bool
	streamQueue map[int][]queuedFrame
	// faulted are the frames whose first write the storage failed.
	faulted map[int]bool
	// handOver and frameCalls let a reply to a bot's own goroutine land
	// between frames (see landReply).
	handOver   sync.RWMutex
	frameCalls map[*frameCall]bool
	// closedFor is the Stop, Fail or CallEnded at whose gate closing
	// frames were last delivered (see gateClosed).
	closedFor chan struct{}
}

// slowStorageLatency is how long, at most, the suite's storage takes to
// answer a write a bot's own goroutine makes while a Stop, Fail or
// CallEnded runs: storage is slow sometimes, and a hook that gives up
// waiting for its flush must not report before the flush landed.
const slowStorageLatency = 10 * time.Millisecond

// slowStorage makes a write from a goroutine outside any bot call wait
// while a Stop, Fail or CallEnded runs, until that call returned or for
// slowStorageLatency: a write under a lease holds that Stop in its drain
// and lands before the report; a flush the hook stopped waiting for lands
// after it, where P1 and P2 see it.
func (r *runner) slowStorage() {
	r.mu.Lock()
	done := r.ending
	if done == nil && r.stopping != nil {
		done = r.stopping.done
	}
	r.mu.Unlock()
	if done == nil {
		return // no Stop runs: most writes, and goid reads the stack
	}
	if r.inBotCall() {
		return
	}
	t := time.NewTimer(slowStorageLatency)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

func newRunner(sc scenario, newBot Factory, o options, variant map[int]bool, calls callPair) (*runner, error) {
	env := newEnv(calls.test, sc.streams)
	r := &runner{opts: o, sc: sc, env: env, calls: calls, variant: variant, baseline: runtime.NumGoroutine()}
	env.run = r
	registerCall(env)
	bot, err := newBot(env)
	if err != nil {
		return nil, fmt.Errorf("the bot factory failed: %w", err)
	}
	if bot == nil {
		return nil, errors.New("the bot factory returned a nil Bot and no error")
	}
	r.bot = bot
	if !o.oneCall {
		if r.neighbour, err = newNeighbour(env, calls.neighbour, newBot, variant != nil); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *runner) fail(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failure == "" {
		r.failure = fmt.Sprintf(format, args...)
	}
}

func (r *runner) failed() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failure
}

// call runs one bot method under a watchdog: the method gets a context
// that ends after the suite's timeout, and a method that has not returned
// by then, or returns only because that context ended, has hung.
//
// On the suite's own goroutine (inline false) the method runs on a
// goroutine of its own, so that a hung bot cannot hang the suite. On a
// goroutine the suite started for the purpose (inline true) it runs right
// there, so that settle watches the goroutine that runs the bot's code.
func (r *runner) call(what string, inline bool, fn func(context.Context) error) {
	live := new(atomic.Bool)
	live.Store(true)
	defer live.Store(false)
	if what == "Start" {
		r.startsRunning.Add(1)
		defer r.startsRunning.Add(-1)
	}
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), botCallKey{r.env}, live), r.opts.timeout)
	defer cancel()
	var hung atomic.Bool
	watchdog := time.AfterFunc(r.opts.timeout, func() {
		hung.Store(true)
		r.fail("the bot hung in %s: it had not returned %s after it was called (its context's deadline); the goroutines then:\n%s", what, r.opts.timeout, goroutineDump(32<<10))
	})
	defer watchdog.Stop()
	began := time.Now()
	var err error
	var panicked any
	control := what == "Start" || what == "Stop" || what == "Fail" || what == "CallEnded" || what == "OperationUpdate"
	run := func(g uint64) {
		r.mu.Lock()
		if r.inBot == nil {
			r.inBot, r.control = make(map[uint64]bool), make(map[uint64]string)
		}
		r.inBot[g] = true
		if control {
			r.control[g] = what
		}
		r.mu.Unlock()
		defer func() {
			panicked = recover()
			r.mu.Lock()
			delete(r.inBot, g)
			delete(r.control, g)
			r.mu.Unlock()
			r.callsReturned.Add(1)
		}()
		// The goroutine's id rides along, for enterFrame: reading it from
		// the stack again costs as much as the stack is deep.
		err = fn(context.WithValue(ctx, goroutineKey{}, g))
	}
	if inline {
		run(goid())
	} else {
		done := make(chan struct{})
		// A bot call other than a frame ends a storage stall: its held
		// writes are released in turn while the call runs.
		var held []*heldWrite
		if !strings.HasPrefix(what, "Frame") {
			held = r.takeStall()
		}
		var gid atomic.Uint64
		if what == "Stop" || what == "Fail" || what == "CallEnded" {
			r.mu.Lock()
			r.ending = done
			r.mu.Unlock()
			defer func() {
				r.mu.Lock()
				r.ending = nil
				r.mu.Unlock()
			}()
		}
		go func() { defer close(done); g := goid(); gid.Store(g); run(g) }()
		r.releaseInTurn(held, done, r.botGoroutine(&gid))
		select {
		case <-done:
		case <-time.After(r.opts.timeout + r.opts.timeout/4):
			return // the watchdog has said so; leave the bot where it hangs
		}
	}
	switch {
	case hung.Load():
	case panicked != nil:
		r.fail("the bot panicked in %s: %v", what, panicked)
	case err != nil && errors.Is(err, context.DeadlineExceeded) && time.Since(began) >= r.opts.timeout:
		r.fail("the bot hung in %s: it returned only when its context's deadline (%s) passed: %v\n(a bot waiting for itself, e.g. a hook that waits for a lease the bot holds)", what, r.opts.timeout, err)
	}
}

// gateClosed delivers a frame on every stream when the bot's gate closes
// while a Stop, Fail or CallEnded runs (see Env.GateClosed).
func (r *runner) gateClosed() {
	r.mu.Lock()
	var call chan struct{} // the Stop, Fail or CallEnded under way
	switch {
	case r.ending != nil:
		call = r.ending
	case r.stopping != nil:
		call = r.stopping.done
	}
	// Once per call: fsm says the gate closed again when it recloses it.
	first := call != nil && r.closedFor != call
	if first {
		r.closedFor = call
	}
	r.mu.Unlock()
	if !first || r.env.caseOver() {
		return
	}
	streams := make([]int, r.sc.streams)
	for i := range streams {
		streams[i] = i
	}
	r.background(func() { r.deliver(streams, true) })
}

// inBotCall reports whether the calling goroutine is inside a bot call
// the suite made.
func (r *runner) inBotCall() bool {
	g := goid()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inBot[g]
}

// play runs every step, checking after each; it returns the violations,
// or a failure (hang, panic) that ends the case.
func (r *runner) play(ctx context.Context) ([]Violation, string) {
	defer r.endStallNow() // a case cut short releases what a stall holds
	ended := false
	r.startNeighbour()
	for i := range r.sc.steps {
		st := &r.sc.steps[i]
		r.step(st, &ended)
		if !r.fedNeighbour && !r.stalled() {
			// (During a storage stall the neighbouring call's frames wait
			// for the next step: a process with one writer for every call
			// may block them behind the call under test's held write.)
			r.neighbourFrames()
		}
		r.fedNeighbour = false
		if f := r.failed(); f != "" {
			return r.violations(), f
		}
		if vs := r.violations(); len(vs) > 0 {
			return vs, ""
		}
	}
	r.finish()
	return r.violations(), r.failed()
}

// violations are the invariants broken so far, in the call under test and
// then in the neighbouring call.
func (r *runner) violations() []Violation {
	return append(r.env.violations(), r.neighbourViolations()...)
}

func (r *runner) step(st *step, ended *bool) {
	env := r.env
	label := st.kind.String()
	stalled := false
	switch st.kind {
	case stepFrames:
		if st.stall {
			r.beginStall()
		}
		if stalled = r.stalled(); stalled {
			// No Stop during the first write: the write is held.
			env.observe(Event{Kind: EvAttempt, Label: "frame"})
			r.deliverStalled(st.frames)
			break
		}
		if len(st.frames) > 4 {
			r.env.stats.bursts.Add(1)
		}
		r.mu.Lock()
		r.during, r.whileDraining = st.duringWrite, st.whileDraining
		r.mu.Unlock()
		var fed chan struct{}
		if r.neighbour != nil && st.duringWrite == "" {
			// The neighbouring call's media comes at the same moment as
			// this call's (not beside a Stop the step runs during a
			// write, whose timing the suite controls): a process that
			// keeps the call a frame belongs to in one field, or one
			// encoder for every call, mixes them only then.
			fed = make(chan struct{})
			r.fedNeighbour = true
			go func() { defer close(fed); r.neighbourFrames() }()
		}
		env.observe(Event{Kind: EvAttempt, Label: "frame"})
		// Each frame is an event of its own (P3 counts a bot's requests
		// per event: a bot that restarts its recording on a frame sends
		// two, and may do so on the next frame again).
		for i, fs := range st.frames {
			if i > 0 {
				env.observe(Event{Kind: EvAttempt, Label: "frame"})
			}
			r.deliver([]int{fs}, false)
		}
		if fed != nil {
			<-fed // each of its bot calls has a watchdog
		}
		r.mu.Lock()
		unmet := r.during != "" && r.ownWrites
		r.mu.Unlock()
		if unmet {
			// No Frame call wrote, and the bot has writers of its own
			// (one wrote earlier in the case): it may write the step's
			// frames now, and the drawn Stop comes during that writer's
			// first write (duringWrite). A bot that has written only
			// inside its calls is not waited for: the wait costs up to
			// the grace period, in every such step.
			quiesce(r.opts.grace, r.baseline)
		}
		// Disarmed under duringGate: a write of the bot's own has either
		// taken the event by now (and the step waits until it returned
		// or blocked, as it would behind the Frame call whose write took
		// it) or never will.
		r.duringGate.Lock()
		r.mu.Lock()
		taken := r.duringStarted
		r.during, r.whileDraining, r.duringStarted = "", nil, nil
		r.mu.Unlock()
		r.duringGate.Unlock()
		if taken != nil {
			<-taken
		}
	case stepStart, stepStop, stepFail:
		sentBefore := env.Updater.fromGoroutines.Load()
		env.Updater.arm(st)
		r.mu.Lock()
		r.atFlush = st.atFlush
		r.mu.Unlock()
		env.observe(Event{Kind: EvAttempt, Label: label})
		r.event(label, false)
		if len(st.afterReturn) > 0 {
			// Media does not wait for the bot's goroutines; what the bot
			// does with it is a frame event of its own.
			env.observe(Event{Kind: EvAttempt, Label: "frame"})
			r.deliver(st.afterReturn, false)
		}
		if env.Updater.stillArmed() || env.Updater.fromGoroutines.Load() != sentBefore {
			// The bot sent nothing while its handler ran: it may send from
			// a goroutine of its own (a Start answered at once). That
			// request gets this step's drawn replies and frames too. And
			// a goroutine's request, once answered, is acted on (the gate
			// opens) before the next step, as it would be had the handler
			// waited for the reply: the next Stop is not asked in between.
			quiesce(r.opts.grace, r.baseline)
		}
		env.Updater.disarm()
		r.mu.Lock()
		r.atFlush = nil
		r.mu.Unlock()
	case stepUpdate:
		op, real := env.Updater.update(st.update, st.stale)
		env.observe(Event{Kind: EvAttempt, Label: "update:" + string(st.update)})
		if real {
			env.observe(Event{Kind: EvUpdate, Outcome: map[graph.OperationStatus]Outcome{graph.OperationCompleted: OutcomeCompleted, graph.OperationFailed: OutcomeFailed, graph.OperationRunning: OutcomePending}[st.update]})
		}
		r.call("OperationUpdate", false, func(ctx context.Context) error { return r.bot.OperationUpdate(ctx, op) })
	case stepCallEnded:
		r.mu.Lock()
		r.atFlush = st.atFlush
		r.mu.Unlock()
		if !*ended {
			env.observe(Event{Kind: EvCallEnded})
		}
		*ended = true
		env.observe(Event{Kind: EvAttempt, Label: "callEnded"})
		r.event("callEnded", false)
		r.mu.Lock()
		r.atFlush = nil
		r.mu.Unlock()
	case stepIntrospect:
		in, ok := r.bot.(Introspector)
		if !ok {
			return
		}
		env.observe(Event{Kind: EvIntrospect, Label: "begin"})
		r.call("Introspect", false, func(context.Context) error { in.Introspect(); return nil })
		env.observe(Event{Kind: EvIntrospect, Label: "end"})
	}
	r.lookAtGate()
	r.waitBackground()
	r.mu.Lock()
	r.stopping = nil // it has returned: writes need not wait for it
	r.mu.Unlock()
	r.lookAtGate()
	if st.kind == stepStop || st.kind == stepFail || st.kind == stepCallEnded || (st.duringWrite != "" && !stalled) || st.concurrent != "" {
		// Writes that a bot left to other goroutines land now, while the
		// world still says what Stop or the end of the call made it.
		quiesce(r.opts.grace, r.baseline)
	}
}

// arriveAfterDuringStarted marks the arrival of frame n on stream s
// (env.arrive). A frame the suite's own goroutine hands over (inline
// false: a step's frames) first waits until a Stop, Fail or CallEnded
// that a write of the bot's own goroutine started for the step
// (duringWrite) has returned or blocked, as it waits behind a Frame call
// whose write started one; and no frame is marked while duringWrite takes
// its event, so a frame arrives either before that event was asked, or
// after it closed the gate.
func (r *runner) arriveAfterDuringStarted(n, s int, v int, inline bool) {
	for {
		r.duringGate.RLock()
		r.mu.Lock()
		c := r.duringStarted
		r.mu.Unlock()
		if inline || c == nil {
			break
		}
		select {
		case <-c:
		default:
			r.duringGate.RUnlock()
			<-c
			continue
		}
		break
	}
	defer r.duringGate.RUnlock()
	r.env.arrive(n, s, canary(n, v))
}

// lookAtGate checks P4 and P5 on a bot that reports its gate.
func (r *runner) lookAtGate() {
	if g, ok := r.bot.(GateReporter); ok && g.GateOpen() {
		r.env.check(Event{Kind: EvGateOpen})
	}
}

// waitBackground waits for the goroutines the suite started (and those
// they started), under a watchdog of its own (each bot call on them has
// one too).
func (r *runner) waitBackground() {
	deadline := time.NewTimer(3 * r.opts.timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		list := r.running
		r.running = nil
		r.mu.Unlock()
		if len(list) == 0 {
			return
		}
		for _, done := range list {
			select {
			case <-done:
			case <-deadline.C:
				r.fail("the suite's own goroutines did not finish within %s: a bot event run concurrently hung\n%s", 3*r.opts.timeout, goroutineDump(32<<10))
				return
			}
		}
	}
}

// finish lets the bot finish its background work: Close if it has one,
// then a bounded grace period, judging every write that lands.
func (r *runner) finish() {
	r.env.observe(Event{Kind: EvQuiet, Label: "end of case"})
	// Storage catches up first: Close must not run beside frames the
	// suite is still delivering.
	r.endStallNow()
	r.waitBackground()
	r.endNeighbour()
	if c, ok := r.bot.(Closer); ok {
		// Close is a bot event of its own: a graceful shutdown that stops
		// the recording (its one report) is Close's attempt, not a second
		// request of the event before it (P3).
		r.env.observe(Event{Kind: EvAttempt, Label: "close"})
		r.call("Close", false, c.Close)
	}
	quiesce(r.opts.grace, r.baseline)
	r.waitBackground()
}

// botGoroutine returns, for settle, a function that gives the goroutine
// id holds while that goroutine is inside the bot, and 0 otherwise.
func (r *runner) botGoroutine(id *atomic.Uint64) func() uint64 {
	return func() uint64 {
		g := id.Load()
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.inBot[g] {
			return g
		}
		return 0
	}
}
