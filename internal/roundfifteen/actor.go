package roundfifteen

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// The first team of this round serializes a call's control events on a
// control actor: one goroutine runs every Start, Stop, Fail and operation
// update of the call, in the order the webhooks came ("Teams' webhooks
// arrive concurrently and out of order; one goroutine per call is the
// simplest way to make them one at a time"). A handler posts a job and
// waits for its answer. Following "do not store contexts in structs", a
// job carries no context: the actor runs each with a deadline of its own
// on the actor's lifetime context, cancelled when the bot shuts down.
// Media goes straight to fsm's gate, under a lease, while the bot admits
// it: Stop and Fail close admission the moment they are asked, before
// their job waits in the mailbox (a Stop queued behind a Start whose
// completed is on its way must not let the recording open; round
// thirteen's ActorStopQueued), and a Start's job opens it again only if
// no Stop or Fail was asked since that Start.
//
// To the suite the actor's requests carry no bot call's context
// (properties/play.go madeFor), and the handler that waits for them waits
// in the actor's mailbox, not inside an fsm.Updater's
// UpdateRecordingStatus (runner.callAwaitsGraph): they are nobody's.

// actorJobTimeout bounds one job the actor runs.
const actorJobTimeout = 5 * time.Second

// errActorGone is what a handler gets once the actor has stopped.
var errActorGone = errors.New("roundfifteen: the call's control actor has stopped; event not handled")

// controlActor is the call's control goroutine.
type controlActor struct {
	life     context.Context
	shutdown context.CancelFunc
	jobs     chan func(context.Context)
	exited   chan struct{}
	once     sync.Once
}

func newControlActor() *controlActor {
	life, shutdown := context.WithCancel(context.Background())
	a := &controlActor{life: life, shutdown: shutdown, jobs: make(chan func(context.Context)), exited: make(chan struct{})}
	go a.run()
	return a
}

func (a *controlActor) run() {
	defer close(a.exited)
	for {
		select {
		case <-a.life.Done():
			return
		case job := <-a.jobs:
			ctx, cancel := context.WithTimeout(a.life, actorJobTimeout)
			job(ctx)
			cancel()
		}
	}
}

// do posts job and waits for its answer (or for the caller's context).
func (a *controlActor) do(ctx context.Context, job func(context.Context) error) error {
	answer := make(chan error, 1)
	select {
	case a.jobs <- func(jctx context.Context) { answer <- job(jctx) }:
	case <-ctx.Done():
		return ctx.Err()
	case <-a.life.Done():
		return errActorGone
	}
	select {
	case err := <-answer:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close stops the actor and waits for it.
func (a *controlActor) close() {
	a.once.Do(a.shutdown)
	<-a.exited
}

// actorBot is the README wiring behind the control actor. With
// stopOnHangup, the hang-up is a job too, and it first stops a recording
// in progress ("clear Graph's indicator before we leave the call"); with
// refreshIndicator, the Stop job sends notRecording once more after the
// machine's ("Teams' red dot sometimes sticks").
type actorBot struct {
	*fsmBot
	actor            *controlActor
	closed           atomic.Bool   // admission closed by Stop or Fail
	stopsAsked       atomic.Uint64 // Stops and Fails asked so far
	stopOnHangup     bool
	refreshIndicator bool
}

func newActorBot(env *properties.Env, stopOnHangup, refreshIndicator bool) (*actorBot, error) {
	b := &actorBot{stopOnHangup: stopOnHangup, refreshIndicator: refreshIndicator}
	base, err := newFSMBot(env, wiring{admits: func() bool { return !b.closed.Load() }})
	if err != nil {
		return nil, err
	}
	b.fsmBot, b.actor = base, newControlActor()
	return b, nil
}

// NewActorControl is the control actor done right: the hang-up goes to
// the machine at once (fsm's CallEnded is safe beside anything and closes
// the gate first), and Stop reports once.
func NewActorControl(env *properties.Env) (properties.Bot, error) {
	return newActorBot(env, false, false)
}

// NewHangupStopsViaActor stops the recording when the call ends, on the
// actor: notRecording goes to a call that is gone (P5).
func NewHangupStopsViaActor(env *properties.Env) (properties.Bot, error) {
	return newActorBot(env, true, false)
}

// NewDoubleReportViaActor sends a second notRecording on the actor after
// the machine's Stop succeeded (P3).
func NewDoubleReportViaActor(env *properties.Env) (properties.Bot, error) {
	return newActorBot(env, false, true)
}

// Start runs the machine's Start on the actor.
func (b *actorBot) Start(ctx context.Context) error {
	asked := b.stopsAsked.Load()
	return b.actor.do(ctx, func(jctx context.Context) error {
		if b.stopsAsked.Load() == asked {
			b.closed.Store(false)
		}
		_, err := b.m.Start(jctx)
		return err
	})
}

// Stop runs the machine's Stop on the actor and, when the team chose to,
// clears the indicator once more.
func (b *actorBot) Stop(ctx context.Context) error {
	b.closeAdmission()
	return b.actor.do(ctx, func(jctx context.Context) error {
		if err := b.m.Stop(jctx); err != nil || !b.refreshIndicator {
			return err
		}
		_, err := b.env.Updater.UpdateRecordingStatus(jctx, b.env.CallID, graph.StatusNotRecording, "indicator-refresh-"+uuid.NewString())
		return err
	})
}

// Fail runs the machine's Fail on the actor.
func (b *actorBot) Fail(ctx context.Context) error {
	b.closeAdmission()
	return b.actor.do(ctx, b.m.Fail)
}

// closeAdmission stops admitting frames at once.
func (b *actorBot) closeAdmission() {
	b.stopsAsked.Add(1)
	b.closed.Store(true)
}

// Frame drops a frame while admission is closed, else writes it under a
// lease.
func (b *actorBot) Frame(ctx context.Context, stream int, payload []byte) error {
	if b.closed.Load() {
		return errNotOpen
	}
	return b.fsmBot.Frame(ctx, stream, payload)
}

// GateOpen reports the bot's own gate: fsm's, while it admits
// (properties.GateReporter).
func (b *actorBot) GateOpen() bool { return !b.closed.Load() && b.m.Gate().IsOpen() }

// OperationUpdate runs the machine's OperationUpdate on the actor.
func (b *actorBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return b.actor.do(ctx, func(jctx context.Context) error { return b.m.OperationUpdate(jctx, op) })
}

// CallEnded ends the machine at once; when the team chose to stop first,
// a recording in progress is first stopped by a Stop job on the actor,
// as every request of the call is sent.
func (b *actorBot) CallEnded(ctx context.Context) error {
	if b.stopOnHangup && b.m.State() == fsm.Recording {
		_ = b.actor.do(ctx, b.m.Stop) // best effort: the call is ending anyway
	}
	return b.m.CallEnded(ctx)
}

// Close stops the actor.
func (b *actorBot) Close(context.Context) error {
	b.actor.close()
	return nil
}
