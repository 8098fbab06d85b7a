package roundfour

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// Bots that serve more than one call in one process. The suite's Env is
// one call; a second call here is the bot's own, confirmed by a Graph of
// its own (alwaysConfirms).

// registryBot keeps its machines in an fsm.Registry, as README says a bot
// with many calls should, and looks a call up by ID on every event. The
// registry forgets a call once it ends.
type registryBot struct {
	env *properties.Env
	reg *fsm.Registry
	// getOrCreate is the RegistryRecreatesEndedCall bug.
	getOrCreate bool

	mu      sync.Mutex
	streams map[*fsm.Machine][]*fsm.Stream
}

func newRegistryBot(env *properties.Env, getOrCreate bool) (*registryBot, error) {
	b := &registryBot{env: env, getOrCreate: getOrCreate, streams: make(map[*fsm.Machine][]*fsm.Stream)}
	reg, err := fsm.NewRegistry(func(callID string) (*fsm.Machine, error) {
		return fsm.New(callID, env.Updater, fsm.WithRecordingEndedHook(sinkFlushHook(env.Sink)), reportGate(env.GateOpened))
	})
	if err != nil {
		return nil, err
	}
	b.reg = reg
	// The bot joins the call: its machine is created now.
	if _, err := reg.Create(env.CallID); err != nil {
		return nil, err
	}
	return b, nil
}

// NewRegistryRouted builds the correct registry bot: a call that is no
// longer in the registry has ended, and its events are dropped.
func NewRegistryRouted(env *properties.Env) (properties.Bot, error) {
	return newRegistryBot(env, false)
}

// NewRegistryRecreatesEndedCall builds the bot whose lookup is
// get-or-create.
//
// The mistake: media and control events can reach the bot before the join
// completes (Teams delivers the first audio buffers and the callback in
// either order), so the team made the lookup "get, or create if missing".
// The registry forgets a call once it ends; the next event for that call
// (a late Start from the compliance policy, a reconnect) creates a fresh
// machine in NotRecording, which asks Graph to record a call that is over.
func NewRegistryRecreatesEndedCall(env *properties.Env) (properties.Bot, error) {
	return newRegistryBot(env, true)
}

// machine returns the call's machine and its streams.
func (b *registryBot) machine() (*fsm.Machine, []*fsm.Stream, error) {
	m, ok := b.reg.Get(b.env.CallID)
	if !ok {
		if !b.getOrCreate {
			return nil, nil, errCallGone
		}
		var err error
		if m, err = b.reg.Create(b.env.CallID); err != nil {
			return nil, nil, err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.streams[m]
	if !ok {
		for i := 0; i < b.env.Streams; i++ {
			s = append(s, m.Gate().NewStream())
		}
		b.streams[m] = s
	}
	return m, s, nil
}

func (b *registryBot) Start(ctx context.Context) error {
	m, _, err := b.machine()
	if err != nil {
		return err
	}
	_, err = m.Start(ctx)
	return err
}

func (b *registryBot) Stop(ctx context.Context) error {
	m, _, err := b.machine()
	if err != nil {
		return err
	}
	return m.Stop(ctx)
}

func (b *registryBot) Fail(ctx context.Context) error {
	m, _, err := b.machine()
	if err != nil {
		return err
	}
	return m.Fail(ctx)
}

// OperationUpdate goes through the registry, as a notification from the
// callback handler would.
func (b *registryBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return b.reg.Notify(ctx, graph.Notification{Kind: graph.NotificationOperation, CallID: b.env.CallID, Operation: op})
}

func (b *registryBot) CallEnded(ctx context.Context) error {
	m, ok := b.reg.Get(b.env.CallID)
	if !ok {
		return errCallGone
	}
	return m.CallEnded(ctx)
}

func (b *registryBot) Frame(_ context.Context, stream int, payload []byte) error {
	_, streams, err := b.machine()
	if err != nil {
		return err
	}
	if stream < 0 || stream >= len(streams) {
		return fmt.Errorf("roundfour: no stream %d", stream)
	}
	lease, err := streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = b.env.Sink.Write(stream, payload)
	return err
}

// alwaysConfirms is the other call's Graph: a meeting whose participants
// consented long ago, whose every request Graph completes.
func alwaysConfirms(_ context.Context, _ string, _ graph.Status, cc string) (graph.Operation, error) {
	return graph.Operation{ODataType: graph.OperationODataType, ID: "op-" + cc, ClientContext: cc, Status: graph.OperationCompleted}, nil
}

// otherCallID is the second call the bot serves.
const otherCallID = "b7c0f5de-2f4e-4a53-9a30-0d3c2c5b9a11"

// msiBase is where the media platform starts numbering a call's media
// sources (MSIs). Every call numbers its own from there.
const msiBase = 1000

// route is where one media source's frames go: the lease holder of its
// call's gate and its call's storage.
type route struct {
	call   string
	stream *fsm.Stream
	w      io.Writer
}

type routeKey struct {
	call string
	msi  uint32
}

// twoCallBot serves the suite's call and one other, routing each frame by
// its media source ID to the gate and the storage of its call.
type twoCallBot struct {
	*fsmBot
	other *fsm.Machine

	mu sync.RWMutex
	// byMSI is the CrossCallGate bug: routes keyed by MSI alone.
	byMSI map[uint32]route
	// byKey is the right key: call and MSI.
	byKey map[routeKey]route
	keyed bool
	// otherStorage is the other call's recording.
	otherStorage io.Writer
}

// newTwoCallBot joins both calls. keyed picks the right routing key;
// otherStorage is the other call's recording.
func newTwoCallBot(c call, keyed bool, otherStorage io.Writer) (*twoCallBot, error) {
	fb, err := newFSMBot(c, sinkFlushHook(c.sink), nil)
	if err != nil {
		return nil, err
	}
	other, err := fsm.New(otherCallID, fsm.UpdaterFunc(alwaysConfirms))
	if err != nil {
		return nil, err
	}
	b := &twoCallBot{fsmBot: fb, other: other, keyed: keyed, otherStorage: otherStorage,
		byMSI: make(map[uint32]route), byKey: make(map[routeKey]route)}
	// The suite's call: one media source per stream.
	for i, s := range fb.streams {
		b.add(c.id, uint32(msiBase+i), route{call: c.id, stream: s, w: streamOf{c.sink, i}})
	}
	// The other call joined later, with one participant; it is recording.
	b.add(otherCallID, msiBase, route{call: otherCallID, stream: other.Gate().NewStream(), w: otherStorage})
	if _, err := other.Start(context.Background()); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *twoCallBot) add(call string, msi uint32, r route) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.byMSI[msi] = r
	b.byKey[routeKey{call, msi}] = r
}

// NewTwoCallsKeyed builds the correct two-call bot: routes keyed by call
// and MSI.
func NewTwoCallsKeyed(env *properties.Env) (properties.Bot, error) {
	return newTwoCallBot(callOf(env), true, &bytes.Buffer{})
}

// NewCrossCallGate builds the bot whose routes are keyed by MSI alone.
//
// The mistake: the media platform hands the bot audio buffers tagged with
// the source's MSI, and the team keyed its routing table by MSI, which
// looked unique in single-call testing. MSIs are unique only within a
// call: when the second call joined, its first participant's route
// replaced the suite's call's stream 0. From then on that stream's frames
// take a lease on the other call's gate, which is open (that meeting
// consented), and are written to the other call's storage. Here the
// team's test hands every storage to env.Sink.
func NewCrossCallGate(env *properties.Env) (properties.Bot, error) {
	return newTwoCallBot(callOf(env), false, env.Sink.Stream(env.Streams))
}

// NewCrossCallGateOwnStorage is the same bot with the other call's storage
// kept apart from env.Sink (the team's test gives the suite only the call
// under test's storage).
func NewCrossCallGateOwnStorage(env *properties.Env) (properties.Bot, error) {
	return newTwoCallBot(callOf(env), false, &bytes.Buffer{})
}

func (b *twoCallBot) Frame(_ context.Context, stream int, payload []byte) error {
	msi := uint32(msiBase + stream)
	b.mu.RLock()
	r, ok := b.byKey[routeKey{b.c.id, msi}]
	if !b.keyed {
		r, ok = b.byMSI[msi]
	}
	b.mu.RUnlock()
	if !ok {
		return fmt.Errorf("roundfour: no route for MSI %d", msi)
	}
	lease, err := r.stream.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = r.w.Write(payload)
	return err
}

// Close ends the other call too.
func (b *twoCallBot) Close(ctx context.Context) error { return b.other.CallEnded(ctx) }
