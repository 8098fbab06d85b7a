package roundseven

import (
	"bufio"
	"context"
	"sync"
	"sync/atomic"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// sessionBot keeps the current fsm.Machine of the call behind a lock, so
// a re-established call can get a new one; control events go to the
// current machine.
type sessionBot struct {
	sessionConfig
	mu      sync.Mutex
	m       *fsm.Machine
	streams []*fsm.Stream // the media handlers'
	ended   bool
	// reported is the status of Graph's reply to the latest notRecording
	// (empty: an error, or none yet).
	reported atomic.Value
}

// sessionConfig is what a session bot builds its machines from.
type sessionConfig struct {
	callID string
	u      fsm.Updater
	n      int
	store  storage
	opened func()
}

func envSession(env *properties.Env) sessionConfig {
	return sessionConfig{callID: env.CallID, u: env.Updater, n: env.Streams, store: env.Sink, opened: env.GateOpened}
}

func (b *sessionBot) newMachine() (*fsm.Machine, error) {
	return fsm.New(b.callID, b.u,
		fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error { return b.store.Flush() }),
		fsm.WithObserver(func(e fsm.Event) {
			switch {
			case e.Kind == fsm.EventGate && e.Open:
				b.opened()
			case e.Kind == fsm.EventReply && e.Status == graph.StatusNotRecording:
				b.reported.Store(e.Operation.Status)
			}
		}))
}

func (b *sessionBot) current() *fsm.Machine {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m
}

func (b *sessionBot) Stop(ctx context.Context) error { return b.current().Stop(ctx) }
func (b *sessionBot) Fail(ctx context.Context) error { return b.current().Fail(ctx) }
func (b *sessionBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return b.current().OperationUpdate(ctx, op)
}

func (b *sessionBot) CallEnded(ctx context.Context) error {
	b.mu.Lock()
	b.ended = true
	m := b.m
	b.mu.Unlock()
	return m.CallEnded(ctx)
}

// GateOpen reports the current machine's gate.
func (b *sessionBot) GateOpen() bool { return b.current().Gate().IsOpen() }

func (b *sessionBot) frame(s *fsm.Stream, stream int, payload []byte) error {
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = b.store.Write(stream, payload)
	return err
}

func establishing(s fsm.State) bool {
	return s == fsm.Recording || s == fsm.AwaitingConfirmation || s == fsm.Stopping
}

// NewReinviteNewMachine builds a bot whose Start, when the machine is
// already recording (or waiting for Graph, or stopping), takes it as a
// re-established call (a re-INVITE, a media reconnect) and makes a fresh
// fsm.Machine for the new session, without ending the old one: fsm had
// refused that Start ("trigger not permitted in this state"), and the
// fix that shipped was "new media session, new machine". The media
// handlers keep the Streams they got when they connected, from the first
// machine; Stop goes to the new machine. The first machine stays open,
// and its frames are persisted after notRecording and after the call
// ended.
func NewReinviteNewMachine(env *properties.Env) (properties.Bot, error) {
	b := &reinviteBot{sessionBot: sessionBot{sessionConfig: envSession(env)}}
	m, err := b.newMachine()
	if err != nil {
		return nil, err
	}
	b.m = m
	for i := 0; i < b.n; i++ {
		b.streams = append(b.streams, m.Gate().NewStream())
	}
	return b, nil
}

type reinviteBot struct{ sessionBot }

func (b *reinviteBot) Start(ctx context.Context) error {
	b.mu.Lock()
	m := b.m
	if establishing(m.State()) && !b.ended {
		nm, err := b.newMachine()
		if err != nil {
			b.mu.Unlock()
			return err
		}
		b.m, m = nm, nm // the old machine is left as it is: the bug
	}
	b.mu.Unlock()
	_, err := m.Start(ctx)
	return err
}

func (b *reinviteBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, len(b.streams)); err != nil {
		return err
	}
	return b.frame(b.streams[stream], stream, payload) // connected to the first machine
}

// NewReinviteStopsFirst builds the correct re-invite: a Start on a call
// whose machine is recording (or waiting, or stopping) first ends that
// recording through the machine (Stop: drain, hook, notRecording), and
// only when Graph completed that notRecording (a pending one could
// land after the new recording's completed; fsm's Stop returns nil for it,
// so the bot reads the reply from the observer) builds a new machine, hands its Streams
// to the media handlers, and asks Graph to record again. Frames look up
// the current Stream at every frame; one that still got an old Stream is
// refused by the old, closed gate.
func NewReinviteStopsFirst(env *properties.Env) (properties.Bot, error) {
	return newReinviteStops(envSession(env))
}

func newReinviteStops(c sessionConfig) (*reinviteStopsBot, error) {
	b := &reinviteStopsBot{sessionBot: sessionBot{sessionConfig: c}}
	m, err := b.newMachine()
	if err != nil {
		return nil, err
	}
	b.m = m
	b.streams = b.newStreams(m)
	return b, nil
}

type reinviteStopsBot struct{ sessionBot }

func (b *reinviteStopsBot) newStreams(m *fsm.Machine) []*fsm.Stream {
	var ss []*fsm.Stream
	for i := 0; i < b.n; i++ {
		ss = append(ss, m.Gate().NewStream())
	}
	return ss
}

func (b *reinviteStopsBot) Start(ctx context.Context) error {
	m := b.current()
	if establishing(m.State()) {
		b.reported.Store(graph.OperationStatus(""))
		if err := m.Stop(ctx); err != nil {
			return err // the old recording is not over: do not start another
		}
		if st, _ := b.reported.Load().(graph.OperationStatus); !st.Confirmed() {
			// Graph accepted notRecording but has not completed it: a new
			// recording now could be overtaken by it. Start again once the
			// operation completed (the next Start finds NotRecording).
			return errReportPending
		}
		nm, err := b.newMachine()
		if err != nil {
			return err
		}
		b.mu.Lock()
		if b.ended || b.m != m {
			b.mu.Unlock()
			return fsm.ErrSuperseded // the call ended, or another Start won
		}
		b.m, b.streams, m = nm, b.newStreams(nm), nm
		b.mu.Unlock()
	}
	_, err := m.Start(ctx)
	return err
}

func (b *reinviteStopsBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, b.n); err != nil {
		return err
	}
	b.mu.Lock()
	s := b.streams[stream]
	b.mu.Unlock()
	return b.frame(s, stream, payload)
}

// segment is one recording's file: a bufio.Writer per stream over the
// storage.
type segment struct {
	mu   sync.Mutex
	ws   []*bufio.Writer
	used bool
}

type streamWriter struct {
	st storage
	i  int
}

func (w streamWriter) Write(p []byte) (int, error) { return w.st.Write(w.i, p) }

func newSegment(st storage, n, size int) *segment {
	s := &segment{}
	for i := 0; i < n; i++ {
		s.ws = append(s.ws, bufio.NewWriterSize(streamWriter{st, i}, size))
	}
	return s
}

func (s *segment) write(stream int, p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used = true
	_, err := s.ws[stream].Write(p)
	return err
}

func (s *segment) flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.ws {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// NewSegmentPerRecording builds a bot that writes each recording into a
// segment of its own (a bufio.Writer per stream, 512 bytes), under the
// frame's lease. The hook flushes "the segment", a variable its closure
// captured when the bot was built: the first segment. A successful Start
// rotates to a new segment and flushes the old one ("close the previous
// file"), so from the second recording on, the hook flushes an empty
// first segment; the recording's tail stays buffered and is written by
// the next rotation, inside the next recording (or, at shutdown, by
// Close, after the call ended).
func NewSegmentPerRecording(env *properties.Env) (properties.Bot, error) {
	return newSegmentBot(env.CallID, env.Updater, env.Streams, env.Sink, env.GateOpened)
}

func newSegmentBot(callID string, u fsm.Updater, n int, st storage, opened func()) (*segmentBot, error) {
	seg := newSegment(st, n, segmentBuffer)
	b := &segmentBot{seg: seg, n: n}
	base, err := newFSMBot(callID, u, n, st, opened, func(context.Context, fsm.Trigger) error {
		if err := seg.flush(); err != nil { // captured: always the first segment
			return err
		}
		return st.Flush()
	})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

const segmentBuffer = 512

type segmentBot struct {
	*fsmBot
	mu  sync.Mutex
	seg *segment
	n   int
}

func (b *segmentBot) Start(ctx context.Context) error {
	_, err := b.m.Start(ctx)
	if err == nil {
		b.mu.Lock()
		old := b.seg
		if old.used {
			b.seg = newSegment(b.store, b.n, segmentBuffer)
		}
		b.mu.Unlock()
		if old.used {
			_ = old.flush() // close the previous recording's file
		}
	}
	return err
}

func (b *segmentBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, b.n); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	seg := b.seg
	b.mu.Unlock()
	return seg.write(stream, payload)
}

// Close flushes the current segment at shutdown.
func (b *segmentBot) Close(context.Context) error {
	b.mu.Lock()
	seg := b.seg
	b.mu.Unlock()
	return seg.flush()
}

// NewCallEndedLeftToShutdown builds a bot that buffers each stream in a
// bufio.Writer (4 KiB) under the frame's lease; its hook flushes them on
// Stop and Fail, but not on CallEnded ("the call is gone: the shutdown
// path finalises and uploads every file, let the hang-up webhook answer
// at once"). Close flushes them: after the call ended, the recording's
// tail reaches storage.
func NewCallEndedLeftToShutdown(env *properties.Env) (properties.Bot, error) {
	seg := newSegment(env.Sink, env.Streams, 4096)
	b := &shutdownBot{seg: seg}
	base, err := newEnvBot(env, func(_ context.Context, t fsm.Trigger) error {
		if t == fsm.CallEnded {
			return nil // finalised by Close
		}
		if err := seg.flush(); err != nil {
			return err
		}
		return env.Sink.Flush()
	})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

type shutdownBot struct {
	*fsmBot
	seg *segment
}

func (b *shutdownBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, b.n); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	return b.seg.write(stream, payload)
}

// Close finalises the files.
func (b *shutdownBot) Close(context.Context) error { return b.seg.flush() }
