package graphquirks

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/recgate/recgate/graph"
)

// The page's own reply, and replies that say the same thing as real Graph
// and OData serializers write them: the client must read each as the
// operation it is.
func TestReplyShapesGraphSends(t *testing.T) {
	const opID = "0fe0623f-d628-42ed-b4bd-8ac290072cc5"
	wantPageFields := func(t *testing.T, op graph.Operation, _ error) {
		t.Helper()
		if op.ID != opID {
			t.Errorf("ID %q, want %q from the body", op.ID, opID)
		}
		if !strings.HasSuffix(op.Location, "/operations/op-loc") {
			t.Errorf("Location %q not kept", op.Location)
		}
		if op.RequestID != "fake-request-id" {
			t.Errorf("RequestID %q, want the request-id header", op.RequestID)
		}
		if op.ClientRequestID == "" {
			t.Error("ClientRequestID is empty")
		}
	}
	body := func(cc, rest string) func(http.ResponseWriter, seenRequest) {
		return func(w http.ResponseWriter, req seenRequest) {
			reply(w, req.OperationURL("op-loc"), strings.ReplaceAll(rest, "$CC", quote(req.ClientContext)))
		}
	}
	runQuirks(t, []quirk{
		{name: "the page's reply", want: confirmed, check: wantPageFields,
			answer: func(w http.ResponseWriter, req seenRequest) {
				reply(w, req.OperationURL("op-loc"), pageReply(req.ClientContext, "completed"))
			}},
		{name: "odata.context and a type without #", want: confirmed, check: wantPageFields,
			answer: body("", `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.updateRecordingStatusOperation","@odata.type":"microsoft.graph.updateRecordingStatusOperation","clientContext":$CC,"id":"`+opID+`","resultInfo":null,"status":"completed"}`)},
		{name: "fields in another order", want: confirmed, check: wantPageFields,
			answer: body("", `{"status":"completed","resultInfo":null,"id":"`+opID+`","clientContext":$CC,"@odata.type":"#microsoft.graph.updateRecordingStatusOperation"}`)},
		{name: "unknown fields of every JSON kind", want: confirmed, check: wantPageFields,
			answer: body("", `{"@odata.type":"#microsoft.graph.updateRecordingStatusOperation","futureFlag":true,"futureNumber":-1.5e3,"futureObject":{"status":"failed","clientContext":"other","nested":[1,{"a":null}]},"futureArray":["completed",null],"clientContext":$CC,"id":"`+opID+`","resultInfo":null,"status":"completed","futureNull":null}`)},
		{name: "compact, no whitespace", want: confirmed, check: wantPageFields,
			answer: body("", `{"@odata.type":"#microsoft.graph.updateRecordingStatusOperation","clientContext":$CC,"id":"`+opID+`","resultInfo":null,"status":"completed"}`)},
		{name: "CRLF, tabs and spaces everywhere", want: confirmed, check: wantPageFields,
			answer: body("", "\r\n\t {\r\n\t\"@odata.type\" \t: \"#microsoft.graph.updateRecordingStatusOperation\" ,\r\n\"clientContext\"\n:\n$CC\n,\t\"id\":\""+opID+"\"\r\n,\"resultInfo\" : null , \"status\" : \"completed\"\r\n}\r\n\t ")},
		{name: "PascalCase status", want: confirmed,
			answer: body("", `{"clientContext":$CC,"id":"op","status":"Completed"}`)},
		{name: "upper-case status", want: confirmed,
			answer: body("", `{"clientContext":$CC,"id":"op","status":"COMPLETED"}`)},
		{name: "status spelled with escapes", want: confirmed,
			answer: body("", `{"clientContext":$CC,"id":"op","status":"\u0063omplet\u0065d"}`)},
		{name: "resultInfo on completed", want: confirmed,
			answer: body("", `{"clientContext":$CC,"id":"op","resultInfo":{"@odata.type":"#microsoft.graph.resultInfo","code":200,"subcode":0,"message":"Success"},"status":"completed"}`),
			check: func(t *testing.T, op graph.Operation, _ error) {
				if op.ResultInfo == nil || op.ResultInfo.Code != 200 || op.ResultInfo.Message != "Success" {
					t.Errorf("resultInfo not read: %+v", op.ResultInfo)
				}
			}},
		{name: "empty resultInfo object", want: confirmed,
			answer: body("", `{"clientContext":$CC,"id":"op","resultInfo":{},"status":"completed"}`)},
		{name: "NotStarted", want: pending, answer: body("", `{"clientContext":$CC,"id":"op","status":"NotStarted"}`)},
		{name: "running", want: pending, answer: body("", `{"clientContext":$CC,"id":"op","status":"running"}`)},
		{name: "status null", want: pending, answer: body("", `{"clientContext":$CC,"id":"op","status":null}`)},
		{name: "status missing", want: pending, answer: body("", `{"clientContext":$CC,"id":"op"}`)},
		{name: "status empty string", want: pending, answer: body("", `{"clientContext":$CC,"id":"op","status":""}`)},
		{name: "failed 8506 in resultInfo", want: refused,
			answer: body("", `{"clientContext":$CC,"id":"op","resultInfo":{"code":403,"subcode":8506,"message":"API call not allowed for non-Compliance Recording call"},"status":"failed"}`),
			check: func(t *testing.T, _ graph.Operation, err error) {
				if !graph.IsNonCompliance(err) {
					t.Errorf("a failed operation with subcode 8506 is not NonCompliance: %v", err)
				}
			}},
		{name: "Failed without resultInfo", want: refused, answer: body("", `{"clientContext":$CC,"id":"op","status":"Failed"}`)},
	})
}

// Replies that must never be taken for a confirmation of this request,
// and must come back as an error that names what was wrong.
func TestRepliesThatConfirmNothing(t *testing.T) {
	body := func(rest string) func(http.ResponseWriter, seenRequest) {
		return func(w http.ResponseWriter, req seenRequest) {
			reply(w, req.OperationURL("op-loc"), strings.ReplaceAll(rest, "$CC", quote(req.ClientContext)))
		}
	}
	runQuirks(t, []quirk{
		{name: "another clientContext", want: badReply, answer: body(`{"clientContext":"someone-else","id":"op","status":"completed"}`)},
		{name: "clientContext in another case", want: badReply,
			answer: func(w http.ResponseWriter, req seenRequest) {
				reply(w, req.OperationURL("op"), `{"clientContext":`+quote(strings.ToUpper(req.ClientContext))+`,"status":"completed"}`)
			}},
		{name: "clientContext with a trailing space", want: badReply,
			answer: func(w http.ResponseWriter, req seenRequest) {
				reply(w, req.OperationURL("op"), `{"clientContext":`+quote(req.ClientContext+" ")+`,"status":"completed"}`)
			}},
		{name: "clientContext key in another case names another request", want: badReply,
			answer: body(`{"ClientContext":"someone-else","status":"completed"}`)},
		{name: "unknown status", want: badReply, answer: body(`{"clientContext":$CC,"status":"succeeded"}`),
			check: mentions("succeeded")},
		{name: "status with a space", want: badReply, answer: body(`{"clientContext":$CC,"status":"completed "}`)},
		{name: "status as a number", want: badReply, answer: body(`{"clientContext":$CC,"status":2}`)},
		{name: "status as true", want: badReply, answer: body(`{"clientContext":$CC,"status":true}`)},
		{name: "status as an object", want: badReply, answer: body(`{"clientContext":$CC,"status":{"value":"completed"}}`)},
		{name: "status fullwidth", want: badReply, answer: body(`{"clientContext":$CC,"status":"ｃompleted"}`)},
		{name: "id as a number", want: badReply, answer: body(`{"clientContext":$CC,"id":42,"status":"completed"}`)},
		{name: "top-level array", want: badReply, answer: body(`[{"clientContext":$CC,"status":"completed"}]`)},
		{name: "top-level string", want: badReply, answer: body(`"completed"`)},
		{name: "two objects", want: badReply, answer: body(`{"clientContext":$CC,"status":"completed"}{"clientContext":$CC,"status":"completed"}`)},
		{name: "trailing garbage", want: badReply, answer: body(`{"clientContext":$CC,"status":"completed"} x`)},
		{name: "trailing comma", want: badReply, answer: body(`{"clientContext":$CC,"status":"completed",}`)},
		{name: "single quotes", want: badReply, answer: body(`{'clientContext':$CC,'status':'completed'}`)},
		{name: "truncated", want: badReply, answer: body(`{"clientContext":$CC,"status":"completed"`)},
		{name: "HTML on a 200 from a portal", want: badReply,
			answer: func(w http.ResponseWriter, req seenRequest) {
				w.Header().Set("Content-Type", "text/html")
				_, _ = io.WriteString(w, "<html><body>Sign in to continue</body></html>")
			}},
		{name: "JSON with a text/plain Content-Type", want: badReply,
			answer: func(w http.ResponseWriter, req seenRequest) {
				w.Header().Set("Content-Type", "text/plain")
				_, _ = io.WriteString(w, `{"clientContext":`+quote(req.ClientContext)+`,"status":"completed"}`)
			}},
		{name: "empty 200 without Location", want: badReply,
			answer: func(w http.ResponseWriter, req seenRequest) { w.WriteHeader(http.StatusOK) }},
	})
}

// mentions checks that the error names s, so a reader learns what was
// wrong.
func mentions(s string) func(*testing.T, graph.Operation, error) {
	return func(t *testing.T, _ graph.Operation, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("the error does not name %q: %v", s, err)
		}
	}
}

// Replies whose headers differ from the page's: Content-Type parameters,
// casing, bodyless 2xx with a Location (202).
func TestReplyHeaders(t *testing.T) {
	withType := func(ct string) func(http.ResponseWriter, seenRequest) {
		return func(w http.ResponseWriter, req seenRequest) {
			w.Header().Set("Content-Type", ct)
			w.Header().Set("Location", req.OperationURL("op-ct"))
			_, _ = io.WriteString(w, pageReply(req.ClientContext, "completed"))
		}
	}
	bodyless := func(code int, withLocation bool) func(http.ResponseWriter, seenRequest) {
		return func(w http.ResponseWriter, req seenRequest) {
			if withLocation {
				w.Header().Set("Location", req.OperationURL("op-202"))
			}
			w.WriteHeader(code)
		}
	}
	wantIDFromLocation := func(t *testing.T, op graph.Operation, _ error) {
		if op.ID != "op-202" || !strings.HasSuffix(op.Location, "/operations/op-202") {
			t.Errorf("a bodyless reply's operation has ID %q, Location %q; want both from Location", op.ID, op.Location)
		}
		if op.ClientContext != "" {
			t.Errorf("a bodyless reply invented clientContext %q", op.ClientContext)
		}
	}
	runQuirks(t, []quirk{
		{name: "charset", want: confirmed, answer: withType("application/json; charset=utf-8")},
		{name: "Graph's full OData media type", want: confirmed,
			answer: withType("application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")},
		{name: "upper case media type", want: confirmed, answer: withType("Application/JSON")},
		{name: "202 with Location, no body", want: pending, answer: bodyless(http.StatusAccepted, true), check: wantIDFromLocation},
		{name: "204 with Location", want: pending, answer: bodyless(http.StatusNoContent, true), check: wantIDFromLocation},
		{name: "200 with Location and Content-Length 0", want: pending, answer: bodyless(http.StatusOK, true), check: wantIDFromLocation},
		{name: "202 without Location", want: badReply, answer: bodyless(http.StatusAccepted, false)},
		{name: "201 Created with the operation", want: confirmed, answer: func(w http.ResponseWriter, req seenRequest) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Location", req.OperationURL("op"))
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, pageReply(req.ClientContext, "completed"))
		}},
		// Debatable: with no Content-Type at all the client refuses a body
		// that is Graph's JSON. Refusing is on the safe side (the gate
		// stays closed, the caller gets ErrBadReply that says why).
		{name: "no Content-Type (debatable: refused)", want: badReply, answer: func(w http.ResponseWriter, req seenRequest) {
			w.Header()["Content-Type"] = nil // stop net/http from sniffing one
			w.Header().Set("Location", req.OperationURL("op"))
			_, _ = io.WriteString(w, pageReply(req.ClientContext, "completed"))
		}, check: mentions("Content-Type")},
	})
}

// A clientContext at the API's limit of 256 characters, in characters
// that take two bytes each and come back escaped, is read back as the
// same string; one character more is refused before anything is sent.
func TestLongAndEscapedClientContext(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", graph.MaxClientContextLen)
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, req seenRequest) {
		var esc strings.Builder
		for range []rune(req.ClientContext) {
			esc.WriteString(`\u00e9`)
		}
		reply(w, req.OperationURL("op"), `{"clientContext":"`+esc.String()+`","id":"op\/1","status":"completed"}`)
	})
	op, err := sendRecording(t, f, long)
	assertOutcome(t, confirmed, long, op, err)
	if op.ClientContext != long || op.ID != "op/1" {
		t.Errorf("escapes not decoded: clientContext %d runes, id %q", len([]rune(op.ClientContext)), op.ID)
	}
	noProblems(t, f)

	op, err = sendRecording(t, f, long+"é")
	if !errors.Is(err, graph.ErrInvalidRequest) || !errors.Is(err, graph.ErrInvalidClientContext) {
		t.Errorf("a 257-character clientContext: want ErrInvalidClientContext, got %v", err)
	}
	if op != (graph.Operation{}) {
		t.Errorf("non-zero Operation with an error: %+v", op)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("the fake saw %d requests, want 1: the over-long clientContext must not be sent", n)
	}
}
