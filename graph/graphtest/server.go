package graphtest

import (
	"bufio"
	"compress/gzip"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

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
	s := &Server{calls: make(map[string]*Call), closing: make(chan struct{})}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
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

// Close shuts the server down; requests hanging on a hang fault end.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closing) })
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

// Requests returns the request log so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
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
	Time              time.Time
	AuthorizationSent bool
}

// Request is one entry of the request log.
type Request struct {
	Time   time.Time
	Method string
	Path   string
	CallID string
	// Status and ClientContext are the decoded body of an update.
	Status        string
	ClientContext string
	// Header is the request's headers, with Authorization redacted.
	Header http.Header
	// Reply is the HTTP status sent: 0 while the request is still being
	// served, or if the connection was dropped without a reply.
	Reply int
	// Fault names the fault played, if any.
	Fault FaultKind
	// OperationStatus is the status of the operation returned, if any.
	OperationStatus string
}

// Call is one call known to the fake, with its script.
type Call struct {
	s             *Server
	id            string
	script        []Fault
	nth           map[int]Fault
	requests      int
	terminated    bool
	nonCompliance bool
	ops           map[string]*graph.Operation
	status        string
}

// Then queues faults for this call's next requests, one per request; once
// the queue is empty the fake answers normally.
func (c *Call) Then(faults ...Fault) *Call {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.script = append(c.script, faults...)
	return c
}

// OnRequest plays f on this call's nth update request (1-based), ahead of
// anything Then queued.
func (c *Call) OnRequest(n int, f Fault) *Call {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.nth[n] = f
	return c
}

// NonCompliance makes every update of this call fail as a call that is
// not a compliance-recording call does: 403 with code 8506.
func (c *Call) NonCompliance() *Call {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.nonCompliance = true
	return c
}

// ReplyWith sets the operation status normal replies carry (default
// completed), e.g. "running" to make every reply pending.
func (c *Call) ReplyWith(status string) *Call {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.status = status
	return c
}

// Terminate ends the call: 404 from now on.
func (c *Call) Terminate() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.terminated = true
}

// SetOperationStatus changes a stored operation, as Graph does when a
// pending operation completes; a later GET of its Location shows it.
func (c *Call) SetOperationStatus(opID string, status graph.OperationStatus) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	op := c.ops[opID]
	if op == nil {
		return fmt.Errorf("graphtest: call %s has no operation %q", c.id, opID)
	}
	op.Status = status
	return nil
}

// Operations returns the operations the fake created for this call.
func (c *Call) Operations() []graph.Operation {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	out := make([]graph.Operation, 0, len(c.ops))
	for _, op := range c.ops {
		out = append(out, *op)
	}
	return out
}

// recorder remembers the status a handler sent.
type recorder struct {
	http.ResponseWriter
	code int
	// publish copies the request's log entry into the log; it runs before
	// the client can see any outcome (the status line, a hijacked
	// connection's close), so a client that has its answer finds its
	// request in the log.
	publish func(code int)
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
		r.publish(code)
	}
	r.ResponseWriter.WriteHeader(code)
}

// Flush and Hijack reach the real writer, so truncation and resets are
// real on the wire.
func (r *recorder) Flush() {
	if fl, ok := r.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("graphtest: connection cannot be hijacked")
	}
	r.publish(0)
	return hj.Hijack()
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
		r.publish(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	entry := Request{Time: time.Now(), Method: r.Method, Path: r.URL.EscapedPath(), Header: redacted(r.Header)}
	// The entry takes its place in the log on arrival, so the log keeps
	// arrival order; the handler fills it in and publishes it (under the
	// lock) before the client can see the outcome.
	s.mu.Lock()
	slot := len(s.log)
	s.log = append(s.log, entry)
	s.mu.Unlock()
	publish := func(code int) {
		s.mu.Lock()
		e := entry
		e.Reply = code
		s.log[slot] = e
		s.mu.Unlock()
	}
	rec := &recorder{ResponseWriter: w, publish: publish}
	defer func() { publish(rec.code) }()
	s.route(rec, r, &entry)
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, entry *Request) {
	version, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	if !ok || (version != "v1.0" && version != "beta") {
		writeError(w, r, http.StatusNotFound, "BadRequest", "Invalid version: use /v1.0 or /beta")
		return
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 4 || parts[0] != "communications" || parts[1] != "calls" {
		writeError(w, r, http.StatusNotFound, "BadRequest", "Resource not found for the segment")
		return
	}
	entry.CallID = parts[2]
	switch {
	case len(parts) == 4 && parts[3] == "updateRecordingStatus":
		if r.Method != http.MethodPost {
			writeError(w, r, http.StatusMethodNotAllowed, "BadRequest", "updateRecordingStatus takes POST")
			return
		}
		s.update(w, r, version, parts[2], entry)
	case len(parts) == 5 && parts[3] == "operations":
		if r.Method != http.MethodGet {
			writeError(w, r, http.StatusMethodNotAllowed, "BadRequest", "operations take GET")
			return
		}
		s.getOperation(w, r, version, parts[2], parts[4], entry)
	default:
		writeError(w, r, http.StatusNotFound, "BadRequest", "Resource not found for the segment")
	}
}

func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(tok) == "" {
		writeError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return false
	}
	if s.token != "" && tok != s.token {
		writeError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure.")
		return false
	}
	return true
}

type updateBody struct {
	ClientContext *string `json:"clientContext"`
	Status        *string `json:"status"`
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, version, callID string, entry *Request) {
	if !s.authorized(w, r) {
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, r, http.StatusUnsupportedMediaType, "BadRequest", "Content-Type must be application/json")
		return
	}
	body := io.Reader(io.LimitReader(r.Body, 1<<20))
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(body)
		if err != nil {
			writeError(w, r, http.StatusBadRequest, "BadRequest", "Content-Encoding gzip, but the body is not gzip")
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "BadRequest", "Could not read the request body")
		return
	}
	var ub updateBody
	if err := json.Unmarshal(raw, &ub); err != nil {
		writeError(w, r, http.StatusBadRequest, "BadRequest", "Request body is not valid JSON")
		return
	}
	if ub.ClientContext != nil {
		entry.ClientContext = *ub.ClientContext
	}
	if ub.Status != nil {
		entry.Status = *ub.Status
	}
	if ub.Status == nil {
		writeError(w, r, http.StatusBadRequest, "BadRequest", "status is required")
		return
	}
	if _, err := graph.ParseStatus(*ub.Status); err != nil {
		writeError(w, r, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Requested value '%s' was not found.", *ub.Status))
		return
	}
	if ub.ClientContext == nil || *ub.ClientContext == "" {
		writeError(w, r, http.StatusBadRequest, "BadRequest", "clientContext is required")
		return
	}
	if utf8.RuneCountInString(*ub.ClientContext) > graph.MaxClientContextLen {
		writeError(w, r, http.StatusBadRequest, "BadRequest", "clientContext exceeds the maximum length of 256 characters")
		return
	}

	s.mu.Lock()
	c := s.calls[callID]
	if c == nil && s.anyCall {
		c = s.callLocked(callID)
	}
	var fault *Fault
	var nonCompliance, terminated bool
	status := "completed"
	if c != nil {
		c.requests++
		if f, ok := c.nth[c.requests]; ok {
			fault = &f
		} else if len(c.script) > 0 {
			f := c.script[0]
			c.script = c.script[1:]
			fault = &f
		}
		if fault != nil && fault.Kind == KindTerminate {
			c.terminated = true
		}
		nonCompliance, terminated = c.nonCompliance, c.terminated
		if c.status != "" {
			status = c.status
		}
	}
	s.mu.Unlock()

	if c == nil || terminated {
		if fault != nil {
			entry.Fault = fault.Kind
		}
		writeError(w, r, http.StatusNotFound, "8501", "Call "+callID+" not found or already terminated.")
		return
	}
	if nonCompliance {
		writeError(w, r, http.StatusForbidden, graph.CodeNonComplianceCall, "API call not allowed for non-Compliance Recording call")
		return
	}
	if fault != nil {
		entry.Fault = fault.Kind
		if done := s.play(w, r, *fault); done {
			return
		}
		if fault.Kind == KindStatus {
			status = fault.Status
		}
	}
	op := &graph.Operation{ODataType: graph.OperationODataType, ID: uuid.NewString(), ClientContext: *ub.ClientContext}
	if st, err := graph.ParseOperationStatus(status); err == nil && status != "null" {
		op.Status = st
	}
	if fault != nil && fault.ResultInfo != nil {
		ri := *fault.ResultInfo
		op.ResultInfo = &ri
	}
	s.mu.Lock()
	c.ops[op.ID] = op
	s.mu.Unlock()
	entry.OperationStatus = status

	location := s.URL + "/" + version + "/communications/calls/" + callID + "/operations/" + op.ID
	if fault != nil && fault.Kind == KindLocation {
		switch fault.Location {
		case "missing":
			location = ""
		case "relative":
			location = "/" + version + "/communications/calls/" + callID + "/operations/" + op.ID
		case "http":
			location = strings.Replace(location, "https://", "http://", 1)
		case "foreign":
			location = s.foreign.URL + "/" + version + "/communications/calls/" + callID + "/operations/" + op.ID
		case "otherCall":
			location = s.URL + "/" + version + "/communications/calls/another-call/operations/" + op.ID
		}
	}
	if location != "" {
		w.Header().Set("Location", location)
	}
	s.writeOperation(w, r, op, status, fault)
}

// play answers r with fault f, unless f only shapes a normal reply (then
// it returns false and the caller answers).
func (s *Server) play(w http.ResponseWriter, r *http.Request, f Fault) bool {
	switch f.Kind {
	case KindThrottle:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		writeError(w, r, http.StatusTooManyRequests, "TooManyRequests", "Too many requests.")
	case KindUnavailable:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		writeError(w, r, http.StatusServiceUnavailable, "ServiceUnavailable", "Service unavailable.")
	case KindInternal:
		writeError(w, r, http.StatusInternalServerError, "InternalServerError", "Internal server error.")
	case KindBadGatewayHTML:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>")
	case KindGatewayTimeout:
		writeError(w, r, http.StatusGatewayTimeout, "GatewayTimeout", "Gateway timeout.")
	case KindLatency:
		select {
		case <-time.After(time.Duration(f.DelayMS) * time.Millisecond):
		case <-r.Context().Done():
			panic(http.ErrAbortHandler) // the client gave up: no reply at all
		case <-s.closing:
			panic(http.ErrAbortHandler)
		}
		return false
	case KindHang:
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		// Never answer, not even with the empty 200 net/http would write
		// for a handler that returns without writing.
		panic(http.ErrAbortHandler)
	case KindReset:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				// Under TLS, reach the TCP connection so the client sees a
				// reset, not a polite close.
				if tc, ok := conn.(*tls.Conn); ok {
					conn = tc.NetConn()
				}
				if tcp, ok := conn.(*net.TCPConn); ok {
					_ = tcp.SetLinger(0)
				}
				_ = conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler)
	case KindTruncated:
		body := `{"@odata.type":"` + graph.OperationODataType + `","id":"x","status":"completed","resultInfo":null}`
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, body[:len(body)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		panic(http.ErrAbortHandler) // the connection drops mid-body
	case KindMalformed:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"status": completed,}`)
	case KindEmptyOK:
		w.WriteHeader(http.StatusOK)
	case KindWrongContentType:
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"status":"completed"}`)
	case KindOversized:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"status":"completed","padding":"`+strings.Repeat("x", 2<<20)+`"}`)
	case KindRedirect:
		http.Redirect(w, r, s.foreign.URL+r.URL.Path, http.StatusTemporaryRedirect)
	default:
		return false // status, location: a normal reply, shaped by the caller
	}
	return true
}

func (s *Server) serveForeign(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits = append(s.hits, RedirectHit{Time: time.Now(), AuthorizationSent: r.Header.Get("Authorization") != ""})
	s.mu.Unlock()
	writeError(w, r, http.StatusForbidden, "Forbidden", "this is not Graph")
}

func (s *Server) getOperation(w http.ResponseWriter, r *http.Request, version, callID, opID string, entry *Request) {
	if !s.authorized(w, r) {
		return
	}
	s.mu.Lock()
	var op *graph.Operation
	c := s.calls[callID]
	if c != nil && !c.terminated {
		if o := c.ops[opID]; o != nil {
			copied := *o
			op = &copied
		}
	}
	s.mu.Unlock()
	if op == nil {
		writeError(w, r, http.StatusNotFound, "8501", "Operation not found.")
		return
	}
	status := string(op.Status)
	if status == "" {
		status = "null"
	}
	entry.OperationStatus = status
	w.Header().Set("Location", s.URL+"/"+version+"/communications/calls/"+callID+"/operations/"+opID)
	s.writeOperation(w, r, op, status, nil)
}

// writeOperation writes op as Graph does, with status spelled as given
// (so unknown values and null can be played) in the server's casing.
func (s *Server) writeOperation(w http.ResponseWriter, r *http.Request, op *graph.Operation, status string, fault *Fault) {
	body := map[string]any{
		"@odata.type":   op.ODataType,
		"clientContext": op.ClientContext,
		"id":            op.ID,
		"resultInfo":    op.ResultInfo,
	}
	switch {
	case status == "null":
		body["status"] = nil
	case s.pascal:
		body["status"] = strings.ToUpper(status[:1]) + status[1:]
	default:
		body["status"] = status
	}
	setIDs(w, r)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(body)
}

func setIDs(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("request-id", uuid.NewString())
	crid := r.Header.Get("client-request-id")
	if crid == "" {
		crid = uuid.NewString()
	}
	w.Header().Set("client-request-id", crid)
	w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
}

// writeError writes Graph's error envelope.
func writeError(w http.ResponseWriter, r *http.Request, code int, errCode, message string) {
	setIDs(w, r)
	body := map[string]any{"error": map[string]any{
		"code":    errCode,
		"message": message,
		"innerError": map[string]any{
			"date":              time.Now().UTC().Format("2006-01-02T15:04:05"),
			"request-id":        w.Header().Get("request-id"),
			"client-request-id": w.Header().Get("client-request-id"),
		},
	}}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

func redacted(h http.Header) http.Header {
	out := h.Clone()
	if v := out.Get("Authorization"); v != "" {
		scheme, _, _ := strings.Cut(v, " ")
		out.Set("Authorization", scheme+" [redacted]")
	}
	return out
}
