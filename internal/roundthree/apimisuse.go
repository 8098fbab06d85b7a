package roundthree

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// Bots that embed fsm and misuse its API.

// rawWriters are the storage writers a team opened before it wired the
// gate (env.Sink.Stream(i)), kept "for speed" or "for the fallback".
func rawWriters(env *properties.Env) []io.Writer {
	ws := make([]io.Writer, env.Streams)
	for i := range ws {
		ws[i] = env.Sink.Stream(i)
	}
	return ws
}

func rawWrite(ws []io.Writer, stream int, p []byte) error {
	if stream < 0 || stream >= len(ws) {
		return errDropped
	}
	_, err := ws[stream].Write(p)
	return err
}

// pendingStartIsRecording is the bug. fsm's Start returns nil for a
// completed reply AND for a pending one (the machine is then
// AwaitingConfirmation, gate closed). The team read "err == nil" as "Graph
// said yes", set its own recording flag, and, because Acquire/Release
// showed up in a profile, writes frames straight to the storage writers it
// kept from before the gate was wired (R1: P1, P4).
type pendingStartIsRecording struct {
	*machineBot
	recording atomic.Bool
	raw       []io.Writer
}

// NewPendingStartIsRecording builds the bot that trusts a nil from Start.
func NewPendingStartIsRecording(env *properties.Env) (properties.Bot, error) {
	mb, err := newMachineBot(env, flushHook(env), nil)
	if err != nil {
		return nil, err
	}
	return &pendingStartIsRecording{machineBot: mb, raw: rawWriters(env)}, nil
}

func (b *pendingStartIsRecording) Start(ctx context.Context) error {
	_, err := b.m.Start(ctx)
	if err == nil {
		b.recording.Store(true) // "Graph accepted it"
	}
	return err
}

func (b *pendingStartIsRecording) Stop(ctx context.Context) error {
	b.recording.Store(false)
	return b.m.Stop(ctx)
}

func (b *pendingStartIsRecording) Fail(ctx context.Context) error {
	b.recording.Store(false)
	return b.m.Fail(ctx)
}

func (b *pendingStartIsRecording) CallEnded(ctx context.Context) error {
	b.recording.Store(false)
	return b.m.CallEnded(ctx)
}

func (b *pendingStartIsRecording) OperationUpdate(ctx context.Context, op graph.Operation) error {
	err := b.m.OperationUpdate(ctx, op)
	if op.Status.Refused() && b.m.State() != fsm.Recording {
		b.recording.Store(false)
	}
	return err
}

func (b *pendingStartIsRecording) Frame(_ context.Context, stream int, payload []byte) error {
	if !b.recording.Load() {
		return errDropped
	}
	return rawWrite(b.raw, stream, payload)
}

// writesWhileStopping is the bug. The team wants the file to match what
// the meeting shows: while Graph has not taken the report (the machine is
// Stopping: a notRecording or failed that got 429 stays there until Stop
// or Fail is called again), "Graph still shows recording", so frames the
// gate refuses in Stopping are written through the raw storage writer
// (R2: P1 after a throttled report; P7 for frames that arrive while the
// hook flushes).
type writesWhileStopping struct {
	*machineBot
	raw []io.Writer
}

// NewWritesWhileStopping builds the bot that keeps recording in Stopping.
func NewWritesWhileStopping(env *properties.Env) (properties.Bot, error) {
	mb, err := newMachineBot(env, flushHook(env), nil)
	if err != nil {
		return nil, err
	}
	return &writesWhileStopping{machineBot: mb, raw: rawWriters(env)}, nil
}

func (b *writesWhileStopping) Frame(_ context.Context, stream int, payload []byte) error {
	err := b.persist(stream, payload)
	if errors.Is(err, fsm.ErrGateClosed) && b.m.State() == fsm.Stopping {
		return rawWrite(b.raw, stream, payload) // "Graph still shows recording"
	}
	return err
}

// isOpenThenWrite is the bug. Gate.IsOpen is one atomic load; the team
// used it on the media path instead of a lease per frame ("two atomic
// adds per frame at 50 frames/s on 40 streams"). Its doc says it is a
// snapshot for dashboards: a Stop that closes the gate after the check
// does not wait for the write, so notRecording can be sent while it is
// still being written (R2: P1, P2).
type isOpenThenWrite struct {
	*machineBot
	raw []io.Writer
}

// NewIsOpenThenWrite builds the bot that checks IsOpen, then writes.
func NewIsOpenThenWrite(env *properties.Env) (properties.Bot, error) {
	mb, err := newMachineBot(env, flushHook(env), nil)
	if err != nil {
		return nil, err
	}
	return &isOpenThenWrite{machineBot: mb, raw: rawWriters(env)}, nil
}

func (b *isOpenThenWrite) Frame(_ context.Context, stream int, payload []byte) error {
	if !b.m.Gate().IsOpen() {
		return errDropped
	}
	return rawWrite(b.raw, stream, payload)
}

// retryFailedWrites is the bug. Storage writes fail now and then (a
// network share, a full buffer), so the media path keeps every frame whose
// write failed in a small retry queue and writes the queue first the next
// time a write succeeds. Every write goes through the gate, under a lease.
// But the gate's refusal is a failed write too: frames refused before
// consent wait in the queue and are persisted as soon as the gate opens
// (R1: P7).
type retryFailedWrites struct {
	*machineBot
	mu    sync.Mutex
	retry [][]queuedFrame // per stream
}

type queuedFrame struct {
	stream  int
	payload []byte
}

const retryQueueLen = 4

// NewRetryFailedWrites builds the bot that retries refused writes.
func NewRetryFailedWrites(env *properties.Env) (properties.Bot, error) {
	mb, err := newMachineBot(env, flushHook(env), nil)
	if err != nil {
		return nil, err
	}
	return &retryFailedWrites{machineBot: mb, retry: make([][]queuedFrame, env.Streams)}, nil
}

func (b *retryFailedWrites) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	lease, err := s.Acquire()
	if err != nil {
		q := append(b.retry[stream], queuedFrame{stream, append([]byte(nil), payload...)})
		if len(q) > retryQueueLen {
			q = q[1:]
		}
		b.retry[stream] = q
		return err
	}
	defer lease.Release()
	for _, f := range b.retry[stream] { // the frames whose write failed, first
		if _, err := b.env.Sink.Write(f.stream, f.payload); err != nil {
			return err
		}
	}
	b.retry[stream] = nil
	_, err = b.env.Sink.Write(stream, payload)
	return err
}

// sharedStreamWritesOnBusy is the bug. The team took one Stream for the
// whole call ("a Stream is a lease holder; we have one call"). Two media
// goroutines then meet in Acquire and one gets ErrStreamBusy. The fix that
// shipped: "busy means another write holds the lease, so the gate is open
// and Stop waits for that lease: write too". Busy is checked before the
// gate: while Stop drains the other write, this one starts after the gate
// closed, under no lease, and may still run when notRecording is sent
// (R2: P1, P2; P9).
type sharedStreamWritesOnBusy struct {
	*machineBot
	shared *fsm.Stream
	raw    []io.Writer
}

// NewSharedStreamWritesOnBusy builds the bot with one Stream for all media.
func NewSharedStreamWritesOnBusy(env *properties.Env) (properties.Bot, error) {
	mb, err := newMachineBot(env, flushHook(env), nil)
	if err != nil {
		return nil, err
	}
	return &sharedStreamWritesOnBusy{machineBot: mb, shared: mb.m.Gate().NewStream(), raw: rawWriters(env)}, nil
}

func (b *sharedStreamWritesOnBusy) Frame(_ context.Context, stream int, payload []byte) error {
	lease, err := b.shared.Acquire()
	switch {
	case errors.Is(err, fsm.ErrStreamBusy):
		return rawWrite(b.raw, stream, payload) // "covered by the other write's lease"
	case err != nil:
		return err
	}
	defer lease.Release()
	return rawWrite(b.raw, stream, payload)
}

// stopInHook is the bug. When the call drops, the team wants Graph told
// that the recording ended, so the recording-ended hook, after flushing,
// calls Stop when the trigger is CallEnded. The hook runs inside
// CallEnded's transition, which holds the machine: Stop waits for it
// until its context ends (the bot hangs in CallEnded).
type stopInHook struct{ *machineBot }

// NewStopInHook builds the bot whose hook calls Stop.
func NewStopInHook(env *properties.Env) (properties.Bot, error) {
	b := &stopInHook{}
	mb, err := newMachineBot(env, b.recordingEnded, nil)
	if err != nil {
		return nil, err
	}
	b.machineBot = mb
	return b, nil
}

func (b *stopInHook) recordingEnded(ctx context.Context, why fsm.Trigger) error {
	if err := b.env.Sink.Flush(); err != nil {
		return err
	}
	if why == fsm.CallEnded {
		return b.m.Stop(ctx) // "make sure Graph hears notRecording when the call drops"
	}
	return nil
}

// reportFromHook is the bug. "The hook is where the file is closed, so
// that is where we tell Graph": the hook flushes, then sends notRecording
// itself through the Graph client. The machine then sends its own report
// (a second request in one Stop), and when the call ended the hook's
// request goes to a call that is gone (protocol: P3, P5).
type reportFromHook struct {
	*machineBot
	seq atomic.Int64
}

// NewReportFromHook builds the bot whose hook reports to Graph.
func NewReportFromHook(env *properties.Env) (properties.Bot, error) {
	b := &reportFromHook{}
	mb, err := newMachineBot(env, b.recordingEnded, nil)
	if err != nil {
		return nil, err
	}
	b.machineBot = mb
	return b, nil
}

func (b *reportFromHook) recordingEnded(ctx context.Context, _ fsm.Trigger) error {
	if err := b.env.Sink.Flush(); err != nil {
		return err
	}
	_, err := b.env.Updater.UpdateRecordingStatus(ctx, b.env.CallID, graph.StatusNotRecording, hookContext(b.env.CallID, b.seq.Add(1)))
	return err
}

// retryWhenSuperseded is the bug. A generic "retry on conflict" wrapper
// around Start, with a short backoff: ErrSuperseded, ErrMachineBusy and
// ErrNotPermitted read like optimistic-lock conflicts ("the machine was
// busy with something else; try again"), so Start is tried again, up to
// three more times. ErrSuperseded means a Stop, Fail or CallEnded came in
// while Start waited for Graph: the bot was told to stop, and once that
// Stop is done it asks Graph to record again on its own (R1 as the bot's
// operator sees it; protocol P3; P9).
type retryWhenSuperseded struct{ *machineBot }

// NewRetryWhenSuperseded builds the bot that retries a superseded Start.
func NewRetryWhenSuperseded(env *properties.Env) (properties.Bot, error) {
	mb, err := newMachineBot(env, flushHook(env), nil)
	if err != nil {
		return nil, err
	}
	return &retryWhenSuperseded{mb}, nil
}

func conflict(err error) bool {
	return errors.Is(err, fsm.ErrSuperseded) || errors.Is(err, fsm.ErrMachineBusy) || errors.Is(err, fsm.ErrNotPermitted)
}

func (b *retryWhenSuperseded) Start(ctx context.Context) error {
	_, err := b.m.Start(ctx)
	if !errors.Is(err, fsm.ErrSuperseded) && !errors.Is(err, fsm.ErrMachineBusy) {
		return err // a first Start that is not permitted is the caller's mistake
	}
	for i := 0; i < 3 && conflict(err); i++ {
		select {
		case <-time.After(time.Duration(1<<i) * time.Millisecond):
		case <-ctx.Done():
			return err
		}
		_, err = b.m.Start(ctx)
	}
	return err
}

// stopSkipsWhenIdle is the bug. Stop on an idle machine returns a
// TransitionError that filled the logs, so Stop first looks at the state
// and does nothing when the machine is NotRecording (or Failed, Ended).
// While Start waits for Graph the machine is still NotRecording: a Stop
// that arrives then is dropped, Graph's completed opens the gate, and the
// bot records after it was told to stop (R1: P9, P7).
type stopSkipsWhenIdle struct{ *machineBot }

// NewStopSkipsWhenIdle builds the bot whose Stop looks at the state first.
func NewStopSkipsWhenIdle(env *properties.Env) (properties.Bot, error) {
	mb, err := newMachineBot(env, flushHook(env), nil)
	if err != nil {
		return nil, err
	}
	return &stopSkipsWhenIdle{mb}, nil
}

func (b *stopSkipsWhenIdle) idle() bool {
	switch b.m.State() {
	case fsm.NotRecording, fsm.Failed, fsm.Ended:
		return true
	}
	return false
}

func (b *stopSkipsWhenIdle) Stop(ctx context.Context) error {
	if b.idle() {
		return nil
	}
	return b.m.Stop(ctx)
}

func (b *stopSkipsWhenIdle) Fail(ctx context.Context) error {
	if b.idle() {
		return nil
	}
	return b.m.Fail(ctx)
}
