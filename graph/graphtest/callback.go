package graphtest

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
)

// callbackTarget is where a call's notifications go, and the audience of
// their tokens.
type callbackTarget struct {
	url   string
	appID string
}

func parseCallback(raw, appID string) (callbackTarget, error) {
	if appID == "" {
		return callbackTarget{}, fmt.Errorf("graphtest: a callback needs the bot's app ID: it is the audience (aud) of the tokens the fake signs")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return callbackTarget{}, fmt.Errorf("graphtest: callback URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return callbackTarget{}, fmt.Errorf("graphtest: callback URL %q: want http or https", raw)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return callbackTarget{}, fmt.Errorf("graphtest: callback URL %q: the fake notifies loopback only (127.0.0.1, [::1] or localhost)", raw)
	}
	return callbackTarget{url: u.String(), appID: appID}, nil
}

// SetCallback registers the bot's callback URL and app ID for every call
// that has none of its own (Call.SetCallback). Notifications are POSTed
// there with "Authorization: Bearer <JWT>" whose audience is appID. The
// URL must be http or https on loopback; for https, give the fake a
// client that trusts the callback's certificate (WithCallbackClient).
func (s *Server) SetCallback(callbackURL, appID string) error {
	cb, err := parseCallback(callbackURL, appID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callback = &cb
	return nil
}

// SetCallback registers this call's own callback URL and app ID, as a bot
// gives them per call; see Server.SetCallback.
func (c *Call) SetCallback(callbackURL, appID string) error {
	cb, err := parseCallback(callbackURL, appID)
	if err != nil {
		return err
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.callback = &cb
	return nil
}

// WithCallbackClient makes the fake POST notifications with hc (e.g. an
// httptest TLS server's Client). The default is a client with a 10 s
// timeout that follows no redirects.
func WithCallbackClient(hc *http.Client) Option {
	return func(s *Server) { s.callbackClient = hc }
}

// callbackLocked returns the callback for c; s.mu is held.
func (s *Server) callbackLocked(c *Call) (callbackTarget, error) {
	switch {
	case c.callback != nil:
		return *c.callback, nil
	case s.callback != nil:
		return *s.callback, nil
	}
	return callbackTarget{}, fmt.Errorf("graphtest: call %s has no callback: call Server.SetCallback or Call.SetCallback first", c.id)
}
