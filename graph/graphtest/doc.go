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
//   - a bearer token is present (401), and equals WithToken's if given;
//   - Content-Type is application/json (415); gzip request bodies are
//     accepted, as the official SDKs send them;
//   - the body is JSON with a known status and a clientContext of at most
//     256 characters (400, with Graph's error envelope);
//   - the call is known (AddCall, or WithAnyCall) and not terminated (404);
//   - the call is a compliance-recording call (NonCompliance gives 403 with
//     code 8506).
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
// operation statuses; a Location that is missing, relative, http, on a
// foreign host or naming another call; a redirect to a foreign host that
// records whether the token came along; and the call ending part-way.
// Faults are plain values with JSON tags, so a script can come from a file.
//
// Requests returns the log: method, path, decoded body, headers with the
// token redacted, time, the reply's status and the fault played. Tests use
// it to check order, e.g. that recording had its completed reply before the
// first write and notRecording was sent after the last.
package graphtest
