// Package registry is the client of the ID-card registry (contract §3): it
// looks a person up by FİN and implements routers.Registry.
//
// The registry is slow and rate-limited, so the client calls it as little as
// it can: answers (records and 404s) are cached for a while, a burst of
// lookups of one FİN makes one request, at most MaxConcurrent requests are in
// flight, and after the registry asks the hub to wait (Retry-After on a 429
// or 503) no request is sent until that time has passed.
package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/sync/semaphore"
	"golang.org/x/sync/singleflight"

	"github.com/korpu-az/korpu/adapters/outbound"
	"github.com/korpu-az/korpu/adapters/retryafter"
	"github.com/korpu-az/korpu/routers"
)

// Errors of the client besides those of routers.Registry.
var (
	// ErrUnauthorized: the registry refused the hub's token (401 or 403). It
	// is a configuration problem, not a fault of the request being handled.
	ErrUnauthorized = errors.New("registry refused the token: check the registry token in the configuration")
	// ErrBadRecord: the registry answered 200 with something that is not the
	// record of the person asked for.
	ErrBadRecord = errors.New("registry answered with an invalid record")
)

const (
	// maxBody is the largest registry answer read; a record is a few hundred bytes.
	maxBody = 1 << 20
	// maxRetryAfter caps the wait the registry may impose, so that a bogus
	// header cannot stall the hub for days.
	maxRetryAfter = 5 * time.Minute
	// errBodyPeek is how much of an error answer is read, to reuse the connection.
	errBodyPeek = 64 << 10
)

// errAbandoned marks a lookup whose caller gave up while it waited for a free
// slot; callers that shared it and still wait try again.
var errAbandoned = errors.New("registry lookup abandoned by its caller")

// Stats counts what a Client did since it was made.
type Stats struct {
	Calls     uint64 // HTTP requests sent to the registry
	CacheHits uint64 // lookups answered from the cache (records and 404s)
	Errors    uint64 // requests that failed: transport, 401/403, 429, 5xx, bad records…
	Throttled uint64 // lookups refused without a request because the registry asked to wait
}

// Client looks persons up in the registry. It is safe for concurrent use.
type Client struct {
	cfg     Config
	token   *outbound.Secret // cfg.Token, or what SetToken put since
	http    *http.Client
	logger  *slog.Logger
	slots   *semaphore.Weighted
	flights singleflight.Group
	cache   *expirable.LRU[string, answer]

	mu        sync.Mutex
	waitUntil time.Time // no request before this time: the registry asked so

	failing    atomic.Bool            // the last request failed transiently
	onRecovery atomic.Pointer[func()] // told when a real answer follows a failure

	calls, hits, errs, throttled atomic.Uint64
}

// answer is a cached outcome: a record, or a 404 until expires.
type answer struct {
	record   json.RawMessage
	notFound bool
	expires  time.Time // of a 404, which lives shorter than the cache's TTL
}

// New validates cfg and returns a Client. A nil client gets an http.Client
// whose transport keeps enough idle connections to the registry for
// MaxConcurrent requests; a nil logger discards.
func New(cfg Config, client *http.Client, logger *slog.Logger) (*Client, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("registry config: %w", err)
	}
	if client == nil {
		tr := outbound.Transport(cfg.MaxConcurrent, cfg.TLS)
		tr.MaxConnsPerHost = cfg.MaxConcurrent
		client = &http.Client{Transport: tr}
	}
	client = outbound.NoRedirects(client) // a redirect would send the token and the FİN elsewhere
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Client{
		cfg:    cfg,
		token:  outbound.NewSecret(cfg.Token),
		http:   client,
		logger: logger,
		slots:  semaphore.NewWeighted(int64(cfg.MaxConcurrent)),
		// The LRU's janitor goroutine never ends (golang-lru v2.0.7 has no
		// Close): make one Client per process, not one per lookup.
		cache: expirable.NewLRU[string, answer](cfg.CacheSize, nil, cfg.CacheTTL),
	}, nil
}

// SetToken replaces the bearer token for every request from now on (a
// reload of the operator's file); requests in flight keep theirs.
func (c *Client) SetToken(token string) { c.token.Set(token) }

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	return Stats{
		Calls:     c.calls.Load(),
		CacheHits: c.hits.Load(),
		Errors:    c.errs.Load(),
		Throttled: c.throttled.Load(),
	}
}

// OnRecovery implements routers.RecoveryNotifier: fn is called each time
// the registry answers (a record or a 404) after a transient failure.
func (c *Client) OnRecovery(fn func()) { c.onRecovery.Store(&fn) }

// Person returns the registry's record of fin, routers.ErrPersonNotFound, a
// *routers.TransientError, a *routers.HoldOffError while the registry's
// Retry-After lasts (no request is sent), an error wrapping ErrUnauthorized
// or ErrBadRecord, or ctx's error. The returned record is the caller's to keep.
func (c *Client) Person(ctx context.Context, fin string) (json.RawMessage, error) {
	if a, ok := c.cached(fin); ok {
		rec, err := a.result(fin)
		return bytes.Clone(rec), err
	}
	for {
		ch := c.flights.DoChan(fin, func() (any, error) { return c.lookup(ctx, fin) })
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("registry lookup: %w", ctx.Err())
		case r := <-ch:
			if errors.Is(r.Err, errAbandoned) && ctx.Err() == nil {
				continue // the caller that led the lookup left; lead a new one
			}
			rec, _ := r.Val.(json.RawMessage)
			return bytes.Clone(rec), r.Err
		}
	}
}

// cached returns the cached answer for fin, if any.
func (c *Client) cached(fin string) (answer, bool) {
	a, ok := c.cache.Get(fin)
	if !ok {
		return answer{}, false
	}
	if a.notFound && c.cfg.Now().After(a.expires) {
		c.cache.Remove(fin)
		return answer{}, false
	}
	c.hits.Add(1)
	return a, true
}

// result is what Person returns for a cached answer about fin.
func (a answer) result(fin string) (json.RawMessage, error) {
	if a.notFound {
		return nil, fmt.Errorf("fin %s: %w", MaskFIN(fin), routers.ErrPersonNotFound)
	}
	return a.record, nil
}

// lookup runs once for all concurrent callers of one FİN: it waits for a slot
// as long as the leading caller does, then asks the registry.
func (c *Client) lookup(ctx context.Context, fin string) (json.RawMessage, error) {
	// Another flight may have filled the cache since Person looked.
	if a, ok := c.cached(fin); ok {
		return a.result(fin)
	}
	if err := c.gate(fin); err != nil {
		return nil, err
	}
	if err := c.slots.Acquire(ctx, 1); err != nil {
		return nil, fmt.Errorf("%w: %w", errAbandoned, err)
	}
	defer c.slots.Release(1)
	// The registry may have asked to wait while this lookup queued.
	if err := c.gate(fin); err != nil {
		return nil, err
	}
	// The request outlives a caller that gives up: its answer is cached and
	// may serve the others that share it.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Timeout)
	defer cancel()
	rec, err := c.fetch(rctx, fin)
	var transient *routers.TransientError
	switch {
	case err == nil:
		c.cache.Add(fin, answer{record: rec})
		c.answered()
	case errors.Is(err, routers.ErrPersonNotFound):
		c.cache.Add(fin, answer{notFound: true, expires: c.cfg.Now().Add(c.cfg.NotFoundTTL)})
		c.answered()
	case errors.As(err, &transient):
		c.failing.Store(true)
		c.errs.Add(1)
	default:
		c.errs.Add(1)
	}
	return rec, err
}

// answered tells OnRecovery's function that the registry answers again, if
// it had failed. Cached answers prove nothing and never come here.
func (c *Client) answered() {
	if c.failing.CompareAndSwap(true, false) {
		if fn := c.onRecovery.Load(); fn != nil {
			(*fn)()
		}
	}
}

// gate refuses to call the registry before the time it asked the hub to
// wait: a hold-off, not a failed attempt of the caller.
func (c *Client) gate(fin string) error {
	c.mu.Lock()
	wait := c.waitUntil.Sub(c.cfg.Now())
	c.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	c.throttled.Add(1)
	return &routers.HoldOffError{
		Err:  fmt.Errorf("fin %s: registry asked to wait %s more", MaskFIN(fin), wait.Round(time.Millisecond)),
		Wait: wait,
	}
}

// holdOff records that the registry asked not to be called for d.
func (c *Client) holdOff(d time.Duration) {
	until := c.cfg.Now().Add(d)
	c.mu.Lock()
	if until.After(c.waitUntil) {
		c.waitUntil = until
	}
	c.mu.Unlock()
}

// fetch makes one request and classifies its answer.
func (c *Client) fetch(ctx context.Context, fin string) (json.RawMessage, error) {
	masked := MaskFIN(fin)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.URL+"/v1/persons/"+url.PathEscape(fin), nil)
	if err != nil {
		return nil, fmt.Errorf("registry request for fin %s: %w", masked, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token.Get())
	req.Header.Set("Accept", "application/json")

	c.calls.Add(1)
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		// url.Error holds the URL, and so the full FİN: keep only its cause.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		c.logger.WarnContext(ctx, "registry unreachable", "fin", masked, "error", err)
		return nil, &routers.TransientError{Err: fmt.Errorf("registry request for fin %s: %w", masked, err)}
	}
	defer resp.Body.Close()
	c.logger.DebugContext(ctx, "registry answered", "fin", masked, "status", resp.StatusCode, "duration", time.Since(start))

	switch code := resp.StatusCode; {
	case code == http.StatusOK:
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		if err != nil {
			c.logger.WarnContext(ctx, "registry answer cut short", "fin", masked, "error", err)
			return nil, &routers.TransientError{Err: fmt.Errorf("registry answer for fin %s: %w", masked, err)}
		}
		if err := checkRecord(body, fin); err != nil {
			c.logger.ErrorContext(ctx, "registry answered with an invalid record", "fin", masked, "error", err)
			return nil, fmt.Errorf("registry answer for fin %s: %w", masked, err)
		}
		return body, nil
	case code == http.StatusNotFound:
		discard(resp.Body)
		return nil, fmt.Errorf("fin %s: %w", masked, routers.ErrPersonNotFound)
	case code == http.StatusUnauthorized, code == http.StatusForbidden:
		discard(resp.Body)
		c.logger.ErrorContext(ctx, "registry refused the token", "status", code)
		return nil, fmt.Errorf("registry answered %d: %w", code, ErrUnauthorized)
	case outbound.IsRedirect(code):
		// Transient, for the reasons package outbound gives.
		discard(resp.Body)
		host := outbound.LocationHost(resp)
		c.logger.ErrorContext(ctx, "registry answered with a redirect, which is never followed", "fin", masked, "status", code, "location_host", host)
		return nil, &routers.TransientError{Err: fmt.Errorf("registry answered %d for fin %s, a redirect to %q that is not followed", code, masked, host)}
	case code == http.StatusTooManyRequests, code >= 500:
		discard(resp.Body)
		wait := retryafter.Parse(resp.Header.Get("Retry-After"), c.cfg.Now(), maxRetryAfter)
		if wait > 0 {
			c.holdOff(wait)
		}
		c.logger.WarnContext(ctx, "registry unavailable", "fin", masked, "status", code, "retry_after", wait)
		return nil, &routers.TransientError{
			Err:        fmt.Errorf("registry answered %d for fin %s", code, masked),
			RetryAfter: wait,
		}
	default:
		discard(resp.Body)
		c.logger.ErrorContext(ctx, "registry answered unexpectedly", "fin", masked, "status", code)
		return nil, fmt.Errorf("registry answered unexpected status %d for fin %s", code, masked)
	}
}

// checkRecord verifies that body is one JSON object about fin.
func checkRecord(body []byte, fin string) error {
	if len(body) > maxBody {
		return fmt.Errorf("%w: larger than %d bytes", ErrBadRecord, maxBody)
	}
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(body, &rec); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRecord, err)
	}
	if rec == nil {
		return fmt.Errorf("%w: null", ErrBadRecord)
	}
	var got string
	if err := json.Unmarshal(rec["fin"], &got); err != nil || got == "" {
		return fmt.Errorf("%w: no fin", ErrBadRecord)
	}
	if got != fin {
		// Someone else's record: never hand it on, nor log it.
		return fmt.Errorf("%w: record of fin %s", ErrBadRecord, MaskFIN(got))
	}
	return nil
}

// discard reads a little of an unwanted body so the connection can be reused.
func discard(body io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, errBodyPeek))
}
