package otelrecgate

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph/callback"
)

// The names of the instruments, as an exporter shows them.
const (
	MetricTransitions        = "recgate.transitions"            // counter: machine transitions, by from, to and trigger
	MetricGraphRequests      = "recgate.graph.requests"         // counter: updateRecordingStatus requests a machine made, by status and outcome
	MetricGraphDuration      = "recgate.graph.request.duration" // histogram (s): from the request to its reply, retries included
	MetricGraphUpdates       = "recgate.graph.updates"          // counter: later operation updates, by via and outcome
	MetricHTTPAttempts       = "recgate.graph.http.attempts"    // counter: HTTP attempts on the wire (Transport), by status code
	MetricHTTPDuration       = "recgate.graph.http.duration"    // histogram (s): one HTTP attempt (Transport)
	MetricHTTPRetries        = "recgate.graph.http.retries"     // counter: attempts that repeat an earlier one (Transport), by the status that caused them
	MetricGateOpens          = "recgate.gate.opens"             // counter: the gate opened, by via (reply, notification, poll, caller)
	MetricGateOpen           = "recgate.gate.open"              // up-down counter: gates open now (calls persisting media)
	MetricGateOpenDuration   = "recgate.gate.open.duration"     // histogram (s): from the gate opening to its closing
	MetricFramesPersisted    = "recgate.frames.persisted"       // counter: frames written under a lease
	MetricFramesRefused      = "recgate.frames.refused"         // counter: frames refused by the gate, by reason
	MetricNotificationReject = "recgate.notifications.rejected" // counter: callback requests refused, by reason
	MetricNotificationIgnore = "recgate.notifications.ignored"  // counter: authenticated notifications the registry ignored, by reason
)

// The attribute keys.
const (
	AttrFrom       = attribute.Key("recgate.from")              // a transition's source state (fsm.State.String)
	AttrTo         = attribute.Key("recgate.to")                // its destination state
	AttrTrigger    = attribute.Key("recgate.trigger")           // its trigger (fsm.Trigger.String)
	AttrStatus     = attribute.Key("recgate.status")            // the status a request reported: recording, notRecording, failed
	AttrOutcome    = attribute.Key("recgate.outcome")           // what came of a request or update (see the Outcome constants)
	AttrVia        = attribute.Key("recgate.via")               // how an outcome arrived (fsm.Via)
	AttrReason     = attribute.Key("recgate.reason")            // why something was refused or ignored
	AttrHTTPStatus = attribute.Key("http.response.status_code") // an HTTP attempt's status code (OpenTelemetry semantic conventions)
	AttrErrorType  = attribute.Key("error.type")                // an HTTP attempt that got no reply: "transport"
)

// Metrics records what recgate does as OpenTelemetry metrics. Build it
// with New from a meter, then hand its hooks to the parts of the bot:
//
//	fsm.WithObserver(m.Observer())          // transitions, requests, gate open time
//	fsm.WithIgnoredHook(m.IgnoredHook())    // notifications the registry ignored
//	callback.WithRejectHook(m.RejectHook()) // notifications the callback refused
//	&http.Client{Transport: m.Transport(t)} // HTTP attempts and retries
//	m.FramePersisted(ctx) / m.FrameRefused(ctx, err)
//
// Its methods are safe for concurrent use. Attribute sets are built once,
// in New, so counting a frame, a transition or a rejection allocates
// nothing.
type Metrics struct {
	transitions  metric.Int64Counter
	requests     metric.Int64Counter
	requestDur   metric.Float64Histogram
	updates      metric.Int64Counter
	attempts     metric.Int64Counter
	attemptDur   metric.Float64Histogram
	retries      metric.Int64Counter
	gateOpens    metric.Int64Counter
	gateOpenNow  metric.Int64UpDownCounter
	gateOpenDur  metric.Float64Histogram
	persisted    metric.Int64Counter
	refused      metric.Int64Counter
	rejected     metric.Int64Counter
	ignored      metric.Int64Counter
	noAttrs      []metric.AddOption
	transitionBy [][][]metric.AddOption // [from][to][trigger]
	requestBy    map[requestKey]measureOptions
	updateBy     map[updateKey][]metric.AddOption
	viaBy        map[fsm.Via][]metric.AddOption
	refusedBy    map[RefusalReason][]metric.AddOption
	rejectBy     map[callback.RejectReason][]metric.AddOption
	ignoreBy     map[fsm.IgnoreReason][]metric.AddOption
	statusBy     map[int]measureOptions
	transportErr measureOptions

	calls callTimes
	wire  retryTracker
}

// measureOptions is one attribute set, ready for a counter and for a
// histogram.
type measureOptions struct {
	add    []metric.AddOption
	record []metric.RecordOption
}

func optionsFor(kvs ...attribute.KeyValue) measureOptions {
	o := metric.WithAttributeSet(attribute.NewSet(kvs...))
	return measureOptions{add: []metric.AddOption{o}, record: []metric.RecordOption{o}}
}

func addOptions(kvs ...attribute.KeyValue) []metric.AddOption {
	return []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(kvs...))}
}

// Bucket boundaries, in seconds.
var (
	// requestBuckets cover a Graph round trip: milliseconds to the
	// client's attempt timeout and beyond (retries).
	requestBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}
	// gateBuckets cover a recording: a second to a long meeting.
	gateBuckets = []float64{0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 28800}
)

// New creates the instruments on meter (from a MeterProvider, e.g.
// provider.Meter("github.com/recgate/recgate")). It fails if meter is nil
// or refuses an instrument.
func New(meter metric.Meter) (*Metrics, error) {
	if meter == nil {
		return nil, errors.New("otelrecgate.New: nil meter: pass provider.Meter(\"github.com/recgate/recgate\"), or a noop meter to record nothing")
	}
	m := &Metrics{}
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	histogram := func(name, desc string, buckets []float64) metric.Float64Histogram {
		h, err := meter.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc), metric.WithExplicitBucketBoundaries(buckets...))
		errs = append(errs, err)
		return h
	}
	m.transitions = counter(MetricTransitions, "{transition}", "Transitions of recgate's compliance machines, by source state, destination state and trigger.")
	m.requests = counter(MetricGraphRequests, "{request}", "updateRecordingStatus requests the machines made (retries of one request count once), by reported status and outcome.")
	m.requestDur = histogram(MetricGraphDuration, "Time from an updateRecordingStatus request to its reply, retries included.", requestBuckets)
	m.updates = counter(MetricGraphUpdates, "{update}", "Later updates of a pending recording operation, by how they came and what came of them.")
	m.attempts = counter(MetricHTTPAttempts, "{attempt}", "HTTP attempts to Graph on the wire, by response status code (error.type transport when no reply came).")
	m.attemptDur = histogram(MetricHTTPDuration, "Duration of one HTTP attempt to Graph.", requestBuckets)
	m.retries = counter(MetricHTTPRetries, "{attempt}", "HTTP attempts that repeat an earlier attempt of the same request (same client-request-id), by what the earlier one got.")
	m.gateOpens = counter(MetricGateOpens, "{open}", "Times a persist gate opened (Graph confirmed recording), by how the confirmation came.")
	g, err := meter.Int64UpDownCounter(MetricGateOpen, metric.WithUnit("{gate}"), metric.WithDescription("Persist gates open now: calls whose media may be persisted."))
	errs = append(errs, err)
	m.gateOpenNow = g
	m.gateOpenDur = histogram(MetricGateOpenDuration, "Time a persist gate stayed open, from Graph's confirmation to Stop, Fail or the call's end.", gateBuckets)
	m.persisted = counter(MetricFramesPersisted, "{frame}", "Media frames persisted under a lease of the persist gate.")
	m.refused = counter(MetricFramesRefused, "{frame}", "Media frames the persist gate refused, by reason.")
	m.rejected = counter(MetricNotificationReject, "{request}", "Requests to the callback URL refused (not 2xx), by reason.")
	m.ignored = counter(MetricNotificationIgnore, "{notification}", "Authenticated notifications the registry did not act on, by reason.")
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("otelrecgate.New: creating the instruments: %w", err)
	}
	m.precompute()
	m.calls.init()
	m.wire.init()
	return m, nil
}

// precompute builds every attribute set the hot paths use.
func (m *Metrics) precompute() {
	m.noAttrs = []metric.AddOption{}
	states, triggers := fsm.States(), fsm.Triggers()
	m.transitionBy = make([][][]metric.AddOption, len(states))
	for _, from := range states {
		m.transitionBy[from] = make([][]metric.AddOption, len(states))
		for _, to := range states {
			m.transitionBy[from][to] = make([]metric.AddOption, len(triggers))
			for _, t := range triggers {
				m.transitionBy[from][to][t] = metric.WithAttributeSet(attribute.NewSet(
					AttrFrom.String(from.String()), AttrTo.String(to.String()), AttrTrigger.String(t.String())))
			}
		}
	}
	m.requestBy = make(map[requestKey]measureOptions)
	for _, s := range requestStatuses {
		for _, o := range requestOutcomes {
			m.requestBy[requestKey{s, o}] = optionsFor(AttrStatus.String(string(s)), AttrOutcome.String(string(o)))
		}
	}
	m.updateBy = make(map[updateKey][]metric.AddOption)
	m.viaBy = make(map[fsm.Via][]metric.AddOption)
	for _, v := range vias {
		m.viaBy[v] = addOptions(AttrVia.String(string(v)))
		for _, o := range updateOutcomes {
			m.updateBy[updateKey{v, o}] = addOptions(AttrVia.String(string(v)), AttrOutcome.String(string(o)))
		}
	}
	m.refusedBy = make(map[RefusalReason][]metric.AddOption)
	for _, r := range refusalReasons {
		m.refusedBy[r] = addOptions(AttrReason.String(string(r)))
	}
	m.rejectBy = make(map[callback.RejectReason][]metric.AddOption)
	for _, r := range rejectReasons {
		m.rejectBy[r] = addOptions(AttrReason.String(string(r)))
	}
	m.ignoreBy = make(map[fsm.IgnoreReason][]metric.AddOption)
	for _, r := range ignoreReasons {
		m.ignoreBy[r] = addOptions(AttrReason.String(string(r)))
	}
	m.statusBy = make(map[int]measureOptions)
	for _, code := range commonStatusCodes {
		m.statusBy[code] = optionsFor(AttrHTTPStatus.Int(code))
	}
	m.transportErr = optionsFor(AttrErrorType.String("transport"))
}

// ctxOrBackground keeps a nil context from reaching the SDK.
func ctxOrBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// callTimes keeps, per call, when its pending request was sent and when
// its gate opened, to measure durations. An entry lives from a call's
// first request until it ends. The calls are spread over shards, each
// with its own lock, so that a thousand calls' events do not queue on one
// mutex (an EventRequest is handled inside the request's timing).
type callTimes struct {
	seed   maphash.Seed
	shards [callTimeShards]callShard
}

// callTimeShards is how many locks callTimes spreads its calls over.
const callTimeShards = 32

// callShard is one shard of callTimes.
type callShard struct {
	mu    sync.Mutex
	calls map[string]*callTime
}

func (c *callTimes) init() {
	c.seed = maphash.MakeSeed()
	for i := range c.shards {
		c.shards[i].calls = make(map[string]*callTime)
	}
}

// shard returns the shard that holds callID.
func (c *callTimes) shard(callID string) *callShard {
	return &c.shards[maphash.String(c.seed, callID)%callTimeShards]
}

func (c *callTimes) requested(callID string, at time.Time) { c.shard(callID).requested(callID, at) }
func (c *callTimes) replied(callID string) time.Time       { return c.shard(callID).replied(callID) }
func (c *callTimes) opened(callID string, at time.Time) bool {
	return c.shard(callID).opened(callID, at)
}
func (c *callTimes) closed(callID string) time.Time { return c.shard(callID).closed(callID) }
func (c *callTimes) forget(callID string, m *Metrics, at time.Time) {
	c.shard(callID).forget(callID, m, at)
}
