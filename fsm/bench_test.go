package fsm_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/qmuntal/stateless"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// The benchmark names are fixed: scripts compare each against its baseline
// measured in the same run (see README, "Benchmarks").

func recordingStream(b *testing.B) *fsm.Stream {
	b.Helper()
	m, err := fsm.New(callID, noIO{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	return m.Gate().NewStream()
}

// BenchmarkGateLease: acquire and release a lease in Recording, one goroutine.
func BenchmarkGateLease(b *testing.B) {
	s := recordingStream(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l, err := s.Acquire()
		if err != nil {
			b.Fatal(err)
		}
		l.Release()
	}
}

// BenchmarkRWMutexRLockBaseline is the lock a hand-written gate would use.
func BenchmarkRWMutexRLockBaseline(b *testing.B) {
	var mu sync.RWMutex
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mu.RLock()
		//lint:ignore SA2001 the baseline measures the lock itself
		mu.RUnlock()
	}
}

// BenchmarkTwoLockedAddsFloor is what any lease must cost at least on
// amd64: a lease has to announce itself with a full fence before it looks
// at the gate (Stop's handshake), and to write its release atomically, and
// every atomic write Go has there (Add, CompareAndSwap, Swap, Store) is a
// LOCK-prefixed instruction. Two atomic adds on one word and nothing else is
// that floor; an RWMutex read lock is exactly it, which is why
// BenchmarkGateLease can come near BenchmarkRWMutexRLockBaseline but not
// below it.
func BenchmarkTwoLockedAddsFloor(b *testing.B) {
	var word atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		word.Add(2)
		word.Add(^uint64(1))
	}
	if word.Load() != 0 {
		b.Fatal("the adds did not cancel")
	}
}

// BenchmarkGateLeaseParallel: every goroutine writes its own stream, as
// media streams do.
func BenchmarkGateLeaseParallel(b *testing.B) {
	m, err := fsm.New(callID, noIO{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		s := m.Gate().NewStream()
		for pb.Next() {
			l, err := s.Acquire()
			if err != nil {
				b.Error(err)
				return
			}
			l.Release()
		}
	})
}

// BenchmarkRWMutexRLockParallelBaseline: one RWMutex shared by every writer.
func BenchmarkRWMutexRLockParallelBaseline(b *testing.B) {
	var mu sync.RWMutex
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.RLock()
			//lint:ignore SA2001 the baseline measures the lock itself
			mu.RUnlock()
		}
	})
}

// noIO answers completed at once, without I/O.
type noIO struct{}

func (noIO) UpdateRecordingStatus(_ context.Context, _ string, _ graph.Status, cc string) (graph.Operation, error) {
	return graph.Operation{ClientContext: cc, Status: graph.OperationCompleted}, nil
}

// BenchmarkCycle: Start then Stop through the real machine, gate, lease
// drain and hook included, with an updater that does no I/O.
func BenchmarkCycle(b *testing.B) {
	hook := func(context.Context, fsm.Trigger) error { return nil }
	m, err := fsm.New(callID, noIO{}, fsm.WithRecordingEndedHook(hook))
	if err != nil {
		b.Fatal(err)
	}
	m.Gate().NewStream() // one idle stream, so the drain has something to look at
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Start(ctx); err != nil {
			b.Fatal(err)
		}
		if err := m.Stop(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatelessCycleBaseline: a bare stateless machine (immediate
// firing) doing the same transitions through the same states, with guards
// that answer at once.
func BenchmarkStatelessCycleBaseline(b *testing.B) {
	sm := stateless.NewStateMachineWithMode(fsm.NotRecording, stateless.FiringImmediate)
	yes := func(context.Context, ...any) bool { return true }
	no := func(context.Context, ...any) bool { return false }
	sm.Configure(fsm.NotRecording).
		Permit(fsm.Start, fsm.Recording, yes).
		Permit(fsm.Start, fsm.AwaitingConfirmation, no)
	sm.Configure(fsm.Recording).Permit(fsm.Stop, fsm.Stopping)
	sm.Configure(fsm.Stopping).Permit(fsm.Stop, fsm.NotRecording, yes)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := sm.FireCtx(ctx, fsm.Start); err != nil {
			b.Fatal(err)
		}
		if err := sm.FireCtx(ctx, fsm.Stop); err != nil {
			b.Fatal(err)
		}
		if err := sm.FireCtx(ctx, fsm.Stop); err != nil {
			b.Fatal(err)
		}
	}
}
