package properties

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/recgate/recgate/graph"
)

// Env is what the suite hands a bot factory: the Graph the bot talks to
// (an Updater whose replies the suite draws) and the Sink it persists to.
type Env struct {
	// CallID is the call the bot is in.
	CallID string
	// Streams is how many media streams the suite sends frames on
	// (stream numbers 0..Streams-1).
	Streams int
	// Updater is the Graph endpoint: pass it to fsm.New (it satisfies
	// fsm.Updater) or call it from your own code.
	Updater *Updater
	// Sink is where the bot persists media; the bot's recording-ended hook
	// calls Sink.Flush.
	Sink *Sink

	mu        sync.Mutex
	world     World
	log       []Event
	broken    []Violation
	wait      time.Duration
	interrupt func(what string) // runs a bot event concurrently (set by the suite)
}

func newEnv(callID string, streams int) *Env {
	e := &Env{CallID: callID, Streams: streams, wait: 20 * time.Millisecond}
	e.Updater = &Updater{env: e}
	e.Sink = &Sink{env: e}
	return e
}

// GateOpened tells the suite that the bot's gate has just opened. A bot
// that can tell (fsm's observer reports it) should call it: the suite then
// checks P4 and P5 at the very moment, not only between events.
func (e *Env) GateOpened() { e.observe(Event{Kind: EvGateOpen}) }

// observe records e and checks every invariant on it.
func (e *Env) observe(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, ev)
	e.broken = append(e.broken, e.world.Observe(ev)...)
}

func (e *Env) violations() []Violation {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Violation(nil), e.broken...)
}

func (e *Env) events() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Event(nil), e.log...)
}

// reply is a scripted Graph answer. Requests with no scripted answer (those
// of events run concurrently) get completed.
type reply struct {
	outcome Outcome
	err     error // for OutcomeError
	// interrupt, if set, is a bot event the suite runs concurrently while
	// this request is in flight ("stop", "callEnded").
	interrupt string
}

// Updater is the Graph the suite draws. It satisfies fsm.Updater.
type Updater struct {
	env        *Env
	mu         sync.Mutex
	script     []reply
	pending    *graph.Operation
	terminated bool
	seq        int
}

func (u *Updater) push(r reply) {
	u.mu.Lock()
	u.script = append(u.script, r)
	u.mu.Unlock()
}

func (u *Updater) clear() {
	u.mu.Lock()
	u.script = nil
	u.mu.Unlock()
}

func (u *Updater) next() reply {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.terminated {
		return reply{outcome: OutcomeError, err: &graph.Error{StatusCode: 404, Code: "8501", Message: "call terminated"}}
	}
	if len(u.script) == 0 {
		return reply{outcome: OutcomeCompleted}
	}
	r := u.script[0]
	u.script = u.script[1:]
	return r
}

// UpdateRecordingStatus answers from the drawn script.
func (u *Updater) UpdateRecordingStatus(ctx context.Context, callID string, status graph.Status, clientContext string) (graph.Operation, error) {
	e := u.env
	e.observe(Event{Kind: EvRequest, Status: status})
	r := u.next()
	if r.interrupt != "" && e.interrupt != nil {
		e.interrupt(r.interrupt)
	}
	u.mu.Lock()
	u.seq++
	op := r.outcome.operation(fmt.Sprintf("op-%d", u.seq), clientContext)
	var err error
	switch r.outcome {
	case OutcomePending:
		if status == graph.StatusRecording {
			pending := op
			u.pending = &pending
		}
	case OutcomeError:
		err = r.err
		var ge *graph.Error
		if errors.As(err, &ge) && ge.StatusCode == 404 {
			u.terminated = true
		}
	}
	u.mu.Unlock()
	e.observe(Event{Kind: EvReply, Status: status, Outcome: r.outcome})
	if err != nil {
		return graph.Operation{}, err
	}
	return op, nil
}

// operation is Graph's reply for an outcome (its status; resultInfo for a
// failure). For OutcomeError there is no operation; the caller returns an
// error instead.
func (o Outcome) operation(id, clientContext string) graph.Operation {
	op := graph.Operation{ODataType: graph.OperationODataType, ID: id, ClientContext: clientContext}
	switch o {
	case OutcomeCompleted:
		op.Status = graph.OperationCompleted
	case OutcomePending:
		op.Status = graph.OperationRunning
	case OutcomeFailed:
		op.Status = graph.OperationFailed
		op.ResultInfo = &graph.ResultInfo{Code: 500, Subcode: 7000, Message: "failure drawn by the checker"}
	}
	return op
}

// pendingUpdate returns Graph's later notification for the pending
// recording operation, with the drawn status, or a stale one if nothing is
// pending.
func (u *Updater) pendingUpdate(status graph.OperationStatus) (graph.Operation, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.pending == nil {
		return graph.Operation{ID: "op-stale", ClientContext: "stale-client-context", Status: status}, false
	}
	op := *u.pending
	op.Status = status
	if status != graph.OperationRunning {
		u.pending = nil
	}
	return op, true
}

// Sink records every persisted byte, with the time it was written.
type Sink struct {
	env   *Env
	mu    sync.Mutex
	bytes [][]byte
	times []time.Time
	// interruptNext, if set, is a bot event the suite runs concurrently
	// while the next write is under way.
	interruptNext string
}

// Write persists p on stream. A correct bot calls it only while it holds a
// lease on the gate.
func (s *Sink) Write(stream int, p []byte) (int, error) {
	e := s.env
	e.observe(Event{Kind: EvWriteBegin, Stream: stream})
	s.mu.Lock()
	what := s.interruptNext
	s.interruptNext = ""
	s.mu.Unlock()
	if what != "" && e.interrupt != nil {
		e.interrupt(what)
	}
	s.mu.Lock()
	s.bytes = append(s.bytes, append([]byte(nil), p...))
	s.times = append(s.times, time.Now())
	s.mu.Unlock()
	e.observe(Event{Kind: EvWriteEnd, Stream: stream, Bytes: len(p)})
	return len(p), nil
}

// Stream returns an io.Writer that persists to stream i (Write(i, p)):
// hand it to code that writes media to an io.Writer.
func (s *Sink) Stream(i int) io.Writer { return streamWriter{s: s, i: i} }

type streamWriter struct {
	s *Sink
	i int
}

func (w streamWriter) Write(p []byte) (int, error) { return w.s.Write(w.i, p) }

// Flush marks the recording as flushed and closed: the bot's
// recording-ended hook calls it.
func (s *Sink) Flush() error {
	s.env.observe(Event{Kind: EvFlush})
	return nil
}

// Persisted returns how many bytes were persisted.
func (s *Sink) Persisted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, b := range s.bytes {
		n += len(b)
	}
	return n
}
