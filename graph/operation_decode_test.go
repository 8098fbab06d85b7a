package graph

import (
	"reflect"
	"strings"
	"testing"
)

// The fast decoder must never disagree with encoding/json: whatever it
// decodes, encoding/json decodes to the same Operation without error, and
// ParseOperation (fast path or not) gives exactly what encoding/json-based
// parsing gives, error text included.

const graphReply = `{"@odata.type":"#microsoft.graph.updateRecordingStatusOperation","clientContext":"cc-1","id":"0fe0623f-d628-42ed-b4bd-8ac290072cc5","resultInfo":null,"status":"completed"}` + "\n"

// decoderCases are bodies the fast path should take (fast: true) and
// bodies it must leave to encoding/json; wantErr says whether
// ParseOperation refuses them.
var decoderCases = []struct {
	name    string
	body    string
	fast    bool
	wantErr bool
}{
	{"graphtest's reply", graphReply, true, false},
	{"the API page, indented", "{\r\n  \"@odata.type\": \"#microsoft.graph.updateRecordingStatusOperation\",\n\t\"clientContext\": \"clientContext-value\",\n  \"id\": \"0fe0623f\",\n  \"resultInfo\": null,\n  \"status\": \"completed\"\n}", true, false},
	{"PascalCase status", `{"id":"x","status":"Completed"}`, true, false},
	{"upper-case status", `{"id":"x","status":"NOTSTARTED"}`, true, false},
	{"null status is missing", `{"id":"x","status":null}`, true, false},
	{"empty status is missing", `{"id":"x","status":""}`, true, false},
	{"no status", `{"id":"x","clientContext":"c"}`, true, false},
	{"failed, no resultInfo", `{"id":"x","status":"failed"}`, true, false},
	{"null strings", `{"@odata.type":null,"id":null,"clientContext":null,"status":"running"}`, true, false},
	{"empty object", `{}`, true, false},
	{"empty object, spaces", " \n{ } \t", true, false},
	{"non-ASCII id", `{"id":"opé-ü-🎙","status":"running"}`, true, false},
	{"another @odata.type is data", `{"@odata.type":"#microsoft.graph.somethingElse","status":"running"}`, true, false},

	// Left to encoding/json, which accepts them.
	{"resultInfo object", `{"id":"x","status":"failed","resultInfo":{"code":403,"subcode":8506,"message":"m"}}`, false, false},
	{"escaped status", `{"status":"\u0063ompleted"}`, false, false},
	{"escaped id", `{"id":"a\"b","status":"running"}`, false, false},
	{"key in another casing", `{"STATUS":"completed"}`, false, false},
	{"key folding to status in Unicode", `{"ſtatus":"completed"}`, false, false},
	{"status folding to notStarted in Unicode", `{"status":"notſtarted"}`, false, false},
	{"unknown key", `{"@odata.context":"x","status":"completed"}`, false, false},
	{"duplicate key, last wins", `{"status":"running","status":"completed"}`, false, false},
	{"duplicate null then value", `{"id":null,"id":"x"}`, false, false},
	{"null body: not an object", `null`, false, true},
	{"invalid UTF-8 in id", "{\"id\":\"a\xffb\",\"status\":\"running\"}", false, false},

	// Refused, by encoding/json's words.
	{"empty", ``, false, true},
	{"spaces only", "  \n", false, true},
	{"array", `[]`, false, true},
	{"string", `"x"`, false, true},
	{"unknown status", `{"status":"succeeded"}`, false, true},
	{"status prefix", `{"status":"complete"}`, false, true},
	{"status number", `{"status":1}`, false, true},
	{"status true", `{"status":true}`, false, true},
	{"id number", `{"id":5,"status":"completed"}`, false, true},
	{"resultInfo string", `{"status":"failed","resultInfo":"x"}`, false, true},
	{"resultInfo code float", `{"status":"failed","resultInfo":{"code":1.5}}`, false, true},
	{"trailing data", graphReply + `x`, false, true},
	{"trailing object", `{"status":"completed"}{}`, false, true},
	{"trailing comma", `{"status":"completed",}`, false, true},
	{"missing colon", `{"status" "completed"}`, false, true},
	{"missing value", `{"id": }`, false, true},
	{"unterminated object", `{"status":"completed"`, false, true},
	{"unterminated string", `{"status":"completed`, false, true},
	{"control character in string", "{\"id\":\"a\nb\",\"status\":\"completed\"}", false, true},
	{"nul", `{"status":nul}`, false, true},
	{"nullx", `{"status":nullx}`, false, true},
	{"single quotes", `{'status':'completed'}`, false, true},
	{"BOM", "\xef\xbb\xbf{\"status\":\"completed\"}", false, true},
	{"truncated API page", graphReply[:len(graphReply)/2], false, true},
}

func TestFastDecoderAgreesWithEncodingJSON(t *testing.T) {
	for _, tc := range decoderCases {
		t.Run(tc.name, func(t *testing.T) {
			checkDecoderAgreement(t, []byte(tc.body))
			_, fast := decodeOperationFast([]byte(tc.body))
			if fast != tc.fast {
				t.Errorf("fast path taken: %v, want %v", fast, tc.fast)
			}
			_, err := ParseOperation([]byte(tc.body))
			if (err != nil) != tc.wantErr {
				t.Errorf("ParseOperation error %v, want an error: %v", err, tc.wantErr)
			}
		})
	}
}

// A refused reply is refused whatever it looks like around the part that
// makes it wrong: a bad status is found at any position among the usual
// members.
func TestFastDecoderRefusesABadStatusAnywhere(t *testing.T) {
	members := []string{`"@odata.type":"` + OperationODataType + `"`, `"clientContext":"cc"`, `"id":"op"`, `"resultInfo":null`}
	for _, bad := range []string{`"succeeded"`, `"completedd"`, `"Complete"`, `1`, `{}`, `[]`, `false`} {
		for at := 0; at <= len(members); at++ {
			all := append(append(append([]string{}, members[:at]...), `"status":`+bad), members[at:]...)
			body := []byte("{" + strings.Join(all, ",") + "}")
			op, err := ParseOperation(body)
			if err == nil {
				t.Errorf("%s: accepted as %+v", body, op)
			}
			if op != (Operation{}) {
				t.Errorf("%s: error %v with a non-zero operation %+v", body, err, op)
			}
			checkDecoderAgreement(t, body)
		}
	}
}

// checkDecoderAgreement holds the fast decoder and ParseOperation to
// decodeOperationJSON's answer for body.
func checkDecoderAgreement(t *testing.T, body []byte) {
	t.Helper()
	ref, refErr := decodeOperationJSON(body)
	if op, ok := decodeOperationFast(body); ok {
		if refErr != nil {
			t.Fatalf("%q: the fast decoder accepted %+v, encoding/json refuses: %v", body, op, refErr)
		}
		if !reflect.DeepEqual(op, ref) {
			t.Fatalf("%q: the fast decoder read %+v, encoding/json %+v", body, op, ref)
		}
	}
	got, err := ParseOperation(body)
	if !reflect.DeepEqual(got, ref) {
		t.Fatalf("%q: ParseOperation read %+v, encoding/json %+v", body, got, ref)
	}
	if (err == nil) != (refErr == nil) || (err != nil && err.Error() != refErr.Error()) {
		t.Fatalf("%q: ParseOperation error %v, encoding/json's %v", body, err, refErr)
	}
}

// FuzzFastDecoderAgreesWithEncodingJSON: for any bytes, the fast decoder
// and ParseOperation agree with encoding/json-based parsing.
func FuzzFastDecoderAgreesWithEncodingJSON(f *testing.F) {
	for _, tc := range decoderCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkDecoderAgreement(t, body)
	})
}
