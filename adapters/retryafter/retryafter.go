// Package retryafter reads the Retry-After header that the registry and the
// districts' systems send with 429 and 503 answers.
package retryafter

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Parse reads a Retry-After value, either delay-seconds or an HTTP-date, as
// a delay from now. It returns 0 for an empty, malformed or past value, and
// never more than limit: a peer must not park the hub's work for days.
func Parse(h string, now time.Time, limit time.Duration) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if strings.Trim(h, "0123456789") == "" {
		secs, err := strconv.ParseInt(h, 10, 64)
		if err != nil || secs > int64(limit/time.Second) {
			return limit // only a number too large to parse fails here
		}
		return time.Duration(secs) * time.Second
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0
	}
	return min(max(t.Sub(now), 0), limit)
}
