package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"time"
)

// result is what a run measured and found.
type result struct {
	rig        *rig // closed; its logs stay readable
	calls      []*call
	kinds      [kinds]int
	wall       time.Duration // from the first Start to the last call's end
	setup      time.Duration
	peak       peak
	requests   int // Graph requests the fake served for the fleet's calls
	deliveries int // notifications the fake POSTed for them
	violations violations
	checks     checks
	metrics    string // the adapter's counts, rendered
	journal    journalResult
	probe      []time.Duration // bare round trips, one timed beside each Start, sorted
}

// peak is the heap and goroutines with every call up at once.
type peak struct {
	measured      bool
	active        int // machines the registry held
	heapPerCall   float64
	heapDelta     int64
	goroutines    int
	baseHeap      uint64
	stackInuse    uint64
	baseStack     uint64
	baseGoroutine int
	profileErr    error
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// runFleet plays o.calls calls at once and checks them. The report is the
// caller's to print; progress lines go to out while it runs.
func runFleet(ctx context.Context, o options, out io.Writer) (*result, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	began := time.Now()
	r, err := newRig(ctx, o.calls, o.requestMetrics, o.journal)
	if err != nil {
		return nil, err
	}
	defer r.close()
	res := &result{rig: r}

	ks := dealKinds(o.calls, o)
	res.calls = make([]*call, o.calls)
	for i := range res.calls {
		c := &call{idx: i, id: callID(i), kind: ks[i], done: make(chan struct{})}
		res.calls[i] = c
		res.kinds[c.kind]++
		r.calls[c.id] = c
	}
	// The baseline: the rig warmed up, no call yet.
	base := memNow()
	res.peak.baseHeap, res.peak.baseStack, res.peak.baseGoroutine = base.HeapAlloc, base.StackInuse, runtime.NumGoroutine()
	res.setup = time.Since(began)

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	k := newClock(o.fps, o.speedup, o.tick)
	defer k.close()
	var up, all sync.WaitGroup
	up.Add(o.calls)
	all.Add(o.calls)
	start := time.Now()
	p := &pacing{begin: start, measured: make(chan struct{})}
	if o.rate > 0 {
		p.interval = time.Duration(float64(time.Second) / o.rate)
	}
	for i, c := range res.calls {
		c.fake = r.fake.AddCall(c.id)
		c.kind.script(c.fake, o.retryAfter)
		if c.m, err = r.registry.Create(c.id); err != nil {
			cancel() // the calls already playing give up
			for range o.calls - i {
				up.Done()
				all.Done()
			}
			all.Wait()
			return nil, err
		}
		go func() {
			defer all.Done()
			r.play(ctx, c, o, k, &up, p)
		}()
	}
	stopProgress := r.progress(out, o, res.calls, start)
	// The peak: every call up (recording, refused, or already ended).
	go func() {
		up.Wait()
		if ctx.Err() == nil {
			ms := memNow()
			res.peak.measured = true
			res.peak.active = r.registry.Len()
			res.peak.goroutines = runtime.NumGoroutine()
			res.peak.stackInuse = ms.StackInuse
			res.peak.heapDelta = int64(ms.HeapAlloc) - int64(res.peak.baseHeap)
			if res.peak.active > 0 {
				res.peak.heapPerCall = float64(res.peak.heapDelta) / float64(res.peak.active)
			}
			if o.memProfile != "" {
				res.peak.profileErr = writeHeapProfile(o.memProfile)
			}
		}
		p.measuredAt = time.Now()
		close(p.measured)
	}()
	all.Wait()
	res.wall = time.Since(start)
	for _, c := range res.calls {
		if c.bare != 0 {
			res.probe = append(res.probe, time.Duration(c.bare))
		}
	}
	slices.Sort(res.probe)
	stopProgress()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("the run did not finish within -timeout %s: %w", o.timeout, err)
	}
	res.check(r)
	if r.journal != nil {
		res.recoverJournal(ctx, r)
	}
	if o.metrics {
		res.metrics = r.renderMetrics(ctx)
	}
	return res, nil
}

// memNow collects the garbage and reads the memory statistics.
func memNow() runtime.MemStats {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}

// progress prints a line every o.progress until the returned function is
// called.
func (r *rig) progress(out io.Writer, o options, calls []*call, start time.Time) (stop func()) {
	if o.progress <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(o.progress)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			var started, confirmed, stopped, ended int
			var persisted, refused int64
			for _, c := range calls {
				if c.openedAt.Load() != 0 {
					confirmed++
				}
				if c.closing.Load() != 0 {
					stopped++
				}
				if c.endAnswered.Load() != 0 {
					ended++
				}
				for i := range c.sinks {
					persisted += c.sinks[i].persisted.Load()
					refused += c.sinks[i].refused.Load()
				}
				started++
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Fprintf(out, "  %5.1fs  calls %d started, %d confirmed, %d stopping/ended, %d ended by Graph; active %d; frames %d persisted, %d refused; %d goroutines, heap %d MiB\n",
				time.Since(start).Seconds(), started, confirmed, stopped, ended, r.registry.Len(), persisted, refused,
				runtime.NumGoroutine(), ms.HeapAlloc>>20)
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}
