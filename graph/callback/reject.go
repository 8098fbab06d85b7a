package callback

import (
	"errors"
	"fmt"
	"time"
)

// RejectReason names why the handler refused a request. The values are short,
// stable, lower_snake_case strings meant to be counted: a metrics adapter can
// use them as a label (see WithRejectHook). Authentication reasons come with
// 401 Unauthorized (RejectKeysUnavailable and RejectUnknownKey with 503);
// the others with the status each one names.
type RejectReason string

// Why a request was refused before it was authenticated: 401 Unauthorized,
// nothing parsed, nothing handed on.
const (
	// RejectMissingToken: no Authorization header.
	RejectMissingToken RejectReason = "missing_token"
	// RejectNotBearer: an Authorization header whose scheme is not Bearer.
	RejectNotBearer RejectReason = "not_bearer"
	// RejectMalformedToken: not a compact JWS (three base64url parts with a
	// JSON header and a JSON claim set), too long, or without exp.
	RejectMalformedToken RejectReason = "malformed_token"
	// RejectUnsigned: alg "none", no alg, or an empty signature.
	RejectUnsigned RejectReason = "unsigned_token"
	// RejectAlgorithm: signed with an algorithm the OpenID configuration does
	// not list, or a symmetric one (HS256...), which is never accepted.
	RejectAlgorithm RejectReason = "algorithm_not_allowed"
	// RejectBadSignature: no key the OpenID configuration publishes verifies
	// the signature: another key under a cached kid, a token without a kid
	// that no cached key verifies, or a kid still unknown after the key set
	// was fetched again. (A kid the cache lacks while a fetch is not yet
	// allowed is RejectUnknownKey, 503.)
	RejectBadSignature RejectReason = "bad_signature"
	// RejectExpired: exp is more than the clock skew in the past.
	RejectExpired RejectReason = "expired"
	// RejectNotYetValid: nbf is more than the clock skew in the future.
	RejectNotYetValid RejectReason = "not_yet_valid"
	// RejectWrongIssuer: iss is not one of the allowed issuers.
	RejectWrongIssuer RejectReason = "wrong_issuer"
	// RejectWrongAudience: aud does not contain the bot's app ID.
	RejectWrongAudience RejectReason = "wrong_audience"
	// RejectNoTenant: no tid claim (or an empty one).
	RejectNoTenant RejectReason = "no_tenant"
	// RejectTenantNotAllowed: tid is not on the allow-list (WithTenants).
	RejectTenantNotAllowed RejectReason = "tenant_not_allowed"
)

// Why a request was refused for another cause than a bad token.
const (
	// RejectKeysUnavailable: the OpenID configuration or its key set could
	// not be fetched (network error or timeout), so the token could be
	// neither accepted nor refused. 503 Service Unavailable with Retry-After,
	// so that Graph delivers the notification again later; nothing parsed.
	RejectKeysUnavailable RejectReason = "keys_unavailable"
	// RejectUnknownKey: the token names a kid no cached key has, and the key
	// set was fetched less than WithKeyRefetchInterval ago, so it may not be
	// fetched again yet. The kid may be a key Microsoft published since the
	// last fetch (it rotates its signing keys), or made up by a forger; the
	// token can be neither accepted nor refused. 503 Service Unavailable
	// with Retry-After (the seconds until a fetch is allowed, at least 1):
	// Graph does not deliver again a notification refused with 401, and
	// would lose it; with 503 it delivers it again, and the token is then
	// checked against the fetched key set (accepted if it publishes the
	// key, RejectBadSignature if not). Nothing parsed, nothing handed on.
	// Many of these in a row with no rotation are forgeries: they cause no
	// fetch beyond one per interval.
	RejectUnknownKey RejectReason = "unknown_key"
	// RejectMethod: not a POST. 405 Method Not Allowed.
	RejectMethod RejectReason = "method_not_allowed"
	// RejectBodyTooLarge: an authenticated body longer than the cap
	// (WithMaxBodyBytes). 413 Content Too Large.
	RejectBodyTooLarge RejectReason = "body_too_large"
	// RejectMalformedBody: an authenticated body that is not a JSON object
	// with a "value" array. 400 Bad Request.
	RejectMalformedBody RejectReason = "malformed_body"
)

// ErrRejected matches every *RejectError (errors.Is).
var ErrRejected = errors.New("callback: token rejected")

// RejectError is why Validator.Validate refused a token. Its text never
// contains the token.
type RejectError struct {
	// Reason is the countable cause.
	Reason RejectReason
	// Detail says what was wrong in words (claim values such as iss, aud or
	// tid may appear; the token never does).
	Detail string
	// Err is the underlying error, if any (a fetch failure, for instance).
	// It never carries the token either.
	Err error
	// RetryAfter, for RejectKeysUnavailable and RejectUnknownKey, is how
	// long until the keys may be fetched again, so until the token is worth
	// presenting again (the Handler's Retry-After); 0 when unknown or for
	// other reasons.
	RetryAfter time.Duration
}

// Error formats the reason and the detail.
func (e *RejectError) Error() string {
	msg := "callback: token rejected (" + string(e.Reason) + ")"
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *RejectError) Unwrap() error { return e.Err }

// Is makes every *RejectError match ErrRejected.
func (e *RejectError) Is(target error) bool { return target == ErrRejected }

func reject(reason RejectReason, format string, args ...any) *RejectError {
	return &RejectError{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}
