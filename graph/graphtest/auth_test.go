package graphtest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/recgate/recgate/graph/graphtest"
)

// TestUnauthorizedIsGraphs401 checks the fake's 401 as Graph sends it: a
// WWW-Authenticate Bearer challenge naming Entra ID and Graph's app ID (RFC
// 6750 requires a challenge; the official SDKs read it to decide whether a
// claims challenge asks for a retry, and this one does not), and the error
// envelope with code InvalidAuthenticationToken. For both the update and the
// GET of an operation, with no token and with a wrong one.
func TestUnauthorizedIsGraphs401(t *testing.T) {
	fake := graphtest.NewServer(graphtest.WithToken("right-token"))
	defer fake.Close()
	fake.AddCall("c")
	const challenge = `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`

	for _, tc := range []struct {
		name, method, path, auth, message string
	}{
		{"update, no token", http.MethodPost, "/communications/calls/c/updateRecordingStatus", "", "Access token is empty."},
		{"update, wrong token", http.MethodPost, "/communications/calls/c/updateRecordingStatus", "Bearer wrong-token", "Access token validation failure."},
		{"operation, no token", http.MethodGet, "/communications/calls/c/operations/op", "", "Access token is empty."},
		{"operation, wrong token", http.MethodGet, "/communications/calls/c/operations/op", "Bearer wrong-token", "Access token validation failure."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body *strings.Reader
			if tc.method == http.MethodPost {
				body = strings.NewReader(`{"clientContext":"x","status":"recording"}`)
			} else {
				body = strings.NewReader("")
			}
			req, err := http.NewRequest(tc.method, fake.BaseURL()+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := fake.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", resp.StatusCode)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != challenge {
				t.Errorf("WWW-Authenticate %q, want Graph's challenge %q", got, challenge)
			}
			var env struct {
				Error struct {
					Code, Message string
				}
			}
			if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
				t.Fatalf("401 body: %v", err)
			}
			if env.Error.Code != "InvalidAuthenticationToken" || env.Error.Message != tc.message {
				t.Errorf("error %q %q, want InvalidAuthenticationToken %q", env.Error.Code, env.Error.Message, tc.message)
			}
		})
	}
}
