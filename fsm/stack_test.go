package fsm_test

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"runtime/debug"
	"strings"
	"testing"
	"unsafe"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// depthTransport answers every request completed, as Graph does, and
// notes where the stack stood when the request reached the transport.
type depthTransport struct{ at *uintptr }

//go:noinline
func (d depthTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var here byte
	*d.at = uintptr(unsafe.Pointer(&here))
	body := `{"@odata.type":"#microsoft.graph.updateRecordingStatusOperation","id":"op","clientContext":"` +
		clientContextOf(r) + `","status":"completed","resultInfo":null}`
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

func clientContextOf(r *http.Request) string {
	raw, _ := io.ReadAll(r.Body)
	_, after, _ := strings.Cut(string(raw), `"clientContext":"`)
	cc, _, _ := strings.Cut(after, `"`)
	return cc
}

//go:noinline
func growStack(n int) byte {
	var pad [1024]byte
	if n == 0 {
		return pad[0]
	}
	return growStack(n-1) + pad[n%len(pad)]
}

// stackDepth runs call on a goroutine whose stack is already large (so it
// does not move while call runs) and returns how many bytes of stack lay
// between the goroutine's frame and the transport when the request
// reached it.
// at is where the transport noted the stack.
func stackDepth(t *testing.T, at *uintptr, call func() error) uintptr {
	t.Helper()
	// No collection meanwhile, which could shrink (move) the stack.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	var base uintptr
	*at = 0
	done := make(chan error, 1)
	go func() {
		growStack(64)
		var here byte
		base = uintptr(unsafe.Pointer(&here))
		err := call()
		if err == nil && uintptr(unsafe.Pointer(&here)) != base {
			err = errors.New("the goroutine's stack moved while it was measured: the measurement is void")
		}
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if *at == 0 || *at > base {
		t.Fatalf("the request never reached the transport (base %#x, at %#x)", base, *at)
	}
	return base - *at
}

// TestRequestPathKeepsASmallStack: graph.Client and Machine.Start are on
// the caller's stack for the whole Graph round trip, above net/http's own
// frames. Their frames once took 4.0 KiB (the client) and 6.8 KiB (Start),
// and a call's first Start on a fresh goroutine then copied its stack once
// more than a bare POST does, which showed in the fleet's start-to-confirmed
// under load. Cold paths (errors, reports, retries, events) are now out of
// line; this holds the depth to a budget about a third above what it
// measures now (1.9 and 3.7 KiB without -race). It measures optimised
// builds: without optimisation (-gcflags=all=-N -l, as debuggers use)
// every frame is larger and it fails.
func TestRequestPathKeepsASmallStack(t *testing.T) {
	budgetClient, budgetStart := uintptr(2560), uintptr(5120)
	if raceEnabled { // instrumented frames are bigger
		budgetClient, budgetStart = 3072, 6144 // measured 2.2 and 4.7 KiB
	}
	var at uintptr
	client, err := graph.NewClient(graph.StaticToken("stack-test-token"), graph.WithBaseURL("https://graph.invalid/v1.0"),
		graph.WithHTTPClient(&http.Client{Transport: depthTransport{at: &at}}))
	if err != nil {
		t.Fatal(err)
	}
	clientDepth := stackDepth(t, &at, func() error {
		_, err := client.UpdateRecordingStatus(context.Background(), callID, graph.StatusRecording, "stack-client")
		return err
	})
	m, err := fsm.New(callID, client, fsm.WithObserver(func(fsm.Event) {}))
	if err != nil {
		t.Fatal(err)
	}
	startDepth := stackDepth(t, &at, func() error {
		_, err := m.Start(context.Background())
		return err
	})
	t.Logf("stack above the transport: graph.Client %d B, Machine.Start %d B", clientDepth, startDepth)
	if clientDepth > budgetClient {
		t.Errorf("graph.Client.UpdateRecordingStatus needs %d B of stack above the transport, budget %d B: a cold path is back in a frame on the request path", clientDepth, budgetClient)
	}
	if startDepth > budgetStart {
		t.Errorf("Machine.Start needs %d B of stack above the transport, budget %d B: a cold path is back in a frame on the request path", startDepth, budgetStart)
	}
}
