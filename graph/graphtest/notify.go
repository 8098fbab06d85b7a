package graphtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/recgate/recgate/graph"
)

// Notification is one commsNotification the fake POSTs to a call's
// callback: an operation update, or the call's termination.
type Notification struct {
	// CallID names the call; the fake must know it (AddCall), and it must
	// have a callback (SetCallback).
	CallID string
	// Terminated makes this the call's termination: changeType deleted,
	// resourceUrl /communications/calls/{id}, the call's state
	// terminated. Sent genuinely, the call answers 404 from then on.
	Terminated bool
	// OperationID names the operation an update is about: "" for the
	// call's latest operation. An ID the fake did not create is sent as
	// is, with ClientContext.
	OperationID string
	// ClientContext overrides the operation's clientContext in the body.
	ClientContext string
	// Status is the operation's new status (completed, failed, running or
	// notStarted). Sent genuinely, the fake's copy of the operation
	// changes too, so a GET of its Location agrees.
	Status graph.OperationStatus
	// ResultInfo goes with a failed operation (a default if nil) or the
	// termination (a default if nil).
	ResultInfo *graph.ResultInfo
	// Forgery forges the token (NotForged: genuine); the fake's state
	// does not change. The body is as the fields above say, also for
	// ForgedReplay (Call.NotifyForged gives it another call's body).
	Forgery Forgery
}

// Delivery is one notification the fake POSTed, and what the callback
// answered. It never holds the token.
type Delivery struct {
	Time time.Time // when the fake sent it
	// URL is the callback the notification went to; CallID the call it
	// names.
	URL    string
	CallID string
	// ChangeType and ResourceURL are the notification's own fields.
	ChangeType  string
	ResourceURL string
	// OperationID and ClientContext name the operation (empty for a
	// termination).
	OperationID   string
	ClientContext string
	// Status is the operation's status, or "terminated".
	Status string
	// Forgery is how the token was forged (NotForged: genuine).
	Forgery Forgery
	// StatusCode is the callback's HTTP status; 0 if the POST failed.
	StatusCode int
	// Err says why the POST failed (nil when the callback answered).
	Err error
	// Body is the JSON body sent.
	Body []byte
}

// Wire shapes of Graph's commsNotifications, in Graph's field order.
type commsNotifications struct {
	ODataType string              `json:"@odata.type"`
	Value     []commsNotification `json:"value"`
}

type commsNotification struct {
	ODataType    string `json:"@odata.type"`
	ChangeType   string `json:"changeType"`
	ResourceURL  string `json:"resourceUrl"`
	ResourceData any    `json:"resourceData"`
}

type operationData struct {
	ODataType     string            `json:"@odata.type"`
	ClientContext string            `json:"clientContext"`
	ID            string            `json:"id"`
	ResultInfo    *graph.ResultInfo `json:"resultInfo"`
	Status        string            `json:"status"`
}

type callData struct {
	ODataType  string            `json:"@odata.type"`
	ID         string            `json:"id"`
	State      string            `json:"state"`
	ResultInfo *graph.ResultInfo `json:"resultInfo"`
}

// Default resultInfos for notifications that do not carry one.
var (
	defaultFailure     = graph.ResultInfo{Code: 500, Subcode: 0, Message: "The recording status could not be updated."}
	defaultTermination = graph.ResultInfo{Code: 200, Subcode: 0, Message: "The call was terminated."}
)

// Send POSTs n to its call's callback and returns what the callback
// answered. The Delivery is also kept (Deliveries). An error means no
// notification was sent (unknown call or operation, no callback, a bad
// status) or the POST failed; a callback's 401 is not an error.
func (s *Server) Send(ctx context.Context, n Notification) (Delivery, error) {
	d, _, err := s.send(ctx, n)
	return d, err
}

// send is Send that also says whether a POST was made (and logged).
func (s *Server) send(ctx context.Context, n Notification) (d Delivery, posted bool, err error) {
	if err := n.Forgery.validate(); err != nil {
		return Delivery{}, false, err
	}
	s.mu.Lock()
	d, cb, err := s.prepareLocked(n)
	s.mu.Unlock()
	if err != nil {
		return Delivery{}, false, err
	}
	var token string
	if n.Forgery == NotForged {
		token, err = s.Token(cb.appID) // reused while it is valid long enough
	} else {
		token, err = s.ForgedToken(cb.appID, n.Forgery) // every forgery made anew
	}
	if err != nil {
		return Delivery{}, false, err
	}
	d, err = s.deliver(ctx, cb, d, token)
	return d, true, err
}

// prepareLocked builds n's body and, for a genuine notification, applies
// it to the fake's state.
func (s *Server) prepareLocked(n Notification) (Delivery, callbackTarget, error) {
	c := s.calls[n.CallID]
	if c == nil {
		return Delivery{}, callbackTarget{}, fmt.Errorf("graphtest: no call %q to notify about: AddCall it first", n.CallID)
	}
	cb, err := s.callbackLocked(c)
	if err != nil {
		return Delivery{}, callbackTarget{}, err
	}
	d := Delivery{URL: cb.url, CallID: c.id, Forgery: n.Forgery}
	var item commsNotification
	if n.Terminated {
		ri := defaultTermination
		if n.ResultInfo != nil {
			ri = *n.ResultInfo
		}
		d.ChangeType, d.ResourceURL, d.Status = "deleted", "/communications/calls/"+c.id, "terminated"
		item = commsNotification{ResourceData: callData{ODataType: "#microsoft.graph.call", ID: c.id, State: "terminated", ResultInfo: &ri}}
		if n.Forgery == NotForged {
			c.terminated = true
		}
	} else {
		if !n.Status.Known() {
			return Delivery{}, cb, fmt.Errorf("graphtest: notification status %q: want completed, failed, running or notStarted", n.Status)
		}
		opID := n.OperationID
		if opID == "" {
			if len(c.order) == 0 {
				return Delivery{}, cb, fmt.Errorf("graphtest: call %s has no operation to notify about: it needs an updateRecordingStatus request first", c.id)
			}
			opID = c.order[len(c.order)-1]
		}
		data := operationData{ODataType: graph.OperationODataType, ID: opID, ClientContext: n.ClientContext, Status: s.spell(string(n.Status))}
		if op := c.ops[opID]; op != nil && data.ClientContext == "" {
			data.ClientContext = op.ClientContext
		}
		if n.Status == graph.OperationFailed {
			ri := defaultFailure
			if n.ResultInfo != nil {
				ri = *n.ResultInfo
			}
			data.ResultInfo = &ri
		}
		if op := c.ops[opID]; op != nil && n.Forgery == NotForged {
			op.Status, op.ResultInfo = n.Status, data.ResultInfo
		}
		d.ChangeType, d.ResourceURL = "updated", "/communications/calls/"+c.id+"/operations/"+opID
		d.OperationID, d.ClientContext, d.Status = opID, data.ClientContext, string(n.Status)
		item = commsNotification{ResourceData: data}
	}
	item.ODataType, item.ChangeType, item.ResourceURL = "#microsoft.graph.commsNotification", d.ChangeType, d.ResourceURL
	body, err := json.Marshal(commsNotifications{ODataType: "#microsoft.graph.commsNotifications", Value: []commsNotification{item}})
	if err != nil {
		return Delivery{}, cb, fmt.Errorf("graphtest: encoding a notification: %w", err)
	}
	d.Body = body
	return d, cb, nil
}

// spell writes an enum value in the server's casing.
func (s *Server) spell(v string) string {
	if s.pascal && v != "" {
		return strings.ToUpper(v[:1]) + v[1:]
	}
	return v
}

// deliver POSTs d's body to cb with token (none for ForgedNoToken) and
// records the outcome.
func (s *Server) deliver(ctx context.Context, cb callbackTarget, d Delivery, token string) (Delivery, error) {
	d.Time = time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cb.url, bytes.NewReader(d.Body))
	if err != nil {
		return Delivery{}, fmt.Errorf("graphtest: callback %s: %w", cb.url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("client-request-id", uuid.NewString())
	if d.Forgery != ForgedNoToken {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.callbackClient.Do(req)
	if err != nil {
		// The client's error names the URL, never the header.
		d.Err = fmt.Errorf("graphtest: POST to callback: %w", err)
	} else {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
		d.StatusCode = resp.StatusCode
	}
	s.mu.Lock()
	if d.Forgery == NotForged {
		g := s.lastGenuine[cb.appID]
		g.token, g.opID, g.clientContext = token, d.OperationID, d.ClientContext
		s.lastGenuine[cb.appID] = g
	}
	s.deliveries = append(s.deliveries, d)
	close(s.delivered)
	s.delivered = make(chan struct{})
	s.mu.Unlock()
	if s.deliveryHook != nil {
		s.deliveryHook(d)
	}
	return d, d.Err
}

// genuineDelivery remembers, per app ID, the last genuine notification
// (for ForgedReplay) and the genuine token Token reuses.
type genuineDelivery struct {
	token         string
	opID          string
	clientContext string
	signed        signedToken
}

// Deliveries returns the notifications sent so far, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// WaitDeliveries waits until at least n notifications have been sent (and
// answered, or failed), e.g. after a Fault.Notify, and returns them all.
// It gives up when ctx ends, with the deliveries so far.
func (s *Server) WaitDeliveries(ctx context.Context, n int) ([]Delivery, error) {
	for {
		s.mu.Lock()
		got := append([]Delivery(nil), s.deliveries...)
		ch := s.delivered
		s.mu.Unlock()
		if len(got) >= n {
			return got, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return got, fmt.Errorf("graphtest: %d of %d notifications delivered: %w", len(got), n, ctx.Err())
		}
	}
}

// WithDeliveryHook calls hook with each notification once the callback
// has answered (or the POST failed). It runs on the sending goroutine.
func WithDeliveryHook(hook func(Delivery)) Option {
	return func(s *Server) { s.deliveryHook = hook }
}

// Notify POSTs a genuine notification that this call's latest operation
// reached status (e.g. graph.OperationCompleted), as Graph does for an
// operation it answered as pending.
func (c *Call) Notify(ctx context.Context, status graph.OperationStatus) (Delivery, error) {
	return c.s.Send(ctx, Notification{CallID: c.id, Status: status})
}

// NotifyFailed POSTs a genuine notification that this call's latest
// operation failed with ri.
func (c *Call) NotifyFailed(ctx context.Context, ri graph.ResultInfo) (Delivery, error) {
	return c.s.Send(ctx, Notification{CallID: c.id, Status: graph.OperationFailed, ResultInfo: &ri})
}

// End terminates the call (404 from now on) and POSTs the genuine
// termination notification, with ri (nil: a default resultInfo).
func (c *Call) End(ctx context.Context, ri *graph.ResultInfo) (Delivery, error) {
	return c.s.Send(ctx, Notification{CallID: c.id, Terminated: true, ResultInfo: ri})
}

// NotifyForged POSTs a notification that this call's latest operation
// reached status, with a token forged as f; the fake's state does not
// change. Every forgery but ForgedReplay must get 401 and change nothing.
//
// For ForgedReplay the token is genuine (replayed) and the body is
// another call's: the operation ID and clientContext of the fake's last
// genuine delivery to the same app ID (fresh random ones if there was
// none), re-addressed to this call. A bot must acknowledge it and change
// nothing, since it names none of this call's attempts.
func (c *Call) NotifyForged(ctx context.Context, f Forgery, status graph.OperationStatus) (Delivery, error) {
	n, err := c.forged(f, "", status, nil)
	if err != nil {
		return Delivery{}, err
	}
	return c.s.Send(ctx, n)
}

// forged builds the notification NotifyForged (and a scripted forgery)
// sends.
func (c *Call) forged(f Forgery, opID string, status graph.OperationStatus, ri *graph.ResultInfo) (Notification, error) {
	if f == NotForged {
		return Notification{}, fmt.Errorf("graphtest: NotifyForged needs a forgery; Notify sends a genuine notification")
	}
	n := Notification{CallID: c.id, OperationID: opID, Status: status, ResultInfo: ri, Forgery: f}
	if f != ForgedReplay {
		return n, nil
	}
	c.s.mu.Lock()
	cb, err := c.s.callbackLocked(c)
	last := c.s.lastGenuine[cb.appID]
	c.s.mu.Unlock()
	if err != nil {
		return Notification{}, err
	}
	n.OperationID, n.ClientContext = last.opID, last.clientContext
	if n.OperationID == "" || n.ClientContext == "" {
		n.OperationID, n.ClientContext = uuid.NewString(), "replayed-"+uuid.NewString()
	}
	return n, nil
}

// followUp returns what a fault's Notify sends once the reply is out, or
// nil.
func (c *Call) followUp(f *Fault, opID string) func(context.Context) {
	if f == nil || f.Notify == "" {
		return nil
	}
	n := Notification{CallID: c.id, Terminated: f.Notify == NotifyTerminated, OperationID: opID,
		Status: graph.OperationStatus(f.Notify), ResultInfo: f.ResultInfo, Forgery: f.Forgery}
	if n.Terminated {
		n.Status, n.OperationID, n.ResultInfo = "", "", nil
	}
	delay := time.Duration(f.NotifyDelayMS) * time.Millisecond
	return func(ctx context.Context) {
		if delay > 0 {
			t := time.NewTimer(delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
		}
		if n.Forgery != NotForged && !n.Terminated {
			forged, err := c.forged(n.Forgery, n.OperationID, n.Status, n.ResultInfo)
			if err != nil {
				c.s.recordFailure(n, err)
				return
			}
			n = forged
		}
		if _, posted, err := c.s.send(ctx, n); !posted {
			c.s.recordFailure(n, err)
		}
	}
}

// recordFailure logs a scripted notification that could not be prepared
// (no callback, say), so a test or fakegraph sees why nothing arrived.
func (s *Server) recordFailure(n Notification, err error) {
	s.mu.Lock()
	d := Delivery{Time: time.Now(), CallID: n.CallID, Forgery: n.Forgery, Status: string(n.Status), Err: err}
	if n.Terminated {
		d.Status = "terminated"
	}
	s.deliveries = append(s.deliveries, d)
	close(s.delivered)
	s.delivered = make(chan struct{})
	s.mu.Unlock()
	if s.deliveryHook != nil {
		s.deliveryHook(d)
	}
}
