package otelrecgate

import (
	"context"
	"errors"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/callback"
)

// RefusalReason says why the gate refused a frame: the value of the
// recgate.reason attribute of recgate.frames.refused.
type RefusalReason string

// The reasons a frame is refused.
const (
	// RefusedGateClosed is fsm.ErrGateClosed: no Graph-confirmed recording;
	// the media was dropped, as the rule asks.
	RefusedGateClosed RefusalReason = "gate_closed"
	// RefusedStreamClosed is fsm.ErrStreamClosed: the frame came after its
	// stream was closed, normal for the late frames of a stream or call
	// that has ended; it was dropped. A steady rate of these while calls
	// are live means the bot writes to streams it has already closed.
	RefusedStreamClosed RefusalReason = "stream_closed"
	// RefusedStreamBusy is fsm.ErrStreamBusy: the stream already held a
	// lease, so two goroutines share one Stream (a bug in the bot).
	RefusedStreamBusy RefusalReason = "stream_busy"
	// RefusedOther is any other error from Acquire or the write.
	RefusedOther RefusalReason = "other"
)

var refusalReasons = []RefusalReason{RefusedGateClosed, RefusedStreamClosed, RefusedStreamBusy, RefusedOther}

var rejectReasons = []callback.RejectReason{
	callback.RejectMissingToken, callback.RejectNotBearer, callback.RejectMalformedToken, callback.RejectUnsigned,
	callback.RejectAlgorithm, callback.RejectBadSignature, callback.RejectExpired, callback.RejectNotYetValid,
	callback.RejectWrongIssuer, callback.RejectWrongAudience, callback.RejectNoTenant, callback.RejectTenantNotAllowed,
	callback.RejectKeysUnavailable, callback.RejectMethod, callback.RejectBodyTooLarge, callback.RejectMalformedBody,
}

var ignoreReasons = []fsm.IgnoreReason{fsm.IgnoredUnknownCall, fsm.IgnoredStaleOperation, fsm.IgnoredUnknownStatus, fsm.IgnoredUnknownKind}

// FramePersisted counts one frame written under a lease. Call it after the
// write returned and the lease was released, so that the count never holds
// the lease (and Stop's wait for it) up:
//
//	lease, err := stream.Acquire()
//	if err != nil {
//		m.FrameRefused(ctx, err)
//		return
//	}
//	_, err = sink.Write(frame)
//	lease.Release()
//	m.FramePersisted(ctx)
//
// It does not allocate.
func (m *Metrics) FramePersisted(ctx context.Context) {
	m.persisted.Add(ctxOrBackground(ctx), 1, m.noAttrs...)
}

// FrameRefused counts one frame the gate refused, by the reason err gives:
// gate_closed (fsm.ErrGateClosed), stream_closed (fsm.ErrStreamClosed,
// normal after the stream or call ended), stream_busy (fsm.ErrStreamBusy, a
// bug in the bot), or other. Wrapped errors count by what they wrap. It
// does not allocate.
func (m *Metrics) FrameRefused(ctx context.Context, err error) {
	m.refused.Add(ctxOrBackground(ctx), 1, m.refusedBy[refusalReason(err)]...)
}

func refusalReason(err error) RefusalReason {
	switch {
	case err == fsm.ErrGateClosed, errors.Is(err, fsm.ErrGateClosed):
		return RefusedGateClosed
	case err == fsm.ErrStreamClosed, errors.Is(err, fsm.ErrStreamClosed):
		return RefusedStreamClosed
	case err == fsm.ErrStreamBusy, errors.Is(err, fsm.ErrStreamBusy):
		return RefusedStreamBusy
	}
	return RefusedOther
}

// RejectHook returns the function to pass to callback.WithRejectHook: it
// counts every request the callback handler refused, by reason
// (recgate.notifications.rejected). A sudden rise in bad_signature or
// expired is someone probing the callback URL; keys_unavailable is the
// bot failing to reach Microsoft's OpenID configuration.
func (m *Metrics) RejectHook() func(callback.RejectReason) {
	return func(r callback.RejectReason) {
		opts, ok := m.rejectBy[r]
		if !ok {
			opts = addOptions(AttrReason.String(string(r)))
		}
		m.rejected.Add(context.Background(), 1, opts...)
	}
}

// IgnoredHook returns the function to pass to fsm.WithIgnoredHook: it
// counts the authenticated notifications the registry did not act on, by
// reason (recgate.notifications.ignored). stale-operation is normal in
// small numbers (Graph delivers twice; a completed arrives after a Stop);
// unknown-call in large numbers means notifications reach the wrong
// process.
func (m *Metrics) IgnoredHook() func(graph.Notification, fsm.IgnoreReason) {
	return func(_ graph.Notification, r fsm.IgnoreReason) {
		opts, ok := m.ignoreBy[r]
		if !ok {
			opts = addOptions(AttrReason.String(string(r)))
		}
		m.ignored.Add(context.Background(), 1, opts...)
	}
}
