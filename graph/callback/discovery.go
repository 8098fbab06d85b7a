package callback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// openIDConfiguration is the part of the OpenID configuration document the
// Validator reads.
type openIDConfiguration struct {
	JWKSURI string   `json:"jwks_uri"`
	Algs    []string `json:"id_token_signing_alg_values_supported"`
}

// discover returns the verifier built from the OpenID configuration,
// fetching the document the first time. The verifier skips go-oidc's issuer,
// audience and expiry checks because checkClaims makes them itself: several
// issuers are allowed (go-oidc checks one), and exp gets the same clock skew
// as nbf (go-oidc has none for exp and a fixed five minutes for nbf).
//
// A failure is remembered for discoveryRetryInterval; the requests in that
// window fail at once instead of queueing behind more fetches.
func (v *Validator) discover(ctx context.Context) (*oidc.IDTokenVerifier, []string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.verifier != nil && v.now().Sub(v.builtAt) < v.keyMaxAge {
		return v.verifier, v.algs, nil
	}
	// Too old (or never built): fetch the configuration, and with a new
	// key set the keys, again. Until that succeeds nothing verifies: a key
	// set past its age is not trusted.
	v.verifier = nil
	if v.lastErr != nil && time.Since(v.lastFailure) < discoveryRetryInterval {
		return nil, nil, v.lastErr
	}
	// One impatient request must not spoil the fetch for the others.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.fetchTimeout)
	defer cancel()
	cfg, err := v.fetchConfiguration(fctx)
	if err != nil {
		v.lastErr, v.lastFailure = err, time.Now()
		return nil, nil, err
	}
	algs := []string{oidc.RS256}
	if len(cfg.Algs) > 0 {
		algs = nil
		for _, a := range cfg.Algs {
			if slices.Contains(asymmetricAlgs, a) {
				algs = append(algs, a)
			}
		}
		if len(algs) == 0 {
			err := fmt.Errorf("callback: the OpenID configuration at %s lists no asymmetric signing algorithm (%q)", v.configURL, cfg.Algs)
			v.lastErr, v.lastFailure = err, time.Now()
			return nil, nil, err
		}
	}
	// A new key set, fetched at its first use: the keys of the old one are
	// dropped with it. Its refetches are rate-limited (keyset.go).
	keys := newKeySet(cfg.JWKSURI, v.client, v.fetchTimeout, v.keyRefetch, v.now)
	keys.parked = v.keyWaitHook
	v.verifier = oidc.NewVerifier("", keyProbe{keys}, &oidc.Config{
		SupportedSigningAlgs: algs,
		SkipIssuerCheck:      true, // checkClaims: iss in the allowed list
		SkipClientIDCheck:    true, // checkClaims: aud contains the app ID
		SkipExpiryCheck:      true, // checkClaims: exp and nbf with the skew
		Now:                  v.now,
	})
	v.algs = algs
	v.builtAt = v.now()
	v.lastErr = nil
	return v.verifier, v.algs, nil
}

func (v *Validator) fetchConfiguration(ctx context.Context) (openIDConfiguration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.configURL, nil)
	if err != nil {
		return openIDConfiguration{}, fmt.Errorf("callback: OpenID configuration request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return openIDConfiguration{}, fmt.Errorf("callback: fetching the OpenID configuration: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return openIDConfiguration{}, fmt.Errorf("callback: reading the OpenID configuration from %s: %w", v.configURL, err)
	}
	var cfg openIDConfiguration
	if err := json.Unmarshal(body, &cfg); err != nil {
		return openIDConfiguration{}, fmt.Errorf("callback: the document at %s is not an OpenID configuration: %w", v.configURL, err)
	}
	if cfg.JWKSURI == "" {
		return openIDConfiguration{}, fmt.Errorf("callback: the OpenID configuration at %s has no jwks_uri", v.configURL)
	}
	if err := checkFetchURL(cfg.JWKSURI); err != nil {
		return openIDConfiguration{}, fmt.Errorf("callback: the OpenID configuration at %s has an unusable jwks_uri: %w", v.configURL, err)
	}
	return cfg, nil
}

// keyOutcome records what the key set said during one Verify: go-oidc
// flattens the key set's error into text, and the Validator needs to tell
// "no key verifies this" (401) from "the keys could not be fetched" and
// "the kid is unknown and the key set may not be fetched yet" (503).
type keyOutcome struct {
	err         error
	unavailable bool
	unknownKey  bool
	retryAfter  time.Duration // when 503: until the next fetch is allowed (0: unknown)
}

type keyOutcomeKey struct{}

// keyProbe passes VerifySignature on to the key set (keySet, which verifies
// with go-jose and fetches the key set when its rule allows) and records the
// outcome in the context's keyOutcome: a *keysUnavailableError, or a wait
// for a fetch that ran out of time, is "keys unavailable"; an
// *unknownKeyError is "unknown key".
type keyProbe struct{ keys oidc.KeySet }

func (p keyProbe) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := p.keys.VerifySignature(ctx, jwt)
	if o, ok := ctx.Value(keyOutcomeKey{}).(*keyOutcome); ok && err != nil {
		o.err = err
		var unavailable *keysUnavailableError
		var unknown *unknownKeyError
		switch {
		case errors.As(err, &unavailable):
			o.unavailable, o.retryAfter = true, unavailable.retryAfter
		case errors.As(err, &unknown):
			o.unknownKey, o.retryAfter = true, unknown.retryAfter
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
			o.unavailable = true
		}
	}
	return payload, err
}

// guardedClient returns a copy of c whose transport turns a non-200 reply
// into a transport error (so that a key set endpoint answering 500 counts as
// unavailable, not as "no key matches") and caps reply bodies at
// maxDocumentBytes.
//
// It also bounds every fetch by timeout, whatever c says: with a client
// without a Timeout, one hung fetch would otherwise hold every later
// refresh.
func guardedClient(c *http.Client, timeout time.Duration) *http.Client {
	cp := *c
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cp.Transport = guardTransport{base: base, timeout: timeout}
	return &cp
}

type guardTransport struct {
	base    http.RoundTripper
	timeout time.Duration
}

func (g guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), g.timeout)
	resp, err := g.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("%s answered %s", req.URL.Redacted(), resp.Status)
	}
	resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, maxDocumentBytes), body: resp.Body, cancel: cancel}
	return resp, nil
}

// limitedBody caps what is read and ends the fetch's deadline when closed.
type limitedBody struct {
	io.Reader
	body   io.Closer
	cancel context.CancelFunc
}

func (b limitedBody) Close() error {
	err := b.body.Close()
	b.cancel()
	return err
}
