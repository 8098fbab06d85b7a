package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// ParseOperation decodes an updateRecordingStatusOperation body. Status is
// read case-insensitively; an unknown status or a body that is not a JSON
// object is an error.
//
// It reads exactly as encoding/json does into the Operation's fields (keys
// matched case-insensitively, unknown keys ignored, the last of duplicate
// keys winning, null leaving a field empty, trailing data refused). The
// common reply, Graph's own shape, takes a fast path that decodes nothing
// encoding/json would read differently: whatever it is unsure of goes
// through encoding/json, so the result and every error are the same.
func ParseOperation(body []byte) (Operation, error) {
	if op, ok := decodeOperationFast(body); ok {
		return op, nil
	}
	return decodeOperationJSON(body)
}

// decodeOperationJSON is ParseOperation with encoding/json: the reference
// for what is accepted and how, and the path for every body the fast
// decoder leaves alone.
func decodeOperationJSON(body []byte) (Operation, error) {
	// Decoding the status as a plain string and parsing it afterwards is
	// about twice as fast as the OperationStatus unmarshaler (JSON null
	// decodes as "", which is "missing", as it should).
	var w struct {
		ODataType     string          `json:"@odata.type"`
		ID            string          `json:"id"`
		ClientContext string          `json:"clientContext"`
		Status        json.RawMessage `json:"status"`
		ResultInfo    *ResultInfo     `json:"resultInfo"`
	}
	// encoding/json reads null into a struct as "nothing to do": refuse
	// anything but an object before it does.
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return Operation{}, fmt.Errorf("graph: reply is not an updateRecordingStatusOperation: the body is not a JSON object")
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return Operation{}, fmt.Errorf("graph: reply is not an updateRecordingStatusOperation: %w", err)
	}
	op := Operation{ODataType: w.ODataType, ID: w.ID, ClientContext: w.ClientContext, ResultInfo: w.ResultInfo}
	if len(w.Status) > 0 {
		if err := op.Status.UnmarshalJSON(w.Status); err != nil {
			return Operation{}, fmt.Errorf("graph: reply is not an updateRecordingStatusOperation: %w", err)
		}
	}
	return op, nil
}

// Members of an operation body the fast decoder knows, as bits so that a
// repeated key is noticed.
const (
	memberODataType = 1 << iota
	memberID
	memberClientContext
	memberStatus
	memberResultInfo
)

// decodeOperationFast decodes the body Graph sends, and nothing else: one
// JSON object whose keys are exactly "@odata.type", "id",
// "clientContext", "status" and "resultInfo" (each at most once), whose
// values are strings without escapes or control characters in valid UTF-8
// (or null), with resultInfo null and the status one encoding/json-based
// parsing accepts. For such a body the result is what decodeOperationJSON
// gives, byte for byte. Anything else (another key, a key in another
// casing, a duplicate, an escape, a number, a resultInfo object, trailing
// data, malformed JSON) returns ok == false, and the caller decodes with
// encoding/json, which accepts or refuses it with its own error.
func decodeOperationFast(b []byte) (op Operation, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return Operation{}, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return Operation{}, skipSpace(b, i+1) == len(b)
	}
	var seen int
	for {
		key, next, isString := plainString(b, i)
		if !isString {
			return Operation{}, false
		}
		var member int
		switch string(key) { // no allocation: the compiler compares in place
		case "@odata.type":
			member = memberODataType
		case "id":
			member = memberID
		case "clientContext":
			member = memberClientContext
		case "status":
			member = memberStatus
		case "resultInfo":
			member = memberResultInfo
		default:
			return Operation{}, false
		}
		if seen&member != 0 {
			return Operation{}, false
		}
		seen |= member
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return Operation{}, false
		}
		i = skipSpace(b, i+1)
		value, next, isNull := b[:0], i, false
		switch {
		case hasNull(b, i):
			isNull, next = true, i+4
		default:
			value, next, isString = plainString(b, i)
			if !isString {
				return Operation{}, false
			}
		}
		switch member {
		case memberResultInfo:
			if !isNull {
				return Operation{}, false // an object: encoding/json reads it
			}
		case memberStatus:
			if !isNull {
				s, known := operationStatusASCIIFold(value)
				if !known {
					return Operation{}, false // encoding/json words the error
				}
				op.Status = s
			}
		case memberODataType:
			if string(value) == OperationODataType {
				op.ODataType = OperationODataType // no copy of the usual value
			} else {
				op.ODataType = string(value)
			}
		case memberID:
			op.ID = string(value)
		case memberClientContext:
			op.ClientContext = string(value)
		}
		i = skipSpace(b, next)
		if i >= len(b) {
			return Operation{}, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return op, skipSpace(b, i+1) == len(b)
		default:
			return Operation{}, false
		}
	}
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// hasNull reports whether the literal null starts at b[i]. What follows
// it is checked by the caller, which wants ',' or '}'.
func hasNull(b []byte, i int) bool {
	return len(b)-i >= 4 && b[i] == 'n' && b[i+1] == 'u' && b[i+2] == 'l' && b[i+3] == 'l'
}

// plainString reads the JSON string starting at b[i] when it needs no
// decoding: no escape, no control character, valid UTF-8, so its bytes
// are its value (encoding/json would return the same bytes). It returns
// the bytes between the quotes and the index after the closing quote; ok
// is false for anything else, including a string that needs decoding.
func plainString(b []byte, i int) (value []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	start := i + 1
	ascii := true
	for j := start; j < len(b); j++ {
		c := b[j]
		switch {
		case c == '"':
			value = b[start:j]
			if !ascii && !utf8.Valid(value) {
				return nil, i, false
			}
			return value, j + 1, true
		case c == '\\' || c < 0x20:
			return nil, i, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, i, false
}

// operationStatusASCIIFold finds the operation status v spells, ignoring
// ASCII case ("" for an empty v, as ParseOperationStatus). Every match is
// one strings.EqualFold (which ParseOperationStatus uses) also makes;
// known is false when v matches none in ASCII, and the caller leaves v to
// ParseOperationStatus, which also knows Unicode's wider folding.
func operationStatusASCIIFold(v []byte) (s OperationStatus, known bool) {
	if len(v) == 0 {
		return "", true
	}
	for _, candidate := range operationStatuses {
		if equalFoldASCII(v, string(candidate)) {
			return candidate, true
		}
	}
	return "", false
}

// equalFoldASCII reports whether b and s are equal when ASCII letters are
// compared without case; any other byte must be equal.
func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}
