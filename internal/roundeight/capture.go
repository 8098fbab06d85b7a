package roundeight

import (
	"context"
	"sync"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// jitterDepth is how many frames a stream's jitter buffer holds before it
// plays the oldest out (60 ms of 20 ms frames).
const jitterDepth = 3

// rtpTick is the unit of the capture timestamps CaptureTickFilter stamps
// on frames: one 20 ms frame, as an RTP clock counts audio.
const rtpTick = 20 * time.Millisecond

// stamped is a frame in a jitter buffer, with its capture tick.
type stamped struct {
	tick int64
	p    []byte
}

// NewJitterBufferAcrossOpen builds a bot whose transport layer smooths
// jitter: every frame that arrives goes into a jitter buffer per stream
// (the transport knows nothing of recording), and the frame it plays out
// goes to the recorder, which writes it under a lease or drops it. The
// jitter buffer is not emptied when the gate opens or closes, so the
// frames heard just before consent are written in the recording, and the
// last frames of one recording in the next.
func NewJitterBufferAcrossOpen(env *properties.Env) (properties.Bot, error) {
	return newJitterBot(env, false)
}

// NewCaptureTickFilter builds JitterBufferAcrossOpen as its team fixed it:
// frames are stamped with their capture time in RTP ticks (20 ms), the
// gate's opening too (fsm's observer), and the recorder drops a frame
// captured before the recording began: tick < the opening's tick. A frame
// captured in the same 20 ms tick as the opening, before it, passes: up to
// one frame of media from before Graph's completed (or, after a quick
// Stop and Start, from the previous recording).
func NewCaptureTickFilter(env *properties.Env) (properties.Bot, error) {
	return newJitterBot(env, true)
}

func newJitterBot(env *properties.Env, filter bool) (properties.Bot, error) {
	b := &jitterBot{jitter: make([][]stamped, env.Streams), filter: filter, epoch: time.Now()}
	base, err := newEnvBot(env, wiring{observer: b.observe})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

type jitterBot struct {
	*fsmBot
	filter bool
	epoch  time.Time

	mu       sync.Mutex
	jitter   [][]stamped
	openTick int64
}

func (b *jitterBot) tick() int64 { return int64(time.Since(b.epoch) / rtpTick) }

func (b *jitterBot) observe(e fsm.Event) {
	if e.Kind == fsm.EventGate && e.Open {
		b.mu.Lock()
		b.openTick = b.tick()
		b.mu.Unlock()
	}
}

func (b *jitterBot) Frame(_ context.Context, stream int, p []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.jitter[stream] = append(b.jitter[stream], stamped{tick: b.tick(), p: append([]byte(nil), p...)})
	if len(b.jitter[stream]) <= jitterDepth {
		return nil
	}
	out := b.jitter[stream][0]
	b.jitter[stream] = b.jitter[stream][1:]
	if b.filter && out.tick < b.openTick {
		return nil // captured before the recording began
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = b.store.Write(stream, out.p)
	return err
}
