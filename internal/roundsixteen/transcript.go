package roundsixteen

import (
	"bytes"
	"context"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// segmentFrames is how many frames' words make one transcript segment.
const segmentFrames = 2

// transcriberProcess runs one speech recognizer for the whole process
// ("a recognizer session costs money; we run one, and only while a
// recording runs"). Every call's media handler feeds it while some call
// records, and its segments are persisted, under a lease, into the
// transcript of the call that records. With one call, the recognizer
// hears that call only, from its gate's opening (which resets it) to its
// closing (which drops the unfinished segment). With two, the recording
// call's transcript carries the other call's words.
type transcriberProcess struct {
	mu        sync.Mutex // held while a frame is fed and a segment written
	recording *transcribedCall
	pending   map[int][][]byte // per stream: words not yet in a segment
}

// transcribedCall is a call with the Streams its transcript is written
// under (the recognizer's own, apart from the call's media handlers).
type transcribedCall struct {
	*call
	transcript []*fsm.Stream
}

func newTranscriberProcess() *transcriberProcess { return &transcriberProcess{} }

// newBot is the factory.
func (p *transcriberProcess) newBot(env *properties.Env) (properties.Bot, error) {
	tc := &transcribedCall{}
	c, err := newCall(env, callWiring{onGate: func(open bool) { p.gate(tc, open) }})
	if err != nil {
		return nil, err
	}
	tc.call = c
	for i := 0; i < env.Streams; i++ {
		tc.transcript = append(tc.transcript, c.m.Gate().NewStream())
	}
	return &transcriberBot{control: control{c}, p: p}, nil
}

// gate follows a call's gate: an opening makes the call the one the
// recognizer writes for, and starts afresh; its closing stops it and
// drops the unfinished segment.
func (p *transcriberProcess) gate(tc *transcribedCall, open bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case open:
		p.recording, p.pending = tc, nil
	case p.recording == tc:
		p.recording, p.pending = nil, nil
	}
}

type transcriberBot struct {
	control
	p *transcriberProcess
}

// Frame feeds the recognizer while the process records, and writes a
// segment into the recording call's transcript once it has enough words.
func (b *transcriberBot) Frame(_ context.Context, stream int, payload []byte) error {
	if _, err := b.c.stream(stream); err != nil {
		return err
	}
	p := b.p
	p.mu.Lock()
	defer p.mu.Unlock()
	rec := p.recording
	if rec == nil || stream >= len(rec.transcript) {
		return errNotOpen
	}
	lease, err := rec.transcript[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	if p.pending == nil {
		p.pending = make(map[int][][]byte)
	}
	p.pending[stream] = append(p.pending[stream], bytes.TrimSpace(payload))
	if len(p.pending[stream]) < segmentFrames {
		return nil
	}
	segment := append(bytes.Join(p.pending[stream], []byte(" ")), '\n')
	p.pending[stream] = nil
	_, err = rec.sink.Write(stream, segment)
	return err
}

// CallEnded ends the call's machine.
func (b *transcriberBot) CallEnded(ctx context.Context) error { return b.c.m.CallEnded(ctx) }

// jitterDepth is how many frames a jitter buffer holds before it lets the
// oldest go.
const jitterDepth = 2

// jitterProcess keeps the process's jitter buffers (frames held a frame's
// time so late packets can be put in order), one per key. Every frame is
// pushed before admission (a jitter buffer must see every packet); when a
// buffer is full, its oldest frame is written under the lease of the call
// whose frame filled it, or dropped if that call's gate is closed. A
// call's gate opening or closing empties its buffers: nothing held is
// ever persisted outside the recording it arrived in. keyedByCall: one
// buffer per call and stream (correct); otherwise one per stream number,
// which every call's stream with that number shares.
type jitterProcess struct {
	keyedByCall bool
	mu          sync.Mutex
	buffers     map[jitterKey][][]byte
}

type jitterKey struct {
	call   string
	stream int
}

func newJitterPerCallProcess() *jitterProcess   { return &jitterProcess{keyedByCall: true} }
func newJitterPerStreamProcess() *jitterProcess { return &jitterProcess{} }

func (p *jitterProcess) key(c *call, stream int) jitterKey {
	if p.keyedByCall {
		return jitterKey{c.id, stream}
	}
	return jitterKey{stream: stream}
}

// newBot is the factory.
func (p *jitterProcess) newBot(env *properties.Env) (properties.Bot, error) {
	var self *call
	c, err := newCall(env, callWiring{onGate: func(bool) { p.empty(self) }})
	if err != nil {
		return nil, err
	}
	self = c
	return &jitterBot{control: control{c}, p: p}, nil
}

// empty drops what the call's buffers hold.
func (p *jitterProcess) empty(c *call) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range c.streams {
		delete(p.buffers, p.key(c, i))
	}
}

type jitterBot struct {
	control
	p *jitterProcess
}

// Frame pushes payload into its buffer and, once the buffer is full,
// writes the oldest frame under the call's lease (or drops it).
func (b *jitterBot) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.c.stream(stream)
	if err != nil {
		return err
	}
	p := b.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.buffers == nil {
		p.buffers = make(map[jitterKey][][]byte)
	}
	k := p.key(b.c, stream)
	buf := append(p.buffers[k], append([]byte(nil), payload...))
	if len(buf) < jitterDepth {
		p.buffers[k] = buf
		return nil
	}
	oldest := buf[0]
	p.buffers[k] = buf[1:]
	lease, err := s.Acquire()
	if err != nil {
		return err // the oldest frame is dropped
	}
	defer lease.Release()
	_, err = b.c.sink.Write(stream, oldest)
	return err
}

// CallEnded ends the call's machine.
func (b *jitterBot) CallEnded(ctx context.Context) error { return b.c.m.CallEnded(ctx) }
