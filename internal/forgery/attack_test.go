package forgery_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/recgate/recgate/graph/callback"
)

// attack is one request a forger sends to the handler.
type attack struct {
	name string
	// auth returns the Authorization headers to send (none if empty).
	auth func(now time.Time) []string
	// body replaces defaultBody when not nil.
	body []byte
	want expect
	// bug, when set, says what the library does wrong: if the handler
	// accepts the attack, the case is skipped as "handler bug: <bug>";
	// once fixed, it passes on want.
	bug string
}

// expect is the outcome an attack must come to.
type expect struct {
	status int
	reason callback.RejectReason // empty: any reason
	handed int
}

// refused is a 401 with reason, nothing handed on.
func refused(reason callback.RejectReason) expect {
	return expect{status: http.StatusUnauthorized, reason: reason}
}

// deferred is a 503 with RejectUnknownKey and a Retry-After, nothing handed
// on: a kid the cached key set lacks, while it may not be fetched again.
var deferred = expect{status: http.StatusServiceUnavailable, reason: callback.RejectUnknownKey}

// accepted is a 202 that handed the one notification on: controls, and the
// cases the design accepts on purpose.
var accepted = expect{status: http.StatusAccepted, handed: 1}

// bearerOf wraps a token builder into an Authorization header builder.
func bearerOf(token func(now time.Time) string) func(now time.Time) []string {
	return func(now time.Time) []string { return []string{"Bearer " + token(now)} }
}

// run sends each attack to tg and checks its outcome.
func run(t *testing.T, tg *target, attacks []attack) {
	t.Helper()
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			body := a.body
			if body == nil {
				body = defaultBody
			}
			o := tg.send(t, a.auth(time.Now()), body, nil)
			if matches(o, a.want) {
				return
			}
			if a.bug != "" {
				t.Errorf("handler bug back: %s", a.bug)
			}
			t.Errorf("got %v; want status %d, reason %q, %d handed on", o, a.want.status, a.want.reason, a.want.handed)
		})
	}
}

func matches(o outcome, want expect) bool {
	if want.status == http.StatusServiceUnavailable && o.retryAfter == "" {
		return false
	}
	return o.status == want.status && o.handed == want.handed && (want.reason == "" || o.reason == want.reason)
}
