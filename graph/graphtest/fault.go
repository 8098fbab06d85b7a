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
)

// Fault is one scripted answer. Build it with the functions below, or
// decode it from JSON (examples/fakegraph reads scripts that way).
type Fault struct {
	Kind FaultKind `json:"kind"`
	// RetryAfter is the raw Retry-After header for throttle and unavailable.
	RetryAfter string `json:"retryAfter,omitempty"`
	// DelayMS is the latency, in milliseconds, for latency.
	DelayMS int `json:"delayMs,omitempty"`
	// Status is the operation status for status: notStarted, running,
	// completed, failed, null, or anything else (an unknown value).
	Status string `json:"status,omitempty"`
	// ResultInfo goes with status failed.
	ResultInfo *graph.ResultInfo `json:"resultInfo,omitempty"`
	// Location is missing, relative, http, foreign or otherCall.
	Location string `json:"location,omitempty"`
}

// Validate reports a fault the fake cannot play.
func (f Fault) Validate() error {
	switch f.Kind {
	case KindThrottle, KindUnavailable, KindInternal, KindBadGatewayHTML, KindGatewayTimeout, KindHang, KindReset,
		KindTruncated, KindMalformed, KindEmptyOK, KindWrongContentType, KindOversized, KindRedirect, KindTerminate:
		return nil
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

// TerminateCall ends the call: 404 from this request on.
func TerminateCall() Fault { return Fault{Kind: KindTerminate} }
