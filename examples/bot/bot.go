package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/azuretoken"
	"github.com/recgate/recgate/graph/graphtest"
)

// bot is one call's wiring: client, registry and machine, the callback
// server, gate writers, files.
type bot struct {
	opt    options
	tl     *timeline
	fake   *graphtest.Server
	call   *graphtest.Call
	client *graph.Client

	registry *fsm.Registry
	m        *fsm.Machine
	events   eventCounter
	cb       *callbackServer

	wavs    []*wavFile
	writers []*fsm.Writer
	audit   *os.File

	// hookMu guards the files' closing and hookAt: the hook runs on the
	// callback server's goroutine when a notification ends the call.
	hookMu sync.Mutex
	hookAt time.Time

	accepted, refused []int // per stream
	firstWrite        time.Time
	lastWrite         time.Time
	endedAt           time.Time
	forgeries         []forgeryOutcome
	leftByItself      bool // the bot ended the machine itself: no termination came
}

// connect builds the Graph client: for the fake, which it starts, or for
// the real Graph, once everything the real path needs is there. Nothing is
// sent to Graph here.
func (b *bot) connect(getenv func(string) string) error {
	if b.opt.graphURL == "" {
		b.fake = graphtest.NewServer(graphtest.WithToken("demo-token"))
		b.call = b.fake.AddCall(b.opt.callID)
		b.opt.scenario.script(b.call)
		if b.opt.appID == "" {
			b.opt.appID = demoAppID
		}
		if b.opt.callbackAddr == "" {
			b.opt.callbackAddr = "127.0.0.1:0"
		}
		c, err := graph.NewClient(graph.StaticToken("demo-token"), graph.WithBaseURL(b.fake.BaseURL()),
			graph.WithHTTPClient(b.fake.Client()), graph.WithBackoff(10*time.Millisecond, 50*time.Millisecond))
		b.client = c
		return err
	}
	// The real path: say everything that is missing at once, before a
	// single request.
	var missing []string
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
		missing = append(missing, "credentials: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (an app with Calls.AccessMedia.All and admin consent), or pass -token")
	}
	if b.opt.appID == "" {
		b.opt.appID = client
	}
	if b.opt.appID == "" {
		missing = append(missing, "the bot's app ID, the audience of Graph's notification tokens: pass -app-id, or set AZURE_CLIENT_ID")
	}
	if b.opt.callbackAddr == "" {
		missing = append(missing, "-callback-addr: the address the callback server listens on, behind the public HTTPS URL registered for the bot, where Graph POSTs the outcome of a pending request and the end of the call")
	}
	if len(missing) > 0 {
		return fmt.Errorf("-graph-url %s needs %s; nothing was sent", b.opt.graphURL, strings.Join(missing, "; and "))
	}
	c, err := graph.NewClient(tokens, graph.WithBaseURL(b.opt.graphURL))
	b.client = c
	return err
}

// build opens the files and creates the call's machine in the registry.
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
	b.registry, err = fsm.NewRegistry(func(callID string) (*fsm.Machine, error) {
		return fsm.New(callID, b.client,
			fsm.WithObserver(func(e fsm.Event) {
				b.events.add()
				b.tl.event(e)
			}),
			fsm.WithAuditTrail(b.audit),
			fsm.WithRecordingEndedHook(func(_ context.Context, why fsm.Trigger) error {
				// Flush and close every recording before anything is reported.
				b.hookMu.Lock()
				defer b.hookMu.Unlock()
				var errs []error
				for _, w := range b.wavs {
					errs = append(errs, w.Close())
				}
				b.hookAt = time.Now()
				b.tl.note("recording-ended hook: %d WAV files flushed and closed (after %s)", len(b.wavs), why)
				return errors.Join(errs...)
			}))
	}, fsm.WithIgnoredHook(func(n graph.Notification, why fsm.IgnoreReason) {
		b.tl.note("registry: notification ignored (%s): %s for call %s", why, n.Kind, n.CallID)
	}))
	if err != nil {
		return err
	}
	if b.m, err = b.registry.Create(b.opt.callID); err != nil {
		return err
	}
	for _, w := range b.wavs {
		b.writers = append(b.writers, b.m.Gate().Writer(w))
	}
	return nil
}

func (b *bot) closeAll() {
	if b.cb != nil {
		b.cb.close()
	}
	b.hookMu.Lock()
	for _, w := range b.wavs {
		_ = w.Close()
	}
	b.hookMu.Unlock()
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
	for tick := 0; tick <= sc.end; tick++ {
		switch tick {
		case sc.start:
			b.tl.flushFrames()
			b.tl.note("bot: Start (ask Graph for permission to record)")
			if _, err := b.m.Start(ctx); err != nil {
				b.tl.note("bot: Start refused: %v", err)
			}
		case sc.forge:
			if sc.forge > 0 && b.fake != nil {
				b.tl.flushFrames()
				b.sendForgeries(ctx)
			}
		case sc.confirm:
			if sc.confirm > 0 && b.fake != nil && b.m.State() == fsm.AwaitingConfirmation {
				b.tl.flushFrames()
				b.tl.note("graph (fake): the operation completed; POST a signed notification to the callback")
				d, err := b.call.Notify(ctx, graph.OperationCompleted)
				b.tl.note("graph (fake): the callback answered %s", answer(d, err))
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
			b.endCall(ctx)
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

// endCall ends the call: with the fake, the fake terminates it and POSTs
// the signed notification, which ends the machine through the callback;
// with the real Graph, the bot ends the machine itself when no termination
// came (the bot leaving the call, which this demo does not do, is the
// calling code's job).
func (b *bot) endCall(ctx context.Context) {
	b.endedAt = time.Now()
	if b.fake != nil {
		b.tl.note("graph (fake): the call is over; POST a signed notification that it terminated")
		d, err := b.call.End(ctx, nil)
		b.tl.note("graph (fake): the callback answered %s", answer(d, err))
	}
	if b.m.State() != fsm.Ended {
		b.leftByItself = true
		b.tl.note("bot: no termination notification came; the bot ends the call's machine itself")
		if err := b.m.CallEnded(ctx); err != nil {
			b.tl.note("bot: CallEnded: %v", err)
		}
	}
}

// answer describes the callback's answer to one notification.
func answer(d graphtest.Delivery, err error) string {
	if err != nil {
		return "nothing: " + err.Error()
	}
	return fmt.Sprintf("%d %s", d.StatusCode, http.StatusText(d.StatusCode))
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
