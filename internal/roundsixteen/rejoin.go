package roundsixteen

import (
	"context"
	"fmt"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// A call ID names one call: Graph never gives two calls the same ID. A
// process that serves many calls may rely on that. The rows below keep
// the rule, and each relies on it in its own way.

// newRefuseRejoinProcess returns the factory of a registry that refuses
// to join a call it already serves ("a second join for a live call is a
// replayed webhook or a bug: fail loudly"), and takes a call out when it
// ends.
func newRefuseRejoinProcess() properties.Factory {
	reg := newRegistry()
	return func(env *properties.Env) (properties.Bot, error) {
		if old, err := reg.byID(env.CallID); err == nil && old.env != env {
			return nil, fmt.Errorf("roundsixteen: call %s is already served by this process (it has not ended): refusing a second join", env.CallID)
		}
		return registryFactory(reg, registryBot{})(env)
	}
}

// newIdempotentJoinProcess returns the factory of a registry whose join is
// idempotent ("Graph may deliver the incoming-call notification twice:
// the second join gets the call already served"): a join for a call ID
// the process serves returns that call's bot.
func newIdempotentJoinProcess() properties.Factory {
	reg := newRegistry()
	return func(env *properties.Env) (properties.Bot, error) {
		if _, err := reg.byID(env.CallID); err == nil {
			b := registryBot{id: env.CallID, reg: reg}
			return &b, nil
		}
		return registryFactory(reg, registryBot{})(env)
	}
}

// oneClientProcess builds its Graph once, as production code builds one
// graph.Client at startup and every call's machine sends through it (the
// call ID is in the request). In the suite the only Graph a factory gets
// is env.Updater, so the process keeps the first one it is handed.
type oneClientProcess struct {
	once   sync.Once
	client fsm.Updater
}

func newOneClientProcess() *oneClientProcess { return &oneClientProcess{} }

// newBot is the factory.
func (p *oneClientProcess) newBot(env *properties.Env) (properties.Bot, error) {
	p.once.Do(func() { p.client = env.Updater })
	c, err := newCall(env, callWiring{updater: p.client})
	if err != nil {
		return nil, err
	}
	return &limiterBot{control: control{c}}, nil
}

// endStopsProcess is a process that stops "the" recording when any call
// ends ("a call ended: close the recording file cleanly before anything
// else"): it keeps the call whose gate is open, and a call's CallEnded
// stops that call's recording (its Stop: gate closed, writes drained,
// hook, notRecording through that call's own Graph) before it ends its
// own machine. When another call ends, the recording call loses its
// recording: wrong for the product, and within the rule.
type endStopsProcess struct {
	mu        sync.Mutex
	recording *call
}

func newEndStopsProcess() *endStopsProcess { return &endStopsProcess{} }

// newBot is the factory.
func (p *endStopsProcess) newBot(env *properties.Env) (properties.Bot, error) {
	var self *call
	c, err := newCall(env, callWiring{onGate: func(open bool) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch {
		case open:
			p.recording = self
		case p.recording == self:
			p.recording = nil
		}
	}})
	if err != nil {
		return nil, err
	}
	self = c
	return &endStopsBot{limiterBot: limiterBot{control{c}}, p: p}, nil
}

type endStopsBot struct {
	limiterBot
	p *endStopsProcess
}

// CallEnded stops the process's recording, whichever call's it is, then
// ends this call.
func (b *endStopsBot) CallEnded(ctx context.Context) error {
	b.p.mu.Lock()
	rec := b.p.recording
	b.p.mu.Unlock()
	if rec != nil && rec != b.c {
		_ = rec.m.Stop(ctx) // a refused report leaves that machine in Stopping, gate closed
	}
	return b.c.m.CallEnded(ctx)
}

// scratchProcess keeps, for the media path, the call whose frame is being
// handled in a field of the process ("the handler sets the context, the
// encoder reads it"), under a lock each time, so the race detector sees
// nothing. A frame is admitted under its own call's lease (right), then
// encoded, then written to the storage of the call in the field: the
// right call unless another call's frame came in meanwhile.
type scratchProcess struct {
	mu  sync.Mutex
	cur *call
}

func newScratchProcess() *scratchProcess { return &scratchProcess{} }

// newBot is the factory.
func (p *scratchProcess) newBot(env *properties.Env) (properties.Bot, error) {
	c, err := newCall(env, callWiring{})
	if err != nil {
		return nil, err
	}
	return &scratchBot{limiterBot: limiterBot{control{c}}, p: p}, nil
}

type scratchBot struct {
	limiterBot
	p *scratchProcess
}

// Frame admits payload under the call's lease and writes it to the call
// in the process's field.
func (b *scratchBot) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.c.stream(stream)
	if err != nil {
		return err
	}
	b.p.mu.Lock()
	b.p.cur = b.c
	b.p.mu.Unlock()
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	encoded := encodeFrame(payload)
	b.p.mu.Lock()
	to := b.p.cur
	b.p.mu.Unlock()
	_, err = to.sink.Write(stream, encoded)
	return err
}

// encodeFrame is the media path's work between admission and the write:
// the frame framed as one line, as a storage format would.
func encodeFrame(p []byte) []byte {
	out := make([]byte, 0, len(p)+1)
	out = append(out, p...)
	if len(out) == 0 || out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return out
}
