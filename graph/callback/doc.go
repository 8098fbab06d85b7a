// Package callback serves a Teams bot's callback URL: it authenticates the
// notifications Microsoft Graph POSTs there, parses them, and hands the ones
// recgate acts on to a Receiver.
//
// # Where it sits
//
// When Graph answers updateRecordingStatus with notStarted or running, the
// outcome comes later, and so does "the call ended": Graph POSTs a
// commsNotifications document to the callback URL the bot registered.
//
//	Graph ──POST {callback URL}──▶ Handler ──Notify──▶ Receiver (fsm's registry)
//	         Authorization: Bearer <JWT>   │                 │
//	                                       Validator         └─▶ the call's machine
//
// The Handler is an http.Handler; mount it on the bot's HTTPS server. The
// Receiver is a one-method interface defined here, so that package fsm's
// registry satisfies it without importing this package, and imports keep
// flowing one way (graph/callback → graph).
//
// # Why every request is authenticated
//
// Anyone who can reach the callback URL can POST to it. A forged
// "completed" for the bot's pending recording attempt would open the persist
// gate without consent: the machine, the suite and the audit trail would all
// certify it. So nothing of a request is read before its bearer token passed
// the Validator, which checks, with github.com/coreos/go-oidc/v3 and
// github.com/go-jose/go-jose/v4 doing the cryptography:
//
//   - the signature, against the keys published at the jwks_uri of an OpenID
//     configuration (by default the one Microsoft's calling samples use,
//     DefaultOpenIDConfigURL), with an asymmetric algorithm the configuration
//     lists; "alg: none", unsigned and HMAC tokens never pass (see "How the
//     keys are fetched" below);
//   - iss: one of https://graph.microsoft.com and https://api.botframework.com
//     (WithIssuers). go-oidc checks a single issuer, so its issuer check is
//     off and the Validator compares iss with the list itself;
//   - aud: the bot's app ID, so a token minted for another bot is refused;
//   - exp (required) and nbf (if present), each with a clock skew of
//     DefaultClockSkew (WithClockSkew);
//   - tid: present, and on an allow-list if WithTenants gave one.
//
// The token Graph sends looks like this (the fake Graph in graph/graphtest
// signs the same way):
//
//	header: {"alg":"RS256","kid":"<id of a key in the JWKS>","typ":"JWT"}
//	claims: {"iss":"https://graph.microsoft.com","aud":"<bot app ID>",
//	         "tid":"<tenant ID>","iat":..., "nbf":..., "exp":...}
//
// # How the keys are fetched
//
// The key set is fetched at the first token and cached. A token that no
// cached key verifies (a kid the cache lacks, or a signature its key does
// not verify) makes the Validator fetch the key set again only if the last
// fetch is older than the refetch interval (WithKeyRefetchInterval, five
// minutes by default, on the WithNow clock). Otherwise it is answered at
// once, without a fetch:
//
//   - a kid the last fetched key set names (even for a key it skips as
//     unusable, below) whose key does not verify the signature, or no kid
//     at all: 401, a bad signature (RejectBadSignature);
//   - a kid the last fetched key set does not name (a new key, a withdrawn
//     one, or a made-up one): 503 Service Unavailable with Retry-After, the
//     seconds until a fetch is allowed (at least 1), and RejectUnknownKey.
//     A token whose kid is still not named by the key set a fetch just
//     brought is refused, 401.
//
// Why 503 and not 401 for an unknown kid: Microsoft rotates its signing
// keys, and a key first used within the interval after the last fetch is
// one the cache cannot know yet. Graph does not deliver again a
// notification answered 401, so a genuine "completed" or a call's
// termination refused that way would be lost for good, and the machine
// would wait for an outcome that never comes. A 503 makes Graph deliver it
// again later; by then a fetch is allowed, and the token is accepted if the
// fetched key set publishes its kid, refused (401) if it does not. Nothing
// is given to a forger: a token is never accepted without a published key
// verifying it, and a 503 hands nothing on. And forgeries still drive no
// fetches: forged tokens under made-up kids, however many, cause at most
// one fetch per interval, and tokens that arrive while a fetch is in flight
// wait for that one. A token without a kid is tried against every cached
// key and, once keys are cached, never causes a fetch.
// The whole set is fetched anew after WithKeySetMaxAge (24 hours by
// default), so a key Microsoft withdrew stops verifying by then.
//
// Only keys fit to verify signatures are used: a key marked "use": "enc",
// a private or symmetric key, an RSA key under 2048 bits, or a key that
// cannot be read is skipped, and a key that names its alg verifies tokens
// of that alg only. A key set that cannot be fetched or decoded, or holds
// no usable key, answers 503 (below); a failed fetch is tried again after
// five seconds at most.
//
// # What it answers
//
//   - 401 Unauthorized for any bad token (missing, not Bearer, malformed,
//     unsigned, wrong key, expired, not yet valid, wrong issuer, wrong
//     audience, no tenant, tenant not allowed), with a WWW-Authenticate
//     challenge and a one-line reason; nothing parsed, nothing handed on.
//   - 503 Service Unavailable with Retry-After when the configuration or the
//     keys could not be fetched, the key set holds no usable key, or the
//     token's kid is not cached and the key set may not be fetched again
//     yet (above): the token could be neither accepted nor refused, and
//     Graph will deliver the notification again. Nothing parsed, nothing
//     handed on.
//   - 405 for anything but POST, 413 for a body over the cap
//     (WithMaxBodyBytes, 1 MiB by default), 400 for a body that is not a JSON
//     object with a "value" array.
//   - 202 Accepted otherwise, promptly, including for notifications recgate
//     does not act on (logged at Debug) and for those the Receiver refused
//     (logged at Info): an error reply would only make Graph retry for ever.
//
// Every refusal is logged at Warn with a RejectReason, a short constant a
// metrics adapter can count (WithRejectHook). The token never appears in a
// log line, an error or a reply.
//
// # What it hands on
//
// Each item of the value array is read on its own; resourceUrl may be
// /communications/calls/{id}[/operations/{opId}] or /app/calls/{id}[...], after
// an optional /v1.0 or /beta, or an https URL with such a path.
//
//   - An updateRecordingStatusOperation under .../operations/{opId}, with any
//     changeType (Graph marks a finished operation "deleted"), becomes a
//     graph.Notification of kind graph.NotificationOperation; its status is
//     read case-insensitively by graph.ParseOperation, and its ID is taken
//     from the URL when the body has none.
//   - A call whose state is terminated, or a call deleted, becomes
//     graph.NotificationCallEnded.
//
// Issuer and Tenant are the validated token's; Received is the validator's
// clock. Everything else is acknowledged and not handed on.
//
// # What the token does not prove
//
// The token says Graph sent the request; it is not bound to the body. Within
// its lifetime a token captured in transit could be replayed with another
// body, which is why the callback URL must be HTTPS, and why the Receiver
// still matches an operation to the current attempt by clientContext or
// operation ID and ignores what names another call or an older attempt.
// Graph may also deliver a notification twice: Notify must be idempotent.
// And Notify must return quickly; it runs under a short deadline
// (WithNotifyTimeout) while Graph waits for the reply.
package callback
