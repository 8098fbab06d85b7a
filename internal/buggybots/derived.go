package buggybots

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// Data derived from media that carries none of it.
//
// The suite traces media by the canary words each frame carries; a digest
// or a count keeps none of them, so the default suite cannot see where it
// came from. Only the opt-in noninterference check (replay the scenario
// with other pre-consent media: the bytes persisted must not change)
// catches these.

// digestOnly is the bug. Compliance wanted recordings to be tamper-evident,
// so next to each recorded frame the bot writes a running SHA-256 of the
// call's audio. The hash was started when the bot joined the call, so
// every fingerprint depends on audio heard before consent.
type digestOnly struct {
	*machineBot
	mu  sync.Mutex
	sum hash.Hash // every frame since the bot joined
}

// NewDigestOnly builds the fingerprinting bot.
func NewDigestOnly(env *properties.Env) (properties.Bot, error) {
	mb, err := newMachineBot(env, func(context.Context, fsm.Trigger) error { return env.Sink.Flush() })
	if err != nil {
		return nil, err
	}
	return &digestOnly{machineBot: mb, sum: sha256.New()}, nil
}

func (b *digestOnly) Frame(_ context.Context, stream int, payload []byte) error {
	b.mu.Lock()
	b.sum.Write(payload)
	line := fmt.Sprintf("fingerprint %x\n", b.sum.Sum(nil))
	b.mu.Unlock()
	if err := b.persist(stream, payload); err != nil {
		return err
	}
	return b.persist(stream, []byte(line))
}

// countsOnly is the bug. The bot records by the book, and a usage-billing
// feature adds, next to each recorded frame, how much audio the bot has
// processed: a running byte count per stream since the call began. The
// count is derived from pre-consent media; the noninterference check sees
// it only if the other pre-consent media it replays differ in length.
type countsOnly struct {
	*machineBot
	mu   sync.Mutex
	seen []int // bytes of audio per stream since the bot joined
}

// NewCountsOnly builds the byte-counting bot.
func NewCountsOnly(env *properties.Env) (properties.Bot, error) {
	mb, err := newMachineBot(env, func(context.Context, fsm.Trigger) error { return env.Sink.Flush() })
	if err != nil {
		return nil, err
	}
	return &countsOnly{machineBot: mb, seen: make([]int, env.Streams)}, nil
}

func (b *countsOnly) Frame(_ context.Context, stream int, payload []byte) error {
	if _, err := b.stream(stream); err != nil {
		return err
	}
	b.mu.Lock()
	b.seen[stream] += len(payload)
	line := fmt.Sprintf("audio-bytes %d\n", b.seen[stream])
	b.mu.Unlock()
	if err := b.persist(stream, payload); err != nil {
		return err
	}
	return b.persist(stream, []byte(line))
}
