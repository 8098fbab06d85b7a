package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/callback"
	"github.com/recgate/recgate/graph/graphtest"
)

// callbackPath is where the bot serves Graph's notifications.
const callbackPath = "/api/calling"

// defaultOpenIDConfigURL is the configuration whose keys sign Graph's
// notifications, unless -openid-config says otherwise.
const defaultOpenIDConfigURL = callback.DefaultOpenIDConfigURL

// callbackServer serves the callback URL: graph/callback's Handler, with
// fsm's Registry as its Receiver.
type callbackServer struct {
	srv       *http.Server
	url       string // the URL it serves, as reached from this machine
	configURL string // the OpenID configuration the Validator trusts
	served    chan error
	overTLS   bool
}

// serveCallback starts the callback server: on loopback for the fake (which
// is told to POST there), on -callback-addr for the real Graph.
func (b *bot) serveCallback() error {
	cb := &callbackServer{configURL: defaultOpenIDConfigURL, served: make(chan error, 1), overTLS: b.opt.callbackCert != ""}
	var vopts []callback.ValidatorOption
	logger := slog.Default()
	switch {
	case b.fake != nil:
		// The fake publishes its signing key through its own OpenID
		// configuration, served over its TLS, which fake.Client trusts.
		cb.configURL = b.fake.OpenIDConfigURL()
		vopts = append(vopts, callback.WithOpenIDConfigURL(cb.configURL), callback.WithHTTPClient(b.fake.Client()))
		logger = slog.New(slog.DiscardHandler) // refusals go to the timeline instead
	case b.opt.openIDConfigURL != "":
		cb.configURL = b.opt.openIDConfigURL
		vopts = append(vopts, callback.WithOpenIDConfigURL(cb.configURL))
	}
	if len(b.opt.tenants) > 0 {
		vopts = append(vopts, callback.WithTenants(b.opt.tenants...))
	}
	v, err := callback.NewValidator(b.opt.appID, vopts...)
	if err != nil {
		return err
	}
	h, err := callback.NewHandler(b.registry, v, callback.WithLogger(logger), callback.WithRejectHook(func(r callback.RejectReason) {
		b.tl.note("callback: request refused (%s)", r)
	}))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", b.opt.callbackAddr)
	if err != nil {
		return fmt.Errorf("-callback-addr %s: %w", b.opt.callbackAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST "+callbackPath, h)
	cb.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	scheme := "http"
	if cb.overTLS {
		scheme = "https"
	}
	cb.url = scheme + "://" + ln.Addr().String() + callbackPath
	go func() {
		var err error
		if cb.overTLS {
			err = cb.srv.ServeTLS(ln, b.opt.callbackCert, b.opt.callbackKey)
		} else {
			err = cb.srv.Serve(ln)
		}
		cb.served <- err
	}()
	b.cb = cb
	if b.fake != nil {
		return b.fake.SetCallback(cb.url, b.opt.appID)
	}
	return nil
}

// close stops the server, letting a request in progress finish.
func (cb *callbackServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = cb.srv.Shutdown(ctx)
	if err := <-cb.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Println("bot: the callback server stopped:", err)
	}
}

// describeCallback says where the callback is and what it trusts; for the
// real Graph, also what Graph needs to reach it.
func (b *bot) describeCallback(w io.Writer) {
	cb := b.cb
	if b.fake != nil {
		fmt.Fprintf(w, "callback %s: graph/callback's Handler, fsm's Registry behind it\n", cb.url)
		fmt.Fprintf(w, "  plain HTTP is fine here: it listens on loopback and nothing leaves this machine. Graph itself POSTs only to a public HTTPS URL.\n")
		fmt.Fprintf(w, "  tokens must be signed by a key of the fake's OpenID configuration (%s), for audience %s\n", cb.configURL, b.opt.appID)
		return
	}
	fmt.Fprintf(w, "callback listening at %s: graph/callback's Handler, fsm's Registry behind it\n", cb.url)
	fmt.Fprintf(w, "what Graph needs to tell this bot the outcome of a pending request and the end of the call:\n")
	if cb.overTLS {
		fmt.Fprintf(w, "  - a public https:// URL that reaches %s here, with a certificate Graph trusts (not a self-signed one);\n", callbackPath)
	} else {
		fmt.Fprintf(w, "  - a public https:// URL that reaches %s here: plain HTTP is served, so terminate TLS in front of it\n", callbackPath)
		fmt.Fprintf(w, "    (a reverse proxy, a load balancer or a tunnel), or pass -callback-cert and -callback-key;\n")
	}
	fmt.Fprintf(w, "  - that URL registered for the bot: the calling webhook of its Azure Bot resource (Teams channel, calling),\n")
	fmt.Fprintf(w, "    or the callbackUri the bot gave when it joined or answered the call;\n")
	fmt.Fprintf(w, "  - tokens signed by its calling service: checked against the keys of %s,\n", cb.configURL)
	fmt.Fprintf(w, "    audience %s (the bot's app ID), issuer %s or %s, %s;\n", b.opt.appID, callback.IssuerGraph, callback.IssuerBotFramework, tenantRule(b.opt.tenants))
	fmt.Fprintf(w, "  - a 2xx within seconds: the handler answers 202 at once, 401 to a bad token.\n")
	fmt.Fprintf(w, "  Until then a pending request ends at the confirmation deadline (%v) with failed reported and nothing recorded.\n", fsm.DefaultConfirmationDeadline)
}

// tenantRule says which tenants' tokens the callback accepts.
func tenantRule(tenants []string) string {
	if len(tenants) == 0 {
		return "a tenant claim (any tenant: -tenants narrows it)"
	}
	return "tenant " + strings.Join(tenants, " or ")
}

// forgeryOutcome is what one forged notification did.
type forgeryOutcome struct {
	forgery   graphtest.Forgery
	what      string // completed, or terminated
	code      int    // the callback's answer; 0 if the POST failed
	err       error
	unchanged bool // same state, same gate, and (for a refused one) no machine event
}

// sendForgeries has the fake POST notifications with forged tokens: a
// completed while the attempt is pending, a termination while recording.
// Each must be refused with 401 and change nothing. While pending, the fake
// also replays a genuine token with another call's body: it passes the
// token check, and the registry ignores it because it names no attempt of
// this call. (A replayed token with a termination for this call would end
// it: a token is not bound to the body, which is why the callback must be
// HTTPS.)
func (b *bot) sendForgeries(ctx context.Context) {
	var kinds []graphtest.Forgery
	var what string
	switch b.m.State() {
	case fsm.AwaitingConfirmation:
		what, kinds = "completed", []graphtest.Forgery{graphtest.ForgedExpired, graphtest.ForgedAlgNone, graphtest.ForgedReplay}
	case fsm.Recording:
		what, kinds = "terminated", []graphtest.Forgery{graphtest.ForgedExpired, graphtest.ForgedAlgNone}
	default:
		return
	}
	for _, f := range kinds {
		state, open, events := b.m.State(), b.m.Gate().IsOpen(), b.events.load()
		b.tl.note("attacker (via the fake): POST a notification, operation %s, with a forged token: %s", what, forgeryName(f))
		var d graphtest.Delivery
		var err error
		if what == "terminated" {
			d, err = b.fake.Send(ctx, graphtest.Notification{CallID: b.opt.callID, Terminated: true, Forgery: f})
		} else {
			d, err = b.call.NotifyForged(ctx, f, graph.OperationCompleted)
		}
		o := forgeryOutcome{forgery: f, what: what, code: d.StatusCode, err: err}
		o.unchanged = b.m.State() == state && b.m.Gate().IsOpen() == open && (f.TokenValid() || b.events.load() == events)
		b.forgeries = append(b.forgeries, o)
		verdict := "nothing changed"
		if !o.unchanged {
			verdict = "the machine CHANGED"
		}
		b.tl.note("attacker: the callback answered %s; state %s, gate %s: %s", answer(d, err), b.m.State(), gateWord(b.m.Gate().IsOpen()), verdict)
	}
}

// forgeryName describes a forgery in words.
func forgeryName(f graphtest.Forgery) string {
	switch f {
	case graphtest.ForgedExpired:
		return "expired (genuinely signed, exp an hour ago)"
	case graphtest.ForgedAlgNone:
		return `alg "none" (no signature)`
	case graphtest.ForgedReplay:
		return "a genuine token replayed, with another call's body"
	}
	return f.String()
}

// forgeryShort names a forgery in a few words.
func forgeryShort(f graphtest.Forgery) string {
	switch f {
	case graphtest.ForgedExpired:
		return "an expired token"
	case graphtest.ForgedAlgNone:
		return `one with alg "none"`
	}
	return string(f)
}

func gateWord(open bool) string {
	if open {
		return "OPEN"
	}
	return "closed"
}

// forgerySummary is the summary's line about the forged notifications:
// whether every bad token was refused with 401 and changed nothing, and
// whether the replay was acknowledged and ignored.
func forgerySummary(outcomes []forgeryOutcome) (refusedOK bool, refused string, replay *forgeryOutcome) {
	var names []string
	refusedOK = true
	for i, o := range outcomes {
		if o.forgery == graphtest.ForgedReplay {
			replay = &outcomes[i]
			continue
		}
		names = append(names, forgeryShort(o.forgery))
		refusedOK = refusedOK && o.err == nil && o.code == http.StatusUnauthorized && o.unchanged
	}
	return refusedOK, strings.Join(names, ", "), replay
}

// eventCounter counts the machine's events, so a forgery can be shown to
// have reached nothing.
type eventCounter struct{ n atomic.Int64 }

func (c *eventCounter) add()        { c.n.Add(1) }
func (c *eventCounter) load() int64 { return c.n.Load() }
