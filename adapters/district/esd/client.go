package esd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/korpu-az/korpu/adapters/outbound"
	"github.com/korpu-az/korpu/adapters/retryafter"
	"github.com/korpu-az/korpu/routers"
)

// ErrCredentials means ESD refused the hub's user name or password
// (ICAZE_YOXDUR). It is a configuration error: no retry helps until an
// operator fixes the credentials, so callers log it loudly. It comes wrapped
// in a *routers.PermanentError.
var ErrCredentials = routers.ErrDistrictCredentials

// maxRetryAfter caps the delay ESD may ask for with Retry-After.
const maxRetryAfter = 10 * time.Minute

const (
	// maxExcerpt caps the part of an answer quoted in an error.
	maxExcerpt = 300
	// sentComments sizes the memory of delivered comment ids: ESD has no
	// idempotency key for SerhElaveEt, so the client itself drops a
	// redelivery of a comment it has recently handed over.
	sentComments = 10000
)

// Client calls one district's ESD. It is safe for concurrent use.
type Client struct {
	cfg      Config
	password *outbound.Secret // cfg.Password, or what SetPassword put since
	http     *http.Client
	log      *slog.Logger
	sem      chan struct{} // one token per call in flight
	sent     *lru.Cache[string, struct{}]
}

var _ routers.District = (*Client)(nil)

// New returns a client of the ESD cfg describes. A nil client gets a
// transport that keeps idle connections for reuse; a nil logger discards.
func New(cfg Config, client *http.Client, logger *slog.Logger) (*Client, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if client == nil {
		// Every call in flight can keep its connection.
		client = &http.Client{Transport: outbound.Transport(cfg.MaxConcurrent, cfg.TLS)}
	}
	client = outbound.NoRedirects(client) // a redirect would post the password elsewhere
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sent, err := lru.New[string, struct{}](sentComments)
	if err != nil {
		return nil, fmt.Errorf("esd district %q: %w", cfg.Code, err)
	}
	return &Client{
		cfg:      cfg,
		password: outbound.NewSecret(cfg.Password),
		http:     client,
		log:      logger.With("district", cfg.Code),
		sem:      make(chan struct{}, cfg.MaxConcurrent),
		sent:     sent,
	}, nil
}

// SetPassword replaces the WS-Security password for every call from now
// on (a reload of the operator's file); calls in flight keep theirs.
func (c *Client) SetPassword(password string) { c.password.Set(password) }

// Submit registers an appeal with QeydiyyataAl and returns the ESD number.
// The hub's appeal number is the XariciNomre, so a repeat after a lost answer
// gets the TEKRAR fault, whose MovcudNomre is returned as the reference.
func (c *Client) Submit(ctx context.Context, s routers.Submission) (string, error) {
	payload, err := registerPayload(s)
	if err != nil {
		return "", &routers.PermanentError{Err: fmt.Errorf("district %s: appeal %s does not fit the ESD schema: %w", c.cfg.Code, s.AppealNumber, err)}
	}
	answer, err := c.call(ctx, OpRegister, s.AppealNumber, payload)
	if err != nil {
		var f *FaultError
		if errors.As(err, &f) && f.Code == CodeDuplicate && f.Existing != "" {
			if err := c.checkNumber("MovcudNomre", f.Existing); err != nil {
				return "", err
			}
			c.log.DebugContext(ctx, "appeal already registered", "appeal", s.AppealNumber, "reference", f.Existing)
			return f.Existing, nil
		}
		return "", err
	}
	return c.readRegistered(answer)
}

func (c *Client) readRegistered(answer *etree.Element) (string, error) {
	if !Is(answer, "QeydiyyataAlCavab") {
		return "", c.malformed(OpRegister, fmt.Errorf("answer is %s, not QeydiyyataAlCavab", answer.Tag))
	}
	number := Text(answer, "QeydiyyatNomresi")
	if number == "" {
		return "", c.malformed(OpRegister, errors.New("QeydiyyataAlCavab without QeydiyyatNomresi"))
	}
	if err := c.checkNumber("QeydiyyatNomresi", number); err != nil {
		return "", err
	}
	return number, nil
}

// checkNumber refuses an ESD number the hub would store as the appeal's
// reference if it is too long or holds a control character. Permanent: the
// repeat gets the same number back (TEKRAR), so no retry mends it, and the
// dead letter tells an operator to take it up with the vendor.
func (c *Client) checkNumber(element, number string) error {
	if err := routers.CheckDistrictText("reference", number, routers.MaxReferenceRunes); err != nil {
		return &routers.PermanentError{Err: fmt.Errorf("district %s: %s refused: %w", c.cfg.Code, element, err)}
	}
	return nil
}

// Comment forwards a citizen's remark with SerhElaveEt on the appeal's ESD
// number (cs.Reference). ESD knows no comment ids, so a comment among the
// last ones this client delivered is not sent again.
func (c *Client) Comment(ctx context.Context, cs routers.CommentSubmission) error {
	if cs.Reference == "" {
		return &routers.PermanentError{Err: fmt.Errorf("district %s: comment %s on %s without the ESD number", c.cfg.Code, cs.ID, cs.AppealNumber)}
	}
	if cs.ID != "" && c.sent.Contains(cs.ID) {
		return nil
	}
	op := NewPayload("SerhElaveEt")
	Add(op, "QeydiyyatNomresi", cs.Reference)
	Add(op, "Metn", cs.Text)
	Add(op, "Tarix", FormatDateTime(cs.At))
	answer, err := c.call(ctx, OpComment, cs.AppealNumber, op)
	if err != nil {
		return err
	}
	if !Is(answer, "SerhElaveEtCavab") {
		return c.malformed(OpComment, fmt.Errorf("answer is %s, not SerhElaveEtCavab", answer.Tag))
	}
	accepted, err := strconv.ParseBool(Text(answer, "Qebul"))
	if err != nil {
		return c.malformed(OpComment, fmt.Errorf("element Qebul: %w", err))
	}
	if !accepted {
		return &routers.PermanentError{Err: fmt.Errorf("district %s did not accept the comment on %s", c.cfg.Code, cs.Reference)}
	}
	if cs.ID != "" {
		c.sent.Add(cs.ID, struct{}{})
	}
	return nil
}

// StateResult is the answer of VeziyyetSorgula.
type StateResult struct {
	ESDNumber string         // QeydiyyatNomresi
	Veziyyet  int            // 1–6
	Status    routers.Status // Veziyyet as the portal's status
	Note      string         // Qeyd, if any
	Executor  string         // Icraci: who handles the appeal, if said
	At        time.Time      // Tarix: when the appeal reached this state
}

// State asks VeziyyetSorgula for the state of one appeal by its ESD number
// (the reference Submit returned); an unknown number is a permanent error
// wrapping routers.ErrNotFound.
func (c *Client) State(ctx context.Context, esdNumber string) (StateResult, error) {
	op := NewPayload("VeziyyetSorgu")
	Add(op, "QeydiyyatNomresi", esdNumber)
	answer, err := c.call(ctx, OpState, "", op)
	if err != nil {
		return StateResult{}, err
	}
	st, err := readState(answer)
	if err != nil {
		return StateResult{}, c.malformed(OpState, err)
	}
	return st, nil
}

func readState(answer *etree.Element) (StateResult, error) {
	if !Is(answer, "VeziyyetCavab") {
		return StateResult{}, fmt.Errorf("answer is %s, not VeziyyetCavab", answer.Tag)
	}
	v, status, err := readVeziyyet(answer)
	if err != nil {
		return StateResult{}, err
	}
	at, err := ParseDateTime(Text(answer, "Tarix"))
	if err != nil {
		return StateResult{}, fmt.Errorf("element Tarix: %w", err)
	}
	return StateResult{
		ESDNumber: Text(answer, "QeydiyyatNomresi"),
		Veziyyet:  v,
		Status:    status,
		Note:      Text(answer, "Qeyd"),
		Executor:  Text(answer, "Icraci"),
		At:        at,
	}, nil
}

// Change is one state change of DeyisiklikleriAl.
type Change struct {
	AppealNumber string         // XariciNomre: the hub's number
	ESDNumber    string         // QeydiyyatNomresi
	Veziyyet     int            // 1–6
	Status       routers.Status // Veziyyet as the portal's status; 1 is delivered, which the hub knows already
	Note         string         // Qeyd, if any
	At           time.Time      // Tarix: when the change happened
}

// ChangesPage is one answer of DeyisiklikleriAl.
type ChangesPage struct {
	// Changes are oldest first.
	Changes []Change
	// More (Davami) is true when more changes follow: ask again from Next.
	More bool
	// Next is where the next query starts: the Tarix of the last change, or
	// the query's own start if the page is empty. ESD repeats the changes of
	// that instant, so a poller must tolerate seeing them twice, and when
	// Next equals the start while More is true, the page held nothing but
	// that instant: ask again with a larger limit, or the poll stands still.
	Next time.Time
}

// Changes asks DeyisiklikleriAl for the state changes at or after since,
// about limit of them (ESD never splits an instant, so a page may hold more).
func (c *Client) Changes(ctx context.Context, since time.Time, limit int) (ChangesPage, error) {
	if limit <= 0 {
		return ChangesPage{}, &routers.PermanentError{Err: fmt.Errorf("district %s: changes limit %d is not positive", c.cfg.Code, limit)}
	}
	op := NewPayload("DeyisiklikSorgu")
	Add(op, "Tarixden", FormatDateTime(since))
	Add(op, "Limit", strconv.Itoa(limit))
	answer, err := c.call(ctx, OpChanges, "", op)
	if err != nil {
		return ChangesPage{}, err
	}
	page, err := readChanges(answer, since)
	if err != nil {
		return ChangesPage{}, c.malformed(OpChanges, err)
	}
	return page, nil
}

func readChanges(answer *etree.Element, since time.Time) (ChangesPage, error) {
	if !Is(answer, "DeyisiklikCavab") {
		return ChangesPage{}, fmt.Errorf("answer is %s, not DeyisiklikCavab", answer.Tag)
	}
	page := ChangesPage{Next: since}
	for _, d := range answer.ChildElements() {
		if !Is(d, "Deyisiklik") {
			continue
		}
		v, status, err := readVeziyyet(d)
		if err != nil {
			return ChangesPage{}, err
		}
		at, err := ParseDateTime(Text(d, "Tarix"))
		if err != nil {
			return ChangesPage{}, fmt.Errorf("element Deyisiklik/Tarix: %w", err)
		}
		ch := Change{
			AppealNumber: Text(d, "XariciNomre"),
			ESDNumber:    Text(d, "QeydiyyatNomresi"),
			Veziyyet:     v,
			Status:       status,
			Note:         Text(d, "Qeyd"),
			At:           at,
		}
		if ch.AppealNumber == "" || ch.ESDNumber == "" {
			return ChangesPage{}, errors.New("a Deyisiklik without XariciNomre or QeydiyyatNomresi")
		}
		page.Changes = append(page.Changes, ch)
		page.Next = at
	}
	more, err := strconv.ParseBool(Text(answer, "Davami"))
	if err != nil {
		return ChangesPage{}, fmt.Errorf("element Davami: %w", err)
	}
	page.More = more
	return page, nil
}

func readVeziyyet(e *etree.Element) (int, routers.Status, error) {
	raw := Text(e, "Veziyyet")
	v, err := strconv.Atoi(raw)
	if err != nil {
		return 0, "", fmt.Errorf("element Veziyyet: %q is not a number", raw)
	}
	status, ok := StatusOf(v)
	if !ok {
		return 0, "", fmt.Errorf("element Veziyyet: %d is outside 1–6", v)
	}
	return v, status, nil
}

// call sends one operation and returns the payload of a successful answer.
// Every failure is a *routers.TransientError or *routers.PermanentError.
func (c *Client) call(ctx context.Context, op, appeal string, payload *etree.Element) (*etree.Element, error) {
	body, err := NewEnvelope(usernameToken(c.cfg.Username, c.password.Get()), payload).WriteToBytes()
	if err != nil {
		return nil, &routers.PermanentError{Err: fmt.Errorf("district %s: encode %s: %w", c.cfg.Code, op, err)}
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	select {
	case c.sem <- struct{}{}:
		defer func() { <-c.sem }()
	case <-ctx.Done():
		return nil, &routers.TransientError{Err: fmt.Errorf("district %s: %s: waiting for a free connection: %w", c.cfg.Code, op, ctx.Err())}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.Endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, &routers.PermanentError{Err: fmt.Errorf("district %s: build %s: %w", c.cfg.Code, op, err)}
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `"`+SOAPAction(op)+`"`)
	req.Header.Set("Accept", "text/xml")

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.log.DebugContext(ctx, "ESD call failed", "op", op, "appeal", appeal, "duration", time.Since(start), "error", err)
		return nil, &routers.TransientError{Err: fmt.Errorf("district %s: %s: %w", c.cfg.Code, op, err)}
	}
	defer resp.Body.Close()
	if outbound.IsRedirect(resp.StatusCode) {
		// Checked before the body is read: a redirect's body could hold a
		// TEKRAR fault whose number Submit would take.
		return nil, c.redirected(ctx, op, appeal, resp)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxResponseBytes+1))
	if err != nil {
		return nil, &routers.TransientError{Err: fmt.Errorf("district %s: read answer %d to %s: %w", c.cfg.Code, resp.StatusCode, op, err)}
	}
	c.log.DebugContext(ctx, "ESD answered", "op", op, "appeal", appeal, "status", resp.StatusCode, "duration", time.Since(start))
	if int64(len(data)) > c.cfg.MaxResponseBytes {
		return nil, &routers.TransientError{Err: fmt.Errorf("district %s answered %s (%d) with more than %d bytes", c.cfg.Code, op, resp.StatusCode, c.cfg.MaxResponseBytes)}
	}
	return c.answer(op, resp, data)
}

// redirected fails a call that ESD answered with a 3xx: transient, for the
// reasons package outbound gives.
func (c *Client) redirected(ctx context.Context, op, appeal string, resp *http.Response) error {
	host := outbound.LocationHost(resp)
	c.log.ErrorContext(ctx, "ESD answered with a redirect, which is never followed", "op", op, "appeal", appeal, "status", resp.StatusCode, "location_host", host)
	return &routers.TransientError{Err: fmt.Errorf("district %s answered %s with %d, a redirect to %q that is not followed", c.cfg.Code, op, resp.StatusCode, host)}
}

// answer classifies a read answer: a SOAP fault by its Xeta code, a non-SOAP
// answer by its HTTP status.
func (c *Client) answer(op string, resp *http.Response, data []byte) (*etree.Element, error) {
	env, perr := ReadEnvelope(data)
	if perr == nil {
		if f := readFault(env.Payload); f != nil {
			return nil, c.fault(op, f)
		}
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			return env.Payload, nil
		}
	}
	retryAfter := retryafter.Parse(resp.Header.Get("Retry-After"), c.cfg.Now(), maxRetryAfter)
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		return nil, c.malformed(op, fmt.Errorf("%w; answer starts %q", perr, excerpt(data)))
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return nil, &routers.PermanentError{Err: fmt.Errorf("district %s answered %d to %s: %w", c.cfg.Code, code, op, ErrCredentials)}
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return nil, &routers.TransientError{Err: fmt.Errorf("district %s answered %d to %s: %s", c.cfg.Code, code, op, excerpt(data)), RetryAfter: retryAfter}
	default: // a wrong endpoint or a proxy refusing: no retry changes it
		return nil, &routers.PermanentError{Err: fmt.Errorf("district %s answered %d to %s: %s", c.cfg.Code, code, op, excerpt(data))}
	}
}

// fault sorts an ESD fault into a transient or permanent error.
func (c *Client) fault(op string, f *FaultError) error {
	err := fmt.Errorf("district %s: %s: %w", c.cfg.Code, op, f)
	switch f.Code {
	case CodeBusy:
		return &routers.TransientError{Err: err}
	case CodeUnauthorized:
		return &routers.PermanentError{Err: fmt.Errorf("%w: %w", err, ErrCredentials)}
	case CodeNotFound:
		return &routers.PermanentError{Err: fmt.Errorf("%w: %w", err, routers.ErrNotFound)}
	case CodeInvalid, CodeDuplicate: // a TEKRAR that Submit could not use is a refusal too
		return &routers.PermanentError{Err: err}
	case "":
		// A fault without Xeta comes from the SOAP stack or a gateway:
		// the server's own trouble may pass, the client's will not.
		if strings.HasSuffix(f.FaultCode, "Client") {
			return &routers.PermanentError{Err: err}
		}
		return &routers.TransientError{Err: err}
	default:
		return &routers.TransientError{Err: fmt.Errorf("%w (unknown Xeta code)", err)}
	}
}

// malformed is an answer the client cannot read. Repeating the call is safe
// (ESD dedups XariciNomre via TEKRAR, the others only read), and a broken
// answer is usually a passing fault of the server or a proxy.
func (c *Client) malformed(op string, err error) error {
	return &routers.TransientError{Err: fmt.Errorf("district %s: unreadable answer to %s: %w", c.cfg.Code, op, err)}
}

// excerpt returns at most maxExcerpt bytes of a body as valid UTF-8 text. It
// cuts before it converts, so quoting a 4 MiB answer copies no 4 MiB.
func excerpt(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > maxExcerpt {
		i := maxExcerpt
		for i > 0 && !utf8.RuneStart(b[i]) {
			i--
		}
		b = b[:i]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
