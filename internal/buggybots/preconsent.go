package buggybots

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// Media captured before consent, written once consent arrives.
//
// Both bots write only through the gate, so every byte is written inside
// a confirmed recording (P1 holds); what they write was heard before it.
// The rule covers "media content ... or data derived from it": it is the
// capture that needs consent, not only the write.

const preRollFrames = 5 // 100 ms of audio at 50 frames/s

// preRoll is the bug. Product asked that recordings not start mid-word, so
// the team keeps the last few frames heard while the gate is closed and
// writes them first when it opens, the way a camera's pre-record does.
// Those frames arrived before Graph's completed (P7).
type preRoll struct {
	*machineBot
	mu   sync.Mutex
	ring [][][]byte // per stream: the last frames heard while the gate was closed
}

// NewPreRoll builds the pre-roll bot.
func NewPreRoll(env *properties.Env) (properties.Bot, error) {
	b := &preRoll{ring: make([][][]byte, env.Streams)}
	mb, err := newMachineBot(env, func(context.Context, fsm.Trigger) error { return env.Sink.Flush() })
	if err != nil {
		return nil, err
	}
	b.machineBot = mb
	return b, nil
}

func (b *preRoll) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	lease, err := s.Acquire()
	if errors.Is(err, fsm.ErrGateClosed) {
		r := append(b.ring[stream], append([]byte(nil), payload...))
		if len(r) > preRollFrames {
			r = r[1:]
		}
		b.ring[stream] = r
		return err
	}
	if err != nil {
		return err
	}
	defer lease.Release()
	for _, p := range b.ring[stream] { // the pre-roll goes first, under the same lease
		if _, err := b.env.Sink.Write(stream, p); err != nil {
			return err
		}
	}
	b.ring[stream] = nil
	_, err = b.env.Sink.Write(stream, payload)
	return err
}

// derivedTranscript is the bug. The bot runs live captions for the whole
// call (nobody objects to captions), and the team saves the transcript
// with the recording when it ends: one line per recording, so the
// recording's audio and its transcript are stored together. The frames go
// through the gate; the transcript holds every word since the bot joined,
// including those said before consent and in earlier recordings (P7), and
// after CallEnded it is written once the call is over (P1).
type derivedTranscript struct {
	*machineBot
	mu    sync.Mutex
	words []string // the call's live transcript
}

// NewDerivedTranscript builds the transcript bot.
func NewDerivedTranscript(env *properties.Env) (properties.Bot, error) {
	b := &derivedTranscript{}
	mb, err := newMachineBot(env, b.recordingEnded)
	if err != nil {
		return nil, err
	}
	b.machineBot = mb
	return b, nil
}

func (b *derivedTranscript) Frame(_ context.Context, stream int, payload []byte) error {
	b.mu.Lock()
	b.words = append(b.words, recognize(payload)...)
	b.mu.Unlock()
	return b.persist(stream, payload)
}

func (b *derivedTranscript) recordingEnded(context.Context, fsm.Trigger) error {
	b.mu.Lock()
	line := "transcript: " + strings.Join(b.words, " ") + "\n"
	b.mu.Unlock()
	if _, err := b.env.Sink.Write(0, []byte(line)); err != nil {
		return err
	}
	return b.env.Sink.Flush()
}

// recognize stands in for the speech-to-text service: it returns the
// words spoken, lower-cased, without punctuation.
func recognize(audio []byte) []string {
	var words []string
	for _, w := range strings.Fields(strings.ToLower(string(audio))) {
		if w = strings.Trim(w, ".,;:!?"); w != "" {
			words = append(words, w)
		}
	}
	return words
}
