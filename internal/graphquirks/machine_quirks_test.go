package graphquirks

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// The machine on top of the client: each quirk of the reply to Start
// opens the persist gate only when it is a completed for Start's own
// clientContext, and a recording that opened ends with notRecording after
// the writes, as the API page's second rule asks.
func TestMachineOverQuirkyReplies(t *testing.T) {
	body := func(code int, b string) func(http.ResponseWriter, seenRequest) {
		return func(w http.ResponseWriter, req seenRequest) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Location", req.OperationURL("op-m"))
			w.WriteHeader(code)
			_, _ = io.WriteString(w, strings.ReplaceAll(b, "$CC", quote(req.ClientContext)))
		}
	}
	cases := []struct {
		name      string
		answer    func(http.ResponseWriter, seenRequest)
		state     fsm.State
		open      bool
		nonCompl  bool
		wantError bool
	}{
		{name: "the page's reply", state: fsm.Recording, open: true,
			answer: func(w http.ResponseWriter, req seenRequest) {
				reply(w, req.OperationURL("op-m"), pageReply(req.ClientContext, "completed"))
			}},
		{name: "PascalCase, odata.context, unknown fields", state: fsm.Recording, open: true,
			answer: body(200, `{"@odata.context":"c","futureField":{"status":"failed"},"status":"Completed","clientContext":$CC,"id":"op-m"}`)},
		{name: "running", state: fsm.AwaitingConfirmation, answer: body(200, `{"clientContext":$CC,"id":"op-m","status":"running"}`)},
		{name: "bodyless 202", state: fsm.AwaitingConfirmation, answer: func(w http.ResponseWriter, req seenRequest) {
			w.Header().Set("Location", req.OperationURL("op-m"))
			w.WriteHeader(http.StatusAccepted)
		}},
		{name: "completed for another clientContext", state: fsm.NotRecording, wantError: true,
			answer: body(200, `{"clientContext":"someone-else","status":"completed"}`)},
		{name: "completed, then running under the same key", state: fsm.AwaitingConfirmation,
			answer: body(200, `{"clientContext":$CC,"status":"completed","status":"running"}`)},
		{name: "failed 8506", state: fsm.NotRecording, wantError: true, nonCompl: true,
			answer: body(200, `{"clientContext":$CC,"status":"failed","resultInfo":{"code":403,"subcode":8506,"message":"no"}}`)},
		{name: "HTTP 403 8506", state: fsm.NotRecording, wantError: true, nonCompl: true,
			answer: func(w http.ResponseWriter, req seenRequest) {
				writeGraphError(w, http.StatusForbidden, "8506", "API call not allowed for non-Compliance Recording call")
			}},
		{name: "HTTP 404 call ended", state: fsm.NotRecording, wantError: true,
			answer: func(w http.ResponseWriter, req seenRequest) {
				writeGraphError(w, http.StatusNotFound, "8501", "call not found")
			}},
		{name: "unknown status", state: fsm.NotRecording, wantError: true, answer: body(200, `{"clientContext":$CC,"status":"succeeded"}`)},
		{name: "reset mid-body", state: fsm.NotRecording, wantError: true, answer: func(w http.ResponseWriter, req seenRequest) {
			b := pageReply(req.ClientContext, "completed")
			rawReplyThenReset(w, fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(b), b[:len(b)-3]))
		}},
		{name: "HTML from a proxy", state: fsm.NotRecording, wantError: true, answer: func(w http.ResponseWriter, req seenRequest) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "<html>502</html>")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, req seenRequest) {
				if req.Status == "recording" {
					tc.answer(w, req)
					return
				}
				reply(w, req.OperationURL("op-stop"), pageReply(req.ClientContext, "completed"))
			})
			var file bytes.Buffer
			m, err := fsm.New(callID, newClient(t, f), fsm.WithConfirmationDeadline(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			media := m.Gate().Writer(&file)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err = m.Start(ctx)
			noToken(t, err)
			if (err != nil) != tc.wantError {
				t.Fatalf("Start: err %v, want error %v", err, tc.wantError)
			}
			if graph.IsNonCompliance(err) != tc.nonCompl {
				t.Errorf("IsNonCompliance(%v) = %v, want %v", err, !tc.nonCompl, tc.nonCompl)
			}
			if m.State() != tc.state || m.Gate().IsOpen() != tc.open {
				t.Fatalf("after Start: state %s, gate open %v; want %s, %v", m.State(), m.Gate().IsOpen(), tc.state, tc.open)
			}
			_, werr := media.Write([]byte("frame"))
			if (werr == nil) != tc.open {
				t.Fatalf("write with gate open %v: err %v", tc.open, werr)
			}
			if !tc.open {
				return
			}
			if err := m.Stop(ctx); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if m.Gate().IsOpen() {
				t.Fatal("gate open after Stop")
			}
			var statuses []string
			for _, r := range f.requests() {
				statuses = append(statuses, r.Status)
			}
			if strings.Join(statuses, ",") != "recording,notRecording" || file.String() != "frame" {
				t.Errorf("Graph saw %v, the file holds %q", statuses, file.String())
			}
			noProblems(t, f)
		})
	}
}

// signalHandler is a slog.Handler that sends each record's message to a
// channel (without blocking), so a test can wait for a log line.
type signalHandler struct{ msgs chan string }

func (h signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h signalHandler) Handle(_ context.Context, r slog.Record) error {
	select {
	case h.msgs <- r.Message:
	default:
	}
	return nil
}
func (h signalHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h signalHandler) WithGroup(string) slog.Handler      { return h }

// Polling (WithOperationPolling with the client): the Location's answer
// is applied to the pending attempt. A completed opens the gate; a
// completed naming another clientContext opens nothing; a failed (8506
// above all) should end the attempt at once with the gate closed rather
// than leave it pending until the confirmation deadline.
func TestMachinePollsTheLocation(t *testing.T) {
	cases := []struct {
		name  string
		get   string
		state fsm.State
	}{
		{"completed", `{"clientContext":$CC,"id":"op-p","status":"completed"}`, fsm.Recording},
		{"completed for another clientContext", `{"clientContext":"someone-else","id":"op-p","status":"completed"}`, fsm.AwaitingConfirmation},
		{"failed 8506", `{"clientContext":$CC,"id":"op-p","status":"failed","resultInfo":{"code":403,"subcode":8506,"message":"no"}}`, fsm.NotRecording},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, req seenRequest) {
				if r.Method == http.MethodPost {
					reply(w, req.OperationURL("op-p"), `{"clientContext":`+quote(req.ClientContext)+`,"id":"op-p","status":"notStarted"}`)
					return
				}
				reply(w, "", strings.ReplaceAll(tc.get, "$CC", quote(req.Earlier[0].ClientContext)))
			})
			c := newClient(t, f)
			updates := make(chan fsm.Event, 16)
			logs := make(chan string, 64)
			m, err := fsm.New(callID, c,
				fsm.WithConfirmationDeadline(time.Minute),
				fsm.WithOperationPolling(c, time.Millisecond, 1),
				fsm.WithLogger(slog.New(signalHandler{logs})),
				fsm.WithObserver(func(e fsm.Event) {
					if e.Kind == fsm.EventUpdate && e.Via == fsm.ViaPoll {
						select {
						case updates <- e:
						default:
						}
					}
				}))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			defer func() { _ = m.CallEnded(ctx) }()
			if _, err := m.Start(ctx); err != nil || m.State() != fsm.AwaitingConfirmation {
				t.Fatalf("Start: %v, state %s", err, m.State())
			}
			watchdog := time.After(5 * time.Second)
			var how string
		wait:
			for {
				select {
				case e := <-updates:
					how = fmt.Sprintf("applied (err %v)", e.Err)
					break wait
				case msg := <-logs:
					if strings.Contains(msg, "polling the pending operation failed") {
						how = "logged as a failed poll, not applied"
						break wait
					}
				case <-watchdog:
					t.Fatal("watchdog: the single poll neither applied an update nor logged a failure in 5 s")
				}
			}
			// The update's event comes before the transition it causes,
			// and the machine stores Recording before it opens the gate
			// (the gate's opening is the last step of entering it): give
			// the machine until the watchdog to reach the state the case
			// expects, gate included (it does at once unless it is wrong).
			for m.State() != tc.state || (tc.state == fsm.Recording && !m.Gate().IsOpen()) {
				select {
				case <-watchdog:
				default:
					runtime.Gosched()
					continue
				}
				break
			}
			got, open := m.State(), m.Gate().IsOpen()
			if open != (tc.state == fsm.Recording) && tc.state != fsm.NotRecording {
				t.Fatalf("gate open %v in %s after the poll (%s)", open, got, how)
			}
			if open && tc.state != fsm.Recording {
				t.Fatalf("gate opened by %s", tc.name)
			}
			if tc.state == fsm.NotRecording {
				clientBug(t, got != fsm.NotRecording,
					"a polled failed operation is %s and the machine stays %s until the confirmation deadline: graph.Client.Operation returns the zero Operation with its *OperationError, and fsm/deadline.go (Machine.poll) checks got.Status.Refused() on that zero Operation", how, got)
			}
			if got != tc.state {
				t.Errorf("state %s after the poll (%s), want %s", got, how, tc.state)
			}
		})
	}
}
