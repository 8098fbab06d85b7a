package fsm

import (
	"errors"
	"fmt"

	"github.com/recgate/recgate/graph"
)

var (
	// ErrGateClosed is returned by Stream.Acquire and Writer.Write when the
	// machine is not in a Graph-confirmed recording: the media must not be
	// persisted.
	ErrGateClosed = errors.New("fsm: persist gate closed: Graph has not confirmed recording; drop the media, do not persist it")
	// ErrStreamBusy is returned by Stream.Acquire (and Writer.Write) when the
	// stream already holds a lease: a Stream serves one writer at a time, so
	// this is a bug in the caller; give each goroutine its own Stream. It
	// does not match a closed stream (see ErrStreamClosed).
	ErrStreamBusy = errors.New("fsm: stream busy: it already holds a lease (release it first, or use one Stream per goroutine)")
	// ErrStreamClosed is returned by Stream.Acquire (and Writer.Write) when
	// Close was called on the stream. It is normal for a frame that arrives
	// after its stream, or the call, ended: drop the frame. A stream never
	// opens again; a new recording that needs one takes Gate.NewStream.
	// Before it existed, Acquire returned ErrStreamBusy here; the two are
	// distinct, and errors.Is does not match one for the other.
	ErrStreamClosed = errors.New("fsm: stream closed: Close was called on it, so it grants no lease; drop the frame (normal after the stream or call ended), or write through a new Stream")
	// ErrNilWriter is returned by Writer.Write on a nil *Writer or on one
	// whose underlying writer is nil (Gate.Writer(nil)): there is nowhere to
	// write. Pass Gate.Writer the io.Writer the media goes to.
	ErrNilWriter = errors.New("fsm: gated writer has no underlying writer (nil *Writer, or Gate.Writer(nil)); pass Gate.Writer the io.Writer the media goes to")
	// ErrLeaseHeld is returned by Stream.Close while a lease is held.
	ErrLeaseHeld = errors.New("fsm: stream still holds a lease: release it before closing the stream")

	// ErrNotPermitted matches every *TransitionError.
	ErrNotPermitted = errors.New("fsm: trigger not permitted in this state")
	// ErrSuperseded: a Stop, Fail or CallEnded arrived after this Start (or
	// while its Graph request was in flight). A late confirmation never opens
	// the gate; the newer request wins.
	ErrSuperseded = errors.New("fsm: superseded by a later Stop, Fail or CallEnded; the gate stays closed")
	// ErrCallEnded: the call is over; no request is sent and the gate stays
	// closed for good.
	ErrCallEnded = errors.New("fsm: call ended; nothing more is sent and the gate stays closed")
	// ErrStaleUpdate: an operation update that does not belong to the pending
	// recording attempt (another clientContext, or no attempt is pending:
	// it was stopped, superseded, or ended by the confirmation deadline). It
	// is ignored and never opens the gate.
	ErrStaleUpdate = errors.New("fsm: operation update does not match the pending recording attempt; ignored")
	// ErrForeignReply: the Updater returned an operation whose clientContext
	// is not the one the request sent (another attempt's reply). It is the
	// cause of a *RequestError, and the gate stays closed. A reply without
	// clientContext is accepted: it is the reply to the request the Updater
	// was given, bound to it by the exchange itself (graph.Client accepts it
	// too); clientContext is what ties a later notification to its attempt.
	ErrForeignReply = errors.New("fsm: the Updater's reply belongs to another request (its clientContext differs); not trusted")
	// ErrUnknownCall: a notification names a call the Registry (or the
	// Machine) does not guard.
	ErrUnknownCall = errors.New("fsm: notification for a call this registry does not hold")
	// ErrUnknownNotification: a notification of a kind recgate does not act
	// on. It is ignored.
	ErrUnknownNotification = errors.New("fsm: notification of a kind recgate does not act on; ignored")
	// ErrNotConfirmed matches every *RequestError: Graph did not give the
	// reply the transition needed.
	ErrNotConfirmed = errors.New("fsm: Graph did not confirm the request")
)

// TransitionError says a trigger is not permitted in the machine's current
// state. Nothing was sent and nothing changed.
type TransitionError struct {
	State   State   // the machine's state
	Trigger Trigger // the trigger it does not permit there
}

// Error names the state and the trigger.
func (e *TransitionError) Error() string {
	return fmt.Sprintf("fsm: %s is not permitted in state %s; nothing was sent and the state is unchanged", e.Trigger, e.State)
}

// Is matches ErrNotPermitted; ErrCallEnded when the state is Ended; and
// ErrStaleUpdate for an OperationUpdate, which outside AwaitingConfirmation
// has no pending attempt to be about.
func (e *TransitionError) Is(target error) bool {
	return target == ErrNotPermitted || (target == ErrCallEnded && e.State == Ended) ||
		(target == ErrStaleUpdate && e.Trigger == OperationUpdate)
}

// RequestError says the Graph request a transition depends on did not get
// the reply it needed: an HTTP or transport error, a failed operation, or an
// unknown status. The gate stays closed. Err is the cause (find a
// *graph.Error or *graph.OperationError with errors.As).
type RequestError struct {
	CallID        string       // the call
	Trigger       Trigger      // the transition that needed the reply
	Status        graph.Status // the status the request reported
	ClientContext string       // the request's clientContext
	// State is the state the machine was in when it refused; if the call
	// ended meanwhile (CallEnded came in while the request was out),
	// CallEnded then takes it to Ended.
	State State
	// CallEnded is set when the call had ended by the time of the refusal.
	CallEnded bool
	// Operation is Graph's reply, if there was one.
	Operation graph.Operation
	Err       error // the cause: find a *graph.Error or *graph.OperationError with errors.As
}

// Error names the call, the trigger, the request and the cause.
func (e *RequestError) Error() string {
	where := fmt.Sprintf("machine stays in %s with the gate closed", e.State)
	if e.CallEnded {
		where = fmt.Sprintf("the call ended meanwhile: the gate is closed for good, and the machine goes from %s to Ended", e.State)
	}
	return fmt.Sprintf("fsm: call %s: %s (status %s, clientContext %q) not confirmed, %s: %v",
		e.CallID, e.Trigger, e.Status, e.ClientContext, where, e.Err)
}

// Unwrap returns the cause.
func (e *RequestError) Unwrap() error { return e.Err }

// Is matches ErrNotConfirmed.
func (e *RequestError) Is(target error) bool { return target == ErrNotConfirmed }
