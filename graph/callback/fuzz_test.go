package callback_test

import (
	"net/http"
	"testing"
)

// FuzzAuthenticatedBody: whatever an authenticated body holds, the handler
// answers 202 or 400, never panics, and hands on only notifications with a
// kind and a call ID.
func FuzzAuthenticatedBody(f *testing.F) {
	for _, seed := range []string{
		operationBody(testCallID, testOpID, "completed"),
		notifications(item("deleted", "/app/calls/"+testCallID, `null`)),
		notifications(item("updated", "/communications/calls/"+testCallID, `{"@odata.type":"#microsoft.graph.call","state":"terminated"}`)),
		`{"value":[{"resourceUrl":"/communications/calls/../operations/x"}]}`,
		`{"value":[null,1,"x",{}]}`,
		`{`,
	} {
		f.Add(seed)
	}
	fx := newFixture(f, nil)
	auth := genuine(f)
	f.Fuzz(func(t *testing.T, body string) {
		before := len(fx.notifications())
		rec := fx.post(t, auth, body)
		if rec.Code != http.StatusAccepted && rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d for body %q", rec.Code, body)
		}
		for _, n := range fx.notifications()[before:] {
			if n.Kind == 0 || n.CallID == "" || n.Tenant == "" {
				t.Fatalf("handed on an incomplete notification %+v from %q", n, body)
			}
		}
	})
}
