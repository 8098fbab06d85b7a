package graphtest

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/recgate/recgate/graph"
)

// FaultKind names a scripted misbehaviour of the fake.
type FaultKind string

// The faults the fake can play. Each answers one request.
const (
	KindThrottle         FaultKind = "throttle"         // 429 with RetryAfter as given ("" for none)
	KindUnavailable      FaultKind = "unavailable"      // 503 with RetryAfter as given
	KindInternal         FaultKind = "internal"         // 500 with a Graph error body
	KindBadGatewayHTML   FaultKind = "badGatewayHTML"   // 502 with an HTML page, as a gateway sends
	KindGatewayTimeout   FaultKind = "gatewayTimeout"   // 504
	KindLatency          FaultKind = "latency"          // wait Delay, then answer normally
	KindHang             FaultKind = "hang"             // never answer; ends when the client gives up or the server closes
	KindReset            FaultKind = "reset"            // reset the connection without a reply
	KindTruncated        FaultKind = "truncated"        // a 200 whose JSON body stops half-way
	KindMalformed        FaultKind = "malformed"        // a 200 whose body is not JSON
	KindEmptyOK          FaultKind = "emptyOK"          // a 200 with no body
	KindWrongContentType FaultKind = "wrongContentType" // a 200 with a JSON body labelled text/plain
	KindOversized        FaultKind = "oversized"        // a 200 whose body exceeds 1 MiB
	KindStatus           FaultKind = "status"           // a 200 whose operation status is Status ("null" for JSON null)
	KindLocation         FaultKind = "location"         // a 200 whose Location is Location: missing, relative, http, foreign, otherCall
	KindRedirect         FaultKind = "redirect"         // a 307 to a foreign host that records whether Authorization arrived
	KindTerminate        FaultKind = "terminate"        // the call ends: 404 for this request and every later one
	KindPending          FaultKind = "pending"          // a 200 whose operation is pending: Status running (default) or notStarted
	KindForbidden        FaultKind = "forbidden"        // 403 Forbidden, as for an app without the permission
	KindNonCompliance    FaultKind = "nonCompliance"    // 403 with code 8506: not a compliance-recording call
)

// What a scripted notification (Fault.Notify) says, once the reply is sent.
const (
	NotifyCompleted  = "completed"  // the operation this reply created completed
	NotifyFailed     = "failed"     // it failed, with Fault.ResultInfo (or a default)
	NotifyTerminated = "terminated" // the call ended: 404 from then on
)

// Fault is one scripted answer. Build it with the functions below, or
// decode it from JSON (examples/fakegraph reads scripts that way).
type Fault struct {
	Kind FaultKind `json:"kind"` // what the fake does (the FaultKind constants)
	// RetryAfter is the raw Retry-After header for throttle and unavailable.
	RetryAfter string `json:"retryAfter,omitempty"`
	// DelayMS is the latency, in milliseconds, for latency.
	DelayMS int `json:"delayMs,omitempty"`
	// Status is the operation status for status: notStarted, running,
	// completed, failed, null, or anything else (an unknown value).
	Status string `json:"status,omitempty"`
	// ResultInfo goes with status failed, and with notify failed.
	ResultInfo *graph.ResultInfo `json:"resultInfo,omitempty"`
	// Location is missing, relative, http, foreign or otherCall.
	Location string `json:"location,omitempty"`

	// Notify makes the fake POST a signed notification to the call's
	// callback (SetCallback) once this reply has been sent: "completed" or
	// "failed" for the operation the reply created (the fake's copy of the
	// operation changes too), or "terminated" for the call (which answers
	// 404 from then on). Empty: no notification.
	Notify string `json:"notify,omitempty"`
	// NotifyDelayMS waits this long before notifying (for demos; tests
	// leave it 0 and wait with WaitDeliveries).
	NotifyDelayMS int `json:"notifyDelayMs,omitempty"`
	// Forgery forges the notification's token (NotForged: a genuine one).
	Forgery Forgery `json:"forgery,omitempty"`
}

// Validate reports a fault the fake cannot play.
func (f Fault) Validate() error {
	if err := f.validateKind(); err != nil {
		return err
	}
	return f.validateNotify()
}

// createsOperation reports whether the fault's reply carries an operation
// a notification can then complete or fail.
func (f Fault) createsOperation() bool {
	switch f.Kind {
	case KindStatus, KindPending, KindLatency, KindLocation:
		return true
	}
	return false
}

func (f Fault) validateNotify() error {
	switch f.Notify {
	case "":
		if f.Forgery != NotForged {
			return fmt.Errorf("graphtest: %s fault has forgery %q but no notify: say which notification to forge (notify completed, failed or terminated)", f.Kind, f.Forgery)
		}
		if f.NotifyDelayMS != 0 {
			return fmt.Errorf("graphtest: %s fault has notifyDelayMs but no notify", f.Kind)
		}
		return nil
	case NotifyCompleted, NotifyFailed:
		if !f.createsOperation() {
			return fmt.Errorf("graphtest: %s fault creates no operation to notify %s: use it with status, pending, latency or location", f.Kind, f.Notify)
		}
	case NotifyTerminated:
	default:
		return fmt.Errorf("graphtest: notify %q: want completed, failed or terminated", f.Notify)
	}
	if f.NotifyDelayMS < 0 {
		return fmt.Errorf("graphtest: notifyDelayMs %d is negative", f.NotifyDelayMS)
	}
	return f.Forgery.validate()
}

func (f Fault) validateKind() error {
	switch f.Kind {
	case KindThrottle, KindUnavailable, KindInternal, KindBadGatewayHTML, KindGatewayTimeout, KindHang, KindReset,
		KindTruncated, KindMalformed, KindEmptyOK, KindWrongContentType, KindOversized, KindRedirect, KindTerminate,
		KindForbidden, KindNonCompliance:
		return nil
	case KindPending:
		switch f.Status {
		case "", string(graph.OperationRunning), string(graph.OperationNotStarted):
			return nil
		}
		return fmt.Errorf("graphtest: pending fault status %q: want running (the default) or notStarted", f.Status)
	case KindLatency:
		if f.DelayMS <= 0 {
			return fmt.Errorf("graphtest: latency fault needs delayMs > 0")
		}
		return nil
	case KindStatus:
		if f.Status == "" {
			return fmt.Errorf("graphtest: status fault needs a status (notStarted, running, completed, failed, null or another value)")
		}
		return nil
	case KindLocation:
		switch f.Location {
		case "missing", "relative", "http", "foreign", "otherCall":
			return nil
		}
		return fmt.Errorf("graphtest: location fault %q: want missing, relative, http, foreign or otherCall", f.Location)
	}
	return fmt.Errorf("graphtest: unknown fault kind %q", f.Kind)
}

// RetryAfterSeconds formats a Retry-After in seconds.
func RetryAfterSeconds(n int) string { return strconv.Itoa(n) }

// RetryAfterDate formats a Retry-After as an HTTP date.
func RetryAfterDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

// Throttle answers 429 with the given raw Retry-After ("" for none).
func Throttle(retryAfter string) Fault { return Fault{Kind: KindThrottle, RetryAfter: retryAfter} }

// Unavailable answers 503 with the given raw Retry-After ("" for none).
func Unavailable(retryAfter string) Fault {
	return Fault{Kind: KindUnavailable, RetryAfter: retryAfter}
}

// InternalError answers 500.
func InternalError() Fault { return Fault{Kind: KindInternal} }

// BadGatewayHTML answers 502 with an HTML body.
func BadGatewayHTML() Fault { return Fault{Kind: KindBadGatewayHTML} }

// GatewayTimeout answers 504.
func GatewayTimeout() Fault { return Fault{Kind: KindGatewayTimeout} }

// Latency answers normally after d.
func Latency(d time.Duration) Fault {
	return Fault{Kind: KindLatency, DelayMS: int(d / time.Millisecond)}
}

// Hang never answers.
func Hang() Fault { return Fault{Kind: KindHang} }

// ResetConnection drops the connection with no reply.
func ResetConnection() Fault { return Fault{Kind: KindReset} }

// TruncatedJSON sends half a body.
func TruncatedJSON() Fault { return Fault{Kind: KindTruncated} }

// MalformedJSON sends a body that is not JSON.
func MalformedJSON() Fault { return Fault{Kind: KindMalformed} }

// EmptyOK sends 200 with no body.
func EmptyOK() Fault { return Fault{Kind: KindEmptyOK} }

// WrongContentType labels the JSON body text/plain.
func WrongContentType() Fault { return Fault{Kind: KindWrongContentType} }

// Oversized sends a body over 1 MiB.
func Oversized() Fault { return Fault{Kind: KindOversized} }

// ReplyStatus answers with the operation status s ("null" for JSON null).
func ReplyStatus(s string) Fault { return Fault{Kind: KindStatus, Status: s} }

// ReplyFailed answers with a failed operation carrying ri.
func ReplyFailed(ri graph.ResultInfo) Fault {
	return Fault{Kind: KindStatus, Status: "failed", ResultInfo: &ri}
}

// BadLocation answers with a Location that is missing, relative, http,
// foreign or otherCall.
func BadLocation(kind string) Fault { return Fault{Kind: KindLocation, Location: kind} }

// RedirectForeign answers 307 to a foreign host.
func RedirectForeign() Fault { return Fault{Kind: KindRedirect} }

// TerminateCall ends the call: 404 from this request on. No notification
// is sent (EndCall sends one).
func TerminateCall() Fault { return Fault{Kind: KindTerminate} }

// EndCall ends the call as TerminateCall does and then POSTs the
// termination notification to the call's callback.
func EndCall() Fault { return Fault{Kind: KindTerminate, Notify: NotifyTerminated} }

// PendingThen answers with a running operation and then, once the reply is
// sent, POSTs a signed notification that the operation reached outcome
// (graph.OperationCompleted or graph.OperationFailed).
func PendingThen(outcome graph.OperationStatus) Fault {
	return Fault{Kind: KindPending, Notify: string(outcome)}
}

// PendingThenFailed answers with a running operation and then notifies
// that it failed with ri.
func PendingThenFailed(ri graph.ResultInfo) Fault {
	return Fault{Kind: KindPending, Notify: NotifyFailed, ResultInfo: &ri}
}

// Forbidden answers 403 Forbidden, as Graph does for an app that lacks
// the permission.
func Forbidden() Fault { return Fault{Kind: KindForbidden} }

// NonCompliant answers this one request as Call.NonCompliance answers
// every request: 403 with code 8506.
func NonCompliant() Fault { return Fault{Kind: KindNonCompliance} }
