package fsm_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/fsm"
)

// TestAcquireTellsClosedFromBusy: a held stream refuses with ErrStreamBusy
// (a bug in the caller), a closed one with ErrStreamClosed (normal after
// the stream ended), and neither error matches the other. A closed stream
// says closed whatever the gate says: open, closed, or ended for good.
func TestAcquireTellsClosedFromBusy(t *testing.T) {
	m, _ := reach(t, fsm.Recording)
	ctx := context.Background()

	held := m.Gate().NewStream()
	l, err := held.Acquire()
	require.NoError(t, err)
	_, err = held.Acquire()
	assert.ErrorIs(t, err, fsm.ErrStreamBusy)
	assert.NotErrorIs(t, err, fsm.ErrStreamClosed)
	assert.True(t, l.Release())
	require.NoError(t, held.Close())

	closed := m.Gate().NewStream()
	require.NoError(t, closed.Close())
	for _, when := range []struct {
		name string
		next func() error
	}{
		{"while the gate is open", nil},
		{"after Stop closed the gate", func() error { return m.Stop(ctx) }},
		{"after the call ended", func() error { return m.CallEnded(ctx) }},
	} {
		if when.next != nil {
			require.NoError(t, when.next(), when.name)
		}
		l, err := closed.Acquire()
		assert.ErrorIs(t, err, fsm.ErrStreamClosed, when.name)
		assert.NotErrorIs(t, err, fsm.ErrStreamBusy, when.name)
		assert.NotErrorIs(t, err, fsm.ErrGateClosed, when.name)
		assert.False(t, l.Release(), "%s: a refused lease holds nothing", when.name)
	}
	assert.NotErrorIs(t, fsm.ErrStreamClosed, fsm.ErrStreamBusy)
	assert.NotErrorIs(t, fsm.ErrStreamBusy, fsm.ErrStreamClosed)
}

// TestRefusalsDoNotAllocate: telling closed from busy happens on the
// refusal path only, and allocates nothing there either.
func TestRefusalsDoNotAllocate(t *testing.T) {
	m, _ := reach(t, fsm.Recording)
	busy := m.Gate().NewStream()
	l, err := busy.Acquire()
	require.NoError(t, err)
	defer l.Release()
	closed := m.Gate().NewStream()
	require.NoError(t, closed.Close())

	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := busy.Acquire(); err != fsm.ErrStreamBusy {
			t.Fatalf("held stream: %v, want ErrStreamBusy", err)
		}
		if _, err := closed.Acquire(); err != fsm.ErrStreamClosed {
			t.Fatalf("closed stream: %v, want ErrStreamClosed", err)
		}
	})
	assert.Zero(t, allocs)
}

// TestClosedStreamStaysClosedUnderConcurrentAcquire: goroutines that keep
// acquiring one stream while it is closed see leases and ErrStreamBusy
// before the close and only ErrStreamClosed from the first time they see
// it on, never a lease again; and a busy Acquire backing out of a closed
// stream does not make it read as busy.
func TestClosedStreamStaysClosedUnderConcurrentAcquire(t *testing.T) {
	const goroutines, rounds = 4, 5000
	m, _ := reach(t, fsm.Recording)
	s := m.Gate().NewStream()

	started := make(chan struct{}, goroutines)
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sawClosed := false
			for i := 0; i < rounds; i++ {
				l, err := s.Acquire()
				if i == 0 {
					started <- struct{}{}
				}
				switch {
				case err == nil:
					if sawClosed {
						t.Error("a lease was granted on a stream that had said it was closed")
					}
					l.Release()
				case errors.Is(err, fsm.ErrStreamClosed):
					sawClosed = true
				case errors.Is(err, fsm.ErrStreamBusy):
					if sawClosed {
						t.Error("ErrStreamBusy from a stream that had said it was closed")
					}
				default:
					t.Errorf("Acquire: %v", err)
					return
				}
			}
		}()
	}
	for g := 0; g < goroutines; g++ {
		<-started
	}
	// Close refuses while a lease is held; the goroutines release theirs
	// at once and stop after a fixed number of rounds, so this ends.
	for err := s.Close(); err != nil; err = s.Close() {
		require.ErrorIs(t, err, fsm.ErrLeaseHeld)
		runtime.Gosched()
	}
	wg.Wait()
	_, err := s.Acquire()
	assert.ErrorIs(t, err, fsm.ErrStreamClosed)
	require.NoError(t, m.Stop(context.Background()), "no holder left behind: the drain does not wait")
}

// TestWriterAfterCloseSaysClosed: a Writer closed when its stream ended
// refuses later frames with ErrStreamClosed, not ErrStreamBusy.
func TestWriterAfterCloseSaysClosed(t *testing.T) {
	m, _ := reach(t, fsm.Recording)
	var sink bytes.Buffer
	w := m.Gate().Writer(&sink)
	_, err := w.Write([]byte("during "))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.NoError(t, w.Close(), "closing twice is harmless")
	_, err = w.Write([]byte("late"))
	assert.ErrorIs(t, err, fsm.ErrStreamClosed)
	assert.NotErrorIs(t, err, fsm.ErrStreamBusy)
	assert.Equal(t, "during ", sink.String())
}

// TestWriterWithoutUnderlyingWriterReturnsAnError: Gate.Writer(nil), a nil
// *Writer and a zero Writer return ErrNilWriter from Write instead of
// panicking, and Close on them is harmless.
func TestWriterWithoutUnderlyingWriterReturnsAnError(t *testing.T) {
	m, _ := reach(t, fsm.Recording)
	for _, c := range []struct {
		name string
		w    *fsm.Writer
	}{
		{"Gate.Writer(nil)", m.Gate().Writer(nil)},
		{"nil *Writer", nil},
		{"zero Writer", &fsm.Writer{}},
	} {
		var n int
		var err error
		require.NotPanics(t, func() { n, err = c.w.Write([]byte("frame")) }, c.name)
		assert.Zero(t, n, c.name)
		assert.ErrorIs(t, err, fsm.ErrNilWriter, c.name)
		assert.NoError(t, c.w.Close(), c.name)
	}
	require.NoError(t, m.Stop(context.Background()))
}
