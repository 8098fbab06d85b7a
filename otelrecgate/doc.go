// Package otelrecgate exports what recgate does as OpenTelemetry metrics:
// the transitions of the compliance machines, the updateRecordingStatus
// requests and what came of them, HTTP attempts and retries on the wire,
// how long persist gates stay open, the frames persisted and refused, and
// the notifications the callback refused or the registry ignored.
//
// It lives in a package of its own so that recgate's core (fsm, graph,
// graph/callback) keeps its short dependency list: only a bot that imports
// otelrecgate pulls in go.opentelemetry.io/otel. Nothing in the core
// imports it; it plugs into the hooks the core already offers.
//
// # Wiring
//
// Build one Metrics per process from a meter, and give its hooks to the
// parts of the bot:
//
//	m, err := otelrecgate.New(provider.Meter("github.com/recgate/recgate"))
//	client, err := graph.NewClient(tokens, graph.WithHTTPClient(&http.Client{Transport: m.Transport(nil)}))
//	registry, err := fsm.NewRegistry(func(callID string) (*fsm.Machine, error) {
//		return fsm.New(callID, client, fsm.WithObserver(m.Observer()), fsm.WithRecordingEndedHook(closeFiles))
//	}, fsm.WithIgnoredHook(m.IgnoredHook()))
//	handler, err := callback.NewHandler(registry, validator, callback.WithRejectHook(m.RejectHook()))
//
// and count frames where the bot writes them:
//
//	lease, err := stream.Acquire()
//	if err != nil {
//		m.FrameRefused(ctx, err) // gate_closed: Graph has not confirmed; the frame is dropped
//		continue
//	}
//	sink.Write(frame)
//	lease.Release()
//	m.FramePersisted(ctx)
//
// # The instruments
//
//	recgate.transitions              counter    recgate.from, recgate.to, recgate.trigger
//	recgate.graph.requests           counter    recgate.status, recgate.outcome
//	recgate.graph.request.duration   histogram  seconds, request to reply (retries included); same attributes
//	recgate.graph.updates            counter    recgate.via, recgate.outcome (later operation updates)
//	recgate.graph.http.attempts      counter    http.response.status_code, or error.type=transport
//	recgate.graph.http.duration      histogram  seconds, one attempt; same attributes
//	recgate.graph.http.retries       counter    what the repeated attempt got (429, 503, 504, transport)
//	recgate.gate.opens               counter    recgate.via (reply, notification, poll, caller)
//	recgate.gate.open                up-down    gates open now: calls whose media may be persisted
//	recgate.gate.open.duration       histogram  seconds from Graph's confirmation to Stop, Fail or the end
//	recgate.frames.persisted         counter
//	recgate.frames.refused           counter    recgate.reason: gate_closed, stream_closed, stream_busy, other
//	recgate.notifications.rejected   counter    recgate.reason: callback.RejectReason
//	recgate.notifications.ignored    counter    recgate.reason: fsm.IgnoreReason
//
// Requests count once however many attempts the client made;
// recgate.graph.http.attempts counts every attempt, and retries the
// attempts that repeat one (graph.Client does not report its retries; the
// Transport recognises them by their client-request-id, see Transport).
// The outcomes are the Outcome constants: completed, pending, failed,
// non_compliant (8506, a policy refusal), throttled (still 429/503/504
// after the retries), http_error, timeout, cancelled, superseded, error;
// and for updates also stale.
//
// What to alert on: any non_compliant (the call is not under a compliance
// recording policy, so the bot must not record it); throttled and timeout
// rising; recgate.gate.open above the number of calls the bot thinks it
// records; frames refused with gate_closed while recgate.gate.open says
// the call records (impossible by construction: it would mean a bot
// writing outside its lease); notification rejections by bad_signature.
//
// # Cost
//
// Every attribute set is built once, in New, so the hooks on the hot
// paths (FramePersisted, FrameRefused, the observer's transition counts,
// the reject hook) allocate nothing; a frame costs one counter Add. The
// observer keeps a small entry per call (the time of its request in
// flight and of its gate's opening) from the call's first request until
// its machine ends.
package otelrecgate
