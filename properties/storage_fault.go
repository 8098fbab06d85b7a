package properties

import (
	"errors"
	"fmt"
)

// ErrStorageFault is what env.Sink's Write returns for a write the suite's
// storage fails: nothing of it was stored, and trying again may succeed,
// as with a real store's 503 or a full disk's brief hiccup. A bot's
// storage error paths run only if storage fails now and then, so the
// suite draws, for about one case in four, a set of frames whose first
// write fails (the first write that carries the frame, wherever and
// whenever the bot makes it; a retry of it is stored). A bot may retry,
// drop the frame, or give up the recording; what it must not do is land
// the retry outside the recording the frame belongs to, for instance
// from a goroutine that retries after the lease was released.
var ErrStorageFault = errors.New("properties: the suite's storage failed this write (a transient fault drawn for the case): nothing was stored; a retry may succeed")

// storageFault reports whether this write fails: it carries a frame whose
// number sc.faultEvery divides and whose first write this is. The choice
// depends only on what the write carries, not on when it is made, so a
// case plays the same faults whatever the goroutines' order.
func (r *runner) storageFault(stream int, media []Origin) bool {
	every := r.sc.faultEvery
	if every == 0 || len(media) == 0 || r.env.caseOver() {
		// After the case (a late batch), storage stores: a fault would
		// hide the write from the judgment it is there for.
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range media {
		if r.faulted[o.Frame] {
			// A retry: it succeeds, even when it carries frames that came
			// since (a batch), as the doc promises.
			return false
		}
	}
	var hit []int
	for _, o := range media {
		if o.Frame%every == 0 && !r.faulted[o.Frame] {
			hit = append(hit, o.Frame)
		}
	}
	if len(hit) == 0 {
		return false
	}
	if r.faulted == nil {
		r.faulted = make(map[int]bool)
	}
	for _, n := range hit {
		r.faulted[n] = true
	}
	r.env.stats.storageFaults.Add(1)
	r.env.observe(Event{Kind: EvQuiet, Label: fmt.Sprintf("storage failed a write on stream %d carrying frame(s) %v (ErrStorageFault: nothing stored)", stream, hit)})
	return true
}
