package properties

import "context"

// A Start a bot runs on a goroutine of its own (its webhook answers at
// once) gets Graph's completed while the suite hands the next frames over.
// The suite dates a frame's arrival when it hands the frame over, and P7
// holds a bot to it; had the reply landed between that moment and the
// bot's lease, a correct bot (it took the lease after the gate opened, as
// it should) broke P7 by a race the suite made, and the same seed passed
// on the next run. So such a reply lands between frames, never inside one:
// it waits until every Frame call under way has returned or blocked, and
// no frame is handed over while it lands. A bot's own Start from its
// handler needs none of this: its reply comes while the suite waits for
// the handler.

// frameCall is a Frame call under way: done closes when it returns, g is
// the goroutine that runs it.
type frameCall struct {
	done chan struct{}
	g    uint64
}

// handingOver is held, shared, by a frame from its arrival until its Frame
// call has begun (enterFrame), and, exclusively, by a landing reply.
func (r *runner) handingOver() { r.handOver.RLock() }

// goroutineKey carries, in a bot call's context, the id of the goroutine
// that runs the call.
type goroutineKey struct{}

// enterFrame marks the goroutine running the Frame call whose context is
// ctx as running it, ends the frame's hand-over, and returns what
// leaveFrame needs.
func (r *runner) enterFrame(ctx context.Context) *frameCall {
	g, ok := ctx.Value(goroutineKey{}).(uint64)
	if !ok {
		g = goid()
	}
	fc := &frameCall{done: make(chan struct{}), g: g}
	r.mu.Lock()
	if r.frameCalls == nil {
		r.frameCalls = make(map[*frameCall]bool)
	}
	r.frameCalls[fc] = true
	r.mu.Unlock()
	r.handOver.RUnlock()
	return fc
}

func (r *runner) leaveFrame(fc *frameCall) {
	r.mu.Lock()
	delete(r.frameCalls, fc)
	r.mu.Unlock()
	close(fc.done)
}

// landReply runs observe (the reply's event, after which frames arrive
// inside the confirmed recording) once no frame is being handed over and
// every Frame call under way has returned or blocked, for at most a third
// of the bot's timeout each.
func (r *runner) landReply(observe func()) {
	r.handOver.Lock()
	defer r.handOver.Unlock()
	r.mu.Lock()
	calls := make([]*frameCall, 0, len(r.frameCalls))
	for fc := range r.frameCalls {
		calls = append(calls, fc)
	}
	r.mu.Unlock()
	for _, fc := range calls {
		settle(fc.done, r.insideBot(fc.g), r.opts.timeout/3)
	}
	observe()
}

// insideBot returns, for settle, g while it is inside a bot call and 0
// while it runs the suite's own code.
func (r *runner) insideBot(g uint64) func() uint64 {
	return func() uint64 {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.inBot[g] {
			return g
		}
		return 0
	}
}
