package roundseven

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"strings"
	"sync"
	"unicode"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// leadInBot persists every frame under a lease, encoded by encode, and
// keeps the last leadInFrames frames each stream heard while the gate was
// closed; at the first frame of each recording it first writes them, as
// one blob packed by pack, under that frame's lease: the "lead-in" so a
// reviewer hears what was being said when recording began. The lead-in
// is media from before consent.
type leadInBot struct {
	*fsmBot
	encode func([]byte) []byte // each frame, before storage
	pack   func([][]byte) []byte
	locks  []sync.Mutex // per stream
	mu     sync.Mutex
	heard  [][][]byte // per stream: frames refused by the gate, newest last
	fresh  []bool     // per stream: the next written frame opens a recording
}

const leadInFrames = 5

func newLeadInBot(env *properties.Env, encode func([]byte) []byte, pack func([][]byte) []byte) (*leadInBot, error) {
	return newLeadIn(env.CallID, env.Updater, env.Streams, env.Sink, env.GateOpened, encode, pack)
}

func newLeadIn(callID string, u fsm.Updater, n int, st storage, opened func(), encode func([]byte) []byte, pack func([][]byte) []byte) (*leadInBot, error) {
	b := &leadInBot{encode: encode, pack: pack, locks: make([]sync.Mutex, n),
		heard: make([][][]byte, n), fresh: make([]bool, n)}
	for i := range b.fresh {
		b.fresh[i] = true
	}
	base, err := newFSMBot(callID, u, n, st, opened, func(context.Context, fsm.Trigger) error {
		b.mu.Lock()
		for i := range b.fresh {
			b.fresh[i] = true
		}
		b.mu.Unlock()
		return st.Flush()
	})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

func (b *leadInBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, b.n); err != nil {
		return err
	}
	b.locks[stream].Lock()
	defer b.locks[stream].Unlock()
	lease, err := b.streams[stream].Acquire()
	if errors.Is(err, fsm.ErrGateClosed) {
		b.mu.Lock()
		h := append(b.heard[stream], append([]byte(nil), payload...))
		if len(h) > leadInFrames {
			h = h[1:]
		}
		b.heard[stream] = h
		b.mu.Unlock()
		return err
	}
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	var leadIn []byte
	if b.fresh[stream] && len(b.heard[stream]) > 0 {
		leadIn = b.pack(b.heard[stream])
	}
	b.fresh[stream], b.heard[stream] = false, nil
	b.mu.Unlock()
	if leadIn != nil {
		if _, err := b.store.Write(stream, leadIn); err != nil {
			return err
		}
	}
	_, err = b.store.Write(stream, b.encode(payload))
	return err
}

func plain(p []byte) []byte { return p }

// gzipFrames packs frames as one gzip member (deterministic: no name, no
// time in the header).
func gzipFrames(frames [][]byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for _, f := range frames {
		_, _ = zw.Write(f)
	}
	_ = zw.Close()
	return buf.Bytes()
}

// NewGzipLeadIn builds a bot that stores its frames as they come, under
// leases, and prefixes each recording's first frame on a stream with the
// lead-in (the last five frames heard before consent) gzip-compressed
// ("the lead-in is the bulky part: compress it, the player inflates it").
// Every stream carries plain, traced frames, so no stream looks untraced;
// the lead-in's canaries are inside the gzip member.
func NewGzipLeadIn(env *properties.Env) (properties.Bot, error) {
	return newLeadInBot(env, plain, gzipFrames)
}

// muLaw encodes p, read as 16-bit little-endian linear PCM, as G.711
// mu-law, one byte per sample (an odd last byte is dropped): the usual
// archive format of telephony audio, written by hand as teams do.
func muLaw(p []byte) []byte {
	out := make([]byte, len(p)/2)
	for i := range out {
		out[i] = linearToMuLaw(int16(uint16(p[2*i]) | uint16(p[2*i+1])<<8))
	}
	return out
}

func linearToMuLaw(s int16) byte {
	const bias, clip = 0x84, 32635
	sign := byte(0)
	v := int(s)
	if v < 0 {
		v, sign = -v, 0x80
	}
	if v > clip {
		v = clip
	}
	v += bias
	exp := byte(7)
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := byte(v>>(uint(exp)+3)) & 0x0f
	return ^(sign | exp<<4 | mant)
}

func muLawFrames(frames [][]byte) []byte {
	var out []byte
	for _, f := range frames {
		out = append(out, muLaw(f)...)
	}
	return out
}

// NewMuLawPreRoll builds a bot that archives G.711 mu-law (every frame,
// read as 16-bit PCM, halved to 8-bit mu-law) with the lead-in of
// NewGzipLeadIn, also in mu-law. Nothing it stores keeps a canary.
func NewMuLawPreRoll(env *properties.Env) (properties.Bot, error) {
	return newLeadInBot(env, muLaw, muLawFrames)
}

// NewMuLawUnderLease builds a correct bot that archives each frame as
// G.711 mu-law, under the frame's lease, and nothing else: it keeps the
// rule, but nothing it stores can be traced.
func NewMuLawUnderLease(env *properties.Env) (properties.Bot, error) {
	base, err := newEnvBot(env, nil)
	if err != nil {
		return nil, err
	}
	return &transformBot{fsmBot: base, transform: muLaw, locks: make([]sync.Mutex, env.Streams)}, nil
}

// transformBot persists transform(frame) under the frame's lease.
type transformBot struct {
	*fsmBot
	transform func([]byte) []byte
	locks     []sync.Mutex
}

func (b *transformBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, b.n); err != nil {
		return err
	}
	b.locks[stream].Lock()
	defer b.locks[stream].Unlock()
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	out := b.transform(payload)
	if len(out) == 0 {
		return nil
	}
	_, err = b.store.Write(stream, out)
	return err
}

// NewRedactedTranscript builds a correct bot that persists only derived
// data, under each frame's lease: a transcript line per frame, lower
// case, digits masked and words of fewer than three letters dropped (the
// team's "redaction" for the search index). The audio itself is never
// stored.
func NewRedactedTranscript(env *properties.Env) (properties.Bot, error) {
	base, err := newEnvBot(env, nil)
	if err != nil {
		return nil, err
	}
	return &transformBot{fsmBot: base, transform: redact, locks: make([]sync.Mutex, env.Streams)}, nil
}

func redact(p []byte) []byte {
	var words []string
	for _, w := range strings.FieldsFunc(string(p), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		w = strings.Map(func(r rune) rune {
			if unicode.IsDigit(r) {
				return '#'
			}
			return unicode.ToLower(r)
		}, w)
		if len(w) >= 3 {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		return nil
	}
	return []byte(strings.Join(words, " ") + "\n")
}
