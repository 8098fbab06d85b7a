package graph_test

import (
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/recgate/recgate/graph"
)

// The parsers meet bytes from the network: they must never panic, and an
// operation they parse is a success only when its status is exactly
// completed (in any casing).

func FuzzParseOperation(f *testing.F) {
	f.Add([]byte(pageReply))
	f.Add([]byte(`{"status":"Completed"}`))
	f.Add([]byte(`{"status":null,"resultInfo":{"code":1,"subcode":2,"message":"m"}}`))
	f.Add([]byte(`{"status":"failed","resultInfo":null}`))
	f.Add([]byte(`{"status":"cOmPlEtEd","id":"\u0000"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		op, err := graph.ParseOperation(body)
		if err != nil {
			if op.Status != "" {
				t.Fatalf("error %v but status %q", err, op.Status)
			}
			return
		}
		if !op.Status.Known() {
			t.Fatalf("parsed an unknown status %q without error", op.Status)
		}
		if op.Status.Confirmed() && op.Status != graph.OperationCompleted {
			t.Fatalf("confirmed status %q is not completed", op.Status)
		}
		if op.Status.Refused() && op.Err() == nil {
			t.Fatal("failed operation without error")
		}
	})
}

func FuzzParseErrorBody(f *testing.F) {
	f.Add(429, "application/json", []byte(`{"error":{"code":"TooManyRequests","message":"slow down","innerError":{"request-id":"r","client-request-id":"c","date":"d","innerError":{"code":"8506"}}}}`))
	f.Add(502, "text/html", []byte(`<html><body>502 Bad Gateway</body></html>`))
	f.Add(500, "", []byte{})
	f.Add(403, "application/json", []byte(`{"error":{"code":"8506","innerError":[1,2]}}`))
	f.Fuzz(func(t *testing.T, code int, contentType string, body []byte) {
		e := graph.ParseErrorBody(code, contentType, body)
		if e == nil {
			t.Fatal("nil error")
		}
		if e.StatusCode != code {
			t.Fatalf("status %d, want %d", e.StatusCode, code)
		}
		if len(e.InnerCodes) > 16 {
			t.Fatalf("walked %d inner errors, more than the bound", len(e.InnerCodes))
		}
		_ = e.Error()
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	f.Add("0")
	f.Add("120")
	f.Add("99999999999999999999")
	f.Add(now.Add(time.Minute).Format(http.TimeFormat))
	f.Add("Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add("soon")
	f.Add("-5")
	f.Fuzz(func(t *testing.T, v string) {
		d, err := graph.ParseRetryAfter(v, now)
		if d < 0 {
			t.Fatalf("negative wait %s for %q", d, v)
		}
		if err != nil && d != 0 {
			t.Fatalf("error %v with wait %s", err, d)
		}
	})
}

// A call ID that ValidateCallID accepts names exactly one path segment of
// the request URL: the URL parses, its path is already clean (no dot
// segment a front end could fold away), and that segment reads back as
// the ID.
func FuzzValidateCallID(f *testing.F) {
	for _, seed := range []string{call, ".", "..", "...", "a/..", "%2e%2e", "a b", `\x`, ";", "é", strings.Repeat("a", 300)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if graph.ValidateCallID(id) != nil {
			return
		}
		raw := "https://graph.microsoft.com/v1.0/communications/calls/" + url.PathEscape(id) + "/updateRecordingStatus"
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("accepted %q, but %q does not parse: %v", id, raw, err)
		}
		if p := u.EscapedPath(); path.Clean(p) != p {
			t.Fatalf("accepted %q, but the path %q normalises to %q", id, p, path.Clean(p))
		}
		segs := strings.Split(u.Path, "/")
		if len(segs) != 6 || segs[4] != id || segs[5] != "updateRecordingStatus" {
			t.Fatalf("accepted %q, but the path has segments %q", id, segs)
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":    0,
		"0":   0,
		"120": 2 * time.Minute,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	} {
		got, err := graph.ParseRetryAfter(v, now)
		if err != nil || got != want {
			t.Errorf("ParseRetryAfter(%q) = %s, %v; want %s", v, got, err, want)
		}
	}
	for _, bad := range []string{"soon", "-5", "1.5", "12abc"} {
		if _, err := graph.ParseRetryAfter(bad, now); err == nil {
			t.Errorf("ParseRetryAfter(%q): no error", bad)
		}
	}
	if d, _ := graph.ParseRetryAfter("99999999999999999999", now); d <= 0 {
		t.Errorf("huge Retry-After gave %s", d)
	}
}

func TestParseErrorBodyWalksInnerErrors(t *testing.T) {
	e := graph.ParseErrorBody(403, "application/json", []byte(`{"error":{"code":"Forbidden","message":"no","innerError":{"code":"8506","request-id":"r1","client-request-id":"c1","date":"2026-11-26T12:00:00","innerError":{"code":"deeper"}}}}`))
	if e.Code != "Forbidden" || len(e.InnerCodes) != 2 || e.InnerCodes[1] != "deeper" || e.RequestID != "r1" || e.ClientRequestID != "c1" || !e.NonCompliance() {
		t.Fatalf("parsed %+v", e)
	}
	html := graph.ParseErrorBody(502, "text/html", []byte("<html>\n<body>Bad\x00Gateway</body></html>"))
	if html.Code != "" || html.Message == "" {
		t.Fatalf("parsed %+v", html)
	}
}
