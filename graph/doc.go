// Package graph is the Microsoft Graph side of recgate: the wire types of the
// updateRecordingStatus action, the errors Graph returns, and Client, the
// HTTP client that sends the action.
//
// The action is
//
//	POST {base}/communications/calls/{id}/updateRecordingStatus
//	{"clientContext": "...", "status": "notRecording" | "recording" | "failed"}
//
// and Graph answers with an updateRecordingStatusOperation. Only an operation
// whose status is completed is a success reply in the sense of the API's terms:
// notStarted, running or a missing status means "pending" (the outcome comes
// later as a notification), and failed is a refusal. [OperationStatus.Confirmed]
// and [OperationStatus.Pending] encode that reading so no caller has to.
//
// Real services spell enum values in camelCase or PascalCase ("completed" and
// "Completed"), so every enum here parses case-insensitively; an unknown value
// is an error, never a success.
//
// Errors: a non-2xx reply is a [*Error] (find it with errors.As); an operation
// that Graph reports as failed is an [*OperationError], which matches
// [ErrOperationFailed] with errors.Is.
//
// # The client
//
// Client.UpdateRecordingStatus checks its input before anything is sent
// (call ID, status, clientContext; a call ID may not be "." or "..", which
// are path dot-segments), posts with a bearer token from a TokenSource, and
// reads the reply (capped at 1 MiB) into an Operation carrying Location,
// request-id and client-request-id, and an ID (from the body, or else the
// Location's last segment). A 2xx with a Location and no body (a 202) is
// pending: the operation's status is missing and its Location is kept. A
// reply for another clientContext is [ErrBadReply]. With every error the
// Operation returned is the zero Operation, so nothing of a failed exchange
// can be read as a success.
//
// Retries: 429, 503, 504, transport failures before any reply and attempts
// that reach the attempt timeout are retried, up to WithMaxAttempts, within
// the context's deadline, honouring Retry-After (in seconds or as a date)
// or backing off exponentially with jitter. A Retry-After longer than the
// cap (WithRetryAfterCap, 60 s by default) is never cut short: the [*Error]
// comes back at once with RetryAfter filled in, for the caller to decide.
// Every other error, code 8506 above all, is returned at once; both forms
// of 8506 ([*Error.NonCompliance], [*OperationError.NonCompliance], or
// [IsNonCompliance] for either) are policy refusals no retry can fix.
//
// Deadlines: every attempt is bounded by the attempt timeout
// (WithAttemptTimeout, [DefaultAttemptTimeout] = 30 s), covering the token,
// the request and the whole reply body, even when the caller's context has
// no deadline; a Graph that never answers cannot hold a call for ever.
// Deadline errors, the caller's or the attempt's, match
// context.DeadlineExceeded with errors.Is (the attempt's also
// [ErrAttemptTimeout]), including one that strikes while the body is read.
//
// A connection that drops after the request was sent: the client cannot
// tell whether Graph received it and sends the same POST again, with the
// same clientContext and client-request-id. That is safe for the
// compliance rule because only a reply read (or an authenticated
// notification) ever confirms recording, both copies ask for the same
// status, and the client keeps one request per call in flight; it is not a
// guarantee that Graph applies the request once, nor that a copy still in
// flight at Graph is applied before a later request once the client has
// given up. Client.UpdateRecordingStatus spells out the consequences.
//
// Requests for one call go one at a time and in order. Redirects are never
// followed, and a Location is fetched (Client.Operation) only when it is on
// the configured host and names an operation of the same call; what it
// fetches must belong to the request (its clientContext, or its id when
// the body has no clientContext), or it is [ErrBadReply]. The token goes
// nowhere else. Tokens never appear in errors, logs or String.
//
// Token sources: StaticToken for tests; graph/azuretoken adapts any
// azcore.TokenCredential (azidentity) without this package importing Azure
// modules. graph/graphtest is a fake Graph for tests.
//
// This package knows nothing of the compliance machine in package fsm; fsm
// depends on it, never the other way round.
package graph
