package forgery_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/recgate/recgate/graph/callback"
)

// TestAuthorizationHeaderAttacks: the token in the wrong place, in the
// wrong scheme, twice, or too long. A genuine token sent the RFC 6750 way
// (scheme in any case) is accepted; anything else gets 401.
func TestAuthorizationHeaderAttacks(t *testing.T) {
	ms := newMicrosoft(t)
	tg := newTarget(t, ms)
	headers := func(f func(tok string) []string) func(now time.Time) []string {
		return func(now time.Time) []string { return f(genuineToken(now)) }
	}
	forged := func(now time.Time) string { return withHeader(kidRSA, nil)(now) }
	run(t, tg, []attack{
		{name: "control", auth: headers(func(tok string) []string { return []string{"Bearer " + tok} }), want: accepted},
		{name: "scheme in lower case", auth: headers(func(tok string) []string { return []string{"bearer " + tok} }), want: accepted},
		{name: "scheme in capitals", auth: headers(func(tok string) []string { return []string{"BEARER " + tok} }), want: accepted},
		{name: "several spaces", auth: headers(func(tok string) []string { return []string{"Bearer    " + tok} }), want: accepted},
		{name: "trailing space", auth: headers(func(tok string) []string { return []string{"Bearer " + tok + " "} }), want: accepted},

		{name: "no header", auth: func(time.Time) []string { return nil }, want: refused(callback.RejectMissingToken)},
		{name: "empty header", auth: func(time.Time) []string { return []string{""} }, want: refused(callback.RejectMissingToken)},
		{name: "Bearer alone", auth: func(time.Time) []string { return []string{"Bearer"} }, want: refused("")},
		{name: "Bearer and a space", auth: func(time.Time) []string { return []string{"Bearer "} }, want: refused("")},
		{name: "tab instead of space", auth: headers(func(tok string) []string { return []string{"Bearer\t" + tok} }), want: refused(callback.RejectNotBearer)},
		{name: "no space", auth: headers(func(tok string) []string { return []string{"Bearer" + tok} }), want: refused(callback.RejectNotBearer)},
		{name: "Basic scheme", auth: headers(func(tok string) []string { return []string{"Basic " + tok} }), want: refused(callback.RejectNotBearer)},
		{name: "JWT scheme", auth: headers(func(tok string) []string { return []string{"JWT " + tok} }), want: refused(callback.RejectNotBearer)},
		{name: "token without a scheme", auth: headers(func(tok string) []string { return []string{tok} }), want: refused(callback.RejectNotBearer)},
		{name: "a second word after the token", auth: headers(func(tok string) []string { return []string{"Bearer " + tok + " extra"} }), want: refused("")},
		{name: "two tokens comma-separated", auth: headers(func(tok string) []string { return []string{"Bearer " + tok + ", Bearer " + tok} }), want: refused(callback.RejectMalformedToken)},
		{name: "two headers, genuine then forged", auth: func(now time.Time) []string {
			return []string{"Bearer " + genuineToken(now), "Bearer " + forged(now)}
		}, want: refused(callback.RejectMalformedToken)},
		{name: "two headers, forged then genuine", auth: func(now time.Time) []string {
			return []string{"Bearer " + forged(now), "Bearer " + genuineToken(now)}
		}, want: refused(callback.RejectMalformedToken)},
		{name: "two headers, both genuine", auth: func(now time.Time) []string {
			return []string{"Bearer " + genuineToken(now), "Bearer " + genuineToken(now)}
		}, want: refused(callback.RejectMalformedToken)},
		{name: "token of 17 KB", auth: func(now time.Time) []string {
			return []string{"Bearer " + withHeader("k", map[string]any{"pad": strings.Repeat("p", 17<<10)})(now)}
		}, want: refused(callback.RejectMalformedToken)},
	})

	// The token anywhere but the Authorization header.
	for _, where := range []struct {
		name string
		edit func(r *http.Request, tok string)
	}{
		{"query access_token", func(r *http.Request, tok string) { r.URL.RawQuery = "access_token=" + tok }},
		{"cookie", func(r *http.Request, tok string) { r.Header.Set("Cookie", "access_token="+tok) }},
		{"X-Authorization", func(r *http.Request, tok string) { r.Header.Set("X-Authorization", "Bearer "+tok) }},
		{"Proxy-Authorization", func(r *http.Request, tok string) { r.Header.Set("Proxy-Authorization", "Bearer "+tok) }},
	} {
		t.Run(where.name, func(t *testing.T) {
			tok := genuineToken(time.Now())
			o := tg.send(t, nil, defaultBody, func(r *http.Request) { where.edit(r, tok) })
			wantRefused(t, o, http.StatusUnauthorized, callback.RejectMissingToken)
		})
	}
	t.Run("GET with a genuine token", func(t *testing.T) {
		o := tg.send(t, []string{"Bearer " + genuineToken(time.Now())}, defaultBody, func(r *http.Request) { r.Method = http.MethodGet })
		wantRefused(t, o, http.StatusMethodNotAllowed, callback.RejectMethod)
	})
	t.Run("header of 2 MB", func(t *testing.T) {
		// net/http refuses it (431) before the handler runs.
		o := tg.send(t, []string{"Bearer " + strings.Repeat("A", 2<<20)}, defaultBody, nil)
		if o.status/100 == 2 || o.handed != 0 {
			t.Errorf("got %v; want a refusal with nothing handed on", o)
		}
	})
}

// TestBodyAttacks: bodies the handler must bound or refuse, even behind a
// genuine token, and the time an unauthenticated request can hold it.
func TestBodyAttacks(t *testing.T) {
	ms := newMicrosoft(t)
	tg := newTarget(t, ms)
	genuine := func() []string { return []string{"Bearer " + genuineToken(time.Now())} }

	t.Run("body over 1 MiB, genuine token", func(t *testing.T) {
		pad := strings.Repeat(" ", callback.DefaultMaxBodyBytes)
		o := tg.send(t, genuine(), append(append([]byte(nil), defaultBody[:len(defaultBody)-1]...), []byte(pad+"}")...), nil)
		wantRefused(t, o, http.StatusRequestEntityTooLarge, callback.RejectBodyTooLarge)
	})
	t.Run("body not JSON, genuine token", func(t *testing.T) {
		wantRefused(t, tg.send(t, genuine(), []byte("<html>"), nil), http.StatusBadRequest, callback.RejectMalformedBody)
	})
	t.Run("value not an array, genuine token", func(t *testing.T) {
		wantRefused(t, tg.send(t, genuine(), []byte(`{"value":{}}`), nil), http.StatusBadRequest, callback.RejectMalformedBody)
	})
	t.Run("body of 8 MB, forged token, refused unread", func(t *testing.T) {
		o := tg.send(t, []string{"Bearer " + withHeader(kidRSA, nil)(time.Now())}, []byte(strings.Repeat("x", 8<<20)), nil)
		wantRefused(t, o, http.StatusUnauthorized, callback.RejectBadSignature)
	})
	t.Run("body that never ends, forged token, answered at once", func(t *testing.T) {
		// The handler must answer a bad token without reading the body: a
		// body announced as 1 MB of which 10 bytes ever arrive must not
		// hold it. A raw connection, so that no client waits on the body.
		conn, err := net.Dial("tcp", strings.TrimPrefix(strings.TrimSuffix(tg.url, "/api/calling"), "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(3 * time.Second))
		fmt.Fprintf(conn, "POST /api/calling HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"+
			"Content-Length: 1000000\r\nAuthorization: Bearer %s\r\n\r\n{\"value\":[", withHeader(kidRSA, nil)(time.Now()))
		start := time.Now()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer to a forged token whose body never ends: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", resp.StatusCode)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("answered after %v; a forged token must be answered without waiting for the body", d)
		}
	})
}
