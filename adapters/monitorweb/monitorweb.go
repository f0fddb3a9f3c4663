// Package monitorweb is the central monitors' dashboard at /monitor/
// (issue 10): the country's districts with their figures, sortable, late
// ones marked; appeals per day as a chart; a district's services and its
// overdue and due-soon appeals; any appeal's details; search by number;
// lifecycles as CSV; the open dead letters, which operators replay or
// drop, and the record of every operator's action.
//
// Pages are drawn on the server and work without JavaScript; htmx (embedded
// with its licence, like the styles) refreshes the live parts every 5
// seconds. Nothing is fetched from elsewhere. Monitors and operators sign
// in with their token of the access list and get a signed session cookie
// naming them; scripts send the token as a bearer header. The dashboard
// only reads, but for sign-in, sign-out and an operator's replay or drop of
// a dead letter, which carries a form token bound to the session (CSRF) and
// is recorded with the operator's name.
package monitorweb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/korpu-az/korpu/adapters/access"
	"github.com/korpu-az/korpu/adapters/authlimit"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/catalogue"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Base is the path the dashboard is served under.
const Base = "/monitor"

// Monitor is what the dashboard reads of the hub's figures (routers.Monitor).
type Monitor interface {
	// ParsePeriod reads the period selector: name "today", "7d", "30d",
	// "year" or "range" (from and to as YYYY-MM-DD, to inclusive).
	ParsePeriod(name, from, to string) (routers.Period, error)
	Country(ctx context.Context, p routers.Period) (routers.CountryView, error)
	// District returns routers.ErrUnknownDistrict for a code the hub does not serve.
	District(ctx context.Context, code string, p routers.Period) (routers.DistrictView, error)
	// PerDay returns the last days Baku days, oldest first, every day present.
	PerDay(ctx context.Context, district string, days int) ([]routers.DayCount, error)
	Lifecycles(ctx context.Context, district string, p routers.Period, fn func(routers.Lifecycle) error) error
}

// Appeals is what the dashboard reads of single appeals (routers.Inquiry).
type Appeals interface {
	// Details returns routers.ErrNotFound for a number the hub never gave.
	Details(ctx context.Context, v routers.Viewer, number string) (routers.AppealView, error)
	Catalogue() *catalogue.Catalogue
}

// Config wires the dashboard.
type Config struct {
	Monitor Monitor
	Appeals Appeals
	// DeadLetters is the dead-letter desk: open letters, operators'
	// replays and drops, and the record of them.
	DeadLetters DeadLetters
	// Access finds the party of a token; monitors and operators may sign
	// in. A party's token also keys its session cookies (session.go). It
	// may be swapped while the dashboard serves.
	Access *access.Tokens
	// Now is the hub's clock; sessions expire by it.
	Now    func() time.Time
	Logger *slog.Logger
	// AuthLimit holds off sources that keep failing to sign in or to
	// present the token; nil limits nothing.
	AuthLimit *authlimit.Limiter
}

// Server is the dashboard; it is an http.Handler for Base + "/".
type Server struct {
	cfg      Config
	sessions sessions
	pages    map[string]*template.Template
	handler  http.Handler
}

// New returns the dashboard for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Monitor == nil || cfg.Appeals == nil || cfg.DeadLetters == nil || cfg.Access == nil || cfg.Now == nil {
		return nil, errors.New("monitorweb: Monitor, Appeals, DeadLetters, Access and Now are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("monitorweb: %w", err)
	}
	s := &Server{cfg: cfg, sessions: sessions{tokens: cfg.Access, now: cfg.Now}, pages: pages}
	mux := http.NewServeMux()
	mux.Handle("GET "+Base+"/static/", http.StripPrefix(Base+"/static/", http.FileServerFS(static)))
	mux.HandleFunc("POST "+Base+"/signin", s.signIn)
	mux.HandleFunc("POST "+Base+"/signout", s.signOut)
	mux.HandleFunc("GET "+Base+"/{$}", s.monitor(s.country))
	mux.HandleFunc("GET "+Base+"/districts/{code}", s.monitor(s.district))
	mux.HandleFunc("GET "+Base+"/appeals/{number}", s.monitor(s.appeal))
	mux.HandleFunc("GET "+Base+"/search", s.monitor(s.search))
	mux.HandleFunc("GET "+Base+"/export.csv", s.monitor(s.export))
	mux.HandleFunc("GET "+Base+"/dead-letters", s.monitor(s.deadLetters))
	mux.HandleFunc("POST "+Base+"/dead-letters/{id}/replay", s.monitor(s.resolve(routers.ActionReplay)))
	mux.HandleFunc("POST "+Base+"/dead-letters/{id}/drop", s.monitor(s.resolve(routers.ActionDrop)))
	mux.HandleFunc(Base+"/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "notFoundTitle", langOf(r), "pageNotFound")
	})
	// Sign-in, sign-out and operators' actions are the only unsafe
	// requests: the browser's own Sec-Fetch-Site or Origin must say they
	// come from this very site (and an action must carry its session's
	// form token as well).
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusForbidden, "forbidden", langOf(r), "forbidden")
	}))
	s.handler = cop.Handler(cfg.AuthLimit.Wrap(mux, s.sessions.credentials))
	return s, nil
}

// ServeHTTP serves the dashboard with headers that keep it to itself:
// nothing from elsewhere, no framing, no page cached.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, Base+"/static/") {
		h.Set("Cache-Control", "private, no-store")
		// A live fragment and its page share a URL.
		h.Set("Vary", "HX-Request")
	}
	s.handler.ServeHTTP(w, r)
}

// page is what every template gets; Data is the page's own.
type page struct {
	Lang     lang
	Title    string
	SignedIn bool
	Cookie   bool   // signed in by the session cookie (sign-out makes sense)
	LangURL  string // this page in the other language
	Live     string // where the live part comes from, with its version
	Data     any
}

// T is a fixed text; E names a contract code; Pick chooses between an
// Azerbaijani and an English text.
func (p *page) T(key string) string               { return p.Lang.word(key) }
func (p *page) E(kind, code string) string        { return p.Lang.enum(kind, code) }
func (p *page) Pick(azText, enText string) string { return p.Lang.pick(azText, enText) }

// Time is an instant in Baku time, to the minute.
func (p *page) Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(routers.Baku).Format("2006-01-02 15:04")
}

// Stamp is a time of the contract's messages (RFC 3339) in Baku time.
func (p *page) Stamp(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return p.Time(t)
}

// URL is a path under Base with the page's language and the given pairs.
func (p *page) URL(path string, kv ...string) string {
	return Base + path + query(p.Lang, kv...)
}

// query builds "?k=v&…" from pairs, leaving out empty values and adding
// lang=en when English is shown.
func query(l lang, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	if l == en {
		v.Set("lang", string(en))
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range []string{"signin", "country", "district", "appeal", "deadletters", "error"} {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/parts.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("monitorweb: template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// newPage starts a page for r in language l.
func (s *Server) newPage(r *http.Request, l lang, title string, data any) *page {
	u := *r.URL
	q := u.Query()
	q.Del("v")
	if l.Other() == en {
		q.Set("lang", string(en))
	} else {
		q.Del("lang")
	}
	u.RawQuery = q.Encode()
	p := &page{Lang: l, Title: l.word(title), LangURL: u.RequestURI(), Data: data}
	_, p.SignedIn, p.Cookie = s.sessions.authenticated(r)
	return p
}

// render writes a whole page, or only its part (a live fragment).
func (s *Server) render(w http.ResponseWriter, status int, name, part string, p *page) {
	if part == "" {
		part = "layout"
	}
	var b bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&b, part, p); err != nil {
		s.cfg.Logger.Error("monitor page", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes()) // the browser may be gone
}

// show renders a page with a live part: for htmx the part alone, or 204
// when it is the very part the browser shows already (so a screen reader
// is not made to read an unchanged table again); else the whole page.
func (s *Server) show(w http.ResponseWriter, r *http.Request, name, title string, req request, data any, liveURL func(version string) string) {
	p, version, ok := s.livePage(w, r, name, title, req.Lang, data, liveURL)
	if !ok {
		return
	}
	if live(r) && req.Version == version {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	part := ""
	if live(r) {
		part = "live"
	}
	s.render(w, http.StatusOK, name, part, p)
}

// livePage starts a page with a live part: Live is where the part comes
// from, with the version (digest) of what it shows now. On a failure it
// has answered the request itself.
func (s *Server) livePage(w http.ResponseWriter, r *http.Request, name, title string, l lang, data any, liveURL func(version string) string) (*page, string, bool) {
	p := s.newPage(r, l, title, data)
	var inner bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&inner, "liveInner", p); err != nil {
		s.cfg.Logger.Error("monitor page", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return nil, "", false
	}
	sum := sha256.Sum256(inner.Bytes())
	version := hex.EncodeToString(sum[:8])
	p.Live = liveURL(version)
	return p, version, true
}

// fail shows an error page with a message of words.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, title string, l lang, message string) {
	s.failText(w, r, status, title, l, l.word(message))
}

func (s *Server) failText(w http.ResponseWriter, r *http.Request, status int, title string, l lang, message string) {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	s.render(w, status, "error", "", s.newPage(r, l, title, map[string]string{"Message": message}))
}

// badParam answers a query parameter the dashboard cannot take, naming it.
func (s *Server) badParam(w http.ResponseWriter, r *http.Request, l lang, e *paramError) {
	s.failText(w, r, http.StatusBadRequest, "badParamTitle", l, fmt.Sprintf(l.word("badParam"), e.Name, l.pick(e.AZ, e.EN)))
}

// unavailable answers a read that failed: the hub's figures or ledger.
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, l lang, what string, err error) {
	s.cfg.Logger.Error("monitor: "+what, "error", err)
	s.fail(w, r, http.StatusServiceUnavailable, "unavailableTitle", l, "unavailable")
}

// live tells a fragment request of htmx from a page request.
func live(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }
