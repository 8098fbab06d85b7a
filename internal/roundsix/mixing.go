package roundsix

import (
	"context"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// NewMixWithStaleFrame builds a bot that persists a per-participant mix:
// each frame, under its stream's lease, is written together with the
// latest frame heard on every other stream, into one write. The "latest
// frame" table is updated for every frame, gate open or not, so the first
// mixes of a recording carry the other streams' frames from before
// consent (or from the previous recording).
//
// Why a team does it: the mixer is a media component, written before
// recording existed (it feeds live captions), and keeps the last frame of
// each participant for whoever asks; the recorder was bolted onto its
// output.
func NewMixWithStaleFrame(env *properties.Env) (properties.Bot, error) {
	base, err := newFSMBot(env, nil)
	if err != nil {
		return nil, err
	}
	return &mixBot{fsmBot: base, sink: env.Sink, last: make([][]byte, env.Streams)}, nil
}

// NewMixCurrentOnly builds a correct mixing bot: the latest-frame table
// is filled only by frames that got their lease, and is emptied once every
// lease of the recording was released (fsm's observer,
// EventLeasesDrained), so a mix holds only frames that arrived inside the
// current recording.
//
// Why a team does it: the same per-participant mix as MixWithStaleFrame,
// fed by the recorder rather than by the live mixer.
func NewMixCurrentOnly(env *properties.Env) (properties.Bot, error) {
	return newMixCurrent(env.CallID, env.Updater, env.Streams, env.Sink, env.GateOpened, false, clearOnDrained)
}

// NewMixClearedOnGateClose builds MixCurrentOnly with the table emptied
// when the gate closes (EventGate, closed) instead of when the leases
// have drained. A write that took its lease before the close stores its
// frame after the table was emptied, and that frame, heard in one
// recording, is mixed into the first writes of the next.
//
// Why a team does it: "clear when the gate closes" is the obvious event
// to pick from the observer's list; the drain is the one after it.
//
// The table is refilled before the write, so the frame that outlives the
// clear must have taken its lease, and be between Acquire and the refill,
// when the gate closes.
func NewMixClearedOnGateClose(env *properties.Env) (properties.Bot, error) {
	return newMixCurrent(env.CallID, env.Updater, env.Streams, env.Sink, env.GateOpened, false, clearOnGateClose)
}

// NewMixClearedOnGateCloseAfterWrite is MixClearedOnGateClose with the
// table refilled after the write ("remember a frame once it is safely
// stored"): any write in progress when the gate closes refills it.
func NewMixClearedOnGateCloseAfterWrite(env *properties.Env) (properties.Bot, error) {
	return newMixCurrent(env.CallID, env.Updater, env.Streams, env.Sink, env.GateOpened, true, clearOnGateClose)
}

// The events on which the mix bots empty their table.
func clearOnDrained(e fsm.Event) bool   { return e.Kind == fsm.EventLeasesDrained }
func clearOnGateClose(e fsm.Event) bool { return e.Kind == fsm.EventGate && !e.Open }

// newMixCurrent builds the mix bots fed under leases, from what they need
// of the call (the suite's Env, or a mechanism test's fakes).
func newMixCurrent(callID string, u fsm.Updater, streams int, sink storage, opened func(), rememberAfterWrite bool, clearOn func(fsm.Event) bool) (*mixBot, error) {
	b := &mixBot{sink: sink, last: make([][]byte, streams), current: true, afterWrite: rememberAfterWrite}
	m, err := fsm.New(callID, u,
		fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error { return sink.Flush() }),
		reportGate(opened),
		fsm.WithObserver(func(e fsm.Event) {
			if clearOn(e) {
				b.mu.Lock()
				clear(b.last)
				b.mu.Unlock()
				if b.cleared != nil {
					b.cleared()
				}
			}
		}))
	if err != nil {
		return nil, err
	}
	b.fsmBot = &fsmBot{m: m}
	for i := 0; i < streams; i++ {
		b.streams = append(b.streams, m.Gate().NewStream())
	}
	return b, nil
}

type mixBot struct {
	*fsmBot
	current    bool // fed under leases only
	afterWrite bool // the table is refilled after the write
	sink       storage

	// Pause points for the mechanism test (nil in the suite): after the
	// lease was taken, and after the observer emptied the table.
	afterAcquire, cleared func()
	mu                    sync.Mutex
	last                  [][]byte
}

func (b *mixBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, len(b.streams)); err != nil {
		return err
	}
	own := append([]byte(nil), payload...)
	if !b.current {
		b.mu.Lock()
		b.last[stream] = own
		b.mu.Unlock()
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	if b.afterAcquire != nil {
		b.afterAcquire()
	}
	b.mu.Lock()
	if b.current && !b.afterWrite {
		b.last[stream] = own
	}
	mix := append([]byte(nil), own...)
	for i, p := range b.last {
		if i != stream && p != nil {
			mix = append(mix, " | "...)
			mix = append(mix, p...)
		}
	}
	b.mu.Unlock()
	_, err = b.sink.Write(stream, mix)
	if b.afterWrite && err == nil {
		b.mu.Lock()
		b.last[stream] = own
		b.mu.Unlock()
	}
	return err
}
