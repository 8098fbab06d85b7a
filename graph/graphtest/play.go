package graphtest

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/recgate/recgate/graph"
)

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
	case KindForbidden:
		writeError(w, r, http.StatusForbidden, "Forbidden", "Application is not authorized to perform this operation on the call.")
	case KindNonCompliance:
		writeError(w, r, http.StatusForbidden, graph.CodeNonComplianceCall, "API call not allowed for non-Compliance Recording call")
	case KindRedirect:
		http.Redirect(w, r, s.foreign.URL+r.URL.Path, http.StatusTemporaryRedirect)
	default:
		return false // status, pending, location: a normal reply, shaped by the caller
	}
	return true
}
