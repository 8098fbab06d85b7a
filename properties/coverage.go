package properties

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// caseStats counts, during one case, what the suite did.
type caseStats struct {
	framesSent      atomic.Int64
	framesOffered   atomic.Int64 // frames sent inside a confirmed recording, with no Stop asked
	stopsWithWrites atomic.Int64 // a Stop or Fail run while a write held its lease
	stalls          atomic.Int64 // storage stalls begun
	stalledWrites   atomic.Int64 // writes a stall held
	bursts          atomic.Int64 // frames steps of more than 4 frames
	storageFaults   atomic.Int64 // writes the storage failed (ErrStorageFault)
	// untracedCompressed counts compressed members that grew too big to
	// follow (see streamedCanaries).
	untracedCompressed atomic.Int64
}

// caseCoverage is what one case reached.
type caseCoverage struct {
	confirmed       bool // a recording was confirmed
	framesSent      int
	framesOffered   int
	framesPersisted int // frames traced in persisted bytes
	bytes           int
	stopsWithWrites int
	stalls          int
	stalledWrites   int
	bursts          int
	storageFaults   int
	untracedComp    int
	intervals       int
	// replayed and notComparable are 1 when the noninterference check
	// compared the case's replay, or replayed it and could not compare.
	replayed, notComparable int
	// streamBytes and streamTraced are, per Sink stream, the bytes
	// persisted and whether a frame was traced in them.
	streamBytes  map[int]int
	streamTraced map[int]bool
	// streamReadable is, per Sink stream, the bytes of compressed members
	// the sink read (not blind, frames or not).
	streamReadable map[int]int
}

func (r *runner) coverage() caseCoverage {
	w := r.env.snapshot()
	c := caseCoverage{
		confirmed:       w.Interval > 0,
		framesSent:      int(r.env.stats.framesSent.Load()),
		framesOffered:   int(r.env.stats.framesOffered.Load()),
		stopsWithWrites: int(r.env.stats.stopsWithWrites.Load()),
		stalls:          int(r.env.stats.stalls.Load()),
		stalledWrites:   int(r.env.stats.stalledWrites.Load()),
		bursts:          int(r.env.stats.bursts.Load()),
		storageFaults:   int(r.env.stats.storageFaults.Load()),
		untracedComp:    int(r.env.stats.untracedCompressed.Load()),
		bytes:           w.Persisted,
		intervals:       w.Interval,
	}
	seen := map[int]bool{}
	c.streamBytes, c.streamTraced = map[int]int{}, map[int]bool{}
	c.streamReadable = r.env.Sink.readableBytes()
	for _, e := range r.env.events() {
		if e.Kind == EvWriteEnd {
			c.streamBytes[e.Stream] += e.Bytes
		}
		if e.Kind != EvWriteBegin {
			continue
		}
		if len(e.Media) > 0 {
			c.streamTraced[e.Stream] = true
		}
		for _, o := range e.Media {
			if !seen[o.Frame] {
				seen[o.Frame] = true
				c.framesPersisted++
			}
		}
	}
	return c
}

// Coverage is what a run of the suite reached: a suite that never got a
// bot into a confirmed recording, or never saw a frame persisted, proved
// nothing.
type Coverage struct {
	mu sync.Mutex
	// Cases is how many cases ran; Confirmed, how many reached a confirmed
	// recording.
	Cases, Confirmed int
	// Intervals is the number of confirmed recording intervals in all.
	Intervals int
	// FramesSent and FramesPersisted count frames sent to the bot and
	// frames found (by their canaries) in what it persisted; Bytes is what
	// it persisted in all.
	FramesSent, FramesPersisted, Bytes int
	// FramesOffered counts the frames sent while a recording was confirmed
	// and no Stop, Fail or CallEnded had come: the frames a correct bot
	// persists. A run with none gave the bot nothing to persist that the
	// suite could judge (see Check).
	FramesOffered int
	// StopsWithWrites counts Stops and Fails the suite ran while a write
	// held its lease.
	StopsWithWrites int
	// Stalls counts storage stalls (every write held until the next
	// event), StalledWrites the writes they held, and Bursts the frames
	// steps of more than 4 frames (up to 64 on one stream).
	Stalls, StalledWrites, Bursts int
	// StorageFaults counts the writes the storage failed with
	// ErrStorageFault (nothing stored).
	StorageFaults int
	// UntracedCompressed counts compressed members that grew past 4 MiB
	// (compressed or inflated), whose rest the sink did not trace.
	UntracedCompressed int
	// Replayed counts the cases WithNoninterference played again and
	// compared; NotComparable those it played again but could not compare,
	// because the replay met the concurrent events at other moments (a
	// frame on the other side of a gate's change, or a Stop drawn for a
	// write that a goroutine of the bot's own took in one of the runs).
	// Both are 0 without the option.
	Replayed, NotComparable int
	// StreamBytes counts, per Sink stream, the bytes persisted; TracedStreams
	// says on which streams a frame was ever traced.
	StreamBytes   map[int]int
	TracedStreams map[int]bool
	// readableBytes counts, per stream, the bytes of compressed members
	// the sink read: they are not blind (see vacuous).
	readableBytes map[int]int
}

func (c *Coverage) add(k caseCoverage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Cases++
	if k.confirmed {
		c.Confirmed++
	}
	c.Intervals += k.intervals
	c.FramesSent += k.framesSent
	c.FramesOffered += k.framesOffered
	c.FramesPersisted += k.framesPersisted
	c.Bytes += k.bytes
	c.StopsWithWrites += k.stopsWithWrites
	c.Stalls += k.stalls
	c.StalledWrites += k.stalledWrites
	c.Bursts += k.bursts
	c.StorageFaults += k.storageFaults
	c.UntracedCompressed += k.untracedComp
	c.Replayed += k.replayed
	c.NotComparable += k.notComparable
	if c.StreamBytes == nil {
		c.StreamBytes, c.TracedStreams = map[int]int{}, map[int]bool{}
	}
	for s, n := range k.streamBytes {
		c.StreamBytes[s] += n
	}
	if c.readableBytes == nil {
		c.readableBytes = map[int]int{}
	}
	for s, n := range k.streamReadable {
		c.readableBytes[s] += n
	}
	for s := range k.streamTraced {
		c.TracedStreams[s] = true
	}
}

// judgedNothing reports whether the run so far offered the bot no frame
// inside a confirmed recording: with few cases drawn, chance alone does
// that (about one case in three offers one), and such a run proves nothing
// about the bot either way.
func (c *Coverage) judgedNothing() (bool, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.FramesOffered == 0, c.Cases
}

// enoughCases is how many cases a run that offered the bot no frame inside
// a confirmed recording plays in all before it is called vacuous. rapid's
// default run (100 cases) never plays more; a run of -rapid.checks=10
// offered nothing about one time in a hundred, and called a correct bot
// vacuous.
const enoughCases = 100

// playUntilOffered runs play (one rapid.Check of -rapid.checks cases)
// and, while the run has offered the bot no frame in a confirmed
// recording and has not failed, again, up to enoughCases cases in all.
// Each further run draws its own seed (under -rapid.seed, the same cases
// again); one that fails prints it, and replaying that seed fails in the
// first run.
func playUntilOffered(cov *Coverage, failed func() bool, play func()) {
	play()
	for !failed() {
		nothing, before := cov.judgedNothing()
		if !nothing || before >= enoughCases {
			return
		}
		play()
		if _, after := cov.judgedNothing(); after == before {
			return // -rapid.checks=0: no case runs, however often asked
		}
	}
}

// String is one line for a test log.
func (c *Coverage) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("%d cases, %d reached a confirmed recording (%d intervals); %d frames sent (%d inside a confirmed recording), %d persisted (%d bytes); %d Stops or Fails while a write held its lease; %d storage stalls (%d writes held), %d bursts; %d writes failed by storage",
		c.Cases, c.Confirmed, c.Intervals, c.FramesSent, c.FramesOffered, c.FramesPersisted, c.Bytes, c.StopsWithWrites, c.Stalls, c.StalledWrites, c.Bursts, c.StorageFaults) + c.replayLine()
}

// replayLine says what the noninterference check compared, when it ran.
func (c *Coverage) replayLine() string {
	if c.Replayed == 0 && c.NotComparable == 0 {
		return ""
	}
	return fmt.Sprintf("; noninterference: %d cases replayed and compared, %d replayed but not comparable", c.Replayed, c.NotComparable)
}

// Warnings say what the run did not put to the test although it persisted
// frames: not a failure (a correct bot may leave it untested), but a
// reason to look.
func (c *Coverage) Warnings() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	if c.FramesPersisted > 0 && c.StopsWithWrites == 0 {
		out = append(out, "properties: warning: no Stop or Fail ran while one of the bot's writes held its lease, so the wait for writers before the report (R2) was not put to the test. "+
			"The suite holds a write where it reaches env.Sink: a bot that keeps frames under the lease and hands them to env.Sink later (a buffer flushed by the hook or a timer) gives it nothing to hold. "+
			"Hand env.Sink each frame while its lease is held, or run more cases (-rapid.checks). "+
			"A bot that persists through a queue its hook drains (an uploader goroutine) gets this warning by design: "+
			"its frames reach env.Sink from the queue, after their lease, and each is judged where it lands (before the report if the hook drained the queue, after it if not); the warning only says that no Stop met a lease in flight")
	}
	if c.NotComparable > 0 {
		out = append(out, fmt.Sprintf("properties: warning: the noninterference check compared %d replayed cases and left %d out: their replay met the concurrent events at other moments (a frame fell on the other side of a gate's change, or a Stop drawn for a write came during a write of the bot's own goroutines in one run only), so their bytes say nothing about derived data", c.Replayed, c.NotComparable))
	}
	if c.UntracedCompressed > 0 {
		out = append(out, fmt.Sprintf("properties: warning: %d compressed member(s) grew past 4 MiB on a Sink stream; the rest of each was not traced: start a new member now and then (close and reopen the compressor), or hand env.Sink the plaintext", c.UntracedCompressed))
	}
	return out
}

// minBlindBytes is how many bytes a stream must have got in a run, with
// never a traced frame, before the run calls it blind: more than two of
// the suite's shortest frames. A stream that got less holds a header or
// two at most (a segment file opened, then left when storage failed its
// first frame), not media the sink could not read.
const minBlindBytes = 48

// vacuous is an error when the run checked nothing that matters, or when
// a stream not named as holding no media got bytes the suite never traced
// a frame in.
func (c *Coverage) vacuous(untraced map[int]bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var blind []string
	for _, s := range slices.Sorted(maps.Keys(c.StreamBytes)) {
		if n := c.StreamBytes[s]; n-c.readableBytes[s] >= minBlindBytes && !c.TracedStreams[s] && !untraced[s] {
			blind = append(blind, fmt.Sprintf("stream %d (%d bytes)", s, n))
		}
	}
	switch {
	case c.Cases == 0:
		return errors.New("properties: vacuous run: no case ran")
	case c.Confirmed == 0:
		return errors.New("properties: vacuous run: no case reached a confirmed recording (does the bot call env.Updater on Start?)")
	case c.FramesPersisted == 0 && c.FramesOffered == 0:
		return fmt.Errorf("properties: vacuous run: in %d cases no frame arrived while a recording was confirmed, so the bot had nothing to persist that the suite could judge: run more cases (-rapid.checks; the default is 100)", c.Cases)
	case c.FramesPersisted == 0:
		return errors.New("properties: vacuous run: the bot never persisted a frame the suite sent, so nothing was judged (does it write the frames it gets to env.Sink, with their content? A bot that encrypts or compresses what it stores must hand env.Sink the plaintext)")
	case len(blind) > 0:
		return fmt.Errorf("properties: vacuous run on %s: bytes were persisted there and never a frame the suite could trace, so they were not judged (media encoded, encrypted or compressed before env.Sink, or cut into writes shorter than a canary, hides its canaries: hand env.Sink the plaintext in whole frames; a stream that holds no media at all: name it with WithUntracedStreams)", strings.Join(blind, ", "))
	}
	return nil
}
