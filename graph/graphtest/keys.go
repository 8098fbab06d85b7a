package graphtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
)

// Paths of the calling service's key discovery on the fake.
const (
	openIDConfigPath = "/.well-known/OpenIdConfiguration"
	// openIDConfigAlias is the spelling OpenID Connect discovery uses.
	openIDConfigAlias = "/.well-known/openid-configuration"
	jwksPath          = "/keys"
)

// keyring holds the key the fake signs notification tokens with, and the
// attacker's key that some forgeries are signed with. Keys are made on
// first use: an RSA key takes from a few to several hundred milliseconds
// to generate, and most tests of the Graph client never need one.
type keyring struct {
	mu       sync.Mutex
	key      *rsa.PrivateKey
	kid      string
	attacker *rsa.PrivateKey
}

// newSigningKey generates a 2048-bit RSA key and its kid (the key's
// RFC 7638 thumbprint, as Microsoft's key IDs are derived from the key).
func newSigningKey() (*rsa.PrivateKey, string, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, "", fmt.Errorf("graphtest: generating an RSA signing key: %w", err)
	}
	kid, err := keyID(k)
	return k, kid, err
}

func keyID(k *rsa.PrivateKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: &k.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("graphtest: the signing key's thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// signingKey returns the current key and kid, generating them on first use.
func (s *Server) signingKey() (*rsa.PrivateKey, string, error) {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	switch {
	case s.keys.key == nil:
		k, kid, err := newSigningKey()
		if err != nil {
			return nil, "", err
		}
		s.keys.key, s.keys.kid = k, kid
	case s.keys.kid == "": // WithSigningKey
		if s.keys.key.N == nil || s.keys.key.N.BitLen() < 2048 {
			return nil, "", fmt.Errorf("graphtest: WithSigningKey: the key must be an RSA key of at least 2048 bits")
		}
		kid, err := keyID(s.keys.key)
		if err != nil {
			return nil, "", err
		}
		s.keys.kid = kid
	}
	return s.keys.key, s.keys.kid, nil
}

// attackerKey returns a key the JWKS never publishes.
func (s *Server) attackerKey() (*rsa.PrivateKey, error) {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	if s.keys.attacker == nil {
		k, _, err := newSigningKey()
		if err != nil {
			return nil, err
		}
		s.keys.attacker = k
	}
	return s.keys.attacker, nil
}

// WithSigningKey makes the fake sign tokens with key (at least 2048 bits)
// instead of a key generated on first use. Tests that start many fakes
// can generate one key and share it, saving the generation time.
func WithSigningKey(key *rsa.PrivateKey) Option {
	return func(s *Server) { s.keys.key = key }
}

// KeyID returns the kid of the key that signs tokens now (the key is
// generated on first use).
func (s *Server) KeyID() (string, error) {
	_, kid, err := s.signingKey()
	return kid, err
}

// RotateKey replaces the signing key by a new one with a new kid. The
// JWKS publishes only the new key from then on, so tokens signed before
// the rotation no longer verify once a validator refreshes its keys. A
// validator that cached the old key set meets the new kid in the next
// token; it may fetch the key set again at once, or, if it limits its
// fetches (package graph/callback fetches at most once per
// WithKeyRefetchInterval), answer 503 with Retry-After until it may: Graph
// delivers a notification refused with 503 again, and drops one refused
// with 401, so such a validator must not answer 401 to an unknown kid it
// has not been allowed to look up. It returns the new kid.
func (s *Server) RotateKey() (string, error) {
	k, kid, err := newSigningKey()
	if err != nil {
		return "", err
	}
	s.keys.mu.Lock()
	s.keys.key, s.keys.kid = k, kid
	s.keys.mu.Unlock()
	return kid, nil
}

// OpenIDConfigURL is the calling service's OpenID configuration on the
// fake, {URL}/.well-known/OpenIdConfiguration (as Microsoft's
// https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration): issuer,
// jwks_uri and id_token_signing_alg_values_supported ["RS256"]. It is
// served over the fake's TLS (Client trusts it), or plain HTTP with
// WithPlainHTTP.
func (s *Server) OpenIDConfigURL() string { return s.URL + openIDConfigPath }

// JWKSURL is the key set the OpenID configuration points at: the current
// signing key as a JWK with kid, "alg": "RS256" and "use": "sig".
func (s *Server) JWKSURL() string { return s.URL + jwksPath }

func (s *Server) serveOpenIDConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, map[string]any{
		"issuer":                                s.issuer,
		"jwks_uri":                              s.JWKSURL(),
		"id_token_signing_alg_values_supported": []string{string(jose.RS256)},
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
	})
}

func (s *Server) serveJWKS(w http.ResponseWriter, r *http.Request) {
	k, kid, err := s.signingKey()
	if err != nil {
		writeError(w, r, http.StatusInternalServerError, "InternalServerError", err.Error())
		return
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &k.PublicKey, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig",
	}}}
	writeJSON(w, r, http.StatusOK, set)
}

func writeJSON(w http.ResponseWriter, r *http.Request, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, r, http.StatusInternalServerError, "InternalServerError", "graphtest: "+err.Error())
		return
	}
	setIDs(w, r)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
