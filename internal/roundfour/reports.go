package roundfour

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// Bots whose mistake is in what they tell Graph, or when.

// reassert re-sends recording when it is asked to Start while recording.
type reassert struct {
	*fsmBot
	seq atomic.Int64
}

// NewReassertOnReconnect builds the bot that re-asserts recording.
//
// The mistake: after a media reconnect the bot's join logic runs again and
// calls Start. fsm refuses Start while Recording, so the team added "if we
// are already recording, just tell Graph again, so its indicator is right"
// and sends recording straight through the Graph client, beside the
// machine. The machine's gate stays open while that request is out, and
// after Graph refused it or left it pending: media is persisted though the
// latest recording request has no completed reply (R1 as P1 reads it).
func NewReassertOnReconnect(env *properties.Env) (properties.Bot, error) {
	fb, err := newFSMBot(callOf(env), sinkFlushHook(env.Sink), nil)
	if err != nil {
		return nil, err
	}
	return &reassert{fsmBot: fb}, nil
}

func (b *reassert) Start(ctx context.Context) error {
	if b.m.State() != fsm.Recording {
		return b.fsmBot.Start(ctx)
	}
	cc := fmt.Sprintf("%s-reassert-%d", b.c.id, b.seq.Add(1))
	_, err := b.c.updater.UpdateRecordingStatus(ctx, b.c.id, graph.StatusRecording, cc)
	return err // logged by the caller; "Graph confirmed this recording once"
}

// deferredReport is the hand-rolled bot with its Stop's defers in the
// wrong order.
type deferredReport struct {
	*handBot
}

// NewDeferredReportBeforeDrain builds the bot whose report runs before the
// drain.
//
// The mistake: the team wanted notRecording sent "whatever happens below"
// and the writers waited for "before we return", so Stop defers both; the
// report was deferred last, so it runs first. Graph is told the recording
// ended while a write is still in progress, and its bytes land after the
// report (R2).
func NewDeferredReportBeforeDrain(env *properties.Env) (properties.Bot, error) {
	return &deferredReport{handBot: newHandBot(callOf(env))}, nil
}

func (b *deferredReport) Stop(ctx context.Context) error {
	return b.end(ctx, graph.StatusNotRecording)
}

func (b *deferredReport) Fail(ctx context.Context) error { return b.end(ctx, graph.StatusFailed) }

func (b *deferredReport) end(ctx context.Context, status graph.Status) (err error) {
	b.gate.close(false)
	b.ctl.Lock()
	defer b.ctl.Unlock()
	if !b.active {
		return errNotActive
	}
	defer b.gate.drain()                           // wait for the writers before we return
	defer func() { err = b.report(ctx, status) }() // tell Graph, whatever happens below
	if b.recorded {
		return b.c.sink.Flush()
	}
	return nil
}

// segmentStamp is Graph middleware that sends a clientContext of the
// team's own, "segment N of the call", and maps Graph's answers back.
type segmentStamp struct {
	next   fsm.Updater
	mu     sync.Mutex
	seg    int
	toFSM  map[string]string // our clientContext -> the machine's
	fromUs map[string]string // the machine's -> ours
}

// NewSegmentContext builds the bot behind the segment middleware.
//
// The mistake: support wanted Graph's logs to line up with the storage
// layout, so a middleware replaces the machine's clientContext with
// "<call>/segment-<N>/<status>", where N counts recordings that ended, and
// maps replies and notifications back so the machine still matches them.
// A recording Graph refused did not end a segment, so the next Start sends
// the same clientContext again ("Unique client context string": P10).
func NewSegmentContext(env *properties.Env) (properties.Bot, error) {
	mw := &segmentStamp{next: env.Updater, toFSM: make(map[string]string), fromUs: make(map[string]string)}
	fb, err := newFSMBot(callOf(env), sinkFlushHook(env.Sink), mw)
	if err != nil {
		return nil, err
	}
	return &segmentBot{fsmBot: fb, mw: mw}, nil
}

func (s *segmentStamp) UpdateRecordingStatus(ctx context.Context, callID string, status graph.Status, cc string) (graph.Operation, error) {
	s.mu.Lock()
	ours := fmt.Sprintf("%s/segment-%d/%s", callID, s.seg, status)
	s.toFSM[ours], s.fromUs[cc] = cc, ours
	s.mu.Unlock()
	op, err := s.next.UpdateRecordingStatus(ctx, callID, status, ours)
	if err == nil && status != graph.StatusRecording {
		s.mu.Lock()
		s.seg++ // the recording ended: the next one is a new segment
		s.mu.Unlock()
	}
	if op.ClientContext == ours {
		op.ClientContext = cc
	}
	return op, err
}

// inbound maps a notification's clientContext back to the machine's.
func (s *segmentStamp) inbound(op graph.Operation) graph.Operation {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cc, ok := s.toFSM[op.ClientContext]; ok {
		op.ClientContext = cc
	}
	return op
}

type segmentBot struct {
	*fsmBot
	mw *segmentStamp
}

func (b *segmentBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return b.m.OperationUpdate(ctx, b.mw.inbound(op))
}

// eagerStop is the hand-rolled bot whose Stop does not wait for Start.
type eagerStop struct {
	*handBot
	seq atomic.Int64
}

// NewEagerStop builds the bot whose Stop reports at once.
//
// The mistake: a Start whose request hangs held Stop for seconds, so the
// team took Stop off the control lock: it closes the gate, waits for the
// writers, flushes, and sends notRecording at once ("notRecording is
// idempotent, and we are not recording anyway"). While Start's recording
// request is still out, that notRecording can reach Graph first, and
// Graph's recording then lands after it (P6).
func NewEagerStop(env *properties.Env) (properties.Bot, error) {
	return &eagerStop{handBot: newHandBot(callOf(env))}, nil
}

func (b *eagerStop) Stop(ctx context.Context) error {
	return b.end(ctx, graph.StatusNotRecording)
}

func (b *eagerStop) Fail(ctx context.Context) error { return b.end(ctx, graph.StatusFailed) }

func (b *eagerStop) end(ctx context.Context, status graph.Status) error {
	b.gate.close(false)
	b.gate.drain()
	if err := b.c.sink.Flush(); err != nil {
		return err
	}
	cc := fmt.Sprintf("%s-stop-%d", b.c.id, b.seq.Add(1))
	if _, err := b.c.updater.UpdateRecordingStatus(ctx, b.c.id, status, cc); err != nil {
		return err
	}
	b.ctl.Lock() // the books, once Start is done
	b.active, b.recorded, b.pendingCC = false, false, ""
	b.ctl.Unlock()
	return nil
}
