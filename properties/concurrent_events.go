package properties

// Events that run beside others: a Stop, Fail, CallEnded, Start or
// notification run on a goroutine of its own while a step waits (for
// Graph, in a write, in the hook), and writes held while such a Stop runs.

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/recgate/recgate/graph"
)

// background runs fn on a goroutine of its own and waits until it has
// returned or blocked (see settle).
func (r *runner) background(fn func()) { r.backgroundWatch(fn, nil) }

// holdWhileStopping makes a Sink write that begins while a concurrent Stop
// or Fail runs (on another goroutine) wait until that Stop returned or
// blocked. It plays the interleaving that matters: a write under a lease
// makes Stop block in its drain, so it lands at once, before the report;
// a write without one (a copy made after the lease was released, say)
// lands after Stop reported, where P1 sees it. Without the wait, the
// writing goroutine, already running, almost always won the race, and such
// a bot passed most runs.
func (r *runner) holdWhileStopping() {
	r.mu.Lock()
	w := r.stopping
	r.mu.Unlock()
	if w == nil || w.spinning.Load() || w.id() == goid() {
		return
	}
	w.hold(min(r.opts.timeout/3, maxWriteHold))
}

// maxWriteHold bounds how long a write waits for a concurrent Stop to
// return or block: long enough for a Stop that reports without waiting
// (the bug this wait exposes) to finish, short enough that a Stop the
// suite cannot see blocked costs little.
const maxWriteHold = 100 * time.Millisecond

// hold waits as settle does. A Stop that neither returned nor blocked
// within the limit waits by spinning (a loop on an atomic, say), which
// settle cannot see; later writes then go at once, or a correct bot that
// writes a frame in several pieces would pay the limit for each.
func (w *watched) hold(limit time.Duration) {
	began := time.Now()
	if !settleWith(w.done, w.id, limit, true) && time.Since(began) >= limit {
		w.spinning.Store(true)
	}
}

// watched is a goroutine the suite started for a concurrent event: done
// closes when it returns; id is its goroutine id while it is inside the
// bot (0 otherwise).
type watched struct {
	done     chan struct{}
	id       func() uint64
	spinning atomic.Bool // a wait ran the whole limit: later writes do not wait
}

// backgroundWatch is background, and hands the goroutine to watch first.
func (r *runner) backgroundWatch(fn func(), watch func(*watched)) {
	// While it waits here, the bot call that asked for it (a Stop whose
	// hook flushes) waits for the suite, not for the bot: a storage stall
	// must not take it as blocked.
	r.suiteWaits.Add(1)
	defer r.suiteWaits.Add(-1)
	done, id := r.startingGoroutine()
	idf := r.botGoroutine(id)
	var w *watched
	if watch != nil {
		// Before the goroutine starts: a concurrent Stop that closes the
		// gate at once must already be known as the Stop under way (see
		// gateClosed).
		w = &watched{done: done, id: idf}
		watch(w)
	}
	go func() {
		defer close(done)
		id.Store(goid())
		fn()
	}()
	if w == nil {
		settle(done, idf, r.opts.timeout/3)
		return
	}
	w.hold(r.opts.timeout / 3)
}

// startingGoroutine registers a goroutine the suite is about to start:
// waitBackground waits until done is closed. The goroutine stores its id
// in id.
func (r *runner) startingGoroutine() (done chan struct{}, id *atomic.Uint64) {
	done = make(chan struct{})
	r.mu.Lock()
	r.running = append(r.running, done)
	r.mu.Unlock()
	return done, new(atomic.Uint64)
}

// deliver sends frames on the given streams, one after the other.
func (r *runner) deliver(streams []int, inline bool) {
	for _, s := range streams {
		r.deliverFrame(int(r.frames.Add(1)), s, inline)
	}
}

// event runs a bot event by name.
func (r *runner) event(what string, inline bool) {
	defer r.env.observe(Event{Kind: EvReturned, Label: what})
	switch what {
	case "start":
		r.call("Start", inline, r.bot.Start)
	case "stop":
		r.call("Stop", inline, r.bot.Stop)
	case "fail":
		r.call("Fail", inline, r.bot.Fail)
	case "callEnded":
		r.call("CallEnded", inline, r.bot.CallEnded)
	}
}

// concurrently runs a bot event on a goroutine of its own while the
// current step waits (for Graph, or in a write).
func (r *runner) concurrently(what string) {
	if what == "callEnded" {
		r.env.observe(Event{Kind: EvCallEnded})
	}
	r.env.observe(Event{Kind: EvAttempt, Label: "concurrent " + what})
	if what == "update" {
		// A completed notification while the request is out, for an
		// earlier attempt or none (the pending operation does not exist
		// before the reply): Graph confirmed nothing, and a bot that takes
		// any completed as consent shows itself. The bot's webhook runs
		// while its machine is busy with the request.
		op, _ := r.env.Updater.update(graph.OperationCompleted, true)
		r.background(func() {
			r.call("OperationUpdate", true, func(ctx context.Context) error { return r.bot.OperationUpdate(ctx, op) })
		})
		return
	}
	if what != "stop" && what != "fail" && what != "callEnded" {
		r.background(func() { r.event(what, true) })
		return
	}
	r.backgroundWatch(func() { r.event(what, true) }, func(w *watched) {
		r.mu.Lock()
		r.stopping = w
		r.mu.Unlock()
	})
}

// whileInFlight is what happens while a step's first request is out:
// frames keep arriving, and perhaps the bot gets another event.
func (r *runner) whileInFlight(st *step, opens bool) {
	if st.concurrent == "update" {
		// Frames keep coming while the webhook waits for the machine.
		r.concurrently(st.concurrent)
		if len(st.inFlight) > 0 {
			r.framesAtTheReply(st.inFlight, opens)
		}
		return
	}
	if st.concurrent == "" {
		if len(st.inFlight) > 0 {
			r.framesAtTheReply(st.inFlight, opens)
		}
		return
	}
	if len(st.inFlight) > 0 {
		r.background(func() { r.deliver(st.inFlight, true) })
	}
	r.concurrently(st.concurrent)
}

// duringWrite runs the drawn Stop or Fail while the first write of a burst
// is under way (the lease is held: Stop must wait for it).
func (r *runner) duringWrite() {
	g := goid()
	r.mu.Lock()
	own := !r.inBot[g]
	if own {
		r.ownWrites = true
	}
	armed := r.during != ""
	r.mu.Unlock()
	if !armed {
		// Most writes: nothing drawn for them, so no frame's arrival
		// needs holding back (duringGate is taken only to take the event).
		return
	}
	r.duringGate.Lock() // no frame is marked arriving meanwhile
	r.mu.Lock()
	// A write from one of the bot's own goroutines (a writer that a
	// frame handler queued its frame for, a flusher) counts too:
	// the Stop drawn for the step comes while it is under way. A writer
	// that holds the frame's lease (taken when the frame arrived and
	// handed over with it) makes Stop wait in its drain; one that writes
	// without a lease, having asked the gate or the machine a moment
	// before, is still writing when Stop reports (P2), and lands after
	// it (P1). Which write of the step is the first to reach the Sink
	// may then vary from run to run.
	what := r.during
	frames := r.whileDraining
	var started chan struct{}
	if what != "" {
		r.during, r.whileDraining = "", nil
		r.ownDuring = r.ownDuring || own
		// Known to the step before the lock is let go: a writer of the
		// bot's own may take the Stop just as the step's frames are all
		// handed over, and the step must wait for it (waitBackground)
		// rather than play the next step beside it.
		started = make(chan struct{})
		r.running = append(r.running, started)
		// And the step's next frame waits for it as it waits for a
		// Frame call that writes: a frame must not reach the bot between
		// the event's start (a CallEnded is marked at once) and its
		// closing the gate.
		r.duringStarted = started
	}
	r.mu.Unlock()
	r.duringGate.Unlock()
	if what != "" {
		defer close(started)
		r.env.stats.stopsWithWrites.Add(1)
		r.concurrently(what)
		// Media keeps coming while Stop waits for the lease: a frame now
		// meets a gate that is closed and, on another stream, a bot whose
		// streams share one fsm.Stream finds it busy (one that writes
		// anyway on ErrStreamBusy shows itself here, and nowhere else). A
		// frame of the stream being written waits until its Frame returns
		// (deliverFrame).
		if len(frames) > 0 {
			r.background(func() { r.deliver(frames, true) })
		}
	}
}

// duringFlush delivers the frames that arrive while the hook flushes.
func (r *runner) duringFlush() {
	r.mu.Lock()
	frames := r.atFlush
	r.atFlush = nil
	r.mu.Unlock()
	if len(frames) > 0 {
		r.background(func() { r.deliver(frames, true) })
	}
}
