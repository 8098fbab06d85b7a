package roundsixteen

import (
	"context"
	"fmt"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// graphSlots is how many Graph requests the process lets be in flight at
// once.
const graphSlots = 4

// limiterProcess shares what a process may share on the Graph side: a
// limit on the requests in flight for all its calls (Graph throttles per
// application). It does not share the Graph itself: in production one
// graph.Client serves every call (the call ID is in the URL), but in the
// suite each call's Graph is the Updater of the Env the factory got for
// that call, so each call's requests go through its own env.Updater,
// behind the process's limit.
type limiterProcess struct{ slots chan struct{} }

func newLimiterProcess() *limiterProcess {
	return &limiterProcess{slots: make(chan struct{}, graphSlots)}
}

// limitedUpdater is one call's Graph behind the process's limit.
type limitedUpdater struct {
	p    *limiterProcess
	next *properties.Updater
}

// UpdateRecordingStatus waits for a slot (or the caller's context), then
// sends the request through the call's own Graph, on the caller's context.
func (u limitedUpdater) UpdateRecordingStatus(ctx context.Context, callID string, status graph.Status, clientContext string) (graph.Operation, error) {
	select {
	case u.p.slots <- struct{}{}:
	case <-ctx.Done():
		return graph.Operation{}, fmt.Errorf("roundsixteen: waiting for a Graph slot for %s: %w", status, ctx.Err())
	}
	defer func() { <-u.p.slots }()
	return u.next.UpdateRecordingStatus(ctx, callID, status, clientContext)
}

// newBot is the factory.
func (p *limiterProcess) newBot(env *properties.Env) (properties.Bot, error) {
	c, err := newCall(env, callWiring{updater: limitedUpdater{p: p, next: env.Updater}})
	if err != nil {
		return nil, err
	}
	return &limiterBot{control: control{c}}, nil
}

type limiterBot struct{ control }

// Frame persists payload under the call's lease.
func (b *limiterBot) Frame(_ context.Context, stream int, payload []byte) error {
	return b.c.write(stream, payload)
}

// CallEnded ends the call's machine.
func (b *limiterBot) CallEnded(ctx context.Context) error { return b.c.m.CallEnded(ctx) }
