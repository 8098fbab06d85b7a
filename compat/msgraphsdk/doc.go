// Package msgraphsdk proves that the official Microsoft Graph Go SDK
// (github.com/microsoftgraph/msgraph-sdk-go, pinned in this module's
// go.mod) works against recgate's fake Graph, graph/graphtest, the way it
// works against Microsoft Graph: outside testers drive the fake with the
// SDK, so every answer the fake gives must be one the SDK reads as it reads
// Graph's.
//
// It has no code of its own, only tests. Run them with
//
//	cd compat/msgraphsdk && go test ./...
//
// This is a module of its own (replace github.com/recgate/recgate => ../..)
// so that the SDK, which takes minutes and gigabytes to compile, never
// enters the main module: the repository's go test ./... and go vet ./...
// do not build it. The first build takes a few minutes; later runs take
// seconds.
//
// The tests build a GraphServiceClient as an application does, with the
// SDK's default middleware (retry, redirect, compression, telemetry, ...),
// over the fake's TLS-trusting transport, with the fake's BaseURL and a
// static bearer token through kiota's BaseBearerTokenAuthenticationProvider,
// and call
//
//	Communications().Calls().ByCallId(id).UpdateRecordingStatus().Post
//	Communications().Calls().ByCallId(id).Operations().ByCommsOperationId(op).Get
//
// against every answer the fake can script. What they establish:
//
//   - A completed reply comes back as an UpdateRecordingStatusOperation with
//     its id, clientContext and @odata.type; the body the SDK sent (gzip,
//     camelCase clientContext and status, the enum as Graph spells it)
//     is what the fake logged.
//   - The SDK's operationStatus enum is PascalCase (NotStarted, Running,
//     Completed, Failed, as in Graph's metadata), and it reads any other
//     spelling, including the API page's "completed", as no status at all,
//     without an error. Against a fake made with graphtest.WithPascalCase
//     it reads every status; against the default fake GetStatus is nil.
//   - Every error the fake sends (401, 403, 8506, 404, 429, 500, 503, 504)
//     comes back as an *odataerrors.ODataError with the HTTP status, the
//     error code and message, and innerError's request-id, client-request-id
//     and date. 429, 503 and 504 are retried by the SDK's retry handler,
//     which honours Retry-After in seconds and as an HTTP date.
//   - Pending operations, their GET, the signed notifications and the end of
//     a call behave as on Graph; the notification's resourceData parses as
//     the SDK's UpdateRecordingStatusOperation.
//
// Where the SDK itself falls short (a huge Retry-After is slept in full,
// a 502 with an HTML body is an error without its status code, an empty 200
// is a nil operation and no error), the tests pin that behaviour, so a new
// SDK version that changes it fails here and the notes can be updated.
package msgraphsdk
