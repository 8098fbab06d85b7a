package graphquirks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"pgregory.net/rapid"

	"github.com/recgate/recgate/graph"
)

// graph.ParseOperation decodes Graph's usual reply by hand and leaves the
// rest to encoding/json. These tests hold it to a reading written here
// with encoding/json alone: for every body, both accept or both refuse,
// and what they accept is the same Operation.

// referenceParse reads an updateRecordingStatusOperation with
// encoding/json: its rules for names (case-insensitive), duplicates (the
// last wins), null (leaves the field empty) and trailing data (refused);
// the status a JSON string read ignoring case, or null, or absent. A body
// that is not an object (null included) is refused, as the API page's
// reply is an object.
func referenceParse(body []byte) (graph.Operation, error) {
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return graph.Operation{}, errors.New("not a JSON object")
	}
	var w struct {
		ODataType     string            `json:"@odata.type"`
		ID            string            `json:"id"`
		ClientContext string            `json:"clientContext"`
		Status        json.RawMessage   `json:"status"`
		ResultInfo    *graph.ResultInfo `json:"resultInfo"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return graph.Operation{}, err
	}
	op := graph.Operation{ODataType: w.ODataType, ID: w.ID, ClientContext: w.ClientContext, ResultInfo: w.ResultInfo}
	if len(w.Status) == 0 || string(w.Status) == "null" {
		return op, nil
	}
	var s string
	if err := json.Unmarshal(w.Status, &s); err != nil {
		return graph.Operation{}, err
	}
	if s == "" {
		return op, nil
	}
	for _, v := range []graph.OperationStatus{graph.OperationNotStarted, graph.OperationRunning, graph.OperationCompleted, graph.OperationFailed} {
		if strings.EqualFold(s, string(v)) {
			op.Status = v
			return op, nil
		}
	}
	return graph.Operation{}, fmt.Errorf("unknown status %q", s)
}

// agree fails t unless ParseOperation and referenceParse agree on body.
func agree(t interface {
	Helper()
	Fatalf(string, ...any)
}, body []byte) {
	t.Helper()
	got, gotErr := graph.ParseOperation(body)
	want, wantErr := referenceParse(body)
	switch {
	case (gotErr == nil) != (wantErr == nil):
		t.Fatalf("body %q: ParseOperation err %v, encoding/json err %v", body, gotErr, wantErr)
	case gotErr != nil:
		if got != (graph.Operation{}) {
			t.Fatalf("body %q: ParseOperation returned %+v with its error", body, got)
		}
	case !reflect.DeepEqual(got, want):
		t.Fatalf("body %q:\n ParseOperation %#v\n encoding/json  %#v", body, got, want)
	}
}

// jsonValue draws a string for the value of a member: mostly Graph's
// plain strings, sometimes ones that need escapes, invalid UTF-8, nulls,
// numbers, objects.
func stringValue(t *rapid.T, label string, plain []string) string {
	switch rapid.IntRange(0, 9).Draw(t, label+"-kind") {
	case 0:
		return "null"
	case 1:
		return rapid.SampledFrom([]string{"0", "-1", "1.5e3", "true", "false", "[]", "{}", `{"a":"b"}`, `["x"]`}).Draw(t, label+"-other")
	case 2:
		// Escaped: every rune as \uXXXX (surrogate pairs beyond the BMP).
		s := rapid.SampledFrom(plain).Draw(t, label+"-esc")
		var b strings.Builder
		b.WriteByte('"')
		for _, r := range s {
			if r > 0xFFFF {
				r -= 0x10000
				fmt.Fprintf(&b, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
				continue
			}
			fmt.Fprintf(&b, `\u%04X`, r)
		}
		b.WriteByte('"')
		return b.String()
	case 3:
		// Raw bytes: control characters, quotes, backslashes, invalid UTF-8.
		raw := rapid.SliceOfN(rapid.SampledFrom([]byte{'a', 'Z', ' ', 0x00, 0x1f, 0x7f, '"', '\\', '/', 0xc3, 0xa9, 0xff, 0xe2, 0x80, 0xa8}), 0, 8).Draw(t, label+"-raw")
		return `"` + string(raw) + `"`
	default:
		return quote(rapid.SampledFrom(plain).Draw(t, label+"-plain"))
	}
}

// operationBody draws a body in Graph's shape, varied the ways a real
// service, a proxy or a broken one could vary it.
func operationBody(t *rapid.T) []byte {
	statuses := []string{"completed", "Completed", "COMPLETED", "running", "Running", "notStarted", "NotStarted", "notſtarted",
		"failed", "Failed", "", "succeeded", "completed ", "complete", "ｃompleted", "é"}
	names := map[string][]string{
		"@odata.type":    {"@odata.type", "@ODATA.TYPE", "@odata.Type"},
		"id":             {"id", "Id", "ID"},
		"clientContext":  {"clientContext", "clientcontext", "ClientContext"},
		"status":         {"status", "Status", "STATUS", "ſtatus", "statuſ"},
		"resultInfo":     {"resultInfo", "resultinfo", "ResultInfo"},
		"@odata.context": {"@odata.context"},
		"unknown":        {"futureField", "stat", "statusx", "clientContext2", ""},
	}
	values := map[string]func() string{
		"@odata.type": func() string {
			return stringValue(t, "type", []string{"#microsoft.graph.updateRecordingStatusOperation", "microsoft.graph.updateRecordingStatusOperation", "#microsoft.graph.commsOperation"})
		},
		"id": func() string {
			return stringValue(t, "id", []string{"0fe0623f-d628-42ed-b4bd-8ac290072cc5", "op", "", "é/ü"})
		},
		"clientContext": func() string {
			return stringValue(t, "cc", []string{"cc-1", "", "café", "a\u2028b", "🙂", strings.Repeat("x", 256)})
		},
		"status": func() string { return stringValue(t, "status", statuses) },
		"resultInfo": func() string {
			return rapid.SampledFrom([]string{"null", "{}", `{"code":200,"subcode":0,"message":"ok"}`, `{"code":403,"subcode":8506,"message":"no"}`,
				`{"code":403.0}`, `{"code":"403"}`, `{"Code":1,"CODE":2}`, `[]`, `"x"`, `{"message":null}`, `{"code":1e2}`, `{"code":-0}`}).Draw(t, "resultInfo")
		},
		"@odata.context": func() string { return stringValue(t, "ctx", []string{"https://graph.microsoft.com/v1.0/$metadata#x"}) },
		"unknown":        func() string { return stringValue(t, "unknown", []string{"completed", "x"}) },
	}
	space := func(label string) string {
		return rapid.SampledFrom([]string{"", "", "", " ", "\n", "\r\n  ", "\t"}).Draw(t, label)
	}
	keys := rapid.SliceOfN(rapid.SampledFrom([]string{"@odata.type", "id", "clientContext", "status", "resultInfo", "@odata.context", "unknown", "status", "clientContext"}), 0, 8).Draw(t, "keys")
	var b strings.Builder
	b.WriteString(space("lead") + "{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(space("beforecomma") + ",")
		}
		name := rapid.SampledFrom(names[k]).Draw(t, "name")
		b.WriteString(space("beforekey") + quote(name) + space("beforecolon") + ":" + space("aftercolon") + values[k]())
	}
	b.WriteString(space("end") + "}" + space("trail"))
	body := []byte(b.String())
	// Sometimes break it: cut it, drop a byte, insert one, or add a tail.
	switch rapid.IntRange(0, 7).Draw(t, "mutation") {
	case 0:
		body = body[:rapid.IntRange(0, len(body)).Draw(t, "cut")]
	case 1:
		if len(body) > 0 {
			i := rapid.IntRange(0, len(body)-1).Draw(t, "drop")
			body = append(body[:i:i], body[i+1:]...)
		}
	case 2:
		i := rapid.IntRange(0, len(body)).Draw(t, "at")
		c := rapid.SampledFrom([]byte{'{', '}', '"', ',', ':', '\\', 'n', ' ', 0, 0xff}).Draw(t, "byte")
		body = append(body[:i:i], append([]byte{c}, body[i:]...)...)
	case 3:
		body = append(body, rapid.SampledFrom([]string{"{}", "x", "null", ",", "\x00", "\ufeff"}).Draw(t, "tail")...)
	}
	return body
}

// The differential property over drawn bodies, valid and not.
func TestParseOperationAgreesWithEncodingJSON(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		agree(t, operationBody(t))
	})
}

// Every body the fast path can take: Graph's exact member names, each at
// most once, plain strings or null, resultInfo null. Drawn so that almost
// all of them are valid, which the property above reaches less often.
func TestParseOperationAgreesOnGraphsOwnShape(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		members := rapid.Permutation([]string{"@odata.type", "id", "clientContext", "status", "resultInfo"}).Draw(t, "order")
		n := rapid.IntRange(0, len(members)).Draw(t, "n")
		var parts []string
		for _, m := range members[:n] {
			var v string
			switch m {
			case "resultInfo":
				v = "null"
			case "status":
				v = quote(rapid.SampledFrom([]string{"completed", "Completed", "cOmPlEtEd", "running", "NOTSTARTED", "failed", ""}).Draw(t, "status"))
			default:
				v = quote(rapid.StringMatching(`[ -~\x{e9}\x{1F642}]{0,12}`).Draw(t, m))
			}
			if rapid.IntRange(0, 5).Draw(t, "null") == 0 {
				v = "null"
			}
			parts = append(parts, quote(m)+rapid.SampledFrom([]string{":", " : ", ":\n"}).Draw(t, "colon")+v)
		}
		body := []byte("{" + strings.Join(parts, rapid.SampledFrom([]string{",", ", ", ",\r\n"}).Draw(t, "comma")) + "}")
		agree(t, body)
		if op, err := graph.ParseOperation(body); err != nil {
			t.Fatalf("Graph's own shape %q refused: %v", body, err)
		} else if !utf8.ValidString(op.ClientContext) {
			t.Fatalf("clientContext %q is not UTF-8", op.ClientContext)
		}
	})
}

// The same property as a fuzz target (go test -fuzz=FuzzParseOperation),
// seeded with the quirks this package's fake sends.
func FuzzParseOperation(f *testing.F) {
	for _, s := range []string{
		pageReply("cc", "completed"),
		`{"@odata.context":"x","@odata.type":"microsoft.graph.updateRecordingStatusOperation","status":"Completed"}`,
		`{"status":"running","status":"completed"}`, `{"Status":"completed"}`, `{"ſtatus":"completed"}`,
		`{"clientContext":"caf\u00e9\/x","status":"completed"}`, "\ufeff{}", "null", "{}", `{"status":null}`,
		`{"resultInfo":{"code":403.0,"subcode":8506}}`, `{"status":"completed"} x`, `{"id":"\ud800"}`, "{\"id\":\"\xff\"}",
		`{"status":"completed",}`, `{"status" "completed"}`, `{"status":nul}`, `{"status":nullx}`, `{"resultInfo":null,"resultInfo":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		agree(t, body)
	})
}
