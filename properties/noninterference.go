package properties

import (
	"bytes"
	"context"
	"fmt"
	"sort"
)

// noninterference plays the case of r again with other media in every
// frame that arrived outside a confirmed recording, and says how the
// persisted bytes differ, if they do. Such frames must not influence what
// is persisted, not even through a count or a hash. The replay's calls
// have IDs of their own, as every call the suite plays does (a registry
// of the bot's still holds the first run's calls when the case had no
// CallEnded); the IDs are mapped back before the bytes are compared, so a
// bot that writes its call ID is not told apart by it. headline is ""
// when the replay could not be played at all. played says what became of
// the case (the coverage counts cases compared and cases left out).
func noninterference(r *runner, newBot Factory, o options) (headline, msg string, played replayOutcome) {
	headline = "noninterference violated: media from outside the confirmed recordings changed what was persisted"
	outside := map[int]bool{}
	r.env.mu.Lock()
	for _, or := range r.env.origins {
		if or.Interval == 0 {
			outside[or.Frame] = true
		}
	}
	r.env.mu.Unlock()
	if len(outside) == 0 {
		return "", "", replayNotNeeded
	}
	first := r.env.Sink.persisted() // before the factory runs again: a late write of r's bot is not the media's doing
	again, err := newRunner(r.sc, newBot, o, outside, newCallPair())
	if err != nil {
		return "", fmt.Sprintf("properties: the noninterference check could not replay the case: %v", err), replayCompared
	}
	vs, failure := again.play(context.Background())
	if failure != "" || len(vs) > 0 {
		return headline, "noninterference run (the same case, other media outside the confirmed recordings):\n" + again.report(vs, failure), replayCompared
	}
	r.mu.Lock()
	ownDuring := r.ownDuring
	r.mu.Unlock()
	again.mu.Lock()
	ownDuring = ownDuring || again.ownDuring
	again.mu.Unlock()
	if ownDuring {
		// A Stop, Fail or CallEnded drawn for a step's first write came
		// during a write of the bot's own goroutines in one of the runs:
		// when that write comes is the scheduler's choice, so the two
		// runs closed the gate at moments the media did not decide, and
		// their bytes cannot be compared.
		return "", "", replayNotComparable
	}
	if !sameOutside(outside, again.env) {
		// The replay met the concurrent events at other moments (a frame
		// that arrived while a Stop drained fell on the other side of the
		// close), so its frames are not the same frames outside the
		// recordings: the two runs cannot be compared, and this case says
		// nothing about derived data.
		return "", "", replayNotComparable
	}
	second := again.env.Sink.persisted()
	for k, b := range second {
		b = bytes.ReplaceAll(b, []byte(again.calls.test), []byte(r.calls.test))
		second[k] = bytes.ReplaceAll(b, []byte(again.calls.neighbour), []byte(r.calls.neighbour))
	}
	streams := map[int]bool{}
	for s := range first {
		streams[s] = true
	}
	for s := range second {
		streams[s] = true
	}
	var order []int
	for s := range streams {
		order = append(order, s)
	}
	sort.Ints(order)
	var frames []int
	for f := range outside {
		frames = append(frames, f)
	}
	sort.Ints(frames)
	for _, s := range order {
		if !bytes.Equal(first[s], second[s]) {
			return headline, fmt.Sprintf("noninterference violated (P7 ConsentCoversCapture, for derived data): media that arrived outside any confirmed recording (frames %v) changed what was persisted on stream %d:\n  with the first media:  %q\n  with other media:      %q\n"+
				"  rule: %s\n(this check assumes a deterministic bot)\nthe case as the suite played it:\n%s", frames, s, clip(first[s]), clip(second[s]), P7.Rule, describeEvents(r.env.events())), replayCompared
		}
	}
	return "", "", replayCompared
}

// replayOutcome is what became of a case under WithNoninterference.
type replayOutcome int

const (
	replayNotNeeded     replayOutcome = iota // no frame arrived outside a confirmed recording
	replayCompared                           // replayed, and its bytes compared (or the replay failed)
	replayNotComparable                      // replayed, but the two runs met the concurrent events at other moments
)

func clip(b []byte) []byte {
	if len(b) > 200 {
		return append(append([]byte(nil), b[:200]...), "..."...)
	}
	return b
}

// sameOutside reports whether the frames that arrived outside every
// confirmed recording in env are exactly outside.
func sameOutside(outside map[int]bool, env *Env) bool {
	env.mu.Lock()
	defer env.mu.Unlock()
	n := 0
	for _, or := range env.origins {
		if or.Interval == 0 {
			if !outside[or.Frame] {
				return false
			}
			n++
		}
	}
	return n == len(outside)
}
