package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/callback"
	"github.com/recgate/recgate/graph/graphtest"
	"github.com/recgate/recgate/otelrecgate"
)

const (
	appID = "f1ee7000-0000-4000-8000-00000000a11d"
	token = "fleet-token"
	// maxConns bounds the loopback connections of each direction (client
	// to the fake, fake to the callback): requests beyond it queue. A
	// smaller fleet uses one per call.
	maxConns = 128
)

// rig is the one wiring every call shares: the fake Graph, the client, the
// callback server with its Validator and Handler, the registry, and the
// metrics adapter.
type rig struct {
	epoch    time.Time
	fake     *graphtest.Server
	client   *graph.Client
	registry *fsm.Registry
	metrics  *otelrecgate.Metrics
	reader   *sdkmetric.ManualReader
	provider *sdkmetric.MeterProvider
	cbServer *http.Server
	cbServed chan error
	cbURL    string
	probeURL string // updateRecordingStatus of probeCallID: the bare round trips' target
	conns    int    // the size of each connection pool

	// The connection pools of both directions, warmed up before the calls
	// start, as a running bot's are.
	graphPool, callbackClient *http.Client

	// journal keeps every machine's audit trail (nil: no journal); trails
	// are the files it created, closed by close.
	journal  *fsm.Journal
	trailsMu sync.Mutex
	trails   []*os.File

	// calls maps call ID to its call; filled before any machine exists,
	// read-only afterwards (the machines' observers read it).
	calls map[string]*call
}

// now is the time since the rig's epoch, in nanoseconds: the clock every
// timestamp of the run is taken on (monotonic).
func (r *rig) now() int64 { return int64(time.Since(r.epoch)) }

// at converts a time from the fake's logs to the same clock.
func (r *rig) at(t time.Time) int64 { return int64(t.Sub(r.epoch)) }

func newRig(ctx context.Context, calls int, requestMetrics bool, journalDir string) (*rig, error) {
	r := &rig{epoch: time.Now(), calls: make(map[string]*call), cbServed: make(chan error, 1), conns: min(maxConns, max(calls, 4))}
	r.reader = sdkmetric.NewManualReader()
	r.provider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	var err error
	if r.metrics, err = otelrecgate.New(r.provider.Meter("github.com/recgate/recgate/examples/fleet")); err != nil {
		return nil, err
	}

	// The fake POSTs notifications over a pool of loopback connections,
	// and records when the callback answered each termination.
	callbackClient := &http.Client{
		Timeout:       2 * time.Minute, // includes the wait for a pooled connection, long in an overloaded run
		Transport:     &http.Transport{MaxIdleConnsPerHost: r.conns, MaxConnsPerHost: r.conns, IdleConnTimeout: 30 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	r.fake = graphtest.NewServer(graphtest.WithToken(token), graphtest.WithCallbackClient(callbackClient),
		graphtest.WithDeliveryHook(r.delivered))
	r.callbackClient = callbackClient

	base, ok := r.fake.Client().Transport.(*http.Transport)
	if !ok {
		r.close()
		return nil, fmt.Errorf("the fake's client has a %T transport, want *http.Transport", r.fake.Client().Transport)
	}
	tr := base.Clone()
	tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost = r.conns, r.conns
	r.graphPool = &http.Client{Transport: tr}
	var clientTransport http.RoundTripper = tr
	obs := func(fsm.Event) {}
	if requestMetrics {
		clientTransport, obs = r.metrics.Transport(tr), r.metrics.Observer()
	}
	r.client, err = graph.NewClient(graph.StaticToken(token), graph.WithBaseURL(r.fake.BaseURL()),
		graph.WithHTTPClient(&http.Client{Transport: clientTransport}),
		graph.WithBackoff(2*time.Millisecond, 20*time.Millisecond))
	if err != nil {
		r.close()
		return nil, err
	}

	if journalDir != "" {
		if r.journal, err = fsm.OpenJournal(journalDir); err != nil {
			r.close()
			return nil, err
		}
	}
	r.registry, err = fsm.NewRegistry(func(callID string) (*fsm.Machine, error) {
		c := r.calls[callID]
		opts, trail, err := r.trailFor(callID)
		if err != nil {
			return nil, err
		}
		if c != nil {
			c.trail = trail
		}
		return fsm.New(callID, r.client, append(opts, fsm.WithObserver(func(e fsm.Event) {
			obs(e)
			if c == nil {
				return
			}
			switch {
			case e.Kind == fsm.EventRequest:
				c.requestAt.CompareAndSwap(0, r.at(e.Time))
			case e.Kind == fsm.EventReply:
				c.replyAt.CompareAndSwap(0, r.at(e.Time))
			case e.Kind == fsm.EventGate && e.Open:
				c.openedAt.CompareAndSwap(0, r.at(e.Time))
			}
		}))...)
	}, fsm.WithIgnoredHook(r.metrics.IgnoredHook()))
	if err != nil {
		r.close()
		return nil, err
	}
	if err := r.serveCallback(); err != nil {
		r.close()
		return nil, err
	}
	if err := r.warmUp(ctx); err != nil {
		r.close()
		return nil, fmt.Errorf("warming up (one call through the whole wiring): %w", err)
	}
	r.fake.AddCall(probeCallID)
	r.probeURL = r.fake.BaseURL() + "/communications/calls/" + probeCallID + "/updateRecordingStatus"
	return r, nil
}

// serveCallback serves graph/callback's Handler on loopback, its Validator
// trusting the fake's OpenID configuration, and tells the fake to POST
// there.
func (r *rig) serveCallback() error {
	v, err := callback.NewValidator(appID, callback.WithOpenIDConfigURL(r.fake.OpenIDConfigURL()), callback.WithHTTPClient(r.fake.Client()))
	if err != nil {
		return err
	}
	h, err := callback.NewHandler(r.registry, v, callback.WithRejectHook(r.metrics.RejectHook()),
		callback.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /api/calling", h)
	r.cbServer = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { r.cbServed <- r.cbServer.Serve(ln) }()
	r.cbURL = "http://" + ln.Addr().String()
	return r.fake.SetCallback(r.cbURL+"/api/calling", appID)
}

// warmUp plays one call through everything (TLS connections, the
// Validator's key fetch), so that one-time costs are not counted per call.
func (r *rig) warmUp(ctx context.Context) error {
	const id = "00000000-0000-4000-8000-0000000000aa"
	fc := r.fake.AddCall(id)
	m, err := r.registry.Create(id)
	if err != nil {
		return err
	}
	if _, err := m.Start(ctx); err != nil {
		return err
	}
	if err := m.Stop(ctx); err != nil {
		return err
	}
	d, err := fc.End(ctx, nil)
	if err != nil {
		return err
	}
	if d.StatusCode != http.StatusAccepted || m.State() != fsm.Ended {
		return fmt.Errorf("the signed termination: callback answered %d, machine %s; want 202 and Ended", d.StatusCode, m.State())
	}
	// Open every connection of both pools at once (GETs that no handler of
	// recgate's sees: the fake's OpenID configuration, and a path the
	// callback server does not route), so that no TLS handshake or
	// connection buffer is counted against the calls.
	if err := warmPool(ctx, r.graphPool, r.fake.OpenIDConfigURL(), r.conns); err != nil {
		return err
	}
	return warmPool(ctx, r.callbackClient, r.cbURL+"/warm-up", r.conns)
}

// warmPool holds n GETs to url open at once, so the client's pool ends up
// with n idle connections.
func warmPool(ctx context.Context, hc *http.Client, url string, n int) error {
	var opened, wg sync.WaitGroup
	opened.Add(n)
	wg.Add(n)
	errs := make([]error, n)
	for i := range n {
		go func() {
			defer wg.Done()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				errs[i] = err
				opened.Done()
				return
			}
			resp, err := hc.Do(req)
			opened.Done()
			if err != nil {
				errs[i] = err
				return
			}
			opened.Wait() // every connection busy at once
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// delivered notes when the callback answered a call's genuine termination.
func (r *rig) delivered(d graphtest.Delivery) {
	if d.Status != graphtest.NotifyTerminated || d.Forgery != graphtest.NotForged || d.Err != nil || d.StatusCode != http.StatusAccepted {
		return
	}
	if c := r.calls[d.CallID]; c != nil {
		c.endAnswered.CompareAndSwap(0, r.now())
	}
}

// trailFor gives a new machine its journal trail, if the rig keeps one.
func (r *rig) trailFor(callID string) ([]fsm.Option, *os.File, error) {
	if r.journal == nil {
		return nil, nil, nil
	}
	f, err := r.journal.Create(callID)
	if err != nil {
		return nil, nil, err
	}
	r.trailsMu.Lock()
	r.trails = append(r.trails, f)
	r.trailsMu.Unlock()
	return []fsm.Option{fsm.WithAuditTrail(f)}, f, nil
}

// closeTrails closes the journal's trail files a call has not closed
// already (see closeTrail); every machine must have ended.
func (r *rig) closeTrails() error {
	r.trailsMu.Lock()
	defer r.trailsMu.Unlock()
	var errs []error
	for _, f := range r.trails {
		if err := f.Close(); !errors.Is(err, os.ErrClosed) {
			errs = append(errs, err)
		}
	}
	r.trails = nil
	return errors.Join(errs...)
}

func (r *rig) close() {
	_ = r.closeTrails()
	if r.journal != nil {
		_ = r.journal.Close() // idempotent: the run's end closes it already
	}
	if r.cbServer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = r.cbServer.Shutdown(ctx)
		cancel()
		if err := <-r.cbServed; err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Println("fleet: the callback server stopped:", err)
		}
	}
	if r.fake != nil {
		r.fake.Close()
	}
	if r.provider != nil {
		_ = r.provider.Shutdown(context.Background())
	}
}

// clock wakes the writers every tick (one broadcast, not a timer per
// writer) and says how many frames are due since a writer began.
type clock struct {
	start time.Time
	perNS float64 // frames per wall nanosecond
	// burst is the most frames a writer writes at one wake-up: two ticks'
	// worth. A writer that fell further behind (a loaded machine did not
	// run it) drops the late frames, as a media bot does, instead of
	// writing a backlog that grows with the delay and delays it further.
	burst      int64
	mu         sync.Mutex
	ch         chan struct{}
	stop, done chan struct{}
}

func newClock(fps int, speedup float64, tick time.Duration) *clock {
	k := &clock{start: time.Now(), perNS: float64(fps) * speedup / 1e9, ch: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	k.burst = max(1, int64(2*float64(tick)*k.perNS))
	go func() {
		defer close(k.done)
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				k.mu.Lock()
				close(k.ch)
				k.ch = make(chan struct{})
				k.mu.Unlock()
			case <-k.stop:
				return
			}
		}
	}()
	return k
}

// frames is the number of frames of media time since the clock started.
func (k *clock) frames() int64 { return int64(float64(time.Since(k.start)) * k.perNS) }

// next returns a channel closed at the next tick.
func (k *clock) next() <-chan struct{} {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.ch
}

func (k *clock) close() {
	close(k.stop)
	<-k.done
}

// barePost is one updateRecordingStatus round trip in plain net/http: the
// request graph.Client sends, the reply read whole. It is the baseline of
// start-to-confirmed.
func barePost(hc *http.Client, url string, i int) error {
	body := fmt.Sprintf(`{"clientContext":"bare-%d","status":"recording"}`, i)
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return err
}

// probeCallID is the call the bare round trips go to; the checks ignore
// it.
const probeCallID = "00000000-0000-4000-8000-0000000000bb"

// timeBare times one bare round trip beside call c's Start: on c's own
// goroutine, over the same pool, at the same moment of the run, so that
// each Start has a twin that met the same load. It records 0 if the POST
// failed.
func (r *rig) timeBare(c *call) {
	t := r.now()
	if err := barePost(r.graphPool, r.probeURL, c.idx); err == nil {
		c.bare = r.now() - t
	}
}
