package roundthree

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/recgate/recgate/properties"
)

// Media persisted in another shape than the frames came in: encoded, or
// cut into packets.

const preRollFrames = 3

// preRoll keeps the last frames of each stream that the gate refused, to
// write them when it opens: the pre-roll bug (media from before consent,
// R1: P7), shared by the bots below, which differ in how they store it.
type preRoll struct {
	mu   sync.Mutex
	kept [][][]byte // per stream
}

func newPreRoll(streams int) *preRoll { return &preRoll{kept: make([][][]byte, streams)} }

func (r *preRoll) keep(stream int, p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := append(r.kept[stream], append([]byte(nil), p...))
	if len(k) > preRollFrames {
		k = k[1:]
	}
	r.kept[stream] = k
}

// take returns and forgets the stream's pre-roll.
func (r *preRoll) take(stream int) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := r.kept[stream]
	r.kept[stream] = nil
	return k
}

// audioRecord is one line of the audio log. encoding/json writes a []byte
// as base64.
type audioRecord struct {
	Stream int    `json:"stream"`
	Seq    int    `json:"seq"`
	Audio  []byte `json:"audio"`
}

// base64AudioPreRoll is the bug. Audio is stored as JSON lines (one record
// per frame, the samples a []byte, so base64), and the live captions of
// the recording as plain text on their own stream, for search. The audio
// has a pre-roll: the last frames before consent are written when the
// gate opens (R1: P7). No canary survives base64 (nor hex: the canary's
// letters z and q are no hex digit), and the captions, which carry
// canaries, hold only frames of the recording: the run is not vacuous.
type base64AudioPreRoll struct {
	*machineBot
	pre *preRoll
	mu  sync.Mutex
	seq int
}

// NewBase64AudioPreRoll builds the bot with base64 audio and a pre-roll.
func NewBase64AudioPreRoll(env *properties.Env) (properties.Bot, error) {
	mb, err := newMachineBot(env, flushHook(env), nil)
	if err != nil {
		return nil, err
	}
	return &base64AudioPreRoll{machineBot: mb, pre: newPreRoll(env.Streams)}, nil
}

func (b *base64AudioPreRoll) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		b.pre.keep(stream, payload)
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range append(b.pre.take(stream), payload) {
		b.seq++
		line, err := json.Marshal(audioRecord{Stream: stream, Seq: b.seq, Audio: p})
		if err != nil {
			return err
		}
		if _, err := b.env.Sink.Write(stream, append(line, '\n')); err != nil {
			return err
		}
	}
	_, err = b.env.Sink.Write(b.env.Streams, payload) // the caption of this frame
	return err
}

// packetSize is the storage SDK's packet: the media is stored as the
// packets it would be sent in.
const packetSize = 12

// packetizedPreRoll is the bug: the pre-roll again, in a bot whose storage
// writes every frame as packets of packetSize bytes, one Sink write each.
// A canary cut by a packet boundary is in no one write.
type packetizedPreRoll struct {
	*machineBot
	pre *preRoll
}

// NewPacketizedPreRoll builds the pre-roll bot that writes packets.
func NewPacketizedPreRoll(env *properties.Env) (properties.Bot, error) {
	mb, err := newMachineBot(env, flushHook(env), nil)
	if err != nil {
		return nil, err
	}
	return &packetizedPreRoll{machineBot: mb, pre: newPreRoll(env.Streams)}, nil
}

func writePackets(env *properties.Env, stream int, p []byte, size int) error {
	for len(p) > 0 {
		n := min(size, len(p))
		if _, err := env.Sink.Write(stream, p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

func (b *packetizedPreRoll) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		b.pre.keep(stream, payload)
		return err
	}
	defer lease.Release()
	for _, p := range append(b.pre.take(stream), payload) {
		if err := writePackets(b.env, stream, p, packetSize); err != nil {
			return err
		}
	}
	return nil
}
