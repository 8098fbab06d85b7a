package callback

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	josejson "github.com/go-jose/go-jose/v4/json"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Defaults of the Validator's options.
const (
	// DefaultOpenIDConfigURL is the OpenID configuration Microsoft's calling
	// samples validate callback tokens against; its jwks_uri publishes the
	// signing keys.
	DefaultOpenIDConfigURL = "https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration"
	// DefaultClockSkew is how far exp and nbf may be off: two minutes, enough
	// for hosts synchronised by NTP, shorter than the five minutes of
	// Microsoft's .NET default because a callback token is used at once.
	DefaultClockSkew = 2 * time.Minute
	// DefaultFetchTimeout bounds each fetch of the OpenID configuration and of
	// the key set, and how long a request waits for one.
	DefaultFetchTimeout = 5 * time.Second
	// DefaultKeySetMaxAge is how long the configuration and the keys fetched
	// with it are used before they are fetched again, whether or not a
	// token asked for a new key: a key Microsoft withdrew stops verifying
	// within this time, not at the next restart.
	DefaultKeySetMaxAge = 24 * time.Hour
	// DefaultKeyRefetchInterval is how long after a fetch of the key set a
	// token that no cached key verifies may make it fetch again; within it
	// such a token is answered at once (503 if its kid is unknown, 401
	// otherwise), so forged tokens cannot drive fetches.
	DefaultKeyRefetchInterval = 5 * time.Minute
)

// The issuers whose tokens Graph's calling service sends by default.
const (
	IssuerGraph        = "https://graph.microsoft.com"
	IssuerBotFramework = "https://api.botframework.com"
)

// maxTokenLen bounds the bearer token: Microsoft's are about 1-2 KB.
const maxTokenLen = 16 << 10

// maxDocumentBytes caps the OpenID configuration and the key set documents.
const maxDocumentBytes = 1 << 20

// discoveryRetryInterval is how long a failed fetch of the OpenID
// configuration is remembered before the next request tries again, so that
// an outage makes requests fail fast instead of queueing behind fetches.
const discoveryRetryInterval = 5 * time.Second

// asymmetricAlgs are the only algorithms ever accepted. Symmetric ones
// (HS256...) would let anyone holding the public key sign; "none" signs
// nothing.
var asymmetricAlgs = []string{
	oidc.RS256, oidc.RS384, oidc.RS512, oidc.PS256, oidc.PS384, oidc.PS512,
	oidc.ES256, oidc.ES384, oidc.ES512, oidc.EdDSA,
}

// Validator authenticates the bearer tokens Graph's calling service puts on
// the notifications it POSTs to a bot's callback URL. It is safe for
// concurrent use; make one per process (it caches the signing keys).
//
// A token is accepted only if all of these hold:
//
//   - it is a compact JWS signed with an asymmetric algorithm that the OpenID
//     configuration lists (RS256 when it lists none); "none", unsigned and
//     HMAC-signed tokens are refused;
//   - a key published at the configuration's jwks_uri verifies the signature.
//     The key set is fetched at first use and cached. A token no cached key
//     verifies makes it fetch again (so rotated keys are picked up) only if
//     the last fetch is older than WithKeyRefetchInterval. Before that it
//     is answered at once, without a fetch: refused (RejectBadSignature)
//     if its kid is cached or it has none, and, if its kid is one the
//     cache lacks, neither accepted nor refused (RejectUnknownKey, with
//     RejectError.RetryAfter saying when the fetch is allowed), since the
//     key may have been published since the last fetch. Once keys are
//     cached, a token without a kid never makes a fetch. Keys marked for
//     encryption, private, symmetric and RSA keys under 2048 bits are
//     never used, nor a key whose alg is not the token's;
//   - iss is one of the allowed issuers (WithIssuers);
//   - aud contains the bot's app ID;
//   - exp is present and not more than the clock skew in the past, and nbf,
//     when present, not more than the clock skew in the future;
//   - tid is present and, if WithTenants gave an allow-list, on it.
//
// iat is read by nobody; sub, appid and other claims are ignored.
type Validator struct {
	appID        string
	configURL    string
	issuers      []string
	tenants      map[string]bool
	skew         time.Duration
	fetchTimeout time.Duration
	keyMaxAge    time.Duration
	keyRefetch   time.Duration
	client       *http.Client
	now          func() time.Time
	// keyWaitHook, set only by tests, is told how many callers wait on a
	// key set fetch in flight each time one more starts waiting.
	keyWaitHook func(waiting int)

	mu          sync.Mutex
	verifier    *oidc.IDTokenVerifier // nil until discovery succeeded
	builtAt     time.Time             // when verifier was built (v.now)
	algs        []string
	lastErr     error
	lastFailure time.Time
}

// ValidatorOption configures a Validator.
type ValidatorOption func(*Validator) error

// WithOpenIDConfigURL sets the OpenID configuration document whose jwks_uri
// publishes the signing keys (default DefaultOpenIDConfigURL). It must be
// https, or http on a loopback host (for tests). The document's own issuer
// field is not used: Microsoft's differs from the iss of the tokens, which is
// checked against WithIssuers instead.
func WithOpenIDConfigURL(rawURL string) ValidatorOption {
	return func(v *Validator) error {
		if err := checkFetchURL(rawURL); err != nil {
			return fmt.Errorf("callback: WithOpenIDConfigURL: %w", err)
		}
		v.configURL = rawURL
		return nil
	}
}

// WithIssuers replaces the allowed token issuers (default IssuerGraph and
// IssuerBotFramework). Each is compared with iss exactly.
func WithIssuers(issuers ...string) ValidatorOption {
	return func(v *Validator) error {
		if len(issuers) == 0 || slices.Contains(issuers, "") {
			return errors.New("callback: WithIssuers: give at least one non-empty issuer")
		}
		v.issuers = slices.Clone(issuers)
		return nil
	}
}

// WithTenants accepts only tokens whose tid is one of tenants (compared
// without regard to case, as tenant IDs are GUIDs). Without it any tenant is
// accepted, but tid must still be present.
func WithTenants(tenants ...string) ValidatorOption {
	return func(v *Validator) error {
		if len(tenants) == 0 {
			return errors.New("callback: WithTenants: give at least one tenant ID, or leave the option out to accept any")
		}
		v.tenants = make(map[string]bool, len(tenants))
		for _, t := range tenants {
			if t == "" {
				return errors.New("callback: WithTenants: empty tenant ID")
			}
			v.tenants[strings.ToLower(t)] = true
		}
		return nil
	}
}

// WithClockSkew sets how far exp and nbf may be off (default
// DefaultClockSkew; at most ten minutes).
func WithClockSkew(d time.Duration) ValidatorOption {
	return func(v *Validator) error {
		if d < 0 || d > 10*time.Minute {
			return fmt.Errorf("callback: WithClockSkew: %v is outside [0, 10m]", d)
		}
		v.skew = d
		return nil
	}
}

// WithHTTPClient sets the client that fetches the OpenID configuration and
// the key set (default: a client with a DefaultFetchTimeout timeout). Tests
// pass an httptest server's Client.
func WithHTTPClient(c *http.Client) ValidatorOption {
	return func(v *Validator) error {
		if c == nil {
			return errors.New("callback: WithHTTPClient: nil client")
		}
		v.client = c
		return nil
	}
}

// WithFetchTimeout bounds each fetch of the configuration and of the key set
// and how long a request waits for one (default DefaultFetchTimeout).
func WithFetchTimeout(d time.Duration) ValidatorOption {
	return func(v *Validator) error {
		if d <= 0 {
			return fmt.Errorf("callback: WithFetchTimeout: %v is not positive", d)
		}
		v.fetchTimeout = d
		return nil
	}
}

// WithKeySetMaxAge sets how long the OpenID configuration and its key set
// are used before they are fetched again (default DefaultKeySetMaxAge).
// The key set is fetched again only when a token needs a key not in the
// cache (WithKeyRefetchInterval): without a maximum age, a key Microsoft
// withdrew would verify tokens for as long as no such token came, perhaps
// the life of the process.
func WithKeySetMaxAge(d time.Duration) ValidatorOption {
	return func(v *Validator) error {
		if d <= 0 {
			return fmt.Errorf("callback: WithKeySetMaxAge: %v is not positive", d)
		}
		v.keyMaxAge = d
		return nil
	}
}

// WithKeyRefetchInterval sets how long after a fetch of the key set
// (successful or not) a token that no cached key verifies may make it fetch
// again (default DefaultKeyRefetchInterval). Within the interval such a token
// is answered at once, without a fetch: anyone can POST forged tokens under
// made-up kids to the callback URL, and each would otherwise make the bot
// fetch Microsoft's key set. A token whose kid the cache lacks gets
// RejectUnknownKey (the Handler answers 503 with Retry-After, the time left
// in the interval): it may be signed with a key Microsoft published since the
// last fetch, and Graph does not deliver again a notification refused with
// 401, so it is delivered again once the key set may be fetched, and
// accepted then if the key is published. Other tokens no cached key verifies
// get RejectBadSignature (401). Concurrent tokens share one fetch. The
// interval is measured on the Validator's clock (WithNow). After a failed
// fetch the next one may come sooner, after at most five seconds, and the
// tokens in between get 503 (keys unavailable) so that Graph delivers them
// again. A shorter interval picks up new keys sooner, and makes Graph's
// redeliveries after a rotation come sooner, at the price of more fetches
// that forged tokens can cause.
func WithKeyRefetchInterval(d time.Duration) ValidatorOption {
	return func(v *Validator) error {
		if d <= 0 {
			return fmt.Errorf("callback: WithKeyRefetchInterval: %v is not positive; pass how long to wait between fetches of the key set, e.g. callback.DefaultKeyRefetchInterval", d)
		}
		v.keyRefetch = d
		return nil
	}
}

// WithNow sets the clock that exp and nbf are checked against (default
// time.Now); the Handler also stamps Notification.Received with it, and the
// key set's ages (WithKeySetMaxAge, WithKeyRefetchInterval) are measured on
// it.
func WithNow(now func() time.Time) ValidatorOption {
	return func(v *Validator) error {
		if now == nil {
			return errors.New("callback: WithNow: nil clock")
		}
		v.now = now
		return nil
	}
}

// NewValidator returns a Validator for tokens addressed to the bot whose
// Microsoft Entra app ID is appID. It does no I/O: the OpenID configuration
// is fetched on first use (or by Prefetch), each fetch bounded by the fetch
// timeout.
func NewValidator(appID string, opts ...ValidatorOption) (*Validator, error) {
	if appID == "" {
		return nil, errors.New("callback: NewValidator: empty app ID; pass the bot's Microsoft Entra application (client) ID, the aud of Graph's tokens")
	}
	v := &Validator{
		appID:        appID,
		configURL:    DefaultOpenIDConfigURL,
		issuers:      []string{IssuerGraph, IssuerBotFramework},
		skew:         DefaultClockSkew,
		fetchTimeout: DefaultFetchTimeout,
		keyMaxAge:    DefaultKeySetMaxAge,
		keyRefetch:   DefaultKeyRefetchInterval,
		now:          time.Now,
	}
	for _, opt := range opts {
		if err := opt(v); err != nil {
			return nil, err
		}
	}
	if v.client == nil {
		v.client = &http.Client{Timeout: v.fetchTimeout}
	}
	v.client = guardedClient(v.client, v.fetchTimeout)
	return v, nil
}

// Caller is who vouched for an accepted token.
type Caller struct {
	// Issuer is the token's iss, one of the allowed issuers.
	Issuer string
	// Tenant is the token's tid.
	Tenant string
	// Expiry is the token's exp.
	Expiry time.Time
}

// Prefetch fetches the OpenID configuration now, so that a wrong URL or an
// unreachable endpoint shows at startup rather than on the first
// notification. Calling it is optional.
func (v *Validator) Prefetch(ctx context.Context) error {
	_, _, err := v.discover(ctx)
	return err
}

// Validate checks the value of an Authorization header ("Bearer <JWT>").
// It returns who vouched for the token, or a *RejectError (errors.Is
// ErrRejected) naming the reason; neither ever contains the token.
func (v *Validator) Validate(ctx context.Context, authorization string) (Caller, error) {
	if authorization == "" {
		return Caller{}, reject(RejectMissingToken, "no Authorization header")
	}
	scheme, token, _ := strings.Cut(authorization, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return Caller{}, reject(RejectNotBearer, "Authorization scheme is not Bearer")
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return Caller{}, reject(RejectMalformedToken, "Bearer without a token")
	}
	if len(token) > maxTokenLen {
		return Caller{}, reject(RejectMalformedToken, "token is %d bytes long, at most %d accepted", len(token), maxTokenLen)
	}
	hdr, err := readHeader(token)
	if err != nil {
		return Caller{}, err
	}

	verifier, algs, err := v.discover(ctx)
	if err != nil {
		return Caller{}, &RejectError{Reason: RejectKeysUnavailable, Detail: "the OpenID configuration could not be fetched", Err: err, RetryAfter: discoveryRetryInterval}
	}
	if !slices.Contains(algs, hdr.Alg) {
		return Caller{}, reject(RejectAlgorithm, "alg %q is not one the OpenID configuration lists (%s)", hdr.Alg, strings.Join(algs, ", "))
	}

	// As for the configuration: a caller that hangs up while the key set
	// is fetched must not spoil the fetch (go-oidc would then answer the
	// next caller with this one's cancellation), and an authenticated
	// notification is delivered even if Graph hung up.
	vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.fetchTimeout)
	defer cancel()
	probe := &keyOutcome{}
	idt, err := verifier.Verify(context.WithValue(vctx, keyOutcomeKey{}, probe), token)
	if err != nil {
		switch {
		case probe.unavailable:
			return Caller{}, &RejectError{Reason: RejectKeysUnavailable, Detail: "the key set could not be fetched", Err: probe.err, RetryAfter: probe.retryAfter}
		case probe.unknownKey:
			return Caller{}, &RejectError{Reason: RejectUnknownKey, RetryAfter: probe.retryAfter,
				Detail: fmt.Sprintf("the cached key set has no key with kid %q and may be fetched again only in %v (WithKeyRefetchInterval); deliver the token again then",
					truncate(hdr.Kid, 64), probe.retryAfter.Round(time.Millisecond))}
		case probe.err != nil:
			return Caller{}, reject(RejectBadSignature, "no published key verifies the signature (kid %q)", truncate(hdr.Kid, 64))
		default:
			// go-oidc's errors may quote claim values but never the token.
			return Caller{}, &RejectError{Reason: RejectMalformedToken, Detail: "not a valid signed JWT", Err: err}
		}
	}
	return v.checkClaims(idt)
}

// claims are the claims Validate reads (after the signature was verified).
type claims struct {
	Issuer    string           `json:"iss"`
	Audience  jwt.Audience     `json:"aud"`
	Expiry    *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	Tenant    string           `json:"tid"`
}

func (v *Validator) checkClaims(idt *oidc.IDToken) (Caller, error) {
	// Claim names are case-sensitive (RFC 7519), and encoding/json matches
	// them ignoring case: a token carrying AUD and no aud would pass. go-jose's
	// json package is encoding/json with exact matching of names.
	var raw json.RawMessage
	var c claims
	if err := idt.Claims(&raw); err != nil {
		return Caller{}, &RejectError{Reason: RejectMalformedToken, Detail: "claims are not the expected JSON", Err: err}
	}
	if err := josejson.Unmarshal(raw, &c); err != nil {
		return Caller{}, &RejectError{Reason: RejectMalformedToken, Detail: "claims are not the expected JSON", Err: err}
	}
	if !slices.Contains(v.issuers, c.Issuer) {
		return Caller{}, reject(RejectWrongIssuer, "iss %q is not one of %q", c.Issuer, v.issuers)
	}
	if !slices.Contains([]string(c.Audience), v.appID) {
		return Caller{}, reject(RejectWrongAudience, "aud %q does not contain the bot's app ID", []string(c.Audience))
	}
	now := v.now()
	if c.Expiry == nil {
		return Caller{}, reject(RejectMalformedToken, "no exp claim")
	}
	if exp := c.Expiry.Time(); now.After(exp.Add(v.skew)) {
		return Caller{}, reject(RejectExpired, "expired at %s, more than %v ago", exp.UTC().Format(time.RFC3339), v.skew)
	}
	if c.NotBefore != nil {
		if nbf := c.NotBefore.Time(); now.Add(v.skew).Before(nbf) {
			return Caller{}, reject(RejectNotYetValid, "not valid before %s, more than %v ahead", nbf.UTC().Format(time.RFC3339), v.skew)
		}
	}
	if c.Tenant == "" {
		return Caller{}, reject(RejectNoTenant, "no tid claim")
	}
	if v.tenants != nil && !v.tenants[strings.ToLower(c.Tenant)] {
		return Caller{}, reject(RejectTenantNotAllowed, "tid %q is not on the allow-list", c.Tenant)
	}
	return Caller{Issuer: c.Issuer, Tenant: c.Tenant, Expiry: c.Expiry.Time()}, nil
}

// jwsHeader is the part of a JWS header read before the signature is
// verified: only to refuse unsigned tokens early and with a precise reason.
type jwsHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// readHeader decodes the protected header of a compact JWS without trusting
// it. Verification proper is go-oidc's and go-jose's.
func readHeader(token string) (jwsHeader, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return jwsHeader{}, reject(RejectMalformedToken, "a compact JWS has 3 dot-separated parts, this has %d", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return jwsHeader{}, reject(RejectMalformedToken, "header is not base64url")
	}
	var h jwsHeader
	if err := json.Unmarshal(raw, &h); err != nil {
		return jwsHeader{}, reject(RejectMalformedToken, "header is not a JSON object")
	}
	if h.Alg == "" || strings.EqualFold(h.Alg, "none") {
		return jwsHeader{}, reject(RejectUnsigned, "alg %q signs nothing", h.Alg)
	}
	if parts[2] == "" {
		return jwsHeader{}, reject(RejectUnsigned, "empty signature")
	}
	if !slices.Contains(asymmetricAlgs, h.Alg) {
		return jwsHeader{}, reject(RejectAlgorithm, "alg %q is not an asymmetric signature algorithm", h.Alg)
	}
	return h, nil
}

// checkFetchURL accepts https URLs, and http ones on a loopback host.
func checkFetchURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", rawURL, err)
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%q is neither https nor http on a loopback host: keys must come over TLS", rawURL)
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
}

// truncate shortens an unverified header value before it goes into a log.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
