package userbots

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// Media carried from where it was heard to where it is written.

const overlapFrames = 3 // 60 ms of audio at 50 frames/s

// segmentOverlap is the bug. Reviewers complained that a recording
// resumed after a pause starts mid-sentence, so the team "stitches"
// segments: each stream keeps the last few frames it wrote, and when the
// next recording begins those frames are written again first, as an
// overlap. They were heard in the previous recording, and a notRecording
// lies between (R1, P7: an earlier interval).
type segmentOverlap struct {
	*fsmBot
	mu     sync.Mutex
	last   [][][]byte // per stream: the last frames written
	resume []bool     // per stream: the next write begins a new segment
}

// NewSegmentOverlap builds the segment-stitching bot.
func NewSegmentOverlap(env *properties.Env) (properties.Bot, error) {
	b := &segmentOverlap{last: make([][][]byte, env.Streams), resume: make([]bool, env.Streams)}
	fb, err := newFSMBot(env, b.recordingEnded)
	if err != nil {
		return nil, err
	}
	b.fsmBot = fb
	return b, nil
}

func (b *segmentOverlap) Frame(_ context.Context, stream int, payload []byte) error {
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
	if b.resume[stream] {
		for _, p := range b.last[stream] { // the overlap with the previous segment
			if _, err := b.env.Sink.Write(stream, p); err != nil {
				return err
			}
		}
		b.resume[stream] = false
	}
	if _, err := b.env.Sink.Write(stream, payload); err != nil {
		return err
	}
	r := append(b.last[stream], append([]byte(nil), payload...))
	if len(r) > overlapFrames {
		r = r[1:]
	}
	b.last[stream] = r
	return nil
}

func (b *segmentOverlap) recordingEnded(context.Context, fsm.Trigger) error {
	b.mu.Lock()
	for i := range b.resume {
		b.resume[i] = b.last[i] != nil
	}
	b.mu.Unlock()
	return b.env.Sink.Flush()
}

// captionSidecar is the bug. Live captions run for the whole call (they
// are shown, not stored), and each recording gets a metadata record on
// its own stream next to the media: start, streams, and "the caption on
// screen when recording began", so the review tool can show context. That
// caption was spoken before consent (R1, P7).
type captionSidecar struct {
	*fsmBot
	mu      sync.Mutex
	caption string // the live caption: the last frame heard, recognised
	wrote   bool   // this recording's metadata is written
}

// NewCaptionSidecar builds the bot whose metadata quotes the live caption.
func NewCaptionSidecar(env *properties.Env) (properties.Bot, error) {
	b := &captionSidecar{}
	fb, err := newFSMBot(env, b.recordingEnded)
	if err != nil {
		return nil, err
	}
	b.fsmBot = fb
	return b, nil
}

type recordingMetadata struct {
	CallID  string `json:"callId"`
	Streams int    `json:"streams"`
	Caption string `json:"captionAtStart"`
}

func (b *captionSidecar) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	lease, err := s.Acquire()
	if err != nil {
		b.caption = strings.TrimSuffix(string(payload), ";") // captions run regardless
		return err
	}
	defer lease.Release()
	if !b.wrote {
		meta, _ := json.Marshal(recordingMetadata{CallID: b.env.CallID, Streams: b.env.Streams, Caption: b.caption})
		// The metadata stream is the one after the media streams.
		if _, err := b.env.Sink.Write(b.env.Streams, meta); err != nil {
			return err
		}
		b.wrote = true
	}
	b.caption = strings.TrimSuffix(string(payload), ";")
	_, err = b.env.Sink.Write(stream, payload)
	return err
}

func (b *captionSidecar) recordingEnded(context.Context, fsm.Trigger) error {
	b.mu.Lock()
	b.wrote = false
	b.mu.Unlock()
	return b.env.Sink.Flush()
}

// lastWords is the bug. Users said recordings "cut off the last word", so
// frames that arrive while the bot is stopping (the gate already closed,
// Stop still draining) are kept in a tail, and the recording-ended hook
// writes the tail before it flushes. Those frames arrived after the bot
// was asked to stop, outside any confirmed recording; and frames that
// arrive while the hook runs wait in the tail for the next recording's end
// (R1, P7).
type lastWords struct {
	*fsmBot
	mu       sync.Mutex
	stopping bool
	tail     []tailFrame
}

// tailFrame is a frame kept for later; a writer queue also carries
// barriers (barrier set, no payload).
type tailFrame struct {
	stream  int
	payload []byte
	barrier chan struct{}
}

// NewLastWords builds the bot that keeps the last words.
func NewLastWords(env *properties.Env) (properties.Bot, error) {
	b := &lastWords{}
	fb, err := newFSMBot(env, b.recordingEnded)
	if err != nil {
		return nil, err
	}
	b.fsmBot = fb
	return b, nil
}

func (b *lastWords) Frame(_ context.Context, stream int, payload []byte) error {
	err := b.persist(stream, payload)
	if errors.Is(err, fsm.ErrGateClosed) {
		b.mu.Lock()
		if b.stopping {
			b.tail = append(b.tail, tailFrame{stream: stream, payload: append([]byte(nil), payload...)})
		}
		b.mu.Unlock()
	}
	return err
}

func (b *lastWords) Stop(ctx context.Context) error {
	b.setStopping(true)
	defer b.setStopping(false)
	return b.m.Stop(ctx)
}

func (b *lastWords) Fail(ctx context.Context) error {
	b.setStopping(true)
	defer b.setStopping(false)
	return b.m.Fail(ctx)
}

func (b *lastWords) setStopping(v bool) {
	b.mu.Lock()
	b.stopping = v
	b.mu.Unlock()
}

func (b *lastWords) recordingEnded(context.Context, fsm.Trigger) error {
	b.mu.Lock()
	tail := b.tail
	b.tail = nil
	b.mu.Unlock()
	for _, f := range tail {
		if _, err := b.env.Sink.Write(f.stream, f.payload); err != nil {
			return err
		}
	}
	return b.env.Sink.Flush()
}
