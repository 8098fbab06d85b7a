package properties

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/internal/hooks"
)

// The model checker drives the real fsm.Machine. Its goroutines (one for
// the bot's events, one for the call-ended notification, one for a
// duplicated Start) run one at a time: the machine pauses at the points
// internal/hooks names, and the simulated Graph pauses at each request until
// the checker picks a reply. The K writers are moved by the checker too,
// one lease operation at a time; in a build with the recgate_checker tag
// each writer also has a goroutine of its own, and the gate pauses it
// between its own atomic steps (announce the lease, look at the gate), as
// it pauses the drain between its looks at the streams. A state of the
// product is reached again by replaying its path from a fresh machine (or
// taken from a machine another path brought there: see CheckModel);
// nothing of the machine is copied or modelled. What the key needs of the
// machine's own state (the gate's epoch, the pending attempt, the firing)
// it reads through hooks.ReadMachine, and compares only relatively.

// point is where a thread is paused.
type point uint8

const (
	atIdle    point = iota // no event under way
	atHook                 // paused at an internal/hooks point (hookPoint)
	atRequest              // paused inside a Graph request, waiting for a reply
)

// The threads: the machine's three, then one per writer (used only when
// the gate pauses inside its own steps).
const (
	threadControl = 0 // Start, Stop, Fail, OperationUpdate
	threadEnd     = 1 // CallEnded
	threadDup     = 2 // a second Start, as a duplicated notification makes
	threadWriter0 = 3 // writer i runs on thread threadWriter0+i
)

var machineThreadNames = []string{"control", "end", "dup"}

// eventID names what a thread is doing.
type eventID uint8

const (
	evNone eventID = iota
	evStart
	evStop
	evFail
	evUpdateCompleted
	evUpdateFailed
	evCallEnded
	evDupStart
	evAcquire // a writer's Stream.Acquire, step by step
)

// eventLabels are the events' names in moves ("ev:start") and coverage.
var eventLabels = [...]string{"", "start", "stop", "fail", "update:completed", "update:failed", "callEnded", "dup:start", "acquire"}

type thread struct {
	name      string
	event     eventID // the event under way, evNone when idle
	at        point
	hookPoint hooks.Point
	status    graph.Status // of the request it waits in
	ready     func() bool  // at a gate wait: whether a step would make progress
	running   bool         // its goroutine is alive (paused)
	// epoch is the gate's epoch when a Start began on this thread (Start
	// reads it first thing, before it pauses); requested is set once the
	// thread's attempt made its request, with clientContext cc. The key
	// compares them with the machine's own (see key).
	epoch     uint64
	requested bool
	cc        string
	sig       chan bool // the goroutine says: true, paused; false, finished
	resume    chan Outcome
}

type writerState uint8

const (
	writerIdle writerState = iota
	writerHolding
	writerWritten
)

// writer is one media writer of the model.
type writer struct {
	state  writerState
	opened bool      // its stream is registered
	lease  fsm.Lease // the lease it holds
	// With the gate's own steps: the lease it released last, which it may
	// release once more (a double Release, which must do nothing).
	stale     fsm.Lease
	staleUsed bool
}

// sim is one replay of one path.
type sim struct {
	cfg     ModelConfig
	hooks   *hooks.Hooks
	steps   bool // the gate pauses inside its own steps (recgate_checker)
	m       *fsm.Machine
	streams []*fsm.Stream
	writers []writer
	threads []*thread
	active  int // the thread running now, -1 for none
	lockBy  int // the thread holding the machine's lock, -1 for none
	spawn   func(func())

	world      World
	violations []Violation
	events     []Event
	// noEvents leaves events empty: the search needs only the world and
	// the violations (a counterexample is replayed afresh for its events).
	noEvents bool

	starts, stops, updates, ended, dups int
	// pending is Graph's latest pending reply to a recording request: the
	// operation the update moves name (it may be stale by then).
	pending  *graph.Operation
	opSeq    int
	persists int

	// skipDiagram leaves the diagram export out of the next introspection
	// (the search exports it once per machine state; see expand).
	skipDiagram bool

	aborting atomic.Bool
}

func newSim(cfg ModelConfig, spawn func(func())) (*sim, error) {
	s := &sim{cfg: cfg, active: -1, lockBy: -1, spawn: spawn}
	if s.spawn == nil {
		s.spawn = func(f func()) { go f() }
	}
	s.hooks = &hooks.Hooks{Yield: s.yield, Wait: s.wait, Lock: s.lockHook, Unlock: s.unlockHook, Mutants: cfg.mutants}
	m, err := fsm.New(suiteCallID, fsm.UpdaterFunc(s.update),
		withHooks(s.hooks),
		fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error {
			s.observe(Event{Kind: EvFlush}) // observe ignores it once aborting
			return nil
		}),
		fsm.WithObserver(func(e fsm.Event) {
			if s.aborting.Load() || e.Kind != fsm.EventGate {
				return
			}
			if e.Open {
				s.observe(Event{Kind: EvGateOpen})
			}
		}))
	if err != nil {
		return nil, err
	}
	s.m = m
	s.steps = s.hooks.GateSteps
	nthreads := len(machineThreadNames)
	if s.steps {
		nthreads += cfg.Writers
	}
	for i := 0; i < nthreads; i++ {
		th := &thread{sig: make(chan bool), resume: make(chan Outcome)}
		if i < len(machineThreadNames) {
			th.name = machineThreadNames[i]
		} else {
			th.name = fmt.Sprintf("w%d", i-threadWriter0)
		}
		s.threads = append(s.threads, th)
	}
	s.streams = make([]*fsm.Stream, cfg.Writers)
	s.writers = make([]writer, cfg.Writers)
	for i := range s.writers {
		// With the gate's own steps and K >= 2, the last writer registers
		// its stream during the run, while the gate is open (a move of its
		// own), so the model has a stream that joins during a recording.
		// (And writer 0 may release its previous lease a second time; see
		// writerMove.)
		if s.steps && cfg.Writers >= 2 && i == cfg.Writers-1 {
			continue
		}
		s.openStream(i)
	}
	return s, nil
}

func (s *sim) openStream(i int) {
	s.streams[i] = s.m.Gate().NewStream()
	s.writers[i].opened = true
}

func (s *sim) observe(e Event) {
	if s.aborting.Load() {
		return
	}
	if !s.noEvents {
		s.events = append(s.events, e)
	}
	s.violations = append(s.violations, s.world.Observe(e)...)
}

// yield is the machine's (or the gate's) pause: hand control back to the
// checker and wait.
func (s *sim) yield(p hooks.Point) {
	if s.aborting.Load() || s.active < 0 {
		return
	}
	th := s.threads[s.active]
	th.at, th.hookPoint = atHook, p
	s.park(th)
}

// wait is the gate's pause where it waits for a lease: the checker
// resumes it only once ready says the wait is over.
func (s *sim) wait(p hooks.Point, ready func() bool) {
	if s.aborting.Load() || s.active < 0 {
		return
	}
	th := s.threads[s.active]
	th.at, th.hookPoint, th.ready = atHook, p, ready
	s.park(th)
	th.ready = nil
}

func (s *sim) lockHook() {
	if !s.aborting.Load() {
		s.lockBy = s.active
	}
}

func (s *sim) unlockHook() {
	if !s.aborting.Load() {
		s.lockBy = -1
	}
}

// park hands control to the checker and waits for it to resume th.
func (s *sim) park(th *thread) Outcome {
	th.sig <- true
	return <-th.resume
}

// update is the simulated Graph: it records the request, waits for the
// checker to pick the reply, and records that.
func (s *sim) update(_ context.Context, _ string, status graph.Status, cc string) (graph.Operation, error) {
	if s.aborting.Load() {
		return graph.Operation{}, errors.New("model: aborted")
	}
	s.observe(Event{Kind: EvRequest, Status: status, Thread: s.active})
	th := s.threads[s.active]
	th.at, th.status, th.requested, th.cc = atRequest, status, true, cc
	out := s.park(th)
	if s.aborting.Load() {
		return graph.Operation{}, errors.New("model: aborted")
	}
	s.observe(Event{Kind: EvReply, Status: status, Outcome: out})
	s.opSeq++
	if out == OutcomeError {
		return graph.Operation{}, &graph.Error{StatusCode: 503, Code: "ServiceUnavailable"}
	}
	op := out.operation(fmt.Sprintf("op-%d", s.opSeq), cc)
	if out == OutcomePending && status == graph.StatusRecording {
		p := op
		s.pending = &p
	}
	return op, nil
}

// start runs body as event on thread t until it pauses or finishes.
func (s *sim) start(t int, event eventID, body func()) {
	th := s.threads[t]
	th.event, th.running = event, true
	if event == evStart || event == evDupStart {
		th.epoch = hooks.ReadMachine(s.m).GateEpoch
	}
	s.active = t
	s.spawn(func() {
		body()
		if !s.aborting.Load() {
			th.at, th.event, th.requested, th.cc = atIdle, evNone, false, ""
		}
		th.sig <- false
	})
	s.waitFor(th)
}

// machineEvent is the body of a machine thread's event.
func (s *sim) machineEvent(event eventID) func() {
	return func() {
		ctx := context.Background()
		switch event {
		case evStart, evDupStart:
			_, _ = s.m.Start(ctx)
		case evStop:
			_ = s.m.Stop(ctx)
		case evFail:
			_ = s.m.Fail(ctx)
		case evUpdateCompleted, evUpdateFailed:
			op := graph.Operation{ClientContext: "none", Status: graph.OperationCompleted}
			if s.pending != nil {
				op = *s.pending
			}
			out := OutcomeCompleted
			op.Status = graph.OperationCompleted
			if event == evUpdateFailed {
				out, op.Status = OutcomeFailed, graph.OperationFailed
			}
			if s.pending != nil && !s.aborting.Load() {
				s.observe(Event{Kind: EvUpdate, Outcome: out})
			}
			_ = s.m.OperationUpdate(ctx, op)
		case evCallEnded:
			_ = s.m.CallEnded(ctx)
		}
	}
}

// waitFor blocks until the running thread pauses or finishes.
func (s *sim) waitFor(th *thread) {
	if paused := <-th.sig; !paused {
		th.running = false
	}
	s.active = -1
}

func (s *sim) resumeThread(t int, out Outcome) {
	th := s.threads[t]
	s.active = t
	th.resume <- out
	s.waitFor(th)
}

// enabled lists the moves possible now, in a fixed order. With prune, a
// writer's moves are left out when an earlier writer is in exactly the same
// state: they lead to states equal up to renaming the writers, which the
// abstract state does not tell apart (see key).
func (s *sim) enabled(prune bool) []move {
	ms := make([]move, 0, 16)
	ctl, end := s.threads[threadControl], s.threads[threadEnd]
	if ctl.event == evNone {
		if s.starts < s.cfg.Starts {
			ms = append(ms, move{kind: mvEvent, who: uint8(evStart)})
		}
		if s.stops < s.cfg.Stops {
			ms = append(ms, move{kind: mvEvent, who: uint8(evStop)}, move{kind: mvEvent, who: uint8(evFail)})
		}
		if s.updates < s.cfg.Updates && s.pending != nil {
			ms = append(ms, move{kind: mvEvent, who: uint8(evUpdateCompleted)}, move{kind: mvEvent, who: uint8(evUpdateFailed)})
		}
	}
	if end.event == evNone && s.ended == 0 {
		ms = append(ms, move{kind: mvEvent, who: uint8(evCallEnded)})
	}
	if dup := s.threads[threadDup]; dup.event == evNone && s.dups == 0 && ctl.event == evStart {
		// A second Start while the first is under way.
		ms = append(ms, move{kind: mvEvent, who: uint8(evDupStart)})
	}
	for t, th := range s.threads {
		if th.event == evNone {
			continue
		}
		if t >= threadWriter0 && prune && s.sameAsEarlierWriter(t-threadWriter0) {
			continue
		}
		switch th.at {
		case atHook:
			if th.hookPoint == hooks.Lock && s.lockBy != -1 && s.lockBy != t {
				continue // blocked on the machine's lock
			}
			if th.hookPoint == hooks.DrainWait {
				if th.ready != nil && !th.ready() || th.ready == nil && s.anyLease() {
					continue // blocked until the lease is released
				}
			}
			ms = append(ms, move{kind: mvStep, who: uint8(t)})
		case atRequest:
			for _, o := range s.cfg.Outcomes {
				ms = append(ms, move{kind: mvReply, who: uint8(t), arg: uint8(o)})
			}
		}
	}
	for i, w := range s.writers {
		if s.steps && s.threads[threadWriter0+i].event != evNone {
			continue // under way: its steps are listed above
		}
		if prune && s.sameAsEarlierWriter(i) {
			continue
		}
		who := uint8(i)
		switch {
		case !w.opened:
			if s.m.Gate().IsOpen() {
				ms = append(ms, move{kind: mvOpen, who: who})
			}
		case w.state == writerIdle:
			ms = append(ms, move{kind: mvAcquire, who: who})
		case w.state == writerHolding:
			ms = append(ms, move{kind: mvWrite, who: who}, move{kind: mvRelease, who: who})
		default:
			ms = append(ms, move{kind: mvRelease, who: who})
		}
		if w.state != writerIdle && w.stale != (fsm.Lease{}) && !w.staleUsed {
			ms = append(ms, move{kind: mvReleaseAgain, who: who})
		}
	}
	return append(ms, move{kind: mvIntrospect})
}

// sameAsEarlierWriter reports whether an earlier writer is in exactly the
// same state as writer i, so that i's moves are symmetric to its. Only
// without the gate's own steps: there the drain looks at the streams in
// their order, which breaks the symmetry.
func (s *sim) sameAsEarlierWriter(i int) bool {
	if s.steps {
		return false
	}
	for j := 0; j < i; j++ {
		if s.writers[j].state == s.writers[i].state {
			return true
		}
	}
	return false
}

// anyLease reports whether a writer holds a lease (the drain waits for it).
func (s *sim) anyLease() bool {
	if s.cfg.mutants.Has(hooks.CheckThenWrite) {
		return false // those writers take no lease: nothing for the drain to see
	}
	for _, w := range s.writers {
		if w.state != writerIdle {
			return true
		}
	}
	return false
}

// apply performs one move.
func (s *sim) apply(mv move) error {
	switch mv.kind {
	case mvEvent:
		event := eventID(mv.who)
		t := threadControl
		switch event {
		case evCallEnded:
			t = threadEnd
			s.ended++
			s.observe(Event{Kind: EvCallEnded})
		case evDupStart:
			t = threadDup
			s.dups++
			s.observe(Event{Kind: EvAttempt, Label: "start", Thread: threadDup})
		case evStart:
			s.starts++
		case evStop, evFail:
			s.stops++
		case evUpdateCompleted, evUpdateFailed:
			s.updates++
		default:
			return fmt.Errorf("properties: bad move %s", mv)
		}
		if t == threadControl {
			s.observe(Event{Kind: EvAttempt, Label: eventLabels[event], Thread: t})
		}
		s.start(t, event, s.machineEvent(event))
	case mvStep:
		s.resumeThread(int(mv.who), OutcomeNone)
	case mvReply:
		s.resumeThread(int(mv.who), Outcome(mv.arg))
	case mvAcquire, mvWrite, mvRelease, mvReleaseAgain, mvOpen:
		if int(mv.who) >= len(s.writers) {
			return fmt.Errorf("properties: bad move %s", mv)
		}
		s.writerMove(int(mv.who), mv.kind)
	case mvIntrospect:
		s.observe(Event{Kind: EvIntrospect, Label: "begin"})
		for _, t := range fsm.Triggers() {
			_ = s.m.CanFire(t)
		}
		_ = s.m.PermittedTriggers()
		_ = s.m.String()
		if !s.skipDiagram {
			_ = s.m.DOT()
		}
		s.skipDiagram = false
		s.observe(Event{Kind: EvIntrospect, Label: "end"})
	default:
		return fmt.Errorf("properties: bad move %s", mv)
	}
	return nil
}

// close lets every paused goroutine run to its end, one at a time: the
// writers first (so that no lease is left half taken), then the thread
// holding the machine's lock, then the others, so that even a mutant that
// lets two goroutines into the machine at once runs them in turn here.
func (s *sim) close() {
	s.aborting.Store(true)
	order := make([]int, 0, len(s.threads))
	for t := threadWriter0; t < len(s.threads); t++ {
		order = append(order, t)
	}
	if s.lockBy >= 0 {
		order = append(order, s.lockBy)
	}
	for t := 0; t < threadWriter0; t++ {
		if t != s.lockBy {
			order = append(order, t)
		}
	}
	released := false
	for _, t := range order {
		if t < threadWriter0 && !released {
			for i := range s.writers {
				s.writers[i].lease.Release()
			}
			released = true
		}
		th := s.threads[t]
		if !th.running {
			continue
		}
		th.resume <- OutcomeError
		for <-th.sig {
			// A goroutine that pauses again after the abort (it should not:
			// every pause returns at once) is let go on.
			th.resume <- OutcomeError
		}
		th.running = false
	}
}

// withHooks is the machine option that hands a machine to the checker
// (fsm installs it into internal/hooks; see there).
func withHooks(h *hooks.Hooks) fsm.Option { return hooks.MachineOption(h).(fsm.Option) }

// replay builds a fresh machine and applies path to it.
func replay(cfg ModelConfig, path []move, spawn func(func()), noEvents bool) (*sim, error) {
	s, err := newSim(cfg, spawn)
	if err != nil {
		return nil, err
	}
	s.noEvents = noEvents
	for _, mv := range path {
		if err := s.apply(mv); err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
}
