// Package httpapi is the hub's HTTP face: the districts' status callbacks
// (contract §4), the portal's read API, the monitors' dead letters, Open311
// and the API's own OpenAPI document, /metrics, /healthz and /readyz.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/korpu-az/korpu/adapters/access"
	"github.com/korpu-az/korpu/adapters/authlimit"
	"github.com/korpu-az/korpu/adapters/problem"
	"github.com/korpu-az/korpu/routers"
)

// notDeliveredRetryAfter is when a district should report again a status
// on an appeal whose hand-over has not been acknowledged yet.
const notDeliveredRetryAfter = 5 * time.Second

// maxCallbackBytes bounds a status report; real ones are a few hundred bytes.
const maxCallbackBytes = 64 << 10

// StatusReporter applies a district's status report (routers.Hub).
type StatusReporter interface {
	ReportStatus(ctx context.Context, r routers.StatusReport) error
}

// Check is one readiness probe, such as "postgres" or "rabbitmq".
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// DeadLetters is what monitors may do with dead letters, and operators
// replay or drop with who they are recorded (routers.DeadLetterDesk).
type DeadLetters interface {
	List(ctx context.Context, state routers.DeadLetterState, afterID int64, limit int) ([]routers.DeadLetter, error)
	Show(ctx context.Context, id int64) (routers.DeadLetter, error)
	Replay(ctx context.Context, id int64, by routers.Operator) error
	Drop(ctx context.Context, id int64, by routers.Operator) error
	// Actions is the operators' record, newest first, below an id (0: from the latest).
	Actions(ctx context.Context, beforeID int64, limit int) ([]routers.OperatorAction, error)
}

// Config wires the API.
type Config struct {
	// Access finds the caller by bearer token: the parties of the access
	// list, and each district (access.RoleDistrict, named by its code) by
	// its callback token. It may be swapped while the API serves.
	Access *access.Tokens
	// Inquiry answers the portal's read API; nil leaves it out.
	Inquiry Inquiry
	// Documents renders printable appeals; nil leaves the document route out.
	Documents Documents
	// Chains answers GET /v1/log/verify; nil leaves the log's routes out.
	Chains Chains
	// Log answers the transparency log's checkpoint and proofs; nil leaves them out.
	Log         TransparencyLog
	DeadLetters DeadLetters
	Reporter    StatusReporter
	Gatherer    prometheus.Gatherer
	Ready       []Check
	Logger      *slog.Logger
	// AuthLimit holds off sources that keep failing to authenticate; nil
	// limits nothing.
	AuthLimit *authlimit.Limiter
}

// New returns the hub's HTTP handler.
func New(cfg Config) http.Handler {
	if cfg.Access == nil {
		cfg.Access = access.NewTokens(nil) // no one is admitted
	}
	api := &api{cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/districts/{code}/status", api.status)
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", api.ready)
	registerPublic(mux)
	if cfg.DeadLetters != nil {
		mux.HandleFunc("GET /v1/dead-letters", api.monitor(api.listDeadLetters))
		mux.HandleFunc("GET /v1/dead-letters/{id}", api.monitor(api.showDeadLetter))
		mux.HandleFunc("POST /v1/dead-letters/{id}/replay", api.operator(api.resolveDeadLetter(cfg.DeadLetters.Replay)))
		mux.HandleFunc("POST /v1/dead-letters/{id}/drop", api.operator(api.resolveDeadLetter(cfg.DeadLetters.Drop)))
		mux.HandleFunc("GET /v1/operator-actions", api.monitor(api.listOperatorActions))
	}
	if cfg.Inquiry != nil {
		api.registerPortal(mux)
	}
	if cfg.Chains != nil {
		api.registerLog(mux)
	}
	if cfg.Log != nil {
		api.registerTransparencyLog(mux)
	}
	return cfg.AuthLimit.Wrap(mux, api.credentials)
}

type api struct {
	cfg Config
}

// credentials says whether r's bearer token, if any, is one of the access
// list's, before r is served (authlimit holds guesses off).
func (a *api) credentials(r *http.Request) authlimit.Credentials {
	if r.Header.Get("Authorization") == "" {
		return authlimit.CredentialsNone
	}
	if _, ok := a.caller(r); ok {
		return authlimit.CredentialsKnown
	}
	return authlimit.CredentialsUnknown
}

// caller is the party whose bearer token r carries (access.Table compares
// in constant time).
func (a *api) caller(r *http.Request) (access.Party, bool) {
	token, found := access.Bearer(r)
	if !found {
		return access.Party{}, false
	}
	return a.cfg.Access.Lookup(token)
}

// admit lets through a caller that may do what the route does, with the
// caller in the request's context (access.PartyFrom) for what it records.
// An unknown token is refused by unknown, a known party without the right
// by forbidden.
func (a *api) admit(may func(access.Party) bool, unknown, forbidden http.HandlerFunc, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := a.caller(r)
		switch {
		case !ok:
			unknown(w, r)
		case !may(p):
			forbidden(w, r)
		default:
			next(w, r.WithContext(access.WithParty(r.Context(), p)))
		}
	}
}

type statusBody struct {
	AppealNumber string `json:"appeal_number"`
	Status       string `json:"status"`
	Note         string `json:"note"`
	At           string `json:"at"`
	// Contract §4 v1.1.
	Extend      bool   `json:"extend"`
	Reason      string `json:"reason"`
	ForwardedTo string `json:"forwarded_to"`
}

func (a *api) status(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	// A district acts on its own code only: any other token, another
	// district's included, is not this district's.
	p, ok := a.caller(r)
	if !ok || p != (access.Party{Name: code, Role: access.RoleDistrict}) {
		problemUnauthorized(w, r)
		return
	}
	r = r.WithContext(access.WithParty(r.Context(), p))
	body, ok := readReport(w, r)
	if !ok {
		return
	}
	if body.AppealNumber == "" {
		writeFieldError(w, http.StatusUnprocessableEntity, "appeal_number", "appeal_number is required")
		return
	}
	var at time.Time
	if body.At != "" {
		var err error
		if at, err = time.Parse(time.RFC3339, body.At); err != nil {
			writeFieldError(w, http.StatusUnprocessableEntity, "at", "at must be RFC 3339")
			return
		}
	}
	err := a.cfg.Reporter.ReportStatus(r.Context(), routers.StatusReport{
		District: code, AppealNumber: body.AppealNumber, Status: routers.Status(body.Status), Note: body.Note, At: at,
		Extend: body.Extend, Reason: body.Reason, ForwardedTo: body.ForwardedTo,
	})
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]string{"result": "accepted"})
	case errors.Is(err, routers.ErrBadStatus):
		writeFieldError(w, http.StatusUnprocessableEntity, "status", "status must be one of in_progress, answered, rejected, forwarded, closed")
	case errors.Is(err, routers.ErrDistrictInput):
		// Text with control characters or too long, a time outside the
		// appeal's span: nothing was stored, and the district learns which
		// field and why, in the hub's own words.
		if e, ok := errors.AsType[*routers.DistrictInputError](err); ok {
			writeFieldError(w, http.StatusUnprocessableEntity, e.Field, e.Error())
			return
		}
		writeError(w, http.StatusUnprocessableEntity, "the report breaks the contract's rules")
	case errors.Is(err, routers.ErrNotFound), errors.Is(err, routers.ErrForeignAppeal):
		// Another district's appeal is answered exactly like one that does
		// not exist, so a district cannot learn which numbers others hold.
		notFound(w, "Belə müraciət yoxdur.", "No such appeal.")
	case errors.Is(err, routers.ErrBackwardStep):
		writeError(w, http.StatusConflict, fromSentinel(err, routers.ErrBackwardStep))
	case errors.Is(err, routers.ErrAlreadyExtended):
		writeError(w, http.StatusConflict, fromSentinel(err, routers.ErrAlreadyExtended))
	case errors.Is(err, routers.ErrForwardConflict):
		writeError(w, http.StatusConflict, fromSentinel(err, routers.ErrForwardConflict))
	case errors.Is(err, routers.ErrNotDelivered):
		// Not yet, rather than never: the hand-over goes on, and the district
		// may hold the appeal already (a Submit whose answer a crash lost).
		// Retry-After tells it to report again once the hub has its answer.
		w.Header().Set("Retry-After", strconv.Itoa(int(notDeliveredRetryAfter/time.Second)))
		writeError(w, http.StatusConflict, routers.ErrNotDelivered.Error()+"; report again after Retry-After seconds")
	case routers.IsPermanent(err):
		// The ledger refuses what the report holds (ErrDataRefused): a 503
		// would have the district send it again for ever.
		a.cfg.Logger.Warn("status callback refused by the ledger", "district", code, "error", err)
		writeError(w, http.StatusUnprocessableEntity, "the report cannot be stored")
	default:
		a.unavailable(w, "status callback from "+code, err)
	}
}

// fromSentinel is err's message from sentinel on: what the hub says of
// the appeal (its statuses, dates, where it went), without the wrapping of
// the layers it passed through.
func fromSentinel(err, sentinel error) string {
	msg := err.Error()
	if i := strings.Index(msg, sentinel.Error()); i >= 0 {
		return msg[i:]
	}
	return sentinel.Error()
}

// ready answers anyone, so it names only the failing part: a check's error
// (addresses, user names, versions) goes to the log.
func (a *api) ready(w http.ResponseWriter, r *http.Request) {
	results, ready := runChecks(r.Context(), a.cfg.Ready)
	body := make(map[string]string, len(results))
	for name, err := range results {
		body[name] = "ok"
		if err != nil {
			body[name] = "failing"
			a.cfg.Logger.Warn("readiness check failing", "check", name, "error", err)
		}
	}
	code := http.StatusOK
	if !ready {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, body)
}

// writeError answers with a problem whose detail is msg, in English: the
// machine-to-machine routes' callers log it.
func writeError(w http.ResponseWriter, code int, msg string) {
	problem.Write(w, problem.New(code, msg))
}

// writeFieldError is writeError naming the request's field at fault.
func writeFieldError(w http.ResponseWriter, code int, field, msg string) {
	d := problem.New(code, msg)
	d.Field = field
	problem.Write(w, d)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	writeBody(w, code, v)
}

// writeBody writes v as JSON under the Content-Type already set.
func writeBody(w http.ResponseWriter, code int, v any) {
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // a failed write means the client left: nothing to do
}
