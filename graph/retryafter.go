package graph

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ParseRetryAfter reads a Retry-After header value: delay-seconds or an
// HTTP date (RFC 9110). now is the time to measure a date against. A date in
// the past gives zero. An empty value gives zero and no error; anything else
// unparseable is an error.
func ParseRetryAfter(v string, now time.Time) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	if v[0] >= '0' && v[0] <= '9' {
		const maxSecs = int64(1<<63-1) / int64(time.Second)
		secs, err := strconv.ParseInt(v, 10, 64)
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			secs, err = maxSecs, nil // absurdly large: the cap will apply
		}
		if err != nil {
			return 0, fmt.Errorf("graph: Retry-After %q is neither seconds nor an HTTP date", v)
		}
		if secs > maxSecs {
			secs = maxSecs
		}
		return time.Duration(secs) * time.Second, nil
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, fmt.Errorf("graph: Retry-After %q is neither seconds nor an HTTP date", v)
	}
	if d := t.Sub(now); d > 0 {
		return d, nil
	}
	return 0, nil
}
