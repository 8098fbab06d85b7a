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
// Where the SDK itself falls short, the tests pin its behaviour, so that a
// new SDK version that changes it fails here and these notes get updated:
//
//   - kiota-http-go orders its default middleware by ranging over a map, so
//     each client gets a random order; when retry runs outside compression
//     (about 3 clients in 4), a retried POST goes out labelled gzip with the
//     body un-gzipped, and the server answers 400. The tests build their
//     clients with compression outside retry; TestRetryOutsideCompression
//     shows the other order failing.
//   - A Retry-After is slept in full however long it is (the SDK's 180 s cap
//     applies to the earlier waits); only the caller's context ends it.
//   - A 307 of a POST is followed (without the token, to another host) with
//     the body already spent, which net/http refuses: a transport error.
//   - An error with a body the SDK has no parser for (a gateway's HTML 502)
//     is a plain error without its status code; an empty 200 is a nil
//     operation and a nil error; a reply's size is not limited.
//   - NewGraphServiceClient writes a package-level variable that requests
//     read, so the tests make their clients one at a time, never while
//     another client's request is running (go test -race finds the race).
package msgraphsdk
