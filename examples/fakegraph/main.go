// Command fakegraph runs recgate's fake Microsoft Graph (graph/graphtest)
// as a standalone server, so that other clients (curl, an SDK, a bot under
// development) can be tried against it, faults included, and plays Graph's
// calling service: it signs and POSTs notifications to a bot's callback,
// and serves the OpenID configuration and keys to validate them with.
//
//	go run ./examples/fakegraph -addr 127.0.0.1:8080
//	go run ./examples/fakegraph -addr 127.0.0.1:8080 -call c1 -fault throttle:2 -fault status:running
//	go run ./examples/fakegraph -script faults.json
//	go run ./examples/fakegraph -callback http://127.0.0.1:9000/callback -app-id my-app \
//	    -call c1 -fault pending,notify=completed
//
// A fault is kind[:arg] and, after commas, what to notify once the reply
// is out: notify=completed|failed|terminated, forgery=<a graphtest
// forgery, e.g. expired>, delay=<a duration>. For example
// "pending,notify=completed" answers running and then POSTs a signed
// completed; "status:completed,notify=terminated,delay=5s" confirms and
// ends the call five seconds later; "terminate,notify=terminated" ends it
// at once; "pending,notify=completed,forgery=algNone" forges the token.
// nonCompliance answers 403 with code 8506, forbidden a plain 403, and
// -calls makes every other call ID unknown (404, as on Graph).
//
// A script file maps call IDs to the faults their requests get, in order:
//
//	{"c1": [{"kind": "throttle", "retryAfter": "2"}, {"kind": "status", "status": "running"}],
//	 "c2": [{"kind": "terminate"}],
//	 "c3": [{"kind": "pending", "notify": "completed", "forgery": "expired", "notifyDelayMs": 500}]}
//
// Each request served and each notification sent is printed as it
// happens, one line each; tokens never are.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"

	"github.com/recgate/recgate/graph/graphtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "fakegraph:", err)
		os.Exit(1)
	}
}

// lockedWriter serialises lines written from the server's goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}

const stamp = "15:04:05.000"

// printRequest is one line per request: time, method, path, status (and
// the fault played). Headers, and so the token, are never printed.
func (l *lockedWriter) printRequest(r graphtest.Request) {
	reply := fmt.Sprint(r.Reply)
	if r.Reply == 0 {
		reply = "no reply"
	}
	extra := ""
	if r.OperationStatus != "" {
		extra += " operation " + r.OperationStatus
	}
	if r.Fault != "" {
		extra += " (fault " + string(r.Fault) + ")"
	}
	l.printf("%s %s %s %s%s\n", r.Time.Format(stamp), r.Method, r.Path, reply, extra)
}

// printDelivery is one line per notification sent: time, callback, call,
// what it said, how its token was forged, and the bot's answer.
func (l *lockedWriter) printDelivery(d graphtest.Delivery) {
	answer := fmt.Sprint(d.StatusCode)
	if d.Err != nil {
		answer = "error: " + d.Err.Error()
	}
	forged := ""
	if d.Forgery != graphtest.NotForged {
		forged = " (forged: " + string(d.Forgery) + ")"
	}
	l.printf("%s notify POST %s call %s %s%s -> %s\n", d.Time.Format(stamp), d.URL, d.CallID, d.Status, forged, answer)
}

// run serves until ctx ends. ready, if set, receives the base URL once the
// server listens (tests use it).
func run(ctx context.Context, args []string, stdout io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("fakegraph", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (loopback only)")
	token := fs.String("token", "", "accept only this bearer token (default: any)")
	call := fs.String("call", "", "the call -fault applies to (default: every call is known, faults need -call)")
	calls := fs.String("calls", "", "comma-separated call IDs that exist (with those -call and -script name); any other gets 404 as on Graph (default: every call ID exists)")
	script := fs.String("script", "", "a JSON file mapping call IDs to lists of faults")
	pascal := fs.Bool("pascal", false, "spell enum values in PascalCase (Completed)")
	useTLS := fs.Bool("tls", false, "serve TLS with a self-signed certificate (curl -k)")
	callback := fs.String("callback", "", "the bot's callback URL (http or https on loopback) that notifications are POSTed to")
	appID := fs.String("app-id", "", "the bot's app ID: the audience of the notification tokens (needed with -callback)")
	issuer := fs.String("issuer", graphtest.DefaultIssuer, "the tokens' iss claim and the OpenID configuration's issuer")
	tenant := fs.String("tenant", graphtest.DefaultTenant, "the tokens' tid claim")
	var faults faultFlags
	fs.Var(&faults, "fault", "a fault for -call's next request, in order: kind[:arg][,notify=completed|failed|terminated][,forgery=NAME][,delay=DURATION] (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", *addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-addr %q: the fake listens on loopback only (127.0.0.1 or [::1])", *addr)
	}
	if len(faults) > 0 && *call == "" {
		return errors.New("-fault needs -call: name the call the faults are for")
	}
	if (*callback == "") != (*appID == "") {
		return errors.New("-callback and -app-id go together: the app ID is the audience of the tokens sent to the callback")
	}
	scripts, err := loadScripts(*script, *call, faults)
	if err != nil {
		return err
	}
	if *callback == "" {
		for id, fs := range scripts {
			for i, f := range fs {
				if f.Notify != "" {
					return fmt.Errorf("call %s, fault %d notifies %s: give -callback and -app-id", id, i+1, f.Notify)
				}
			}
		}
	}

	out := &lockedWriter{w: stdout}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	opts := []graphtest.Option{
		graphtest.WithListener(l),
		graphtest.WithIssuer(*issuer),
		graphtest.WithTenant(*tenant),
		graphtest.WithRequestHook(out.printRequest),
		graphtest.WithDeliveryHook(out.printDelivery),
	}
	if *calls == "" {
		opts = append(opts, graphtest.WithAnyCall())
	}
	if !*useTLS {
		opts = append(opts, graphtest.WithPlainHTTP())
	}
	if *token != "" {
		opts = append(opts, graphtest.WithToken(*token))
	}
	if *pascal {
		opts = append(opts, graphtest.WithPascalCase())
	}
	srv := graphtest.NewServer(opts...)
	defer srv.Close()
	if *callback != "" {
		if err := srv.SetCallback(*callback, *appID); err != nil {
			return err
		}
	}
	for _, id := range strings.Split(*calls, ",") {
		if id = strings.TrimSpace(id); id != "" {
			srv.AddCall(id)
		}
	}
	ids := make([]string, 0, len(scripts))
	for id := range scripts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		srv.AddCall(id).Then(scripts[id]...)
		out.printf("call %s: %d scripted fault(s)\n", id, len(scripts[id]))
	}
	out.printf("fake Graph listening: base URL %s\n", srv.BaseURL())
	out.printf("OpenID configuration for validating notifications: %s\n", srv.OpenIDConfigURL())
	if *callback != "" {
		out.printf("notifications go to %s (audience %s)\n", *callback, *appID)
	}
	out.printf("try: curl -s -i -X POST %s/communications/calls/c1/updateRecordingStatus -H 'Authorization: Bearer t' -H 'Content-Type: application/json' -d '{\"clientContext\":\"x\",\"status\":\"recording\"}'\n", srv.BaseURL())
	if ready != nil {
		ready <- srv.BaseURL()
	}
	<-ctx.Done()
	srv.Close() // scripted notifications still waiting are dropped
	out.printf("served %d request(s), sent %d notification(s)\n", len(srv.Requests()), len(srv.Deliveries()))
	return nil
}
