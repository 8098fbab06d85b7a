package graphtest

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Forgery names a way a notification's token is not what Graph's calling
// service would send. A callback's validator must refuse every forgery
// except ForgedReplay, whose token is genuine (see there): with 401, or,
// for ForgedUnknownKey, 503 with Retry-After while it may not fetch the
// keys again yet.
//
// Forgeries are strings so that scripts (Fault.Forgery) can name them.
type Forgery string

// The forgeries the fake makes. Each token except ForgedNoToken,
// ForgedMalformed and the unsigned ones is a well-formed JWT whose claims
// are valid in every respect but the one its name says.
const (
	// NotForged: a genuine token.
	NotForged Forgery = ""
	// ForgedNoToken: no Authorization header at all.
	ForgedNoToken Forgery = "noToken"
	// ForgedMalformed: "Bearer " and something that is not a JWT.
	ForgedMalformed Forgery = "malformed"
	// ForgedUnsigned: an RS256 header with the current kid and valid
	// claims, but an empty signature.
	ForgedUnsigned Forgery = "unsigned"
	// ForgedAlgNone: {"alg": "none"} (with the current kid), valid claims,
	// no signature: the unsecured JWT of RFC 7519.
	ForgedAlgNone Forgery = "algNone"
	// ForgedHMACPublicKey: HS256 keyed with the fake's public key in PEM,
	// the algorithm-confusion attack on validators that let the token
	// choose the algorithm.
	ForgedHMACPublicKey Forgery = "hmacPublicKey"
	// ForgedOtherKey: RS256 under the current kid, signed by a key the
	// JWKS does not hold.
	ForgedOtherKey Forgery = "otherKey"
	// ForgedUnknownKey: RS256 signed by another key under a kid the JWKS
	// does not hold (a validator refetches the keys, then rejects it; one
	// that may not fetch again yet answers 503 with Retry-After).
	ForgedUnknownKey Forgery = "unknownKey"
	// ForgedTampered: a genuine token for another app whose aud was
	// rewritten to the bot's app ID, the original signature kept.
	ForgedTampered Forgery = "tampered"
	// ForgedExpired: genuinely signed, exp an hour ago (iat, nbf two hours
	// ago).
	ForgedExpired Forgery = "expired"
	// ForgedNotYetValid: genuinely signed, iat and nbf an hour ahead.
	ForgedNotYetValid Forgery = "notYetValid"
	// ForgedWrongAudience: genuinely signed for another app ID.
	ForgedWrongAudience Forgery = "wrongAudience"
	// ForgedWrongIssuer: genuinely signed, iss an Entra ID token issuer
	// (https://sts.windows.net/{tid}/) instead of the calling service.
	ForgedWrongIssuer Forgery = "wrongIssuer"
	// ForgedNoTenant: genuinely signed, no tid claim.
	ForgedNoTenant Forgery = "noTenant"
	// ForgedReplay: a genuine, unexpired token replayed from the fake's
	// last genuine delivery to the same app ID (minted if there was none),
	// with another call's body. The token verifies: nothing in a JWT
	// binds it to a body. What must protect the bot is that the body does
	// not name its current attempt; see Call.NotifyForged.
	ForgedReplay Forgery = "replay"
)

// Forgeries lists every forgery, in a fixed order, for table tests.
func Forgeries() []Forgery {
	return []Forgery{
		ForgedNoToken, ForgedMalformed, ForgedUnsigned, ForgedAlgNone, ForgedHMACPublicKey,
		ForgedOtherKey, ForgedUnknownKey, ForgedTampered, ForgedExpired, ForgedNotYetValid,
		ForgedWrongAudience, ForgedWrongIssuer, ForgedNoTenant, ForgedReplay,
	}
}

// TokenValid reports whether a validator should accept the token: true
// for NotForged and ForgedReplay, false for every other forgery.
func (f Forgery) TokenValid() bool { return f == NotForged || f == ForgedReplay }

// String is the forgery's name ("genuine" for NotForged).
func (f Forgery) String() string {
	if f == NotForged {
		return "genuine"
	}
	return string(f)
}

func (f Forgery) validate() error {
	if f == NotForged {
		return nil
	}
	for _, g := range Forgeries() {
		if f == g {
			return nil
		}
	}
	names := make([]string, 0, len(Forgeries()))
	for _, g := range Forgeries() {
		names = append(names, string(g))
	}
	return fmt.Errorf("graphtest: unknown forgery %q: want one of %s", string(f), strings.Join(names, ", "))
}

// otherAppID is the audience of tokens meant for another bot.
const otherAppID = "0aa0aa0a-0000-4000-8000-00000000a0a0"

func otherApp(appID string) string {
	if appID == otherAppID {
		return otherAppID + "-other"
	}
	return appID + "-other"
}

// ForgedToken returns a token for a bot with app ID appID, forged as f
// (NotForged: a genuine token, as Token returns). ForgedNoToken returns
// "". Use it to test a validator directly; Call.NotifyForged sends one.
func (s *Server) ForgedToken(appID string, f Forgery) (string, error) {
	if appID == "" {
		return "", fmt.Errorf("graphtest: ForgedToken needs the bot's app ID (the token's audience)")
	}
	if err := f.validate(); err != nil {
		return "", err
	}
	key, kid, err := s.signingKey()
	if err != nil {
		return "", err
	}
	c := s.Claims(appID)
	now := c.IssuedAt
	switch f {
	case NotForged:
		return s.Sign(c)
	case ForgedNoToken:
		return "", nil
	case ForgedMalformed:
		return "not-a-jwt", nil
	case ForgedUnsigned:
		return unsecured(map[string]any{"alg": "RS256", "kid": kid, "typ": "JWT"}, c.claimSet())
	case ForgedAlgNone:
		return unsecured(map[string]any{"alg": "none", "kid": kid, "typ": "JWT"}, c.claimSet())
	case ForgedHMACPublicKey:
		der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
		if err != nil {
			return "", fmt.Errorf("graphtest: encoding the public key: %w", err)
		}
		secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		return signJWT(jose.HS256, secret, kid, c.claimSet())
	case ForgedOtherKey, ForgedUnknownKey:
		other, err := s.attackerKey()
		if err != nil {
			return "", err
		}
		if f == ForgedUnknownKey {
			kid = "unknown-" + kid
		}
		return signJWT(jose.RS256, other, kid, c.claimSet())
	case ForgedTampered:
		c.Audience = otherApp(appID)
		tok, err := s.Sign(c)
		if err != nil {
			return "", err
		}
		c.Audience = appID
		payload, err := json.Marshal(c.claimSet())
		if err != nil {
			return "", err
		}
		parts := strings.Split(tok, ".")
		parts[1] = base64.RawURLEncoding.EncodeToString(payload)
		return strings.Join(parts, "."), nil
	case ForgedExpired:
		c.IssuedAt, c.NotBefore, c.Expiry = now.Add(-2*time.Hour), now.Add(-2*time.Hour), now.Add(-time.Hour)
	case ForgedNotYetValid:
		c.IssuedAt, c.NotBefore, c.Expiry = now.Add(time.Hour), now.Add(time.Hour), now.Add(time.Hour+TokenLifetime)
	case ForgedWrongAudience:
		c.Audience = otherApp(appID)
	case ForgedWrongIssuer:
		c.Issuer = "https://sts.windows.net/" + c.Tenant + "/"
	case ForgedNoTenant:
		c.Tenant = ""
	case ForgedReplay:
		return s.replayToken(appID)
	}
	return s.Sign(c)
}

// replayToken returns the token of the last genuine delivery to appID, or
// a fresh genuine one.
func (s *Server) replayToken(appID string) (string, error) {
	s.mu.Lock()
	last := s.lastGenuine[appID]
	s.mu.Unlock()
	if last.token != "" {
		return last.token, nil
	}
	return s.Token(appID)
}

// unsecured builds header.payload. with an empty signature.
func unsecured(header, claims map[string]any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p) + ".", nil
}
