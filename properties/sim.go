package properties

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/internal/hooks"
)

// The model checker drives the real fsm.Machine. Its goroutines (one for
// the bot's events, one for the call-ended notification) run one at a
// time: the machine pauses at the points internal/hooks names, the
// simulated Graph pauses at each request until the checker picks a reply,
// and the K writers are moved by the checker itself, one lease operation at
// a time. A state of the product is reached again by replaying its path
// from a fresh machine; nothing of the machine is copied or modelled.

// point is where a thread is paused.
type point int

const (
	atIdle    point = iota // no event under way
	atHook                 // paused at an internal/hooks point (hookPoint)
	atRequest              // paused inside a Graph request, waiting for a reply
)

const (
	threadControl = 0 // Start, Stop, Fail, OperationUpdate
	threadEnd     = 1 // CallEnded
	threadDup     = 2 // a second Start, as a duplicated notification makes
)

var threadNames = []string{"control", "end", "dup"}

type thread struct {
	name      string
	event     string // the event under way
	at        point
	hookPoint hooks.Point
	status    graph.Status // of the request it waits in
	resume    chan Outcome
	pause     chan struct{}
}

type writerState int

const (
	writerIdle writerState = iota
	writerHolding
	writerWritten
)

// sim is one replay of one path.
type sim struct {
	cfg     ModelConfig
	m       *fsm.Machine
	streams []*fsm.Stream
	leases  []fsm.Lease
	writers []writerState
	threads [3]*thread
	active  int // the thread running now, -1 for none
	lockBy  int // the thread holding the machine's lock, -1 for none

	world      World
	violations []Violation
	events     []Event

	starts, stops, updates, ended, dups int
	epoch                               uint64
	pending                             *graph.Operation
	opSeq                               int
	persists                            int

	aborting atomic.Bool
}

// ModelConfig bounds the model the checker explores.
type ModelConfig struct {
	// Writers is K, the number of concurrent media writers (default 2).
	Writers int
	// Starts and Stops bound how many Start and Stop/Fail events a path has
	// (default 2 each); Updates bounds operation updates (default 1).
	Starts, Stops, Updates int
	// Outcomes are the replies Graph may give each request (default:
	// completed, pending, failed, error).
	Outcomes []Outcome
	// MaxStates stops the search early (0: no bound).
	MaxStates int

	mutants hooks.Mutant
}

func (c ModelConfig) withDefaults() ModelConfig {
	if c.Writers == 0 {
		c.Writers = 2
	}
	if c.Starts == 0 {
		c.Starts = 2
	}
	if c.Stops == 0 {
		c.Stops = 2
	}
	if c.Updates == 0 {
		c.Updates = 1
	}
	if len(c.Outcomes) == 0 {
		c.Outcomes = []Outcome{OutcomeCompleted, OutcomePending, OutcomeFailed, OutcomeError}
	}
	return c
}

func (c ModelConfig) validate() error {
	switch {
	case c.Writers < 0 || c.Writers > 6:
		return fmt.Errorf("properties: %d writers: the model checker takes 0 to 6", c.Writers)
	case c.Starts < 0 || c.Stops < 0 || c.Updates < 0:
		return errors.New("properties: negative event bounds")
	}
	return nil
}

func newSim(cfg ModelConfig) (*sim, error) {
	s := &sim{cfg: cfg, active: -1, lockBy: -1}
	for i := range s.threads {
		s.threads[i] = &thread{name: threadNames[i]}
	}
	h := &hooks.Hooks{Yield: s.yield, Lock: s.lockHook, Unlock: s.unlockHook, Mutants: cfg.mutants}
	m, err := fsm.New(suiteCallID, fsm.UpdaterFunc(s.update),
		withHooks(h),
		fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error {
			s.observe(Event{Kind: EvFlush}) // observe ignores it once aborting
			return nil
		}),
		fsm.WithObserver(func(e fsm.Event) {
			if s.aborting.Load() || e.Kind != fsm.EventGate {
				return
			}
			s.epoch = e.Epoch
			if e.Open {
				s.observe(Event{Kind: EvGateOpen})
			}
		}))
	if err != nil {
		return nil, err
	}
	s.m = m
	for i := 0; i < cfg.Writers; i++ {
		s.streams = append(s.streams, m.Gate().NewStream())
		s.leases = append(s.leases, fsm.Lease{})
		s.writers = append(s.writers, writerIdle)
	}
	return s, nil
}

func (s *sim) observe(e Event) {
	if s.aborting.Load() {
		return
	}
	s.events = append(s.events, e)
	s.violations = append(s.violations, s.world.Observe(e)...)
}

// yield is the machine's pause: hand control back to the checker and wait.
func (s *sim) yield(p hooks.Point) {
	if s.aborting.Load() {
		return
	}
	th := s.threads[s.active]
	th.at, th.hookPoint = atHook, p
	s.park(th)
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
	th.pause <- struct{}{}
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
	th.at, th.status = atRequest, status
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

// start runs event on thread t until it pauses or finishes.
func (s *sim) start(t int, event string) {
	th := s.threads[t]
	th.event = event
	th.pause = make(chan struct{})
	th.resume = make(chan Outcome)
	s.active = t
	go func() {
		ctx := context.Background()
		switch event {
		case "start":
			_, _ = s.m.Start(ctx)
		case "stop":
			_ = s.m.Stop(ctx)
		case "fail":
			_ = s.m.Fail(ctx)
		case "update:completed", "update:failed":
			op := graph.Operation{ClientContext: "none", Status: graph.OperationCompleted}
			if s.pending != nil {
				op = *s.pending
			}
			if event == "update:failed" {
				op.Status = graph.OperationFailed
			} else {
				op.Status = graph.OperationCompleted
			}
			if s.pending != nil && !s.aborting.Load() {
				s.observe(Event{Kind: EvUpdate, Outcome: map[bool]Outcome{true: OutcomeCompleted, false: OutcomeFailed}[event == "update:completed"]})
			}
			_ = s.m.OperationUpdate(ctx, op)
		case "callEnded":
			_ = s.m.CallEnded(ctx)
		}
		if !s.aborting.Load() {
			th.at = atIdle
			th.event = ""
		}
		close(th.pause)
	}()
	s.wait(th)
}

// wait blocks until the running thread pauses or finishes.
func (s *sim) wait(th *thread) {
	if _, open := <-th.pause; !open {
		th.pause = nil
	}
	s.active = -1
}

func (s *sim) resumeThread(t int, out Outcome) {
	th := s.threads[t]
	s.active = t
	th.resume <- out
	s.wait(th)
}

// move is one step of the product: a bot event, a step of a paused thread,
// a Graph reply, a writer's lease operation, or introspection.
type move string

// enabled lists the moves possible now, in a fixed order.
func (s *sim) enabled() []move {
	var ms []move
	ctl, end := s.threads[threadControl], s.threads[threadEnd]
	if ctl.event == "" {
		if s.starts < s.cfg.Starts {
			ms = append(ms, "ev:start")
		}
		if s.stops < s.cfg.Stops {
			ms = append(ms, "ev:stop", "ev:fail")
		}
		if s.updates < s.cfg.Updates && s.pending != nil {
			ms = append(ms, "ev:update:completed", "ev:update:failed")
		}
	}
	if end.event == "" && s.ended == 0 {
		ms = append(ms, "ev:callEnded")
	}
	if dup := s.threads[threadDup]; dup.event == "" && s.dups == 0 && ctl.event == "start" {
		// A second Start while the first is under way.
		ms = append(ms, "ev:dup:start")
	}
	for t, th := range s.threads {
		if th.event == "" {
			continue
		}
		switch th.at {
		case atHook:
			if th.hookPoint == hooks.Lock && s.lockBy != -1 && s.lockBy != t {
				continue // blocked on the machine's lock
			}
			if th.hookPoint == hooks.DrainWait && s.anyLease() {
				continue // blocked until a lease is released
			}
			ms = append(ms, move(fmt.Sprintf("step:%s", th.name)))
		case atRequest:
			for _, o := range s.cfg.Outcomes {
				ms = append(ms, move(fmt.Sprintf("reply:%s:%s", th.name, o)))
			}
		}
	}
	for i, w := range s.writers {
		switch w {
		case writerIdle:
			ms = append(ms, move(fmt.Sprintf("w%d:acquire", i)))
		case writerHolding:
			ms = append(ms, move(fmt.Sprintf("w%d:write", i)), move(fmt.Sprintf("w%d:release", i)))
		case writerWritten:
			ms = append(ms, move(fmt.Sprintf("w%d:release", i)))
		}
	}
	ms = append(ms, "introspect")
	return ms
}

// anyLease reports whether a writer holds a lease (the drain waits for it).
func (s *sim) anyLease() bool {
	if s.cfg.mutants.Has(hooks.CheckThenWrite) {
		return false // those writers take no lease: nothing for the drain to see
	}
	for _, w := range s.writers {
		if w != writerIdle {
			return true
		}
	}
	return false
}

// apply performs one move.
func (s *sim) apply(mv move) error {
	parts := strings.Split(string(mv), ":")
	switch {
	case parts[0] == "ev":
		event := strings.Join(parts[1:], ":")
		t := threadControl
		switch {
		case event == "callEnded":
			t = threadEnd
			s.ended++
			s.observe(Event{Kind: EvCallEnded})
		case event == "dup:start":
			t, event = threadDup, "start"
			s.dups++
			s.observe(Event{Kind: EvAttempt, Label: "start", Thread: threadDup})
		case event == "start":
			s.starts++
		case event == "stop" || event == "fail":
			s.stops++
		case strings.HasPrefix(event, "update"):
			s.updates++
		}
		if t == threadControl {
			s.observe(Event{Kind: EvAttempt, Label: event, Thread: t})
		}
		s.start(t, event)
	case parts[0] == "step":
		s.resumeThread(s.threadIndex(parts[1]), OutcomeNone)
	case parts[0] == "reply":
		s.resumeThread(s.threadIndex(parts[1]), parseOutcome(parts[2]))
	case strings.HasPrefix(parts[0], "w"):
		var i int
		if _, err := fmt.Sscanf(parts[0], "w%d", &i); err != nil || i >= len(s.writers) {
			return fmt.Errorf("properties: bad move %q", mv)
		}
		s.writerMove(i, parts[1])
	case parts[0] == "introspect":
		s.observe(Event{Kind: EvIntrospect, Label: "begin"})
		for _, t := range fsm.Triggers() {
			_ = s.m.CanFire(t)
		}
		_ = s.m.PermittedTriggers()
		_ = s.m.DOT()
		s.observe(Event{Kind: EvIntrospect, Label: "end"})
	default:
		return fmt.Errorf("properties: bad move %q", mv)
	}
	return nil
}

func (s *sim) threadIndex(name string) int {
	for i, n := range threadNames {
		if n == name {
			return i
		}
	}
	return threadControl
}

func parseOutcome(s string) Outcome {
	for o := OutcomeNone; o <= OutcomeError; o++ {
		if o.String() == s {
			return o
		}
	}
	return OutcomeError
}

func (s *sim) writerMove(i int, op string) {
	switch op {
	case "acquire":
		if s.cfg.mutants.Has(hooks.CheckThenWrite) {
			if s.m.Gate().IsOpen() {
				s.writers[i] = writerHolding
				s.observe(Event{Kind: EvWriteBegin, Stream: i})
			}
			return
		}
		l, err := s.streams[i].Acquire()
		if err == nil {
			s.leases[i] = l
			s.writers[i] = writerHolding
			s.observe(Event{Kind: EvWriteBegin, Stream: i})
		}
	case "write":
		s.writers[i] = writerWritten
		s.persists++
		s.observe(Event{Kind: EvWriteEnd, Stream: i, Bytes: 1})
	case "release":
		if s.writers[i] == writerHolding {
			// Released without writing: the write never happened.
			s.observe(Event{Kind: EvWriteEnd, Stream: i, Bytes: 0})
		}
		s.leases[i].Release()
		s.leases[i] = fsm.Lease{}
		s.writers[i] = writerIdle
	}
}

// key is the abstract state: everything that decides what can happen next.
func (s *sim) key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|gate=%v|epoch=%d|", s.m.State(), s.m.Gate().IsOpen(), s.epoch)
	for _, th := range s.threads {
		fmt.Fprintf(&b, "%s@%d/%d/%s|", th.event, th.at, th.hookPoint, th.status)
	}
	fmt.Fprintf(&b, "lock=%d|w=%v|pend=%v|n=%d,%d,%d,%d,%d|", s.lockBy, s.writers, s.pending != nil, s.starts, s.stops, s.updates, s.ended, s.dups)
	w := s.world
	fmt.Fprintf(&b, "world=%v,%d,%v,%s,%v,%d,%d,%v", w.Confirmed, w.LastRecordingOutcome, w.Reported, w.LastReport, w.Ended, w.InFlight, w.Writing, w.UnflushedWrites)
	return b.String()
}

// close lets every paused goroutine run to its end, one at a time (the one
// holding the machine's lock first), so that even a mutant that lets two
// goroutines into the machine at once runs them in turn here.
func (s *sim) close() {
	s.aborting.Store(true)
	for i := range s.leases {
		s.leases[i].Release()
	}
	order := make([]int, 0, len(s.threads))
	if s.lockBy >= 0 {
		order = append(order, s.lockBy)
	}
	for t := range s.threads {
		if t != s.lockBy {
			order = append(order, t)
		}
	}
	for _, t := range order {
		th := s.threads[t]
		if th.pause == nil || th.event == "" {
			continue
		}
		th.resume <- OutcomeError
		for range th.pause {
		}
	}
}

// withHooks is the machine option that hands a machine to the checker
// (fsm installs it into internal/hooks; see there).
func withHooks(h *hooks.Hooks) fsm.Option { return hooks.MachineOption(h).(fsm.Option) }

// replay builds a fresh machine and applies path to it.
func replay(cfg ModelConfig, path []move) (*sim, error) {
	s, err := newSim(cfg)
	if err != nil {
		return nil, err
	}
	for _, mv := range path {
		if err := s.apply(mv); err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
}
