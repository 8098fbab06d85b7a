// Package forgery is an independent forger of Graph's callback tokens,
// written from the outside by a security tester who shares no code with the
// library it attacks: not graphtest's forgeries, not the validator's own test
// keys.
//
// It plays both Microsoft and the attacker. As Microsoft, it generates its
// own signing keys (RSA, ECDSA, Ed25519) with crypto/*, publishes them through
// an OpenID configuration and a JWKS that it serves from an httptest server on
// loopback, and signs genuine tokens by hand (header and claims are raw JSON
// it composes byte by byte, so that it can also write what no JWT library
// would: duplicate claims, odd types, unknown critical headers). As the
// attacker, it signs with keys Microsoft never published, points jku, x5u
// and jwk headers at them, strips or swaps algorithms, nests, encrypts and
// double-signs tokens, breaks the key set endpoint, and sends notification
// bodies that name other calls and other attempts.
//
// Every attack is aimed at the real graph/callback Handler and Validator,
// and, end to end, at the real fsm.Registry and fsm.Machine talking to the
// fake Graph of graph/graphtest through a real graph.Client. Each test
// asserts the outcome a production bot needs: a forgery is refused (401,
// or 503 when the keys cannot be had or its kid is one the cached key set
// lacks while the key set may not be fetched again, 400 or 413 for a bad
// body) and nothing is handed on, and the machine's persist gate stays closed, while a genuine
// control token, signed the same way, is accepted (so a refusal is never a
// broken harness).
//
// When the library accepts what it must not, or fails in a way a production
// bot should not, the test is kept and skipped with "handler bug: ...", so
// that the package stays green and the finding stays visible.
//
// Tokens and keys never appear in test output: failures name the attack,
// the status and the reject reason only.
//
// The package has no code of its own besides this comment: everything lives
// in its _test.go files.
package forgery
