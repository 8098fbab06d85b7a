package properties

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// A bot serves many calls in one process, and the mistakes teams make
// there are between calls: a recording flag kept in a static field (as
// some samples do), one machine or one stream shared by every call, a
// registry looked up by the wrong key, a pre-roll or transcript fed by
// every call's media. One call per case can show none of them. So each
// case also builds, with the same Factory, a neighbouring call in the same
// process: another call ID, its own Updater and Sink, the same streams.
// In about one case in six the suite asks the bot to record it before
// the first step (startNeighbour); it never calls its Stop, Fail or
// OperationUpdate. It gets a frame on every stream after each step of the
// call under test (in a step of frames, at the same time as that step's
// frames; during a storage stall, after the next step), and its CallEnded
// (then Close) at the end of the case.
// Its world is judged by the same invariants: what it persists must lie
// inside a recording Graph confirmed for it (its Updater answers
// completed; a compliance bot that starts every call's recording by
// itself may record it too), and each call's frames found in the other's
// storage break P7 there.

// The neighbouring call's frames use canary variants of their own, so
// that no canary of theirs is one of the call under test's (variants 0
// and 1); the noninterference replay gives them other media too.
const (
	neighbourVariant       = 2
	neighbourReplayVariant = 3
)

// neighbour is the other call of the process, while a case plays.
type neighbour struct {
	env     *Env
	bot     Bot
	variant int
	frames  int // frames handed to it so far
}

// newNeighbour builds the neighbouring call's bot with newBot, beside the
// call under test's env (replay: the noninterference check's second run).
func newNeighbour(main *Env, callID string, newBot Factory, replay bool) (*neighbour, error) {
	env := newEnv(callID, main.Streams)
	env.neighbour = true
	env.peer, main.peer = main, env
	registerCall(env)
	bot, err := newBot(env)
	if err != nil {
		return nil, fmt.Errorf("the bot factory failed for the neighbouring call (a second call the same process serves; pass WithoutNeighbourCall if your bot serves one call per process): %w", err)
	}
	if bot == nil {
		return nil, errors.New("the bot factory returned a nil Bot and no error for the neighbouring call (a second call the same process serves; pass WithoutNeighbourCall if your bot serves one call per process)")
	}
	n := &neighbour{env: env, bot: bot, variant: neighbourVariant}
	if replay {
		n.variant = neighbourReplayVariant
	}
	return n, nil
}

// neighbourFrames hands the neighbouring call a frame on every stream, one
// stream after the other, as its media keeps coming: after each step of
// the call under test, or, in a step of frames, at the same time as that
// step's frames.
func (r *runner) neighbourFrames() {
	n := r.neighbour
	if n == nil || r.failed() != "" {
		return
	}
	var which []string
	for s := 0; s < r.sc.streams && r.failed() == ""; s++ {
		n.frames++
		k := n.frames
		c := canary(k, n.variant)
		n.env.framing.RLock() // until the bot has handled the frame
		// Each frame is an event of its own, as in the call under test:
		// a bot that stops its recording from the media path sends that
		// report as the frame's one request.
		n.env.observe(Event{Kind: EvAttempt, Label: "frame"})
		n.env.arrive(k, s, c)
		r.env.foreignFrame(c, k, s, fmt.Sprintf("in the neighbouring call %s, which the same process serves (its frame %d)", n.env.CallID, k))
		which = append(which, fmt.Sprintf("frame %d on stream %d", k, s))
		p := payload(k, s, n.variant)
		stream := s
		r.neighbourCall(fmt.Sprintf("Frame (frame %d, stream %d)", k, s), func(ctx context.Context) error {
			return n.bot.Frame(ctx, stream, p)
		})
		n.env.framing.RUnlock()
	}
	r.env.observe(Event{Kind: EvQuiet, Label: "the neighbouring call got " + strings.Join(which, ", ")})
}

// startNeighbour asks the bot to record the neighbouring call, in the
// cases that draw it, before the call under test's first step: both calls
// then record at once whenever the call under test does, which is where a
// process that keeps one output, one buffer or one "current recording"
// for all its calls mixes their media. The neighbouring call's Updater
// answers completed.
func (r *runner) startNeighbour() {
	n := r.neighbour
	if n == nil || !r.sc.neighbourRecords {
		return
	}
	r.env.observe(Event{Kind: EvQuiet, Label: "the neighbouring call starts recording"})
	n.env.asked.Store(true)
	n.env.observe(Event{Kind: EvAttempt, Label: "start"})
	r.neighbourCall("Start", n.bot.Start)
	n.env.observe(Event{Kind: EvReturned, Label: "start"})
}

// endNeighbour ends the neighbouring call at the end of the case:
// CallEnded, then Close if the bot has one.
func (r *runner) endNeighbour() {
	n := r.neighbour
	if n == nil || r.failed() != "" {
		return
	}
	n.env.observe(Event{Kind: EvCallEnded})
	n.env.observe(Event{Kind: EvAttempt, Label: "callEnded"})
	r.neighbourCall("CallEnded", n.bot.CallEnded)
	n.env.observe(Event{Kind: EvReturned, Label: "callEnded"})
	if c, ok := n.bot.(Closer); ok {
		n.env.observe(Event{Kind: EvAttempt, Label: "close"})
		r.neighbourCall("Close", c.Close)
	}
}

// neighbourCall runs one of the neighbouring call's bot methods under a
// watchdog, as runner.call does for the call under test, but outside the
// bookkeeping of the call under test's bot calls: what it sends for the
// call under test is no event's of that call.
func (r *runner) neighbourCall(what string, fn func(context.Context) error) {
	live := new(atomic.Bool)
	live.Store(true)
	defer live.Store(false)
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), botCallKey{r.neighbour.env}, live), r.opts.timeout)
	defer cancel()
	done := make(chan struct{})
	var panicked atomic.Value
	env := r.neighbour.env
	if what == "Start" {
		env.startsRunning.Add(1)
		defer env.startsRunning.Add(-1)
	}
	frame := strings.HasPrefix(what, "Frame")
	go func() {
		defer close(done)
		if frame {
			// Read at the goroutine's start, where its stack is short.
			env.frameGoroutine.Store(goid())
			defer env.frameGoroutine.Store(0)
		}
		defer func() {
			if p := recover(); p != nil {
				panicked.Store(fmt.Sprint(p))
			}
		}()
		_ = fn(ctx) // a frame dropped, a CallEnded with nothing to stop: the bot's to say
	}()
	t := time.NewTimer(r.opts.timeout + r.opts.timeout/4)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		r.fail("the bot hung in the neighbouring call's %s (call %s, which the same process serves): it had not returned %s after it was called; the goroutines then:\n%s", what, r.neighbour.env.CallID, r.opts.timeout, goroutineDump(32<<10))
		return
	}
	if p := panicked.Load(); p != nil {
		r.fail("the bot panicked in the neighbouring call's %s (call %s): %v", what, r.neighbour.env.CallID, p)
	}
}

// neighbourViolations are the invariants the bot broke in the
// neighbouring call.
func (r *runner) neighbourViolations() []Violation {
	if r.neighbour == nil {
		return nil
	}
	return r.neighbour.env.violations()
}

// landNeighbourReply runs observe (the neighbouring call's completed
// reply, after which its frames arrive inside its recording) once no
// frame of that call is being handed over or handled, or after a third
// of the bot's timeout if one is still at it (a Frame that waits for the
// Start the reply answers); at once when the frame's handler sent the
// request itself. A compliance bot that starts every call's
// recording by itself, on a goroutine, gets its reply while the suite
// hands the neighbour frames: had the reply landed between a frame's
// arrival and the bot's lease, the suite would have dated the frame
// before the recording, and failed a correct bot. (runner.landReply does
// this for the call under test.)
func (e *Env) landNeighbourReply(observe func()) {
	if g := e.frameGoroutine.Load(); g != 0 && g == goid() {
		// The frame's own handler sent it (on a context of its own): it
		// would wait for itself.
		observe()
		return
	}
	limit := DefaultTimeout / 3
	if p := e.peer; p != nil && p.run != nil {
		limit = p.run.opts.timeout / 3
	}
	deadline := time.Now().Add(limit)
	for !e.framing.TryLock() {
		if time.Now().After(deadline) {
			e.repliesHeldOut.Add(1)
			observe()
			return
		}
		time.Sleep(50 * time.Microsecond)
	}
	defer e.framing.Unlock()
	observe()
}

// report is the case's report (see report), and, when the bot broke an
// invariant in the neighbouring call, that call's events too: the call
// under test's events alone do not show what happened there.
func (r *runner) report(vs []Violation, failure string) string {
	out := report(vs, failure, r.env.events())
	if len(r.neighbourViolations()) > 0 {
		out += fmt.Sprintf("the neighbouring call %s, as the suite played it (events in order):\n%s", r.neighbour.env.CallID, describeEvents(r.neighbour.env.events()))
	}
	return out
}
