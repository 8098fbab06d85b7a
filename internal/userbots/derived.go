package userbots

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// Media or data derived from it, in a form the canaries do not survive.

const preRollFrames = 5

// encryptedPreRoll is the bug. It is the pre-roll (the last frames heard
// before consent are written first when the gate opens, so recordings do
// not start mid-word) in a bot whose storage is encrypted at rest, as
// compliance recordings usually are: every write is AES-CTR ciphertext.
// The pre-roll was captured before consent (R1, P7); no word of it is
// readable in what is stored.
type encryptedPreRoll struct {
	*fsmBot
	mu    sync.Mutex
	ring  [][][]byte
	block cipher.Block
	ctr   []uint64 // per stream: blocks written, the CTR position
}

// NewEncryptedPreRoll builds the pre-roll bot with encrypted storage.
func NewEncryptedPreRoll(env *properties.Env) (properties.Bot, error) {
	block, err := aes.NewCipher([]byte("0123456789abcdef")) // from the key vault, in production
	if err != nil {
		return nil, err
	}
	b := &encryptedPreRoll{ring: make([][][]byte, env.Streams), block: block, ctr: make([]uint64, env.Streams)}
	fb, err := newFSMBot(env, flushSink(env))
	if err != nil {
		return nil, err
	}
	b.fsmBot = fb
	return b, nil
}

// seal encrypts p for stream i, continuing the stream's key stream.
func (b *encryptedPreRoll) seal(i int, p []byte) []byte {
	iv := make([]byte, aes.BlockSize)
	binary.BigEndian.PutUint64(iv[:8], uint64(i))
	binary.BigEndian.PutUint64(iv[8:], b.ctr[i])
	b.ctr[i] += uint64(len(p)+aes.BlockSize-1) / aes.BlockSize
	out := make([]byte, len(p))
	cipher.NewCTR(b.block, iv).XORKeyStream(out, p)
	return out
}

func (b *encryptedPreRoll) Frame(_ context.Context, stream int, payload []byte) error {
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
	for _, p := range append(b.ring[stream], payload) {
		if _, err := b.env.Sink.Write(stream, b.seal(stream, p)); err != nil {
			return err
		}
	}
	b.ring[stream] = nil
	return nil
}

// topicSummary is the bug. Live captions run for the whole call; at the
// end of each recording the hook stores, beside the media, the meeting's
// "topics": the words said most often since the bot joined. The media
// goes through the gate; the topics are derived from everything heard,
// before consent too (R1, P7). A topic is a frequent word, never the one
// word only one frame has.
type topicSummary struct {
	*fsmBot
	mu       sync.Mutex
	count    map[string]int
	recorded bool // a frame was written in this recording
}

// NewTopicSummary builds the bot that stores the call's topics.
func NewTopicSummary(env *properties.Env) (properties.Bot, error) {
	b := &topicSummary{count: map[string]int{}}
	fb, err := newFSMBot(env, b.recordingEnded)
	if err != nil {
		return nil, err
	}
	b.fsmBot = fb
	return b, nil
}

func (b *topicSummary) Frame(_ context.Context, stream int, payload []byte) error {
	b.mu.Lock()
	for _, w := range strings.Fields(strings.ToLower(string(payload))) {
		if w = strings.Trim(w, ".,;:!?"); len(w) > 3 { // skip short words
			b.count[w]++
		}
	}
	b.mu.Unlock()
	if err := b.persist(stream, payload); err != nil {
		return err
	}
	b.mu.Lock()
	b.recorded = true
	b.mu.Unlock()
	return nil
}

func (b *topicSummary) recordingEnded(context.Context, fsm.Trigger) error {
	b.mu.Lock()
	words := make([]string, 0, len(b.count))
	for w := range b.count {
		words = append(words, w)
	}
	sort.Slice(words, func(i, j int) bool {
		if b.count[words[i]] != b.count[words[j]] {
			return b.count[words[i]] > b.count[words[j]]
		}
		return words[i] < words[j]
	})
	if len(words) > 3 {
		words = words[:3]
	}
	recorded := b.recorded
	b.recorded = false
	b.mu.Unlock()
	if recorded && len(words) > 0 { // only beside a recording
		line := fmt.Sprintf("topics: %s\n", strings.Join(words, ", "))
		if _, err := b.env.Sink.Write(b.env.Streams, []byte(line)); err != nil {
			return err
		}
	}
	return b.env.Sink.Flush()
}

// talkTime is the bug the suite documents it cannot trace by content:
// per-stream "talk time" (bytes of audio heard since the bot joined) is
// written beside each recorded frame. The numbers are derived from
// pre-consent media but carry no word of it. Only the opt-in
// noninterference check sees it.
type talkTime struct {
	*fsmBot
	mu    sync.Mutex
	heard []int
}

// NewTalkTime builds the bot that stores talk time since the call began.
func NewTalkTime(env *properties.Env) (properties.Bot, error) {
	b := &talkTime{heard: make([]int, env.Streams)}
	fb, err := newFSMBot(env, flushSink(env))
	if err != nil {
		return nil, err
	}
	b.fsmBot = fb
	return b, nil
}

func (b *talkTime) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.heard[stream] += len(payload)
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	rec := append([]byte(fmt.Sprintf("[talk %d] ", b.heard[stream])), payload...)
	_, err = b.env.Sink.Write(stream, rec)
	return err
}

// encryptedAtRest is correct: every frame is written under a lease, as
// ReferenceBot does, but storage is encrypted at rest (AES-CTR), so what
// reaches the Sink is ciphertext. Nothing outside a recording is written.
type encryptedAtRest struct {
	*fsmBot
	mu    sync.Mutex
	block cipher.Block
	ctr   []uint64
}

// NewEncryptedAtRest builds the correct bot with encrypted storage.
func NewEncryptedAtRest(env *properties.Env) (properties.Bot, error) {
	block, err := aes.NewCipher([]byte("0123456789abcdef"))
	if err != nil {
		return nil, err
	}
	b := &encryptedAtRest{block: block, ctr: make([]uint64, env.Streams)}
	fb, err := newFSMBot(env, flushSink(env))
	if err != nil {
		return nil, err
	}
	b.fsmBot = fb
	return b, nil
}

func (b *encryptedAtRest) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	iv := make([]byte, aes.BlockSize)
	binary.BigEndian.PutUint64(iv[:8], uint64(stream))
	binary.BigEndian.PutUint64(iv[8:], b.ctr[stream])
	b.ctr[stream] += uint64(len(payload)+aes.BlockSize-1) / aes.BlockSize
	b.mu.Unlock()
	out := make([]byte, len(payload))
	cipher.NewCTR(b.block, iv).XORKeyStream(out, payload)
	_, err = b.env.Sink.Write(stream, out)
	return err
}
