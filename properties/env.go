package properties

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/recgate/recgate/graph"
)

// Env is what the suite hands a bot factory: the Graph the bot talks to
// (an Updater whose replies the suite draws) and the Sink it persists to.
// Only what reaches the Sink is judged: a bot that also persists media
// elsewhere (its own files, a queue, a log) is judged on none of that.
type Env struct {
	// CallID is the call the bot is in. No two calls the suite plays in
	// one process have the same ID, as in production.
	CallID string
	// Streams is how many media streams the suite sends frames on
	// (stream numbers 0..Streams-1).
	Streams int
	// Updater is the Graph endpoint: pass it to fsm.New (it satisfies
	// fsm.Updater) or call it from your own code. It answers as
	// *graph.Client does.
	Updater *Updater
	// Sink is where the bot persists media; the bot's recording-ended hook
	// calls Sink.Flush.
	Sink *Sink

	mu      sync.Mutex
	world   World
	log     []Event
	broken  []Violation
	origins map[string]Origin // canary -> the frame that carried it
	stats   caseStats
	run     *runner // the case being played (set by the suite)
	// over is where the case ended in broken (-1 while it is played):
	// what breaks an invariant after that, the bot did later on its own.
	over int
	// peer is the other call the same process serves while the case
	// plays (the call under test and its neighbouring call point at each
	// other).
	peer *Env
	// foreign are the other call's frames (canary -> where they came
	// from, as this call sees them): found in this call's storage, they
	// are media of no recording of this call (P7).
	foreign map[string]Origin
	// neighbour marks the neighbouring call's Env; asked, that the suite
	// asked the bot to record it (startNeighbour).
	neighbour bool
	asked     atomic.Bool
	// framing is held, shared, while the neighbouring call's frame is
	// handed over and handled, and taken by a completed reply to a
	// request of that call's: the reply lands between frames, never inside
	// one (see landNeighbourReply).
	framing sync.RWMutex
	// startsRunning counts the neighbouring call's Start calls under way;
	// frameGoroutine is the goroutine running its Frame call, 0 if none.
	startsRunning  atomic.Int32
	frameGoroutine atomic.Uint64
	// repliesHeldOut counts its replies that waited the whole hold-back
	// limit for its frames (see landNeighbourReply).
	repliesHeldOut atomic.Int64
}

func newEnv(callID string, streams int) *Env {
	e := &Env{CallID: callID, Streams: streams, origins: make(map[string]Origin), over: -1}
	e.Updater = &Updater{env: e}
	e.Sink = &Sink{env: e}
	return e
}

// GateOpened tells the suite that the bot's gate has just opened. A bot
// that can tell (fsm's observer reports it) should call it: the suite then
// checks P4 and P5 at the very moment the gate opens, even when no frame
// is written. A bot that does not call it is still judged on every byte it
// persists (P1, P7, P9) and on what it sends to Graph; what it loses is the
// check of a gate that opens wrongly but happens to persist nothing.
func (e *Env) GateOpened() {
	// From a goroutine outside any bot call (a Start the bot runs on its
	// own goroutine), an opening may race a CallEnded still running: P5
	// judges it as it judges such a goroutine's request.
	// An opening while a Start call runs is that Start's, whatever
	// goroutine opens it (an actor the handler waits for): the handler
	// has not returned, so the bot knows of any Stop asked meanwhile.
	bg := e.run != nil && !e.run.inBotCall() && e.run.startsRunning.Load() == 0
	if e.neighbour {
		// An opening while the neighbouring call's Start runs is that
		// Start's; any other came from a goroutine of the bot's own.
		bg = e.startsRunning.Load() == 0
	}
	if e.run != nil {
		e.run.gateOpenings.Add(1)
	}
	e.observe(Event{Kind: EvGateOpen, background: bg})
}

// GateClosed tells the suite that the bot's gate has just closed (fsm's
// observer reports it: EventGate with Open false). A bot that can tell
// should call it: while a Stop, Fail or CallEnded runs, the suite then
// delivers a frame on every stream at that very moment, as media keeps
// coming, so a bot whose own admission outlives the gate (a writer
// session, a flag its hook clears) shows itself: between the gate closing
// and the hook nothing else of the suite runs unless a write holds a
// lease. The frames are handed over on goroutines of their own;
// GateClosed returns once the frames' delivery has returned or blocked
// (a Frame that blocks holds back the streams after it).
func (e *Env) GateClosed() {
	if r := e.run; r != nil {
		r.gateClosed()
	}
}

// observe records ev and checks every invariant on it.
func (e *Env) observe(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.observeLocked(ev)
}

// check checks the invariants on ev without logging it unless it breaks
// one (the suite looks at a reporting bot's gate after every step; the
// case's log keeps only the openings that matter).
func (e *Env) check(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if vs := e.world.Observe(ev); len(vs) > 0 {
		e.log = append(e.log, ev)
		e.broken = append(e.broken, e.mark(vs)...)
	}
}

// mark says, in each violation of the neighbouring call, whose it is.
func (e *Env) mark(vs []Violation) []Violation {
	if !e.neighbour {
		return vs
	}
	asked := "the suite never asked to record"
	if e.asked.Load() {
		asked = "the suite asked the bot to record at the start of the case"
	}
	for i := range vs {
		vs[i].Detail = fmt.Sprintf("in the neighbouring call %s, which the same process serves and %s: %s", e.CallID, asked, vs[i].Detail)
	}
	return vs
}

func (e *Env) observeLocked(ev Event) {
	if n := len(e.log); ev.Kind != EvGateOpen || n == 0 || e.log[n-1].Kind != EvGateOpen {
		e.log = append(e.log, ev) // "gate-open" once, however often it is seen open
	}
	e.broken = append(e.broken, e.mark(e.world.Observe(ev))...)
}

// arrive records that frame n reaches the bot on stream, carrying canary.
func (e *Env) arrive(n, stream int, canary string) {
	e.mu.Lock()
	o := e.world.Origin(n, stream, len(e.log)+1)
	e.origins[canary] = o
	if o.Interval != 0 {
		e.stats.framesOffered.Add(1)
	}
	e.observeLocked(Event{Kind: EvFrame, Stream: stream, Frame: n})
	e.mu.Unlock()
	if p := e.peer; p != nil && !e.neighbour {
		// Found in the neighbouring call's storage, the call under
		// test's frame is media of no recording of that call.
		p.foreignFrame(canary, n, stream, fmt.Sprintf("in the call under test %s, which the same process serves (its frame %d)", e.CallID, n))
	}
}

// foreignFrame records that canary is another call's frame n, which
// arrived on stream: found in this call's storage, it breaks P7.
func (e *Env) foreignFrame(canary string, n, stream int, phase string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.foreign == nil {
		e.foreign = make(map[string]Origin)
	}
	e.foreign[canary] = Origin{Frame: n, Stream: stream, At: len(e.log) + 1, Phase: phase}
}

func (e *Env) violations() []Violation {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Violation(nil), e.broken...)
}

// endCase marks the end of the case: later events are the bot's own,
// after the suite stopped playing.
func (e *Env) endCase() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, Event{Kind: EvQuiet, Label: "the case is over; what follows, the bot did later on its own"})
	e.over = len(e.broken)
}

// caseOver reports whether endCase has marked the end of the case.
func (e *Env) caseOver() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.over >= 0
}

// lateViolations are the invariants broken after the case ended.
func (e *Env) lateViolations() []Violation {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.over < 0 || len(e.broken) == e.over {
		return nil
	}
	return append([]Violation(nil), e.broken[e.over:]...)
}

func (e *Env) events() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Event(nil), e.log...)
}

func (e *Env) snapshot() World {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.world
}

// Sink records every persisted byte, and traces the media in it back to
// the frames the suite sent.
type Sink struct {
	env     *Env
	mu      sync.Mutex
	streams map[int][]byte
	writes  int
	// open is, per stream, the compressed member an earlier write left
	// unfinished (see streamedCanaries); readable counts, per stream, the
	// bytes stored that belonged to compressed members the sink read.
	open     map[int]*openMember
	readable map[int]int
}

// Write persists p on stream. A correct bot calls it only while it holds a
// lease on the gate, with media that arrived in the current recording.
func (s *Sink) Write(stream int, p []byte) (int, error) {
	if stream < 0 {
		return 0, fmt.Errorf("properties: Sink.Write(%d, ...): a Sink stream is a number from 0 up (frames of stream i go to Write(i, ...)): nothing was stored", stream)
	}
	if len(p) == 0 {
		return 0, nil // persists nothing, whenever it comes (a flush of an empty buffer at Close)
	}
	e := s.env
	s.mu.Lock()
	streamed, keep, overflow := s.streamedCanaries(stream, p)
	s.mu.Unlock()
	if overflow {
		e.stats.untracedCompressed.Add(1)
		e.observe(Event{Kind: EvQuiet, Label: fmt.Sprintf("stream %d: a compressed member grew past %d KiB: the rest of it is not traced", stream, maxInflated()>>10)})
	}
	media := e.trace(p, streamed...)
	if len(media) == 0 && e.untracedStream(stream) {
		// A stream the bot declared media-free (WithUntracedStreams) and
		// bytes in which no frame is found: control data (a manifest, a
		// log, an audit trail), which the rule does not time. Media found
		// on such a stream is judged as on any other.
		keep()
		s.store(stream, p)
		return len(p), nil
	}
	if r := e.run; r != nil && r.storageFault(stream, media) {
		return 0, ErrStorageFault
	}
	if r := e.run; r != nil {
		r.active.Add(1)
		defer r.active.Add(-1)
		r.waitOutStall(media)
		r.holdWhileStopping()
		r.slowStorage()
	}
	e.observe(Event{Kind: EvWriteBegin, Stream: stream, Media: media, FromSink: true})
	if r := e.run; r != nil {
		r.duringWrite()
	}
	keep()
	s.store(stream, p)
	e.observe(Event{Kind: EvWriteEnd, Stream: stream, Bytes: len(p)})
	return len(p), nil
}

// untracedStream reports whether the bot declared stream media-free
// (WithUntracedStreams): the neighbouring call has the same streams, and
// the options of the call under test.
func (e *Env) untracedStream(stream int) bool {
	r := e.run
	if r == nil && e.neighbour && e.peer != nil {
		r = e.peer.run
	}
	return r != nil && r.opts.untraced[stream]
}

// store keeps p on stream.
func (s *Sink) store(stream int, p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streams == nil {
		s.streams = make(map[int][]byte)
	}
	s.streams[stream] = append(s.streams[stream], p...)
	s.writes++
}

// trace finds the canaries in p (and takes those in also, found in a
// compressed member p continues) and returns where each came from.
func (e *Env) trace(p []byte, also ...string) []Origin {
	found := append(findCanaries(p), also...)
	if len(found) == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Origin
	for _, c := range found {
		if o, ok := e.origins[c]; ok {
			out = append(out, o)
		} else if o, ok := e.foreign[c]; ok {
			out = append(out, o)
		}
	}
	return out
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
// recording-ended hook calls it once everything it persisted is on disk.
// (The suite also delivers frames while the hook runs, as a real call
// does.)
func (s *Sink) Flush() error {
	if r := s.env.run; r != nil {
		r.duringFlush()
	}
	s.env.observe(Event{Kind: EvFlush})
	return nil
}

// Persisted returns how many bytes were persisted.
func (s *Sink) Persisted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, b := range s.streams {
		n += len(b)
	}
	return n
}

// persisted returns a copy of what each stream holds.
func (s *Sink) persisted() map[int][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int][]byte, len(s.streams))
	for k, v := range s.streams {
		out[k] = append([]byte(nil), v...)
	}
	return out
}

// Updater is the Graph the suite plays. It satisfies fsm.Updater and
// answers as *graph.Client does: a completed or pending operation with a
// nil error, a failed one with an *graph.OperationError, throttling (after
// the client's retries) and refusals as *graph.Error, a timeout as an
// error that matches context.DeadlineExceeded.
type Updater struct {
	env        *Env
	mu         sync.Mutex
	replies    []reply // the current step's
	armed      *step   // the current step, until its first request
	pending    *graph.Operation
	stale      []graph.Operation // earlier attempts' operations
	terminated bool
	seq        int
	// fromGoroutines counts the requests that belong to no bot call (see
	// runner.step).
	fromGoroutines atomic.Int64
}

// arm hands the Updater the step about to run: its drawn replies, and what
// happens while its first request is in flight.
func (u *Updater) arm(st *step) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.replies = append([]reply(nil), st.replies...)
	u.armed = st
}

// stillArmed reports whether the armed step's first request has not been
// sent yet.
func (u *Updater) stillArmed() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.armed != nil
}

func (u *Updater) disarm() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.replies, u.armed = nil, nil
}

// UpdateRecordingStatus answers from the drawn script. Input a real client
// would refuse is refused here too, before anything counts as sent.
func (u *Updater) UpdateRecordingStatus(ctx context.Context, callID string, status graph.Status, clientContext string) (graph.Operation, error) {
	e := u.env
	if callID != e.CallID {
		if other := playedCall(callID); other != nil && other != e {
			// One Graph client serves every call of the process: the
			// request is the call's it names, whichever Env handed out
			// the Updater it went through.
			return other.Updater.UpdateRecordingStatus(ctx, callID, status, clientContext)
		}
		return graph.Operation{}, fmt.Errorf("%w: call %q is not a call the suite plays (this Updater's call is %q)", graph.ErrInvalidRequest, callID, e.CallID)
	}
	if !status.Valid() {
		return graph.Operation{}, fmt.Errorf("%w: status %q", graph.ErrInvalidRequest, status)
	}
	if err := graph.ValidateClientContext(clientContext); err != nil {
		return graph.Operation{}, fmt.Errorf("%w: %w", graph.ErrInvalidRequest, err)
	}
	// A request from a goroutine that is not inside a bot call (a timer
	// of the machine's, a goroutine of the bot's) is not part of the
	// attempt the suite is playing: P3 does not count it in that attempt.
	// Unless it carries the context of a bot call still running (a sender
	// goroutine the handler waits for, see madeFor): then it is that
	// call's.
	outside := e.run != nil && !e.run.inBotCall()
	bg := outside && !madeFor(ctx, e) && !e.run.callAwaitsGraph(status)
	if e.neighbour {
		// The neighbouring call's request not made on the context of
		// one of that call's bot calls (a compliance bot's recording
		// loop): it may race the call's end, as such a request of the
		// call under test may.
		bg = !madeFor(ctx, e)
	}
	if bg {
		u.fromGoroutines.Add(1)
	}
	e.observe(Event{Kind: EvRequest, Status: status, ClientContext: clientContext, background: bg})

	u.mu.Lock()
	var r reply
	switch {
	case u.terminated:
		r = replyTerminated
	case len(u.replies) > 0:
		r, u.replies = u.replies[0], u.replies[1:]
	default:
		r = replyCompleted
	}
	st := u.armed
	u.armed = nil
	u.mu.Unlock()

	if st != nil && e.run != nil {
		// Frames, and a concurrent event, while the request is out; a
		// completed reply to a recording request opens the gate.
		e.run.whileInFlight(st, status == graph.StatusRecording && r.outcome == OutcomeCompleted)
	}
	if err := ctx.Err(); err != nil && r.outcome != OutcomeError && (st == nil || !st.lateReply) {
		// The bot gave up (or the call ended) while the request was out: as
		// with the real client, the caller sees its context's error.
		r = reply{outcome: OutcomeError, err: fmt.Errorf("graph: updateRecordingStatus: %w", err), text: "the request's context ended: " + err.Error()}
	}

	u.mu.Lock()
	u.seq++
	op := r.outcome.operation(fmt.Sprintf("op-%d", u.seq), clientContext)
	var err error
	var pending *graph.Operation
	switch r.outcome {
	case OutcomePending:
		if status == graph.StatusRecording {
			p := op
			pending = &p
		}
	case OutcomeFailed:
		// As *graph.Client does: the failed operation travels inside the
		// *graph.OperationError, and the Operation returned is zero.
		err = op.Err()
		op = graph.Operation{}
	case OutcomeError:
		err = r.err
		op = graph.Operation{}
		if r.terminates {
			u.terminated = true
		}
	}
	if status != graph.StatusRecording && u.pending != nil {
		// A report ends the pending attempt: a later update for it is stale.
		u.stale = append(u.stale, *u.pending)
		u.pending = nil
	}
	u.mu.Unlock()
	replied := func() {
		e.observe(Event{Kind: EvReply, Status: status, Outcome: r.outcome, Reply: r.describe(), Retryable: r.retryable, ClientContext: clientContext, background: bg,
			final: r.terminates || graph.IsNonCompliance(r.err), undecided: undecided(r)})
		if pending != nil {
			// Graph's operation exists for the suite's notifications only
			// once its reply is an event: an update step drawn meanwhile
			// (the bot's Start runs on a goroutine) would otherwise be a
			// real notification the world took as about no attempt, and
			// a bot that opened on it (correctly: Graph said completed)
			// broke P4.
			u.mu.Lock()
			if u.pending != nil {
				u.stale = append(u.stale, *u.pending)
			}
			u.pending = pending
			u.mu.Unlock()
		}
	}
	if outside && status == graph.StatusRecording && r.outcome == OutcomeCompleted {
		// Between frames, not inside one: also a goroutine's request on
		// its handler's context, whose handler may have returned by now.
		e.run.landReply(replied)
	} else if e.neighbour && bg && status == graph.StatusRecording && r.outcome == OutcomeCompleted {
		// (Not a request a frame's own handler makes: it would wait for
		// itself.)
		e.landNeighbourReply(replied)
	} else {
		replied()
	}
	return op, err
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

// update returns Graph's later notification: for the pending recording
// operation with the drawn status, or, when stale is drawn or nothing is
// pending, one for an earlier attempt (or an attempt that never was). real
// reports whether it is about the current attempt.
func (u *Updater) update(status graph.OperationStatus, stale bool) (op graph.Operation, real bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.pending == nil || stale {
		op = graph.Operation{ODataType: graph.OperationODataType, ID: "op-stale", ClientContext: "stale-client-context", Status: status}
		if n := len(u.stale); n > 0 {
			op = u.stale[n-1]
			op.Status = status
		}
		return op, false
	}
	op = *u.pending
	op.Status = status
	if status != graph.OperationRunning {
		u.stale = append(u.stale, *u.pending)
		u.pending = nil
	}
	return op, true
}

// undecided reports an error reply that says nothing of what Graph did
// with the request: a timeout (or the caller's context ending), or a 5xx
// the rule does not let the same request retry (500, 502).
func undecided(r reply) bool {
	if r.outcome != OutcomeError || r.retryable || r.terminates || graph.IsNonCompliance(r.err) {
		return false
	}
	var ge *graph.Error
	if errors.As(r.err, &ge) {
		return ge.StatusCode >= 500
	}
	return errors.Is(r.err, context.DeadlineExceeded) || errors.Is(r.err, context.Canceled)
}
