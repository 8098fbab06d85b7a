package roundsixteen

import (
	"context"
	"fmt"
	"sync"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// registry is the process's calls by call ID, as a bot that serves many
// calls keeps them: the webhook and the media platform name the call, and
// the handler looks it up.
type registry struct {
	mu    sync.Mutex
	calls map[string]*call
	// lastStarted is the call most recently asked to Start (kept by the
	// bot that routes media to it).
	lastStarted *call
}

func newRegistry() *registry { return &registry{calls: make(map[string]*call)} }

// add registers c under its call ID (a later call with the same ID, a
// rejoin, replaces it).
func (r *registry) add(c *call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[c.id] = c
}

// byID returns the call with that ID.
func (r *registry) byID(id string) (*call, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.calls[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", errNoSuchBot, id)
	}
	return c, nil
}

// remove takes c out of the registry, if it is still the call under its
// ID.
func (r *registry) remove(c *call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls[c.id] == c {
		delete(r.calls, c.id)
	}
}

// registryBot is a call's handlers in a process with a registry: each
// looks its call up by the call's own ID, the ID the webhook or the media
// socket names, as the correct bot does. The buggy bots change one
// lookup.
type registryBot struct {
	id  string
	reg *registry
	// mediaToLastStarted: frames go to the call last asked to Start (the
	// media socket's call taken for "the recording").
	mediaToLastStarted bool
	// endFirstInMap: CallEnded ends the first call the registry's range
	// yields (the termination's call ID lost in parsing).
	endFirstInMap bool
}

// newRegistryProcess returns the factory of the correct registry bot.
func newRegistryProcess() properties.Factory { return registryFactory(newRegistry(), registryBot{}) }

// newLastStartedProcess returns the factory of the bot that routes media
// to the call last started.
func newLastStartedProcess() properties.Factory {
	return registryFactory(newRegistry(), registryBot{mediaToLastStarted: true})
}

// newFirstInMapProcess returns the factory of the bot whose CallEnded
// ends the first call in the registry.
func newFirstInMapProcess() properties.Factory {
	return registryFactory(newRegistry(), registryBot{endFirstInMap: true})
}

func registryFactory(reg *registry, shape registryBot) properties.Factory {
	return func(env *properties.Env) (properties.Bot, error) {
		c, err := newCall(env, callWiring{})
		if err != nil {
			return nil, err
		}
		reg.add(c)
		b := shape
		b.id, b.reg = env.CallID, reg
		return &b, nil
	}
}

func (b *registryBot) self() (*call, error) { return b.reg.byID(b.id) }

// Start asks Graph to record the call.
func (b *registryBot) Start(ctx context.Context) error {
	c, err := b.self()
	if err != nil {
		return err
	}
	b.reg.mu.Lock()
	b.reg.lastStarted = c
	b.reg.mu.Unlock()
	return control{c}.Start(ctx)
}

// Stop ends the call's recording.
func (b *registryBot) Stop(ctx context.Context) error {
	c, err := b.self()
	if err != nil {
		return err
	}
	return c.m.Stop(ctx)
}

// Fail ends the call's recording with failed.
func (b *registryBot) Fail(ctx context.Context) error {
	c, err := b.self()
	if err != nil {
		return err
	}
	return c.m.Fail(ctx)
}

// OperationUpdate feeds Graph's update to the call's machine.
func (b *registryBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	c, err := b.self()
	if err != nil {
		return err
	}
	return c.m.OperationUpdate(ctx, op)
}

// CallEnded ends the call and takes it out of the registry.
func (b *registryBot) CallEnded(ctx context.Context) error {
	c, err := b.self()
	if b.endFirstInMap {
		c, err = b.firstInMap()
	}
	if err != nil {
		return err
	}
	defer b.reg.remove(c)
	return c.m.CallEnded(ctx)
}

// firstInMap is the lookup of a termination handler that lost the call
// ID: "the" call, which with one call per process is right.
func (b *registryBot) firstInMap() (*call, error) {
	b.reg.mu.Lock()
	defer b.reg.mu.Unlock()
	for _, c := range b.reg.calls {
		return c, nil
	}
	return nil, fmt.Errorf("%w: no call at all", errNoSuchBot)
}

// Frame persists payload on the call's stream, under the call's lease.
func (b *registryBot) Frame(_ context.Context, stream int, payload []byte) error {
	c, err := b.self()
	if err != nil {
		return err
	}
	if b.mediaToLastStarted {
		b.reg.mu.Lock()
		if b.reg.lastStarted != nil {
			c = b.reg.lastStarted
		}
		b.reg.mu.Unlock()
	}
	return c.write(stream, payload)
}

// GateOpen reports the gate of the call's own machine.
func (b *registryBot) GateOpen() bool {
	c, err := b.self()
	if err != nil {
		return false
	}
	return c.m.Gate().IsOpen()
}
