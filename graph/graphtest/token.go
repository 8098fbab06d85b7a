package graphtest

import (
	"encoding/json"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// DefaultIssuer is the iss claim of the fake's tokens unless WithIssuer
// says otherwise: the calling service of Microsoft Graph.
const DefaultIssuer = "https://graph.microsoft.com"

// DefaultTenant is the tid claim of the fake's tokens unless WithTenant
// says otherwise.
const DefaultTenant = "7e57e57e-0000-4000-8000-000000000001"

// TokenLifetime is how long a token the fake mints is valid (exp - iat).
const TokenLifetime = time.Hour

// WithIssuer sets the iss claim of the fake's tokens and the issuer of its
// OpenID configuration (default DefaultIssuer), e.g.
// "https://api.botframework.com".
func WithIssuer(iss string) Option { return func(s *Server) { s.issuer = iss } }

// WithTenant sets the tid claim of the fake's tokens (default
// DefaultTenant).
func WithTenant(tid string) Option { return func(s *Server) { s.tenant = tid } }

// Claims are the claims of a token from Graph's calling service, as the
// fake signs them. A zero time or an empty string leaves its claim out.
type Claims struct {
	Issuer    string    // iss
	Audience  string    // aud: the bot's app ID
	Tenant    string    // tid
	IssuedAt  time.Time // iat
	NotBefore time.Time // nbf
	Expiry    time.Time // exp
}

// claimSet is the JSON of c: times in seconds since the epoch.
func (c Claims) claimSet() map[string]any {
	m := map[string]any{}
	put := func(name, v string) {
		if v != "" {
			m[name] = v
		}
	}
	putTime := func(name string, t time.Time) {
		if !t.IsZero() {
			m[name] = t.Unix()
		}
	}
	put("iss", c.Issuer)
	put("aud", c.Audience)
	put("tid", c.Tenant)
	putTime("iat", c.IssuedAt)
	putTime("nbf", c.NotBefore)
	putTime("exp", c.Expiry)
	return m
}

// Claims returns the claims of a token valid now for a bot with app ID
// appID: the fake's issuer and tenant, iat and nbf now, exp TokenLifetime
// later. Change a field and Sign it to test one claim at a time.
func (s *Server) Claims(appID string) Claims {
	now := time.Now().Truncate(time.Second)
	return Claims{
		Issuer:    s.issuer,
		Audience:  appID,
		Tenant:    s.tenant,
		IssuedAt:  now,
		NotBefore: now,
		Expiry:    now.Add(TokenLifetime),
	}
}

// Sign signs c with the fake's current key as a compact JWT: header
// {"alg": "RS256", "kid": KeyID(), "typ": "JWT"}.
func (s *Server) Sign(c Claims) (string, error) {
	key, kid, err := s.signingKey()
	if err != nil {
		return "", err
	}
	return signJWT(jose.RS256, key, kid, c.claimSet())
}

// TokenReuseMargin is how much validity a genuine token must have left
// for Token (and every genuine notification) to reuse it instead of
// signing a new one.
const TokenReuseMargin = 5 * time.Minute

// Token returns a genuine token for a bot with app ID appID, as Graph's
// calling service puts in a notification's Authorization header; it
// verifies against the keys at JWKSURL.
//
// Like Graph's calling service, the fake reuses one token per app ID,
// issuer and tenant while it has more than TokenReuseMargin of its
// TokenLifetime left, and signs a new one after that or once RotateKey
// changed the key. Signing is an RSA private-key operation (a millisecond
// or two of CPU), so a fleet of calls would otherwise spend most of the
// fake's time on it. Sign, and ForgedToken for every forgery, always sign
// anew.
func (s *Server) Token(appID string) (string, error) {
	if appID == "" {
		return "", fmt.Errorf("graphtest: Token needs the bot's app ID (the token's audience)")
	}
	key, kid, err := s.signingKey()
	if err != nil {
		return "", err
	}
	now := time.Now()
	s.mu.Lock()
	cached := s.lastGenuine[appID].signed
	s.mu.Unlock()
	if cached.reusable(kid, s.issuer, s.tenant, now) {
		return cached.raw, nil
	}
	c := s.Claims(appID)
	raw, err := signJWT(jose.RS256, key, kid, c.claimSet())
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	g := s.lastGenuine[appID]
	g.signed = signedToken{raw: raw, kid: kid, issuer: c.Issuer, tenant: c.Tenant, expiry: c.Expiry}
	s.lastGenuine[appID] = g
	s.mu.Unlock()
	return raw, nil
}

// signedToken is the genuine token Token reuses for one app ID, and what
// it was signed under.
type signedToken struct {
	raw            string
	kid            string
	issuer, tenant string
	expiry         time.Time
}

// reusable reports whether t was signed under kid for issuer and tenant
// and is still valid for more than TokenReuseMargin at now.
func (t signedToken) reusable(kid, issuer, tenant string, now time.Time) bool {
	return t.raw != "" && t.kid == kid && t.issuer == issuer && t.tenant == tenant &&
		t.expiry.Sub(now) > TokenReuseMargin
}

// signJWT signs claims with key under alg, with kid in the header ("" for
// none).
func signJWT(alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) (string, error) {
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		return "", fmt.Errorf("graphtest: making a %s signer: %w", alg, err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("graphtest: encoding claims: %w", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("graphtest: signing a token: %w", err)
	}
	return obj.CompactSerialize()
}
