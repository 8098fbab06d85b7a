package graphtest

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/recgate/recgate/graph"
)

// Server is a fake Microsoft Graph serving updateRecordingStatus and its
// operations, over TLS on loopback, in the style of net/http/httptest.
type Server struct {
	// URL is the server's root, e.g. https://127.0.0.1:40123. Graph paths
	// live under /v1.0 and /beta: use BaseURL for a client's base URL.
	URL string

	srv     *httptest.Server
	foreign *httptest.Server
	closing chan struct{}
	once    sync.Once

	listener net.Listener
	plain    bool

	mu      sync.Mutex
	calls   map[string]*Call
	log     []Request
	hits    []RedirectHit
	token   string
	pascal  bool
	anyCall bool

	// The calling service's side: keys, token claims, callbacks and the
	// notifications sent.
	keys           keyring
	issuer         string
	tenant         string
	callback       *callbackTarget
	callbackClient *http.Client
	deliveries     []Delivery
	delivered      chan struct{} // closed and replaced on each delivery
	lastGenuine    map[string]genuineDelivery
	requestHook    func(Request)
	deliveryHook   func(Delivery)

	// followUps are scripted notifications in flight; Close cancels and
	// waits for them.
	closed        bool // under mu: no more follow-ups start
	followUps     sync.WaitGroup
	followUpCtx   context.Context
	stopFollowUps context.CancelFunc
}

// Option configures a Server.
type Option func(*Server)

// WithToken makes the fake accept only this bearer token (401 otherwise).
// Without it any non-empty bearer token is accepted.
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithPascalCase spells enum values as some real services do: Completed,
// NotStarted, Running, Failed.
func WithPascalCase() Option { return func(s *Server) { s.pascal = true } }

// WithAnyCall makes every call ID known (as if AddCall had been called on
// first use). Without it an unknown call gets 404, as on Graph.
func WithAnyCall() Option { return func(s *Server) { s.anyCall = true } }

// WithListener serves on l (e.g. a fixed port for a standalone server)
// instead of a fresh loopback port.
func WithListener(l net.Listener) Option { return func(s *Server) { s.listener = l } }

// WithPlainHTTP serves plain HTTP instead of TLS, for curl and other
// clients without the fake's certificate. graph.Client accepts plain http
// only on loopback.
func WithPlainHTTP() Option { return func(s *Server) { s.plain = true } }

// NewServer starts a fake Graph. Close it when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		calls:       make(map[string]*Call),
		closing:     make(chan struct{}),
		issuer:      DefaultIssuer,
		tenant:      DefaultTenant,
		delivered:   make(chan struct{}),
		lastGenuine: make(map[string]genuineDelivery),
	}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	if s.callbackClient == nil {
		s.callbackClient = &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	s.followUpCtx, s.stopFollowUps = context.WithCancel(context.Background())
	s.foreign = httptest.NewServer(http.HandlerFunc(s.serveForeign))
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.EnableHTTP2 = false
	if s.listener != nil {
		s.srv.Listener.Close()
		s.srv.Listener = s.listener
	}
	if s.plain {
		s.srv.Start()
	} else {
		s.srv.StartTLS()
	}
	s.URL = s.srv.URL
	return s
}

// BaseURL is the base URL a graph.Client needs: URL + "/v1.0".
func (s *Server) BaseURL() string { return s.URL + "/v1.0" }

// Client returns an *http.Client that trusts the fake's certificate.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close shuts the server down; requests hanging on a hang fault end, and
// scripted notifications not yet sent are dropped.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closing) })
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stopFollowUps()
	s.followUps.Wait()
	s.srv.CloseClientConnections()
	s.srv.Close()
	s.foreign.Close()
}

// AddCall makes a call known to the fake and returns it for scripting.
// Adding a known call again returns the same Call.
func (s *Server) AddCall(id string) *Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callLocked(id)
}

func (s *Server) callLocked(id string) *Call {
	c := s.calls[id]
	if c == nil {
		c = &Call{s: s, id: id, nth: make(map[int]Fault), ops: make(map[string]*graph.Operation)}
		s.calls[id] = c
	}
	return c
}

// RedirectHits lists the requests that followed a redirect fault to the
// foreign host, and whether each carried an Authorization header.
func (s *Server) RedirectHits() []RedirectHit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RedirectHit(nil), s.hits...)
}

// RedirectHit is one request that reached the foreign host.
type RedirectHit struct {
	Time              time.Time // when it arrived
	AuthorizationSent bool      // whether it carried the bot's Authorization header (it must not)
}

func (s *Server) serveForeign(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits = append(s.hits, RedirectHit{Time: time.Now(), AuthorizationSent: r.Header.Get("Authorization") != ""})
	s.mu.Unlock()
	writeError(w, r, http.StatusForbidden, "Forbidden", "this is not Graph")
}

// spawn runs a scripted notification on its own goroutine, unless the
// server is closing.
func (s *Server) spawn(f func(context.Context)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.followUps.Add(1)
	go func() {
		defer s.followUps.Done()
		f(s.followUpCtx)
	}()
}
