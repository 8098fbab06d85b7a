package callback_test

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// The test keys: the published one, the one rotated in later, and an
// attacker's. They are fixed RSA-2048 keys in testdata, made for these tests
// only (generating them costs seconds under the race detector).
var testKeys = sync.OnceValues(func() ([3]*rsa.PrivateKey, error) {
	var keys [3]*rsa.PrivateKey
	data, err := os.ReadFile("testdata/test_keys.pem")
	if err != nil {
		return keys, err
	}
	for i := range keys {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return keys, fmt.Errorf("testdata/test_keys.pem: key %d missing", i)
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return keys, fmt.Errorf("testdata/test_keys.pem: key %d: %w", i, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return keys, fmt.Errorf("testdata/test_keys.pem: key %d is a %T, want RSA", i, k)
		}
		keys[i] = rk
	}
	return keys, nil
})

// fakeMicrosoft serves an OpenID configuration and its key set over TLS on
// loopback, like the endpoint Microsoft's calling service signs with.
type fakeMicrosoft struct {
	srv        *httptest.Server
	configHits atomic.Int64
	jwksHits   atomic.Int64
	jwksDown   atomic.Bool
	configDown atomic.Bool

	mu        sync.Mutex
	published []jose.JSONWebKey
}

func startFakeMicrosoft() *fakeMicrosoft {
	f := &fakeMicrosoft{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/.well-known/OpenIdConfiguration", func(w http.ResponseWriter, r *http.Request) {
		f.configHits.Add(1)
		if f.configDown.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		// Like Microsoft's, the document's issuer is not the tokens' iss.
		json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                "https://api.botframework.com/v1/.well-known",
			"jwks_uri":                              f.srv.URL + "/v1/.well-known/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /v1/.well-known/keys", func(w http.ResponseWriter, r *http.Request) {
		f.jwksHits.Add(1)
		if f.jwksDown.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		f.mu.Lock()
		set := jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), f.published...)}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(set)
	})
	f.srv = httptest.NewTLSServer(mux)
	return f
}

func (f *fakeMicrosoft) configURL() string { return f.srv.URL + "/v1/.well-known/OpenIdConfiguration" }

// publish adds key's public half to the key set under kid.
func (f *fakeMicrosoft) publish(kid string, key *rsa.PrivateKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.published = append(f.published, jose.JSONWebKey{Key: &key.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"})
}

// signRS256 signs claims as Graph's calling service does: RS256, kid and
// typ JWT in the header.
func signRS256(key *rsa.PrivateKey, kid string, claims any) (string, error) {
	opts := (&jose.SignerOptions{}).WithType("JWT")
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	if err != nil {
		return "", err
	}
	return jwt.Signed(signer).Claims(claims).Serialize()
}

// signHS256 forges the classic algorithm confusion: an HMAC keyed with the
// public key's bytes.
func signHS256(secret []byte, kid string, claims any) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: jose.JSONWebKey{Key: secret, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	return jwt.Signed(signer).Claims(claims).Serialize()
}

// unsignedJWT builds a token with the given header and no signature.
func unsignedJWT(header string, claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString(payload) + ".", nil
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// operationBody is a commsNotifications POST carrying one operation update.
func operationBody(callID, opID, status string) string {
	return fmt.Sprintf(`{"@odata.type":"#microsoft.graph.commsNotifications","value":[{
		"@odata.type":"#microsoft.graph.commsNotification","changeType":"updated",
		"resourceUrl":"/communications/calls/%s/operations/%s",
		"resourceData":{"@odata.type":"#microsoft.graph.updateRecordingStatusOperation",
			"clientContext":"cc-1","status":%q,"resultInfo":null}}]}`, callID, opID, status)
}
