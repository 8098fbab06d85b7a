package forgery_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The bot and the tenant the genuine tokens are for.
const (
	appID    = "0b07f00d-1111-4222-8333-444455556666"
	tenantID = "7e4a7000-aaaa-4bbb-8ccc-ddddeeeeffff"
)

// Key IDs Microsoft (this package) publishes.
const (
	kidRSA = "ms-rsa-1"
	kidEC  = "ms-ec-1"
	kidEd  = "ms-ed-1"
)

// keys are generated once: a 2048-bit RSA key takes a while under -race.
var keys struct {
	rsa      *rsa.PrivateKey // Microsoft's RSA key
	rsaOther *rsa.PrivateKey // Microsoft's next key (rotation)
	ec       *ecdsa.PrivateKey
	ed       ed25519.PrivateKey
	attacker *rsa.PrivateKey // never published by Microsoft
	attackEC *ecdsa.PrivateKey
	rsa1024  *rsa.PrivateKey
	rsa512   *rawRSA
}

func TestMain(m *testing.M) {
	var wg sync.WaitGroup
	gen := func(dst **rsa.PrivateKey, bits int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := rsa.GenerateKey(rand.Reader, bits)
			if err != nil {
				panic(fmt.Sprintf("forgery: generating a %d-bit RSA key: %v", bits, err))
			}
			*dst = k
		}()
	}
	gen(&keys.rsa, 2048)
	gen(&keys.rsaOther, 2048)
	gen(&keys.attacker, 2048)
	gen(&keys.rsa1024, 1024)
	var err error
	keys.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	keys.attackEC, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	_, keys.ed, err = ed25519.GenerateKey(rand.Reader)
	must(err)
	keys.rsa512, err = newRawRSA(512)
	must(err)
	wg.Wait()
	os.Exit(m.Run())
}

func must(err error) {
	if err != nil {
		panic("forgery: " + err.Error())
	}
}

// rawRSA is an RSA key too small for crypto/rsa (which refuses to make or
// use keys under 1024 bits): built from two primes and used with math/big.
type rawRSA struct {
	n, d *big.Int
	e    int
}

func newRawRSA(bits int) (*rawRSA, error) {
	e := big.NewInt(65537)
	for {
		p, err := rand.Prime(rand.Reader, bits/2)
		if err != nil {
			return nil, err
		}
		q, err := rand.Prime(rand.Reader, bits/2)
		if err != nil {
			return nil, err
		}
		n := new(big.Int).Mul(p, q)
		if n.BitLen() != bits || p.Cmp(q) == 0 {
			continue
		}
		phi := new(big.Int).Mul(new(big.Int).Sub(p, big.NewInt(1)), new(big.Int).Sub(q, big.NewInt(1)))
		d := new(big.Int).ModInverse(e, phi)
		if d == nil {
			continue
		}
		return &rawRSA{n: n, d: d, e: 65537}, nil
	}
}

// signPKCS1SHA256 is RSASSA-PKCS1-v1_5 with SHA-256, by hand.
func (k *rawRSA) signPKCS1SHA256(input []byte) []byte {
	digestInfo := []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}
	h := sha256.Sum256(input)
	size := (k.n.BitLen() + 7) / 8
	em := make([]byte, size)
	em[1] = 0x01
	t := append(digestInfo, h[:]...)
	for i := 2; i < size-len(t)-1; i++ {
		em[i] = 0xff
	}
	copy(em[size-len(t):], t)
	s := new(big.Int).Exp(new(big.Int).SetBytes(em), k.d, k.n)
	return s.FillBytes(make([]byte, size))
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// signature signs input with key under alg, by hand with crypto/*.
// alg "none" signs nothing.
func signature(alg string, key any, input []byte) []byte {
	switch alg {
	case "none":
		return nil
	case "HS256":
		m := hmac.New(sha256.New, key.([]byte))
		m.Write(input)
		return m.Sum(nil)
	}
	h := sha256.Sum256(input)
	switch k := key.(type) {
	case *rsa.PrivateKey:
		var sig []byte
		var err error
		if alg == "PS256" {
			sig, err = rsa.SignPSS(rand.Reader, k, crypto.SHA256, h[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:])
		}
		must(err)
		return sig
	case *rawRSA:
		return k.signPKCS1SHA256(input)
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, h[:])
		must(err)
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out
	case ed25519.PrivateKey:
		return ed25519.Sign(k, input)
	}
	panic(fmt.Sprintf("forgery: no way to sign %s with %T", alg, key))
}

// compact assembles a compact JWS from raw header and claims JSON.
func compact(alg string, key any, header, claims []byte) string {
	input := b64(header) + "." + b64(claims)
	return input + "." + b64(signature(alg, key, []byte(input)))
}

// jsonOf marshals v (maps of claims or header fields).
func jsonOf(v any) []byte {
	b, err := json.Marshal(v)
	must(err)
	return b
}

// genuineClaims are the claims of a token Graph sends, valid now.
func genuineClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss": "https://graph.microsoft.com",
		"aud": appID,
		"tid": tenantID,
		"iat": now.Unix(),
		"nbf": now.Add(-time.Minute).Unix(),
		"exp": now.Add(10 * time.Minute).Unix(),
	}
}

// header returns a JWS header with alg and kid (kid omitted when empty).
func header(alg, kid string) map[string]any {
	h := map[string]any{"alg": alg, "typ": "JWT"}
	if kid != "" {
		h["kid"] = kid
	}
	return h
}

// genuineToken is what Microsoft sends: RS256 under its published kid.
func genuineToken(now time.Time) string {
	return compact("RS256", keys.rsa, jsonOf(header("RS256", kidRSA)), jsonOf(genuineClaims(now)))
}

// jwk is one key of a JWKS, as JSON.
func jwk(pub any, kid, alg string) json.RawMessage {
	b, err := jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"}.MarshalJSON()
	must(err)
	return b
}

// rawRSAJWK is a JWK for a key crypto/rsa would not hold.
func rawRSAJWK(k *rawRSA, kid string) json.RawMessage {
	return jsonOf(map[string]string{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": b64(k.n.Bytes()), "e": b64(big.NewInt(int64(k.e)).Bytes())})
}

// publishedKeys is the JWKS Microsoft publishes by default.
func publishedKeys() []json.RawMessage {
	return []json.RawMessage{
		jwk(&keys.rsa.PublicKey, kidRSA, "RS256"),
		jwk(&keys.ec.PublicKey, kidEC, "ES256"),
		jwk(keys.ed.Public(), kidEd, "EdDSA"),
	}
}

// microsoft is this package's stand-in for Microsoft's OpenID configuration
// and JWKS endpoints, on loopback. Its answers can be changed while it runs.
type microsoft struct {
	srv *httptest.Server

	mu        sync.Mutex
	keySet    []json.RawMessage
	algs      []string
	issuer    string // the configuration's own issuer field
	jwksFault func(w http.ResponseWriter, r *http.Request) bool
	cfgFault  func(w http.ResponseWriter, r *http.Request) bool

	configFetches atomic.Int64
	jwksFetches   atomic.Int64
}

func newMicrosoft(t testing.TB) *microsoft {
	t.Helper()
	ms := &microsoft{keySet: publishedKeys(), algs: []string{"RS256", "PS256", "ES256", "EdDSA"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/.well-known/OpenIdConfiguration", ms.serveConfig)
	mux.HandleFunc("GET /v1/keys", ms.serveKeys)
	ms.srv = httptest.NewServer(mux)
	ms.issuer = ms.srv.URL
	t.Cleanup(ms.srv.Close)
	return ms
}

func (ms *microsoft) configURL() string { return ms.srv.URL + "/v1/.well-known/OpenIdConfiguration" }

func (ms *microsoft) serveConfig(w http.ResponseWriter, r *http.Request) {
	ms.configFetches.Add(1)
	ms.mu.Lock()
	fault, issuer, algs := ms.cfgFault, ms.issuer, ms.algs
	ms.mu.Unlock()
	if fault != nil && fault(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(jsonOf(map[string]any{
		"issuer":                                issuer,
		"jwks_uri":                              ms.srv.URL + "/v1/keys",
		"id_token_signing_alg_values_supported": algs,
	}))
}

func (ms *microsoft) serveKeys(w http.ResponseWriter, r *http.Request) {
	ms.jwksFetches.Add(1)
	ms.mu.Lock()
	fault, set := ms.jwksFault, ms.keySet
	ms.mu.Unlock()
	if fault != nil && fault(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(jsonOf(map[string]any{"keys": set}))
}

// publish replaces the key set.
func (ms *microsoft) publish(set ...json.RawMessage) {
	ms.mu.Lock()
	ms.keySet = set
	ms.mu.Unlock()
}

// setJWKSFault makes the key set endpoint answer with f (true: f answered).
func (ms *microsoft) setJWKSFault(f func(w http.ResponseWriter, r *http.Request) bool) {
	ms.mu.Lock()
	ms.jwksFault = f
	ms.mu.Unlock()
}

func (ms *microsoft) setConfigFault(f func(w http.ResponseWriter, r *http.Request) bool) {
	ms.mu.Lock()
	ms.cfgFault = f
	ms.mu.Unlock()
}
