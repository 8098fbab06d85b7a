package roundthirteen

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// The first team of this round writes every call as an actor: ONE
// goroutine owns the call's machine and its media path and consumes a
// mailbox of events. Frames are posted and the media socket's handler
// returns at once (a full mailbox drops the frame: live audio never
// blocks the socket); Start, Stop, Fail and operation updates are posted
// with a reply channel the handler waits on. "No locks: the actor is the
// only one who touches the machine." The hang-up (CallEnded) goes to the
// machine directly, since fsm's CallEnded is safe beside anything.
//
// What the bots below vary is when a frame is judged: when the actor
// gets to it, or when it arrived (a stamp of the recording it arrived
// in); and whether a Stop closes admission at once or only when the
// actor gets to it.

// mailboxDepth is the actor's mailbox: about a second of audio on a few
// streams.
const mailboxDepth = 256

// errMailboxFull is a frame dropped because the actor is behind.
var errMailboxFull = errors.New("roundthirteen: the call's actor is behind; frame dropped")

// errActorGone is what a handler gets once the actor has stopped.
var errActorGone = errors.New("roundthirteen: the call's actor has stopped; event not handled")

// actorEvent is one entry of the mailbox: a frame, or a control event
// the actor runs and answers.
type actorEvent struct {
	// a frame
	stream  int
	payload []byte
	stamp   uint64 // the recording open for admission when it arrived; 0: none
	// a control event
	ctx  context.Context
	run  func(context.Context) error
	done chan error
}

// actorBot is the call's actor around the README's machine.
type actorBot struct {
	*fsmBot
	// stamped: a frame is stamped on arrival with the recording open
	// then, and the actor writes it only into that recording; otherwise
	// the actor asks the gate when it gets to the frame.
	stamped bool
	// preClose: Stop and Fail close admission at once, before they wait
	// in the mailbox; otherwise admission closes when the actor runs them.
	preClose bool

	mailbox chan actorEvent
	quit    chan struct{}
	exited  chan struct{}
	once    sync.Once

	recordings atomic.Uint64 // recordings opened so far
	rec        atomic.Uint64 // the recording fsm's gate is open for; 0: closed
	admit      atomic.Uint64 // the recording frames are admitted to; 0: none
	stopsAsked atomic.Int32  // Stops and Fails asked and not yet run by the actor
}

func newActorBot(env *properties.Env, stamped, preClose bool) (*actorBot, error) {
	b := &actorBot{stamped: stamped, preClose: preClose,
		mailbox: make(chan actorEvent, mailboxDepth), quit: make(chan struct{}), exited: make(chan struct{})}
	base, err := newFSMBot(env, wiring{ownGateReports: stamped, observer: b.observe})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	go b.loop()
	return b, nil
}

// NewActorStamped is the actor done right: a frame is stamped with the
// recording admitted when it arrived and written (under a lease) only
// into that recording, in mailbox order, so the frames posted before a
// Stop are written before the actor runs it; Stop and Fail close
// admission the moment they are asked, so a completed that reaches a
// Start still in the actor's hands admits nothing.
func NewActorStamped(env *properties.Env) (properties.Bot, error) {
	return newActorBot(env, true, true)
}

// NewActorChecksLate judges a frame when the actor gets to it: "the
// actor owns the state, so it asks the gate itself". While the actor
// waits in the machine's Start for Graph, frames pile up in the mailbox;
// once Graph says completed the gate is open, and the actor writes the
// frames that arrived before consent.
func NewActorChecksLate(env *properties.Env) (properties.Bot, error) {
	return newActorBot(env, false, false)
}

// NewActorStopQueued stamps frames, but a Stop waits its turn in the
// mailbox: "everything goes through the actor, in order". A Stop asked
// while the actor waits in Start for Graph is run after Start: when
// Graph says completed the recording opens, after the user said stop,
// and frames are admitted and written until the actor gets to the Stop.
func NewActorStopQueued(env *properties.Env) (properties.Bot, error) {
	return newActorBot(env, true, false)
}

// observe keeps the recording numbers and tells the suite about the
// admission gate (the stamped actors' gate is admission, not fsm's).
func (b *actorBot) observe(e fsm.Event) {
	if e.Kind != fsm.EventGate {
		return
	}
	if !e.Open {
		b.rec.Store(0)
		if b.admit.Swap(0) != 0 && b.stamped {
			b.env.GateClosed()
		}
		return
	}
	n := b.recordings.Add(1)
	b.rec.Store(n)
	if b.preClose && b.stopsAsked.Load() > 0 {
		return // a Stop is on its way: admit nothing
	}
	b.admit.Store(n)
	if b.stamped {
		b.env.GateOpened()
	}
}

// loop is the actor.
func (b *actorBot) loop() {
	defer close(b.exited)
	for {
		select {
		case <-b.quit:
			return
		case ev := <-b.mailbox:
			if ev.run != nil {
				ev.done <- ev.run(ev.ctx)
				continue
			}
			b.write(ev)
		}
	}
}

// write persists one frame, if its recording is still the open one.
func (b *actorBot) write(ev actorEvent) {
	if b.stamped && (ev.stamp == 0 || ev.stamp != b.rec.Load()) {
		return // arrived outside this recording
	}
	lease, err := b.streams[ev.stream].Acquire()
	if err != nil {
		return
	}
	defer lease.Release()
	if _, err := b.sink.Write(ev.stream, ev.payload); errors.Is(err, properties.ErrStorageFault) {
		_, _ = b.sink.Write(ev.stream, ev.payload) // one retry, under the same lease
	}
}

// ask posts a control event and waits for the actor's answer.
func (b *actorBot) ask(ctx context.Context, run func(context.Context) error) error {
	ev := actorEvent{ctx: ctx, run: run, done: make(chan error, 1)}
	select {
	case b.mailbox <- ev:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.exited:
		return errActorGone
	}
	select {
	case err := <-ev.done:
		return err
	case <-b.exited:
		return errActorGone
	}
}

// Frame posts the frame, stamped with the recording admitted now.
func (b *actorBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	ev := actorEvent{stream: stream, payload: append([]byte(nil), payload...)}
	if b.stamped {
		if ev.stamp = b.admit.Load(); ev.stamp == 0 {
			return errNotOpen
		}
	}
	select {
	case b.mailbox <- ev:
		return nil
	default:
		return errMailboxFull
	}
}

// Start asks the actor to start the recording.
func (b *actorBot) Start(ctx context.Context) error {
	return b.ask(ctx, func(ctx context.Context) error { _, err := b.m.Start(ctx); return err })
}

// Stop closes admission (preClose) and asks the actor to stop.
func (b *actorBot) Stop(ctx context.Context) error { return b.stop(ctx, b.m.Stop) }

// Fail is Stop that reports failed.
func (b *actorBot) Fail(ctx context.Context) error { return b.stop(ctx, b.m.Fail) }

func (b *actorBot) stop(ctx context.Context, machine func(context.Context) error) error {
	if b.preClose {
		b.stopsAsked.Add(1)
		if b.admit.Swap(0) != 0 && b.stamped {
			b.env.GateClosed()
		}
	}
	return b.ask(ctx, func(ctx context.Context) error {
		if b.preClose {
			defer b.stopsAsked.Add(-1)
		}
		return machine(ctx)
	})
}

// OperationUpdate hands Graph's later outcome to the actor.
func (b *actorBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return b.ask(ctx, func(ctx context.Context) error { return b.m.OperationUpdate(ctx, op) })
}

// CallEnded ends the machine at once, beside the actor.
func (b *actorBot) CallEnded(ctx context.Context) error {
	b.stopsAsked.Add(1) // for good: nothing is admitted after the call
	if b.admit.Swap(0) != 0 && b.stamped {
		b.env.GateClosed()
	}
	return b.m.CallEnded(ctx)
}

// Close lets the actor finish what is in its mailbox, then stops it.
func (b *actorBot) Close(ctx context.Context) error {
	err := b.ask(ctx, func(context.Context) error { return nil })
	b.once.Do(func() { close(b.quit) })
	<-b.exited
	if errors.Is(err, errActorGone) {
		return nil
	}
	return err
}

// GateOpen reports the admission gate for the stamped actors, fsm's gate
// otherwise.
func (b *actorBot) GateOpen() bool {
	if b.stamped {
		return b.admit.Load() != 0
	}
	return b.m.Gate().IsOpen()
}
