package graph

import (
	"fmt"
	"net/url"
	"strings"
)

// trustedLocation returns location if it may be fetched with the token: an
// absolute URL on the configured scheme and host, without credentials,
// query or fragment, naming one operation of callID under the base path.
func (c *Client) trustedLocation(callID, location string) (string, error) {
	if location == "" {
		return "", fmt.Errorf("%w (no Location)", ErrUntrustedLocation)
	}
	u, err := url.Parse(location)
	if err != nil || !u.IsAbs() {
		return "", fmt.Errorf("%w (not an absolute URL)", ErrUntrustedLocation)
	}
	if u.Scheme != c.base.Scheme || !strings.EqualFold(u.Host, c.base.Host) || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%w (scheme or host differ from %s)", ErrUntrustedLocation, c.base.Scheme+"://"+c.base.Host)
	}
	prefix := c.base.EscapedPath() + "/communications/calls/" + url.PathEscape(callID) + "/operations/"
	rest, ok := strings.CutPrefix(u.EscapedPath(), prefix)
	if !ok || rest == "" || rest == "." || rest == ".." || strings.ContainsAny(rest, "/%") {
		return "", fmt.Errorf("%w (does not name an operation of call %s)", ErrUntrustedLocation, callID)
	}
	return u.String(), nil
}

// operationIDFromLocation returns the last path segment of an operation's
// Location (…/operations/{id}), unescaped, or "" when there is none to
// take: an unparseable URL, an empty last segment, or a dot-segment.
func operationIDFromLocation(location string) string {
	if location == "" {
		return ""
	}
	u, err := url.Parse(location)
	if err != nil {
		return ""
	}
	p := u.EscapedPath()
	seg := p[strings.LastIndexByte(p, '/')+1:]
	id, err := url.PathUnescape(seg)
	if err != nil || id == "." || id == ".." {
		return ""
	}
	return id
}

// belongsTo checks that got, fetched from fetched (want's trusted
// Location), is the operation want names. Every field that both carry must
// agree, and at least one must positively match: the clientContext, or the
// id (want's own, and the one its Location names). A body that names
// neither cannot be told apart from another operation's, so it is refused.
func belongsTo(got, want Operation, fetched string) error {
	if got.ClientContext != "" && want.ClientContext != "" && got.ClientContext != want.ClientContext {
		return fmt.Errorf("fetched operation is for clientContext %q, not %q", got.ClientContext, want.ClientContext)
	}
	locID := operationIDFromLocation(fetched)
	if got.ID != "" {
		for _, id := range [...]string{want.ID, locID} {
			if id != "" && got.ID != id {
				return fmt.Errorf("fetched operation has id %q, not %q", got.ID, id)
			}
		}
	}
	switch {
	case got.ClientContext != "" && got.ClientContext == want.ClientContext:
		return nil
	case got.ID != "" && (got.ID == want.ID || got.ID == locID):
		return nil
	}
	return fmt.Errorf("fetched operation names neither clientContext %q nor id %q: cannot tell it is the one asked for", want.ClientContext, firstNonEmpty(want.ID, locID))
}
