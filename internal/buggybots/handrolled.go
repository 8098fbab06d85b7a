package buggybots

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// Hand-rolled gates.
//
// Some teams keep their own recording flag instead of fsm ("it's one
// bool"). handRolled is the part such a team gets right: Stop, Fail and
// CallEnded close the flag at once, wait for writes under way, flush, and
// only then report; a reply from before a close opens nothing; nothing is
// sent after the call ended. The bots embed it and get one thing wrong.

var (
	errCallOver     = errors.New("buggybots: the call has ended")
	errNotRecording = errors.New("buggybots: not recording")
	errRecording    = errors.New("buggybots: already recording")
)

type handRolled struct {
	env *properties.Env
	ctl sync.Mutex // one control operation at a time; held during Graph requests

	mu    sync.RWMutex // Frame holds it for reading while it writes
	open  bool         // frames may be persisted
	epoch int          // bumped by every close; a reply from an older epoch opens nothing
	ended bool

	// Under ctl:
	active  bool   // recording was requested and not yet reported ended
	pending string // clientContext of a recording attempt Graph left pending
	pendEp  int    // the epoch that attempt began in
	seq     int
}

func (b *handRolled) clientContext() string {
	b.seq++
	return fmt.Sprintf("%s-recording-%d", b.env.CallID, b.seq)
}

// snapshot returns the epoch a new attempt begins in, or errCallOver.
func (b *handRolled) snapshot() (int, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.ended {
		return 0, errCallOver
	}
	return b.epoch, nil
}

// openFor opens the gate unless something closed it since epoch began.
func (b *handRolled) openFor(epoch int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.epoch == epoch && !b.ended {
		b.open = true
	}
	return b.open
}

// close closes the gate, after any write under way.
func (b *handRolled) close(end bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.open = false
	b.epoch++
	b.ended = b.ended || end
}

func (b *handRolled) Frame(_ context.Context, stream int, payload []byte) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if !b.open {
		return errDropped
	}
	_, err := b.env.Sink.Write(stream, payload)
	return err
}

// confirm applies Graph's outcome for the pending attempt.
func (b *handRolled) confirm(op graph.Operation) error {
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

func (b *handRolled) report(ctx context.Context, status graph.Status) error {
	b.close(false) // at once, even while Start's request is in flight
	b.ctl.Lock()
	defer b.ctl.Unlock()
	if _, err := b.snapshot(); err != nil {
		return err
	}
	if !b.active {
		return errNotRecording
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

func (b *handRolled) Stop(ctx context.Context) error { return b.report(ctx, graph.StatusNotRecording) }
func (b *handRolled) Fail(ctx context.Context) error { return b.report(ctx, graph.StatusFailed) }

func (b *handRolled) CallEnded(context.Context) error {
	b.close(true)
	b.ctl.Lock()
	defer b.ctl.Unlock()
	b.active, b.pending = false, ""
	return b.env.Sink.Flush()
}

// startChecked is Start done right: the gate opens on completed only.
func (b *handRolled) startChecked(ctx context.Context) error {
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
	op, err := b.env.Updater.UpdateRecordingStatus(ctx, b.env.CallID, graph.StatusRecording, cc)
	if err != nil {
		return err
	}
	b.active, b.pending, b.pendEp = true, cc, epoch
	return b.confirm(op)
}
