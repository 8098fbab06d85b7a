package callback_test

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/callback"
)

const (
	testAppID  = "0b5e6c7d-1111-4222-8333-944445555666"
	testTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	testCallID = "421f4c00-4a3b-4fc6-a6c8-cf0a4e06e7a1"
	testOpID   = "9f1c2b3a-0000-4000-8000-00000000c0de"
)

// testNow is the fixed clock of every test validator.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// validClaims are the claims of a token Graph's calling service would send.
func validClaims() map[string]any {
	return map[string]any{
		"iss": callback.IssuerGraph,
		"aud": testAppID,
		"tid": testTenant,
		"iat": testNow.Add(-time.Minute).Unix(),
		"nbf": testNow.Add(-time.Minute).Unix(),
		"exp": testNow.Add(time.Hour).Unix(),
	}
}

func withClaim(name string, value any) map[string]any {
	c := validClaims()
	if value == nil {
		delete(c, name)
	} else {
		c[name] = value
	}
	return c
}

// fixture is a handler wired to a fake Microsoft key endpoint, a recording
// receiver, a captured log and a reject counter.
type fixture struct {
	ms   *fakeMicrosoft
	h    *callback.Handler
	logs *syncBuffer

	mu      sync.Mutex
	got     []graph.Notification
	ctxs    []context.Context
	rejects []callback.RejectReason
	fail    error // what Notify returns
}

func newFixture(t testing.TB, vopts []callback.ValidatorOption, hopts ...callback.Option) *fixture {
	t.Helper()
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{ms: startFakeMicrosoft(), logs: &syncBuffer{}}
	t.Cleanup(f.ms.srv.Close)
	f.ms.publish("k1", keys[0])
	v, err := callback.NewValidator(testAppID, append([]callback.ValidatorOption{
		callback.WithOpenIDConfigURL(f.ms.configURL()),
		callback.WithHTTPClient(f.ms.srv.Client()),
		callback.WithNow(func() time.Time { return testNow }),
	}, vopts...)...)
	if err != nil {
		t.Fatal(err)
	}
	recv := callback.ReceiverFunc(func(ctx context.Context, n graph.Notification) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.got = append(f.got, n)
		f.ctxs = append(f.ctxs, ctx)
		return f.fail
	})
	logger := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.h, err = callback.NewHandler(recv, v, append([]callback.Option{
		callback.WithLogger(logger),
		callback.WithRejectHook(func(r callback.RejectReason) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.rejects = append(f.rejects, r)
		}),
	}, hopts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// post sends body with the given Authorization header (none if empty) and
// checks that the token appears neither in the reply nor in the log.
func (f *fixture) post(t testing.TB, authorization, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "https://bot.example/api/calling", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	_, token, _ := strings.Cut(authorization, " ")
	secrets := []string{token}
	if parts := strings.Split(token, "."); len(parts) == 3 {
		secrets = append(secrets, parts[1]) // the claims
		if parts[2] != "" {
			secrets = append(secrets, parts[2]) // the signature
		}
	}
	for _, s := range secrets {
		if len(s) < 8 {
			continue
		}
		if strings.Contains(rec.Body.String(), s) {
			t.Errorf("the reply body contains (part of) the token: %q", rec.Body.String())
		}
		if strings.Contains(f.logs.String(), s) {
			t.Errorf("the log contains (part of) the token")
		}
		for name, vals := range rec.Header() {
			for _, v := range vals {
				if strings.Contains(v, s) {
					t.Errorf("reply header %s contains (part of) the token", name)
				}
			}
		}
	}
	return rec
}

func (f *fixture) notifications() []graph.Notification {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]graph.Notification(nil), f.got...)
}

func (f *fixture) rejected() []callback.RejectReason {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]callback.RejectReason(nil), f.rejects...)
}

// need fails the test if making a test token failed: need(t)(signRS256(...)).
func need(t testing.TB) func(tok string, err error) string {
	return func(tok string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatalf("making a test token: %v", err)
		}
		return tok
	}
}

// TestRejectsEveryBadToken: each forged, stale or misaddressed token gets
// 401 with its reason, hands nothing on, and is counted once.
func TestRejectsEveryBadToken(t *testing.T) {
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	good, rogue := keys[0], keys[2]
	pubDER, err := x509.MarshalPKIXPublicKey(&good.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	bearer := func(tok string, err error) func(t *testing.T) string {
		return func(t *testing.T) string { return "Bearer " + need(t)(tok, err) }
	}
	tampered := func(t *testing.T) string {
		// A genuine token whose claims were swapped for another tenant's.
		tok := need(t)(signRS256(good, "k1", validClaims()))
		other := need(t)(signRS256(good, "k1", withClaim("tid", "00000000-0000-0000-0000-000000000bad")))
		p, q := strings.Split(tok, "."), strings.Split(other, ".")
		return "Bearer " + p[0] + "." + q[1] + "." + p[2]
	}
	cases := []struct {
		name    string
		auth    func(t *testing.T) string
		tenants []string
		want    callback.RejectReason
	}{
		{"missing", func(*testing.T) string { return "" }, nil, callback.RejectMissingToken},
		{"basic scheme", func(*testing.T) string { return "Basic dXNlcjpwYXNz" }, nil, callback.RejectNotBearer},
		{"bearer without token", func(*testing.T) string { return "Bearer " }, nil, callback.RejectMalformedToken},
		{"one part", func(*testing.T) string { return "Bearer abcdefghijkl" }, nil, callback.RejectMalformedToken},
		{"header not JSON", func(*testing.T) string { return "Bearer bm90IGpzb24.e30.c2lnbmF0dXJl" }, nil, callback.RejectMalformedToken},
		{"header not base64url", func(*testing.T) string { return "Bearer !!!.e30.c2ln" }, nil, callback.RejectMalformedToken},
		{"JWE-shaped (five parts)", func(*testing.T) string { return "Bearer a.b.c.d.e" }, nil, callback.RejectMalformedToken},
		{"too long", func(*testing.T) string { return "Bearer " + strings.Repeat("a", 20000) }, nil, callback.RejectMalformedToken},
		{"alg none", bearer(unsignedJWT(`{"alg":"none","typ":"JWT"}`, validClaims())), nil, callback.RejectUnsigned},
		{"alg None", bearer(unsignedJWT(`{"alg":"None","kid":"k1"}`, validClaims())), nil, callback.RejectUnsigned},
		{"no alg", bearer(unsignedJWT(`{"kid":"k1"}`, validClaims())), nil, callback.RejectUnsigned},
		{"RS256 without signature", bearer(unsignedJWT(`{"alg":"RS256","kid":"k1"}`, validClaims())), nil, callback.RejectUnsigned},
		{"HS256 keyed with the public key", bearer(signHS256(pubDER, "k1", validClaims())), nil, callback.RejectAlgorithm},
		{"RS384 (not in the configuration)", func(t *testing.T) string {
			tok := need(t)(signRS256(good, "k1", validClaims()))
			p := strings.Split(tok, ".")
			h := need(t)(unsignedJWT(`{"alg":"RS384","kid":"k1"}`, nil))
			return "Bearer " + strings.Split(h, ".")[0] + "." + p[1] + "." + p[2]
		}, nil, callback.RejectAlgorithm},
		{"another key, same kid", bearer(signRS256(rogue, "k1", validClaims())), nil, callback.RejectBadSignature},
		{"another key, unknown kid", bearer(signRS256(rogue, "attacker", validClaims())), nil, callback.RejectBadSignature},
		{"another key, no kid", bearer(signRS256(rogue, "", validClaims())), nil, callback.RejectBadSignature},
		{"claims tampered", tampered, nil, callback.RejectBadSignature},
		{"expired beyond the skew", bearer(signRS256(good, "k1", withClaim("exp", testNow.Add(-3*time.Minute).Unix()))), nil, callback.RejectExpired},
		{"no exp", bearer(signRS256(good, "k1", withClaim("exp", nil))), nil, callback.RejectMalformedToken},
		{"exp not a number", bearer(signRS256(good, "k1", withClaim("exp", "tomorrow"))), nil, callback.RejectMalformedToken},
		{"not yet valid beyond the skew", bearer(signRS256(good, "k1", withClaim("nbf", testNow.Add(3*time.Minute).Unix()))), nil, callback.RejectNotYetValid},
		{"wrong issuer", bearer(signRS256(good, "k1", withClaim("iss", "https://sts.attacker.example"))), nil, callback.RejectWrongIssuer},
		{"issuer with trailing slash", bearer(signRS256(good, "k1", withClaim("iss", callback.IssuerGraph+"/"))), nil, callback.RejectWrongIssuer},
		{"no issuer", bearer(signRS256(good, "k1", withClaim("iss", nil))), nil, callback.RejectWrongIssuer},
		{"wrong audience", bearer(signRS256(good, "k1", withClaim("aud", "another-bot"))), nil, callback.RejectWrongAudience},
		{"audience list without the app", bearer(signRS256(good, "k1", withClaim("aud", []string{"a", "b"}))), nil, callback.RejectWrongAudience},
		{"no audience", bearer(signRS256(good, "k1", withClaim("aud", nil))), nil, callback.RejectWrongAudience},
		{"no tid", bearer(signRS256(good, "k1", withClaim("tid", nil))), nil, callback.RejectNoTenant},
		{"empty tid", bearer(signRS256(good, "k1", withClaim("tid", ""))), nil, callback.RejectNoTenant},
		{"tenant not on the allow-list", bearer(signRS256(good, "k1", validClaims())), []string{"11111111-0000-0000-0000-000000000000"}, callback.RejectTenantNotAllowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var vopts []callback.ValidatorOption
			if tc.tenants != nil {
				vopts = append(vopts, callback.WithTenants(tc.tenants...))
			}
			f := newFixture(t, vopts)
			rec := f.post(t, tc.auth(t), operationBody(testCallID, testOpID, "completed"))
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("status %d, want 401; body %q", rec.Code, rec.Body.String())
			}
			if got := f.notifications(); len(got) != 0 {
				t.Errorf("the receiver got %d notifications from a refused request: %+v", len(got), got)
			}
			if got := f.rejected(); len(got) != 1 || got[0] != tc.want {
				t.Errorf("reject hook saw %v, want [%s]", got, tc.want)
			}
			if !strings.Contains(rec.Body.String(), string(tc.want)) {
				t.Errorf("reply %q does not name the reason %s", rec.Body.String(), tc.want)
			}
			if !strings.Contains(f.logs.String(), "reason="+string(tc.want)) {
				t.Errorf("log does not record reason %s:\n%s", tc.want, f.logs.String())
			}
			if rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without a WWW-Authenticate challenge")
			}
		})
	}
}

// TestAcceptsGenuineTokens: the claim shapes Microsoft sends, and the edges
// of the clock skew, are accepted and reach the receiver with iss and tid.
func TestAcceptsGenuineTokens(t *testing.T) {
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		claims  map[string]any
		tenants []string
	}{
		{"graph issuer", validClaims(), nil},
		{"bot framework issuer", withClaim("iss", callback.IssuerBotFramework), nil},
		{"audience list", withClaim("aud", []string{"other", testAppID}), nil},
		{"expired within the skew", withClaim("exp", testNow.Add(-time.Minute).Unix()), nil},
		{"nbf within the skew", withClaim("nbf", testNow.Add(time.Minute).Unix()), nil},
		{"no nbf", withClaim("nbf", nil), nil},
		{"tenant on the allow-list, other case", validClaims(), []string{"other", strings.ToUpper(testTenant)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var vopts []callback.ValidatorOption
			if tc.tenants != nil {
				vopts = append(vopts, callback.WithTenants(tc.tenants...))
			}
			f := newFixture(t, vopts)
			tok := need(t)(signRS256(keys[0], "k1", tc.claims))
			rec := f.post(t, "Bearer "+tok, operationBody(testCallID, testOpID, "completed"))
			if rec.Code != http.StatusAccepted {
				t.Fatalf("status %d, want 202; body %q; log:\n%s", rec.Code, rec.Body.String(), f.logs.String())
			}
			got := f.notifications()
			if len(got) != 1 {
				t.Fatalf("receiver got %d notifications, want 1", len(got))
			}
			if got[0].Issuer != tc.claims["iss"] || got[0].Tenant != testTenant {
				t.Errorf("Issuer %q Tenant %q, want %q %q", got[0].Issuer, got[0].Tenant, tc.claims["iss"], testTenant)
			}
		})
	}
}

// TestKeyRotation: a token under a kid the cached key set lacks gets 503
// with Retry-After (the seconds left in the refetch interval), published yet
// or not, until the interval has passed since the last fetch (without a
// fetch); then it is accepted after one fetch, and the old key keeps
// working.
func TestKeyRotation(t *testing.T) {
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{now: testNow}
	f := newFixture(t, []callback.ValidatorOption{callback.WithNow(clock.Now)})
	body := operationBody(testCallID, testOpID, "completed")
	old := "Bearer " + need(t)(signRS256(keys[0], "k1", validClaims()))
	if rec := f.post(t, old, body); rec.Code != http.StatusAccepted {
		t.Fatalf("old key: status %d, want 202", rec.Code)
	}
	fetches := f.ms.jwksHits.Load()

	rotated := "Bearer " + need(t)(signRS256(keys[1], "k2", validClaims()))
	if rec := f.post(t, rotated, body); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "300" {
		t.Fatalf("unpublished key, just after a fetch: status %d Retry-After %q, want 503 with Retry-After 300", rec.Code, rec.Header().Get("Retry-After"))
	}
	f.ms.publish("k2", keys[1])
	clock.advance(time.Minute)
	if rec := f.post(t, rotated, body); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "240" {
		t.Fatalf("rotated key a minute into the refetch interval: status %d Retry-After %q, want 503 with Retry-After 240 (the seconds until a fetch is allowed)",
			rec.Code, rec.Header().Get("Retry-After"))
	}
	if got := f.rejected(); len(got) != 2 || got[0] != callback.RejectUnknownKey || got[1] != callback.RejectUnknownKey {
		t.Errorf("reject hook saw %v, want [%s %s]", got, callback.RejectUnknownKey, callback.RejectUnknownKey)
	}
	if n := f.ms.jwksHits.Load(); n != fetches {
		t.Errorf("the rotated key within the refetch interval made %d fetches, want 0", n-fetches)
	}
	clock.advance(callback.DefaultKeyRefetchInterval - time.Minute)
	if rec := f.post(t, rotated, body); rec.Code != http.StatusAccepted {
		t.Fatalf("rotated key once the refetch interval passed: status %d, want 202", rec.Code)
	}
	if n := f.ms.jwksHits.Load(); n != fetches+1 {
		t.Errorf("the rotated key once the refetch interval passed made %d fetches, want 1", n-fetches)
	}
	if rec := f.post(t, old, body); rec.Code != http.StatusAccepted {
		t.Fatalf("old key after rotation: status %d, want 202", rec.Code)
	}
	if n := len(f.notifications()); n != 3 {
		// One for the old key, one for the rotated key, one for the old key again.
		t.Errorf("receiver got %d notifications, want 3", n)
	}
}

// TestKeysAreCached: known keys are not fetched again, and the OpenID
// configuration is fetched once.
func TestKeysAreCached(t *testing.T) {
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, nil)
	tok := "Bearer " + need(t)(signRS256(keys[0], "k1", validClaims()))
	for range 5 {
		if rec := f.post(t, tok, operationBody(testCallID, testOpID, "running")); rec.Code != http.StatusAccepted {
			t.Fatalf("status %d, want 202", rec.Code)
		}
	}
	if c, k := f.ms.configHits.Load(), f.ms.jwksHits.Load(); c != 1 || k != 1 {
		t.Errorf("5 requests fetched the configuration %d times and the keys %d times, want 1 and 1", c, k)
	}
}

// TestKeysUnavailable: when the configuration or the key set cannot be
// fetched, the request gets 503 with Retry-After (Graph delivers it again
// later) and nothing is handed on.
func TestKeysUnavailable(t *testing.T) {
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	tok := "Bearer " + need(t)(signRS256(keys[0], "k1", validClaims()))
	for _, down := range []string{"configuration", "key set"} {
		t.Run(down, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			if down == "configuration" {
				f.ms.configDown.Store(true)
			} else {
				f.ms.jwksDown.Store(true)
			}
			rec := f.post(t, tok, operationBody(testCallID, testOpID, "completed"))
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
				t.Errorf("status %d Retry-After %q, want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
			}
			if got := f.notifications(); len(got) != 0 {
				t.Errorf("receiver got %+v", got)
			}
			if got := f.rejected(); len(got) != 1 || got[0] != callback.RejectKeysUnavailable {
				t.Errorf("reject hook saw %v, want [%s]", got, callback.RejectKeysUnavailable)
			}
		})
	}
}

// TestValidateReturnsRejectError: Validate's errors are *RejectError and
// match ErrRejected.
func TestValidateReturnsRejectError(t *testing.T) {
	v, err := callback.NewValidator(testAppID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Validate(context.Background(), "Bearer a.b")
	var re *callback.RejectError
	if !errors.As(err, &re) || re.Reason != callback.RejectMalformedToken || !errors.Is(err, callback.ErrRejected) {
		t.Fatalf("err %v: want a *RejectError with reason %s matching ErrRejected", err, callback.RejectMalformedToken)
	}
}

// TestValidatorOptions: bad configurations are refused at construction with
// an error that says what to do.
func TestValidatorOptions(t *testing.T) {
	cases := []struct {
		name  string
		appID string
		opt   callback.ValidatorOption
	}{
		{"empty app ID", "", nil},
		{"plain http config URL off loopback", testAppID, callback.WithOpenIDConfigURL("http://keys.example/openid")},
		{"config URL not a URL", testAppID, callback.WithOpenIDConfigURL("://")},
		{"no issuers", testAppID, callback.WithIssuers()},
		{"empty issuer", testAppID, callback.WithIssuers("")},
		{"no tenants", testAppID, callback.WithTenants()},
		{"negative skew", testAppID, callback.WithClockSkew(-time.Second)},
		{"huge skew", testAppID, callback.WithClockSkew(time.Hour)},
		{"nil client", testAppID, callback.WithHTTPClient(nil)},
		{"zero fetch timeout", testAppID, callback.WithFetchTimeout(0)},
		{"nil clock", testAppID, callback.WithNow(nil)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var opts []callback.ValidatorOption
			if tc.opt != nil {
				opts = append(opts, tc.opt)
			}
			if _, err := callback.NewValidator(tc.appID, opts...); err == nil {
				t.Error("NewValidator accepted it")
			}
		})
	}
	if _, err := callback.NewValidator(testAppID, callback.WithOpenIDConfigURL("http://127.0.0.1:1/openid")); err != nil {
		t.Errorf("plain http on loopback refused: %v", err)
	}
}

// TestPrefetchReportsAnUnusableConfiguration: Prefetch surfaces a bad
// configuration document at startup.
func TestPrefetchReportsAnUnusableConfiguration(t *testing.T) {
	f := startFakeMicrosoft()
	defer f.srv.Close()
	v, err := callback.NewValidator(testAppID, callback.WithOpenIDConfigURL(f.srv.URL+"/nothing-here"),
		callback.WithHTTPClient(f.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Prefetch(context.Background()); err == nil {
		t.Error("Prefetch of a missing document succeeded")
	}
	good, err := callback.NewValidator(testAppID, callback.WithOpenIDConfigURL(f.configURL()),
		callback.WithHTTPClient(f.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	if err := good.Prefetch(context.Background()); err != nil {
		t.Errorf("Prefetch: %v", err)
	}
}

// TestConcurrentColdStart: many notifications arriving before anything is
// cached all pass, with one fetch of the configuration.
func TestConcurrentColdStart(t *testing.T) {
	f := newFixture(t, nil)
	auth := genuine(t)
	const n = 16
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest(http.MethodPost, "/callback", strings.NewReader(operationBody(testCallID, testOpID, "completed")))
			req.Header.Set("Authorization", auth)
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			codes <- rec.Code
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("concurrent requests did not finish within 30s (discovery or key fetch hung)")
	}
	close(codes)
	for c := range codes {
		if c != http.StatusAccepted {
			t.Errorf("status %d, want 202", c)
		}
	}
	if got := len(f.notifications()); got != n {
		t.Errorf("receiver got %d notifications, want %d", got, n)
	}
	if c := f.ms.configHits.Load(); c != 1 {
		t.Errorf("the configuration was fetched %d times, want 1", c)
	}
}
