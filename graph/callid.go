package graph

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxCallIDLen bounds a call ID. Graph call IDs are GUIDs (36 characters);
// the bound leaves room for other formats while refusing absurd input.
const MaxCallIDLen = 256

// ErrInvalidCallID matches every error ValidateCallID returns.
var ErrInvalidCallID = errors.New("graph: invalid call ID")

// ValidateCallID checks a call ID before it is put in a URL path: non-empty,
// at most MaxCallIDLen bytes, not "." or "..", and free of '/', '?', '#',
// '%', spaces and control characters, all of which would change the URL's
// meaning rather than name a call. "." and ".." are path dot-segments: a
// front end that normalises paths would send
// .../calls/../updateRecordingStatus to another resource.
func ValidateCallID(id string) error {
	switch id {
	case "":
		return fmt.Errorf("%w: empty; pass the id of the call the bot joined (Call.ID)", ErrInvalidCallID)
	case ".", "..":
		return fmt.Errorf("%w: %q is a path dot-segment: in the request URL it would name another resource, not a call; pass the id of the call the bot joined (Call.ID)", ErrInvalidCallID, id)
	}
	if len(id) > MaxCallIDLen {
		return fmt.Errorf("%w: %d bytes long, at most %d allowed", ErrInvalidCallID, len(id), MaxCallIDLen)
	}
	for i, r := range id {
		switch {
		case r == '/' || r == '?' || r == '#' || r == '%':
			return fmt.Errorf("%w: %q at byte %d is not allowed: in the request URL it would change the path rather than name a call; pass the id of the call the bot joined (Call.ID, a GUID)", ErrInvalidCallID, r, i)
		case unicode.IsControl(r) || unicode.IsSpace(r):
			return fmt.Errorf("%w: control or space character %U at byte %d; pass the id of the call the bot joined (Call.ID, a GUID)", ErrInvalidCallID, r, i)
		case r == unicode.ReplacementChar:
			return fmt.Errorf("%w: not valid UTF-8 at byte %d", ErrInvalidCallID, i)
		}
	}
	return nil
}

// ErrInvalidClientContext matches every error ValidateClientContext returns.
var ErrInvalidClientContext = errors.New("graph: invalid clientContext")

// ValidateClientContext checks a clientContext: non-empty and at most
// MaxClientContextLen characters, as the API requires.
func ValidateClientContext(cc string) error {
	if cc == "" {
		return fmt.Errorf("%w: empty; each request needs a unique clientContext", ErrInvalidClientContext)
	}
	if !utf8.ValidString(cc) {
		// JSON would carry it as U+FFFD: Graph would record a clientContext
		// the bot never chose, and refuse nothing, and its honest echo
		// would then not match.
		return fmt.Errorf("%w: not valid UTF-8; use a text string", ErrInvalidClientContext)
	}
	if n := utf8.RuneCountInString(cc); n > MaxClientContextLen {
		return fmt.Errorf("%w: %d characters long, at most %d allowed", ErrInvalidClientContext, n, MaxClientContextLen)
	}
	return nil
}
