package graphtest_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/recgate/recgate/graph/graphtest"
)

const appID = "b07a99a1-0000-4000-8000-00000000b07a"

// One key for the whole package: generating RSA keys is slow.
var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
	keyErr  error
)

func sharedKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() { key, keyErr = rsa.GenerateKey(rand.Reader, 2048) })
	if keyErr != nil {
		t.Fatal(keyErr)
	}
	return key
}

func newFake(t *testing.T, opts ...graphtest.Option) *graphtest.Server {
	t.Helper()
	fake := graphtest.NewServer(append([]graphtest.Option{graphtest.WithSigningKey(sharedKey(t))}, opts...)...)
	t.Cleanup(fake.Close)
	return fake
}

func getJSON(t *testing.T, hc *http.Client, url string, v any) {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %d %s %s", url, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, b)
	}
}

// keySet fetches the JWKS the way a validator does: through the OpenID
// configuration, over the fake's TLS.
func keySet(t *testing.T, fake *graphtest.Server) jose.JSONWebKeySet {
	t.Helper()
	var cfg struct {
		Issuer  string   `json:"issuer"`
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	getJSON(t, fake.Client(), fake.OpenIDConfigURL(), &cfg)
	var set jose.JSONWebKeySet
	getJSON(t, fake.Client(), cfg.JWKSURI, &set)
	return set
}

type msClaims struct {
	jwt.Claims
	Tenant string `json:"tid"`
}

// verify is a validator as the callback handler needs one, built on
// go-jose: RS256 only, the key chosen by kid from the served set, iss,
// aud, exp and nbf with a minute's leeway, tid present.
func verify(set jose.JSONWebKeySet, raw, audience string) (msClaims, error) {
	var c msClaims
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return c, err
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		return c, fmt.Errorf("kid %q not in the key set", tok.Headers[0].KeyID)
	}
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		return c, err
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: graphtest.DefaultIssuer, AnyAudience: jwt.Audience{audience}, Time: time.Now()}, time.Minute); err != nil {
		return c, err
	}
	if c.Tenant == "" {
		return c, errors.New("no tid")
	}
	return c, nil
}

func TestOpenIDConfigurationAndJWKS(t *testing.T) {
	fake := newFake(t)
	if !strings.HasPrefix(fake.OpenIDConfigURL(), "https://127.0.0.1:") || !strings.HasSuffix(fake.OpenIDConfigURL(), "/.well-known/OpenIdConfiguration") {
		t.Errorf("OpenIDConfigURL %q", fake.OpenIDConfigURL())
	}
	var cfg map[string]any
	getJSON(t, fake.Client(), fake.OpenIDConfigURL(), &cfg)
	if cfg["issuer"] != graphtest.DefaultIssuer || cfg["jwks_uri"] != fake.JWKSURL() {
		t.Errorf("configuration %v", cfg)
	}
	if algs, _ := cfg["id_token_signing_alg_values_supported"].([]any); len(algs) != 1 || algs[0] != "RS256" {
		t.Errorf("algorithms %v, want [RS256]", cfg["id_token_signing_alg_values_supported"])
	}
	set := keySet(t, fake)
	kid, err := fake.KeyID()
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("%d keys, want 1", len(set.Keys))
	}
	k := set.Keys[0]
	pub, ok := k.Key.(*rsa.PublicKey)
	if k.KeyID != kid || k.Algorithm != "RS256" || k.Use != "sig" || !ok || !pub.Equal(&sharedKey(t).PublicKey) || !k.IsPublic() {
		t.Errorf("JWK kid %q alg %q use %q key %T public %v; want kid %q, RS256, sig, the signing key's public half", k.KeyID, k.Algorithm, k.Use, k.Key, k.IsPublic(), kid)
	}
	// Discovery requests are in the log.
	var paths []string
	for _, r := range fake.Requests() {
		paths = append(paths, r.Path)
	}
	if strings.Join(paths, " ") != "/.well-known/OpenIdConfiguration /.well-known/OpenIdConfiguration /keys" {
		t.Errorf("log %v", paths)
	}
}

func TestTokenVerifiesAgainstServedKeys(t *testing.T) {
	fake := newFake(t)
	tok, err := fake.Token(appID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := verify(keySet(t, fake), tok, appID)
	if err != nil {
		t.Fatalf("genuine token: %v", err)
	}
	if c.Tenant != graphtest.DefaultTenant || c.Expiry.Time().Sub(c.IssuedAt.Time()) != time.Hour || c.NotBefore == nil {
		t.Errorf("claims %+v", c)
	}
	parsed, _ := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if kid, _ := fake.KeyID(); parsed.Headers[0].KeyID != kid || parsed.Headers[0].Algorithm != "RS256" {
		t.Errorf("header %+v", parsed.Headers[0])
	}
	if _, err := fake.Token(""); err == nil {
		t.Error("Token without an app ID: no error")
	}
}

func TestIssuerAndTenantOptions(t *testing.T) {
	fake := newFake(t, graphtest.WithIssuer("https://api.botframework.com"), graphtest.WithTenant("tenant-9"))
	var cfg map[string]any
	getJSON(t, fake.Client(), fake.OpenIDConfigURL(), &cfg)
	if cfg["issuer"] != "https://api.botframework.com" {
		t.Errorf("issuer %v", cfg["issuer"])
	}
	tok, _ := fake.Token(appID)
	var c msClaims
	parsed, _ := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err := parsed.Claims(&sharedKey(t).PublicKey, &c); err != nil || c.Issuer != "https://api.botframework.com" || c.Tenant != "tenant-9" {
		t.Errorf("claims %+v %v", c, err)
	}
}

// segments decodes a compact JWT's header and claims without checking it.
func segments(t *testing.T, tok string) (header, claims map[string]any, sig string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("%d segments, want 3", len(parts))
	}
	for i, into := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims, parts[2]
}

// signatureValid reports whether tok is signed by the fake's key,
// whatever its claims say.
func signatureValid(t *testing.T, tok string) bool {
	t.Helper()
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return false
	}
	var c map[string]any
	return parsed.Claims(&sharedKey(t).PublicKey, &c) == nil
}

// Each forgery is what it says, and the reference validator accepts
// exactly the ones whose TokenValid is true.
func TestForgeriesAreWhatTheySay(t *testing.T) {
	fake := newFake(t)
	set := keySet(t, fake)
	kid, _ := fake.KeyID()
	now := float64(time.Now().Unix())
	for _, f := range graphtest.Forgeries() {
		t.Run(f.String(), func(t *testing.T) {
			tok, err := fake.ForgedToken(appID, f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := verify(set, tok, appID); (err == nil) != f.TokenValid() {
				t.Fatalf("validator: err %v, but TokenValid %v", err, f.TokenValid())
			}
			switch f {
			case graphtest.ForgedNoToken:
				if tok != "" {
					t.Errorf("token %q", tok)
				}
				return
			case graphtest.ForgedMalformed:
				if strings.Count(tok, ".") == 2 {
					t.Errorf("looks like a JWT: %q", tok)
				}
				return
			}
			h, c, sig := segments(t, tok)
			valid := signatureValid(t, tok)
			check := func(cond bool, what string) {
				t.Helper()
				if !cond {
					t.Errorf("%s: header %v claims %v signature valid %v", what, h, c, valid)
				}
			}
			claimsOK := c["aud"] == appID && c["iss"] == graphtest.DefaultIssuer && c["tid"] == graphtest.DefaultTenant
			switch f {
			case graphtest.ForgedUnsigned:
				check(sig == "" && h["alg"] == "RS256" && h["kid"] == kid && claimsOK, "RS256 header, valid claims, no signature")
			case graphtest.ForgedAlgNone:
				check(sig == "" && h["alg"] == "none" && claimsOK, "alg none, valid claims")
			case graphtest.ForgedHMACPublicKey:
				der, _ := x509.MarshalPKIXPublicKey(&sharedKey(t).PublicKey)
				mac := hmac.New(sha256.New, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
				mac.Write([]byte(tok[:strings.LastIndex(tok, ".")]))
				check(h["alg"] == "HS256" && sig == base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) && claimsOK, "HS256 keyed with the public key")
			case graphtest.ForgedOtherKey:
				check(h["alg"] == "RS256" && h["kid"] == kid && !valid && claimsOK, "current kid, another key")
			case graphtest.ForgedUnknownKey:
				check(h["alg"] == "RS256" && h["kid"] != kid && len(set.Key(h["kid"].(string))) == 0 && !valid && claimsOK, "unknown kid")
			case graphtest.ForgedTampered:
				check(h["kid"] == kid && !valid && claimsOK, "aud rewritten after signing")
			case graphtest.ForgedExpired:
				check(valid && c["exp"].(float64) < now-30*60 && c["aud"] == appID, "expired, genuinely signed")
			case graphtest.ForgedNotYetValid:
				check(valid && c["nbf"].(float64) > now+30*60 && c["exp"].(float64) > now, "not yet valid, genuinely signed")
			case graphtest.ForgedWrongAudience:
				check(valid && c["aud"] != appID && c["iss"] == graphtest.DefaultIssuer, "another audience, genuinely signed")
			case graphtest.ForgedWrongIssuer:
				check(valid && c["iss"] != graphtest.DefaultIssuer && c["aud"] == appID, "another issuer, genuinely signed")
			case graphtest.ForgedNoTenant:
				_, hasTID := c["tid"]
				check(valid && !hasTID && c["aud"] == appID, "no tid, genuinely signed")
			case graphtest.ForgedReplay:
				check(valid && claimsOK, "a genuine token")
			default:
				t.Fatalf("no check for forgery %s", f)
			}
		})
	}
	if _, err := fake.ForgedToken(appID, graphtest.Forgery("sideways")); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("unknown forgery: %v (want an error listing the known ones)", err)
	}
}

func TestRotateKey(t *testing.T) {
	fake := newFake(t) // RotateKey replaces the shared key in this fake only
	old, err := fake.Token(appID)
	if err != nil {
		t.Fatal(err)
	}
	oldKid, _ := fake.KeyID()
	if _, err := verify(keySet(t, fake), old, appID); err != nil {
		t.Fatalf("before rotation: %v", err)
	}
	newKid, err := fake.RotateKey()
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := fake.KeyID(); newKid == oldKid || k != newKid {
		t.Fatalf("kid %q -> %q (KeyID %q)", oldKid, newKid, k)
	}
	set := keySet(t, fake)
	if len(set.Keys) != 1 || set.Keys[0].KeyID != newKid {
		t.Fatalf("JWKS after rotation: %d keys, kid %q; want only %q", len(set.Keys), set.Keys[0].KeyID, newKid)
	}
	if _, err := verify(set, old, appID); err == nil {
		t.Error("a token signed with the dropped key still verifies")
	}
	fresh, _ := fake.Token(appID)
	if _, err := verify(set, fresh, appID); err != nil {
		t.Errorf("a token signed after rotation: %v", err)
	}
}

func TestWithSigningKeyRefusesAWeakKey(t *testing.T) {
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Skip("this platform refuses 1024-bit keys already:", err)
	}
	fake := graphtest.NewServer(graphtest.WithSigningKey(weak))
	defer fake.Close()
	if _, err := fake.Token(appID); err == nil || !strings.Contains(err.Error(), "2048") {
		t.Errorf("1024-bit key: %v", err)
	}
}
