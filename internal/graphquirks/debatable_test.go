package graphquirks

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/recgate/recgate/graph"
)

// clientBug fails the test with "client bug: <what>" when broken is true.
// (While the three bugs this package found were open it skipped instead;
// they are fixed, so a return of one fails.)
func clientBug(t *testing.T, broken bool, what string, args ...any) {
	t.Helper()
	if broken {
		t.Fatalf("client bug: "+what, args...)
	}
}

// ParseOperation's doc says a body that is not a JSON object is an error,
// and the client refuses a 2xx with no body and no Location ("cannot tell
// whether Graph accepted the request"). The JSON literal null is not an
// object, yet it parses as an empty operation, and a 200 whose body is
// null is taken for a pending operation with no id, no Location and no
// clientContext. It never confirms; it is the contract that is broken.
func TestNullBodyIsNotAnOperation(t *testing.T) {
	t.Parallel()
	for _, body := range []string{"null", " null\n"} {
		op, err := graph.ParseOperation([]byte(body))
		clientBug(t, err == nil, "ParseOperation(%q) = %+v, nil; its doc says a body that is not a JSON object is an error (graph/operation_decode.go, decodeOperationJSON)", body, op)
	}
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, req seenRequest) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("null"))
	})
	op, err := sendRecording(t, f, "cc-null")
	if op.Status.Confirmed() {
		t.Fatalf("null confirmed: %+v", op)
	}
	clientBug(t, !errors.Is(err, graph.ErrBadReply), "a 200 with body null and no Location is a pending operation %+v, not ErrBadReply", op)
}

// The API page's clientContext is a string the reply echoes.
// ValidateClientContext lets through one that is not valid UTF-8; the
// request's JSON then carries U+FFFD instead of the caller's bytes, so
// Graph records a clientContext the bot never chose, and Graph's honest
// echo is refused as another request's (ErrBadReply) after Graph took the
// recording status.
func TestClientContextThatIsNotUTF8(t *testing.T) {
	t.Parallel()
	const cc = "cc-\xff-bytes"
	validateErr := graph.ValidateClientContext(cc)
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, req seenRequest) {
		reply(w, req.OperationURL("op"), pageReply(req.ClientContext, "completed"))
	})
	op, err := sendRecording(t, f, cc)
	if op.Status.Confirmed() && op.ClientContext != cc {
		t.Fatalf("confirmed for clientContext %q, asked %q", op.ClientContext, cc)
	}
	sent := f.requests()
	clientBug(t, validateErr == nil || len(sent) > 0,
		"ValidateClientContext(%q) = %v (graph/callid.go); %d request(s) went out, and the client said %v",
		cc, validateErr, len(sent), err)
	if !errors.Is(err, graph.ErrInvalidClientContext) {
		t.Errorf("the client's error %v does not match ErrInvalidClientContext", err)
	}
}

// Replies where the right reading is arguable. Each case asserts only
// what is not arguable (nothing confirms for another clientContext;
// every error comes with the zero Operation) and logs what the client
// did; the report discusses them.
func TestDebatableReplies(t *testing.T) {
	cases := []struct {
		name string
		body string // $CC is the request's clientContext, quoted
		code int
		loc  bool
		// never, when set, is a status this body must not produce.
		never graph.OperationStatus
	}{
		// RFC 8259 leaves duplicate names' meaning to the parser; the
		// client (as encoding/json) takes the last.
		{name: "duplicate status, completed last", body: `{"clientContext":$CC,"status":"running","status":"completed"}`},
		{name: "duplicate status, completed first", body: `{"clientContext":$CC,"status":"completed","status":"running"}`, never: graph.OperationCompleted},
		{name: "duplicate clientContext, ours last", body: `{"clientContext":"someone-else","clientContext":$CC,"status":"completed"}`},
		{name: "duplicate clientContext, ours first", body: `{"clientContext":$CC,"clientContext":"someone-else","status":"completed"}`, never: graph.OperationCompleted},
		// OData property names are case-sensitive; encoding/json matches
		// names ignoring case, with Unicode folding (ſ is s).
		{name: "key Status", body: `{"clientContext":$CC,"Status":"completed"}`},
		{name: "key with long s", body: `{"clientContext":$CC,"ſtatuſ":"completed"}`},
		{name: "status and STATUS disagree", body: `{"clientContext":$CC,"status":"running","STATUS":"completed"}`},
		// The reply to our own request over TLS, with no clientContext.
		{name: "completed without clientContext", body: `{"id":"op","status":"completed"}`},
		{name: "completed with clientContext null", body: `{"clientContext":null,"status":"completed"}`},
		// An empty object is a JSON object: pending with nothing in it.
		{name: "empty object, no Location", body: `{}`},
		// RFC 8259 lets a parser ignore a byte-order mark.
		{name: "byte-order mark", body: "\ufeff" + `{"clientContext":$CC,"status":"completed"}`},
		// JSON does not tell 403 from 403.0; Graph's serializer writes ints.
		{name: "failed 8506 with float codes", body: `{"clientContext":$CC,"status":"failed","resultInfo":{"code":403.0,"subcode":8506.0,"message":"not allowed"}}`},
		{name: "completed with a float code", body: `{"clientContext":$CC,"status":"completed","resultInfo":{"code":200.0,"subcode":0,"message":"ok"}}`},
		{name: "failed with codes as strings", body: `{"clientContext":$CC,"status":"failed","resultInfo":{"code":"403","subcode":"8506"}}`},
		// HTTP says 202 means "not yet completed"; the body says completed.
		{name: "202 whose body says completed", code: http.StatusAccepted, loc: true, body: `{"clientContext":$CC,"status":"completed"}`},
		// Operation @odata.type of another kind.
		{name: "another @odata.type", body: `{"@odata.type":"#microsoft.graph.playPromptOperation","clientContext":$CC,"status":"completed"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, req seenRequest) {
				w.Header().Set("Content-Type", "application/json")
				if tc.loc {
					w.Header().Set("Location", req.OperationURL("op"))
				}
				w.WriteHeader(max(tc.code, http.StatusOK))
				_, _ = w.Write([]byte(strings.ReplaceAll(tc.body, "$CC", quote(req.ClientContext))))
			})
			cc := "cc-debatable"
			op, err := sendRecording(t, f, cc)
			noToken(t, err)
			if err != nil && op != (graph.Operation{}) {
				t.Errorf("non-zero Operation with error: %+v", op)
			}
			if op.ClientContext != "" && op.ClientContext != cc {
				t.Errorf("accepted an operation for clientContext %q", op.ClientContext)
			}
			if tc.never != "" && op.Status == tc.never {
				t.Errorf("read as %s", tc.never)
			}
			var oe *graph.OperationError
			switch {
			case errors.As(err, &oe):
				t.Logf("client: refused (OperationError, NonCompliance %v)", oe.NonCompliance())
			case err != nil:
				t.Logf("client: error: %v", err)
			default:
				t.Logf("client: status %s, clientContext %q, id %q", op.Status, op.ClientContext, op.ID)
			}
		})
	}
}
