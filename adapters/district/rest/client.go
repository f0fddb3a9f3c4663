package rest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/korpu-az/korpu/adapters/outbound"
	"github.com/korpu-az/korpu/adapters/retryafter"
	"github.com/korpu-az/korpu/routers"
)

// DefaultTimeout bounds one call to a district when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

const (
	// maxResponseBody caps what the client reads of an answer: a reference
	// or an error message never needs more.
	maxResponseBody = 1 << 20
	// maxExcerpt caps the part of a district's answer quoted in an error.
	maxExcerpt = 500
	// maxRetryAfter caps the delay a district may ask for, so a wrong
	// header cannot park an appeal for days.
	maxRetryAfter = 10 * time.Minute
)

// ErrCredentials means the district refused the hub's token (401 or 403). It
// is a configuration error: no retry helps until an operator fixes the token,
// so callers log it loudly. It comes wrapped in a *routers.PermanentError.
var ErrCredentials = routers.ErrDistrictCredentials

// Config is the connection to one modern district system.
type Config struct {
	// Code is the district's code, e.g. AZ-SAT; it names the district in
	// logs and errors.
	Code string
	// Endpoint is the base URL of the district's API; the client appends
	// /appeals to it.
	Endpoint string
	// Token is the bearer token the hub presents. Secret: never logged.
	Token string
	// Timeout bounds one call, from connecting to reading the last byte of
	// the answer. Default DefaultTimeout (10s).
	Timeout time.Duration
	// Now is the hub's clock: a Retry-After given as a date is read against
	// it. Default time.Now.
	Now func() time.Time
	// TLS, if set, is the client side of TLS to the district: a private CA,
	// the hub's client certificate (tlsconf.Client). Nil: the system's
	// roots. Used only by the client New builds.
	TLS *tls.Config
}

func (c *Config) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
}

// Validate reports every missing or malformed field at once.
func (c Config) Validate() error {
	var errs []error
	if c.Code == "" {
		errs = append(errs, errors.New("code is empty"))
	}
	if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("endpoint %q is not an http(s) URL", c.Endpoint))
	}
	if c.Token == "" {
		errs = append(errs, errors.New("token is empty"))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %s is negative", c.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("rest district %q: %w", c.Code, err)
	}
	return nil
}

// LogValue renders the configuration for logs with the token masked.
func (c Config) LogValue() slog.Value {
	token := ""
	if c.Token != "" {
		token = "***"
	}
	return slog.GroupValue(
		slog.String("code", c.Code),
		slog.String("endpoint", c.Endpoint),
		slog.String("token", token),
		slog.Duration("timeout", c.Timeout),
	)
}

// Client calls one modern district system. It is safe for concurrent use.
type Client struct {
	cfg      Config
	endpoint string           // without a trailing slash
	token    *outbound.Secret // cfg.Token, or what SetToken put since
	http     *http.Client
	log      *slog.Logger
}

var _ routers.District = (*Client)(nil)

// New returns a client of the district cfg describes. A nil client gets a
// transport that keeps enough idle connections per host to reuse them under
// load; a nil logger discards.
func New(cfg Config, client *http.Client, logger *slog.Logger) (*Client, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if client == nil {
		// 16 idle connections: deliveries to a district overlap.
		client = &http.Client{Transport: outbound.Transport(16, cfg.TLS)}
	}
	client = outbound.NoRedirects(client) // a redirect would hand the appeal to another host
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Client{
		cfg:      cfg,
		endpoint: strings.TrimRight(cfg.Endpoint, "/"),
		token:    outbound.NewSecret(cfg.Token),
		http:     client,
		log:      logger.With("district", cfg.Code),
	}, nil
}

// SetToken replaces the bearer token for every call from now on (a
// reload of the operator's file); calls in flight keep theirs.
func (c *Client) SetToken(token string) { c.token.Set(token) }

// Submit hands an appeal over with POST {endpoint}/appeals. The appeal number
// is the Idempotency-Key, so a repeat after a lost answer returns the
// reference of the first call.
func (c *Client) Submit(ctx context.Context, s routers.Submission) (string, error) {
	if s.AppealNumber == "" {
		return "", &routers.PermanentError{Err: fmt.Errorf("district %s: submission without an appeal number", c.cfg.Code)}
	}
	r, err := c.post(ctx, "/appeals", s.AppealNumber, s.AppealNumber, newAppealBody(s))
	if err != nil {
		return "", err
	}
	if r.status < 200 || r.status > 299 {
		return "", c.failure(r, "the appeal")
	}
	ref, err := c.reference(r)
	if err != nil {
		return "", err
	}
	return ref, nil
}

// Comment forwards a citizen's remark with POST
// {endpoint}/appeals/{appeal_number}/comments and the comment's id as
// Idempotency-Key. The reference is not needed: the REST API addresses
// appeals by the hub's number.
func (c *Client) Comment(ctx context.Context, cs routers.CommentSubmission) error {
	appealNumber := cs.AppealNumber
	if appealNumber == "" {
		return &routers.PermanentError{Err: fmt.Errorf("district %s: comment without an appeal number", c.cfg.Code)}
	}
	path := "/appeals/" + url.PathEscape(appealNumber) + "/comments"
	r, err := c.post(ctx, path, appealNumber, cs.ID, CommentBody{Text: cs.Text, At: routers.FormatTime(cs.At)})
	if err != nil {
		return err
	}
	if r.status < 200 || r.status > 299 {
		return c.failure(r, "the comment")
	}
	return nil
}

// reply is a district's answer, read in full (up to maxResponseBody).
type reply struct {
	status   int
	header   http.Header
	body     []byte
	tooLarge bool // the body was cut at maxResponseBody
}

// post sends one JSON request and reads the answer. Failures to reach the
// district or to read its answer are transient; the status is left to the caller.
func (c *Client) post(ctx context.Context, path, appeal, key string, payload any) (*reply, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, &routers.PermanentError{Err: fmt.Errorf("district %s: encode %s: %w", c.cfg.Code, path, err)}
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+path, bytes.NewReader(body))
	if err != nil {
		return nil, &routers.PermanentError{Err: fmt.Errorf("district %s: build request: %w", c.cfg.Code, err)}
	}
	req.Header.Set("Authorization", "Bearer "+c.token.Get())
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.log.DebugContext(ctx, "district call failed", "appeal", appeal, "path", path, "duration", time.Since(start), "error", err)
		return nil, &routers.TransientError{Err: fmt.Errorf("district %s: POST %s: %w", c.cfg.Code, path, err)}
	}
	defer resp.Body.Close()
	if outbound.IsRedirect(resp.StatusCode) {
		// Transient, for the reasons package outbound gives.
		host := outbound.LocationHost(resp)
		c.log.ErrorContext(ctx, "district answered with a redirect, which is never followed", "appeal", appeal, "path", path, "status", resp.StatusCode, "location_host", host)
		return nil, &routers.TransientError{Err: fmt.Errorf("district %s answered POST %s with %d, a redirect to %q that is not followed", c.cfg.Code, path, resp.StatusCode, host)}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return nil, &routers.TransientError{Err: fmt.Errorf("district %s: read answer %d to POST %s: %w", c.cfg.Code, resp.StatusCode, path, err)}
	}
	r := &reply{status: resp.StatusCode, header: resp.Header, body: data}
	if len(data) > maxResponseBody {
		r.body, r.tooLarge = data[:maxResponseBody], true
	}
	c.log.DebugContext(ctx, "district answered", "appeal", appeal, "path", path, "status", r.status, "duration", time.Since(start))
	return r, nil
}

// reference extracts the reference from a successful answer. A district that
// accepts without saying its reference misbehaved; the retry is safe because
// it carries the same Idempotency-Key.
func (c *Client) reference(r *reply) (string, error) {
	if r.tooLarge {
		return "", &routers.TransientError{Err: fmt.Errorf("district %s answered %d with a body over %d bytes", c.cfg.Code, r.status, maxResponseBody)}
	}
	var b ReferenceBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		return "", &routers.TransientError{Err: fmt.Errorf("district %s answered %d with an unreadable body %q: %w", c.cfg.Code, r.status, excerpt(r.body), err)}
	}
	if strings.TrimSpace(b.Reference) == "" {
		return "", &routers.TransientError{Err: fmt.Errorf("district %s accepted the appeal (%d) without a reference", c.cfg.Code, r.status)}
	}
	// Too long or with control characters: permanent, as the repeat with the
	// same Idempotency-Key gets the same reference back.
	if err := routers.CheckDistrictText("reference", b.Reference, routers.MaxReferenceRunes); err != nil {
		return "", &routers.PermanentError{Err: fmt.Errorf("district %s accepted the appeal (%d) with a reference the hub refuses: %w", c.cfg.Code, r.status, err)}
	}
	return b.Reference, nil
}

// failure classifies an answer other than 2xx.
func (c *Client) failure(r *reply, what string) error {
	msg := excerpt(r.body)
	if msg == "" {
		msg = http.StatusText(r.status)
	}
	switch {
	case r.status == http.StatusUnauthorized || r.status == http.StatusForbidden:
		return &routers.PermanentError{Err: fmt.Errorf("district %s answered %d to %s: %w", c.cfg.Code, r.status, what, ErrCredentials)}
	case r.status == http.StatusRequestTimeout || r.status == http.StatusTooManyRequests || r.status >= 500:
		return &routers.TransientError{
			Err:        fmt.Errorf("district %s answered %d to %s: %s", c.cfg.Code, r.status, what, msg),
			RetryAfter: retryafter.Parse(r.header.Get("Retry-After"), c.cfg.Now(), maxRetryAfter),
		}
	case r.status == http.StatusNotFound:
		return &routers.PermanentError{Err: fmt.Errorf("district %s answered 404 to %s: %s: %w", c.cfg.Code, what, msg, routers.ErrNotFound)}
	default: // 400, 422, other 4xx, and 1xx that no retry will change
		return &routers.PermanentError{Err: fmt.Errorf("district %s refused %s (%d): %s", c.cfg.Code, what, r.status, msg)}
	}
}

// excerpt returns at most maxExcerpt bytes of a body as valid UTF-8 text.
func excerpt(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > maxExcerpt {
		i := maxExcerpt
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
