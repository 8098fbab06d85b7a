package graph

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

// errorBody is Graph's error envelope.
type errorBody struct {
	Error *errorDetail `json:"error"`
}

type errorDetail struct {
	Code       string          `json:"code"`
	Message    string          `json:"message"`
	InnerError json.RawMessage `json:"innerError"`
}

type innerError struct {
	Code            string          `json:"code"`
	Message         string          `json:"message"`
	RequestID       string          `json:"request-id"`
	ClientRequestID string          `json:"client-request-id"`
	Date            string          `json:"date"`
	InnerError      json.RawMessage `json:"innerError"`
}

// maxInnerDepth bounds the walk through nested innerError objects.
const maxInnerDepth = 16

// ParseErrorBody fills a *Error from a non-2xx reply's body: Graph's
// {"error": {"code", "message", "innerError": {...}}}, with nested inner
// errors walked (their codes collected, request ids taken from the first
// that has them). A body that is not Graph JSON (an HTML page from a
// gateway, say) still gives an Error, whose Message says what arrived.
func ParseErrorBody(statusCode int, contentType string, body []byte) *Error {
	e := &Error{StatusCode: statusCode}
	var env errorBody
	if err := json.Unmarshal(body, &env); err != nil || env.Error == nil {
		e.Message = describeNonGraphBody(contentType, body)
		return e
	}
	e.Code, e.Message = env.Error.Code, env.Error.Message
	raw := env.Error.InnerError
	for depth := 0; len(raw) > 0 && string(raw) != "null" && depth < maxInnerDepth; depth++ {
		var in innerError
		if json.Unmarshal(raw, &in) != nil {
			break
		}
		if in.Code != "" {
			e.InnerCodes = append(e.InnerCodes, in.Code)
		}
		if e.RequestID == "" {
			e.RequestID = in.RequestID
		}
		if e.ClientRequestID == "" {
			e.ClientRequestID = in.ClientRequestID
		}
		if e.Date == "" {
			e.Date = in.Date
		}
		raw = in.InnerError
	}
	return e
}

// describeNonGraphBody says what arrived instead of Graph's JSON, in a
// short, printable form fit for an error message.
func describeNonGraphBody(contentType string, body []byte) string {
	if len(body) == 0 {
		return "empty reply body"
	}
	snippet := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, string(body[:min(len(body), 120)]))
	if contentType == "" {
		contentType = "no Content-Type"
	}
	return fmt.Sprintf("reply is not a Graph error body (%s, %d bytes): %q", contentType, len(body), strings.Join(strings.Fields(snippet), " "))
}
