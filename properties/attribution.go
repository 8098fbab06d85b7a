package properties

// Whose request is whose: a request the bot sends counts in the attempt
// of the bot call it belongs to (P3, P5), and belonging is decided here.

import (
	"bytes"
	"context"
	"strings"
	"sync/atomic"

	"github.com/recgate/recgate/graph"
)

// botCallKey tags the context of each bot call with whether the call is
// still running (see madeFor), under the Env of the call it belongs to:
// the neighbouring call's bot calls are no events of the call under
// test's, and a later case's are no events of an earlier case's call (a
// process that serves both may stop the earlier one's recording, still
// under way, from the later one's CallEnded).
type botCallKey struct{ env *Env }

// madeFor reports whether ctx is, or derives from, the context of a bot
// call of e's call that is still running: a request made with it is that
// call's, on whatever goroutine it is sent. A bot that sends every Graph
// request from one sender goroutine (pacing for Graph's throttling) while
// the handler waits passes the handler's context along; without this,
// its requests counted as no call's, and a second report in one Stop (P3)
// or a report from CallEnded (P5) went unjudged.
//
// A context stripped of its deadline (context.WithoutCancel, the usual
// "keep the values, drop the deadline" for a Start run in the background)
// keeps the tag but is no call's: the handler that had it does not wait.
func madeFor(ctx context.Context, e *Env) bool { return tagged(ctx, botCallKey{e}) }

// tagged reports whether ctx has a deadline and carries, under key, the
// flag of a bot call that is still running.
func tagged(ctx context.Context, key any) bool {
	if ctx == nil {
		return false
	}
	if _, ok := ctx.Deadline(); !ok {
		return false
	}
	live, _ := ctx.Value(key).(*atomic.Bool)
	return live != nil && live.Load()
}

// callAwaitsGraph reports whether a bot call under way waits, on its own
// goroutine, inside a Graph request that has not reached the suite's
// Updater, or a control call (Start, Stop, Fail, CallEnded,
// OperationUpdate) waits on a channel or a WaitGroup in the bot's own
// code (waitsOnBot): a request that reaches it now from a goroutine
// outside any bot call is the one that call waits for. The second covers
// a control actor: one goroutine runs every control event of the call as
// a job without the handler's context (round fifteen), and the handler
// waits in the actor's mailbox, not inside an UpdateRecordingStatus (a
// parked call takes only the requests parkedTakes says). A sender goroutine
// that sends every request on a context of its own (a deadline on the
// bot's lifetime context; a job that carries no context) while the
// handler waits for its reply is judged as the handler: without this, such a
// request was no call's, P3 did not count a second report in one Stop,
// and P5 let CallEnded report while it ran. A machine's timer that sends
// while CallEnded waits for the machine's lock is still no call's: that
// CallEnded waits for a lock, not inside a request.
func (r *runner) callAwaitsGraph(status graph.Status) bool {
	r.mu.Lock()
	calls := make([]uint64, 0, len(r.inBot))
	control := make(map[uint64]string, len(r.control))
	for g := range r.inBot {
		calls = append(calls, g)
	}
	for g, what := range r.control {
		control[g] = what
	}
	r.mu.Unlock()
	if len(calls) == 0 {
		return false
	}
	stacks := allStacks(nil)
	for _, g := range calls {
		st := goroutineStack(stacks, g)
		if bytes.Contains(st, graphRequestFrame) && !bytes.Contains(st, suiteRequestFrame) {
			return true
		}
		if what := control[g]; what != "" && parkedTakes(what, status) && waitsOnBot(st) {
			return true
		}
	}
	return false
}

// parkedTakes reports whether a control call parked in the bot's code
// takes a request of status sent meanwhile: a Start only a recording
// request (a report sent meanwhile is a Stop's the bot left to a
// goroutine, which the Start may wait for first); a Stop, Fail or
// CallEnded only a report (a recording request sent meanwhile is a
// background Start's retry, which the Stop may wait for first); an
// update handler either.
func parkedTakes(what string, status graph.Status) bool {
	switch what {
	case "Start":
		return status == graph.StatusRecording
	case "Stop", "Fail", "CallEnded":
		return status != graph.StatusRecording
	}
	return true
}

// waitsOnBot reports whether a goroutine's stack (goroutineStack) shows
// it parked on a channel, a select or a WaitGroup in the bot's own code:
// not in fsm (its lock, its drain), not in the suite, not asleep.
func waitsOnBot(st []byte) bool {
	state, ok := waitState(st)
	if !ok {
		return false
	}
	// Inside a testing/synctest bubble the runtime says "(durable)".
	state = strings.TrimSuffix(state, " (durable)")
	switch state {
	case "chan receive", "chan send", "select", "sync.WaitGroup.Wait", "sync.Cond.Wait":
	default:
		return false
	}
	// The first frame outside the runtime and sync is where it waits.
	lines := bytes.Split(st, []byte("\n"))
	for i := 1; i < len(lines); i += 2 {
		fn := lines[i]
		if bytes.HasPrefix(fn, []byte("runtime.")) || bytes.HasPrefix(fn, []byte("sync.")) || bytes.HasPrefix(fn, []byte("internal/")) {
			continue
		}
		return !bytes.HasPrefix(fn, []byte("github.com/recgate/recgate/fsm.")) && !bytes.HasPrefix(fn, []byte("github.com/recgate/recgate/properties."))
	}
	return false
}

// graphRequestFrame is in the stack of a goroutine inside an
// fsm.Updater's request (a bot's own Updater, or a wrapper around the
// suite's, whatever its receiver: a pointer, a value, fsm.UpdaterFunc);
// suiteRequestFrame in one whose request the suite's Updater has (a call
// that sent its own request is not waiting for another's).
var (
	graphRequestFrame = []byte(".UpdateRecordingStatus(")
	suiteRequestFrame = []byte("recgate/properties.(*Updater).UpdateRecordingStatus(")
)
