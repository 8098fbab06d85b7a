// Command fakegraph runs recgate's fake Microsoft Graph (graph/graphtest)
// as a standalone server, so that other clients (curl, an SDK, a bot under
// development) can be tried against it, faults included.
//
//	go run ./examples/fakegraph -addr 127.0.0.1:8080
//	go run ./examples/fakegraph -addr 127.0.0.1:8080 -call c1 -fault throttle:2 -fault status:running
//	go run ./examples/fakegraph -script faults.json
//
// A script file maps call IDs to the faults their requests get, in order:
//
//	{"c1": [{"kind": "throttle", "retryAfter": "2"}, {"kind": "status", "status": "running"}],
//	 "c2": [{"kind": "terminate"}]}
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sort"
	"strings"

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

type faultFlags []string

func (f *faultFlags) String() string     { return strings.Join(*f, ",") }
func (f *faultFlags) Set(v string) error { *f = append(*f, v); return nil }

// parseFault reads "kind" or "kind:arg": the arg is Retry-After for
// throttle and unavailable, milliseconds for latency, the status for
// status, the kind of bad Location for location.
func parseFault(v string) (graphtest.Fault, error) {
	kind, arg, _ := strings.Cut(v, ":")
	f := graphtest.Fault{Kind: graphtest.FaultKind(kind)}
	switch f.Kind {
	case graphtest.KindThrottle, graphtest.KindUnavailable:
		f.RetryAfter = arg
	case graphtest.KindLatency:
		if _, err := fmt.Sscanf(arg, "%d", &f.DelayMS); err != nil {
			return f, fmt.Errorf("fault %q: latency takes milliseconds, e.g. latency:250", v)
		}
	case graphtest.KindStatus:
		f.Status = arg
	case graphtest.KindLocation:
		f.Location = arg
	}
	return f, f.Validate()
}

// run serves until ctx ends. ready, if set, receives the base URL once the
// server listens (tests use it).
func run(ctx context.Context, args []string, stdout io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("fakegraph", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (loopback only)")
	token := fs.String("token", "", "accept only this bearer token (default: any)")
	call := fs.String("call", "", "the call -fault applies to (default: every call is known, faults need -call)")
	script := fs.String("script", "", "a JSON file mapping call IDs to lists of faults")
	pascal := fs.Bool("pascal", false, "spell enum values in PascalCase (Completed)")
	useTLS := fs.Bool("tls", false, "serve TLS with a self-signed certificate (curl -k)")
	var faults faultFlags
	fs.Var(&faults, "fault", "a fault for -call's next request, in order: kind[:arg] (repeatable)")
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
	scripts := map[string][]graphtest.Fault{}
	if *script != "" {
		b, err := os.ReadFile(*script)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &scripts); err != nil {
			return fmt.Errorf("-script %s: %w", *script, err)
		}
	}
	for _, v := range faults {
		f, err := parseFault(v)
		if err != nil {
			return err
		}
		scripts[*call] = append(scripts[*call], f)
	}
	for id, fs := range scripts {
		for i, f := range fs {
			if err := f.Validate(); err != nil {
				return fmt.Errorf("call %s, fault %d: %w", id, i+1, err)
			}
		}
	}

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	opts := []graphtest.Option{graphtest.WithListener(l), graphtest.WithAnyCall()}
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
	ids := make([]string, 0, len(scripts))
	for id := range scripts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		srv.AddCall(id).Then(scripts[id]...)
		fmt.Fprintf(stdout, "call %s: %d scripted fault(s)\n", id, len(scripts[id]))
	}
	fmt.Fprintf(stdout, "fake Graph listening: base URL %s\n", srv.BaseURL())
	fmt.Fprintf(stdout, "try: curl -s -i -X POST %s/communications/calls/c1/updateRecordingStatus -H 'Authorization: Bearer t' -H 'Content-Type: application/json' -d '{\"clientContext\":\"x\",\"status\":\"recording\"}'\n", srv.BaseURL())
	if ready != nil {
		ready <- srv.BaseURL()
	}
	<-ctx.Done()
	fmt.Fprintf(stdout, "served %d request(s)\n", len(srv.Requests()))
	return nil
}
