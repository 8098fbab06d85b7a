package callback_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/callback"
)

// BenchmarkServeHTTP: one authenticated operation notification, keys
// cached (RS256 verification dominates).
func BenchmarkServeHTTP(b *testing.B) {
	benchmarkServe(b, true)
}

// BenchmarkRefuseUnsigned: what an unsigned forgery costs the bot.
func BenchmarkRefuseUnsigned(b *testing.B) {
	benchmarkServe(b, false)
}

func benchmarkServe(b *testing.B, genuineToken bool) {
	keys, err := testKeys()
	if err != nil {
		b.Fatal(err)
	}
	ms := startFakeMicrosoft()
	defer ms.srv.Close()
	ms.publish("k1", keys[0])
	v, err := callback.NewValidator(testAppID, callback.WithOpenIDConfigURL(ms.configURL()),
		callback.WithHTTPClient(ms.srv.Client()), callback.WithNow(func() time.Time { return testNow }))
	if err != nil {
		b.Fatal(err)
	}
	h, err := callback.NewHandler(callback.ReceiverFunc(func(context.Context, graph.Notification) error { return nil }), v,
		callback.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	tok, err := signRS256(keys[0], "k1", validClaims())
	if !genuineToken {
		tok, err = unsignedJWT(`{"alg":"none"}`, validClaims())
	}
	if err != nil {
		b.Fatal(err)
	}
	body := operationBody(testCallID, testOpID, "completed")
	want := http.StatusAccepted
	if !genuineToken {
		want = http.StatusUnauthorized
	}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/callback", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("status %d, want %d", rec.Code, want)
		}
	}
}
