package graphtest

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Requests returns the request log so far, oldest first: every request the
// server answered, the key and OpenID configuration fetches included.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
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
	finished := false
	finish := func() {
		if finished {
			return
		}
		finished = true
		publish(rec.code)
		if s.requestHook != nil {
			e := entry
			e.Reply = rec.code
			s.requestHook(e)
		}
	}
	defer finish() // also when a fault aborts the handler
	after := s.route(rec, r, &entry)
	finish()
	if after != nil {
		// The reply (with its Content-Length) goes out before the
		// notification starts.
		rec.Flush()
		s.spawn(after)
	}
}

// WithRequestHook calls hook with each request's log entry once its reply
// has been sent (Reply 0: none was). It runs on the request's goroutine;
// examples/fakegraph prints each request with it.
func WithRequestHook(hook func(Request)) Option {
	return func(s *Server) { s.requestHook = hook }
}

func redacted(h http.Header) http.Header {
	out := h.Clone()
	if v := out.Get("Authorization"); v != "" {
		scheme, _, _ := strings.Cut(v, " ")
		out.Set("Authorization", scheme+" [redacted]")
	}
	return out
}
