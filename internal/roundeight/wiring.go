package roundeight

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// Errors the bots return for events they do not act on. The suite expects
// errors (a frame dropped, a panic recovered) and does not count them.
var (
	errNoStream  = errors.New("roundeight: no such stream")
	errRecovered = errors.New("roundeight: the media handler panicked; the middleware recovered and dropped the frame")
	errQueued    = errors.New("roundeight: the media handler panicked; the frame waits in the retry queue")
	errCallOver  = errors.New("roundeight: the call is over; frame dropped")
)

// storage is what a bot persists to: env.Sink in the suite, a recorder or
// a faulty store in this package's mechanism tests.
type storage interface {
	Write(stream int, p []byte) (int, error)
	Flush() error
}

// fsmBot is the wiring most teams copy from README: one fsm.Machine for
// the call, one Stream per media stream, a recording-ended hook that
// flushes the storage, the gate's openings reported to the suite. Bots
// embed it and change what their team changed.
type fsmBot struct {
	store   storage
	streams []*fsm.Stream
	m       *fsm.Machine
}

// wiring is what newFSMBot needs besides Graph and storage.
type wiring struct {
	opened   func()          // the gate opened (env.GateOpened), or nil
	hook     fsm.EndedHook   // nil: flush the storage
	observer func(fsm.Event) // more observation (the bot's own), or nil
	opts     []fsm.Option
}

// newFSMBot builds the wiring for call callID on Graph u, with n media
// streams persisted to st.
func newFSMBot(callID string, u fsm.Updater, n int, st storage, w wiring) (*fsmBot, error) {
	hook := w.hook
	if hook == nil {
		hook = func(context.Context, fsm.Trigger) error { return st.Flush() }
	}
	opened, own := w.opened, w.observer
	all := []fsm.Option{fsm.WithRecordingEndedHook(hook)}
	if opened != nil || own != nil {
		all = append(all, fsm.WithObserver(func(e fsm.Event) {
			if opened != nil && e.Kind == fsm.EventGate && e.Open {
				opened()
			}
			if own != nil {
				own(e)
			}
		}))
	}
	m, err := fsm.New(callID, u, append(all, w.opts...)...)
	if err != nil {
		return nil, err
	}
	b := &fsmBot{store: st, m: m}
	for i := 0; i < n; i++ {
		b.streams = append(b.streams, m.Gate().NewStream())
	}
	return b, nil
}

// newEnvBot is newFSMBot on the suite's Env.
func newEnvBot(env *properties.Env, w wiring) (*fsmBot, error) {
	w.opened = env.GateOpened
	return newFSMBot(env.CallID, env.Updater, env.Streams, env.Sink, w)
}

func (b *fsmBot) checkStream(i int) error {
	if i < 0 || i >= len(b.streams) {
		return fmt.Errorf("%w: %d (the call has %d)", errNoStream, i, len(b.streams))
	}
	return nil
}

// Start asks Graph to record.
func (b *fsmBot) Start(ctx context.Context) error {
	_, err := b.m.Start(ctx)
	return err
}

// Stop ends the recording and reports notRecording.
func (b *fsmBot) Stop(ctx context.Context) error { return b.m.Stop(ctx) }

// Fail ends the recording and reports failed.
func (b *fsmBot) Fail(ctx context.Context) error { return b.m.Fail(ctx) }

// CallEnded ends the machine.
func (b *fsmBot) CallEnded(ctx context.Context) error { return b.m.CallEnded(ctx) }

// OperationUpdate feeds Graph's later outcome to the machine.
func (b *fsmBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return b.m.OperationUpdate(ctx, op)
}

// Frame persists payload on its stream under a lease.
func (b *fsmBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = b.store.Write(stream, payload)
	return err
}

// GateOpen reports the machine's gate (properties.GateReporter).
func (b *fsmBot) GateOpen() bool { return b.m.Gate().IsOpen() }

// pcmLevel is the level meter every bot of this round runs on a frame: the
// frame read as 16-bit little-endian PCM samples, two bytes at a time. A
// frame of odd length makes it read past the end and panic (index out of
// range), as hand-written sample loops do on a truncated packet; the
// suite's frames are lines of words, so about half of them are odd.
func pcmLevel(p []byte) int {
	peak := 0
	for i := 0; i < len(p); i += 2 {
		s := int(int16(uint16(p[i]) | uint16(p[i+1])<<8))
		if s < 0 {
			s = -s
		}
		peak = max(peak, s)
	}
	return peak
}

// storageError is a transient storage failure (the service's 503
// ServerBusy, a reset connection): nothing was stored, and the same write
// may be tried again.
type storageError struct{ status int }

func (e *storageError) Error() string {
	return fmt.Sprintf("roundeight: storage answered %d (server busy): nothing was stored; try the write again", e.status)
}

// transient reports whether err is a failure a retry may cure.
func transient(err error) bool {
	var se *storageError
	return errors.As(err, &se) || errors.Is(err, properties.ErrStorageFault)
}

// faultyStorage fails every nth write with a transient error, before
// anything reaches the storage behind it: the storage faults the suite's
// Sink never has. Rows that use it prototype the suite option proposed in
// this round's report (WithStorageFaults); the bot is not what fails.
type faultyStorage struct {
	storage
	every int
	mu    sync.Mutex
	n     int
}

func (f *faultyStorage) Write(stream int, p []byte) (int, error) {
	f.mu.Lock()
	f.n++
	fail := f.n%f.every == 0
	f.mu.Unlock()
	if fail {
		return 0, &storageError{status: 503}
	}
	return f.storage.Write(stream, p)
}

// withStorageFaults wraps a factory's storage in faultyStorage.
func withStorageFaults(every int, build func(env *properties.Env, st storage) (properties.Bot, error)) properties.Factory {
	return func(env *properties.Env) (properties.Bot, error) {
		return build(env, &faultyStorage{storage: env.Sink, every: every})
	}
}
