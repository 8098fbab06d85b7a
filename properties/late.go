package properties

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// DefaultLateWindow is how long Check and RunSuite wait, after their last
// case, for writes a bot makes later (see WithLateWindow).
const DefaultLateWindow = 300 * time.Millisecond

// maxWatchedCases bounds how many ended cases a long run (go test -fuzz)
// keeps watching: a timer that fires hundreds of cases later is rare, and
// each case's log is kept while it is watched.
const maxWatchedCases = 256

// lateWatch keeps the Envs of the cases that passed, so that a write a bot
// makes after its case ended is still judged when it lands: a timer
// (time.AfterFunc starts no goroutine until it fires, so the end-of-case
// grace period cannot see it coming), or a goroutine that blocked on
// something the suite never touches. Such a write after notRecording, or
// after the call ended, breaks P1 whenever it lands, and the case it
// belongs to is reported with it.
type lateWatch struct {
	mu   sync.Mutex
	envs []*Env
}

// watch starts watching e, whose case has ended (runCase called
// e.endCase as soon as it was played).
func (l *lateWatch) watch(e *Env) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.envs) == maxWatchedCases {
		l.envs = append(l.envs[:0], l.envs[1:]...)
	}
	l.envs = append(l.envs, e)
}

// report returns the report of the first watched case whose bot broke an
// invariant after the case ended, and stops watching that case; "" if none
// did.
func (l *lateWatch) report() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, e := range l.envs {
		if vs := e.lateViolations(); len(vs) > 0 {
			l.envs = append(l.envs[:i], l.envs[i+1:]...)
			return fmt.Sprintf("%s, after its case had ended: the bot did this on its own, later (a timer, a batch, a goroutine the suite did not see finish), so it is judged on the case it belongs to, shown here whole; a bot with background work should finish it in Stop, in its recording-ended hook, or in a Close (see Closer)\n%s",
				strings.TrimSuffix(headline(vs, ""), " (report below)"), report(vs, "", e.events()))
		}
	}
	return ""
}

// awaitReport waits for window, then reports as report does.
func (l *lateWatch) awaitReport(window time.Duration) string {
	if window > 0 {
		time.Sleep(window) // nothing to synchronise on: a bot's timers are its own
	}
	return l.report()
}
