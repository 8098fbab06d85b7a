package roundeight

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// utteranceFrames is how many frames a recognizer's utterance spans before
// it emits a final result.
const utteranceFrames = 3

// recognizer is a streaming speech recognizer, one per stream: it takes
// frames, and every utteranceFrames frames emits the final transcript of
// the utterance (all its words).
type recognizer struct {
	words  []string
	frames int
}

// feed adds a frame and returns the utterance's final, if it ended.
func (r *recognizer) feed(p []byte) (string, bool) {
	r.words = append(r.words, strings.Fields(string(p))...)
	r.frames++
	if r.frames < utteranceFrames {
		return "", false
	}
	return r.final(), true
}

// final returns the utterance so far and starts the next one.
func (r *recognizer) final() string {
	s := strings.Join(r.words, " ") + "\n"
	r.words, r.frames = nil, 0
	return s
}

// NewUtteranceSpansOpen builds a bot whose recognizer runs on every frame
// (live captions for the meeting, shown, not stored) and whose transcript
// archive persists each final result under a lease: "a final emitted while
// the gate is closed is dropped". A final emitted just after the gate
// opens holds the words of its utterance's first frames, heard before
// consent; one emitted in a recording can hold the end of an utterance
// begun in the last one.
func NewUtteranceSpansOpen(env *properties.Env) (properties.Bot, error) {
	base, err := newEnvBot(env, wiring{})
	if err != nil {
		return nil, err
	}
	return &utteranceBot{fsmBot: base, rec: make([]recognizer, env.Streams)}, nil
}

type utteranceBot struct {
	*fsmBot
	mu  sync.Mutex
	rec []recognizer
}

func (b *utteranceBot) Frame(_ context.Context, stream int, p []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	final, ok := b.rec[stream].feed(p)
	if !ok {
		return nil
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err // the final is dropped: the gate is closed
	}
	defer lease.Release()
	_, err = b.store.Write(stream, []byte(final))
	return err
}

// NewSeparateArchivalRecognizer builds a correct bot with two recognizers
// per stream: the live one hears every frame and feeds the meeting's
// captions (never stored); the archival one hears only frames that got a
// lease, its finals are written under that lease, and the recording-ended
// hook writes its unfinished utterance, then starts it afresh. Nothing it
// persists depends on media from outside a recording, so it also passes
// WithNoninterference.
func NewSeparateArchivalRecognizer(env *properties.Env) (properties.Bot, error) {
	b := &archivalBot{live: make([]recognizer, env.Streams), archive: make([]recognizer, env.Streams)}
	base, err := newEnvBot(env, wiring{hook: b.hook})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

type archivalBot struct {
	*fsmBot
	mu       sync.Mutex
	live     []recognizer
	archive  []recognizer
	captions int // finals shown live (what the meeting sees)
}

func (b *archivalBot) Frame(_ context.Context, stream int, p []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.live[stream].feed(p); ok {
		b.captions++ // shown in the meeting, not stored
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	final, ok := b.archive[stream].feed(p)
	if !ok {
		return nil
	}
	_, err = b.store.Write(stream, []byte(final))
	return err
}

func (b *archivalBot) hook(context.Context, fsm.Trigger) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.archive {
		if b.archive[i].frames == 0 {
			continue
		}
		if _, err := b.store.Write(i, []byte(b.archive[i].final())); err != nil {
			return err
		}
	}
	return b.store.Flush()
}

// enrollFrames is how many frames a voiceprint is enrolled from.
const enrollFrames = 2

// NewVoiceprintEnrollment builds a bot that labels each stream's speaker
// with a voiceprint enrolled from the first frames it heard on that
// stream, whenever they came (the diarization model enrolls as soon as a
// participant speaks), and persists, under each frame's lease, the frame
// with its speaker label. The voiceprint of a participant who spoke before
// consent is derived from pre-consent audio: biometric data the rule does
// not allow. It keeps no canary, so only WithNoninterference can see it.
func NewVoiceprintEnrollment(env *properties.Env) (properties.Bot, error) {
	base, err := newEnvBot(env, wiring{})
	if err != nil {
		return nil, err
	}
	return &voiceprintBot{fsmBot: base, enroll: make([][]byte, env.Streams), heard: make([]int, env.Streams), print: make([]string, env.Streams)}, nil
}

type voiceprintBot struct {
	*fsmBot
	mu     sync.Mutex
	enroll [][]byte
	heard  []int
	print  []string
}

func (b *voiceprintBot) Frame(_ context.Context, stream int, p []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.heard[stream] < enrollFrames {
		b.enroll[stream] = append(b.enroll[stream], p...)
		b.heard[stream]++
		if b.heard[stream] == enrollFrames {
			sum := sha256.Sum256(b.enroll[stream])
			b.print[stream] = fmt.Sprintf("%x", sum[:6])
		}
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	label := b.print[stream]
	if label == "" {
		label = "unknown"
	}
	_, err = fmt.Fprintf(streamWriter{b.store, stream}, "[spk %s] %s\n", label, p)
	return err
}

// shingleWindow is how many of the last words heard on a stream a search
// record's shingles cover.
const shingleWindow = 6

// NewShingleIndexPreRoll builds a bot that persists, under each frame's
// lease, a search record: the frame's text, and the word bigrams
// ("shingles", joined by '_' as the team's search engine tokenizes
// phrases) of the last words heard on the stream, so that a phrase that
// spans two frames is found. The window is the live caption history, fed
// by every frame since the bot joined: the first records of a recording
// hold shingles of words heard before consent.
func NewShingleIndexPreRoll(env *properties.Env) (properties.Bot, error) {
	base, err := newEnvBot(env, wiring{})
	if err != nil {
		return nil, err
	}
	return &shingleBot{fsmBot: base, window: make([][]string, env.Streams)}, nil
}

type shingleBot struct {
	*fsmBot
	mu     sync.Mutex
	window [][]string
}

// searchRecord is one line of the search index.
type searchRecord struct {
	Text     string   `json:"text"`
	Shingles []string `json:"shingles"`
}

func (b *shingleBot) Frame(_ context.Context, stream int, p []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	w := append(b.window[stream], strings.Fields(string(p))...)
	if len(w) > shingleWindow {
		w = w[len(w)-shingleWindow:]
	}
	b.window[stream] = w
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	rec := searchRecord{Text: string(p)}
	for i := 1; i < len(w); i++ {
		rec.Shingles = append(rec.Shingles, w[i-1]+"_"+w[i])
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = b.store.Write(stream, append(line, '\n'))
	return err
}
