package callback

import (
	"errors"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// NewKeySetForTest returns the key set a Validator builds for the JWKS at
// jwksURL, fetching with c guarded as the Validator guards its client.
// parked, when not nil, is told how many callers wait on a fetch in flight
// each time one more starts waiting.
func NewKeySetForTest(jwksURL string, c *http.Client, fetchTimeout, interval time.Duration,
	now func() time.Time, parked func(waiting int)) oidc.KeySet {
	k := newKeySet(jwksURL, guardedClient(c, fetchTimeout), fetchTimeout, interval, now)
	k.parked = parked
	return k
}

// SetKeyWaitHook makes the key sets v builds tell parked how many callers
// wait on a fetch in flight each time one more starts waiting. Call it
// before v's first use.
func SetKeyWaitHook(v *Validator, parked func(waiting int)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.keyWaitHook = parked
}

// KeysUnavailable reports whether err, from a key set's VerifySignature,
// says the keys could not be had (rather than that none verifies).
func KeysUnavailable(err error) bool { return errors.As(err, new(*keysUnavailableError)) }
