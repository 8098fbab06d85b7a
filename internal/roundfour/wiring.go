package roundfour

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// Errors the bots return for events they do not act on. The suite expects
// errors (a frame dropped, a Start refused) and does not count them.
var (
	errDropped   = errors.New("roundfour: frame dropped: not recording")
	errCallGone  = errors.New("roundfour: the call has ended")
	errActive    = errors.New("roundfour: a recording is already active or pending")
	errNotActive = errors.New("roundfour: no recording to stop")
	errStale     = errors.New("roundfour: update for no pending attempt")
	errSupersede = errors.New("roundfour: Stop, Fail or the end of the call came while Start waited for Graph")
)

// storage is what a bot persists to: env.Sink in the suite, a recorder in
// this package's mechanism tests.
type storage interface {
	Write(stream int, p []byte) (int, error)
	Flush() error
}

// call is what a bot needs to know of its call: the suite's Env, or the
// fakes of a mechanism test.
type call struct {
	id         string
	streams    int
	updater    fsm.Updater
	sink       storage
	gateOpened func()
}

func callOf(env *properties.Env) call {
	return call{id: env.CallID, streams: env.Streams, updater: env.Updater, sink: env.Sink, gateOpened: env.GateOpened}
}

// fsmBot is the wiring most teams copy from README: one fsm.Machine for
// the call, one Stream per media stream, a recording-ended hook, the
// gate's openings reported to the suite. Bots embed it and change what
// their team changed.
type fsmBot struct {
	c       call
	m       *fsm.Machine
	streams []*fsm.Stream
}

// sinkFlushHook is the hook most teams write: flush storage.
func sinkFlushHook(s storage) fsm.EndedHook {
	return func(context.Context, fsm.Trigger) error { return s.Flush() }
}

// reportGate is the observer that tells the suite when the gate opens.
func reportGate(opened func()) fsm.Option {
	return fsm.WithObserver(func(e fsm.Event) {
		if e.Kind == fsm.EventGate && e.Open {
			opened()
		}
	})
}

// newFSMBot builds the wiring around hook; u replaces the call's Graph
// when it is not nil (a bot that wraps Graph in middleware).
func newFSMBot(c call, hook fsm.EndedHook, u fsm.Updater) (*fsmBot, error) {
	if u == nil {
		u = c.updater
	}
	m, err := fsm.New(c.id, u, fsm.WithRecordingEndedHook(hook), reportGate(c.gateOpened))
	if err != nil {
		return nil, err
	}
	b := &fsmBot{c: c, m: m}
	for i := 0; i < c.streams; i++ {
		b.streams = append(b.streams, m.Gate().NewStream())
	}
	return b, nil
}

func (b *fsmBot) stream(i int) (*fsm.Stream, error) {
	if i < 0 || i >= len(b.streams) {
		return nil, fmt.Errorf("roundfour: no stream %d (the call has %d)", i, len(b.streams))
	}
	return b.streams[i], nil
}

// Start asks Graph to record.
func (b *fsmBot) Start(ctx context.Context) error {
	_, err := b.m.Start(ctx)
	return err
}

// Stop ends the recording and reports notRecording.
func (b *fsmBot) Stop(ctx context.Context) error { return b.m.Stop(ctx) }

// Fail ends the recording and reports failed.
func (b *fsmBot) Fail(ctx context.Context) error { return b.m.Fail(ctx) }

// CallEnded ends the machine.
func (b *fsmBot) CallEnded(ctx context.Context) error { return b.m.CallEnded(ctx) }

// OperationUpdate feeds Graph's later outcome to the machine.
func (b *fsmBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return b.m.OperationUpdate(ctx, op)
}

// Frame persists payload on its stream under a lease.
func (b *fsmBot) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = b.c.sink.Write(stream, payload)
	return err
}

// GateOpen reports the machine's gate (properties.GateReporter).
func (b *fsmBot) GateOpen() bool { return b.m.Gate().IsOpen() }

// countingGate is a hand-rolled persist gate, as a team that did not take
// fsm writes one: a flag, a count of writes in progress, and an epoch that
// every close bumps so that a reply from before a close opens nothing.
type countingGate struct {
	mu      sync.Mutex
	drained *sync.Cond
	open    bool
	ended   bool
	epoch   uint64
	writers int
}

func newCountingGate() *countingGate {
	g := &countingGate{}
	g.drained = sync.NewCond(&g.mu)
	return g
}

// enter begins one write if the gate is open; leave must follow.
func (g *countingGate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.open {
		return false
	}
	g.writers++
	return true
}

func (g *countingGate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.writers--
	if g.writers == 0 {
		g.drained.Broadcast()
	}
}

// close shuts the gate at once and starts a new epoch.
func (g *countingGate) close(end bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = false
	g.epoch++
	g.ended = g.ended || end
}

// drain waits until no write is in progress.
func (g *countingGate) drain() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.writers > 0 {
		g.drained.Wait()
	}
}

// now returns the current epoch, or errCallGone.
func (g *countingGate) now() (uint64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ended {
		return 0, errCallGone
	}
	return g.epoch, nil
}

// openFor opens the gate if no close came since epoch.
func (g *countingGate) openFor(epoch uint64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.epoch != epoch || g.ended {
		return false
	}
	g.open = true
	return true
}

func (g *countingGate) isOpen() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.open
}

// handBot is a hand-rolled wiring done right (it passes: Correct lists it
// as CountingGate): the gate closes first, Stop waits for writes, flushes,
// and only then reports; one control operation at a time; a pending
// attempt is matched by its clientContext. Buggy hand-rolled bots embed it
// and change one method.
type handBot struct {
	c    call
	gate *countingGate
	ctl  sync.Mutex // one control operation at a time, held during Graph requests

	// Under ctl.
	active    bool   // a recording was asked for and not yet reported ended
	recorded  bool   // the gate opened in this recording: the hook must flush
	pendingCC string // the clientContext Graph left pending
	pendingEp uint64
	seq       int
}

func newHandBot(c call) *handBot {
	return &handBot{c: c, gate: newCountingGate()}
}

func (b *handBot) nextContext() string {
	b.seq++
	return fmt.Sprintf("%s-%d", b.c.id, b.seq)
}

func (b *handBot) Start(ctx context.Context) error {
	ep, err := b.gate.now()
	if err != nil {
		return err
	}
	b.ctl.Lock()
	defer b.ctl.Unlock()
	if b.active {
		return errActive
	}
	cc := b.nextContext()
	op, err := b.c.updater.UpdateRecordingStatus(ctx, b.c.id, graph.StatusRecording, cc)
	if err != nil {
		return err
	}
	return b.settle(op, ep)
}

// settle acts on Graph's answer to a recording request sent in epoch ep
// (under ctl).
func (b *handBot) settle(op graph.Operation, ep uint64) error {
	switch {
	case op.Status.Confirmed():
		if !b.gate.openFor(ep) {
			return errSupersede
		}
		b.c.gateOpened()
		b.active, b.recorded = true, true
	case op.Status.Pending():
		b.active, b.pendingCC, b.pendingEp = true, op.ClientContext, ep
	default:
		return fmt.Errorf("roundfour: Graph answered recording with %q", op.Status)
	}
	return nil
}

func (b *handBot) Stop(ctx context.Context) error {
	return b.end(ctx, graph.StatusNotRecording)
}

func (b *handBot) Fail(ctx context.Context) error { return b.end(ctx, graph.StatusFailed) }

// end is Stop and Fail: close, wait for writes, flush, report.
func (b *handBot) end(ctx context.Context, status graph.Status) error {
	b.gate.close(false)
	b.ctl.Lock()
	defer b.ctl.Unlock()
	if !b.active {
		return errNotActive
	}
	b.gate.drain()
	if b.recorded {
		if err := b.c.sink.Flush(); err != nil {
			return err
		}
	}
	return b.report(ctx, status)
}

// report sends notRecording or failed (under ctl); on success the
// recording is over, on failure it stays active for the next Stop.
func (b *handBot) report(ctx context.Context, status graph.Status) error {
	if _, err := b.c.updater.UpdateRecordingStatus(ctx, b.c.id, status, b.nextContext()); err != nil {
		return err
	}
	b.active, b.recorded, b.pendingCC = false, false, ""
	return nil
}

func (b *handBot) CallEnded(context.Context) error {
	b.gate.close(true)
	b.ctl.Lock()
	defer b.ctl.Unlock()
	b.gate.drain()
	var err error
	if b.recorded {
		err = b.c.sink.Flush()
	}
	b.active, b.recorded, b.pendingCC = false, false, ""
	return err
}

func (b *handBot) OperationUpdate(_ context.Context, op graph.Operation) error {
	b.ctl.Lock()
	defer b.ctl.Unlock()
	if b.pendingCC == "" || op.ClientContext != b.pendingCC {
		return errStale
	}
	switch {
	case op.Status.Confirmed():
		b.pendingCC = ""
		if !b.gate.openFor(b.pendingEp) {
			return errSupersede
		}
		b.c.gateOpened()
		b.recorded = true
	case op.Status == graph.OperationFailed:
		b.active, b.pendingCC = false, ""
	}
	return nil
}

func (b *handBot) Frame(_ context.Context, stream int, payload []byte) error {
	if !b.gate.enter() {
		return errDropped
	}
	defer b.gate.leave()
	_, err := b.c.sink.Write(stream, payload)
	return err
}

// GateOpen reports the hand-rolled gate (properties.GateReporter).
func (b *handBot) GateOpen() bool { return b.gate.isOpen() }
