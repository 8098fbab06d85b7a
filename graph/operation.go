package graph

import (
	"fmt"
)

// OperationODataType is the @odata.type Graph puts on the reply.
const OperationODataType = "#microsoft.graph.updateRecordingStatusOperation"

// MaxClientContextLen is the longest clientContext the API accepts, in
// characters.
const MaxClientContextLen = 256

// Operation is Graph's updateRecordingStatusOperation: the reply to one
// updateRecordingStatus request, or a later notification about it.
//
// The JSON fields are those of the API page; Location, RequestID and
// ClientRequestID come from the reply's headers and are filled by the client.
type Operation struct {
	// ODataType is "#microsoft.graph.updateRecordingStatusOperation".
	ODataType string `json:"@odata.type,omitempty"`
	// ID is the operation's id. The client takes it from the body, or,
	// when the body has none (or there is no body, as in a 202), from the
	// last path segment of Location (…/operations/{id}).
	ID string `json:"id,omitempty"`
	// ClientContext echoes the request's clientContext; it ties the reply or a
	// later notification to the attempt that caused it.
	ClientContext string `json:"clientContext,omitempty"`
	// Status is the operation's status; only completed is a success reply.
	// A reply without a body (a 2xx with only a Location) leaves it
	// missing, which reads as pending.
	Status OperationStatus `json:"status"`
	// ResultInfo explains a failed operation; nil on success.
	ResultInfo *ResultInfo `json:"resultInfo"`

	// Location is the reply's Location header (absolute operation URL).
	Location string `json:"-"`
	// RequestID is the reply's request-id header, for Microsoft support.
	RequestID string `json:"-"`
	// ClientRequestID is the client-request-id the request carried.
	ClientRequestID string `json:"-"`
}

// ResultInfo is Graph's resultInfo: why an operation ended as it did.
type ResultInfo struct {
	Code    int    `json:"code"`              // an HTTP-like status, e.g. 200 or 403
	Subcode int    `json:"subcode"`           // Graph's reason, e.g. 8506 for a non-compliance call
	Message string `json:"message,omitempty"` // the reason in words
}

// String formats the result for error messages and logs.
func (r *ResultInfo) String() string {
	if r == nil {
		return "no resultInfo"
	}
	return fmt.Sprintf("code %d, subcode %d: %s", r.Code, r.Subcode, r.Message)
}

// Err returns nil unless the operation is a refusal (status failed), in which
// case it returns an *OperationError carrying resultInfo. Pending and
// completed operations give nil: use Status.Confirmed to tell them apart.
func (op Operation) Err() error {
	if op.Status.Refused() {
		return &OperationError{Operation: op}
	}
	if !op.Status.Known() {
		return fmt.Errorf("graph: operation %q has unknown status %q: treated as not confirmed", op.ID, string(op.Status))
	}
	return nil
}
