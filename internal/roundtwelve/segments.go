package roundtwelve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// The fourth team stores each recording as segment files, one per media
// stream: a header when the segment opens, the frames, and a trailer the
// recording-ended hook writes (frame and byte counts, for the archive's
// integrity check). Beside the audio, each frame's words go to a
// transcript stream through an io.MultiWriter, and call metadata
// (events, timestamps, participants) goes to a metadata stream that
// holds no media (declared with properties.WithUntracedStreams).

// metaStream is the Sink stream of the metadata lines.
const metaStream = 9

// transcriptStream is the Sink stream of stream i's transcript.
func transcriptStream(i int) int { return 3 + i }

// clipStream is the Sink stream of stream i's "last seconds" clip.
func clipStream(i int) int { return 6 + i }

// segment is one stream's open segment file.
type segment struct {
	open           bool
	frames, nbytes int
}

// segmentBot is the fsm wiring with segment files.
type segmentBot struct {
	*fsmBot
	// headerAtStart: the segment's header is written when the recording
	// is requested (before the request), not at the segment's first
	// frame.
	headerAtStart bool
	// stopLineFirst: Stop first writes a metadata line with each
	// segment's frame count (read under the segments' lock), then stops
	// the machine.
	stopLineFirst bool

	mu   sync.Mutex // guards segs; the frame path holds it while it opens a segment
	segs []segment
	seq  atomic.Int64 // metadata line number
}

func newSegmentBot(env *properties.Env, headerAtStart, stopLineFirst bool) (*segmentBot, error) {
	b := &segmentBot{headerAtStart: headerAtStart, stopLineFirst: stopLineFirst, segs: make([]segment, env.Streams)}
	base, err := newFSMBot(env, wiring{
		hook: func(_ context.Context, t fsm.Trigger) error {
			b.closeSegments(t)
			return env.Sink.Flush()
		},
		observer: func(e fsm.Event) {
			if e.Kind == fsm.EventGate {
				b.meta("gate open=%t trigger=%s", e.Open, e.Trigger)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

// NewSegmentFiles writes a segment's header under its first frame's
// lease, the trailer in the hook, metadata lines at every event.
func NewSegmentFiles(env *properties.Env) (properties.Bot, error) {
	return newSegmentBot(env, false, false)
}

// NewStopLineFirst is SegmentFiles whose Stop first writes a metadata
// line with each segment's frame count ("stop requested, s0=12 frames"),
// read under the segments' lock, and then stops the machine. While a
// frame handler holds that lock (it is opening a segment: the header
// write), Stop waits for it before it reaches the machine, and the gate
// is still open: a frame that arrives meanwhile is written, inside the
// confirmed recording, before notRecording.
func NewStopLineFirst(env *properties.Env) (properties.Bot, error) {
	return newSegmentBot(env, false, true)
}

// NewHeaderBeforeGate opens every stream's segment (writes its header:
// format, call ID, stream number, no media) when the recording is
// requested, before Graph answers: "the file exists from the moment we
// ask, so a crash leaves a valid empty file". A segment whose recording
// was refused stays empty and is reused by the next request.
func NewHeaderBeforeGate(env *properties.Env) (properties.Bot, error) {
	return newSegmentBot(env, true, false)
}

// meta writes one metadata line (no media: events, timestamps).
func (b *segmentBot) meta(format string, args ...any) {
	line := fmt.Sprintf("%d call=%s participants=3 ", b.seq.Add(1), b.env.CallID) + fmt.Sprintf(format, args...) + "\n"
	_, _ = b.sink.Write(metaStream, []byte(line))
}

// header is a segment's header: what an archive reader needs to decode
// it, and no media.
func (b *segmentBot) header(stream int) []byte {
	return fmt.Appendf(nil, "SEGMENT v1 format=pcm16 rate=16000 channels=1 call=%s stream=%d\n", b.env.CallID, stream)
}

// Start opens the segments first when the team chose to, then asks Graph.
func (b *segmentBot) Start(ctx context.Context) error {
	b.meta("recording requested")
	if b.headerAtStart {
		b.mu.Lock()
		for i := range b.segs {
			if !b.segs[i].open {
				b.segs[i] = segment{open: true}
				_, _ = b.sink.Write(i, b.header(i))
			}
		}
		b.mu.Unlock()
	}
	_, err := b.m.Start(ctx)
	return err
}

// Stop notes the stop in the metadata and stops the machine.
func (b *segmentBot) Stop(ctx context.Context) error {
	if !b.stopLineFirst {
		err := b.m.Stop(ctx)
		b.meta("stopped err=%v", err != nil)
		return err
	}
	b.mu.Lock()
	counts := make([]string, len(b.segs))
	for i, seg := range b.segs {
		counts[i] = fmt.Sprintf("s%d=%d", i, seg.frames)
	}
	b.mu.Unlock()
	b.meta("stop requested frames %s", strings.Join(counts, ","))
	return b.m.Stop(ctx)
}

// CallEnded notes the hang-up and ends the machine.
func (b *segmentBot) CallEnded(ctx context.Context) error {
	b.meta("call ended")
	return b.m.CallEnded(ctx)
}

// Frame appends the frame to its segment (opening it first) and its
// words to the transcript, under one lease.
func (b *segmentBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	seg := &b.segs[stream]
	if !seg.open {
		*seg = segment{open: true}
		if _, err := b.sink.Write(stream, b.header(stream)); err != nil {
			b.mu.Unlock()
			return err
		}
	}
	seg.frames++
	seg.nbytes += len(payload)
	b.mu.Unlock()
	transcript := transcriptWriter{w: b.sink.Stream(transcriptStream(stream))}
	_, err = io.MultiWriter(b.sink.Stream(stream), transcript).Write(payload)
	return err
}

// closeSegments writes each open segment's trailer, from the hook. A
// segment with no frame is left open for the next recording.
func (b *segmentBot) closeSegments(t fsm.Trigger) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.segs {
		seg := &b.segs[i]
		if !seg.open || seg.frames == 0 {
			continue
		}
		_, _ = b.sink.Write(i, fmt.Appendf(nil, "END frames=%d bytes=%d reason=%s\n", seg.frames, seg.nbytes, t))
		*seg = segment{}
	}
}

// transcriptWriter keeps a frame's words, lower case, one line each (the
// recognizer's output, as the team's transcript store receives it).
type transcriptWriter struct{ w io.Writer }

func (t transcriptWriter) Write(p []byte) (int, error) {
	line := append(bytes.ToLower(bytes.TrimRight(p, ";")), '\n')
	if _, err := t.w.Write(line); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ringBot keeps "the last 5 seconds" of each stream, the frames it wrote
// under a lease, and the hook writes them as a clip (the call's
// highlight, played back in the meeting recap) before it flushes.
type ringBot struct {
	*fsmBot
	// keepAcrossRecordings: the ring is the call's last five seconds, not
	// the recording's: the hook writes the clip and keeps the ring.
	keepAcrossRecordings bool

	mu    sync.Mutex
	rings [][][]byte
}

// ringFrames is five seconds of 20 ms frames.
const ringFrames = 250

func newRingBot(env *properties.Env, keep bool) (*ringBot, error) {
	b := &ringBot{keepAcrossRecordings: keep, rings: make([][][]byte, env.Streams)}
	base, err := newFSMBot(env, wiring{hook: func(context.Context, fsm.Trigger) error {
		b.writeClips()
		return env.Sink.Flush()
	}})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

// NewRingClip clears the ring once its clip is written.
func NewRingClip(env *properties.Env) (properties.Bot, error) { return newRingBot(env, false) }

// NewRingKeptAcrossRecordings keeps the ring after the clip: the next
// recording's clip starts with the last one's frames.
func NewRingKeptAcrossRecordings(env *properties.Env) (properties.Bot, error) {
	return newRingBot(env, true)
}

// Frame writes the frame under a lease and keeps it in the ring.
func (b *ringBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	if _, err := b.sink.Write(stream, payload); err != nil {
		return err
	}
	b.mu.Lock()
	r := append(b.rings[stream], append([]byte(nil), payload...))
	if len(r) > ringFrames {
		r = r[len(r)-ringFrames:]
	}
	b.rings[stream] = r
	b.mu.Unlock()
	return nil
}

// writeClips writes each stream's ring as one clip, from the hook.
func (b *ringBot) writeClips() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, r := range b.rings {
		if len(r) == 0 {
			continue
		}
		_, _ = b.sink.Write(clipStream(i), bytes.Join(r, nil))
		if !b.keepAcrossRecordings {
			b.rings[i] = nil
		}
	}
}
