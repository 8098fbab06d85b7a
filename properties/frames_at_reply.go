package properties

import (
	"runtime"
	"sync/atomic"
	"time"
)

// The frames that arrive while a request is out are the last thing that
// happens before Graph's reply. A bot that hands each frame to a goroutine
// of its own (`go persist(frame)`), which takes its lease when it runs,
// writes a frame that arrived before Graph's completed if that goroutine
// runs after the reply: a window of microseconds, which the Go scheduler
// nearly always closes. The goroutine a Frame starts waits in its
// processor's "run next" slot, and runs there the moment the goroutine
// that called Frame lets go of the processor; the request's goroutine,
// meanwhile asleep in settle, woke later still. Such a bot was caught in
// three to six runs in ten under -race.
//
// So the reply lands the moment the last Frame returns, as it would when
// Graph answered just after the frame arrived: the request's goroutine
// waits by spinning (it does not give up its processor) until the frames'
// goroutine says its Frame calls returned, and that goroutine then keeps
// its own processor busy until the bot call that sent the request has
// returned (or holdAtTheReply passed). Goroutines the Frame calls started
// run after the bot has acted on the reply, unless the bot waits for them
// (it blocks, and its processor runs them). Nothing here can make a
// correct bot fail: a goroutine may always run later than its start.
//
// A Frame that blocks (on a lock its bot's Start holds while it waits for
// Graph) is waited for as settle waits, as before: the spin looks at the
// frames' goroutine every blockedLookEvery, and goes on to settle once it
// has seen it blocked inside the bot twice in a row. A Frame that neither
// returns nor blocks within spinForFrames (a loaded machine that has not
// run the goroutine yet) is waited for by settle too. With one processor
// there is nothing to hold: the frames are delivered as any background
// event's are.

// spinForFrames bounds how long the request's goroutine spins for the
// frames' Frame calls to return.
const spinForFrames = 5 * time.Millisecond

// blockedLookEvery is how often that spin looks whether the Frame blocked.
const blockedLookEvery = 200 * time.Microsecond

// holdAtTheReply bounds how long the frames' goroutine keeps its processor
// after they returned.
const holdAtTheReply = 5 * time.Millisecond

// framesAtTheReply delivers the frames on streams (they arrive while the
// request is out) on a goroutine of its own, and returns, for the reply to
// land, as soon as their Frame calls have returned.
func (r *runner) framesAtTheReply(streams []int) {
	if runtime.GOMAXPROCS(0) < 2 {
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
	var id atomic.Uint64
	done := make(chan struct{})
	r.mu.Lock()
	r.running = append(r.running, done)
	r.mu.Unlock()
	go func() {
		defer close(done)
		id.Store(goid())
		r.deliver(streams, true)
		if state.CompareAndSwap(waiting, handed) {
			mark := r.callsReturned.Load()
			spinUntil(func() bool { return r.callsReturned.Load() != mark }, holdAtTheReply)
		}
	}()
	inBot := r.botGoroutine(&id)
	if r.spinForHandOver(func() bool { return state.Load() == handed }, inBot) {
		return
	}
	if state.CompareAndSwap(waiting, gaveUp) {
		settle(done, inBot, r.opts.timeout/3)
	}
}

// spinForHandOver spins until handed, for at most spinForFrames, and
// gives up early once the goroutine inBot names has been seen blocked
// inside the bot twice in a row.
func (r *runner) spinForHandOver(handed func() bool, inBot func() uint64) bool {
	deadline := time.Now().Add(spinForFrames)
	var buf []byte
	blocked := 0
	for {
		if spinUntil(handed, blockedLookEvery) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		var states map[uint64]string
		states, buf = goroutineStates(buf)
		if g := inBot(); g != 0 && !busy(states[g]) {
			if blocked++; blocked >= 2 {
				return handed()
			}
		} else {
			blocked = 0
		}
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
