package properties

import (
	"errors"
	"fmt"
	"time"
)

// Option tunes Check, Fuzz, CheckT and RunSuite.
type Option func(*options) error

type options struct {
	timeout         time.Duration
	grace           time.Duration
	noninterference bool
	stalls          bool         // WithStorageStalls
	untraced        map[int]bool // streams that hold no media (WithUntracedStreams)
	oneCall         bool         // WithoutNeighbourCall
	onFail          func()       // RunSuite's: the moment the first case fails
	lateWindow      time.Duration
	late            *lateWatch // the run's ended cases (Check, RunSuite, Fuzz)
}

// DefaultTimeout is how long one bot call may take before the suite says
// the bot hung (see WithTimeout).
const DefaultTimeout = 2 * time.Second

// MaxTimeout is the longest WithTimeout, WithGrace and WithLateWindow
// accept: a case waits a few timeouts at most, and a test run has its own
// deadline (go test's -timeout, 10 minutes by default).
const MaxTimeout = time.Hour

// DefaultGrace bounds how long the suite waits for a bot's other
// goroutines to go quiet after Stop, Fail, CallEnded and at the end of a
// case (see WithGrace).
const DefaultGrace = 100 * time.Millisecond

// WithTimeout sets how long one bot call (Start, Stop, a Frame, ...) may
// take. The call's context ends then; a call still running, or one that
// returned only because its context ended, fails the case as a hang, with
// a dump of every goroutine. The default is DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("properties: WithTimeout(%s): the timeout must be positive", d)
		}
		if d > MaxTimeout {
			return fmt.Errorf("properties: WithTimeout(%s): at most %s (the suite waits for the bot's goroutines a few times this long); a bot that needs longer to answer an event hangs for the suite", d, MaxTimeout)
		}
		o.timeout = d
		return nil
	}
}

// WithGrace sets how long, at most, the suite waits for a bot's
// background goroutines (write-behind queues, batchers) to go quiet after
// Stop, Fail, CallEnded and at the end of each case. Every write that
// lands is judged whenever it lands; the grace period only gives late
// writes the chance to land while the suite is still looking. The wait
// ends as soon as every goroutine is blocked. The default is DefaultGrace.
func WithGrace(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 || d > MaxTimeout {
			return fmt.Errorf("properties: WithGrace(%s): want 0 to %s", d, MaxTimeout)
		}
		o.grace = d
		return nil
	}
}

// WithLateWindow sets how long Check and RunSuite wait after their last
// case for writes the bot makes later on its own. Every case that passed
// stays watched until the run ends: a write that lands after its case
// ended (a debounce timer that flushes a batch after notRecording, say) is
// judged on that case's world, and the run fails with that case's report.
// Writes from earlier cases land while later cases play; the window is for
// the last ones, once per Check or RunSuite call. The default is
// DefaultLateWindow; 0 checks what has landed by the end without waiting.
// A bot whose background work runs less often than that (an uploader every
// few seconds) needs a window longer than its period to be judged on it. (CheckT plays one case and cannot
// watch it afterwards; Fuzz reports a late write when the next case
// starts.)
func WithLateWindow(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 || d > MaxTimeout {
			return fmt.Errorf("properties: WithLateWindow(%s): want 0 to %s", d, MaxTimeout)
		}
		o.lateWindow = d
		return nil
	}
}

// WithNoninterference adds a check for derived data that carries no
// content (counts, hashes, levels): each case that passed is played again
// with other media in every frame that arrived outside a confirmed
// recording, and the bot must persist exactly the same bytes on every
// stream. It needs a deterministic bot (the same events in the same order
// give the same bytes) and doubles the time a run takes. A case whose
// replay met the concurrent events at other moments is not compared: one
// where a frame fell on the other side of a gate's change, and one where
// a Stop, Fail or CallEnded drawn for a step's first write came during a
// write of the bot's own goroutines, whose timing the scheduler chooses.
func WithNoninterference() Option {
	return func(o *options) error {
		o.noninterference = true
		return nil
	}
}

// WithStorageStalls adds storage that falls behind: in a drawn frames
// step, every env.Sink write is held until the next event that is not a
// frame (a Stop, Fail, CallEnded, Start, update, or the end of the case)
// while frames keep coming, often as a burst of up to 64 on one stream,
// so a bot's bounded queues fill and their overflow paths run (a handler
// that, with its queue full, releases the frame's lease and writes the
// frame itself). The held writes are then released one at a time, oldest
// media first, each once that event returned or blocked with nothing else
// of the bot's running: a write under a lease lets Stop's drain finish,
// one without a lease lands after the report, where P1 sees it.
//
// It is an option, not the default, because when a held write is let go
// depends on when the bot's Stop is seen blocked: a failure it finds does
// not always replay from its seed (rapid then calls the test flaky, and
// still fails it). Run it beside the default suite, as a second test.
func WithStorageStalls() Option {
	return func(o *options) error {
		o.stalls = true
		return nil
	}
}

// WithUntracedStreams names the Sink streams on which the bot persists no
// media at all (a manifest, an index, a control log, an audit trail).
// Without it, a run fails as vacuous if some stream received bytes and
// never a traced frame: that is how media encrypted or compressed before
// env.Sink shows, beside streams the suite can read. On a stream named
// here, bytes in which no frame is found are stored and not timed (control
// data may be written before consent and after the report); media found
// there is judged as on any other stream.
func WithUntracedStreams(streams ...int) Option {
	return func(o *options) error {
		if len(streams) == 0 {
			return errors.New("properties: WithUntracedStreams(): name at least one stream, or leave the option out")
		}
		if o.untraced == nil {
			o.untraced = make(map[int]bool)
		}
		for _, s := range streams {
			if s < 0 {
				return fmt.Errorf("properties: WithUntracedStreams(%d): a Sink stream is a number from 0 up", s)
			}
			o.untraced[s] = true
		}
		return nil
	}
}

// WithoutNeighbourCall plays the call under test alone. By default each
// case also builds, with the same Factory, a neighbouring call the same
// process serves (another env.CallID, its own env.Updater and env.Sink):
// the suite asks the bot to record it in about one case in six, hands
// it media after each step and beside each step of frames, ends it with
// the case, and judges what the bot persists and sends for it, and
// whether each call's media shows up in the other's storage. Pass this
// option only for a bot built to serve exactly one call per process (one
// process, or one container, per call): it gives up the check of every
// mistake between calls (a recording flag or a machine shared by all
// calls, a registry looked up by the wrong key).
func WithoutNeighbourCall() Option {
	return func(o *options) error {
		o.oneCall = true
		return nil
	}
}

func buildOptions(opts []Option) (options, error) {
	o := options{timeout: DefaultTimeout, grace: DefaultGrace, lateWindow: DefaultLateWindow}
	for i, opt := range opts {
		if opt == nil {
			return o, fmt.Errorf("properties: option %d is nil", i)
		}
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	if o.timeout < 10*time.Millisecond {
		return o, errors.New("properties: a timeout under 10 ms would call a correct bot hung")
	}
	return o, nil
}
