package roundsixteen

import (
	"context"
	"errors"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// errRefusedAtJoin is what a user's Start gets once Graph refused the
// join's request for good.
var errRefusedAtJoin = errors.New("roundsixteen: Graph refused to record this call when it joined (a failed operation, 8506 or a call that is gone): not asking again")

// refusedForGood reports an answer after which the call is not asked
// again: a failed operation, or a 4xx other than 429 (8506, a call that
// is gone).
func refusedForGood(err error) bool {
	var oe *graph.OperationError
	var ge *graph.Error
	return errors.As(err, &oe) || errors.As(err, &ge) && ge.StatusCode >= 400 && ge.StatusCode < 500 && ge.StatusCode != 429
}

// policyProcess is a compliance-recording bot: a tenant policy says every
// call of these users is recorded, so the bot asks Graph to record each
// call by itself as it joins (a goroutine, since the join must be
// answered at once), once; a user's Start asks again. That is within the
// rule: Graph is asked for every call, and each call is persisted only
// once its own recording is confirmed. sharedOutput adds
// OutputChosenAtJoin's mistake: one storage output for the process,
// opened when a call joins, which every call's media handler writes to
// under its own call's lease, so the first call's media land in the
// recording of the call that joined last.
type policyProcess struct {
	sharedOutput bool
	mu           sync.Mutex
	out          *properties.Sink
}

func newPolicyProcess() *policyProcess             { return &policyProcess{} }
func newPolicySharedOutputProcess() *policyProcess { return &policyProcess{sharedOutput: true} }

// newBot is the factory: it joins the call and starts recording it.
func (p *policyProcess) newBot(env *properties.Env) (properties.Bot, error) {
	c, err := newCall(env, callWiring{})
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.out = env.Sink
	p.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	b := &policyBot{limiterBot: limiterBot{control{c}}, p: p, cancel: cancel}
	b.auto.Add(1)
	go func() {
		defer b.auto.Done()
		_, err := c.m.Start(ctx)
		b.joinErr = err // read after auto.Wait
	}()
	return b, nil
}

type policyBot struct {
	limiterBot
	p      *policyProcess
	cancel context.CancelFunc
	auto   sync.WaitGroup
	// joinErr is the join's Start's answer (read after auto.Wait).
	joinErr error
}

// Frame persists payload under the call's lease, to the call's own Sink
// or (sharedOutput) to the process's output.
func (b *policyBot) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.c.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	out := b.c.sink
	if b.p.sharedOutput {
		b.p.mu.Lock()
		out = b.p.out
		b.p.mu.Unlock()
	}
	_, err = out.Write(stream, payload)
	return err
}

// settleJoin waits for the join's Start, so that its request never
// follows a user's Start: Graph's refusal of one is the answer to both.
// (The suite caught the first version, whose join Start, queued behind a
// user's Start that Graph refused, asked again.)
func (b *policyBot) settleJoin() { b.auto.Wait() }

// endJoin gives up the join's Start and runs end (Stop, Fail, CallEnded:
// each closes the gate at once and supersedes a Start in flight) before
// it waits for the join's Start to return. (The suite caught the second
// version, which waited for the join before it stopped: a completed for
// the join's request opened the recording after the user said stop.)
func (b *policyBot) endJoin(end func() error) error {
	b.cancel() // a join Start still waiting for the machine gives up
	err := end()
	b.auto.Wait()
	return err
}

// Start waits for the join's Start, then asks Graph to record unless the
// call records already or Graph refused the join's request for good (a
// refusal is the policy's answer: the bot does not insist).
func (b *policyBot) Start(ctx context.Context) error {
	b.settleJoin()
	if refusedForGood(b.joinErr) {
		return errRefusedAtJoin
	}
	if b.c.m.Gate().IsOpen() {
		return nil
	}
	return b.control.Start(ctx)
}

// Stop gives up the join's Start and stops the recording.
func (b *policyBot) Stop(ctx context.Context) error {
	return b.endJoin(func() error { return b.c.m.Stop(ctx) })
}

// Fail gives up the join's Start and fails the recording.
func (b *policyBot) Fail(ctx context.Context) error {
	return b.endJoin(func() error { return b.c.m.Fail(ctx) })
}

// CallEnded gives up the join's Start and ends the call.
func (b *policyBot) CallEnded(ctx context.Context) error {
	return b.endJoin(func() error { return b.c.m.CallEnded(ctx) })
}

// Close gives up the join's Start if it still runs (the process lets the
// call go).
func (b *policyBot) Close(context.Context) error {
	return b.endJoin(func() error { return nil })
}

// mixProcess is policyProcess with a meeting mix: every call's media,
// mixed, stored with the recording of the call that joined last (the
// meeting's "main" call, in the team's eyes). A call's media handler
// writes each frame to its own Sink under its own lease (right), and to
// the mix under the lease of the call the mix belongs to ("the mix is
// persisted into that call's recording, so that call's lease covers
// it"): a call's media reach another call's recording whether or not
// its own recording was confirmed.
type mixProcess struct {
	mu   sync.Mutex
	into *mixCall
}

// mixCall is a call with the Streams the mix is written under.
type mixCall struct {
	*call
	mix []*fsm.Stream
}

func newMixProcess() *mixProcess { return &mixProcess{} }

// newBot is the factory: it joins the call, makes it the mix's call, and
// starts recording it.
func (p *mixProcess) newBot(env *properties.Env) (properties.Bot, error) {
	bot, err := newPolicyProcess().newBot(env)
	if err != nil {
		return nil, err
	}
	pb := bot.(*policyBot)
	mc := &mixCall{call: pb.c}
	for i := 0; i < env.Streams; i++ {
		mc.mix = append(mc.mix, pb.c.m.Gate().NewStream())
	}
	p.mu.Lock()
	p.into = mc
	p.mu.Unlock()
	return &mixBot{policyBot: pb, p: p}, nil
}

type mixBot struct {
	*policyBot
	p *mixProcess
}

// Frame writes payload to the call's own Sink under its lease, then to
// the mix under the mix call's lease.
func (b *mixBot) Frame(ctx context.Context, stream int, payload []byte) error {
	own := b.policyBot.Frame(ctx, stream, payload)
	b.p.mu.Lock()
	into := b.p.into
	b.p.mu.Unlock()
	if stream < 0 || stream >= len(into.mix) {
		return own
	}
	lease, err := into.mix[stream].Acquire()
	if err != nil {
		return errors.Join(own, err)
	}
	defer lease.Release()
	_, err = into.sink.Write(stream, payload)
	return errors.Join(own, err)
}
