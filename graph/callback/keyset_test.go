package callback_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/recgate/recgate/graph/callback"
)

// keyServer serves an OpenID configuration and its JWKS on loopback and
// counts the JWKS fetches. Its JWKS document can be replaced, and a fetch
// can be held until the test lets it go.
type keyServer struct {
	srv     *httptest.Server
	fetches atomic.Int64

	mu   sync.Mutex
	body []byte
	hold chan struct{} // when not nil, fetches wait until it is closed
}

func newKeyServer(t testing.TB) *keyServer {
	t.Helper()
	ks := &keyServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openid", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"jwks_uri":                              ks.srv.URL + "/keys",
			"id_token_signing_alg_values_supported": []string{"RS256", "PS256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		ks.fetches.Add(1)
		ks.mu.Lock()
		body, hold := ks.body, ks.hold
		ks.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	ks.srv = httptest.NewServer(mux)
	t.Cleanup(ks.srv.Close)
	return ks
}

// publish replaces the JWKS by these keys.
func (ks *keyServer) publish(t testing.TB, keys ...jose.JSONWebKey) {
	t.Helper()
	body, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	ks.serve(body)
}

// serve replaces the JWKS document by body, as is.
func (ks *keyServer) serve(body []byte) {
	ks.mu.Lock()
	ks.body = body
	ks.mu.Unlock()
}

// holdFetches makes every fetch from now on wait until the returned
// function is called (which the test's cleanup also does, before the
// server closes).
func (ks *keyServer) holdFetches(t testing.TB) (release func()) {
	hold := make(chan struct{})
	ks.mu.Lock()
	ks.hold = hold
	ks.mu.Unlock()
	var once sync.Once
	release = func() {
		once.Do(func() {
			ks.mu.Lock()
			ks.hold = nil
			ks.mu.Unlock()
			close(hold)
		})
	}
	t.Cleanup(release)
	return release
}

// signingKey is a public key as Microsoft publishes it: RS256, for
// signatures.
func signingKey(kid string, key *rsa.PrivateKey) jose.JSONWebKey {
	return jose.JSONWebKey{Key: &key.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"}
}

// testClock is a clock the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newKeyValidator returns a Validator of ks's tokens on clock.
func newKeyValidator(t testing.TB, ks *keyServer, clock *testClock, opts ...callback.ValidatorOption) *callback.Validator {
	t.Helper()
	v, err := callback.NewValidator(testAppID, append([]callback.ValidatorOption{
		callback.WithOpenIDConfigURL(ks.srv.URL + "/openid"),
		callback.WithHTTPClient(ks.srv.Client()),
		callback.WithNow(clock.Now),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// reasonOf is why Validate refused (empty if it accepted).
func reasonOf(err error) callback.RejectReason {
	var re *callback.RejectError
	if errors.As(err, &re) {
		return re.Reason
	}
	if err != nil {
		return "not a RejectError: " + callback.RejectReason(err.Error())
	}
	return ""
}

// wantReason fails unless validating token gives reason ("" for accepted).
func wantReason(t testing.TB, v *callback.Validator, what, token string, reason callback.RejectReason) {
	t.Helper()
	if got := reasonOf(validate(v, token)); got != reason {
		if reason == "" {
			t.Errorf("%s: refused (%s), want accepted", what, got)
		} else {
			t.Errorf("%s: got %q, want refused with %q", what, got, reason)
		}
	}
}

func validate(v *callback.Validator, token string) error {
	_, err := v.Validate(context.Background(), "Bearer "+token)
	return err
}

// wantFetches fails unless ks was fetched n times.
func wantFetches(t testing.TB, ks *keyServer, n int64, when string) {
	t.Helper()
	if got := ks.fetches.Load(); got != n {
		t.Errorf("%s: the JWKS was fetched %d times, want %d", when, got, n)
	}
}

// randomKid is a kid nobody published.
func randomKid(t testing.TB) string {
	b := make([]byte, 8)
	rand.Read(b)
	return "forged-" + hex.EncodeToString(b)
}

// within runs f and fails the test, naming what hung, if it does not
// return within d.
func within(t testing.TB, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("hung: %s did not finish within %v", what, d)
	}
}

// TestForgedKidsDoNotDriveFetches: 100 forged tokens under random kids
// make one fetch in all (the first use) within the refetch interval; once
// the clock passes it, one more, and the next 100 none. The token that made
// a fetch is refused as a bad signature (the fetched set does not name its
// kid); the others get RejectUnknownKey (503), as a fetch is not allowed
// yet; none is accepted.
func TestForgedKidsDoNotDriveFetches(t *testing.T) {
	keys := must3(t)
	ks := newKeyServer(t)
	ks.publish(t, signingKey("k1", keys[0]))
	clock := &testClock{now: testNow}
	v := newKeyValidator(t, ks, clock)

	forge := func() string { return need(t)(signRS256(keys[2], randomKid(t), validClaims())) }
	const n = 100
	wantReason(t, v, "forged token 0 (fetches)", forge(), callback.RejectBadSignature)
	for i := 1; i < n; i++ {
		wantReason(t, v, fmt.Sprintf("forged token %d", i), forge(), callback.RejectUnknownKey)
	}
	first := ks.fetches.Load()
	t.Logf("%d forged tokens under random kids: %d JWKS fetches", n, first)
	wantFetches(t, ks, 1, "100 forgeries within the interval")

	clock.advance(callback.DefaultKeyRefetchInterval)
	wantReason(t, v, "first forged token after the interval (fetches)", forge(), callback.RejectBadSignature)
	for range n - 1 {
		wantReason(t, v, "forged token after the interval", forge(), callback.RejectUnknownKey)
	}
	t.Logf("%d more after the clock passed the interval: %d more fetches", n, ks.fetches.Load()-first)
	wantFetches(t, ks, 2, "100 forgeries after the interval passed")
	wantReason(t, v, "genuine token", need(t)(signRS256(keys[0], "k1", validClaims())), "")
	wantFetches(t, ks, 2, "a genuine token under a cached kid")
}

// TestRotatedKeyAcceptedOnceTheIntervalPassed: Microsoft rotates, and its
// JWKS now holds only k2. Until the refetch interval has passed since the
// last fetch, a token under k2 gets RejectUnknownKey (503: deliver again),
// at once and without a fetch, and k1 still verifies; after it, k2's token makes one
// fetch and is accepted, and k1, dropped from the set, no longer verifies
// (503 within the next interval, 401 after the fetch that follows it).
func TestRotatedKeyAcceptedOnceTheIntervalPassed(t *testing.T) {
	keys := must3(t)
	ks := newKeyServer(t)
	ks.publish(t, signingKey("k1", keys[0]))
	clock := &testClock{now: testNow}
	const interval = 10 * time.Minute
	v := newKeyValidator(t, ks, clock, callback.WithKeyRefetchInterval(interval))
	old := need(t)(signRS256(keys[0], "k1", validClaims()))
	rotated := need(t)(signRS256(keys[1], "k2", validClaims()))

	wantReason(t, v, "k1 before rotation", old, "")
	ks.publish(t, signingKey("k2", keys[1]))
	wantReason(t, v, "k2 just after its publication", rotated, callback.RejectUnknownKey)
	clock.advance(interval - time.Second)
	wantReason(t, v, "k2 a second before the interval passed", rotated, callback.RejectUnknownKey)
	wantReason(t, v, "k1 within the interval", old, "")
	wantFetches(t, ks, 1, "before the interval passed")

	clock.advance(time.Second)
	wantReason(t, v, "k2 once the interval passed", rotated, "")
	wantFetches(t, ks, 2, "after the interval passed")
	// k1 is no longer named: within the interval it is as unknown as a
	// new kid (503, never accepted); after it, a fetch shows the set still
	// lacks it, and it is refused.
	wantReason(t, v, "k1 after the refetch dropped it", old, callback.RejectUnknownKey)
	wantFetches(t, ks, 2, "k1's answer just after a refetch")
	clock.advance(interval)
	wantReason(t, v, "k1 an interval after the refetch dropped it", old, callback.RejectBadSignature)
	wantFetches(t, ks, 3, "k1's refusal an interval after the refetch")
}

// TestConcurrentMissesShareOneFetch: misses arriving while a fetch is in
// flight wait for that fetch instead of starting their own; the fetch is
// held until all of them wait. The genuine token among them, under a kid
// published since the last fetch, is accepted by the shared fetch.
func TestConcurrentMissesShareOneFetch(t *testing.T) {
	keys := must3(t)
	ks := newKeyServer(t)
	ks.publish(t, signingKey("k1", keys[0]))
	clock := &testClock{now: testNow}
	v := newKeyValidator(t, ks, clock, callback.WithFetchTimeout(30*time.Second))
	const n = 16
	var mu sync.Mutex
	parked := 0
	allParked := make(chan struct{})
	callback.SetKeyWaitHook(v, func(waiting int) {
		mu.Lock()
		defer mu.Unlock()
		parked = max(parked, waiting)
		if waiting == n {
			close(allParked)
		}
	})
	wantReason(t, v, "warm-up token", need(t)(signRS256(keys[0], "k1", validClaims())), "")
	// The first use waited for its own fetch: one waiter.
	mu.Lock()
	if parked != 1 {
		t.Errorf("the first use: %d callers waited on its fetch, want 1", parked)
	}
	mu.Unlock()

	ks.publish(t, signingKey("k1", keys[0]), signingKey("k2", keys[1]))
	clock.advance(callback.DefaultKeyRefetchInterval)
	release := ks.holdFetches(t)
	tokens := []string{need(t)(signRS256(keys[1], "k2", validClaims()))}
	for len(tokens) < n {
		tokens = append(tokens, need(t)(signRS256(keys[2], randomKid(t), validClaims())))
	}
	reasons := make([]callback.RejectReason, n)
	var wg sync.WaitGroup
	for i, tok := range tokens {
		wg.Go(func() { reasons[i] = reasonOf(validate(v, tok)) })
	}
	select {
	case <-allParked:
	case <-time.After(20 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		release()
		t.Fatalf("hung: of %d concurrent misses at most %d waited on one fetch within 20s", n, parked)
	}
	release()
	within(t, 20*time.Second, "the misses waiting on the released fetch", wg.Wait)
	if reasons[0] != "" {
		t.Errorf("the genuine token under k2 waiting on the shared fetch: refused (%s)", reasons[0])
	}
	for i, r := range reasons[1:] {
		if r != callback.RejectBadSignature {
			t.Errorf("forged token %d: %q, want %q", i+1, r, callback.RejectBadSignature)
		}
	}
	t.Logf("%d concurrent misses: %d fetches (1 of them the warm-up)", n, ks.fetches.Load())
	wantFetches(t, ks, 2, "the warm-up and 16 concurrent misses")
}

// TestWaiterWhoseContextEndsReturnsPromptly: a caller waiting on a fetch
// that hangs returns with its context's error as soon as the context ends;
// the fetch goes on for the others and its keys are used afterwards.
func TestWaiterWhoseContextEndsReturnsPromptly(t *testing.T) {
	keys := must3(t)
	ks := newKeyServer(t)
	ks.publish(t, signingKey("k1", keys[0]))
	release := ks.holdFetches(t)
	parked := make(chan int, 8)
	clock := &testClock{now: testNow}
	set := callback.NewKeySetForTest(ks.srv.URL+"/keys", ks.srv.Client(), 30*time.Second, time.Minute, clock.Now,
		func(waiting int) { parked <- waiting })
	token := need(t)(signRS256(keys[0], "k1", validClaims()))

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := set.VerifySignature(ctx, token)
		errc <- err
	}()
	select {
	case <-parked:
	case <-time.After(20 * time.Second):
		t.Fatal("hung: the first use never waited on a fetch")
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the waiter whose context ended: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("hung: a waiter whose context ended kept waiting for the held fetch")
	}

	release()
	within(t, 20*time.Second, "VerifySignature after the held fetch was released", func() {
		if _, err := set.VerifySignature(context.Background(), token); err != nil {
			t.Errorf("after the fetch completed: %v", err)
		}
	})
	wantFetches(t, ks, 1, "one held fetch shared by the impatient and the patient caller")
}

// TestUnusableKeySetIsUnavailable: a JWKS that cannot be decoded, or
// holds no key usable for verifying signatures, makes a genuine token wait
// (503, Graph delivers it again), not fail (401). The failure is
// remembered for five seconds on the Validator's clock (503 at once, no
// fetch); after that a repaired JWKS is fetched and used.
func TestUnusableKeySetIsUnavailable(t *testing.T) {
	keys := must3(t)
	weak := weakKey(t)
	mustJSON := func(keys ...jose.JSONWebKey) []byte {
		b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"HTML", []byte("<html><body>maintenance</body></html>")},
		{"truncated JSON", []byte(`{"keys":[{"kty":"RSA",`)},
		{"keys not an array", []byte(`{"keys":{"kty":"RSA"}}`)},
		{"no keys", []byte(`{"keys":[]}`)},
		{"KEYS in capitals", []byte(strings.Replace(string(mustJSON(signingKey("k1", keys[0]))), `"keys"`, `"KEYS"`, 1))},
		{"an unreadable key", []byte(`{"keys":[{"kty":"RSA","kid":"k1","n":"AQAB"}]}`)},
		{"only an encryption key", mustJSON(jose.JSONWebKey{Key: &keys[0].PublicKey, KeyID: "k1", Use: "enc"})},
		{"only a 1024-bit key", mustJSON(signingKey("k1", weak))},
		{"only a private key", mustJSON(jose.JSONWebKey{Key: keys[0], KeyID: "k1", Algorithm: "RS256", Use: "sig"})},
		{"only a symmetric key", mustJSON(jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "k1", Algorithm: "HS256"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ks := newKeyServer(t)
			ks.serve(tc.body)
			clock := &testClock{now: testNow}
			v := newKeyValidator(t, ks, clock)
			genuine := need(t)(signRS256(keys[0], "k1", validClaims()))
			wantReason(t, v, "genuine token", genuine, callback.RejectKeysUnavailable)
			wantReason(t, v, "genuine token again, at once", genuine, callback.RejectKeysUnavailable)
			wantReason(t, v, "forged token, at once", need(t)(signRS256(keys[2], randomKid(t), validClaims())), callback.RejectKeysUnavailable)
			wantFetches(t, ks, 1, "three tokens within five seconds of the failure")
			ks.publish(t, signingKey("k1", keys[0]))
			clock.advance(5 * time.Second)
			wantReason(t, v, "genuine token once the JWKS is repaired and 5s passed", genuine, "")
			wantFetches(t, ks, 2, "after the repair")
		})
	}
}

// TestKeysUnfitForSignaturesAreNotUsed: beside Microsoft's key, the JWKS
// publishes keys no token may be verified with; tokens signed with them
// under their kids are refused as bad signatures (and make no fetch within
// the interval), while the genuine key keeps working.
func TestKeysUnfitForSignaturesAreNotUsed(t *testing.T) {
	keys := must3(t)
	weak := weakKey(t)
	ks := newKeyServer(t)
	ks.publish(t,
		signingKey("k1", keys[0]),
		signingKey("weak-1024", weak),
		jose.JSONWebKey{Key: &keys[1].PublicKey, KeyID: "enc", Algorithm: "RS256", Use: "enc"},
		jose.JSONWebKey{Key: &keys[1].PublicKey, KeyID: "pss-only", Algorithm: "PS256", Use: "sig"},
		jose.JSONWebKey{Key: keys[2], KeyID: "private", Algorithm: "RS256", Use: "sig"},
	)
	clock := &testClock{now: testNow}
	v := newKeyValidator(t, ks, clock)
	wantReason(t, v, "genuine token under k1", need(t)(signRS256(keys[0], "k1", validClaims())), "")
	for _, tc := range []struct {
		name, kid string
		key       *rsa.PrivateKey
	}{
		{"a 1024-bit RSA key", "weak-1024", weak},
		{"a key for encryption (use enc)", "enc", keys[1]},
		{"an RS256 token under a key published for PS256", "pss-only", keys[1]},
		{"a published private key", "private", keys[2]},
	} {
		wantReason(t, v, tc.name, need(t)(signRS256(tc.key, tc.kid, validClaims())), callback.RejectBadSignature)
	}
	wantFetches(t, ks, 1, "the tokens under unusable keys")
}

// TestTokenWithoutKidNeverFetches: a token without a kid is tried against
// every cached key, and is refused without a fetch when none verifies it,
// even past the refetch interval and when the JWKS has a key that would.
func TestTokenWithoutKidNeverFetches(t *testing.T) {
	keys := must3(t)
	ks := newKeyServer(t)
	ks.publish(t, signingKey("k0", keys[2]), signingKey("k1", keys[0]))
	clock := &testClock{now: testNow}
	v := newKeyValidator(t, ks, clock)
	wantReason(t, v, "k1's token without a kid (first use)", need(t)(signRS256(keys[0], "", validClaims())), "")
	ks.publish(t, signingKey("k0", keys[2]), signingKey("k1", keys[0]), signingKey("k2", keys[1]))
	clock.advance(callback.DefaultKeyRefetchInterval)
	wantReason(t, v, "k1's token without a kid", need(t)(signRS256(keys[0], "", validClaims())), "")
	wantReason(t, v, "k2's token without a kid, k2 published after the fetch", need(t)(signRS256(keys[1], "", validClaims())), callback.RejectBadSignature)
	wantFetches(t, ks, 1, "tokens without a kid")
	wantReason(t, v, "k2's token with its kid", need(t)(signRS256(keys[1], "k2", validClaims())), "")
	wantFetches(t, ks, 2, "k2's token with its kid, past the interval")
}

// TestWithKeyRefetchIntervalRefusesNonPositive: zero and negative
// intervals are refused with an error naming the option.
func TestWithKeyRefetchIntervalRefusesNonPositive(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		_, err := callback.NewValidator(testAppID, callback.WithKeyRefetchInterval(d))
		if err == nil || !strings.Contains(err.Error(), "WithKeyRefetchInterval") {
			t.Errorf("WithKeyRefetchInterval(%v): %v, want an error naming the option", d, err)
		}
	}
	if _, err := callback.NewValidator(testAppID, callback.WithKeyRefetchInterval(time.Second)); err != nil {
		t.Errorf("WithKeyRefetchInterval(1s): %v", err)
	}
}

// must3 returns the three test keys or fails.
func must3(t testing.TB) [3]*rsa.PrivateKey {
	t.Helper()
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// weakKey is a 1024-bit RSA key: crypto/rsa signs and verifies with it,
// the key set must not.
var weakKey = func() func(testing.TB) *rsa.PrivateKey {
	get := sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 1024) })
	return func(t testing.TB) *rsa.PrivateKey {
		t.Helper()
		k, err := get()
		if err != nil {
			t.Skipf("this platform refuses to make 1024-bit RSA keys: %v", err)
		}
		return k
	}
}()
