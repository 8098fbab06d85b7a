package buggybots

import (
	"context"
	"fmt"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// Hand-rolled gates that open when they should not.

// optimisticOpen is the bug. The updateRecordingStatus round-trip takes a
// few hundred milliseconds and the meeting's first words were missing from
// recordings, so the team marks the bot recording as it sends recording
// ("Graph says yes to a compliance bot; if it says no we close again").
// Frames that arrive while the request is in flight are persisted before
// any completed reply (P1, P7). The bot does not report its gate, so only
// frames that arrive during the request show it.
type optimisticOpen struct{ handRolled }

// NewOptimisticOpen builds the bot that opens before Graph's reply.
func NewOptimisticOpen(env *properties.Env) (properties.Bot, error) {
	return &optimisticOpen{handRolled{env: env}}, nil
}

func (b *optimisticOpen) Start(ctx context.Context) error {
	b.ctl.Lock()
	defer b.ctl.Unlock()
	epoch, err := b.snapshot()
	if err != nil {
		return err
	}
	if b.active {
		return errRecording
	}
	cc := b.clientContext()
	b.openFor(epoch) // don't lose the first words
	op, err := b.env.Updater.UpdateRecordingStatus(ctx, b.env.CallID, graph.StatusRecording, cc)
	if err != nil || !op.Status.Confirmed() {
		b.close(false) // refused, or still pending: wait for the notification
		epoch++        // the epoch after our own close, in which the notification may open
	}
	if err != nil {
		return err
	}
	b.active, b.pending, b.pendEp = true, cc, epoch
	return b.confirm(op)
}

// OperationUpdate is done right: it matches the pending attempt.
func (b *optimisticOpen) OperationUpdate(_ context.Context, op graph.Operation) error {
	b.ctl.Lock()
	defer b.ctl.Unlock()
	if b.pending == "" || op.ClientContext != b.pending {
		return fmt.Errorf("buggybots: update for %q does not match the pending attempt", op.ClientContext)
	}
	return b.confirm(op)
}

// staleUpdateOpens is the bug. Start is right, but the notification
// handler trusts any completed operation for the call: "Graph only
// notifies us about our own calls". A late or replayed notification for an
// earlier attempt (or a forged one: anyone can POST to the callback URL)
// opens the gate with no completed reply to the latest recording request
// (P1, P4, P7; P8 where notifications are authenticated).
type staleUpdateOpens struct{ handRolled }

// NewStaleUpdateOpens builds the bot that opens on any completed update.
func NewStaleUpdateOpens(env *properties.Env) (properties.Bot, error) {
	return &staleUpdateOpens{handRolled{env: env}}, nil
}

func (b *staleUpdateOpens) Start(ctx context.Context) error { return b.startChecked(ctx) }

func (b *staleUpdateOpens) OperationUpdate(_ context.Context, op graph.Operation) error {
	b.ctl.Lock()
	defer b.ctl.Unlock()
	epoch, err := b.snapshot()
	if err != nil {
		return err
	}
	b.pendEp = epoch
	return b.confirm(op)
}
