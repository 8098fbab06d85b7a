package graph

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readReply reads like io.ReadAll(io.LimitReader(r, limit)): everything
// below the limit, exactly limit bytes of a longer body (so the caller can
// tell it is too large), and the reader's error with what came before it.
func TestReadReplyReadsLikeALimitedReadAll(t *testing.T) {
	const limit = 5000
	for _, n := range []int{0, 1, 1023, 1024, 1025, limit - 1, limit, limit + 1, 3 * limit} {
		body := bytes.Repeat([]byte("abcdefg"), n/7+1)[:n]
		for name, r := range map[string]io.Reader{
			"whole":      bytes.NewReader(body),
			"byte-wise":  iotest.OneByteReader(bytes.NewReader(body)),
			"data+EOF":   iotest.DataErrReader(bytes.NewReader(body)),
			"half-reads": iotest.HalfReader(bytes.NewReader(body)),
		} {
			want, _ := io.ReadAll(io.LimitReader(bytes.NewReader(body), limit))
			buf := make([]byte, 0, 1024)
			got, err := readReply(&buf, r, limit)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%d bytes, %s: read %d bytes, %v; want %d", n, name, len(got), err, len(want))
			}
		}
	}
	boom := errors.New("connection reset")
	buf := make([]byte, 0, 8)
	got, err := readReply(&buf, io.MultiReader(strings.NewReader(`{"status":`), iotest.ErrReader(boom)), limit)
	if !errors.Is(err, boom) || string(got) != `{"status":` {
		t.Fatalf("read %q, %v; want the bytes before the error and the error", got, err)
	}
}

// Nothing parsed from a reply buffer refers to it: once the buffer is
// reused, the Operation or Error read from it is unchanged.
func TestParsedRepliesDoNotAliasTheBuffer(t *testing.T) {
	for _, body := range []string{
		graphReply, // the fast decoder
		`{"id":"op-\u0031","clientContext":"cc","status":"failed","resultInfo":{"code":403,"subcode":8506,"message":"no"}}`, // encoding/json
	} {
		buf := []byte(body)
		op, err := ParseOperation(buf)
		if err != nil {
			t.Fatal(err)
		}
		before := op
		var ri ResultInfo
		if op.ResultInfo != nil {
			ri = *op.ResultInfo
		}
		for i := range buf {
			buf[i] = 'X'
		}
		if op.ID != before.ID || op.ClientContext != before.ClientContext || op.ODataType != before.ODataType || op.Status != before.Status ||
			(op.ResultInfo != nil && *op.ResultInfo != ri) || strings.Contains(op.ID+op.ClientContext+op.ODataType, "X") {
			t.Fatalf("%s: operation changed with its buffer: %+v", body, op)
		}
	}
	buf := []byte(`{"error":{"code":"TooManyRequests","message":"slow down","innerError":{"request-id":"r","client-request-id":"c","date":"d"}}}`)
	e := ParseErrorBody(429, "application/json", buf)
	want := *e
	for i := range buf {
		buf[i] = 'X'
	}
	if e.Code != want.Code || e.Message != "slow down" || e.RequestID != "r" || e.ClientRequestID != "c" || e.Date != "d" {
		t.Fatalf("error changed with its buffer: %+v", e)
	}
	html := []byte("<html>bad gateway</html>")
	e = ParseErrorBody(502, "text/html", html)
	msg := e.Message
	for i := range html {
		html[i] = 'X'
	}
	if e.Message != msg || strings.Contains(msg, "XXX") {
		t.Fatalf("message changed with its buffer: %q", e.Message)
	}
}
