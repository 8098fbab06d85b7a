package properties

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// The suite runs some bot events on goroutines of its own (frames that
// arrive while a request is out, a Stop while Start waits for Graph) and
// must then decide when to go on. Waiting a fixed time would make a case
// depend on the machine's load. Instead it waits until the goroutine has
// either returned or blocked (on a lock, a channel, a sleep): from then on
// nothing it does depends on time, only on what the suite does next, so a
// failing seed plays the same way again.

// goid returns the calling goroutine's id, from its stack header.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		id, _ := strconv.ParseUint(string(b[:i]), 10, 64)
		return id
	}
	return 0
}

// allStacks is runtime.Stack of every goroutine, whole, in buf if it is
// large enough (a new buffer otherwise; nil: start at 64 KiB).
func allStacks(buf []byte) []byte {
	if len(buf) == 0 {
		buf = make([]byte, 64<<10)
	}
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

// goroutineStack is goroutine g's stack in stacks (allStacks), header
// line first, or nil.
func goroutineStack(stacks []byte, g uint64) []byte {
	head := []byte("goroutine " + strconv.FormatUint(g, 10) + " [")
	i := bytes.Index(stacks, head)
	if i < 0 {
		return nil
	}
	rest := stacks[i:]
	if end := bytes.Index(rest, []byte("\n\n")); end >= 0 {
		rest = rest[:end]
	}
	return rest
}

// waitState is the wait reason in a goroutine's header line ("running",
// "chan receive", "sync.Mutex.Lock", ...), without the time it has waited
// ("chan receive, 2 minutes").
func waitState(header []byte) (string, bool) {
	open, end := bytes.IndexByte(header, '['), bytes.IndexByte(header, ']')
	if open < 0 || end < open {
		return "", false
	}
	state, _, _ := strings.Cut(string(header[open+1:end]), ",")
	return state, true
}

// goroutineStates returns each goroutine's wait reason (waitState) by id.
func goroutineStates(buf []byte) (map[uint64]string, []byte) {
	buf = allStacks(buf)
	states := make(map[uint64]string)
	for _, line := range bytes.Split(buf, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte("goroutine "))
		if !ok {
			continue
		}
		sp := bytes.IndexByte(rest, ' ')
		if sp < 0 {
			continue
		}
		id, err := strconv.ParseUint(string(rest[:sp]), 10, 64)
		if err != nil {
			continue
		}
		state, ok := waitState(rest)
		if !ok {
			continue
		}
		states[id] = state
	}
	return states, buf[:cap(buf)]
}

func busy(state string) bool {
	switch state {
	case "running", "runnable", "syscall", "preempted", "":
		return true
	}
	return false
}

// settle waits until done is closed or goroutine id() has been seen
// blocked twice in a row, for at most limit. id returns 0 while the
// goroutine runs the suite's own code (which never counts as blocked). It
// reports whether done was closed.
func settle(done <-chan struct{}, id func() uint64, limit time.Duration) bool {
	return settleWith(done, id, limit, false)
}

// maxSleepWait bounds how long a goroutine in time.Sleep counts as
// running for settleWith: a hook that sleeps "a frame time" (20 ms) is
// seen through; one that polls with short sleeps until the write has
// landed costs at most this much before it counts as blocked.
const maxSleepWait = 100 * time.Millisecond

// fsmDrain is the frame of fsm's drain, which waits for leases by
// polling with short sleeps: a goroutine asleep there waits for the
// write, and is blocked.
var fsmDrain = []byte("github.com/recgate/recgate/fsm.(*Stream).waitIdle")

// sleepsOnItsOwn reports whether goroutine g, asleep (time.Sleep), is
// not waiting in fsm's drain: it goes on by itself, whatever the suite
// does. A Stop whose hook sleeps instead of waiting for the writes in
// flight ("a frame time is plenty") is blocked by settle's measure, and the
// write it should have waited for lands in the sleep, before the report;
// with sleepAwake that write waits until Stop returned (or maxSleepWait),
// and lands after the report, where P1 and P2 see it. (A wait on a timer's
// channel, select or <-time.After, cannot be told from a wait for the
// write, and still counts as blocked.)
func sleepsOnItsOwn(stacks []byte, g uint64) bool {
	st := goroutineStack(stacks, g)
	return st != nil && !bytes.Contains(st, fsmDrain)
}

// settleWith is settle; with sleepAwake, a goroutine asleep on its own
// (sleepsOnItsOwn) counts as running for up to maxSleepWait.
func settleWith(done <-chan struct{}, id func() uint64, limit time.Duration, sleepAwake bool) bool {
	began := time.Now()
	// Most bot calls return within microseconds: try that first.
	for i := 0; i < 64; i++ {
		select {
		case <-done:
			return true
		default:
			runtime.Gosched()
		}
	}
	deadline := time.Now().Add(limit)
	buf := make([]byte, 64<<10)
	blocked := 0
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return true
		default:
		}
		var states map[uint64]string
		states, buf = goroutineStates(buf)
		g := id()
		st := states[g]
		awake := busy(st) || sleepAwake && st == "sleep" && time.Since(began) < maxSleepWait && sleepsOnItsOwn(buf, g)
		if g != 0 && !awake {
			blocked++
			if blocked >= 2 {
				return false
			}
		} else {
			blocked = 0
		}
		runtime.Gosched()
		time.Sleep(20 * time.Microsecond)
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// quiesce waits, for at most limit, until no goroutine but the caller is
// running or runnable: a bot's background writers have then done what they
// could without the suite's next move. A bot that started no goroutine of
// its own (no more goroutines than baseline) is quiet at once.
func quiesce(limit time.Duration, baseline int) {
	if runtime.NumGoroutine() <= baseline {
		return
	}
	self := goid()
	deadline := time.Now().Add(limit)
	buf := make([]byte, 64<<10)
	calm := 0
	for time.Now().Before(deadline) {
		runtime.Gosched()
		if runtime.NumGoroutine() <= baseline {
			return
		}
		var states map[uint64]string
		states, buf = goroutineStates(buf)
		active := false
		for g, st := range states {
			if g != self && busy(st) {
				active = true
				break
			}
		}
		if !active {
			calm++
			if calm >= 2 {
				return
			}
		} else {
			calm = 0
		}
		time.Sleep(20 * time.Microsecond)
	}
}

// goroutineDump is every goroutine's stack, cut to max bytes.
func goroutineDump(max int) string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	if len(buf) > max {
		return string(buf[:max]) + "\n... (cut)"
	}
	return string(buf)
}
