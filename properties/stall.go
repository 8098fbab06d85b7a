package properties

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A storage stall is storage falling behind: a drawn frames step begins
// one, and from then on every Sink write waits (held) until the stall
// ends, at the next bot call that is not a frame (a Stop, Fail, CallEnded,
// Start, update or introspection, or Close at the end of the case; a case
// that ends without one releases the writes then). Frames that arrive
// meanwhile are delivered on a goroutine of their own, which the suite
// lets block, so bounded queues fill and their overflow paths run (a
// frames step may be a burst of up to 64 frames on one stream).
//
// A stall that ends at a bot call releases the held writes one at a time,
// oldest media first, as storage catching up would answer them: each
// waits, as a write that begins during a concurrent Stop does, until that
// call returned, or blocked while nothing else the bot does is running
// (the writes released before it have done what they could). A write
// under a lease thus lets Stop's drain finish (a Stop blocked in its drain
// counts as blocked, and releases the next write), while a write without
// one, which Stop does not wait for, lands after the report, where P1
// sees it. Nothing here waits for a fixed time: only for events the suite
// controls, with limits that only a bot that spins would reach.
type storageStall struct {
	mu   sync.Mutex
	on   bool
	seq  int
	held []*heldWrite
	// running are the deliveries begun during the stall: the step that
	// ends it waits for them.
	running []chan struct{}
}

// heldWrite is a Sink write waiting for the stall to end.
type heldWrite struct {
	oldest  int    // the oldest frame traced in it (MaxInt: none)
	seq     int    // the order in which it began
	g       uint64 // the writing goroutine
	release chan struct{}
}

// beginStall starts a storage stall.
func (r *runner) beginStall() {
	r.stall.mu.Lock()
	r.stall.on = true
	r.stall.mu.Unlock()
	r.env.stats.stalls.Add(1)
	r.env.observe(Event{Kind: EvQuiet, Label: "storage stalls: every write waits until the next Stop, Fail, CallEnded or other event"})
}

func (r *runner) stalled() bool {
	r.stall.mu.Lock()
	defer r.stall.mu.Unlock()
	return r.stall.on
}

// waitOutStall holds a Sink write while storage is stalled.
func (r *runner) waitOutStall(media []Origin) {
	r.stall.mu.Lock()
	if !r.stall.on {
		r.stall.mu.Unlock()
		return
	}
	h := &heldWrite{oldest: math.MaxInt, seq: r.stall.seq, g: goid(), release: make(chan struct{})}
	r.stall.seq++
	for _, o := range media {
		h.oldest = min(h.oldest, o.Frame)
	}
	r.stall.held = append(r.stall.held, h)
	r.stall.mu.Unlock()
	r.env.stats.stalledWrites.Add(1)
	r.active.Add(-1)
	defer r.active.Add(1)
	t := time.NewTimer(3 * r.opts.timeout)
	defer t.Stop()
	select {
	case <-h.release:
	case <-t.C:
		r.fail("a write held by the suite's storage stall was not released within %s (a fault of the suite, not of the bot: please report it)", 3*r.opts.timeout)
	}
}

// takeStall ends the stall: later writes go at once. It returns the held
// writes, oldest media first, and hands the stall's deliveries to the
// current step to wait for.
func (r *runner) takeStall() []*heldWrite {
	r.stall.mu.Lock()
	if !r.stall.on {
		r.stall.mu.Unlock()
		return nil
	}
	r.stall.on = false
	held, running := r.stall.held, r.stall.running
	r.stall.held, r.stall.running = nil, nil
	r.stall.mu.Unlock()
	r.env.observe(Event{Kind: EvQuiet, Label: fmt.Sprintf("storage catches up: %d held write(s) released in turn", len(held))})
	for _, d := range running {
		select {
		case <-d:
			continue
		default:
		}
		// Frames the stall held are still in the bot, beside the event
		// that ended it: what they send is not that event's (P3).
		r.env.observe(Event{Kind: EvAttempt, Label: "concurrent frame"})
		break
	}
	r.mu.Lock()
	r.running = append(r.running, running...)
	r.mu.Unlock()
	slices.SortStableFunc(held, func(a, b *heldWrite) int {
		if a.oldest != b.oldest {
			return a.oldest - b.oldest
		}
		return a.seq - b.seq
	})
	return held
}

// endStallNow ends the stall and releases every held write at once (the
// case ended with no bot call to release them in turn).
func (r *runner) endStallNow() {
	for _, h := range r.takeStall() {
		close(h.release)
	}
}

// releaseInTurn releases held, one write at a time, while the bot call
// that ended the stall runs (done closes when it returns; id is its
// goroutine while it is inside the bot). It runs on a goroutine the
// current step waits for.
func (r *runner) releaseInTurn(held []*heldWrite, done <-chan struct{}, id func() uint64) {
	if len(held) == 0 {
		return
	}
	r.mu.Lock()
	finished := make(chan struct{})
	r.running = append(r.running, finished)
	r.mu.Unlock()
	go func() {
		defer close(finished)
		deadline := time.Now().Add(r.opts.timeout / 3)
		var released []uint64
		for i, h := range held {
			if !r.waitTurn(done, id, released, deadline) {
				for _, rest := range held[i:] {
					close(rest.release)
				}
				return
			}
			released = append(released, h.g)
			close(h.release)
		}
	}()
}

// waitTurn waits until the call returned (false), or it has been seen
// blocked twice in a row while no Sink write was under way and none of the
// released writers was running (true). Past deadline it reports false: the
// rest goes at once.
func (r *runner) waitTurn(done <-chan struct{}, id func() uint64, released []uint64, deadline time.Time) bool {
	buf := make([]byte, 64<<10)
	calm := 0
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return false
		default:
		}
		quiet := false
		if r.active.Load() == 0 && r.suiteWaits.Load() == 0 {
			var states map[uint64]string
			states, buf = goroutineStates(buf)
			g := id()
			st, ok := states[g]
			quiet = g != 0 && ok && !busy(st)
			for _, w := range released {
				if st, ok := states[w]; quiet && ok && busy(st) {
					quiet = false
				}
			}
		}
		if quiet {
			calm++
			if calm >= 2 {
				return true
			}
		} else {
			calm = 0
		}
		time.Sleep(20 * time.Microsecond)
	}
	return false
}

// deliverStalled delivers frames on a goroutine of its own while storage
// is stalled, and waits until it returned or blocked (a write held by the
// stall, or a queue the bot fills). Its frame numbers are taken now, so a
// case plays the same frames whenever they arrive; frames not yet
// delivered when the stall ends are dropped (the burst was cut short).
func (r *runner) deliverStalled(streams []int) {
	if len(streams) > 4 {
		r.env.stats.bursts.Add(1)
	}
	first := int(r.frames.Add(int64(len(streams)))) - len(streams) + 1
	var id atomic.Uint64
	done := make(chan struct{})
	r.stall.mu.Lock()
	r.stall.running = append(r.stall.running, done)
	r.stall.mu.Unlock()
	go func() {
		defer close(done)
		id.Store(goid())
		for i, s := range streams {
			if i > 0 && !r.stalled() {
				return
			}
			if i > 0 {
				// Each frame is an event of its own (P3 counts a bot's
				// requests per event).
				r.env.observe(Event{Kind: EvAttempt, Label: "frame"})
			}
			r.deliverFrame(first+i, s, true)
		}
	}()
	settle(done, r.botGoroutine(&id), r.opts.timeout/3)
}

// deliverFrame sends frame n on stream s, as the media platform does: one
// frame of a stream at a time. If a Frame for stream s has not returned
// yet (it waits for a lease that a Stop is draining, or for storage), n
// waits in the stream's queue and the goroutine delivering that Frame
// delivers n once it has returned: a bot that gives each stream its own
// fsm.Stream never meets fsm.ErrStreamBusy from the suite. Frames of
// different streams still overlap. A frame arrives (for the invariants)
// when the bot gets it, not when it was queued.
//
// A frame that waited is delivered only once a concurrent Stop or Fail
// has returned or blocked, so that it does not race the Stop that its
// stream's write was holding up (replay from a seed depends on it); one
// that came during a storage stall that has ended since is dropped, as
// deliverStalled drops the frames a stall cut short.
func (r *runner) deliverFrame(n, s int, inline bool) {
	stalled := r.stalled()
	r.mu.Lock()
	if r.streamBusy[s] {
		r.streamQueue[s] = append(r.streamQueue[s], queuedFrame{n: n, stalled: stalled})
		r.mu.Unlock()
		return
	}
	if r.streamBusy == nil {
		r.streamBusy, r.streamQueue = make(map[int]bool), make(map[int][]queuedFrame)
	}
	r.streamBusy[s] = true
	r.mu.Unlock()
	for {
		r.frameNow(n, s, inline)
		next, ok := r.nextQueued(s)
		for ok && next.stalled && !r.stalled() {
			r.env.observe(Event{Kind: EvQuiet, Label: fmt.Sprintf("frame %d on stream %d dropped: it came during a storage stall that ended before the stream's previous Frame returned", next.n, s)})
			next, ok = r.nextQueued(s)
		}
		if !ok {
			return
		}
		r.holdWhileStopping()
		n = next.n
	}
}

// queuedFrame is a frame waiting for its stream's previous Frame to
// return; stalled says it came during a storage stall.
type queuedFrame struct {
	n       int
	stalled bool
}

// nextQueued takes the next frame waiting on stream s, or marks the
// stream free when none waits (or the case failed: a hung Frame's stream
// delivers nothing more).
func (r *runner) nextQueued(s int) (queuedFrame, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.streamQueue[s]
	if len(q) == 0 || r.failure != "" {
		delete(r.streamQueue, s)
		r.streamBusy[s] = false
		return queuedFrame{}, false
	}
	r.streamQueue[s] = q[1:]
	return q[0], true
}

// frameNow hands frame n of stream s to the bot.
func (r *runner) frameNow(n, s int, inline bool) {
	v := 0
	if r.variant[n] {
		v = 1
	}
	p := payload(n, s, v)
	r.handingOver()
	r.arriveAfterDuringStarted(n, s, v, inline)
	r.env.stats.framesSent.Add(1)
	r.call(fmt.Sprintf("Frame (frame %d, stream %d)", n, s), inline, func(ctx context.Context) error {
		defer r.leaveFrame(r.enterFrame(ctx))
		return r.bot.Frame(ctx, s, p)
	})
}
