package forgery_test

import (
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/recgate/recgate/graph/callback"
)

// attackerServer serves the attacker's own JWKS and certificate, counting
// every request: the validator must never fetch a key from a URL a token
// names.
type attackerServer struct {
	srv  *httptest.Server
	hits atomic.Int64
}

func newAttackerServer(t *testing.T) *attackerServer {
	a := &attackerServer{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(jsonOf(map[string]any{"keys": []json.RawMessage{
			jwk(&keys.attacker.PublicKey, kidRSA, "RS256"),
			jwk(&keys.attacker.PublicKey, "attacker", "RS256"),
		}}))
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// attackerCert is a self-signed certificate for the attacker's key.
func attackerCert(t *testing.T) []byte {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "graph.microsoft.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &keys.attacker.PublicKey, keys.attacker)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// withHeader signs genuine claims with the attacker's key under a header
// extended with extra.
func withHeader(kid string, extra map[string]any) func(now time.Time) string {
	return func(now time.Time) string {
		h := header("RS256", kid)
		for k, v := range extra {
			h[k] = v
		}
		return compact("RS256", keys.attacker, jsonOf(h), jsonOf(genuineClaims(now)))
	}
}

// genuineWith signs genuine claims with Microsoft's RSA key under a header
// extended with extra.
func genuineWith(extra map[string]any) func(now time.Time) string {
	return func(now time.Time) string {
		h := header("RS256", kidRSA)
		for k, v := range extra {
			h[k] = v
		}
		return compact("RS256", keys.rsa, jsonOf(h), jsonOf(genuineClaims(now)))
	}
}

// rawHeader signs genuine claims with Microsoft's RSA key under a header
// written byte by byte.
func rawHeader(hdr string) func(now time.Time) string {
	return func(now time.Time) string {
		return compact("RS256", keys.rsa, []byte(hdr), jsonOf(genuineClaims(now)))
	}
}

// TestSignatureAttacks: tokens that no key Microsoft publishes signed, or
// that Microsoft's key signed in a form a JWT must not take, are refused
// with 401 and hand nothing on. The controls, signed by the published keys,
// are accepted by the same handler.
func TestSignatureAttacks(t *testing.T) {
	ms := newMicrosoft(t)
	// Besides its keys (each naming its alg), Microsoft publishes its RSA
	// key under a kid with no alg, which any RSA algorithm may use.
	const kidAnyAlg = "ms-rsa-any-alg"
	ms.publish(append(publishedKeys(), jwk(&keys.rsa.PublicKey, kidAnyAlg, ""))...)
	tg := newTarget(t, ms)
	evil := newAttackerServer(t)
	cert := attackerCert(t)
	pubPEM := func() []byte {
		der, err := x509.MarshalPKIXPublicKey(&keys.rsa.PublicKey)
		must(err)
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}()
	hmacWith := func(alg string, secret []byte) func(now time.Time) string {
		return func(now time.Time) string {
			return compact("HS256", secret, jsonOf(header(alg, kidRSA)), jsonOf(genuineClaims(now)))
		}
	}
	unsignedAs := func(alg string) func(now time.Time) string {
		return func(now time.Time) string {
			h := map[string]any{"typ": "JWT", "kid": kidRSA}
			if alg != "" {
				h["alg"] = alg
			}
			return compact("none", nil, jsonOf(h), jsonOf(genuineClaims(now)))
		}
	}
	signedAs := func(alg, kid string, key any, headerAlg string) func(now time.Time) string {
		return func(now time.Time) string {
			return compact(alg, key, jsonOf(header(headerAlg, kid)), jsonOf(genuineClaims(now)))
		}
	}
	ecSig := func(r, s *big.Int) func(now time.Time) string {
		return func(now time.Time) string {
			in := b64(jsonOf(header("ES256", kidEC))) + "." + b64(jsonOf(genuineClaims(now)))
			sig := make([]byte, 64)
			r.FillBytes(sig[:32])
			s.FillBytes(sig[32:])
			return in + "." + b64(sig)
		}
	}
	n := elliptic.P256().Params().N

	attacks := []attack{
		// Controls: the published keys, each algorithm the configuration lists.
		{name: "control RS256", auth: bearerOf(genuineToken), want: accepted},
		{name: "control PS256", auth: bearerOf(signedAs("PS256", kidAnyAlg, keys.rsa, "PS256")), want: accepted},
		{name: "control RS256 under the kid with no alg", auth: bearerOf(signedAs("RS256", kidAnyAlg, keys.rsa, "RS256")), want: accepted},
		{name: "control ES256", auth: bearerOf(signedAs("ES256", kidEC, keys.ec, "ES256")), want: accepted},
		{name: "control EdDSA", auth: bearerOf(signedAs("EdDSA", kidEd, keys.ed, "EdDSA")), want: accepted},

		// No signature.
		{name: "alg none", auth: bearerOf(unsignedAs("none")), want: refused(callback.RejectUnsigned)},
		{name: "alg None", auth: bearerOf(unsignedAs("None")), want: refused(callback.RejectUnsigned)},
		{name: "alg NONE", auth: bearerOf(unsignedAs("NONE")), want: refused(callback.RejectUnsigned)},
		{name: "no alg", auth: bearerOf(unsignedAs("")), want: refused(callback.RejectUnsigned)},
		{name: "alg none with a genuine signature appended", auth: bearerOf(func(now time.Time) string {
			tok := unsignedAs("none")(now)
			return tok + strings.Split(genuineToken(now), ".")[2]
		}), want: refused(callback.RejectUnsigned)},
		{name: "RS256 with an empty signature", auth: bearerOf(func(now time.Time) string {
			tok := genuineToken(now)
			return tok[:strings.LastIndex(tok, ".")+1]
		}), want: refused(callback.RejectUnsigned)},

		// Symmetric algorithms keyed with what is public.
		{name: "HS256 keyed with the public key PEM", auth: bearerOf(hmacWith("HS256", pubPEM)), want: refused(callback.RejectAlgorithm)},
		{name: "HS256 keyed with the modulus", auth: bearerOf(hmacWith("HS256", keys.rsa.N.Bytes())), want: refused(callback.RejectAlgorithm)},
		{name: "HS256 keyed with the JWK JSON", auth: bearerOf(hmacWith("HS256", jwk(&keys.rsa.PublicKey, kidRSA, "RS256"))), want: refused(callback.RejectAlgorithm)},
		{name: "hs256 in lower case", auth: bearerOf(hmacWith("hs256", pubPEM)), want: refused(callback.RejectAlgorithm)},
		{name: "HS256 with an empty secret", auth: bearerOf(hmacWith("HS256", nil)), want: refused(callback.RejectAlgorithm)},

		// Algorithms the configuration does not list, or that do not fit the key.
		{name: "RS256 spelled with a trailing space", auth: bearerOf(signedAs("RS256", kidRSA, keys.rsa, "RS256 ")), want: refused(callback.RejectAlgorithm)},
		{name: "rs256 in lower case", auth: bearerOf(signedAs("RS256", kidRSA, keys.rsa, "rs256")), want: refused(callback.RejectAlgorithm)},
		{name: "RS512 not listed", auth: bearerOf(signedAs("RS256", kidRSA, keys.rsa, "RS512")), want: refused(callback.RejectAlgorithm)},
		{name: "ES384 not listed", auth: bearerOf(signedAs("ES256", kidEC, keys.ec, "ES384")), want: refused(callback.RejectAlgorithm)},
		{name: "PKCS1 signature labelled PS256", auth: bearerOf(signedAs("RS256", kidAnyAlg, keys.rsa, "PS256")), want: refused(callback.RejectBadSignature)},
		// A key that names its alg verifies no other, even one its type
		// could: the JWK says what the key is for (RFC 7517 4.4).
		{name: "genuine PS256 signature under the RS256 key's kid", auth: bearerOf(signedAs("PS256", kidRSA, keys.rsa, "PS256")), want: refused(callback.RejectBadSignature)},
		{name: "RSA signature under the EC kid", auth: bearerOf(signedAs("RS256", kidEC, keys.rsa, "RS256")), want: refused(callback.RejectBadSignature)},

		// Keys Microsoft never published. Under a kid its key set does not
		// name, the answer is deferred (503, Retry-After): the key set was
		// fetched by the controls above and may not be fetched again yet, and
		// the kid could be a key published since; never accepted.
		{name: "attacker key under Microsoft's kid", auth: bearerOf(withHeader(kidRSA, nil)), want: refused(callback.RejectBadSignature)},
		{name: "attacker key under an unknown kid", auth: bearerOf(withHeader("attacker", nil)), want: deferred},
		{name: "attacker key with no kid", auth: bearerOf(withHeader("", nil)), want: refused(callback.RejectBadSignature)},
		{name: "attacker EC key under Microsoft's EC kid", auth: bearerOf(signedAs("ES256", kidEC, keys.attackEC, "ES256")), want: refused(callback.RejectBadSignature)},
		{name: "attacker Ed25519 key under Microsoft's kid", auth: bearerOf(func(now time.Time) string {
			_, other, err := ed25519.GenerateKey(rand.Reader)
			must(err)
			return compact("EdDSA", other, jsonOf(header("EdDSA", kidEd)), jsonOf(genuineClaims(now)))
		}), want: refused(callback.RejectBadSignature)},

		// Headers that name a key: go-jose and go-oidc must ignore them.
		{name: "jwk header with the attacker's key", auth: bearerOf(withHeader("attacker", map[string]any{
			"jwk": json.RawMessage(jwk(&keys.attacker.PublicKey, "attacker", "RS256"))})), want: deferred},
		{name: "jwk header under Microsoft's kid", auth: bearerOf(withHeader(kidRSA, map[string]any{
			"jwk": json.RawMessage(jwk(&keys.attacker.PublicKey, kidRSA, "RS256"))})), want: refused(callback.RejectBadSignature)},
		{name: "jku header at the attacker's JWKS", auth: bearerOf(withHeader("attacker", map[string]any{"jku": evil.srv.URL + "/keys"})), want: deferred},
		{name: "x5u header at the attacker's certificate", auth: bearerOf(withHeader("attacker", map[string]any{"x5u": evil.srv.URL + "/cert"})), want: deferred},
		{name: "x5c header with a self-signed certificate", auth: bearerOf(withHeader("", map[string]any{
			"x5c": []string{base64.StdEncoding.EncodeToString(cert)}})), want: refused(callback.RejectBadSignature)},

		// kid values a naive key store might interpret.
		{name: "kid path traversal", auth: bearerOf(withHeader("../../../../../../dev/null", nil)), want: deferred},
		{name: "kid SQL", auth: bearerOf(withHeader(`x' UNION SELECT 'AAAA' --`, nil)), want: deferred},
		{name: "kid with NUL and newline", auth: bearerOf(withHeader("ms-rsa-1\x00\n", nil)), want: deferred},
		{name: "kid of 8 KB", auth: bearerOf(withHeader(strings.Repeat("k", 8<<10), nil)), want: deferred},
		{name: "kid a number", auth: bearerOf(withHeader("", map[string]any{"kid": 1})), want: refused(callback.RejectMalformedToken)},
		{name: "genuine signature under a traversal kid", auth: bearerOf(genuineWith(map[string]any{"kid": "../" + kidRSA})), want: deferred},

		// Header extensions that change what is signed or how.
		{name: "crit with an unknown extension", auth: bearerOf(genuineWith(map[string]any{"crit": []string{"x-recgate"}, "x-recgate": true})), want: refused("")},
		{name: "crit naming an absent header", auth: bearerOf(genuineWith(map[string]any{"crit": []string{"exp"}})), want: refused("")},
		// RFC 7515 4.1.11 forbids producers an empty crit; a recipient may
		// accept it. Only Microsoft's key could sign it: harmless.
		{name: "crit empty, genuine", auth: bearerOf(genuineWith(map[string]any{"crit": []string{}})), want: accepted},
		{name: "b64 false", auth: bearerOf(genuineWith(map[string]any{"crit": []string{"b64"}, "b64": false})), want: refused("")},
		{name: "b64 false without crit", auth: bearerOf(genuineWith(map[string]any{"b64": false})), want: refused(""),
			bug: "b64:false without crit is accepted"},
		{name: "duplicate alg, none last", auth: bearerOf(rawHeader(`{"alg":"RS256","kid":"` + kidRSA + `","alg":"none"}`)), want: refused("")},
		// The validator's pre-check reads the header with encoding/json (keys
		// matched without regard to case, the last duplicate wins), go-jose
		// with its case-sensitive decoder. They can disagree, but go-jose
		// decides what is verified, and the pre-check only ever refuses more:
		// ALG is an unknown parameter, ignored as RFC 7515 says, and a
		// genuine RS256 signature stays one.
		{name: "ALG none before alg RS256, genuine", auth: bearerOf(rawHeader(`{"ALG":"none","alg":"RS256","kid":"` + kidRSA + `"}`)), want: accepted},
		{name: "alg RS256 before ALG none, genuine", auth: bearerOf(rawHeader(`{"alg":"RS256","kid":"` + kidRSA + `","ALG":"none"}`)), want: refused(callback.RejectUnsigned)},

		// Wrong serialisations.
		{name: "JWE compact", auth: bearerOf(func(now time.Time) string {
			enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: &keys.rsa.PublicKey, KeyID: kidRSA},
				(&jose.EncrypterOptions{}).WithContentType("JWT").WithType("JWT"))
			must(err)
			obj, err := enc.Encrypt(jsonOf(genuineClaims(now)))
			must(err)
			s, err := obj.CompactSerialize()
			must(err)
			return s
		}), want: refused(callback.RejectMalformedToken)},
		{name: "JWS JSON flattened, genuine", auth: bearerOf(func(now time.Time) string {
			s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: keys.rsa, KeyID: kidRSA}}, nil)
			must(err)
			obj, err := s.Sign(jsonOf(genuineClaims(now)))
			must(err)
			return obj.FullSerialize()
		}), want: refused(callback.RejectMalformedToken)},
		{name: "JWS JSON with two signatures, one genuine", auth: bearerOf(func(now time.Time) string {
			s, err := jose.NewMultiSigner([]jose.SigningKey{
				{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: keys.attacker, KeyID: kidRSA}},
				{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: keys.rsa, KeyID: kidRSA}},
			}, nil)
			must(err)
			obj, err := s.Sign(jsonOf(genuineClaims(now)))
			must(err)
			return obj.FullSerialize()
		}), want: refused(callback.RejectMalformedToken)},
		{name: "two signatures appended", auth: bearerOf(func(now time.Time) string {
			tok := genuineToken(now)
			return tok + "." + strings.Split(tok, ".")[2]
		}), want: refused(callback.RejectMalformedToken)},
		{name: "nested: attacker outer around a genuine inner", auth: bearerOf(func(now time.Time) string {
			h := header("RS256", "attacker")
			h["cty"] = "JWT"
			return compact("RS256", keys.attacker, jsonOf(h), []byte(genuineToken(now)))
		}), want: deferred},
		{name: "nested: genuine outer around an unsigned inner", auth: bearerOf(func(now time.Time) string {
			h := header("RS256", kidRSA)
			h["cty"] = "JWT"
			return compact("RS256", keys.rsa, jsonOf(h), []byte(unsignedAs("none")(now)))
		}), want: refused(callback.RejectMalformedToken)},

		// Signatures that are not signatures.
		{name: "payload tampered after signing", auth: bearerOf(func(now time.Time) string {
			parts := strings.Split(genuineToken(now), ".")
			c := genuineClaims(now)
			c["tid"] = "00000000-0000-0000-0000-000000000000"
			return parts[0] + "." + b64(jsonOf(c)) + "." + parts[2]
		}), want: refused(callback.RejectBadSignature)},
		{name: "signature truncated by one byte", auth: bearerOf(func(now time.Time) string {
			parts := strings.Split(genuineToken(now), ".")
			sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
			return parts[0] + "." + parts[1] + "." + b64(sig[:len(sig)-1])
		}), want: refused(callback.RejectBadSignature)},
		{name: "signature all zero", auth: bearerOf(func(now time.Time) string {
			parts := strings.Split(genuineToken(now), ".")
			return parts[0] + "." + parts[1] + "." + b64(make([]byte, 256))
		}), want: refused(callback.RejectBadSignature)},
		{name: "signature of one", auth: bearerOf(func(now time.Time) string {
			parts := strings.Split(genuineToken(now), ".")
			one := make([]byte, 256)
			one[255] = 1
			return parts[0] + "." + parts[1] + "." + b64(one)
		}), want: refused(callback.RejectBadSignature)},
		{name: "ES256 psychic signature r=s=0", auth: bearerOf(ecSig(big.NewInt(0), big.NewInt(0))), want: refused(callback.RejectBadSignature)},
		{name: "ES256 r=s=n", auth: bearerOf(ecSig(n, n)), want: refused(callback.RejectBadSignature)},
		{name: "ES256 genuine signature in DER", auth: bearerOf(func(now time.Time) string {
			in := b64(jsonOf(header("ES256", kidEC))) + "." + b64(jsonOf(genuineClaims(now)))
			raw := signature("ES256", keys.ec, []byte(in))
			der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])})
			must(err)
			return in + "." + b64(der)
		}), want: refused(callback.RejectBadSignature)},
		{name: "ES256 genuine signature with s negated (malleated)", auth: bearerOf(func(now time.Time) string {
			in := b64(jsonOf(header("ES256", kidEC))) + "." + b64(jsonOf(genuineClaims(now)))
			raw := signature("ES256", keys.ec, []byte(in))
			s := new(big.Int).Sub(n, new(big.Int).SetBytes(raw[32:]))
			s.FillBytes(raw[32:])
			return in + "." + b64(raw)
		}), want: accepted}, // ECDSA (r, n-s) is valid by definition; harmless: same claims, same signer
		{name: "payload not JSON", auth: bearerOf(func(now time.Time) string {
			return compact("RS256", keys.rsa, jsonOf(header("RS256", kidRSA)), []byte("not json"))
		}), want: refused(callback.RejectMalformedToken)},
		{name: "payload a JSON array", auth: bearerOf(func(now time.Time) string {
			return compact("RS256", keys.rsa, jsonOf(header("RS256", kidRSA)), []byte(`[{"iss":"https://graph.microsoft.com"}]`))
		}), want: refused(callback.RejectMalformedToken)},
		{name: "header a digest of nothing", auth: bearerOf(func(now time.Time) string {
			h := sha256.Sum256(nil)
			return b64(h[:]) + "." + b64(jsonOf(genuineClaims(now))) + ".c2ln"
		}), want: refused(callback.RejectMalformedToken)},
	}
	run(t, tg, attacks)
	if hits := evil.hits.Load(); hits != 0 {
		t.Errorf("the validator fetched %d times from the URLs a token named (jku/x5u); it must never", hits)
	}
}
