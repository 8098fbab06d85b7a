package fsm_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/fsm"
)

func TestWriterPersistsOnlyWhileRecording(t *testing.T) {
	m, _ := reach(t, fsm.NotRecording)
	var sink bytes.Buffer
	w := m.Gate().Writer(&sink)
	ctx := context.Background()

	_, err := w.Write([]byte("before "))
	assert.ErrorIs(t, err, fsm.ErrGateClosed)
	_, err = m.Start(ctx)
	require.NoError(t, err)
	n, err := w.Write([]byte("during "))
	require.NoError(t, err)
	assert.Equal(t, 7, n)
	require.NoError(t, m.Stop(ctx))
	_, err = w.Write([]byte("after"))
	assert.ErrorIs(t, err, fsm.ErrGateClosed)
	assert.Equal(t, "during ", sink.String())
	require.NoError(t, w.Close())
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk gone") }

func TestWriterReturnsUnderlyingErrorAndReleases(t *testing.T) {
	m, _ := reach(t, fsm.Recording)
	w := m.Gate().Writer(failingWriter{})
	_, err := w.Write([]byte("x"))
	assert.ErrorContains(t, err, "disk gone")
	// The lease was released: Stop does not hang.
	require.NoError(t, m.Stop(context.Background()))
}

func TestLeaseRules(t *testing.T) {
	m, _ := reach(t, fsm.Recording)
	s := m.Gate().NewStream()

	l, err := s.Acquire()
	require.NoError(t, err)
	_, err = s.Acquire()
	assert.ErrorIs(t, err, fsm.ErrStreamBusy, "one lease per stream at a time")
	assert.NotErrorIs(t, err, fsm.ErrStreamClosed, "a held stream is not closed")
	assert.ErrorIs(t, s.Close(), fsm.ErrLeaseHeld)
	assert.True(t, l.Release())
	assert.False(t, l.Release(), "a second release does nothing")

	l2, err := s.Acquire()
	require.NoError(t, err)
	assert.False(t, l.Release(), "a stale lease cannot release a newer one")
	assert.True(t, l2.Release())

	assert.False(t, fsm.Lease{}.Release(), "the zero lease holds nothing")

	require.NoError(t, s.Close())
	_, err = s.Acquire()
	assert.ErrorIs(t, err, fsm.ErrStreamClosed, "a closed stream grants no lease")
	assert.NotErrorIs(t, err, fsm.ErrStreamBusy, "a closed stream is not busy")
}

func TestLeaseHotPathDoesNotAllocate(t *testing.T) {
	m, _ := reach(t, fsm.Recording)
	s := m.Gate().NewStream()
	allocs := testing.AllocsPerRun(1000, func() {
		l, err := s.Acquire()
		if err != nil {
			t.Fatal(err)
		}
		l.Release()
	})
	assert.Zero(t, allocs)

	var sink bytes.Buffer
	sink.Grow(1 << 20)
	w := m.Gate().Writer(&sink)
	frame := make([]byte, 640)
	allocs = testing.AllocsPerRun(1000, func() { _, _ = w.Write(frame) })
	assert.Zero(t, allocs)
}

// TestConcurrentAcquireOnOneStreamGrantsOneLease: goroutines that misuse
// one stream concurrently get ErrStreamBusy, never a second lease, and a
// busy Acquire backing out never ends the lease that is held.
func TestConcurrentAcquireOnOneStreamGrantsOneLease(t *testing.T) {
	m, _ := reach(t, fsm.Recording)
	s := m.Gate().NewStream()
	var inside, granted, busy atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20000; i++ {
				l, err := s.Acquire()
				if err != nil {
					if !errors.Is(err, fsm.ErrStreamBusy) {
						t.Errorf("Acquire: %v, want ErrStreamBusy or a lease", err)
						return
					}
					busy.Add(1)
					continue
				}
				if n := inside.Add(1); n != 1 {
					t.Errorf("%d leases held on one stream at once", n)
				}
				granted.Add(1)
				inside.Add(-1)
				if !l.Release() {
					t.Error("a lease this goroutine held could not be released: someone else ended it")
				}
			}
		}()
	}
	wg.Wait()
	assert.Positive(t, granted.Load())
	assert.Equal(t, int64(80000), granted.Load()+busy.Load())
	l, err := s.Acquire()
	require.NoError(t, err, "the stream is free again once every lease is released")
	assert.True(t, l.Release())
	require.NoError(t, s.Close())
}

// TestStopWaitsForALeaseWhileOthersBackOut: while one goroutine holds a
// lease, others hammer the same stream (each busy Acquire adds to the
// stream word and takes it back). Stop must not return until the lease is
// released: the stream never reads as idle in between.
func TestStopWaitsForALeaseWhileOthersBackOut(t *testing.T) {
	const watchdog = 10 * time.Second
	m, _ := reach(t, fsm.Recording)
	s := m.Gate().NewStream()
	held, err := s.Acquire()
	require.NoError(t, err)

	var attempts atomic.Int64
	quit := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-quit:
					return
				default:
				}
				if l, err := s.Acquire(); err == nil {
					// Held by the test, then refused by the closed gate.
					t.Error("a second lease was granted on a held stream")
					l.Release()
				}
				attempts.Add(1)
			}
		}()
	}
	stopped := make(chan error, 1)
	go func() { stopped <- m.Stop(context.Background()) }()

	deadline := time.After(watchdog)
	for m.Gate().IsOpen() { // Stop closes the gate first, then drains
		select {
		case <-deadline:
			t.Fatal("watchdog: Stop did not close the gate within 10 s")
		default:
			runtime.Gosched()
		}
	}
	for base := attempts.Load(); attempts.Load() < base+20000; {
		select {
		case err := <-stopped:
			t.Fatalf("Stop returned (%v) while a lease was held", err)
		case <-deadline:
			t.Fatal("watchdog: the hammering goroutines made no progress within 10 s")
		default:
		}
	}
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) while a lease was held", err)
	default:
	}
	assert.True(t, held.Release())
	select {
	case err := <-stopped:
		require.NoError(t, err)
	case <-time.After(watchdog):
		t.Fatal("watchdog: Stop did not return within 10 s of the last lease's release")
	}
	close(quit)
	wg.Wait()
}

// TestRefusedAcquireLeavesTheStreamUsable: a lease refused because the
// gate is closed holds nothing, and the stream grants leases again once
// the gate reopens.
func TestRefusedAcquireLeavesTheStreamUsable(t *testing.T) {
	m, _ := reach(t, fsm.NotRecording)
	s := m.Gate().NewStream()
	l, err := s.Acquire()
	assert.ErrorIs(t, err, fsm.ErrGateClosed)
	assert.False(t, l.Release(), "a refused lease holds nothing")
	require.NoError(t, s.Close(), "a refused lease leaves no holder behind")

	s = m.Gate().NewStream()
	_, err = s.Acquire()
	assert.ErrorIs(t, err, fsm.ErrGateClosed)
	_, err = m.Start(context.Background())
	require.NoError(t, err)
	l, err = s.Acquire()
	require.NoError(t, err)
	assert.True(t, l.Release())
	require.NoError(t, m.Stop(context.Background()), "no holder left behind by the refusal: the drain does not wait")
}
