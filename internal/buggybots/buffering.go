package buggybots

import (
	"context"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// Buffers inside the recording, right and wrong.
//
// Holding a few frames before writing them is fine as long as every frame
// held arrived inside the confirmed recording (it was accepted under a
// lease) and leaves the buffer, written or dropped, before the recording
// ends: the recording-ended hook runs after the gate closed and before
// notRecording is sent, which is exactly the place to write it out.

const jitterDepth = 3 // frames held per stream (60 ms of audio at 50 frames/s)

// jitterBuffer is correct. A real one reorders late packets by RTP
// sequence number before writing; the suite's frames arrive in order, so
// here it only holds them.
type jitterBuffer struct {
	*machineBot
	mu   sync.Mutex
	held [][][]byte // per stream: frames accepted under a lease, oldest first
}

// NewJitterBuffer builds the correct jitter-buffering bot.
func NewJitterBuffer(env *properties.Env) (properties.Bot, error) {
	b := &jitterBuffer{held: make([][][]byte, env.Streams)}
	mb, err := newMachineBot(env, b.recordingEnded)
	if err != nil {
		return nil, err
	}
	b.machineBot = mb
	return b, nil
}

func (b *jitterBuffer) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire() // only media inside the recording is ever held
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	defer b.mu.Unlock()
	q := append(b.held[stream], append([]byte(nil), payload...))
	for len(q) > jitterDepth && err == nil {
		_, err = b.env.Sink.Write(stream, q[0])
		q = q[1:]
	}
	b.held[stream] = q
	return err
}

// recordingEnded writes out what is held (the gate is closed and no lease
// is held, so no frame can join the buffer now), then flushes. When the
// call itself ended there is no recording left to add to: the tail is
// dropped.
func (b *jitterBuffer) recordingEnded(_ context.Context, why fsm.Trigger) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, q := range b.held {
		b.held[i] = nil
		if why == fsm.CallEnded {
			continue
		}
		for _, p := range q {
			if _, err := b.env.Sink.Write(i, p); err != nil {
				return err
			}
		}
	}
	return b.env.Sink.Flush()
}

// heldAcrossStop is the bug. The team's encoder has one frame of
// lookahead (codecs do: the encoder needs the next frame to finish this
// one), so it emits frame n when frame n+1 arrives. When the recording
// ends, the hook flushes storage but not the encoder: "one 20 ms frame,
// the next frame pushes it out". The next frame is in the next recording,
// so a frame captured in one consented interval is persisted in another,
// after a notRecording in between (P7). Nothing is written outside a
// confirmed recording, so only tracing the media catches it.
type heldAcrossStop struct {
	*machineBot
	mu        sync.Mutex
	lookahead [][]byte // per stream: the frame the encoder holds back
}

// NewHeldAcrossStop builds the bot whose encoder carries a frame over.
func NewHeldAcrossStop(env *properties.Env) (properties.Bot, error) {
	b := &heldAcrossStop{lookahead: make([][]byte, env.Streams)}
	mb, err := newMachineBot(env, func(context.Context, fsm.Trigger) error { return env.Sink.Flush() })
	if err != nil {
		return nil, err
	}
	b.machineBot = mb
	return b, nil
}

func (b *heldAcrossStop) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	defer b.mu.Unlock()
	prev := b.lookahead[stream]
	b.lookahead[stream] = append([]byte(nil), payload...)
	if prev == nil {
		return nil
	}
	_, err = b.env.Sink.Write(stream, prev)
	return err
}
