package fsm

import (
	"context"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recgate/recgate/internal/hooks"
)

// The gate's state is one word, so that "is it open for this epoch" and
// "close it and move to the next epoch" are single atomic operations: a
// Graph reply that races with Stop can never open a gate Stop has closed.
const (
	gateOpenBit   = 1 << 0
	gateEndedBit  = 1 << 1
	gateEpochUnit = 1 << 2
)

// Gate is the persist gate: the one thing every media write goes through.
// It is open only while the machine is in a Graph-confirmed recording.
//
// Writers never ask "is it open?" and then write: that check-then-write
// would race with Stop. They take a Lease from their Stream, write, and
// release it. Stop closes the gate and waits for every lease before it
// reports notRecording, so no byte is persisted after Graph is told.
//
// A Gate belongs to one Machine (Machine.Gate); only the machine opens it.
type Gate struct {
	probe gateProbe // the model checker's pauses: empty outside its build
	word  atomic.Uint64

	mu       sync.Mutex
	streams  []*Stream // in the order they were registered
	snapshot atomic.Pointer[[]*Stream]
}

func newGate() *Gate { return &Gate{} }

// IsOpen reports whether the gate is open now. It is a snapshot for status
// displays and metrics; to write, take a lease (Stream.Acquire), which is
// the only race-free way.
func (g *Gate) IsOpen() bool { return g.word.Load()&gateOpenBit != 0 }

func (g *Gate) epoch() uint64 { return g.word.Load() / gateEpochUnit }

func (g *Gate) ended() bool { return g.word.Load()&gateEndedBit != 0 }

// open opens the gate for the attempt made in epoch, unless a close (or the
// end of the call) has happened since.
func (g *Gate) open(epoch uint64) bool {
	closed := epoch * gateEpochUnit
	opened := g.word.CompareAndSwap(closed, closed|gateOpenBit)
	if gateChecker {
		if opened && g.probe.mutant(hooks.DrainStaleList) {
			g.probe.keepList(g.snapshot.Load())
		}
	}
	return opened
}

// forceOpen opens the gate whatever the epoch and the end of the call say:
// the LateSuccessReopens mutant, never the correct machine.
func (g *Gate) forceOpen() {
	for {
		old := g.word.Load()
		if g.word.CompareAndSwap(old, old|gateOpenBit) {
			return
		}
	}
}

// close closes the gate and starts a new epoch, so that no attempt made
// before it can open the gate again. It reports whether the gate was open.
func (g *Gate) close() bool { return g.closeWith(0) }

// end closes the gate for good.
func (g *Gate) end() { g.closeWith(gateEndedBit) }

func (g *Gate) closeWith(extra uint64) (wasOpen bool) {
	for {
		old := g.word.Load()
		next := (old/gateEpochUnit+1)*gateEpochUnit | old&gateEndedBit | extra
		if g.word.CompareAndSwap(old, next) {
			return old&gateOpenBit != 0
		}
	}
}

// drain waits until no stream holds a lease. The gate must be closed first,
// so no new lease can be taken while it waits: then a stream it has looked
// at and found idle stays idle, and one registered after it read the list
// cannot get a lease. pause, if set, replaces the sleeps between looks (a
// checker's scheduler runs the writers then).
func (g *Gate) drain(ctx context.Context, pause func()) error {
	streams := g.snapshot.Load()
	if gateChecker {
		if g.probe.mutant(hooks.DrainStaleList) {
			streams = g.probe.keptList()
		}
	}
	if streams == nil {
		return nil
	}
	for i, s := range *streams {
		if gateChecker {
			g.probe.look(i)
		}
		if err := s.waitIdle(ctx, pause); err != nil {
			if gateChecker {
				g.probe.look(-1)
			}
			return err
		}
	}
	if gateChecker {
		g.probe.look(-1)
	}
	return nil
}

// NewStream registers a lease holder, typically one per media stream (or
// per writing goroutine). Close it when the stream ends.
func (g *Gate) NewStream() *Stream {
	s := &Stream{gate: &g.word, owner: g, probe: g.probe.stream()}
	g.mu.Lock()
	g.streams = append(g.streams, s)
	g.publish()
	g.mu.Unlock()
	return s
}

// publish stores a fresh snapshot of the streams for drain, which then
// needs neither the lock nor an allocation. Called with g.mu held.
func (g *Gate) publish() {
	list := append([]*Stream(nil), g.streams...)
	g.snapshot.Store(&list)
}

// The stream word: bit 0 is set once the stream is closed, bits 1 to 23
// count the holders of a lease (one at most, but for an instant while a
// concurrent Acquire on a busy stream backs out), and the rest counts
// generations, so a lease can release only itself and never a newer one.
//
// Taking a lease is an atomic add of streamHeld: one LOCK-prefixed
// instruction that announces the lease and is the full fence the Dekker
// handshake with Stop needs, and whose result tells at once whether the
// stream was free. The holder field is wide so that an add on a busy stream
// never carries into another field: a stream some goroutine holds always
// reads as held, even while a second Acquire backs out.
const (
	streamClosed  = 1 << 0
	streamHeld    = 1 << 1
	streamGen     = 1 << 24
	streamHolders = streamGen - streamHeld // the holder count's bits
)

// Stream holds leases on the gate for one writer at a time. Its word sits
// on a cache line of its own, so writers on many streams never contend with
// each other: taking a lease reads the shared gate word but writes only the
// stream's own line.
type Stream struct {
	probe streamProbe // the model checker's pauses: empty outside its build
	_     [64]byte
	word  atomic.Uint64
	_     [56]byte
	gate  *atomic.Uint64 // the gate's word
	owner *Gate
}

// Acquire takes a lease if the gate is open. Hold it for exactly one write
// and Release it right after; Stop waits for it. The error is one of:
//
//   - ErrGateClosed: the media must not be persisted now (drop it);
//   - ErrStreamClosed: Close was called on this stream, which is normal for
//     a frame that arrives after its stream (or the call) ended (drop it);
//   - ErrStreamBusy: this stream already holds a lease, a bug in the
//     caller (give each writing goroutine its own Stream).
//
// ErrStreamClosed is distinct from ErrStreamBusy: errors.Is(err,
// ErrStreamBusy) no longer matches a closed stream, as it did before
// ErrStreamClosed existed. Code that dropped the frame on ErrStreamBusy
// should drop it on ErrStreamClosed too; code that took ErrStreamBusy to
// mean "another write holds a lease" is now right to.
//
// It does not allocate, and it is small enough for the compiler to inline,
// which keeps it as cheap as an RWMutex read lock.
func (s *Stream) Acquire() (Lease, error) {
	if gateChecker {
		if s.probe.mutant(hooks.AcquireLooksFirst) {
			return s.acquireLookingFirst()
		}
	}
	// The add announces the lease whatever the word holds; its result is
	// exactly streamHeld above the generation only if the stream was
	// neither held nor closed. Otherwise the add is taken back exactly,
	// and only then does the word say which refusal it is: a closed stream
	// holds no lease (Close refuses while one is held), so its closed bit
	// alone tells closed from busy.
	w := s.word.Add(streamHeld)
	if w&(streamGen-1) != streamHeld {
		s.word.Add(^uint64(streamHeld - 1)) // minus streamHeld
		if w&streamClosed != 0 {
			return Lease{}, ErrStreamClosed
		}
		return Lease{}, ErrStreamBusy
	}
	if gateChecker {
		s.probe.yield(hooks.AcquireAnnounced)
	}
	// The lease is visible before the gate is checked (the add is a full
	// fence), and Stop closes the gate before it looks at the leases:
	// either this load sees the gate closed, or Stop's drain sees this
	// lease and waits for it.
	if s.gate.Load()&gateOpenBit == 0 {
		if gateChecker {
			s.probe.yield(hooks.AcquireLooked)
		}
		s.word.Add(streamGen - streamHeld) // refused: on to the next generation
		return Lease{}, ErrGateClosed
	}
	return Lease{s: s, gen: w}, nil
}

// Close unregisters the stream from the gate. It fails with ErrLeaseHeld
// while a lease is held. Closing twice is harmless.
func (s *Stream) Close() error {
	for {
		old := s.word.Load()
		if old&streamClosed != 0 {
			return nil
		}
		if old&streamHolders != 0 {
			return ErrLeaseHeld
		}
		if s.word.CompareAndSwap(old, old|streamClosed) {
			break
		}
	}
	g := s.owner
	g.mu.Lock()
	for i, x := range g.streams {
		if x == s {
			g.streams = append(g.streams[:i:i], g.streams[i+1:]...)
			break
		}
	}
	g.publish()
	g.mu.Unlock()
	return nil
}

func (s *Stream) waitIdle(ctx context.Context, pause func()) error {
	if gateChecker {
		if s.probe.on() {
			return s.waitIdleChecked(ctx)
		}
	}
	const spins = 64
	wait := 10 * time.Microsecond
	for i := 0; s.word.Load()&streamHolders != 0; i++ {
		if pause != nil {
			pause()
			continue
		}
		if i < spins {
			runtime.Gosched()
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(wait)
		if wait < time.Millisecond {
			wait *= 2
		}
	}
	return nil
}

// Lease is permission to persist one write. Release it as soon as the write
// returns. The zero Lease holds nothing.
type Lease struct {
	s   *Stream
	gen uint64
}

// Release ends the lease. Releasing the same lease twice is harmless: the
// second call does nothing and reports false.
func (l Lease) Release() bool {
	if l.s == nil {
		return false
	}
	if gateChecker {
		if l.s.probe.mutant(hooks.ReleaseIgnoresGeneration) {
			return l.s.releaseAny()
		}
	}
	// l.gen is the word as the lease found it: one holder, in its own
	// generation; the next generation has none. The swap fails only if
	// the word is not exactly that: the lease was released before (the
	// stream is in a later generation: nothing to do), or a concurrent
	// Acquire on this busy stream holds an extra holder for an instant,
	// which it takes back by itself (an add commutes with the release), so
	// the release retries on the word as it is while it is this lease's
	// generation.
	old := l.gen
	for !l.s.word.CompareAndSwap(old, old-streamHeld+streamGen) {
		old = l.s.word.Load()
		if old^l.gen >= streamGen || old&streamHolders == 0 {
			return false
		}
	}
	return true
}

// Writer is an io.Writer that persists through the gate: each Write takes a
// lease, writes to the underlying writer, and releases it. Outside a
// confirmed recording, Write writes nothing and returns ErrGateClosed; after
// Close it returns ErrStreamClosed. Like most writers it serves one
// goroutine at a time; a concurrent Write gets ErrStreamBusy.
type Writer struct {
	s *Stream
	w io.Writer
}

// Writer wraps w so every write goes through the gate.
//
// Each call registers a new Stream with the gate: Close the Writer when its
// media stream ends (the call ends, or the bot stops writing it). Writers
// left open are never unregistered: they accumulate, Stop's drain looks at
// each of them, and every later NewStream or Writer call is slower, since
// each registration copies the list of open streams.
//
// A nil w registers nothing; Write on that Writer returns ErrNilWriter.
func (g *Gate) Writer(w io.Writer) *Writer {
	if w == nil {
		return &Writer{}
	}
	return &Writer{s: g.NewStream(), w: w}
}

// Write writes p to the underlying writer if, and only if, the gate is open.
// On a nil *Writer, or one made by Gate.Writer(nil), it writes nothing and
// returns ErrNilWriter.
func (w *Writer) Write(p []byte) (int, error) {
	if w == nil || w.w == nil || w.s == nil {
		return 0, ErrNilWriter
	}
	l, err := w.s.Acquire()
	if err != nil {
		return 0, err
	}
	n, err := w.w.Write(p)
	l.Release()
	return n, err
}

// Close unregisters the writer from the gate; later writes return
// ErrStreamClosed. It does not close the underlying writer, which belongs to
// the caller (and is closed by the recording-ended hook). Closing twice, or
// closing a nil *Writer, is harmless.
func (w *Writer) Close() error {
	if w == nil || w.s == nil {
		return nil
	}
	return w.s.Close()
}
