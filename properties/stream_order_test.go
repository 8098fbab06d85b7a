package properties

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/recgate/recgate/fsm"
)

// busyCountingBot is the reference bot, which gives each stream its own
// fsm.Stream, counting the frames its Stream refused as busy: the suite
// must never hand it a frame of a stream whose previous frame is still in
// Frame (the media platform delivers a stream's frames one at a time).
type busyCountingBot struct {
	Bot
	busy, frames *atomic.Int64
}

func (b busyCountingBot) Frame(ctx context.Context, stream int, p []byte) error {
	b.frames.Add(1)
	err := b.Bot.Frame(ctx, stream, p)
	if errors.Is(err, fsm.ErrStreamBusy) {
		b.busy.Add(1)
	}
	return err
}

func TestFramesOfOneStreamNeverOverlap(t *testing.T) {
	var busy, frames atomic.Int64
	Check(t, func(env *Env) (Bot, error) {
		b, err := ReferenceBot(env)
		if err != nil {
			return nil, err
		}
		return busyCountingBot{Bot: b, busy: &busy, frames: &frames}, nil
	})
	if frames.Load() == 0 {
		t.Fatal("no frame was delivered")
	}
	if n := busy.Load(); n > 0 {
		t.Fatalf("%d of %d frames met fsm.ErrStreamBusy in a bot with one Stream per stream: the suite delivered a stream's frame while its previous frame was still in Frame", n, frames.Load())
	}
}
