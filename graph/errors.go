package graph

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrOperationFailed matches (with errors.Is) every *OperationError: Graph
// accepted the request but reported the operation as failed.
var ErrOperationFailed = errors.New("graph: updateRecordingStatus operation failed")

// OperationError is a reply or notification whose operation status is failed.
type OperationError struct {
	Operation Operation // the failed operation, with its ResultInfo
}

// Error names the operation and Graph's resultInfo, and what to check
// for a policy refusal.
func (e *OperationError) Error() string {
	var which []string
	if e.Operation.ID != "" {
		which = append(which, fmt.Sprintf("operation %q", e.Operation.ID))
	}
	if e.Operation.ClientContext != "" {
		which = append(which, fmt.Sprintf("clientContext %q", e.Operation.ClientContext))
	}
	subject := "the updateRecordingStatus operation"
	if len(which) > 0 {
		subject = "updateRecordingStatus " + strings.Join(which, ", ")
	}
	msg := fmt.Sprintf("graph: %s failed: %s", subject, e.Operation.ResultInfo.String())
	if e.NonCompliance() {
		msg += "; " + nonComplianceHint
	}
	return msg
}

// Is makes errors.Is(err, ErrOperationFailed) true.
func (e *OperationError) Is(target error) bool { return target == ErrOperationFailed }

// NonCompliance reports whether Graph refused the operation because the
// call is not a compliance-recording call: resultInfo with subcode 8506
// (or code 8506). It is the failed-operation form of *Error.NonCompliance,
// a policy refusal: never retry it; fix the policy.
func (e *OperationError) NonCompliance() bool {
	ri := e.Operation.ResultInfo
	return ri != nil && (ri.Subcode == SubcodeNonComplianceCall || ri.Code == SubcodeNonComplianceCall)
}

// CodeNonComplianceCall is the error code Graph returns when the call is not a
// compliance-recording call: a policy refusal that no retry can fix.
const CodeNonComplianceCall = "8506"

// SubcodeNonComplianceCall is the same refusal as CodeNonComplianceCall
// in a failed operation's resultInfo (subcode, sometimes code).
const SubcodeNonComplianceCall = 8506

const nonComplianceHint = "the call is not a compliance-recording call: check the Teams compliance recording policy assigned to the user and the bot's application instance"

// IsNonCompliance reports whether err is, or wraps, a policy refusal
// (8506) in either form Graph sends it: an *Error (an HTTP error reply) or
// an *OperationError (a failed operation). Such a refusal is never
// retried: no retry can fix it.
func IsNonCompliance(err error) bool {
	var ge *Error
	if errors.As(err, &ge) && ge.NonCompliance() {
		return true
	}
	var oe *OperationError
	return errors.As(err, &oe) && oe.NonCompliance()
}

// Error is a non-2xx reply from Graph. The fields come from the status line,
// the headers and the body {"error": {"code", "message", "innerError": {...}}}.
type Error struct {
	// StatusCode is the HTTP status, e.g. 429.
	StatusCode int
	// Code and Message are error.code and error.message of the body.
	Code    string
	Message string
	// InnerCodes lists the codes of nested innerError objects, outermost first.
	InnerCodes []string
	// RequestID, ClientRequestID and Date come from innerError (or the
	// headers when the body has none); quote them to Microsoft support.
	RequestID       string
	ClientRequestID string
	Date            string
	// RetryAfter is the server's Retry-After, zero when absent.
	RetryAfter time.Duration
}

// Error says what failed and, where it is known, what to check.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "graph: updateRecordingStatus: HTTP %d", e.StatusCode)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if len(e.InnerCodes) > 0 {
		fmt.Fprintf(&b, " (inner: %s)", strings.Join(e.InnerCodes, ", "))
	}
	if hint := e.hint(); hint != "" {
		fmt.Fprintf(&b, "; %s", hint)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
	}
	b.WriteString(idTags(e.RequestID, e.ClientRequestID))
	return b.String()
}

// idTags is what an error says of the request's ids, for Microsoft
// support: " [request-id X] [client-request-id Y]", each only if known.
func idTags(requestID, clientRequestID string) string {
	s := ""
	if requestID != "" {
		s += " [request-id " + requestID + "]"
	}
	if clientRequestID != "" {
		s += " [client-request-id " + clientRequestID + "]"
	}
	return s
}

// NonCompliance reports whether Graph refused because the call is not a
// compliance-recording call (code 8506). Never retry it.
func (e *Error) NonCompliance() bool {
	if e.Code == CodeNonComplianceCall {
		return true
	}
	for _, c := range e.InnerCodes {
		if c == CodeNonComplianceCall {
			return true
		}
	}
	return false
}

// Temporary reports whether the same request may succeed later: throttling
// (429), service unavailable (503) and gateway timeout (504).
func (e *Error) Temporary() bool {
	switch e.StatusCode {
	case 429, 503, 504:
		return !e.NonCompliance()
	}
	return false
}

func (e *Error) hint() string {
	switch {
	case e.NonCompliance():
		return nonComplianceHint
	case e.StatusCode == 401:
		return "the token was missing, expired or for another audience: check the token source (scope https://graph.microsoft.com/.default)"
	case e.StatusCode == 403:
		return "the app lacks permission: grant Calls.AccessMedia.All (or Calls.JoinGroupCall.All) and admin consent"
	case e.StatusCode == 404:
		return "the call is unknown or already terminated: check the call ID"
	}
	return ""
}
