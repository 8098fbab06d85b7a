package otelrecgate

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// callTimes spreads calls over shards: each call still gets back its own
// times, from any goroutine, and an ended call leaves nothing behind.
func TestCallTimesKeepsEachCallApart(t *testing.T) {
	var c callTimes
	c.init()
	t0 := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	const calls = 500
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("call-%d", i)
			sent, opened := t0.Add(time.Duration(i)*time.Millisecond), t0.Add(time.Duration(i)*time.Second)
			c.requested(id, sent)
			if got := c.replied(id); !got.Equal(sent) {
				errs <- fmt.Errorf("%s: request sent at %s, want %s", id, got, sent)
			}
			if got := c.replied(id); !got.IsZero() {
				errs <- fmt.Errorf("%s: a second reply found a request time %s", id, got)
			}
			if !c.opened(id, opened) || c.opened(id, opened.Add(time.Hour)) {
				errs <- fmt.Errorf("%s: opened twice, or not at all", id)
			}
			if got := c.closed(id); !got.Equal(opened) {
				errs <- fmt.Errorf("%s: gate opened at %s, want %s", id, got, opened)
			}
			c.forget(id, nil, opened) // closed already: nothing to record
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	used := 0
	for i := range c.shards {
		if n := len(c.shards[i].calls); n != 0 {
			t.Errorf("shard %d keeps %d ended calls", i, n)
		}
	}
	for i := range calls {
		if c.shard(fmt.Sprintf("call-%d", i)) == c.shard(fmt.Sprintf("call-%d", (i+1)%calls)) {
			used++
		}
	}
	if used == calls {
		t.Error("every call landed in the same shard")
	}
}
