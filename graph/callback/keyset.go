package callback

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejson "github.com/go-jose/go-jose/v4/json"
)

// minRSAKeyBits is the smallest RSA modulus the key set uses. NIST SP
// 800-131A disallows generating digital signatures with RSA keys under 2048
// bits (under 112 bits of security strength) and allows verifying with them
// only for legacy use; a callback token is signed when it is sent, so one
// that such a key verifies was signed in a way the standard disallows.
// crypto/rsa itself still verifies with 1024-bit keys.
const minRSAKeyBits = 2048

// failedKeyFetchRetryInterval is how long after a failed fetch of the key set
// the next one may be made (if the refetch interval is shorter, that). It is
// shorter than the refetch interval because a failure taught nothing: while
// it lasts, tokens that need a key the cache does not hold get 503 and Graph
// delivers them again; one transient failure must not make that last
// minutes.
const failedKeyFetchRetryInterval = 5 * time.Second

// errNoKeyVerifies is a bad signature: no usable key in the key set, fetched
// at most the refetch interval ago, verifies the token.
var errNoKeyVerifies = errors.New("callback: no key in the key set verifies the signature")

// keysUnavailableError says the keys could not be had (the fetch failed, or
// the document holds no usable key): the token could be neither accepted nor
// refused, so it gets 503 and Graph delivers it again. retryAfter is how long
// until the next fetch is allowed (0 when unknown).
type keysUnavailableError struct {
	err        error
	retryAfter time.Duration
}

func (e *keysUnavailableError) Error() string { return e.err.Error() }
func (e *keysUnavailableError) Unwrap() error { return e.err }

// unknownKeyError says the token names a kid the last fetched key set did
// not name, and the key set may not be fetched again yet: the key may have been published since
// the last fetch (Microsoft rotated), so the token is neither accepted nor
// refused. It gets 503 with Retry-After, and Graph delivers it again once a
// fetch may tell. retryAfter is how long until that fetch is allowed.
type unknownKeyError struct {
	kid        string
	age        time.Duration // since the last fetch
	retryAfter time.Duration
}

func (e *unknownKeyError) Error() string {
	return fmt.Sprintf("callback: the key set fetched %[2]v ago has no key with kid %[1]q, and may be fetched again only in %[3]v (WithKeyRefetchInterval)",
		truncate(e.kid, 64), e.age.Round(time.Millisecond), e.retryAfter.Round(time.Millisecond))
}

// keySet verifies token signatures against the keys published at a jwks_uri.
// It implements go-oidc's oidc.KeySet in place of go-oidc's RemoteKeySet,
// which fetches the key set again for every token whose kid it does not know:
// anyone who can reach the callback URL could make the bot fetch Microsoft's
// keys once per forged request, and wait for it.
//
// The rule: the keys are fetched at first use and cached. A token that no
// cached key verifies (an unknown kid, or a known kid with a signature the
// key does not verify) makes the set fetch again only if the last fetch,
// successful or not, is older than the refetch interval on the Validator's
// clock (after a failure: failedKeyFetchRetryInterval, if shorter).
// Otherwise it is answered at once, without a fetch: a kid the last fetched
// document named (usable key or not) is a bad signature (errNoKeyVerifies);
// a kid it did not name is an unknownKeyError (it may be a key published since the last
// fetch, so the token is to be delivered again, not refused); while the
// last fetch failed, the keys are unavailable. A token without a kid is
// tried against every cached key and, once keys are cached, never makes a
// fetch. A token whose kid is still unknown after a fetch is a bad
// signature: the key set just fetched does not publish it. Concurrent
// tokens that may fetch share one fetch. A successful fetch replaces the cached keys, so a key the
// set no longer lists is dropped; as fetches follow misses only, the
// Validator also builds a new keySet after WithKeySetMaxAge.
type keySet struct {
	url      string
	client   *http.Client // the Validator's guardedClient
	timeout  time.Duration
	interval time.Duration
	now      func() time.Time
	// parked, when not nil, is told how many callers wait on the fetch in
	// flight each time one more starts waiting (tests synchronise on it).
	parked func(waiting int)

	mu        sync.Mutex
	keys      []jose.JSONWebKey // usable keys of the last successful fetch
	kids      map[string]bool   // every kid its document named, usable or not
	gen       uint64            // counts successful fetches
	fetched   bool              // a fetch has completed, successfully or not
	lastFetch time.Time         // when it completed (now)
	lastErr   error             // its error (not wrapped), nil if it succeeded
	inflight  *keyFetch
	waiting   int // callers waiting on inflight
}

// keyFetch is one fetch in flight; done is closed once its result is in the
// keySet (keys, lastErr) and err is set.
type keyFetch struct {
	done chan struct{}
	err  error
}

func newKeySet(url string, client *http.Client, timeout, interval time.Duration, now func() time.Time) *keySet {
	return &keySet{url: url, client: client, timeout: timeout, interval: interval, now: now}
}

// signatureAlgs are the algorithms a token is parsed with here: the
// verifier has already refused any its configuration does not list.
var signatureAlgs = func() []jose.SignatureAlgorithm {
	algs := make([]jose.SignatureAlgorithm, len(asymmetricAlgs))
	for i, a := range asymmetricAlgs {
		algs[i] = jose.SignatureAlgorithm(a)
	}
	return algs
}()

// VerifySignature returns the payload of the compact JWS token if a key of
// the set verifies it. Its error is errNoKeyVerifies (or a parse error) for
// a bad token, an *unknownKeyError for a kid the cache lacks while a fetch
// is not yet allowed, a *keysUnavailableError when the keys could not be
// had, and ctx's error when ctx ended while waiting for a fetch.
func (k *keySet) VerifySignature(ctx context.Context, token string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(token, signatureAlgs)
	if err != nil {
		return nil, fmt.Errorf("callback: not a compact JWS: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("callback: a token must carry one signature, this carries %d", len(jws.Signatures))
	}
	hdr := jws.Signatures[0].Header

	k.mu.Lock()
	for {
		keys, gen := k.keys, k.gen
		k.mu.Unlock()
		if payload, ok := verifyWith(jws, hdr, keys); ok {
			return payload, nil
		}
		k.mu.Lock()
		if k.gen == gen {
			break
		}
		// A fetch brought new keys meanwhile: try them before asking for
		// another.
	}
	// No cached key verifies it (or nothing was ever fetched).
	f, err := k.fetchIfDue(hdr.KeyID)
	if err != nil {
		k.mu.Unlock()
		return nil, err
	}
	k.waiting++
	n := k.waiting
	k.mu.Unlock()
	if k.parked != nil {
		k.parked(n)
	}
	defer func() {
		k.mu.Lock()
		k.waiting--
		k.mu.Unlock()
	}()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-f.done:
	}
	if f.err != nil {
		return nil, f.err
	}
	k.mu.Lock()
	keys := k.keys
	k.mu.Unlock()
	if payload, ok := verifyWith(jws, hdr, keys); ok {
		return payload, nil
	}
	return nil, errNoKeyVerifies
}

// fetchIfDue returns the fetch to wait for: the one in flight, or a new one
// if the rule allows it. Otherwise it returns why the token is refused at
// once. k.mu is held.
func (k *keySet) fetchIfDue(kid string) (*keyFetch, error) {
	if k.inflight != nil {
		return k.inflight, nil
	}
	if k.fetched {
		if kid == "" && len(k.keys) > 0 {
			// Every cached key was tried, and no kid says which key a
			// fetch could bring.
			return nil, errNoKeyVerifies
		}
		since := k.now().Sub(k.lastFetch)
		if k.lastErr != nil {
			if wait := min(k.interval, failedKeyFetchRetryInterval) - since; wait > 0 {
				// Nothing was learnt since the failure: the keys are
				// still unavailable.
				return nil, &keysUnavailableError{err: k.lastErr, retryAfter: wait}
			}
		} else if wait := k.interval - since; wait > 0 {
			if k.kids[kid] {
				// The key named was in the last fetch (usable or not)
				// and does not verify the token: a genuine token is
				// signed with a key published before it is used, so a
				// fetch would not change that.
				return nil, errNoKeyVerifies
			}
			return nil, &unknownKeyError{kid: kid, age: since, retryAfter: wait}
		}
	}
	f := &keyFetch{done: make(chan struct{})}
	k.inflight = f
	go k.fetch(f)
	return f, nil
}

// fetch runs one fetch of the key set on a context of its own (no caller's
// hang-up spoils it for the others), bounded by the fetch timeout, and
// publishes its result.
func (k *keySet) fetch(f *keyFetch) {
	ctx, cancel := context.WithTimeout(context.Background(), k.timeout)
	defer cancel()
	keys, kids, err := k.download(ctx)
	k.mu.Lock()
	defer k.mu.Unlock()
	if err == nil {
		k.keys, k.kids = keys, kids
		k.gen++
	}
	// A failed fetch keeps the keys of the last good one: they were
	// published, and the Validator's maximum key set age bounds their use.
	k.fetched, k.lastFetch, k.lastErr = true, k.now(), err
	k.inflight = nil
	if err != nil {
		f.err = &keysUnavailableError{err: err, retryAfter: min(k.interval, failedKeyFetchRetryInterval)}
	}
	close(f.done)
}

// download fetches the key set and returns its usable keys, and the kids
// of all its keys.
func (k *keySet) download(ctx context.Context) ([]jose.JSONWebKey, map[string]bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("callback: key set request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("callback: fetching the key set: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("callback: reading the key set from %s: %w", k.url, err)
	}
	return usableKeys(body, k.url)
}

// usableKeys decodes a JWKS document and keeps the keys fit to verify
// signatures. Keys are decoded one by one: RFC 7517 section 5 says
// implementations SHOULD ignore keys whose kty they do not understand, that
// lack required members or whose values are out of range, so one such key
// does not lose the others. A document that is not a JWKS, or holds no usable
// key, is an error (the keys are unavailable, not the token bad). kids holds
// the kid of every key the document names, usable or not: a token under one
// of them that no usable key verifies is a bad signature, not a key the
// document does not publish yet.
func usableKeys(body []byte, url string) (keys []jose.JSONWebKey, kids map[string]bool, err error) {
	var doc struct {
		Keys []josejson.RawMessage `json:"keys"`
	}
	if err := josejson.Unmarshal(body, &doc); err != nil {
		return nil, nil, fmt.Errorf("callback: the document at %s is not a JSON Web Key Set: %w", url, err)
	}
	kids = make(map[string]bool, len(doc.Keys))
	for _, raw := range doc.Keys {
		var named struct {
			Kid string `json:"kid"`
		}
		if josejson.Unmarshal(raw, &named) == nil && named.Kid != "" {
			kids[named.Kid] = true
		}
		if key, ok := usableKey(raw); ok {
			keys = append(keys, key)
			kids[key.KeyID] = true
		}
	}
	if len(keys) == 0 {
		return nil, nil, fmt.Errorf("callback: the key set at %s holds no key usable for verifying signatures (%d keys: each encryption-only, private, symmetric, RSA under %d bits, or unreadable)", url, len(doc.Keys), minRSAKeyBits)
	}
	return keys, kids, nil
}

// usableKey decodes one JWK and says whether it may verify signatures.
func usableKey(raw []byte) (jose.JSONWebKey, bool) {
	// Look for private or symmetric material before go-jose decodes the
	// key (its UnmarshalJSON loads private keys, and says it is not meant
	// for untrusted input): a published private key is a leaked one, and a
	// symmetric key would let whoever reads the set sign.
	var secret struct {
		Kty  string               `json:"kty"`
		D    *josejson.RawMessage `json:"d"`
		P    *josejson.RawMessage `json:"p"`
		Q    *josejson.RawMessage `json:"q"`
		DP   *josejson.RawMessage `json:"dp"`
		DQ   *josejson.RawMessage `json:"dq"`
		QI   *josejson.RawMessage `json:"qi"`
		K    *josejson.RawMessage `json:"k"`
		Priv *josejson.RawMessage `json:"priv"`
	}
	if err := josejson.Unmarshal(raw, &secret); err != nil {
		return jose.JSONWebKey{}, false
	}
	if secret.Kty == "oct" || secret.D != nil || secret.P != nil || secret.Q != nil || secret.DP != nil ||
		secret.DQ != nil || secret.QI != nil || secret.K != nil || secret.Priv != nil {
		return jose.JSONWebKey{}, false
	}
	var key jose.JSONWebKey
	if err := key.UnmarshalJSON(raw); err != nil || !key.Valid() || !key.IsPublic() {
		return jose.JSONWebKey{}, false
	}
	if key.Use != "" && key.Use != "sig" {
		return jose.JSONWebKey{}, false // "enc": for encryption only
	}
	switch pub := key.Key.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < minRSAKeyBits {
			return jose.JSONWebKey{}, false
		}
	case *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return jose.JSONWebKey{}, false
	}
	return key, true
}

// verifyWith tries the keys that may have signed the token: those with its
// kid (every key when it has none) and, when a key names an alg, only if it
// is the token's.
func verifyWith(jws *jose.JSONWebSignature, hdr jose.Header, keys []jose.JSONWebKey) ([]byte, bool) {
	for i := range keys {
		key := &keys[i]
		if hdr.KeyID != "" && key.KeyID != hdr.KeyID {
			continue
		}
		if key.Algorithm != "" && key.Algorithm != hdr.Algorithm {
			continue
		}
		if payload, err := jws.Verify(key.Key); err == nil {
			return payload, true
		}
	}
	return nil, false
}
