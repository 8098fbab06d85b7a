// Command bot plays one Teams call through recgate: it starts a fake Graph
// on loopback (or talks to the real one), asks for permission to record,
// persists media frames on several streams only through the persist gate,
// as WAV files that hold exactly the confirmed interval, stops, and ends
// the call. It prints a timeline and a summary that checks the rules
// against the fake's request log and the files it wrote.
//
//	go run ./examples/bot                      # the demo scenario
//	go run ./examples/bot -scenario refused    # a non-compliance (8506) call
//	go run ./examples/bot -scenario call-ended # the call drops while recording
//
// With AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET set (and
// -graph-url, -call-id naming a real call the bot is in), it takes a token
// through azidentity and talks to the real Graph instead.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/azuretoken"
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
	confirm     int // tick the pending operation completes (0: not pending)
	stop        int // tick of Stop (0: no Stop)
	end         int // tick of CallEnded
	drop        bool
	script      func(*graphtest.Call)
}

var scenarios = map[string]scenario{
	"demo": {name: "demo", about: "a 429 on Start, a pending reply confirmed by a later update, 2 s recorded, Stop, call ended",
		start: 10, confirm: 20, stop: 120, end: 130,
		script: func(c *graphtest.Call) { c.Then(graphtest.Throttle("0"), graphtest.ReplyStatus("running")) }},
	"refused": {name: "refused", about: "the call is not a compliance-recording call: Graph refuses with 8506 and nothing is recorded",
		start: 10, end: 60,
		script: func(c *graphtest.Call) { c.NonCompliance() }},
	"call-ended": {name: "call-ended", about: "recording confirmed at once, then the call drops: the gate closes at once and nothing is reported",
		start: 10, end: 70, drop: true,
		script: func(*graphtest.Call) {}},
}

type options struct {
	scenario scenario
	graphURL string
	callID   string
	out      string
	token    string
	streams  int
	interval time.Duration
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
	if err := fs.Parse(args); err != nil {
		return options{}, err
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
	return options{scenario: sc, graphURL: *graphURL, callID: *callID, out: *out, token: *token, streams: *streams, interval: *interval}, nil
}

func run(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	opt, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(opt.out, 0o755); err != nil {
		return fmt.Errorf("creating -out %s: %w", opt.out, err)
	}
	b := &bot{opt: opt, tl: newTimeline(stdout)}
	defer b.closeAll()
	if err := b.connect(getenv); err != nil {
		return err
	}
	if err := b.build(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "recgate bot: scenario %q: %s\n", opt.scenario.name, opt.scenario.about)
	fmt.Fprintf(stdout, "call %s, %d streams, Graph at %s\n\n", opt.callID, opt.streams, b.client.BaseURL())
	b.play(ctx)
	return b.summary(stdout)
}

// bot is one call's wiring: client, machine, gate writers, files.
type bot struct {
	opt    options
	tl     *timeline
	fake   *graphtest.Server
	call   *graphtest.Call
	client *graph.Client
	m      *fsm.Machine

	wavs    []*wavFile
	writers []*fsm.Writer
	audit   *os.File

	accepted, refused []int // per stream
	firstWrite        time.Time
	lastWrite         time.Time
	hookAt            time.Time
	endedAt           time.Time
}

func (b *bot) connect(getenv func(string) string) error {
	if b.opt.graphURL == "" {
		b.fake = graphtest.NewServer(graphtest.WithToken("demo-token"))
		b.call = b.fake.AddCall(b.opt.callID)
		b.opt.scenario.script(b.call)
		c, err := graph.NewClient(graph.StaticToken("demo-token"), graph.WithBaseURL(b.fake.BaseURL()),
			graph.WithHTTPClient(b.fake.Client()), graph.WithBackoff(10*time.Millisecond, 50*time.Millisecond))
		b.client = c
		return err
	}
	var tokens graph.TokenSource
	tenant, client, secret := getenv("AZURE_TENANT_ID"), getenv("AZURE_CLIENT_ID"), getenv("AZURE_CLIENT_SECRET")
	switch {
	case tenant != "" && client != "" && secret != "":
		cred, err := azidentity.NewClientSecretCredential(tenant, client, secret, nil)
		if err != nil {
			return fmt.Errorf("building the Azure credential from AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET: %w", err)
		}
		if tokens, err = azuretoken.New(cred); err != nil {
			return err
		}
	case b.opt.token != "":
		tokens = graph.StaticToken(b.opt.token)
	default:
		return fmt.Errorf("-graph-url %s needs credentials: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (an app with Calls.AccessMedia.All and admin consent), or pass -token", b.opt.graphURL)
	}
	c, err := graph.NewClient(tokens, graph.WithBaseURL(b.opt.graphURL))
	b.client = c
	return err
}

func (b *bot) build() error {
	var err error
	if b.audit, err = os.Create(filepath.Join(b.opt.out, "audit.jsonl")); err != nil {
		return err
	}
	for i := 0; i < b.opt.streams; i++ {
		w, err := createWAV(filepath.Join(b.opt.out, fmt.Sprintf("stream-%d.wav", i)))
		if err != nil {
			return err
		}
		b.wavs = append(b.wavs, w)
	}
	b.accepted = make([]int, b.opt.streams)
	b.refused = make([]int, b.opt.streams)
	b.m, err = fsm.New(b.opt.callID, b.client,
		fsm.WithObserver(b.tl.event),
		fsm.WithAuditTrail(b.audit),
		fsm.WithRecordingEndedHook(func(_ context.Context, why fsm.Trigger) error {
			// Flush and close every recording before anything is reported.
			var errs []error
			for _, w := range b.wavs {
				errs = append(errs, w.Close())
			}
			b.hookAt = time.Now()
			b.tl.note("recording-ended hook: %d WAV files flushed and closed (after %s)", len(b.wavs), why)
			return errors.Join(errs...)
		}))
	if err != nil {
		return err
	}
	for _, w := range b.wavs {
		b.writers = append(b.writers, b.m.Gate().Writer(w))
	}
	return nil
}

func (b *bot) closeAll() {
	for _, w := range b.wavs {
		_ = w.Close()
	}
	if b.audit != nil {
		_ = b.audit.Close()
	}
	if b.fake != nil {
		b.fake.Close()
	}
}

// play runs the scenario tick by tick: one 20 ms frame per stream a tick.
func (b *bot) play(ctx context.Context) {
	sc := b.opt.scenario
	var pendingOp graph.Operation
	for tick := 0; tick <= sc.end; tick++ {
		switch tick {
		case sc.start:
			b.tl.flushFrames()
			b.tl.note("bot: Start (ask Graph for permission to record)")
			op, err := b.m.Start(ctx)
			pendingOp = op
			if err != nil {
				b.tl.note("bot: Start refused: %v", err)
			}
		case sc.confirm:
			if sc.confirm > 0 && b.m.State() == fsm.AwaitingConfirmation {
				b.tl.flushFrames()
				if b.call != nil {
					_ = b.call.SetOperationStatus(pendingOp.ID, graph.OperationCompleted)
				}
				b.tl.note("bot: Graph notifies the operation's outcome; the bot reads it from the operation's Location")
				op, err := b.client.Operation(ctx, b.opt.callID, pendingOp)
				if err != nil {
					b.tl.note("bot: reading the operation failed: %v", err)
				} else if err := b.m.OperationUpdate(ctx, op); err != nil {
					b.tl.note("bot: update refused: %v", err)
				}
			}
		case sc.stop:
			if sc.stop > 0 {
				b.tl.flushFrames()
				b.tl.note("bot: Stop")
				if err := b.m.Stop(ctx); err != nil {
					b.tl.note("bot: Stop: %v", err)
				}
			}
		case sc.end:
			b.tl.flushFrames()
			if sc.drop && b.call != nil {
				b.call.Terminate()
			}
			b.endedAt = time.Now()
			b.tl.note("bot: the call ended")
			if err := b.m.CallEnded(ctx); err != nil {
				b.tl.note("bot: CallEnded: %v", err)
			}
		}
		if tick == sc.end {
			break
		}
		for s, w := range b.writers {
			_, err := w.Write(tone(s, tick))
			if err == nil {
				b.accepted[s]++
				if b.firstWrite.IsZero() {
					b.firstWrite = time.Now()
				}
				b.lastWrite = time.Now()
			} else {
				b.refused[s]++
			}
			b.tl.frame(tick, err == nil)
		}
		if b.opt.interval > 0 {
			time.Sleep(b.opt.interval)
		}
	}
	b.tl.flushFrames()
}

// tone is one 20 ms frame of a sine, a different pitch per stream.
func tone(stream, tick int) []byte {
	freq := 220.0 * float64(stream+2)
	p := make([]byte, frameBytes)
	for i := 0; i < frameSamples; i++ {
		t := float64(tick*frameSamples+i) / sampleRate
		v := int16(6000 * math.Sin(2*math.Pi*freq*t))
		p[2*i] = byte(v)
		p[2*i+1] = byte(uint16(v) >> 8)
	}
	return p
}

// summary checks the rules against what the fake saw and what was written.
func (b *bot) summary(w io.Writer) error {
	fmt.Fprintln(w, "\nsummary")
	failed := 0
	check := func(ok bool, format string, args ...any) {
		mark := "ok  "
		if !ok {
			mark = "FAIL"
			failed++
		}
		fmt.Fprintf(w, "  %s %s\n", mark, fmt.Sprintf(format, args...))
	}
	totalAccepted := 0
	for s := range b.wavs {
		size, secs, err := readWAV(b.wavs[s].f.Name())
		check(err == nil && size == int64(b.accepted[s]*frameBytes),
			"stream %d: %s holds %d frames (%.2f s), exactly the %d accepted; %d refused", s, filepath.Base(b.wavs[s].f.Name()), size/frameBytes, secs, b.accepted[s], b.refused[s])
		totalAccepted += b.accepted[s]
	}
	if b.fake != nil {
		fmt.Fprintln(w, "  the fake Graph's request log:")
		for _, r := range b.fake.Requests() {
			what := r.Status
			if r.Method == "GET" {
				what = "operation"
			}
			fmt.Fprintf(w, "       %s %-12s -> HTTP %d %s%s\n", r.Method, what, r.Reply, r.OperationStatus, faultNote(r.Fault))
		}
		var confirmedAt, reportAt time.Time
		var after []string
		for _, r := range b.fake.Requests() {
			if r.OperationStatus == "completed" && (r.Status == "recording" || r.Method == "GET") && confirmedAt.IsZero() {
				confirmedAt = r.Time
			}
			if (r.Status == "notRecording" || r.Status == "failed") && reportAt.IsZero() {
				reportAt = r.Time
			}
			if !b.endedAt.IsZero() && r.Time.After(b.endedAt) {
				after = append(after, r.Method+" "+r.Status)
			}
		}
		if totalAccepted > 0 {
			check(!confirmedAt.IsZero() && confirmedAt.Before(b.firstWrite), "R1: Graph's completed reply came before the first persisted frame")
		} else {
			check(true, "R1: nothing was persisted")
		}
		if !reportAt.IsZero() {
			check(reportAt.After(b.lastWrite) && reportAt.After(b.hookAt), "R2: notRecording was sent after the last frame and after the files were closed")
		} else {
			check(true, "R2: no notRecording/failed was sent (none was due)")
		}
		check(len(after) == 0, "after the call ended nothing was sent%s", strings.Join(after, ", "))
	} else {
		fmt.Fprintln(w, "  (talking to the real Graph: the checks against the fake's request log are skipped)")
	}
	recs, err := b.verifyAudit()
	check(err == nil, "audit trail %s: %d records, hash chain verified%s", filepath.Base(b.audit.Name()), len(recs), errSuffix(err))
	if failed > 0 {
		return fmt.Errorf("%d check(s) failed", failed)
	}
	fmt.Fprintf(w, "\nall checks passed; listen to %s\n", filepath.Join(b.opt.out, "stream-0.wav"))
	return nil
}

func faultNote(k graphtest.FaultKind) string {
	if k == "" {
		return ""
	}
	return " (scripted fault: " + string(k) + ")"
}

// verifyAudit reads back the audit trail written so far and verifies it
// against the head the machine reports.
func (b *bot) verifyAudit() ([]fsm.AuditRecord, error) {
	if err := b.audit.Sync(); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(b.audit.Name())
	if err != nil {
		return nil, err
	}
	return fsm.VerifyAuditTrailHead(bytes.NewReader(data), b.m.AuditHead())
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}
