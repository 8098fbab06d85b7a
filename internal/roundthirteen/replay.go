package roundthirteen

import (
	"context"
	"errors"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// The sixth team's media socket reconnects: when storage drops a write
// (properties.ErrStorageFault, their blob store's connection reset), the
// socket layer reconnects and REPLAYS its buffer of the stream's last
// replayDepth frames, so the recording has no hole. Which frames that
// buffer holds, and when it is emptied, is what the bots vary.

// replayDepth is each stream's replay buffer.
const replayDepth = 16

// replayMode is what the replay buffer holds.
type replayMode int

const (
	// replayThisRecording: frames written under a lease, emptied when the
	// gate opens: only this recording's frames.
	replayThisRecording replayMode = iota
	// replaySocketBuffer: every frame the socket received, emptied by the
	// recording-ended hook ("a new recording starts clean").
	replaySocketBuffer
	// replayAcrossRecordings: frames written under a lease, never emptied.
	replayAcrossRecordings
)

// replayBot is the README's machine behind a socket with a replay buffer.
type replayBot struct {
	*fsmBot
	mode replayMode
	mu   []sync.Mutex // one per stream, guards its buffer
	buf  [][][]byte
}

func newReplayBot(env *properties.Env, mode replayMode) (*replayBot, error) {
	b := &replayBot{mode: mode, mu: make([]sync.Mutex, env.Streams), buf: make([][][]byte, env.Streams)}
	w := wiring{}
	switch mode {
	case replayThisRecording:
		w.observer = func(e fsm.Event) {
			if e.Kind == fsm.EventGate && e.Open {
				b.clear()
			}
		}
	case replaySocketBuffer:
		w.hook = func(context.Context, fsm.Trigger) error { b.clear(); return env.Sink.Flush() }
	}
	base, err := newFSMBot(env, w)
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

// NewReplayThisRecording replays only what this recording wrote: the
// buffer is filled under the lease and emptied when the gate opens.
func NewReplayThisRecording(env *properties.Env) (properties.Bot, error) {
	return newReplayBot(env, replayThisRecording)
}

// NewReplaySocketBuffer buffers below the gate (the socket keeps every
// frame it received) and empties the buffer when a recording ends: the
// frames that arrive before the next recording is confirmed are
// replayed into it.
func NewReplaySocketBuffer(env *properties.Env) (properties.Bot, error) {
	return newReplayBot(env, replaySocketBuffer)
}

// NewReplayAcrossRecordings buffers what it wrote, under the lease, and
// never empties it: a reconnect in the second recording replays the
// first one's frames.
func NewReplayAcrossRecordings(env *properties.Env) (properties.Bot, error) {
	return newReplayBot(env, replayAcrossRecordings)
}

func (b *replayBot) clear() {
	for i := range b.buf {
		b.mu[i].Lock()
		b.buf[i] = nil
		b.mu[i].Unlock()
	}
}

func (b *replayBot) remember(stream int, p []byte) {
	b.mu[stream].Lock()
	defer b.mu[stream].Unlock()
	b.buf[stream] = append(b.buf[stream], append([]byte(nil), p...))
	if len(b.buf[stream]) > replayDepth {
		b.buf[stream] = b.buf[stream][1:]
	}
}

// Frame writes under a lease; a dropped write reconnects and replays.
func (b *replayBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	if b.mode == replaySocketBuffer {
		b.remember(stream, payload)
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	if b.mode != replaySocketBuffer {
		b.remember(stream, payload)
	}
	_, err = b.sink.Write(stream, payload)
	if !errors.Is(err, properties.ErrStorageFault) {
		return err
	}
	// The connection dropped: reconnect and replay the buffer, which
	// ends with this frame.
	b.mu[stream].Lock()
	replay := append([][]byte(nil), b.buf[stream]...)
	b.mu[stream].Unlock()
	for _, p := range replay {
		if _, err = b.sink.Write(stream, p); err != nil {
			return err
		}
	}
	return nil
}
