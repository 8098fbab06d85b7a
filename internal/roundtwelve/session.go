package roundtwelve

import (
	"context"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// The media path of the first team of this round: "a recording is a
// session". When fsm's gate opens, the bot starts a session: a context,
// one bounded queue per media stream (it drops the oldest frame when a
// queue is full: live audio must never block the media socket), and one
// writer goroutine per stream, started and waited for as a group, the
// way errgroup does it. A writer takes frames off its queue and writes
// them while the session's context is live. The recording-ended hook
// ends the session: it cancels the context and waits for the writers.
//
// The frame handler takes a lease only to ask the gate whether the
// frame may be kept ("admission"); the write itself is the writer's, and
// the hook's wait is what keeps it inside the recording. What the bots
// below vary is how admission and the end of the session are done.

// queueDepth is each stream's queue: 8 frames, 160 ms of audio.
const queueDepth = 8

// session is one recording's writers.
type session struct {
	ctx     context.Context
	cancel  context.CancelFunc
	queues  []chan []byte
	writers sync.WaitGroup
	dropped int // frames dropped because a queue was full (for metrics)
}

// startSession starts one writer per stream.
func startSession(sink *properties.Sink, streams int) *session {
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{ctx: ctx, cancel: cancel}
	for i := 0; i < streams; i++ {
		q := make(chan []byte, queueDepth)
		s.queues = append(s.queues, q)
		s.writers.Add(1)
		go func(stream int) {
			defer s.writers.Done()
			s.drain(sink, stream, q)
		}(i)
	}
	return s
}

// drain writes what comes on q until the session ends. A frame taken off
// the queue after the session ended is dropped.
func (s *session) drain(sink *properties.Sink, stream int, q <-chan []byte) {
	for {
		select {
		case <-s.ctx.Done():
			return
		case p := <-q:
			if s.ctx.Err() != nil {
				return // stopped: never write after Stop
			}
			_, _ = sink.Write(stream, p) // a lost frame is logged by storage; the call goes on
		}
	}
}

// enqueue puts p on stream's queue, dropping the oldest frame while the
// queue is full. It never blocks.
func (s *session) enqueue(stream int, p []byte) {
	q := s.queues[stream]
	for {
		select {
		case q <- p:
			return
		default:
		}
		select {
		case <-q:
			s.dropped++
		default:
		}
	}
}

// sessionBot is the fsm wiring with a session of writers.
type sessionBot struct {
	*fsmBot
	// admitUnderLease: the frame handler asks the gate (a lease) before
	// it queues a frame; otherwise a live session is enough.
	admitUnderLease bool
	// waitInHook: the hook waits for the writers after it cancels them;
	// otherwise only Close does.
	waitInHook bool

	mu   sync.Mutex // guards cur; the handler queues under it
	cur  *session
	done []*session // sessions ended without waiting, for Close
}

func newSessionBot(env *properties.Env, admitUnderLease, waitInHook bool) (*sessionBot, error) {
	b := &sessionBot{admitUnderLease: admitUnderLease, waitInHook: waitInHook}
	base, err := newFSMBot(env, wiring{
		hook: func(context.Context, fsm.Trigger) error {
			b.endSession(b.waitInHook)
			return env.Sink.Flush()
		},
		observer: func(e fsm.Event) {
			if e.Kind == fsm.EventGate && e.Open {
				b.mu.Lock()
				if b.cur == nil {
					b.cur = startSession(env.Sink, env.Streams)
				}
				b.mu.Unlock()
			}
		},
	})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

// NewSessionWorkers is the session done right: a frame is queued only
// under a lease (the gate is open), and the hook cancels the writers and
// waits for them before it flushes.
func NewSessionWorkers(env *properties.Env) (properties.Bot, error) {
	return newSessionBot(env, true, true)
}

// NewSessionEndsInHook queues a frame whenever a session is live: "the
// session is the recording; it begins when the gate opens and ends in
// the recording-ended hook, so the media path needs no lease". Between
// Stop closing the gate and the hook ending the session (fsm's drain,
// the observers), frames that arrived after the bot was asked to stop
// are queued and written.
func NewSessionEndsInHook(env *properties.Env) (properties.Bot, error) {
	return newSessionBot(env, false, true)
}

// NewCancelWithoutWait admits under a lease, but the hook only cancels
// the writers ("they see the cancel before their next write; waiting
// here would hold up the report"); Close waits for them. A writer that
// looked at the context before the cancel writes after notRecording.
func NewCancelWithoutWait(env *properties.Env) (properties.Bot, error) {
	return newSessionBot(env, true, false)
}

// endSession cancels the current session and, with wait, waits for its
// writers.
func (b *sessionBot) endSession(wait bool) {
	b.mu.Lock()
	s := b.cur
	b.cur = nil
	if s != nil && !wait {
		b.done = append(b.done, s)
	}
	b.mu.Unlock()
	if s == nil {
		return
	}
	s.cancel()
	if wait {
		s.writers.Wait()
	}
}

// Frame queues the frame for the session's writer.
func (b *sessionBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	if b.admitUnderLease {
		lease, err := b.streams[stream].Acquire()
		if err != nil {
			return err
		}
		defer lease.Release()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == nil {
		return errNotOpen
	}
	b.cur.enqueue(stream, append([]byte(nil), payload...))
	return nil
}

// Close ends the session still running and waits for every writer.
func (b *sessionBot) Close(context.Context) error {
	b.endSession(true)
	b.mu.Lock()
	done := b.done
	b.done = nil
	b.mu.Unlock()
	for _, s := range done {
		s.writers.Wait()
	}
	return nil
}
