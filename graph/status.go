package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Status is the recording status a bot reports to Graph with
// updateRecordingStatus.
type Status string

// The three recording statuses the API accepts.
const (
	// StatusNotRecording says the bot has stopped (or never started) persisting
	// media. Rule R2: the bot must have ended its recording before it sends this.
	StatusNotRecording Status = "notRecording"
	// StatusRecording asks for permission to record. Rule R1: media may be
	// persisted only after this request got a completed reply.
	StatusRecording Status = "recording"
	// StatusFailed says the bot's recording broke. Like notRecording, it must be
	// sent only after persistence has ended.
	StatusFailed Status = "failed"
)

var statuses = []Status{StatusNotRecording, StatusRecording, StatusFailed}

// ParseStatus reads a recording status, ignoring case ("Recording" and
// "recording" are the same). An unknown value is an error.
func ParseStatus(s string) (Status, error) {
	for _, v := range statuses {
		if strings.EqualFold(s, string(v)) {
			return v, nil
		}
	}
	return "", fmt.Errorf("graph: unknown recording status %q: want notRecording, recording or failed", s)
}

// Valid reports whether s is one of the three statuses the API accepts, in
// its canonical spelling.
func (s Status) Valid() bool {
	for _, v := range statuses {
		if s == v {
			return true
		}
	}
	return false
}

// String returns the canonical wire spelling.
func (s Status) String() string { return string(s) }

// MarshalJSON refuses to write a status Graph would reject.
func (s Status) MarshalJSON() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("graph: cannot send recording status %q: want notRecording, recording or failed", string(s))
	}
	// The valid statuses are plain ASCII: no escaping needed.
	return []byte(`"` + string(s) + `"`), nil
}

// UnmarshalJSON parses a status case-insensitively.
func (s *Status) UnmarshalJSON(b []byte) error {
	raw, err := jsonString(b)
	if err != nil {
		return fmt.Errorf("graph: recording status is not a JSON string: %w", err)
	}
	v, err := ParseStatus(raw)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// OperationStatus is the status of an updateRecordingStatusOperation.
//
// The zero value (empty) stands for a reply whose status was missing or null:
// it is pending, never a success.
type OperationStatus string

// The operation statuses Graph documents.
const (
	OperationNotStarted OperationStatus = "notStarted"
	OperationRunning    OperationStatus = "running"
	OperationCompleted  OperationStatus = "completed"
	OperationFailed     OperationStatus = "failed"
)

var operationStatuses = []OperationStatus{OperationNotStarted, OperationRunning, OperationCompleted, OperationFailed}

// ParseOperationStatus reads an operation status case-insensitively. The
// empty string parses as the zero value (missing status, which is pending).
// An unknown value is an error: it must never be taken for success.
func ParseOperationStatus(s string) (OperationStatus, error) {
	if s == "" {
		return "", nil
	}
	for _, v := range operationStatuses {
		if strings.EqualFold(s, string(v)) {
			return v, nil
		}
	}
	return "", fmt.Errorf("graph: unknown operation status %q: want notStarted, running, completed or failed", s)
}

// Known reports whether s is a documented status or the zero value.
func (s OperationStatus) Known() bool {
	if s == "" {
		return true
	}
	for _, v := range operationStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// Confirmed reports whether s is a success reply: completed, and nothing else.
func (s OperationStatus) Confirmed() bool { return s == OperationCompleted }

// Pending reports whether the outcome is still to come: notStarted, running,
// or a missing status.
func (s OperationStatus) Pending() bool {
	return s == "" || s == OperationNotStarted || s == OperationRunning
}

// Accepted reports whether Graph took the request: completed or pending.
// That is enough for notRecording and failed, which are sent after
// persistence has ended; it is not enough for recording (see Confirmed).
func (s OperationStatus) Accepted() bool { return s.Confirmed() || s.Pending() }

// Refused reports whether Graph refused the update (failed).
func (s OperationStatus) Refused() bool { return s == OperationFailed }

// String returns the canonical spelling, or "missing" for the zero value.
func (s OperationStatus) String() string {
	if s == "" {
		return "missing"
	}
	return string(s)
}

// UnmarshalJSON parses an operation status case-insensitively; JSON null
// leaves the zero value (pending).
func (s *OperationStatus) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = ""
		return nil
	}
	raw, err := jsonString(b)
	if err != nil {
		return fmt.Errorf("graph: operation status is not a JSON string: %w", err)
	}
	v, err := ParseOperationStatus(raw)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MarshalJSON writes the canonical spelling, or null for a missing status.
func (s OperationStatus) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	if !s.Known() {
		return nil, fmt.Errorf("graph: cannot write unknown operation status %q", string(s))
	}
	return []byte(`"` + string(s) + `"`), nil
}

// jsonString decodes a JSON string. Enum values have no escapes, so the
// common case is a slice between the quotes; anything else goes through
// encoding/json.
func jsonString(b []byte) (string, error) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && bytes.IndexByte(b[1:len(b)-1], '\\') < 0 && bytes.IndexByte(b[1:len(b)-1], '"') < 0 {
		inner := b[1 : len(b)-1]
		if utf8.Valid(inner) && bytes.IndexFunc(inner, func(r rune) bool { return r < 0x20 }) < 0 {
			return string(inner), nil
		}
	}
	var raw string
	err := json.Unmarshal(b, &raw)
	return raw, err
}
