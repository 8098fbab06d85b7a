package forgery_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/recgate/recgate/graph/callback"
)

// TestKeyRotationDropsOldKeys: Microsoft rotates, and its JWKS drops the
// old key. A token signed by the old key must be refused from then on:
// that is how a retired or leaked signing key stops being trusted.
func TestKeyRotationDropsOldKeys(t *testing.T) {
	ms := newMicrosoft(t)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	tg := newTarget(t, ms, callback.WithNow(clock), callback.WithKeySetMaxAge(time.Hour))
	wantAccepted(t, tg.bearer(t, genuineToken(clock())), 1) // the old key is cached now

	ms.publish(jwk(&keys.rsaOther.PublicKey, "ms-rsa-2", "RS256"))
	// Within the key set's maximum age (and the refetch interval) the cached
	// key still verifies: no token asked for a key the cache lacks, so
	// nothing was fetched. Past the maximum age, the keys are fetched again.
	wantAccepted(t, tg.bearer(t, genuineToken(clock())), 1)
	mu.Lock()
	now = now.Add(time.Hour + time.Minute)
	mu.Unlock()
	next := compact("RS256", keys.rsaOther, jsonOf(header("RS256", "ms-rsa-2")), jsonOf(genuineClaims(clock())))
	o := tg.bearer(t, genuineToken(clock()))
	if o.status == http.StatusAccepted {
		t.Fatalf("handler bug back: a key the JWKS dropped is still trusted past the key set's maximum age (got %v)", o)
	}
	wantRefused(t, o, http.StatusUnauthorized, callback.RejectBadSignature)
	wantAccepted(t, tg.bearer(t, next), 1)
}

// TestKeyRotationPicksUpNewKeys: a token under a kid published after the
// validator's last fetch of the key set is deferred (503 with Retry-After,
// the seconds left in the refetch interval; at once, no fetch) until the
// interval has passed since that fetch; then it makes one fetch and the new
// key is accepted.
func TestKeyRotationPicksUpNewKeys(t *testing.T) {
	ms := newMicrosoft(t)
	clock := newMovableClock()
	tg := newTarget(t, ms, callback.WithNow(clock.now))
	wantAccepted(t, tg.bearer(t, genuineToken(clock.now())), 1)
	ms.publish(append(publishedKeys(), jwk(&keys.rsaOther.PublicKey, "ms-rsa-2", "RS256"))...)
	next := func() string {
		return compact("RS256", keys.rsaOther, jsonOf(header("RS256", "ms-rsa-2")), jsonOf(genuineClaims(clock.now())))
	}
	before := ms.jwksFetches.Load()
	if o := tg.bearer(t, next()); !isDeferred(o) || o.retryAfter != "300" {
		t.Errorf("the new kid just after the fetch: got %v; want 503, %q, Retry-After \"300\"", o, callback.RejectUnknownKey)
	}
	clock.advance(callback.DefaultKeyRefetchInterval - time.Second)
	if o := tg.bearer(t, next()); !isDeferred(o) || o.retryAfter != "1" {
		t.Errorf("the new kid a second before the interval passed: got %v; want 503, %q, Retry-After \"1\"", o, callback.RejectUnknownKey)
	}
	if n := ms.jwksFetches.Load() - before; n != 0 {
		t.Errorf("the new kid within the refetch interval made %d JWKS fetches, want 0", n)
	}
	clock.advance(time.Second)
	wantAccepted(t, tg.bearer(t, next()), 1)
	if n := ms.jwksFetches.Load() - before; n != 1 {
		t.Errorf("the new kid once the refetch interval passed made %d JWKS fetches, want 1", n)
	}
	wantAccepted(t, tg.bearer(t, genuineToken(clock.now())), 1)
}

// TestForgeriesDoNotDriveKeyFetches: a token the cached keys do not verify
// may make the validator fetch the JWKS again only once the refetch interval
// has passed since the last fetch, so whoever can reach the callback URL
// cannot make the bot fetch Microsoft's key set once per request (and wait
// for it). go-oidc's RemoteKeySet, used before, fetched for every forgery:
// 20 forgeries, 20 fetches. Within the interval each made-up kid is
// deferred (503, Retry-After), never accepted.
func TestForgeriesDoNotDriveKeyFetches(t *testing.T) {
	ms := newMicrosoft(t)
	tg := newTarget(t, ms)
	wantAccepted(t, tg.bearer(t, genuineToken(time.Now())), 1)
	before := ms.jwksFetches.Load()
	const forgeries = 20
	for i := 0; i < forgeries; i++ {
		wantDeferred(t, tg.bearer(t, withHeader(fmt.Sprintf("attacker-%d", i), nil)(time.Now())))
	}
	fetches := ms.jwksFetches.Load() - before
	t.Logf("%d forged tokens made %d JWKS fetches", forgeries, fetches)
	if fetches != 0 {
		t.Fatalf("handler bug back: forged tokens drive JWKS fetches (%d forgeries, %d fetches, want 0 within the refetch interval of the last fetch)", forgeries, fetches)
	}
}

// TestKeySetFaultsFailClosed: a key set endpoint that answers 500, HTML,
// garbage or nothing in time never lets a token through; genuine tokens
// wait (503, so that Graph retries) and forged ones are refused.
func TestKeySetFaultsFailClosed(t *testing.T) {
	faults := []struct {
		name  string
		fault func(w http.ResponseWriter, r *http.Request) bool
		// wantStatus is what a genuine token gets while the fault lasts:
		// 503 for each, as the keys cannot be had (a key set that cannot
		// be decoded or holds no key is no reason to refuse a token).
		wantStatus int
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) bool {
			http.Error(w, "boom", http.StatusInternalServerError)
			return true
		}, http.StatusServiceUnavailable},
		{"HTML 200", func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html><body>maintenance</body></html>"))
			return true
		}, http.StatusServiceUnavailable},
		{"empty key set", func(w http.ResponseWriter, r *http.Request) bool {
			w.Write([]byte(`{"keys":[]}`))
			return true
		}, http.StatusServiceUnavailable},
		{"slow", func(w http.ResponseWriter, r *http.Request) bool {
			select {
			case <-r.Context().Done():
			case <-time.After(1500 * time.Millisecond):
			}
			return false
		}, http.StatusServiceUnavailable},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			ms := newMicrosoft(t)
			ms.setJWKSFault(f.fault)
			tg := newTarget(t, ms)
			forged := tg.bearer(t, withHeader(kidRSA, nil)(time.Now()))
			if forged.status/100 == 2 || forged.handed != 0 {
				t.Fatalf("forged token: %v; want a refusal", forged)
			}
			start := time.Now()
			genuine := tg.bearer(t, genuineToken(time.Now()))
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("a genuine token waited %v for a faulty key set; the fetch timeout is 500ms", d)
			}
			if genuine.handed != 0 || genuine.status/100 == 2 {
				t.Fatalf("genuine token with a faulty key set: %v; want a refusal", genuine)
			}
			if genuine.status != f.wantStatus {
				t.Errorf("genuine token with a faulty key set: %v; want status %d", genuine, f.wantStatus)
			}
			// The failure is remembered: the genuine token right after
			// the forged one made no fetch of its own.
			if n := ms.jwksFetches.Load(); n != 1 {
				t.Errorf("a forged and a genuine token within five seconds of a failed fetch made %d JWKS fetches, want 1", n)
			}
		})
	}
}

// TestHungKeySetFetchRecovers: a key set fetch that hangs (the endpoint
// accepts the connection and never answers) must not wedge key refresh once
// the endpoint is healthy again. The validator's HTTP client here has no
// Timeout of its own, as with an httptest server's Client, which
// WithHTTPClient's documentation suggests. The failure is remembered for
// five seconds (on the validator's clock): a retry within them gets 503 at
// once, with no fetch; after them the fetch is made again.
func TestHungKeySetFetchRecovers(t *testing.T) {
	ms := newMicrosoft(t)
	release := make(chan struct{})
	first := true
	ms.setJWKSFault(func(w http.ResponseWriter, r *http.Request) bool {
		ms.mu.Lock()
		hang := first
		first = false
		ms.mu.Unlock()
		if hang {
			<-release // hangs until the test ends
		}
		return false
	})
	defer close(release) // before the server's Close, which waits for handlers
	clock := newMovableClock()
	v, err := callback.NewValidator(appID, callback.WithOpenIDConfigURL(ms.configURL()),
		callback.WithHTTPClient(&http.Client{}), callback.WithFetchTimeout(300*time.Millisecond),
		callback.WithNow(clock.now))
	if err != nil {
		t.Fatal(err)
	}
	tg := newTargetWith(t, ms, v)
	o := tg.bearer(t, genuineToken(clock.now()))
	wantRefused(t, o, http.StatusServiceUnavailable, callback.RejectKeysUnavailable)

	// Graph delivers again at once: the failure is remembered.
	o = tg.bearer(t, genuineToken(clock.now()))
	wantRefused(t, o, http.StatusServiceUnavailable, callback.RejectKeysUnavailable)
	if n := ms.jwksFetches.Load(); n != 1 {
		t.Errorf("a retry right after the hung fetch made %d JWKS fetches in all, want 1", n)
	}

	// The endpoint answers now. Graph delivers again after Retry-After.
	clock.advance(5 * time.Second)
	o = tg.bearer(t, genuineToken(clock.now()))
	if o.status == http.StatusServiceUnavailable {
		t.Fatalf("handler bug back: one hung JWKS fetch wedges key refresh (every fetch must be bounded by the fetch timeout; got %v)", o)
	}
	wantAccepted(t, o, 1)
}

// movableClock is a validator clock the test moves instead of sleeping.
type movableClock struct {
	mu sync.Mutex
	t  time.Time
}

func newMovableClock() *movableClock { return &movableClock{t: time.Now()} }

func (c *movableClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *movableClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestUntrustworthyKeysInTheSet: keys no bot should verify with, and keys
// that cannot be read at all.
func TestUntrustworthyKeysInTheSet(t *testing.T) {
	// RSA keys under 2048 bits are skipped (NIST SP 800-131A does not
	// accept them for signatures; crypto/rsa still verifies with 1024
	// bits): published beside Microsoft's keys, a token signed with one is
	// a bad signature, and the genuine keys keep working.
	for _, weak := range []struct {
		name string
		key  json.RawMessage
		sign any
	}{
		{"512-bit RSA key", rawRSAJWK(keys.rsa512, "weak"), keys.rsa512},
		{"1024-bit RSA key", jwk(&keys.rsa1024.PublicKey, "weak", "RS256"), keys.rsa1024},
	} {
		t.Run(weak.name, func(t *testing.T) {
			ms := newMicrosoft(t)
			ms.publish(append(publishedKeys(), weak.key)...)
			tg := newTarget(t, ms)
			tok := compact("RS256", weak.sign, jsonOf(header("RS256", "weak")), jsonOf(genuineClaims(time.Now())))
			wantRefused(t, tg.bearer(t, tok), http.StatusUnauthorized, callback.RejectBadSignature)
			wantAccepted(t, tg.bearer(t, genuineToken(time.Now())), 1)
		})
		t.Run(weak.name+" alone", func(t *testing.T) {
			// A key set with no usable key is no key set: 503, Graph
			// delivers again.
			ms := newMicrosoft(t)
			ms.publish(weak.key)
			tg := newTarget(t, ms)
			tok := compact("RS256", weak.sign, jsonOf(header("RS256", "weak")), jsonOf(genuineClaims(time.Now())))
			wantRefused(t, tg.bearer(t, tok), http.StatusServiceUnavailable, callback.RejectKeysUnavailable)
		})
	}
	t.Run("EC key off its curve beside the genuine key", func(t *testing.T) {
		// An EC key whose point is not on P-256 (an invalid-curve key):
		// go-jose refuses to load it. It is skipped (RFC 7517 section 5:
		// ignore keys out of the supported ranges), and the genuine RSA
		// key beside it still verifies.
		ms := newMicrosoft(t)
		point, err := keys.ec.PublicKey.Bytes() // 0x04 || X || Y
		if err != nil {
			t.Fatal(err)
		}
		bad := json.RawMessage(jsonOf(map[string]string{"kty": "EC", "crv": "P-256", "kid": "off-curve", "alg": "ES256",
			"x": b64(point[1:33]), "y": b64(make([]byte, 32))}))
		ms.publish(bad, jwk(&keys.rsa.PublicKey, kidRSA, "RS256"))
		tg := newTarget(t, ms)
		offCurveSigned := compact("ES256", keys.attackEC, jsonOf(header("ES256", "off-curve")), jsonOf(genuineClaims(time.Now())))
		wantRefused(t, tg.bearer(t, offCurveSigned), http.StatusUnauthorized, callback.RejectBadSignature)
		wantAccepted(t, tg.bearer(t, genuineToken(time.Now())), 1)
	})
	t.Run("embedded jwk off the curve", func(t *testing.T) {
		ms := newMicrosoft(t)
		tg := newTarget(t, ms)
		tok := compact("ES256", keys.attackEC, jsonOf(map[string]any{"alg": "ES256", "kid": kidEC, "jwk": map[string]string{
			"kty": "EC", "crv": "P-256", "x": b64(make([]byte, 32)), "y": b64(make([]byte, 32))}}), jsonOf(genuineClaims(time.Now())))
		if o := tg.bearer(t, tok); o.status/100 == 2 || o.handed != 0 {
			t.Errorf("got %v; want a refusal", o)
		}
	})
}

// TestConfigurationAttacks: an OpenID configuration that lies or breaks.
// Its own issuer field is ignored by design (Microsoft's differs from the
// tokens' iss), so a configuration claiming another issuer widens nothing;
// one that lists only symmetric algorithms, or none at all that are
// asymmetric, or points its jwks_uri at plain http off loopback, lets
// nothing through.
func TestConfigurationAttacks(t *testing.T) {
	t.Run("issuer field names the attacker", func(t *testing.T) {
		ms := newMicrosoft(t)
		ms.mu.Lock()
		ms.issuer = "https://evil.example"
		ms.mu.Unlock()
		tg := newTarget(t, ms)
		wantAccepted(t, tg.bearer(t, genuineToken(time.Now())), 1)
		wantRefused(t, tg.bearer(t, genuineClaimsWith(map[string]any{"iss": "https://evil.example"})(time.Now())),
			http.StatusUnauthorized, callback.RejectWrongIssuer)
	})
	t.Run("only HS256 and none listed", func(t *testing.T) {
		ms := newMicrosoft(t)
		ms.mu.Lock()
		ms.algs = []string{"HS256", "none"}
		ms.mu.Unlock()
		tg := newTarget(t, ms)
		for _, tok := range []string{
			genuineToken(time.Now()),
			compact("HS256", keys.rsa.N.Bytes(), jsonOf(header("HS256", kidRSA)), jsonOf(genuineClaims(time.Now()))),
			compact("none", nil, jsonOf(header("none", kidRSA)), jsonOf(genuineClaims(time.Now()))),
		} {
			if o := tg.bearer(t, tok); o.status/100 == 2 || o.handed != 0 {
				t.Errorf("got %v; want a refusal", o)
			}
		}
	})
	t.Run("only ES256 listed, RS256 token", func(t *testing.T) {
		ms := newMicrosoft(t)
		ms.mu.Lock()
		ms.algs = []string{"ES256"}
		ms.mu.Unlock()
		tg := newTarget(t, ms)
		wantRefused(t, tg.bearer(t, genuineToken(time.Now())), http.StatusUnauthorized, callback.RejectAlgorithm)
	})
	for name, fault := range map[string]func(w http.ResponseWriter, r *http.Request) bool{
		"500": func(w http.ResponseWriter, r *http.Request) bool {
			http.Error(w, "boom", http.StatusInternalServerError)
			return true
		},
		"HTML": func(w http.ResponseWriter, r *http.Request) bool {
			w.Write([]byte("<html></html>"))
			return true
		},
		"no jwks_uri": func(w http.ResponseWriter, r *http.Request) bool {
			w.Write([]byte(`{"issuer":"https://graph.microsoft.com"}`))
			return true
		},
		"jwks_uri over http off loopback": func(w http.ResponseWriter, r *http.Request) bool {
			w.Write([]byte(`{"jwks_uri":"http://keys.example/keys"}`))
			return true
		},
		"jwks_uri a file": func(w http.ResponseWriter, r *http.Request) bool {
			w.Write([]byte(`{"jwks_uri":"file:///etc/passwd"}`))
			return true
		},
	} {
		t.Run("configuration "+name, func(t *testing.T) {
			ms := newMicrosoft(t)
			ms.setConfigFault(fault)
			tg := newTarget(t, ms)
			wantRefused(t, tg.bearer(t, genuineToken(time.Now())), http.StatusServiceUnavailable, callback.RejectKeysUnavailable)
			wantRefused(t, tg.bearer(t, withHeader(kidRSA, nil)(time.Now())), http.StatusServiceUnavailable, callback.RejectKeysUnavailable)
		})
	}
}
