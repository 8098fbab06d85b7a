package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

// kind is the fault a call is dealt.
type kind uint8

const (
	kindNormal       kind = iota // Start answered completed
	kindThrottled                // Start throttled once (429), then completed
	kindPending                  // Start answered running; a signed notification completes it
	kindFailed                   // Start answered with a failed operation
	kindNonCompliant             // Start refused with 8506
	kindEndedMid                 // the call ends half-way through the recording
	kinds
)

var kindNames = [kinds]string{"normal", "throttled", "pending", "failed", "8506", "ended"}

func (k kind) String() string { return kindNames[k] }

// refused reports whether Graph refuses this call's Start.
func (k kind) refused() bool { return k == kindFailed || k == kindNonCompliant }

// dealKinds deals the faults to n calls with a seeded shuffle, so the
// counts are exact and the run repeatable.
func dealKinds(n int, o options) []kind {
	ks := make([]kind, n)
	i := 0
	deal := func(k kind, frac float64) {
		for end := min(n, i+int(frac*float64(n)+0.5)); i < end; i++ {
			ks[i] = k
		}
	}
	deal(kindThrottled, o.throttled)
	deal(kindPending, o.pending)
	half := o.refused / 2
	deal(kindFailed, half)
	deal(kindNonCompliant, o.refused-half)
	deal(kindEndedMid, o.endedMid)
	rng := rand.New(rand.NewPCG(o.seed, 0x5eed))
	rng.Shuffle(n, func(a, b int) { ks[a], ks[b] = ks[b], ks[a] })
	return ks
}

// script tells the fake how to answer the call.
func (k kind) script(c *graphtest.Call, retryAfter int) {
	switch k {
	case kindThrottled:
		c.Then(graphtest.Throttle(graphtest.RetryAfterSeconds(retryAfter)))
	case kindPending:
		c.Then(graphtest.PendingThen(graph.OperationCompleted))
	case kindFailed:
		c.Then(graphtest.ReplyFailed(graph.ResultInfo{Code: 500, Subcode: 8510, Message: "recording could not start (fleet fault)"}))
	case kindNonCompliant:
		c.Then(graphtest.NonCompliant())
	}
}

// frameBytes is one 20 ms frame of 16 kHz 16-bit mono audio.
const frameBytes = 640

// sink is where one stream's frames are persisted: it keeps what a
// checker needs, not the bytes. Only its stream's writer touches it while
// the call runs (under a lease); counters are atomic for the progress line.
type sink struct {
	persisted atomic.Int64
	refused   atomic.Int64
	dropped   atomic.Int64 // frames the writer skipped, too late to write (a starved process)
	bytes     int64
	first     int64 // time of the first write (rig clock, ns); 0 if none
	last      int64 // time of the last write
	lastSeq   uint32
	crossed   int64 // frames of another call or stream, or out of order
}

// write persists one frame at time now, checking its canary: the call's
// index, the stream and a sequence number that only grows.
func (s *sink) write(frame []byte, idx uint32, stream byte, now int64) {
	seq := binary.LittleEndian.Uint32(frame[5:])
	if binary.LittleEndian.Uint32(frame) != idx || frame[4] != stream || (s.persisted.Load() > 0 && seq <= s.lastSeq) {
		s.crossed++
	}
	if s.first == 0 {
		s.first = now
	}
	s.last, s.lastSeq = now, seq
	s.bytes += int64(len(frame))
	s.persisted.Add(1)
}

// call is one call of the fleet and what it saw. Times are on the rig's
// clock (ns since its epoch), 0 meaning "did not happen".
type call struct {
	idx  int
	id   string
	kind kind
	fake *graphtest.Call
	m    *fsm.Machine

	sinks [2]sink
	done  chan struct{} // closed: the writers stop
	wg    sync.WaitGroup

	startAt, startDone int64
	bare               int64 // a bare POST's round trip timed beside the Start (ns; 0: failed)
	startErr           error
	requestAt          atomic.Int64 // Start's request was about to be sent (the first EventRequest)
	replyAt            atomic.Int64 // its reply arrived (the first EventReply)
	openedAt           atomic.Int64 // the gate opened (the observer's event)
	closing            atomic.Int64 // the bot is about to Stop or the call to end
	stopAt, stopDone   int64
	stopErr            error
	endAnswered        atomic.Int64 // the callback answered the signed termination
	endErr             error
	refusedInside      atomic.Int64 // frames refused while the gate stood confirmed
	trail              *os.File     // the machine's journal trail (-journal), closed once it is done
}

// closeTrail closes the call's journal trail once its machine is done
// (Machine.Done: its last record written), as a bot does when a call
// ends, so a fleet of 10,000 calls does not keep 10,000 files open.
func (c *call) closeTrail(ctx context.Context) {
	if c.trail == nil || c.m == nil {
		return
	}
	select {
	case <-c.m.Done():
		_ = c.trail.Close()
	case <-ctx.Done():
	}
}

func callID(i int) string { return fmt.Sprintf("f1ee7000-%04x-4000-8000-%012x", i>>16&0xffff, i) }

// writer writes one stream's frames as the clock makes them due, each
// under a lease, until the call's control says stop.
func (r *rig) writer(ctx context.Context, c *call, s int, k *clock) {
	defer c.wg.Done()
	stream := c.m.Gate().NewStream()
	defer func() { _ = stream.Close() }()
	var frame [frameBytes]byte
	binary.LittleEndian.PutUint32(frame[:], uint32(c.idx))
	frame[4] = byte(s)
	sk := &c.sinks[s]
	base := k.frames()
	var seq uint32
	for {
		tick := k.next()
		due := k.frames() - base
		if late := due - int64(seq); late > k.burst {
			seq += uint32(late - k.burst) // dropped: too late to write
			sk.dropped.Add(late - k.burst)
		}
		for ; int64(seq) < due; seq++ {
			binary.LittleEndian.PutUint32(frame[5:], seq)
			t0 := r.now()
			lease, err := stream.Acquire()
			if err != nil {
				sk.refused.Add(1)
				r.metrics.FrameRefused(ctx, err)
				if c.closing.Load() == 0 {
					if o := c.openedAt.Load(); o != 0 && o < t0 {
						c.refusedInside.Add(1)
					}
				}
				continue
			}
			sk.write(frame[:], uint32(c.idx), byte(s), r.now())
			lease.Release()
			r.metrics.FramePersisted(ctx)
		}
		select {
		case <-c.done:
			return
		case <-tick:
		}
	}
}

// play is one call's control: Start (at its turn), record, hold for the
// peak, Stop (at its turn), end. up is marked once the call is in its
// steady state.
func (r *rig) play(ctx context.Context, c *call, o options, k *clock, up *sync.WaitGroup, p *pacing) {
	var upOnce sync.Once
	markUp := func() { upOnce.Do(up.Done) }
	defer markUp()
	p.wait(ctx, p.begin, c.idx)
	c.wg.Add(2)
	go r.writer(ctx, c, 0, k)
	go r.writer(ctx, c, 1, k)
	stopWriters := func() {
		close(c.done)
		c.wg.Wait()
	}

	media := time.Duration(float64(o.duration) / o.speedup)
	// The baseline twin: a bare POST right before the Start for even
	// calls, right after it for odd ones, so neither side always meets
	// the writers' first wake-up.
	if c.idx%2 == 0 {
		r.timeBare(c)
	}
	c.startAt = r.now()
	_, c.startErr = c.m.Start(ctx)
	c.startDone = r.now()
	if c.idx%2 == 1 {
		r.timeBare(c)
	}
	if c.kind == kindPending && c.startErr == nil {
		r.awaitConfirmation(ctx, c)
	}

	if c.kind == kindEndedMid {
		sleep(ctx, media/2)
		c.closing.Store(r.now())
		_, c.endErr = c.fake.End(ctx, nil)
		markUp()
		sleep(ctx, media/10) // the writers keep trying: every frame must be refused
		stopWriters()
		c.closeTrail(ctx)
		return
	}
	sleep(ctx, media)
	markUp()
	select {
	case <-p.measured:
		p.wait(ctx, p.measuredAt, c.idx) // released in start order, at the same rate
	case <-ctx.Done(): // measuredAt may not be set yet
	}
	if c.startErr == nil {
		c.closing.Store(r.now())
		c.stopAt = r.now()
		c.stopErr = c.m.Stop(ctx)
		c.stopDone = r.now()
		sleep(ctx, media/10) // frames after Stop: every one refused
	}
	stopWriters()
	_, c.endErr = c.fake.End(ctx, nil)
	c.closeTrail(ctx)
}

// awaitConfirmation waits (on the clock's ticks) until the signed
// notification opened the gate, for at most 10 s.
func (r *rig) awaitConfirmation(ctx context.Context, c *call) {
	deadline := time.Now().Add(10 * time.Second)
	for c.openedAt.Load() == 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
}

// pacing starts the calls at -rate per second, and releases them from the
// hold at the same rate once the peak was measured.
type pacing struct {
	interval   time.Duration // between two calls' turns; 0: all at once
	begin      time.Time
	measured   chan struct{} // closed once the peak was measured
	measuredAt time.Time     // set before measured is closed
}

// wait sleeps until call i's turn after from.
func (p *pacing) wait(ctx context.Context, from time.Time, i int) {
	if p.interval > 0 {
		sleep(ctx, time.Until(from.Add(time.Duration(i)*p.interval)))
	}
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
