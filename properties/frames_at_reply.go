package properties

import (
	"runtime"
	"sync/atomic"
	"time"
)

// The frames that arrive while a recording request is out are the last
// thing that happens before Graph's reply. A bot that hands each frame to
// a goroutine of its own (`go persist(frame)`), which takes its lease when
// it runs, writes a frame that arrived before Graph's completed if that
// goroutine runs after the reply: a window of microseconds, which the Go
// scheduler nearly always closed. The goroutine a Frame starts waits in
// its processor's "run next" slot and runs there the moment the goroutine
// that called Frame lets go of the processor, while the request's
// goroutine, asleep in settle, woke later. Such a bot was caught in three
// to six runs in ten under -race.
//
// So the reply lands the moment the last Frame returns, as it does when
// Graph answers just after the frame arrived: the request's goroutine
// waits by spinning (it keeps its processor) until the frames' goroutine
// says its Frame calls returned, and that goroutine then keeps its own
// processor until the bot acted on the reply: the bot call that sent the
// request returned, or the bot said its gate opened (Env.GateOpened), or
// holdAtTheReply passed. Goroutines the Frame calls started run after
// that, unless the bot waits for them (it blocks, and its processor runs
// them). Nothing here can make a correct bot fail: a goroutine may always
// run later than its start.
//
// Only the frames before a completed reply to a recording request, the
// reply that opens the gate, are handed over so: before any other reply
// the gate stays closed whenever a goroutine runs. If the frames'
// goroutine has not started within spinForStart (no other processor was
// awake to take it), it runs on the request's processor. A Frame that has
// not returned within spinForFrames (it blocks on a lock its bot's Start
// holds while it waits for Graph, say) is waited for as settle waits.
// With one processor there is nothing to hold.

// spinForFrames bounds how long the request's goroutine spins for the
// frames' Frame calls to return.
const spinForFrames = time.Millisecond

// spinForStart bounds how long the request's goroutine waits for another
// processor to run the frames' goroutine.
const spinForStart = 200 * time.Microsecond

// holdAtTheReply bounds how long the frames' goroutine keeps its processor
// after they returned.
const holdAtTheReply = 2 * time.Millisecond

// framesAtTheReply delivers the frames on streams, which arrive while a
// request is out, on a goroutine of its own; when the reply opens the
// gate (a completed reply to a recording request), it returns as soon as
// their Frame calls have returned (see above).
func (r *runner) framesAtTheReply(streams []int, opens bool) {
	if !opens || runtime.GOMAXPROCS(0) < 2 {
		r.background(func() { r.deliver(streams, true) })
		return
	}
	const (
		waiting int32 = iota
		handed        // the Frame calls returned; the goroutine holds its processor
		gaveUp        // the request went on without them (settle)
	)
	var state atomic.Int32
	r.suiteWaits.Add(1)
	defer r.suiteWaits.Add(-1)
	done, id := r.startingGoroutine()
	go func() {
		defer close(done)
		id.Store(goid())
		r.deliver(streams, true)
		if state.CompareAndSwap(waiting, handed) {
			returned, opened := r.callsReturned.Load(), r.gateOpenings.Load()
			spinUntil(func() bool { return r.callsReturned.Load() != returned || r.gateOpenings.Load() != opened }, holdAtTheReply)
		}
	}()
	// Another processor takes the new goroutine from this one within
	// microseconds, unless it is asleep; then the goroutine runs here.
	if !spinUntil(func() bool { return id.Load() != 0 }, spinForStart) {
		runtime.Gosched()
	}
	if spinUntil(func() bool { return state.Load() == handed }, spinForFrames) {
		return
	}
	if state.CompareAndSwap(waiting, gaveUp) {
		settle(done, r.botGoroutine(id), r.opts.timeout/3)
	}
}

// spinUntil calls cond until it is true, for at most limit, without giving
// up the processor; it reports whether cond became true.
func spinUntil(cond func() bool, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return cond()
		}
	}
	return true
}
