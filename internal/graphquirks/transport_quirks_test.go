package graphquirks

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recgate/recgate/graph"
)

// How the reply's bytes travel: compressed, chunked, over HTTP/2, larger
// than the client's cap, cut off, or trickled.

// gzipped compresses s.
func gzipped(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = io.WriteString(zw, s)
	_ = zw.Close()
	return b.Bytes()
}

// gzipBomb is a completed reply of 3 MiB, three times the client's cap,
// compressed to a few kilobytes; made once, before any client waits for
// it (compressing under -race on a loaded machine takes a while).
var gzipBomb = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	_, _ = io.WriteString(zw, padded("cc-bomb", 3<<20))
	_ = zw.Close()
	return b.Bytes()
})

// padded is the page's completed reply for cc grown to exactly n bytes
// with whitespace before its closing brace.
func padded(cc string, n int) string {
	s := pageReply(cc, "completed")
	return s[:len(s)-1] + strings.Repeat(" ", n-len(s)) + "}"
}

func TestReplyTransports(t *testing.T) {
	gzipBomb()
	runQuirks(t, []quirk{
		{name: "gzip the transport asked for", want: confirmed, answer: func(w http.ResponseWriter, req seenRequest) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Location", req.OperationURL("op"))
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(gzipped(pageReply(req.ClientContext, "completed")))
		}},
		{name: "chunked in pieces that split tokens", want: confirmed, answer: func(w http.ResponseWriter, req seenRequest) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Location", req.OperationURL("op"))
			body := pageReply(req.ClientContext, "Completed")
			for i := 0; i < len(body); i += 7 {
				_, _ = io.WriteString(w, body[i:min(i+7, len(body))])
				w.(http.Flusher).Flush()
			}
		}},
		{name: "exactly the cap", want: confirmed, answer: func(w http.ResponseWriter, req seenRequest) {
			reply(w, req.OperationURL("op"), padded(req.ClientContext, graph.MaxReplyBytes))
		}},
		{name: "one byte over the cap", want: badReply, check: mentions("larger"), answer: func(w http.ResponseWriter, req seenRequest) {
			reply(w, req.OperationURL("op"), padded(req.ClientContext, graph.MaxReplyBytes+1))
		}},
		{name: "gzip bomb", want: badReply, check: mentions("larger"), answer: func(w http.ResponseWriter, req seenRequest) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(gzipBomb())
		}},
		{name: "an encoding the client cannot read", want: badReply, answer: func(w http.ResponseWriter, req seenRequest) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "br")
			_, _ = w.Write([]byte{0x1b, 0x03, 0x00, 0xf8, 0x25, 0x00})
		}},
		{name: "Content-Length longer than the body", want: badReply, answer: func(w http.ResponseWriter, req seenRequest) {
			body := pageReply(req.ClientContext, "completed")
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", fmt.Sprint(len(body)+40))
			_, _ = io.WriteString(w, body)
			// The handler returns short: net/http closes the connection.
		}},
		{name: "connection reset in the middle of the body", want: badReply, answer: func(w http.ResponseWriter, req seenRequest) {
			body := pageReply(req.ClientContext, "completed")
			rawReplyThenReset(w, fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:len(body)/2]))
		}},
		{name: "reset after a complete-looking prefix", want: badReply, answer: func(w http.ResponseWriter, req seenRequest) {
			// The bytes received so far are a whole JSON object; only the
			// framing says the body was longer. It must not confirm.
			body := `{"clientContext":` + quote(req.ClientContext) + `,"status":"completed"}`
			rawReplyThenReset(w, fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body)+30, body))
		}},
		{name: "chunked body cut before its last chunk", want: badReply, answer: func(w http.ResponseWriter, req seenRequest) {
			body := `{"clientContext":` + quote(req.ClientContext) + `,"status":"completed"}`
			rawReplyThenReset(w, fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", len(body), body))
		}},
		{name: "handler aborted mid-body", want: badReply, answer: func(w http.ResponseWriter, req seenRequest) {
			body := pageReply(req.ClientContext, "completed")
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			_, _ = io.WriteString(w, body[:20])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}},
	})
}

// rawReplyThenReset writes raw bytes on the hijacked connection and
// resets it (TCP RST, no TLS close_notify), as a crashing proxy does.
func rawReplyThenReset(w http.ResponseWriter, raw string) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	_, _ = buf.WriteString(raw)
	_ = buf.Flush()
	reset(conn)
}

func reset(conn net.Conn) {
	nc := conn
	if tc, ok := conn.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	if tcp, ok := nc.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = nc.Close()
}

// Over HTTP/2 the same replies read the same, and a stream reset in the
// middle of the body confirms nothing.
func TestReplyOverHTTP2(t *testing.T) {
	t.Parallel()
	f := newFakeGraphHTTP2(t, func(w http.ResponseWriter, r *http.Request, req seenRequest) {
		if r.ProtoMajor != 2 {
			writeGraphError(w, http.StatusHTTPVersionNotSupported, "NotHTTP2", r.Proto)
			return
		}
		body := pageReply(req.ClientContext, "Completed")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Location", req.OperationURL("op"))
		if req.ClientContext == "cc-reset" {
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			_, _ = io.WriteString(w, body[:30])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // RST_STREAM
		}
		_, _ = io.WriteString(w, body)
	})
	op, err := sendRecording(t, f, "cc-h2")
	assertOutcome(t, confirmed, "cc-h2", op, err)
	op, err = sendRecording(t, f, "cc-reset")
	if err == nil || op.Status.Confirmed() || op != (graph.Operation{}) {
		t.Fatalf("a reset stream gave %+v, %v", op, err)
	}
	noProblems(t, f)
}

// A connection that resets before any reply is a request that may not
// have arrived: the client sends the same request again (same
// clientContext, same client-request-id) and reads the second reply.
func TestResetBeforeAnyReplyIsRetried(t *testing.T) {
	t.Parallel()
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, req seenRequest) {
		if req.N == 1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				panic(err)
			}
			reset(conn)
			return
		}
		reply(w, req.OperationURL("op"), pageReply(req.ClientContext, "completed"))
	})
	op, err := sendRecording(t, f, "cc-rst")
	assertOutcome(t, confirmed, "cc-rst", op, err)
	reqs := f.requests()
	if len(reqs) != 2 || reqs[0].ClientRequestID != reqs[1].ClientRequestID || reqs[0].ClientContext != reqs[1].ClientContext {
		t.Fatalf("want the same request twice, got %+v", reqs)
	}
	noProblems(t, f)
}

// A body that trickles in slower than the attempt timeout ends with an
// error that matches context.DeadlineExceeded, in about the timeout, and
// confirms nothing, although the bytes that came were the start of a
// completed reply. A trickle that finishes in time is read.
func TestTrickledBody(t *testing.T) {
	trickle := func(w http.ResponseWriter, r *http.Request, req seenRequest) {
		body := pageReply(req.ClientContext, "completed")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Location", req.OperationURL("op"))
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		pause := 40 * time.Millisecond
		if req.ClientContext == "cc-fast-trickle" {
			pause = time.Millisecond
		}
		for i := 0; i < len(body); i += 4 {
			_, _ = io.WriteString(w, body[i:min(i+4, len(body))])
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(pause): // the trickle's pace, not a synchronisation
			}
		}
	}
	t.Run("slower than the attempt timeout", func(t *testing.T) {
		t.Parallel()
		f := newFakeGraph(t, trickle)
		began := time.Now()
		op, err := sendRecording(t, f, "cc-slow-trickle", graph.WithAttemptTimeout(300*time.Millisecond), graph.WithMaxAttempts(2))
		took := time.Since(began)
		if err == nil || op != (graph.Operation{}) {
			t.Fatalf("a body slower than the timeout gave %+v, %v", op, err)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("the error does not match context.DeadlineExceeded: %v", err)
		}
		if took > 3*time.Second {
			t.Errorf("gave up after %s with a 300 ms attempt timeout", took)
		}
		t.Logf("slow trickle: %d request(s), %s, %v", len(f.requests()), took.Round(time.Millisecond), err)
	})
	t.Run("within the attempt timeout", func(t *testing.T) {
		t.Parallel()
		f := newFakeGraph(t, trickle)
		op, err := sendRecording(t, f, "cc-fast-trickle")
		assertOutcome(t, confirmed, "cc-fast-trickle", op, err)
	})
}

// A Graph that takes the request and never answers: every attempt ends at
// the attempt timeout, the request is tried WithMaxAttempts times, and
// the error says it was the attempt timeout.
func TestNoReplyAtAll(t *testing.T) {
	t.Parallel()
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, req seenRequest) {
		<-r.Context().Done()
		// Write nothing, ever: returning would send net/http's 200 with an
		// empty body, which can reach a client that has just given up.
		panic(http.ErrAbortHandler)
	})
	var attempts []graph.Attempt // appended on the caller's goroutine
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = graph.WithAttemptReporter(ctx, func(a graph.Attempt) { attempts = append(attempts, a) })
	c := newClient(t, f, graph.WithAttemptTimeout(200*time.Millisecond), graph.WithMaxAttempts(2))
	began := time.Now()
	op, err := c.UpdateRecordingStatus(ctx, callID, graph.StatusRecording, "cc-hang")
	if op != (graph.Operation{}) || !errors.Is(err, graph.ErrAttemptTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want ErrAttemptTimeout and DeadlineExceeded with the zero Operation, got %+v, %v", op, err)
	}
	// Both attempts were made; under load the second may spend its time
	// on a new TLS handshake and never reach the fake, so the fake's count
	// is 1 or 2.
	if len(attempts) != 2 || !attempts[0].Retryable || attempts[0].StatusCode != 0 {
		t.Errorf("attempts %+v, want 2, the first retryable with no reply", attempts)
	}
	if n := len(f.requests()); n < 1 || n > 2 {
		t.Errorf("%d requests reached the fake, want 1 or 2", n)
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Errorf("took %s", d)
	}
}
