// Command bot plays one Teams call through recgate: it starts a fake Graph
// on loopback (or talks to the real one), serves the bot's callback URL,
// asks for permission to record, persists media frames on several streams
// only through the persist gate, as WAV files that hold exactly the
// confirmed interval, stops, and sees the call end. It prints a timeline and
// a summary that checks the rules against the fake's logs and the files it
// wrote.
//
//	go run ./examples/bot                      # the demo scenario
//	go run ./examples/bot -scenario refused    # a non-compliance (8506) call
//	go run ./examples/bot -scenario call-ended # the call drops while recording
//
// Graph answers the bot's "recording" with running, and tells the outcome
// later by POSTing a notification, signed with its calling service's key, to
// the bot's callback URL; it announces the end of the call the same way. The
// bot serves that URL with graph/callback's Handler: a Validator checks each
// request's token against the keys of an OpenID configuration, and fsm's
// Registry routes what passed to the call's machine. With the fake, the
// callback listens on loopback (plain HTTP: nothing leaves the machine), the
// Validator fetches the fake's keys, and the fake POSTs the signed
// notifications, along with forged ones that the callback must refuse.
//
// With -graph-url, -call-id naming a real call the bot is in, credentials
// (AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or -token) and
// -callback-addr, it takes a token through azidentity, serves the callback
// on -callback-addr and talks to the real Graph instead. Graph only POSTs to
// a public HTTPS URL: put -callback-addr behind one (or give -callback-cert
// and -callback-key), and register that URL for the bot. Without all of
// these it stops before it sends anything.
//
// With -crash-safe-dir DIR (and -graph-url, -token) it is the bot a
// supervisor restarts after a crash: at start-up it recovers every call
// that DIR/journal (fsm.Journal, one audit trail per machine) shows as not
// cleanly ended, sealing the dead run's media files at their last whole
// frame and reporting failed to Graph; then it records one call (-frames
// frames per stream, each synced and acknowledged with a "persisted" line)
// and stops. -recover-only stops after the recovery; -pause-at POINT:N
// makes it wait at a point for a test's SIGKILL (internal/crashtest). One
// bot at a time owns DIR/journal: a second one started while the first
// lives (a rolling deploy that overlaps them) exits at once with an error
// naming the first one's pid, and recovers nothing; start it once the
// first one has exited, or give it its own DIR.
//
//	go run ./examples/fakegraph &   # prints its URL and token
//	go run ./examples/bot -crash-safe-dir /tmp/bot -graph-url URL -token TOKEN
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "bot:", err)
		os.Exit(1)
	}
}

// scenario is a call's script: when the bot does what, in frame ticks.
type scenario struct {
	name, about string
	start       int // tick of Start
	forge       int // tick the fake POSTs forged notifications (0: none)
	confirm     int // tick the fake notifies the pending operation completed (0: not pending)
	stop        int // tick of Stop (0: no Stop)
	end         int // tick the call ends
	script      func(*graphtest.Call)
}

var scenarios = map[string]scenario{
	"demo": {name: "demo", about: "a 429 on Start, a pending reply, forged notifications refused, a signed completed, 2 s recorded, Stop, a signed call end",
		start: 10, forge: 15, confirm: 20, stop: 120, end: 130,
		script: func(c *graphtest.Call) { c.Then(graphtest.Throttle("0"), graphtest.ReplyStatus("running")) }},
	"refused": {name: "refused", about: "the call is not a compliance-recording call: Graph refuses with 8506 and nothing is recorded",
		start: 10, end: 60,
		script: func(c *graphtest.Call) { c.NonCompliance() }},
	"call-ended": {name: "call-ended", about: "recording confirmed at once, a forged call end refused, then the call drops: the gate closes at once and nothing is reported",
		start: 10, forge: 40, end: 70,
		script: func(*graphtest.Call) {}},
}

// demoAppID is the bot's app ID in the demo: the audience of the fake's
// tokens.
const demoAppID = "de110b07-0000-4000-8000-00000000a11d"

type options struct {
	scenario scenario
	graphURL string
	callID   string
	out      string
	token    string
	streams  int
	interval time.Duration

	appID                     string
	callbackAddr              string
	callbackCert, callbackKey string
	openIDConfigURL           string
	tenants                   []string

	crash crashSafeOptions
}

func parseFlags(args []string, stdout io.Writer) (options, error) {
	fs := flag.NewFlagSet("bot", flag.ContinueOnError)
	fs.SetOutput(stdout)
	name := fs.String("scenario", "demo", "the call to play: demo, refused or call-ended")
	graphURL := fs.String("graph-url", "", "Graph base URL; empty starts a fake Graph on loopback")
	callID := fs.String("call-id", "57dab8b1-894c-409a-b240-bd8beae78896", "the call's ID")
	out := fs.String("out", "recgate-out", "directory for the WAV files and the audit trail")
	token := fs.String("token", "", "a bearer token for -graph-url (otherwise AZURE_* credentials are used)")
	streams := fs.Int("streams", 3, "media streams (1-8)")
	interval := fs.Duration("frame-interval", 20*time.Millisecond, "wall time between frames (0: as fast as possible)")
	appID := fs.String("app-id", "", "the bot's Microsoft Entra app ID, the audience of Graph's notification tokens (default: AZURE_CLIENT_ID with -graph-url, a demo ID with the fake)")
	callbackAddr := fs.String("callback-addr", "", "host:port the callback server listens on; required with -graph-url, where your public HTTPS endpoint must forward to it (default with the fake: 127.0.0.1 on a free port)")
	callbackCert := fs.String("callback-cert", "", "with -callback-key: serve the callback over TLS with this certificate (PEM) instead of plain HTTP")
	callbackKey := fs.String("callback-key", "", "the private key (PEM) of -callback-cert")
	openID := fs.String("openid-config", "", "the OpenID configuration whose keys sign Graph's notifications (default with -graph-url: "+defaultOpenIDConfigURL+")")
	tenants := fs.String("tenants", "", "comma-separated tenant IDs whose notification tokens are accepted (default: any tenant; a tenant claim is still required)")
	crashDir := fs.String("crash-safe-dir", "", "run the crash-safe bot: recover what a killed run left in DIR/journal, then record one call against -graph-url (needs -token)")
	recoverOnly := fs.Bool("recover-only", false, "with -crash-safe-dir: recover, then exit without recording")
	frames := fs.Int("frames", 50, "with -crash-safe-dir: frames per stream to record")
	pauseAt := fs.String("pause-at", "", "with -crash-safe-dir, for crash tests: POINT:N pauses for ever the Nth time the bot reaches POINT (start-request, start-reply, write, hook, report, recover-hook, recover-report)")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	point, nth, err := parsePause(*pauseAt)
	if err != nil {
		return options{}, err
	}
	if *crashDir == "" && (*recoverOnly || point != "") {
		return options{}, errors.New("-recover-only and -pause-at are for -crash-safe-dir")
	}
	if *frames < 0 {
		return options{}, fmt.Errorf("-frames %d: want >= 0", *frames)
	}
	sc, ok := scenarios[*name]
	if !ok {
		return options{}, fmt.Errorf("unknown -scenario %q: want demo, refused or call-ended", *name)
	}
	if *streams < 1 || *streams > 8 {
		return options{}, fmt.Errorf("-streams %d: want 1 to 8", *streams)
	}
	if *interval < 0 {
		return options{}, fmt.Errorf("-frame-interval %s: want >= 0", *interval)
	}
	if err := graph.ValidateCallID(*callID); err != nil {
		return options{}, fmt.Errorf("-call-id: %w", err)
	}
	if (*callbackCert == "") != (*callbackKey == "") {
		return options{}, errors.New("-callback-cert and -callback-key go together: give both to serve the callback over TLS, or neither")
	}
	if *graphURL == "" && *callbackCert != "" {
		return options{}, errors.New("-callback-cert is for -graph-url: the demo's callback listens on loopback, where plain HTTP is fine")
	}
	if *graphURL == "" && *openID != "" {
		return options{}, errors.New("-openid-config is for -graph-url: with the fake, the callback trusts the fake's own OpenID configuration")
	}
	return options{scenario: sc, graphURL: *graphURL, callID: *callID, out: *out, token: *token, streams: *streams, interval: *interval,
		appID: *appID, callbackAddr: *callbackAddr, callbackCert: *callbackCert, callbackKey: *callbackKey, openIDConfigURL: *openID,
		tenants: splitList(*tenants),
		crash:   crashSafeOptions{dir: *crashDir, recoverOnly: *recoverOnly, frames: *frames, pausePoint: point, pauseAt: nth}}, nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func run(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	opt, err := parseFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil // the usage is printed
	}
	if err != nil {
		return err
	}
	if opt.crash.dir != "" {
		return runCrashSafe(ctx, opt, opt.crash, stdout)
	}
	b := &bot{opt: opt, tl: newTimeline(stdout)}
	defer b.closeAll()
	if err := b.connect(getenv); err != nil {
		return err
	}
	if err := os.MkdirAll(opt.out, 0o755); err != nil {
		return fmt.Errorf("creating -out %s: %w", opt.out, err)
	}
	if err := b.build(); err != nil {
		return err
	}
	if err := b.serveCallback(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "recgate bot: scenario %q: %s\n", opt.scenario.name, opt.scenario.about)
	fmt.Fprintf(stdout, "call %s, %d streams, Graph at %s\n", opt.callID, opt.streams, b.client.BaseURL())
	b.describeCallback(stdout)
	fmt.Fprintln(stdout)
	b.play(ctx)
	return b.summary(stdout)
}
