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
// (call ID, status, clientContext), posts with a bearer token from a
// TokenSource, and reads the reply (capped at 1 MiB) into an Operation
// carrying Location, request-id and client-request-id. It retries 429, 503,
// 504 and transport failures before any reply, honouring Retry-After (in
// seconds or as a date, capped) or backing off exponentially with jitter,
// within the context's deadline; every other error, code 8506 above all, is
// returned at once. Requests for one call go one at a time and in order.
// Redirects are never followed, and a Location is fetched (Client.Operation)
// only when it is on the configured host and names the same call: the
// token goes nowhere else. Tokens never appear in errors, logs or String.
//
// Token sources: StaticToken for tests; graph/azuretoken adapts any
// azcore.TokenCredential (azidentity) without this package importing Azure
// modules. graph/graphtest is a fake Graph for tests.
//
// This package knows nothing of the compliance machine in package fsm; fsm
// depends on it, never the other way round.
package graph
