package userbots

import (
	"context"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// httpOKIsConsent is the bug. Ported from C# code that did
// `if (response.IsSuccessStatusCode) isRecording = true;`: a 200 reply is
// taken as consent, whatever the operation's status says. notStarted and
// running come back as 200 too (R1, P1, P4).
type httpOKIsConsent struct{ *manualBot }

// NewHTTPOKIsConsent builds the bot that opens on any 200 reply.
func NewHTTPOKIsConsent(env *properties.Env) (properties.Bot, error) {
	return &httpOKIsConsent{newManualBot(env)}, nil
}

func (b *httpOKIsConsent) Start(ctx context.Context) error {
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
		return err // not 2xx
	}
	b.active = true
	b.openFor(epoch) // 200 OK: we are recording
	if op.Status.Pending() {
		b.pending, b.pendEp = cc, epoch // the notification will confirm it later
	}
	return nil
}

// resumeOnStopError is the bug. When notRecording fails (throttled, a
// timeout), the team reasons that Graph's indicator still says
// "recording", so the file should keep matching it: the gate opens again
// and frames are written after a notRecording was sent (R1/R2, P1).
type resumeOnStopError struct{ *manualBot }

// NewResumeOnStopError builds the bot that resumes when its report fails.
func NewResumeOnStopError(env *properties.Env) (properties.Bot, error) {
	return &resumeOnStopError{newManualBot(env)}, nil
}

func (b *resumeOnStopError) Stop(ctx context.Context) error {
	epoch, _ := b.currentEpoch()
	err := b.report(ctx, graph.StatusNotRecording)
	if err != nil && err != errNotActive && err != errCallOver {
		b.openFor(epoch + 1) // still recording as far as Graph knows
	}
	return err
}

// anyOwnContext is the bug. The notification handler checks that a
// completed operation is "ours" by looking its clientContext up in the set
// of every clientContext the bot ever sent (a C# HashSet kept for
// logging), not by comparing it with the one attempt now pending. A
// completed for an attempt the bot already reported ended (Graph's
// notification was late) opens the gate again after notRecording (R1, P1,
// P9).
type anyOwnContext struct {
	*manualBot
	sent map[string]bool // under ctl
}

// NewAnyOwnContext builds the bot that accepts any of its own contexts.
func NewAnyOwnContext(env *properties.Env) (properties.Bot, error) {
	return &anyOwnContext{manualBot: newManualBot(env), sent: map[string]bool{}}, nil
}

func (b *anyOwnContext) Start(ctx context.Context) error {
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
	b.sent[cc] = true
	op, err := b.env.Updater.UpdateRecordingStatus(ctx, b.env.CallID, graph.StatusRecording, cc)
	if err != nil {
		return err
	}
	b.active, b.pending, b.pendEp = true, cc, epoch
	return b.apply(op)
}

func (b *anyOwnContext) OperationUpdate(_ context.Context, op graph.Operation) error {
	b.ctl.Lock()
	defer b.ctl.Unlock()
	if !b.sent[op.ClientContext] {
		return nil // not ours
	}
	epoch, err := b.currentEpoch()
	if err != nil {
		return err
	}
	switch {
	case op.Status.Confirmed():
		b.active, b.pending = true, ""
		b.openFor(epoch)
	case op.Status.Refused():
		b.active, b.pending = false, ""
	}
	return nil
}

// replyOutlivesEnd is the bug. Start opens the gate whenever Graph's reply
// says completed. The team dropped the epoch check ("Start and Stop are
// serialised by ctl, so nothing can happen in between"), but Stop and
// CallEnded close the gate before they wait for ctl, as they must: a
// completed that was on its way when the call ended, or when the bot was
// told to stop, reopens the gate after the close (R1, P1, P5, P9).
type replyOutlivesEnd struct{ *manualBot }

// NewReplyOutlivesEnd builds the bot whose late completed reopens the gate.
func NewReplyOutlivesEnd(env *properties.Env) (properties.Bot, error) {
	return &replyOutlivesEnd{newManualBot(env)}, nil
}

func (b *replyOutlivesEnd) Start(ctx context.Context) error {
	b.ctl.Lock()
	defer b.ctl.Unlock()
	if _, err := b.currentEpoch(); err != nil {
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
	b.active = true
	switch {
	case op.Status.Confirmed():
		b.mu.Lock()
		b.open = true
		b.mu.Unlock()
	case op.Status.Pending():
		b.mu.RLock() // the epoch is read safely; the bug is what is not checked
		ep := b.epoch
		b.mu.RUnlock()
		b.pending, b.pendEp = cc, ep
	default:
		b.active = false
		return op.Err()
	}
	return nil
}
