package roundthree

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// Bots that get the reports to Graph, or what follows them, wrong.

// hookContext is the clientContext of a request the bot sends itself,
// outside the machine: unique per request.
func hookContext(callID string, n int64) string { return fmt.Sprintf("%s-bot-%d", callID, n) }

// transcriptAfterStop is the bug. The meeting notes are a transcript of
// the frames recorded (admitted under a lease, inside the recording: the
// content is fine). Stop stops the machine and then saves the notes, and
// CallEnded does the same: the notes are persisted after notRecording was
// sent, or after the call ended (R2: P1).
type transcriptAfterStop struct {
	*machineBot
	mu    sync.Mutex
	notes bytes.Buffer
}

// NewTranscriptAfterStop builds the bot that saves its notes after Stop.
func NewTranscriptAfterStop(env *properties.Env) (properties.Bot, error) {
	mb, err := newMachineBot(env, flushHook(env), nil)
	if err != nil {
		return nil, err
	}
	return &transcriptAfterStop{machineBot: mb}, nil
}

func (b *transcriptAfterStop) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	if _, err := b.env.Sink.Write(stream, payload); err != nil {
		return err
	}
	b.mu.Lock()
	b.notes.Write(bytes.TrimSuffix(payload, []byte(";")))
	b.notes.WriteByte('\n')
	b.mu.Unlock()
	return nil
}

// saveNotes writes the notes on the stream after the media streams.
func (b *transcriptAfterStop) saveNotes() error {
	b.mu.Lock()
	notes := append([]byte(nil), b.notes.Bytes()...)
	b.notes.Reset()
	b.mu.Unlock()
	_, err := b.env.Sink.Write(b.env.Streams, notes)
	return err
}

func (b *transcriptAfterStop) Stop(ctx context.Context) error {
	err := b.m.Stop(ctx)
	return errors.Join(err, b.saveNotes())
}

func (b *transcriptAfterStop) Fail(ctx context.Context) error {
	err := b.m.Fail(ctx)
	return errors.Join(err, b.saveNotes())
}

func (b *transcriptAfterStop) CallEnded(ctx context.Context) error {
	err := b.m.CallEnded(ctx)
	return errors.Join(err, b.saveNotes())
}

// doubleReport is the bug. "The recording indicator sometimes stays on":
// after the machine's Stop succeeded, Stop sends notRecording once more
// through the Graph client, with a fresh clientContext, for good measure
// (protocol: P3, one request per attempt). Debatable in harm (a second
// notRecording persists nothing), not in the protocol DESIGN.md states.
type doubleReport struct {
	*machineBot
	seq atomic.Int64
}

// NewDoubleReport builds the bot that sends notRecording twice.
func NewDoubleReport(env *properties.Env) (properties.Bot, error) {
	mb, err := newMachineBot(env, flushHook(env), nil)
	if err != nil {
		return nil, err
	}
	return &doubleReport{machineBot: mb}, nil
}

func (b *doubleReport) Stop(ctx context.Context) error {
	if err := b.m.Stop(ctx); err != nil {
		return err
	}
	_, err := b.env.Updater.UpdateRecordingStatus(ctx, b.env.CallID, graph.StatusNotRecording, hookContext(b.env.CallID, b.seq.Add(1)))
	return err
}

// restartOnLateCompleted is the bug. "Graph is the source of truth": a
// completed notification that the machine calls stale (ErrStaleUpdate)
// while it is NotRecording, after the bot had a recording going, is read
// as "Graph and our machine disagree", and the handler re-syncs by
// starting a recording. The late completed of an attempt the bot was told
// to stop then makes the bot ask for, get and use a recording nobody asked
// it to make (R1 as the bot's operator sees it: recording after Stop
// without a new Start). After a refused Start it does not re-sync (the
// bot had no recording going), so P3's refusal clause does not apply.
type restartOnLateCompleted struct {
	*machineBot
	hadRecording atomic.Bool // a Start or update got the recording going
}

// NewRestartOnLateCompleted builds the bot that restarts on a stale
// completed.
func NewRestartOnLateCompleted(env *properties.Env) (properties.Bot, error) {
	mb, err := newMachineBot(env, flushHook(env), nil)
	if err != nil {
		return nil, err
	}
	return &restartOnLateCompleted{machineBot: mb}, nil
}

func (b *restartOnLateCompleted) Start(ctx context.Context) error {
	_, err := b.m.Start(ctx)
	b.hadRecording.Store(err == nil)
	return err
}

func (b *restartOnLateCompleted) OperationUpdate(ctx context.Context, op graph.Operation) error {
	err := b.m.OperationUpdate(ctx, op)
	if errors.Is(err, fsm.ErrStaleUpdate) && op.Status.Confirmed() && b.m.State() == fsm.NotRecording && b.hadRecording.Load() {
		_, err = b.m.Start(ctx) // "re-sync with Graph"
		b.hadRecording.Store(err == nil)
	} else if op.Status.Refused() {
		b.hadRecording.Store(false)
	}
	return err
}

// swappedReports is debatable. Stop reports failed and Fail reports
// notRecording (the two were swapped in a refactoring). The rule (R2)
// treats both alike: the recording ends before either is sent, and the
// bot does end it. What is wrong is what the meeting and the audit trail
// say about why it ended.
type swappedReports struct{ *machineBot }

// NewSwappedReports builds the bot whose reports are swapped.
func NewSwappedReports(env *properties.Env) (properties.Bot, error) {
	mb, err := newMachineBot(env, flushHook(env), nil)
	if err != nil {
		return nil, err
	}
	return &swappedReports{mb}, nil
}

func (b *swappedReports) Stop(ctx context.Context) error { return b.m.Fail(ctx) }
func (b *swappedReports) Fail(ctx context.Context) error { return b.m.Stop(ctx) }
