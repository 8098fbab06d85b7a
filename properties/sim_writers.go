package properties

import (
	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/internal/hooks"
)

// The writers' moves: a writer takes a lease, writes and releases it on
// the real gate, one atomic step at a time.

func (s *sim) writerMove(i int, kind moveKind) {
	w := &s.writers[i]
	switch kind {
	case mvOpen:
		s.openStream(i)
	case mvAcquire:
		if s.cfg.mutants.Has(hooks.CheckThenWrite) {
			if s.m.Gate().IsOpen() {
				w.state = writerHolding
				s.observe(Event{Kind: EvWriteBegin, Stream: i})
			}
			return
		}
		if !s.steps {
			s.acquire(i)
			return
		}
		s.start(threadWriter0+i, evAcquire, func() { s.acquire(i) })
	case mvWrite:
		w.state = writerWritten
		s.persists++
		s.observe(Event{Kind: EvWriteEnd, Stream: i, Bytes: 1})
	case mvRelease:
		if w.state == writerHolding {
			// Released without writing: the write never happened.
			s.observe(Event{Kind: EvWriteEnd, Stream: i, Bytes: 0})
		}
		w.lease.Release()
		if s.steps && i == 0 && !w.staleUsed {
			w.stale = w.lease
		}
		w.lease, w.state = fsm.Lease{}, writerIdle
	case mvReleaseAgain:
		// The API promises that releasing a lease twice does nothing, so
		// this must not end the newer lease the writer holds now.
		w.stale.Release()
		w.stale, w.staleUsed = fsm.Lease{}, true
	}
}

// acquire takes writer i's lease (on its own thread when the gate pauses
// inside Acquire).
func (s *sim) acquire(i int) {
	l, err := s.streams[i].Acquire()
	if s.aborting.Load() {
		l.Release()
		return
	}
	if err == nil {
		s.writers[i].lease, s.writers[i].state = l, writerHolding
		s.observe(Event{Kind: EvWriteBegin, Stream: i})
	}
}
