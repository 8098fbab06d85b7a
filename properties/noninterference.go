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
// is persisted, not even through a count or a hash.
func noninterference(r *runner, newBot Factory, o options) string {
	outside := map[int]bool{}
	r.env.mu.Lock()
	for _, or := range r.env.origins {
		if or.Interval == 0 {
			outside[or.Frame] = true
		}
	}
	r.env.mu.Unlock()
	if len(outside) == 0 {
		return ""
	}
	first := r.env.Sink.persisted() // before the factory runs again: a late write of r's bot is not the media's doing
	again, err := newRunner(r.sc, newBot, o, outside, r.calls)
	if err != nil {
		return fmt.Sprintf("properties: noninterference: %v", err)
	}
	vs, failure := again.play(context.Background())
	if failure != "" || len(vs) > 0 {
		return "noninterference run (the same case, other media outside the confirmed recordings):\n" + again.report(vs, failure)
	}
	if !sameOutside(outside, again.env) {
		// The replay met the concurrent events at other moments (a frame
		// that arrived while a Stop drained fell on the other side of the
		// close), so its frames are not the same frames outside the
		// recordings: the two runs cannot be compared, and this case says
		// nothing about derived data.
		return ""
	}
	second := again.env.Sink.persisted()
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
			return fmt.Sprintf("noninterference violated (P7 ConsentCoversCapture, for derived data): media that arrived outside any confirmed recording (frames %v) changed what was persisted on stream %d:\n  with the first media:  %q\n  with other media:      %q\n"+
				"  rule: %s\n(this check assumes a deterministic bot)\nthe case as the suite played it:\n%s", frames, s, clip(first[s]), clip(second[s]), P7.Rule, describeEvents(r.env.events()))
		}
	}
	return ""
}

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
