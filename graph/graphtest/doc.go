// Package graphtest is a fake Microsoft Graph for tests: it serves
// updateRecordingStatus and the operations it creates, checks requests as
// Graph does, plays scripted faults, and keeps a request log.
//
// It works like net/http/httptest:
//
//	fake := graphtest.NewServer(graphtest.WithToken("test-token"))
//	defer fake.Close()
//	fake.AddCall(callID).Then(graphtest.Throttle("1"), graphtest.ReplyStatus("running"))
//	client, _ := graph.NewClient(graph.StaticToken("test-token"),
//		graph.WithBaseURL(fake.BaseURL()), graph.WithHTTPClient(fake.Client()))
//
// The server listens on loopback over TLS (Client trusts its certificate),
// under /v1.0 and /beta. What it checks, as Graph does:
//
//   - a bearer token is present, and equals WithToken's if given (401,
//     with Graph's WWW-Authenticate Bearer challenge);
//   - Content-Type is application/json (415); gzip request bodies are
//     accepted, as the official SDKs send them;
//   - the body is JSON with a known status and a clientContext of at most
//     256 characters (400, with Graph's error envelope);
//   - the call is known (AddCall, or WithAnyCall) and not terminated (404,
//     with Graph's error body);
//   - the call is a compliance-recording call (NonCompliance, or the
//     NonCompliant fault, gives 403 with code 8506; Forbidden a plain 403).
//
// A normal reply looks like the API page's example: 200, an absolute
// Location at the fake's own URL, request-id, client-request-id and Date
// headers, and {"@odata.type", "clientContext", "id", "resultInfo": null,
// "status": "completed"} (WithPascalCase spells it Completed).
//
// Faults are scripted per call, in order (Call.Then) or for the nth
// request (Call.OnRequest): throttling with Retry-After in seconds, as a
// date, missing or huge; 503 with and without Retry-After; 500; 502 with an
// HTML body; 504; latency; a hang until the client gives up; a reset
// connection; truncated or malformed JSON; an empty 200; a wrong
// Content-Type; an oversized body; pending, failed, null or unknown
// operation statuses (and pending ones that a notification completes); a
// Location that is missing, relative, http, on a
// foreign host or naming another call; a redirect to a foreign host that
// records whether the token came along; and the call ending part-way.
// Faults are plain values with JSON tags, so a script can come from a file.
//
// Requests returns the log: method, path, decoded body, headers with the
// token redacted, time, the reply's status and the fault played. It holds
// every request the server answered, the GETs of its OpenID configuration
// and signing keys (a callback Validator's fetches) included: filter by
// Path (or CallID) to count a call's updateRecordingStatus requests. Tests use
// it to check order, e.g. that recording had its completed reply before the
// first write and notRecording was sent after the last. WithRequestHook
// sees each entry as its reply goes out.
//
// # The callback side
//
// Graph tells a bot the outcome of a pending operation, and the end of a
// call, by POSTing commsNotifications to the bot's callback URL with
// "Authorization: Bearer <JWT>" signed by its calling service. The fake
// plays that service too:
//
//	fake.SetCallback(callbackURL, appID)          // loopback http(s)
//	call := fake.AddCall(callID).ReplyWith("running")
//	// ... the bot sends recording and gets running ...
//	d, err := call.Notify(ctx, graph.OperationCompleted) // d.StatusCode: the bot's answer
//	d, err = call.End(ctx, nil)                          // terminated; 404 from now on
//
// or, scripted, with no test command in between: Then(PendingThen(...)),
// PendingThenFailed, EndCall, or any Fault with Notify; WaitDeliveries
// waits for them. Deliveries is the log of notifications sent (never the
// token).
//
// Tokens are RS256 JWTs with a kid, claims iss (DefaultIssuer, or
// WithIssuer), aud (the app ID given with the callback), tid
// (DefaultTenant, or WithTenant), iat, nbf and exp (TokenLifetime later).
// The signing key is a 2048-bit RSA key made on first use (or
// WithSigningKey); a validator finds it through OpenIDConfigURL, whose
// jwks_uri is JWKSURL. RotateKey replaces it under a new kid.
//
// Forgeries come on demand: Forgeries lists them (unsigned, alg none,
// HS256 keyed with the public key, another key under the current or an
// unknown kid, a tampered payload, expired, not yet valid, wrong audience,
// wrong issuer, no tenant, no token, a malformed one, and a genuine token
// replayed with another call's body). ForgedToken mints one for testing a
// validator directly; Call.NotifyForged POSTs one; Send composes any
// notification. A validator must refuse every forgery whose TokenValid
// is false: 401, except that one rate-limiting its key fetches may answer
// ForgedUnknownKey 503 with Retry-After until it may fetch again (as
// graph/callback does: the kid could be a key rotated in since its last
// fetch).
package graphtest
