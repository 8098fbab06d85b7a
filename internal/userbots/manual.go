package userbots

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// A hand-rolled gate, the way a team porting the C# compliance sample
// writes it: an isRecording flag behind a reader/writer lock, one control
// operation at a time. manualBot is that port done right (it passes the
// suite: see Correct); the buggy bots embed it and change one method.

var (
	errCallOver  = errors.New("userbots: the call has ended")
	errNotActive = errors.New("userbots: not recording")
	errActive    = errors.New("userbots: already recording")
)

type manualBot struct {
	env *properties.Env
	ctl sync.Mutex // one control operation at a time; held during Graph requests

	mu    sync.RWMutex // Frame holds it for reading while it writes
	open  bool
	epoch int // bumped by every close: a reply from an older epoch opens nothing
	ended bool

	// Under ctl:
	active  bool   // recording requested and not yet reported ended
	pending string // clientContext of the attempt Graph left pending
	pendEp  int
	seq     int

	// callIDContext is the CallIDAsContext bug: every request's
	// clientContext is the call ID.
	callIDContext bool
}

func newManualBot(env *properties.Env) *manualBot { return &manualBot{env: env} }

// NewManual builds the correct hand-rolled bot.
func NewManual(env *properties.Env) (properties.Bot, error) { return newManualBot(env), nil }

func (b *manualBot) clientContext() string {
	if b.callIDContext {
		return b.env.CallID
	}
	b.seq++
	return fmt.Sprintf("%s-rec-%d", b.env.CallID, b.seq)
}

func (b *manualBot) currentEpoch() (int, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.ended {
		return 0, errCallOver
	}
	return b.epoch, nil
}

func (b *manualBot) openFor(epoch int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.epoch == epoch && !b.ended {
		b.open = true
	}
}

func (b *manualBot) close(end bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.open = false
	b.epoch++
	b.ended = b.ended || end
}

func (b *manualBot) GateOpen() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.open
}

func (b *manualBot) Frame(_ context.Context, stream int, payload []byte) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if !b.open {
		return errDropped
	}
	_, err := b.env.Sink.Write(stream, payload)
	return err
}

func (b *manualBot) Start(ctx context.Context) error {
	b.ctl.Lock()
	defer b.ctl.Unlock()
	epoch, err := b.currentEpoch()
	if err != nil {
		return err
	}
	if b.active {
		return errActive
	}
	cc := b.clientContext()
	op, err := b.env.Updater.UpdateRecordingStatus(ctx, b.env.CallID, graph.StatusRecording, cc)
	if err != nil {
		return err
	}
	b.active, b.pending, b.pendEp = true, cc, epoch
	return b.apply(op)
}

// apply applies Graph's outcome for the pending attempt (under ctl).
func (b *manualBot) apply(op graph.Operation) error {
	switch {
	case op.Status.Confirmed():
		b.pending = ""
		b.openFor(b.pendEp)
	case op.Status.Refused():
		b.pending, b.active = "", false
		return op.Err()
	}
	return nil
}

func (b *manualBot) OperationUpdate(_ context.Context, op graph.Operation) error {
	b.ctl.Lock()
	defer b.ctl.Unlock()
	if b.pending == "" || op.ClientContext != b.pending {
		return nil // stale: not the attempt we wait for
	}
	return b.apply(op)
}

func (b *manualBot) report(ctx context.Context, status graph.Status) error {
	b.close(false) // at once, even while another request is out
	b.ctl.Lock()
	defer b.ctl.Unlock()
	if _, err := b.currentEpoch(); err != nil {
		return err
	}
	if !b.active {
		return errNotActive
	}
	if err := b.env.Sink.Flush(); err != nil { // R2: the recording ends first
		return err
	}
	if _, err := b.env.Updater.UpdateRecordingStatus(ctx, b.env.CallID, status, b.clientContext()); err != nil {
		return err
	}
	b.active, b.pending = false, ""
	return nil
}

func (b *manualBot) Stop(ctx context.Context) error { return b.report(ctx, graph.StatusNotRecording) }
func (b *manualBot) Fail(ctx context.Context) error { return b.report(ctx, graph.StatusFailed) }

func (b *manualBot) CallEnded(context.Context) error {
	b.close(true)
	b.ctl.Lock()
	defer b.ctl.Unlock()
	b.active, b.pending = false, ""
	return b.env.Sink.Flush()
}
