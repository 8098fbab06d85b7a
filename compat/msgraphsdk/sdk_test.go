package msgraphsdk

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/communications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/recgate/recgate/graph/graphtest"
)

// testToken is the bearer token the fake accepts (graphtest.WithToken).
const testToken = "sdk-compat-token"

// staticToken is a kiota AccessTokenProvider that hands out one fixed
// token: the SDK's own providers fetch tokens from Entra ID, which a test
// has no access to.
type staticToken struct {
	token string
	hosts authentication.AllowedHostsValidator
}

// GetAuthorizationToken returns the token for hosts the validator allows,
// and "" (no Authorization header) for any other, as the SDK's Azure
// identity provider does.
func (s *staticToken) GetAuthorizationToken(_ context.Context, u *url.URL, _ map[string]any) (string, error) {
	if !s.hosts.IsUrlHostValid(u) {
		return "", nil
	}
	return s.token, nil
}

// GetAllowedHostsValidator returns the hosts the token may go to.
func (s *staticToken) GetAllowedHostsValidator() *authentication.AllowedHostsValidator {
	return &s.hosts
}

// The SDK's middleware, in the order a client runs it (first = outermost).
// kiota-http-go builds its default list by ranging over a map, so an
// application's client gets these in a random order, and the order of retry
// and compression decides whether a retried POST works (see
// TestRetryOutsideCompression). The tests pin the order: Graph's own
// middleware first (msgraph-sdk-go-core puts it there), then compression
// outside retry, the order in which retries work.
var (
	compressionOutside = []string{"GraphTelemetryHandler", "UrlReplaceHandler", "CompressionHandler", "RetryHandler",
		"RedirectHandler", "ParametersNameDecodingHandler", "UserAgentHandler", "HeadersInspectionHandler"}
	retryOutside = []string{"GraphTelemetryHandler", "UrlReplaceHandler", "RetryHandler", "CompressionHandler",
		"RedirectHandler", "ParametersNameDecodingHandler", "UserAgentHandler", "HeadersInspectionHandler"}
)

// The tests run one at a time, never in parallel: msgraphsdk's
// NewGraphServiceClient writes a package-level variable (the backing store
// factory, through EnableBackingStore) that every model constructor reads,
// so making a client while another client's request is being read is a
// data race (go test -race finds it). An application makes its clients
// before it uses them concurrently.

// sdkClient is the official SDK's GraphServiceClient pointed at the fake.
type sdkClient struct {
	*msgraphsdk.GraphServiceClient
	fake *graphtest.Server
	wire *wireLog
}

// newSDK builds a GraphServiceClient the way an application does
// (msgraphsdk.NewGraphRequestAdapter... with the SDK's default middleware:
// retry, redirect, compression, ...), except that its transport is the
// fake's TLS-trusting one, its base URL is the fake's and its token is
// static. token "" sends no Authorization header. The middleware runs in
// the order compressionOutside, unless order says otherwise.
func newSDK(t *testing.T, fake *graphtest.Server, token string, order ...string) *sdkClient {
	t.Helper()
	u, err := url.Parse(fake.URL)
	if err != nil {
		t.Fatalf("fake URL %q: %v", fake.URL, err)
	}
	hosts, err := authentication.NewAllowedHostsValidatorErrorCheck([]string{u.Hostname()})
	if err != nil {
		t.Fatalf("allowed hosts: %v", err)
	}
	auth := authentication.NewBaseBearerTokenAuthenticationProvider(&staticToken{token: token, hosts: *hosts})

	opts := msgraphsdk.GetDefaultClientOptions()
	mw := msgraphgocore.GetDefaultMiddlewaresWithOptions(&opts)
	if len(order) == 0 {
		order = compressionOutside
	}
	sortMiddleware(t, mw, order)
	wire := &wireLog{base: fake.Client().Transport}
	hc := &http.Client{
		// The fake's transport trusts its certificate; the SDK's middleware
		// runs above it, as above http.DefaultTransport in production.
		Transport: khttp.NewCustomTransportWithParentTransport(wire, mw...),
		// As kiota's default client: the redirect middleware follows.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, hc)
	if err != nil {
		t.Fatalf("request adapter: %v", err)
	}
	adapter.SetBaseUrl(fake.BaseURL())
	return &sdkClient{GraphServiceClient: msgraphsdk.NewGraphServiceClient(adapter), fake: fake, wire: wire}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

func sortMiddleware(t *testing.T, mw []khttp.Middleware, order []string) {
	t.Helper()
	rank := func(m khttp.Middleware) int {
		name := typeName(m)
		name = name[strings.LastIndex(name, ".")+1:]
		if i := slices.Index(order, name); i >= 0 {
			return i
		}
		t.Fatalf("unknown SDK middleware %s: add it to the orders", typeName(m))
		return 0
	}
	if len(mw) != len(order) {
		t.Fatalf("the SDK has %d middleware, the order names %d: update the orders", len(mw), len(order))
	}
	sort.SliceStable(mw, func(i, j int) bool { return rank(mw[i]) < rank(mw[j]) })
}

// wireLog is the transport under the SDK's middleware: it records each
// request as it goes on the wire (the body un-gzipped) and passes it on.
type wireLog struct {
	base http.RoundTripper
	mu   sync.Mutex
	reqs []wireRequest
}

type wireRequest struct {
	method, url     string
	authorization   bool
	contentEncoding string
	body            string // as JSON, after un-gzipping
}

func (w *wireLog) RoundTrip(r *http.Request) (*http.Response, error) {
	wr := wireRequest{method: r.Method, url: r.URL.String(), authorization: r.Header.Get("Authorization") != "",
		contentEncoding: r.Header.Get("Content-Encoding")}
	if r.Body != nil {
		raw, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
		wr.body = string(raw)
		if wr.contentEncoding == "gzip" {
			if zr, err := gzip.NewReader(bytes.NewReader(raw)); err == nil {
				if plain, err := io.ReadAll(zr); err == nil {
					wr.body = string(plain)
				}
			}
		}
	}
	w.mu.Lock()
	w.reqs = append(w.reqs, wr)
	w.mu.Unlock()
	return w.base.RoundTrip(r)
}

func (w *wireLog) requests() []wireRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]wireRequest(nil), w.reqs...)
}

// update sends updateRecordingStatus for callID through the SDK.
func (c *sdkClient) update(ctx context.Context, callID, clientContext string, status models.RecordingStatus, opts ...abs.RequestOption) (models.UpdateRecordingStatusOperationable, error) {
	body := communications.NewCallsItemUpdateRecordingStatusPostRequestBody()
	body.SetClientContext(&clientContext)
	body.SetStatus(&status)
	var cfg *communications.CallsItemUpdateRecordingStatusRequestBuilderPostRequestConfiguration
	if len(opts) > 0 {
		cfg = &communications.CallsItemUpdateRecordingStatusRequestBuilderPostRequestConfiguration{Options: opts}
	}
	return c.Communications().Calls().ByCallId(callID).UpdateRecordingStatus().Post(ctx, body, cfg)
}

// odataError is what the SDK returned as an *odataerrors.ODataError, with
// the fields a caller reads.
type odataError struct {
	status          int
	code, message   string
	innerRequestID  string
	innerClientReq  string
	innerDate       time.Time
	headerRequestID string
}

func asODataError(t *testing.T, err error) odataError {
	t.Helper()
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) {
		t.Fatalf("SDK error %T %v: want *odataerrors.ODataError", err, err)
	}
	out := odataError{status: oe.ResponseStatusCode}
	main := oe.GetErrorEscaped()
	if main == nil {
		t.Fatalf("ODataError with no error object (status %d)", oe.ResponseStatusCode)
	}
	out.code, out.message = deref(main.GetCode()), deref(main.GetMessage())
	if in := main.GetInnerError(); in != nil {
		out.innerRequestID, out.innerClientReq = deref(in.GetRequestId()), deref(in.GetClientRequestId())
		if d := in.GetDate(); d != nil {
			out.innerDate = *d
		}
	}
	if oe.ResponseHeaders != nil {
		if v := oe.ResponseHeaders.Get("request-id"); len(v) > 0 {
			out.headerRequestID = v[0]
		}
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// withTimeout is a context the test gives up on, so a hang names itself.
func withTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func newFake(t *testing.T, opts ...graphtest.Option) *graphtest.Server {
	t.Helper()
	fake := graphtest.NewServer(append([]graphtest.Option{graphtest.WithToken(testToken)}, opts...)...)
	t.Cleanup(fake.Close)
	return fake
}

// updates returns the fake's log of updateRecordingStatus requests.
func updates(fake *graphtest.Server) []graphtest.Request {
	var out []graphtest.Request
	for _, r := range fake.Requests() {
		if r.Method == http.MethodPost {
			out = append(out, r)
		}
	}
	return out
}

func TestCompletedReply(t *testing.T) {
	for _, pascal := range []bool{false, true} {
		name := "camelCase"
		var opts []graphtest.Option
		if pascal {
			name = "PascalCase"
			opts = append(opts, graphtest.WithPascalCase())
		}
		t.Run(name, func(t *testing.T) {
			fake := newFake(t, opts...)
			fake.AddCall("call-1")
			sdk := newSDK(t, fake, testToken)
			op, err := sdk.update(withTimeout(t, 10*time.Second), "call-1", "ctx-1", models.RECORDING_RECORDINGSTATUS)
			if err != nil {
				t.Fatalf("Post: %v", err)
			}
			if got := deref(op.GetClientContext()); got != "ctx-1" {
				t.Errorf("clientContext %q, want ctx-1", got)
			}
			if deref(op.GetId()) == "" {
				t.Errorf("no operation id")
			}
			if deref(op.GetOdataType()) != "#microsoft.graph.updateRecordingStatusOperation" {
				t.Errorf("@odata.type %q", deref(op.GetOdataType()))
			}
			if op.GetResultInfo() != nil {
				t.Errorf("resultInfo %v, want null", op.GetResultInfo())
			}
			st := op.GetStatus()
			if pascal {
				if st == nil || *st != models.COMPLETED_OPERATIONSTATUS {
					t.Errorf("status %v, want Completed", st)
				}
			} else if st != nil {
				// The SDK's operationStatus enum is PascalCase (Graph's
				// metadata); it reads "completed" as no value at all.
				t.Errorf("status %v: the SDK now reads camelCase operation statuses; update the README note", *st)
			}

			log := updates(fake)
			if len(log) != 1 {
				t.Fatalf("fake logged %d updates, want 1: %+v", len(log), log)
			}
			r := log[0]
			if r.Status != "recording" || r.ClientContext != "ctx-1" || r.Reply != http.StatusOK {
				t.Errorf("fake logged status %q clientContext %q reply %d, want recording ctx-1 200", r.Status, r.ClientContext, r.Reply)
			}
			if r.Path != "/v1.0/communications/calls/call-1/updateRecordingStatus" {
				t.Errorf("path %q", r.Path)
			}
			if r.Header.Get("Authorization") != "Bearer [redacted]" {
				t.Errorf("Authorization %q, want a bearer token", r.Header.Get("Authorization"))
			}
			wire := sdk.wire.requests()
			if len(wire) != 1 {
				t.Fatalf("%d requests on the wire, want 1", len(wire))
			}
			if w := wire[0]; w.body != `{"clientContext":"ctx-1","status":"recording"}` || w.contentEncoding != "gzip" {
				t.Errorf("the SDK sent %s (Content-Encoding %q), want {\"clientContext\":\"ctx-1\",\"status\":\"recording\"} gzipped", w.body, w.contentEncoding)
			}
			if r.Header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Errorf("fake saw Content-Type %q Content-Encoding %q", r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding"))
			}
			t.Logf("SDK request headers: Content-Type %q Content-Encoding %q SdkVersion %q client-request-id %q",
				r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding"), r.Header.Get("SdkVersion"), r.Header.Get("client-request-id"))
		})
	}
}
