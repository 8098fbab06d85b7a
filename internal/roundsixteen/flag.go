package roundsixteen

import (
	"context"
	"sync"

	"github.com/recgate/recgate/properties"
)

// flagProcess is the Microsoft samples' static recording status, kept by
// a team that added recgate to the control path only: one "recording"
// flag for the whole process, set when a call's gate opens and cleared
// when a gate closes. The media path checks the flag and writes under a
// process-wide read lock that the gate's closing takes for writing, so
// with one call the flag is an exact copy of the gate: no write after the
// close, none before the open. With two calls, every call's frames are
// persisted while any call records.
type flagProcess struct {
	mu        sync.RWMutex // writes hold it for reading; a gate change for writing
	recording bool
}

func newFlagProcess() *flagProcess { return &flagProcess{} }

// newBot is the factory: every call of the process shares the flag.
func (p *flagProcess) newBot(env *properties.Env) (properties.Bot, error) {
	c, err := newCall(env, callWiring{onGate: func(open bool) {
		p.mu.Lock() // waits for the writes under way, as a lease drain does
		p.recording = open
		p.mu.Unlock()
	}})
	if err != nil {
		return nil, err
	}
	return &flagBot{control: control{c}, p: p}, nil
}

type flagBot struct {
	control
	p *flagProcess
}

// Frame persists payload while the process records (any call's).
func (b *flagBot) Frame(_ context.Context, stream int, payload []byte) error {
	if _, err := b.c.stream(stream); err != nil {
		return err
	}
	b.p.mu.RLock()
	defer b.p.mu.RUnlock()
	if !b.p.recording {
		return errNotOpen
	}
	_, err := b.c.sink.Write(stream, payload)
	return err
}

// CallEnded ends the call's machine.
func (b *flagBot) CallEnded(ctx context.Context) error { return b.c.m.CallEnded(ctx) }
