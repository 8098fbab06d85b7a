package roundten

import (
	"context"
	"errors"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// segmentFrames is how many frames a stream's segment file holds before
// ResumeTailByCallID rotates it; tailLines is how many of the last lines
// a new segment repeats as its header.
const (
	segmentFrames = 8
	tailLines     = 2
)

// continuity is the process-wide registry ResumeTailByCallID keeps, keyed
// by call ID, so that a media session re-created for the same call (a
// re-invite after a media reconnect builds a new bot) goes on where the
// last one stopped: each stream's last lines written.
var continuity = struct {
	mu    sync.Mutex
	tails map[string]map[int][][]byte
}{tails: make(map[string]map[int][][]byte)}

// NewResumeTailByCallID builds a bot that writes each stream as segment
// files of segmentFrames frames; every new segment begins with a header
// repeating the last tailLines lines of the previous one, for a reader of
// one segment. All of it under the frame's lease. The tail lives in a
// process-wide registry keyed by call ID, so that a bot re-created for the
// same call (a re-invite) continues the segment chain. The hook clears the
// call's tail on Stop and Fail ("the recording is over"); on CallEnded it
// leaves it to the registry's janitor, and a call that is simply dropped
// (the bot process loses the session) leaves it too. The next bot for that
// call ID then opens its first segment, in a new recording Graph
// confirmed for it, with lines captured in an earlier recording, by
// another session.
func NewResumeTailByCallID(env *properties.Env) (properties.Bot, error) {
	b := &tailBot{callID: env.CallID, count: map[int]int{}}
	base, err := newFSMBot(env, wiring{hook: func(_ context.Context, t fsm.Trigger) error {
		if t != fsm.CallEnded {
			continuity.mu.Lock()
			delete(continuity.tails, b.callID)
			continuity.mu.Unlock()
		}
		b.mu.Lock()
		b.count = map[int]int{} // the next recording starts new segments
		b.mu.Unlock()
		return env.Sink.Flush()
	}})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

type tailBot struct {
	*fsmBot
	callID string
	mu     sync.Mutex
	count  map[int]int // frames written in the stream's current segment
}

// Frame writes, under the lease, the new segment's header when a segment
// begins, then the frame, and keeps the frame as the stream's tail.
func (b *tailBot) Frame(_ context.Context, stream int, p []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	n := b.count[stream]
	b.count[stream] = (n + 1) % segmentFrames
	b.mu.Unlock()
	continuity.mu.Lock()
	tails := continuity.tails[b.callID]
	if tails == nil {
		tails = map[int][][]byte{}
		continuity.tails[b.callID] = tails
	}
	var header []byte
	if n == 0 {
		header = append([]byte("--- segment; previously: "), joinLines(tails[stream])...)
		header = append(header, '\n')
	}
	t := append(tails[stream], append([]byte(nil), p...))
	if len(t) > tailLines {
		t = t[len(t)-tailLines:]
	}
	tails[stream] = t
	continuity.mu.Unlock()
	if header != nil {
		if _, err := b.sink.Write(stream, header); err != nil && !errors.Is(err, properties.ErrStorageFault) {
			return err
		}
	}
	_, err = b.sink.Write(stream, p)
	return err
}

func joinLines(lines [][]byte) []byte {
	var out []byte
	for i, l := range lines {
		if i > 0 {
			out = append(out, " / "...)
		}
		out = append(out, l...)
	}
	return out
}
