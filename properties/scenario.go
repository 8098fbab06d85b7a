package properties

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"

	"pgregory.net/rapid"

	"github.com/recgate/recgate/graph"
)

// A scenario is one drawn case: the bot's events, Graph's answers to each
// request, and the media that arrives meanwhile. All of it is drawn before
// anything runs, so one seed plays one case, and the noninterference check
// can play the same case twice.
type scenario struct {
	streams int
	steps   []step
	// faultEvery, when not 0, makes storage fail the first write of
	// every frame whose number it divides (see storageFault).
	faultEvery int
	// neighbourRecords: the bot is asked to record the neighbouring call
	// too, before the first step (see startNeighbour).
	neighbourRecords bool
}

type stepKind int

const (
	stepFrames stepKind = iota
	stepStart
	stepStop
	stepUpdate
	stepFail
	stepIntrospect
	stepCallEnded
)

var stepNames = [...]string{"frames", "start", "stop", "update", "fail", "introspect", "callEnded"}

func (k stepKind) String() string { return stepNames[k] }

// step is one event of the bot's, with what happens around it.
type step struct {
	kind stepKind
	// replies are Graph's answers to this step's requests, in order; a
	// request beyond them (a retry) is answered completed.
	replies []reply
	// inFlight are the streams of frames that arrive while the step's first
	// Graph request is out.
	inFlight []int
	// atFlush are the streams of frames that arrive while the bot's
	// recording-ended hook flushes (Sink.Flush).
	atFlush []int
	// afterReturn are the streams of frames that arrive right after the
	// bot's Stop or Fail returned, before the suite waits for the bot's
	// own goroutines (a Stop handed to a goroutine has not closed
	// anything yet).
	afterReturn []int
	// concurrent is a bot event ("stop", "fail", "start", "callEnded",
	// "update") that the suite runs while the step's first request is
	// out: any of them beside Start's, a CallEnded beside a report's.
	concurrent string
	// frames are the streams of a burst (stepFrames).
	frames []int
	// stall: storage stalls before this step's frames, until the next
	// event that is not a frame (see storageStall).
	stall bool
	// duringWrite is "stop", "fail" or "callEnded", run while the burst's
	// first write is under way.
	duringWrite string
	// whileDraining are the streams of frames that arrive while that Stop
	// or Fail waits for the write's lease.
	whileDraining []int
	// update is the status an operation update carries; stale says it is
	// about another attempt than the pending one.
	update graph.OperationStatus
	stale  bool
	// lateReply: Graph's reply to the first request was already on its way
	// when the bot's context ended (CallEnded cancels it), so the bot gets
	// the reply rather than its context's error.
	lateReply bool
}

// reply is one of Graph's answers, as *graph.Client would return it.
type reply struct {
	outcome    Outcome
	err        error // for OutcomeError
	text       string
	retryable  bool // 429, 503, 504: the rule allows the same request again
	terminates bool // the call is gone: every later request gets 404
}

func (r reply) describe() string {
	if r.text != "" {
		return r.text
	}
	return r.outcome.String()
}

var (
	replyCompleted  = reply{outcome: OutcomeCompleted}
	replyTerminated = reply{outcome: OutcomeError, terminates: true, text: "404 8501 call terminated",
		err: &graph.Error{StatusCode: 404, Code: "8501", Message: "Call not found or already terminated."}}
)

// replyKinds are the answers the suite draws, with how often (out of
// 100): completed about half the time, so most cases spend real time in a
// confirmed recording; shrinking moves toward completed, the first.
var replyKinds = []struct {
	name  string
	share int
	reply reply
}{
	{"completed", 55, replyCompleted},
	{"pending", 15, reply{outcome: OutcomePending, text: "pending (running)"}},
	{"failed", 5, reply{outcome: OutcomeFailed, text: "failed (resultInfo 500/7000)"}},
	{"429", 6, reply{outcome: OutcomeError, retryable: true, text: "429 TooManyRequests (Retry-After 1 s)",
		err: &graph.Error{StatusCode: 429, Code: "TooManyRequests", Message: "Too many requests", RetryAfter: time.Second}}},
	{"503", 3, reply{outcome: OutcomeError, retryable: true, text: "503 ServiceUnavailable",
		err: &graph.Error{StatusCode: 503, Code: "ServiceUnavailable", Message: "Service unavailable"}}},
	{"504", 3, reply{outcome: OutcomeError, retryable: true, text: "504 GatewayTimeout",
		err: &graph.Error{StatusCode: 504, Code: "GatewayTimeout", Message: "Gateway timeout"}}},
	{"timeout", 3, reply{outcome: OutcomeError, text: "a timeout (no reply)",
		err: fmt.Errorf("graph: updateRecordingStatus: %w", context.DeadlineExceeded)}},
	{"8506", 5, reply{outcome: OutcomeError, text: "403 8506 (not a compliance-recording call: a policy refusal)",
		err: &graph.Error{StatusCode: 403, Code: graph.CodeNonComplianceCall, Message: "API call not allowed for non-Compliance Recording call"}}},
	{"terminated", 5, replyTerminated},
}

// drawPercent draws a number from 0 to 99 in even shares. rapid draws the
// ends of a range far more often than the middle (a plain IntRange(0, 99)
// gave completed 77% of the time and 8506 0.4%, not 55% and 5%), so the
// number is a hash of a wide draw; the draw 0, where shrinking goes, stays 0.
func drawPercent(t *rapid.T, label string) int {
	x := rapid.Uint32().Draw(t, label)
	return int(uint64(x*2654435761)*100>>32) % 100
}

// drawReply draws Graph's answer (see replyKinds).
func drawReply(t *rapid.T, label string) reply {
	n := drawPercent(t, label)
	for _, k := range replyKinds {
		if n < k.share {
			return k.reply
		}
		n -= k.share
	}
	return replyCompleted
}

func drawStreams(t *rapid.T, label string, streams, lo, hi int) []int {
	n := rapid.IntRange(lo, hi).Draw(t, label+": how many")
	out := make([]int, n)
	for i := range out {
		out[i] = rapid.IntRange(0, streams-1).Draw(t, fmt.Sprintf("%s: stream of frame %d", label, i+1))
	}
	return out
}

func drawScenario(t *rapid.T, stalls bool) scenario {
	sc := scenario{streams: rapid.IntRange(1, 3).Draw(t, "streams")}
	n := rapid.IntRange(1, 24).Draw(t, "steps")
	pending := false // the latest Start's first answer was pending
	for i := 1; i <= n; i++ {
		at := fmt.Sprintf("step %d", i)
		st := drawStep(t, at, sc.streams, stalls)
		sc.steps = append(sc.steps, st)
		switch {
		case st.kind == stepStart:
			pending = st.replies[0].outcome == OutcomePending
			// (rapid draws small numbers more often than others: 0 is the
			// choice these draws want often.)
			if pending && rapid.IntRange(0, 1).Draw(t, at+": Graph's notification follows the pending reply? (0: yes)") == 0 {
				// Graph settles every pending attempt with a notification;
				// drawn as often as any other step, the failed one and
				// what a bot does after it would be rare.
				up := step{kind: stepUpdate, update: graph.OperationCompleted}
				switch rapid.IntRange(0, 3).Draw(t, at+": the notification says (0: failed, 3: running, else completed)") {
				case 0:
					up.update = graph.OperationFailed
				case 3:
					up.update = graph.OperationRunning
				}
				sc.steps = append(sc.steps, up)
				pending = up.update == graph.OperationRunning
			}
		case st.kind == stepFrames && st.duringWrite != "":
			// A Stop that met a write in flight is where state kept by the
			// bot (a mix table refilled by that write, a buffer) outlives
			// the recording; it shows only if the case goes on to another
			// confirmed recording with media on every stream, which the
			// draw alone makes rare (about one case in ten has two).
			if rapid.IntRange(0, 1).Draw(t, at+": the next recording follows? (0: yes)") == 0 {
				all := make([]int, sc.streams)
				for k := range all {
					all[k] = (k + 1) % sc.streams // another stream's frame first
				}
				sc.steps = append(sc.steps, step{kind: stepStart, replies: []reply{replyCompleted}},
					step{kind: stepFrames, frames: all})
			}
		case st.kind == stepFrames && st.stall:
			// A stall shows a write Stop does not wait for only if it
			// ends at a Stop (or Fail): drawn alone, the next event is
			// as often a Start or an update.
			if rapid.IntRange(0, 1).Draw(t, at+": a Stop ends the stall? (0: yes)") == 0 {
				sc.steps = append(sc.steps, step{kind: stepStop, replies: []reply{replyCompleted}})
			}
		case (st.kind == stepStop || st.kind == stepFail) && pending:
			// Graph's completed for an attempt the bot has just stopped is
			// the late notification a real call delivers; a bot that opens
			// on it shows itself only if media follows. Alone, the draw
			// would make this sequence rare.
			pending = false
			if rapid.IntRange(0, 1).Draw(t, at+": a late completed for the stopped attempt? (0: yes)") == 0 {
				sc.steps = append(sc.steps, step{kind: stepUpdate, update: graph.OperationCompleted},
					step{kind: stepFrames, frames: drawStreams(t, at+" frames after the late completed", sc.streams, 1, 3)})
			}
		}
	}
	// Drawn last, so that the cases without faults draw as before.
	if rapid.IntRange(0, 3).Draw(t, "storage fails some writes? (3: yes)") == 3 {
		sc.faultEvery = rapid.IntRange(2, 5).Draw(t, "storage fails the first write of every frame whose number this divides")
	}
	// A hang-up while notRecording or failed is out (or throttled, and
	// about to be sent again) is as real as one beside Start: a retry
	// that outlives it goes to a call that is gone (P5). Drawn after
	// everything else, so that every case plays as it did before this
	// draw was added, with the hang-up added beside some reports. Only
	// reports after the case's last Start: a hang-up ends the call, and
	// a later recording (where media a bot held over shows) with it.
	last := -1
	for i, st := range sc.steps {
		if st.kind == stepStart {
			last = i
		}
	}
	for i := last + 1; i < len(sc.steps); i++ {
		st := &sc.steps[i]
		if (st.kind != stepStop && st.kind != stepFail) || st.concurrent != "" {
			continue
		}
		at := fmt.Sprintf("step %d (%s)", i+1, st.kind)
		// Half the reports Graph throttles, so that a retry meets it
		// often enough to show; one in twenty of the others.
		share := 5
		if st.replies[0].retryable {
			share = 50
		}
		if drawPercent(t, fmt.Sprintf("%s: the call ends while the report is out? (under %d: yes)", at, share)) < share {
			st.concurrent = "callEnded"
			st.lateReply = rapid.Bool().Draw(t, at+": the reply is already on its way?")
		}
	}
	// Drawn last too: about one case in six (rapid favours small numbers)
	// has both calls of the process recording whenever the call under
	// test records. Each such case also ends a recording at its end,
	// which a bot that drains slowly pays for: half the cases made the
	// repository's tests a third slower, and three in ten still cost the
	// test command its margin on a shared 2-core box.
	sc.neighbourRecords = drawPercent(t, "the neighbouring call records too? (under 12: yes)") < 12
	return sc
}

func drawStep(t *rapid.T, at string, streams int, stalls bool) step {
	var st step
	// A plain IntRange, biased as rapid biases it toward the ends: over
	// 2000 cases, frames are 66% of the steps (the ranges below say 38%),
	// Start 10%, Stop 6%, an update 4.5%, Fail 3%, introspection 3.6% and
	// CallEnded 6%. Every detection rate in README and the bot tables was
	// measured with this mix; replies, which needed their designed shares
	// (8506 was 0.4%), use drawPercent.
	n := rapid.IntRange(0, 99).Draw(t, at)
	if at == "step 1" && n < 75 {
		n = 40 // most calls begin with Start: more cases reach a recording
	}
	switch {
	case n < 38:
		st.kind = stepFrames
	case n < 56:
		st.kind = stepStart
	case n < 68:
		st.kind = stepStop
	case n < 78:
		st.kind = stepUpdate
	case n < 84:
		st.kind = stepFail
	case n < 92:
		st.kind = stepIntrospect
	default:
		st.kind = stepCallEnded
	}
	switch st.kind {
	case stepFrames:
		st.stall = stalls && rapid.IntRange(0, 7).Draw(t, at+": storage stalls first? (7: yes)") == 7
		if (st.stall && rapid.IntRange(0, 1).Draw(t, at+": a burst on one stream? (0: yes)") == 0) ||
			(!st.stall && rapid.IntRange(0, 15).Draw(t, at+": a burst on one stream? (15: yes)") == 15) {
			// Storage that falls behind fills bounded queues only if
			// media comes faster: up to 64 frames (1.3 s of audio).
			n := rapid.IntRange(5, 64).Draw(t, at+": burst: how many frames")
			s := rapid.IntRange(0, streams-1).Draw(t, at+": burst: which stream")
			for range n {
				st.frames = append(st.frames, s)
			}
		} else {
			st.frames = drawStreams(t, at+" frames", streams, 1, 4)
		}
		if rapid.IntRange(0, 7).Draw(t, at+": Stop or Fail during the first write?") == 7 {
			st.duringWrite = rapid.SampledFrom([]string{"stop", "fail", "callEnded"}).Draw(t, at+": which")
			st.whileDraining = drawStreams(t, at+" frames while it waits for that write", streams, 1, 2)
		}
	case stepStart, stepStop, stepFail:
		label := at + ": Graph answers " + map[stepKind]string{stepStart: "recording", stepStop: "notRecording", stepFail: "failed"}[st.kind]
		st.replies = append(st.replies, drawReply(t, label))
		for i, more := 2, rapid.IntRange(0, 2).Draw(t, at+": answers to retries"); i < 2+more; i++ {
			st.replies = append(st.replies, drawReply(t, fmt.Sprintf("%s, retry %d", label, i-1)))
		}
		st.inFlight = drawStreams(t, at+" frames while the request is out", streams, 0, 3)
		if st.kind != stepStart {
			st.atFlush = drawStreams(t, at+" frames while the hook flushes", streams, 0, 2)
			st.afterReturn = drawStreams(t, at+" frames right after it returns", streams, 0, 2)
		}
		if st.kind == stepStart && rapid.IntRange(0, 4).Draw(t, at+": another event while the request is out?") == 4 {
			st.concurrent = rapid.SampledFrom([]string{"stop", "callEnded", "start", "fail", "update"}).Draw(t, at+": which")
			st.lateReply = rapid.Bool().Draw(t, at+": the reply is already on its way?")
		}
	case stepCallEnded:
		st.atFlush = drawStreams(t, at+" frames while the hook flushes", streams, 0, 2)
	case stepUpdate:
		n := rapid.IntRange(0, 9).Draw(t, at+": update status")
		switch {
		case n < 6:
			st.update = graph.OperationCompleted
		case n < 8:
			st.update = graph.OperationFailed
		default:
			st.update = graph.OperationRunning
		}
		st.stale = rapid.IntRange(0, 5).Draw(t, at+": about another attempt?") == 5
	}
	return st
}

// Media. Each frame is a line of words, as a speech recognizer's output
// would keep them, with one canary: a word no other frame has, which the
// sink finds in whatever is persisted (case-insensitively, so a transcript
// that changes case still carries it, and glued to any neighbour: see
// scanCanaries).

const canaryAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

// canary is frame n's canary word in a variant of the case (the
// noninterference check plays a second variant).
func canary(n, variant int) string {
	// Multiplying by an odd number is a bijection modulo 2^30, so no two
	// (frame, variant) pairs share a canary; it also keeps neighbouring
	// frames' canaries unalike.
	x := (uint32(n)<<2 | uint32(variant&3)) * 2654435761 & (1<<30 - 1)
	b := []byte("zq")
	for i := 0; i < 6; i++ {
		b = append(b, canaryAlphabet[x&31])
		x >>= 5
	}
	return string(b)
}

var filler = []string{"hello", "everyone", "quarterly", "numbers", "agenda", "thanks", "next", "slide", "question", "budget", "yes", "okay"}

// payload is frame n's content: a few words and its canary. The other
// variant has other words, another canary and another length.
func payload(n, stream, variant int) []byte {
	var b strings.Builder
	words := 2 + (n+variant*3)%4
	for i := 0; i < words; i++ {
		b.WriteString(filler[(n*5+i+variant*7)%len(filler)])
		b.WriteByte(' ')
	}
	fmt.Fprintf(&b, "%s s%d;", canary(n, variant), stream)
	return []byte(b.String())
}

// encodedRun is a run of base64 (standard or URL alphabet) or hex long
// enough to hold a canary once decoded.
var encodedRun = regexp.MustCompile(`[A-Za-z0-9+/_-]{12,}={0,2}`)

func findCanaries(p []byte) []string { return findCanariesIn(p, 2) }

// findCanariesIn is findCanaries, inflating compressed members levels deep:
// findCanaries inflates a member and a member inside it (a per-frame zlib
// codec inside a gzipped segment), one more level is not (a nest of
// compressed members must not multiply the work).
func findCanariesIn(p []byte, levels int) []string {
	out := scanCanaries(p, nil)
	// Media encoded before the sink (base64 in JSON, hex in a log) keeps
	// its canaries once decoded: look inside every run that decodes.
	for _, run := range encodedRun.FindAll(p, -1) {
		for _, dec := range decodings(run) {
			out = scanCanaries(dec, out)
		}
	}
	// Compressed media (gzip, zlib) too, and what it holds encoded.
	if levels > 0 {
		for _, inflated := range inflatedMembers(p) {
			out = append(out, findCanariesIn(inflated, levels-1)...)
		}
	}
	return out
}

// decodings returns what run decodes to as base64 (padded or not, either
// alphabet) and as hex, where it does.
func decodings(run []byte) [][]byte {
	var out [][]byte
	s := strings.TrimRight(string(run), "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			out = append(out, b)
		}
	}
	if b, err := hex.DecodeString(string(run)); err == nil {
		out = append(out, b)
	}
	return out
}

// scanCanaries appends to out every canary-shaped run in p ("zq" and six
// letters of the canary alphabet, in any case) at any offset, with or
// without a word boundary around it: a canary glued to its neighbours by
// '_' (shingles, snake_case keys) or to another word is found too. Only
// canaries the case sent count (Env.trace), so a run that merely looks
// like one costs nothing.
func scanCanaries(p []byte, out []string) []string {
	for i := 0; i+8 <= len(p); i++ {
		if p[i]|0x20 != 'z' || p[i+1]|0x20 != 'q' {
			continue
		}
		ok := true
		var w [8]byte
		for k := 0; k < 8; k++ {
			c := p[i+k]
			if c >= 'A' && c <= 'Z' {
				c |= 0x20
			}
			if k >= 2 && !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
				ok = false
				break
			}
			w[k] = c
		}
		if ok {
			out = append(out, string(w[:]))
		}
	}
	return out
}
