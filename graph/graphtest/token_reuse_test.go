package graphtest

import (
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"
)

// TestTokenIsReusedUntilTheMargin checks that Token signs one genuine
// token per app ID, reuses it, signs a new one once less than
// TokenReuseMargin of its validity is left, and after a key rotation.
func TestTokenIsReusedUntilTheMargin(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(WithSigningKey(key))
	defer s.Close()
	const app, other = "a1a1a1a1-0000-4000-8000-00000000a1a1", "b2b2b2b2-0000-4000-8000-00000000b2b2"

	first, err := s.Token(app)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Token(app); again != first {
		t.Error("a second Token for the same app ID was signed anew; want the first one reused")
	}
	if o, _ := s.Token(other); o == first {
		t.Error("another app ID got the same token")
	}

	// Age the cached token to just under the margin: Token must re-sign.
	s.mu.Lock()
	g := s.lastGenuine[app]
	g.signed.raw = "aged-token"
	g.signed.expiry = time.Now().Add(TokenReuseMargin - time.Second)
	s.lastGenuine[app] = g
	s.mu.Unlock()
	fresh, _ := s.Token(app)
	if fresh == "aged-token" {
		t.Error("a token with less than TokenReuseMargin left was reused")
	}
	s.mu.Lock()
	exp := s.lastGenuine[app].signed.expiry
	s.mu.Unlock()
	if left := time.Until(exp); left < TokenLifetime-time.Minute {
		t.Errorf("the re-signed token has %v left; want about %v", left, TokenLifetime)
	}

	oldKid, _ := s.KeyID()
	if _, err := s.RotateKey(); err != nil {
		t.Fatal(err)
	}
	rotated, _ := s.Token(app)
	s.mu.Lock()
	kid := s.lastGenuine[app].signed.kid
	s.mu.Unlock()
	if rotated == fresh || kid == oldKid {
		t.Errorf("after RotateKey Token reused the token signed under kid %q", oldKid)
	}
}
