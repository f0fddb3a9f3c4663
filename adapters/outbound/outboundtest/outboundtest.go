// Package outboundtest proves that a client never follows a redirect: a
// server answers every request with a 3xx pointing at a trap that counts
// whatever reaches it.
package outboundtest

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// Statuses are the redirects a client must refuse to follow.
var Statuses = []int{
	http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
	http.StatusTemporaryRedirect, http.StatusPermanentRedirect,
}

// Secret is in the query of every Location the redirector sends: it must
// appear in no log.
const Secret = "location-s3cret"

// Redirect is one origin that redirects and the trap it points at.
type Redirect struct {
	// URL is the origin's: give it to the client as its endpoint.
	URL string
	// TrapHost is the host the redirects point to.
	TrapHost string
	hits     atomic.Int32
}

// Hits is how many requests reached the trap.
func (r *Redirect) Hits() int32 { return r.hits.Load() }

// New starts a trap and an origin that answers every request with status
// and a Location on the trap, same path, and Secret in the query.
func New(t *testing.T, status int) *Redirect {
	t.Helper()
	r := &Redirect{}
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		r.hits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(trap.Close)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Location", trap.URL+req.URL.Path+"?token="+Secret)
		w.WriteHeader(status)
	}))
	t.Cleanup(origin.Close)
	u, err := url.Parse(trap.URL)
	require.NoError(t, err)
	r.URL, r.TrapHost = origin.URL, u.Host
	return r
}

// Log is a logger whose output a test can read.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Logger returns a JSON logger writing to l.
func (l *Log) Logger() *slog.Logger { return slog.New(slog.NewJSONHandler(l, nil)) }

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns what was logged so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// RequireLogged checks that the redirect was logged at error level with the
// trap's host and each of fields (such as `"district":"AZ-BIL"`), and that
// none of secrets nor Secret was.
func (r *Redirect) RequireLogged(t *testing.T, l *Log, fields []string, secrets ...string) {
	t.Helper()
	out := l.String()
	require.Contains(t, out, `"level":"ERROR"`)
	require.Contains(t, out, `"location_host":"`+r.TrapHost+`"`)
	for _, f := range fields {
		require.Contains(t, out, f)
	}
	for _, s := range append(secrets, Secret) {
		require.NotContains(t, out, s)
	}
}
