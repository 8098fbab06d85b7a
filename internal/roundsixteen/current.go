package roundsixteen

import (
	"context"
	"io"
	"sync"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// currentProcess keeps "the call" in a process-wide variable, set when
// the bot joins a call, as the samples keep their call in a static field:
// every handler, whichever call it was registered for, works on the
// current call's machine, streams and storage. With one call that is the
// call itself; once a second call joins, the first call's Start records
// the second call, and its media go to the second call's storage.
type currentProcess struct {
	mu      sync.Mutex
	current *call
}

func newCurrentProcess() *currentProcess { return &currentProcess{} }

// newBot is the factory: joining a call makes it the current one.
func (p *currentProcess) newBot(env *properties.Env) (properties.Bot, error) {
	c, err := newCall(env, callWiring{})
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.current = c
	p.mu.Unlock()
	return &currentBot{p: p}, nil
}

func (p *currentProcess) call() *call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.current
}

// currentBot is a call's handlers, each of which looks up the process's
// current call.
type currentBot struct{ p *currentProcess }

// Start asks Graph to record the current call.
func (b *currentBot) Start(ctx context.Context) error { return control{b.p.call()}.Start(ctx) }

// Stop stops the current call's recording.
func (b *currentBot) Stop(ctx context.Context) error { return b.p.call().m.Stop(ctx) }

// Fail fails the current call's recording.
func (b *currentBot) Fail(ctx context.Context) error { return b.p.call().m.Fail(ctx) }

// OperationUpdate feeds the update to the current call's machine.
func (b *currentBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return b.p.call().m.OperationUpdate(ctx, op)
}

// CallEnded ends the current call.
func (b *currentBot) CallEnded(ctx context.Context) error { return b.p.call().m.CallEnded(ctx) }

// Frame persists payload on the current call, under its gate.
func (b *currentBot) Frame(_ context.Context, stream int, payload []byte) error {
	return b.p.call().write(stream, payload)
}

// outputProcess keeps the machine per call, right, but the storage
// writer per process: one io.Writer-per-stream set (say, the storage
// client's upload session) chosen when a call joins (atJoin) or when a
// call starts recording (!atJoin), which every call's media handler
// writes to, each under its own call's lease. With one call the writer is
// that call's storage.
type outputProcess struct {
	atJoin bool
	mu     sync.Mutex
	out    *properties.Sink
}

func newOutputAtJoinProcess() *outputProcess  { return &outputProcess{atJoin: true} }
func newOutputAtStartProcess() *outputProcess { return &outputProcess{} }

// newBot is the factory.
func (p *outputProcess) newBot(env *properties.Env) (properties.Bot, error) {
	c, err := newCall(env, callWiring{})
	if err != nil {
		return nil, err
	}
	if p.atJoin {
		p.choose(env.Sink)
	}
	return &outputBot{control: control{c}, p: p}, nil
}

func (p *outputProcess) choose(s *properties.Sink) {
	p.mu.Lock()
	p.out = s
	p.mu.Unlock()
}

// writer returns the output's stream, or nil before any output was
// chosen.
func (p *outputProcess) writer(stream int) io.Writer {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out == nil {
		return nil
	}
	return p.out.Stream(stream)
}

type outputBot struct {
	control
	p *outputProcess
}

// Start chooses the process's output (when it is chosen at Start), then
// asks Graph to record.
func (b *outputBot) Start(ctx context.Context) error {
	if !b.p.atJoin {
		b.p.choose(b.c.sink)
	}
	return b.control.Start(ctx)
}

// CallEnded ends the call's machine.
func (b *outputBot) CallEnded(ctx context.Context) error { return b.c.m.CallEnded(ctx) }

// Frame persists payload to the process's output, under this call's
// lease.
func (b *outputBot) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.c.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	w := b.p.writer(stream)
	if w == nil {
		return errNotOpen
	}
	_, err = w.Write(payload)
	return err
}
