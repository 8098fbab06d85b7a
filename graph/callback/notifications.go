package callback

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/recgate/recgate/graph"
)

// The @odata.type values the handler recognises (compared without regard to
// case).
const (
	commsNotificationsODataType = "#microsoft.graph.commsNotifications"
	callODataType               = "#microsoft.graph.call"
)

// commsNotifications is the body Graph POSTs to the callback URL.
type commsNotifications struct {
	ODataType string            `json:"@odata.type"`
	Value     []json.RawMessage `json:"value"`
}

// commsNotification is one item of its value array.
type commsNotification struct {
	ChangeType   string          `json:"changeType"`
	ResourceURL  string          `json:"resourceUrl"`
	ResourceData json.RawMessage `json:"resourceData"`
}

// errMalformedBody is wrapped by parseBody's errors (400 Bad Request).
var errMalformedBody = errors.New("not a commsNotifications JSON object with a value array")

// parseBody splits an authenticated body into its items. A body that is not
// a JSON object with a "value" array is an error; a body of another
// @odata.type is returned with ok false (acknowledged, nothing handed on).
func parseBody(body []byte) (items []json.RawMessage, odataType string, ok bool, err error) {
	var doc commsNotifications
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, "", false, fmt.Errorf("%w: %v", errMalformedBody, err)
	}
	if doc.Value == nil {
		return nil, "", false, fmt.Errorf("%w: no value array", errMalformedBody)
	}
	if doc.ODataType != "" && !strings.EqualFold(doc.ODataType, commsNotificationsODataType) {
		return nil, doc.ODataType, false, nil
	}
	return doc.Value, doc.ODataType, true, nil
}

// resource is what a resourceUrl names.
type resource struct {
	callID      string
	operationID string // empty for the call itself
}

// parseResourceURL reads the resourceUrl of a notification. Accepted, with
// the fixed segments in any case:
//
//	/communications/calls/{callID}
//	/communications/calls/{callID}/operations/{opID}
//	/app/calls/{callID}
//	/app/calls/{callID}/operations/{opID}
//
// optionally after a /v1.0 or /beta segment, and optionally as an absolute
// https URL (any host: the token, not the URL, says who sent it). Anything
// else (another sub-resource such as /participants, a query, a trailing
// slash, an ID graph.ValidateCallID refuses, "." or "..") is not recognised.
func parseResourceURL(raw string) (resource, error) {
	path := raw
	if strings.HasPrefix(strings.ToLower(raw), "https://") {
		u, err := url.Parse(raw)
		if err != nil {
			return resource{}, fmt.Errorf("resourceUrl is not a URL: %v", err)
		}
		if u.RawQuery != "" || u.Fragment != "" || u.RawPath != "" {
			return resource{}, errors.New("resourceUrl has a query, a fragment or escaped characters")
		}
		path = u.Path
	}
	if !strings.HasPrefix(path, "/") {
		return resource{}, errors.New("resourceUrl is neither an absolute path nor an https URL")
	}
	segs := strings.Split(path[1:], "/")
	if len(segs) > 0 && (strings.EqualFold(segs[0], "v1.0") || strings.EqualFold(segs[0], "beta")) {
		segs = segs[1:]
	}
	if len(segs) < 3 || !(strings.EqualFold(segs[0], "communications") || strings.EqualFold(segs[0], "app")) ||
		!strings.EqualFold(segs[1], "calls") {
		return resource{}, errors.New("resourceUrl does not name a call")
	}
	res := resource{callID: segs[2]}
	if err := checkID(res.callID); err != nil {
		return resource{}, fmt.Errorf("resourceUrl's call ID: %w", err)
	}
	switch {
	case len(segs) == 3:
		return res, nil
	case len(segs) == 5 && strings.EqualFold(segs[3], "operations"):
		res.operationID = segs[4]
		if err := checkID(res.operationID); err != nil {
			return resource{}, fmt.Errorf("resourceUrl's operation ID: %w", err)
		}
		return res, nil
	}
	return resource{}, errors.New("resourceUrl names neither a call nor one of its operations")
}

// checkID refuses IDs that could not have named a resource: those
// graph.ValidateCallID refuses, and the dot-segments "." and "..".
func checkID(id string) error {
	if id == "." || id == ".." {
		return fmt.Errorf("%w: %q is a path dot-segment", graph.ErrInvalidCallID, id)
	}
	return graph.ValidateCallID(id)
}

// callData is the part of a #microsoft.graph.call the handler reads.
type callData struct {
	ODataType string `json:"@odata.type"`
	ID        string `json:"id"`
	State     string `json:"state"`
}

// operationData is the part of an operation's resourceData read before
// graph.ParseOperation.
type operationData struct {
	ODataType string `json:"@odata.type"`
}

// parseItem turns one authenticated item into a notification, or says why it
// is not one recgate acts on (ok false: acknowledged and logged, nothing
// handed on). The caller fills Issuer, Tenant and Received.
func parseItem(raw json.RawMessage) (n graph.Notification, ok bool, why string) {
	var item commsNotification
	if err := json.Unmarshal(raw, &item); err != nil {
		return n, false, "item is not a commsNotification object: " + err.Error()
	}
	n.ChangeType, n.ResourceURL = item.ChangeType, item.ResourceURL
	res, err := parseResourceURL(item.ResourceURL)
	if err != nil {
		return n, false, err.Error()
	}
	n.CallID = res.callID
	if res.operationID != "" {
		return parseOperationItem(n, res, item.ResourceData)
	}
	return parseCallItem(n, item)
}

// parseOperationItem reads an operation update. Any changeType is accepted
// (Graph reports a finished operation as "deleted"): the status in
// resourceData is what counts.
func parseOperationItem(n graph.Notification, res resource, data json.RawMessage) (graph.Notification, bool, string) {
	var head operationData
	if err := json.Unmarshal(data, &head); err != nil {
		return n, false, "operation resourceData is not a JSON object"
	}
	if !strings.EqualFold(head.ODataType, graph.OperationODataType) {
		return n, false, fmt.Sprintf("operation of type %q, not %s", head.ODataType, graph.OperationODataType)
	}
	op, err := graph.ParseOperation(data)
	if err != nil {
		return n, false, err.Error()
	}
	switch {
	case op.ID == "":
		op.ID = res.operationID
	case !strings.EqualFold(op.ID, res.operationID):
		return n, false, fmt.Sprintf("resourceData id %q differs from the resourceUrl's operation %q", op.ID, res.operationID)
	}
	n.Kind = graph.NotificationOperation
	n.Operation = op
	return n, true, ""
}

// parseCallItem reads a call update: the call ended if it was deleted, or if
// its new state is terminated.
func parseCallItem(n graph.Notification, item commsNotification) (graph.Notification, bool, string) {
	var call callData
	if len(item.ResourceData) > 0 && string(item.ResourceData) != "null" {
		if err := json.Unmarshal(item.ResourceData, &call); err != nil {
			return n, false, "call resourceData is not a JSON object"
		}
	}
	if call.ID != "" && !strings.EqualFold(call.ID, n.CallID) {
		return n, false, fmt.Sprintf("resourceData id %q differs from the resourceUrl's call %q", call.ID, n.CallID)
	}
	switch {
	case strings.EqualFold(item.ChangeType, "deleted"):
	case strings.EqualFold(call.ODataType, callODataType) && strings.EqualFold(call.State, "terminated"):
	default:
		return n, false, fmt.Sprintf("call update (changeType %q, state %q) that does not end the call", item.ChangeType, call.State)
	}
	n.Kind = graph.NotificationCallEnded
	return n, true, ""
}
