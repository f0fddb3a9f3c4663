// Package portalweb plays the e-gov portal in a browser, for training and
// demonstrations (`korpu demo` serves it at /portal/). It is a client of the
// hub, not part of it: it reads districts, services, reception days, a
// citizen's history, an appeal's details and its PDF from the hub's HTTP API
// with the portal's token and the signed-in citizen's FİN, and it files
// requests and remarks as the real portal does, as signed messages on the
// requests queue (contract §1), through the one port Config.Send.
//
// Pages are rendered on the server and work without JavaScript; a little
// script (embedded, like the styles) follows an appeal's status live. The
// citizens are a few demo people the registry simulator knows: signing in
// means choosing one.
package portalweb

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/korpu-az/korpu/routers"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Message is one signed message for the requests queue: the body as sent,
// its id (the AMQP message id) and the x-signature header's value.
type Message struct {
	ID        string
	Body      []byte
	Signature string
}

// Citizen is a demo citizen one may sign in as. The ID-card data comes from
// the registry by FİN; the contact details are what the portal's profile
// would hold.
type Citizen struct {
	FIN   string
	Phone string
	Email string
}

// DemoCitizens are FİNs the registry simulator answers (it knows every
// FİN not starting with 0; its records are derived from the FİN).
var DemoCitizens = []Citizen{
	{FIN: "4HN7P2K", Phone: "+994502345678", Email: "rashad.rzayev@example.az"},
	{FIN: "2QW4E6T", Phone: "+994553456789"},
	{FIN: "5ZK8M2R", Phone: "+994704567890", Email: "nigar.suleymanova@example.az"},
	{FIN: "3MK9T7A", Phone: "+994515678901"},
}

// Config wires the portal's page.
type Config struct {
	// Base is the path the handler is mounted at, without a trailing slash.
	// Default "/portal".
	Base string
	// HubURL is the hub's HTTP API (scheme, host and port); PortalToken its
	// bearer token for the portal's routes.
	HubURL      string
	PortalToken string
	// RegistryURL and RegistryToken reach the ID-card registry (contract §3).
	RegistryURL   string
	RegistryToken string
	// SigningKey signs each message (x-signature, HMAC-SHA256).
	SigningKey []byte
	// Send puts a message on the portal's requests queue.
	Send func(ctx context.Context, m Message) error
	// Citizens one may sign in as. Default DemoCitizens.
	Citizens []Citizen
	// SessionKey signs the session cookie. Default: random, so sessions end
	// with the process.
	SessionKey []byte
	// HTTPClient calls the hub and the registry. Default: one with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock the messages are dated by. Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// registeredWithin is how long the sent page waits for the hub to register
// an appeal before it says it may have been refused (the hub answers a bad
// request only on the status queue, which the page does not read).
const registeredWithin = 30 * time.Second

// Server is the portal's page; it is an http.Handler.
type Server struct {
	cfg      Config
	hub      *hubClient
	registry *registryClient
	pages    map[string]*template.Template
	mux      *http.ServeMux
	// names caches the demo citizens' full names for the page header: a
	// registry record is derived from the FİN, and only Config.Citizens sign in.
	names sync.Map
}

// New returns the portal's page for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.HubURL == "" || cfg.PortalToken == "" || cfg.RegistryURL == "" || len(cfg.SigningKey) == 0 || cfg.Send == nil {
		return nil, errors.New("portalweb: HubURL, PortalToken, RegistryURL, SigningKey and Send are required")
	}
	if cfg.Base == "" {
		cfg.Base = "/portal"
	}
	cfg.Base = strings.TrimSuffix(cfg.Base, "/")
	if len(cfg.Citizens) == 0 {
		cfg.Citizens = DemoCitizens
	}
	if len(cfg.SessionKey) == 0 {
		cfg.SessionKey = make([]byte, 32)
		_, _ = rand.Read(cfg.SessionKey) // crypto/rand.Read never fails (Go 1.24+)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		hub:      &hubClient{base: strings.TrimSuffix(cfg.HubURL, "/"), token: cfg.PortalToken, client: cfg.HTTPClient},
		registry: &registryClient{base: strings.TrimSuffix(cfg.RegistryURL, "/"), token: cfg.RegistryToken, client: cfg.HTTPClient},
		pages:    pages,
		mux:      http.NewServeMux(),
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("portalweb: %w", err)
	}
	b := cfg.Base
	s.mux.Handle("GET "+b+"/static/", http.StripPrefix(b+"/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET "+b+"/{$}", s.home)
	s.mux.HandleFunc("POST "+b+"/signin", s.signIn)
	s.mux.HandleFunc("POST "+b+"/signout", s.signOut)
	s.mux.HandleFunc("GET "+b+"/new", s.citizen(s.newAppeal))
	s.mux.HandleFunc("POST "+b+"/new", s.citizen(s.sendAppeal))
	s.mux.HandleFunc("GET "+b+"/sent", s.citizen(s.sent))
	s.mux.HandleFunc("GET "+b+"/history", s.citizen(s.history))
	s.mux.HandleFunc("GET "+b+"/appeals/{number}", s.citizen(s.details))
	s.mux.HandleFunc("POST "+b+"/appeals/{number}/comments", s.citizen(s.addComment))
	s.mux.HandleFunc("GET "+b+"/appeals/{number}/document", s.citizen(s.document))
	return s, nil
}

// ServeHTTP serves the pages with headers that keep them to themselves:
// nothing from elsewhere, no framing, nothing personal cached.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, s.cfg.Base+"/static/") {
		h.Set("Cache-Control", "private, no-store")
	}
	s.mux.ServeHTTP(w, r)
}

// The session cookie holds the citizen's FİN and its MAC; only a FİN of
// Config.Citizens signs in. SameSite=Strict keeps other sites' forms from
// posting as the citizen.
const sessionCookie = "portal_session"

func (s *Server) mac(fin string) string {
	m := hmac.New(sha256.New, s.cfg.SessionKey)
	m.Write([]byte(fin))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// signedIn returns the session's citizen, if any.
func (s *Server) signedIn(r *http.Request) (Citizen, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return Citizen{}, false
	}
	fin, mac, ok := strings.Cut(c.Value, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(s.mac(fin))) {
		return Citizen{}, false
	}
	return s.demoCitizen(fin)
}

func (s *Server) demoCitizen(fin string) (Citizen, bool) {
	i := slices.IndexFunc(s.cfg.Citizens, func(c Citizen) bool { return c.FIN == fin })
	if i < 0 {
		return Citizen{}, false
	}
	return s.cfg.Citizens[i], true
}

// citizen lets only a signed-in citizen through; others go to sign in.
func (s *Server) citizen(next func(http.ResponseWriter, *http.Request, Citizen)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.signedIn(r)
		if !ok {
			http.Redirect(w, r, s.cfg.Base+"/", http.StatusSeeOther)
			return
		}
		next(w, r, c)
	}
}

// page is what every template gets; Data is the page's own.
type page struct {
	Lang    lang
	Base    string
	Title   string
	Citizen *Citizen
	Name    string // the signed-in citizen's full name, when the registry gave it
	LangURL string // this page in the other language
	Data    any
}

// T is a fixed text; E names a contract code; Pick chooses between an
// Azerbaijani and an English text.
func (p *page) T(key string) string                 { return p.Lang.word(key) }
func (p *page) E(kind, code string) string          { return p.Lang.enum(kind, code) }
func (p *page) Pick(azText, enText string) string   { return p.Lang.pick(azText, enText) }
func (p *page) Sprintf(key string, n int) string    { return fmt.Sprintf(p.Lang.word(key), n) }
func (p *page) Date(t time.Time) string             { return t.In(routers.Baku).Format("2006-01-02 15:04") }
func (p *page) URL(path string, q ...string) string { return p.Base + path + query(q...) }

// query builds "?k=v&…" from pairs, skipping empty values.
func query(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range []string{"signin", "home", "new", "sent", "history", "details", "error"} {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("portalweb: template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// newPage starts a page for r in the language it asks for.
func (s *Server) newPage(w http.ResponseWriter, r *http.Request, title string, data any) *page {
	l := langOf(w, r)
	other := en
	if l == en {
		other = az
	}
	u := *r.URL
	q := u.Query()
	q.Set("lang", string(other))
	u.RawQuery = q.Encode()
	p := &page{Lang: l, Base: s.cfg.Base, LangURL: u.RequestURI(), Data: data}
	p.Title = l.word(title)
	if c, ok := s.signedIn(r); ok {
		p.Citizen = &c
		p.Name = s.name(r.Context(), c.FIN)
	}
	return p
}

// render writes a page, or the part of it named by part (for live updates).
func (s *Server) render(w http.ResponseWriter, status int, name, part string, p *page) {
	t := s.pages[name]
	if part == "" {
		part = "layout"
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, part, p); err != nil {
		s.cfg.Logger.Error("portal page", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, b.String()) // the browser may be gone
}

// fail shows an error page: 404 for an appeal the hub does not show this
// citizen, 503 when the hub or the registry cannot answer.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := s.newPage(w, r, "hubError", nil)
	status, key := http.StatusServiceUnavailable, "hubError"
	var api *apiError
	switch {
	case errors.Is(err, errNotFound):
		status, key = http.StatusNotFound, "notFound"
	case errors.As(err, &api) && api.Status == http.StatusBadRequest:
		status, key = http.StatusBadRequest, "badInput"
	default:
		s.cfg.Logger.Warn("portal: hub call failed", "error", err)
	}
	p.Title = p.T(key)
	p.Data = map[string]string{"Message": p.T(key)}
	if api != nil && api.AZ != "" {
		p.Data = map[string]string{"Message": p.Pick(api.AZ, api.EN)}
	}
	s.render(w, status, "error", "", p)
}

// home is the sign-in page, or the citizen's account with the ID card.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	c, ok := s.signedIn(r)
	if !ok {
		s.signInPage(w, r, http.StatusOK, "")
		return
	}
	person, err := s.registry.person(r.Context(), c.FIN)
	if err == nil {
		s.names.Store(c.FIN, person.FullName())
	}
	p := s.newPage(w, r, "home", nil)
	if err != nil {
		s.cfg.Logger.Warn("portal: registry", "error", err)
		p.Data = map[string]any{"Citizen": c}
	} else {
		p.Data = map[string]any{"Citizen": c, "Person": person}
	}
	s.render(w, http.StatusOK, "home", "", p)
}

// name is the citizen's full name as the registry has it; empty while
// the registry does not answer.
func (s *Server) name(ctx context.Context, fin string) string {
	if n, ok := s.names.Load(fin); ok {
		return n.(string)
	}
	person, err := s.registry.person(ctx, fin)
	if err != nil {
		return ""
	}
	s.names.Store(fin, person.FullName())
	return person.FullName()
}

type signInChoice struct {
	FIN  string
	Name string
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request, status int, problem string) {
	choices := make([]signInChoice, 0, len(s.cfg.Citizens))
	for _, c := range s.cfg.Citizens {
		choices = append(choices, signInChoice{FIN: c.FIN, Name: s.name(r.Context(), c.FIN)})
	}
	p := s.newPage(w, r, "signInTitle", nil)
	if problem != "" {
		problem = p.T(problem)
	}
	p.Data = map[string]any{"Choices": choices, "Problem": problem}
	s.render(w, status, "signin", "", p)
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	c, ok := s.demoCitizen(r.PostFormValue("fin"))
	if !ok {
		s.signInPage(w, r, http.StatusUnprocessableEntity, "errSignIn")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: c.FIN + "." + s.mac(c.FIN), Path: s.cfg.Base,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, s.cfg.Base+"/", http.StatusSeeOther)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: s.cfg.Base, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, s.cfg.Base+"/", http.StatusSeeOther)
}

// newView is the appeal page: the authority and service chosen so far,
// and once both are, the form.
type newView struct {
	Districts []District
	District  *District
	Services  []Service // the district's offer, withdrawn ones left out
	Service   *Service
	Officials []OfficialDays
	Form      appealForm
	Problems  []problem
}

// Problem returns the mistake of an input, for the template.
func (v *newView) Problem(field string) string {
	p := problems{list: v.Problems}
	return p.of(field)
}

// Has tells whether a multi-value field holds key, or a single field equals it.
func (v *newView) Has(code, key string) bool { return slices.Contains(v.Form.Fields[code], key) }

// Value is a single field's value as typed.
func (v *newView) Value(code string) string { return v.Form.Fields.Get(code) }

// chosen reads the authority and service from the hub's lists; unknown
// codes are simply not chosen.
func (s *Server) chosen(ctx context.Context, district, service string) (*newView, error) {
	districts, err := s.hub.districts(ctx)
	if err != nil {
		return nil, err
	}
	v := &newView{Districts: districts}
	i := slices.IndexFunc(districts, func(d District) bool { return d.Code == district })
	if i < 0 {
		return v, nil
	}
	v.District = &districts[i]
	all, err := s.hub.services(ctx)
	if err != nil {
		return nil, err
	}
	for _, svc := range all {
		if svc.Withdrawn || !slices.Contains(v.District.Services, svc.Code) {
			continue
		}
		v.Services = append(v.Services, svc)
	}
	if j := slices.IndexFunc(v.Services, func(svc Service) bool { return svc.Code == service }); j >= 0 {
		v.Service = &v.Services[j]
	}
	if v.Service != nil && v.Service.Code == "reception-booking" {
		o, err := s.hub.officials(ctx, v.District.Code)
		if err != nil {
			return nil, err
		}
		v.Officials = o.Officials
	}
	return v, nil
}

func (s *Server) newAppeal(w http.ResponseWriter, r *http.Request, c Citizen) {
	q := r.URL.Query()
	v, err := s.chosen(r.Context(), q.Get("district"), q.Get("service"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Form = appealForm{Phone: c.Phone, Email: c.Email, Fields: url.Values{}}
	if person, err := s.registry.person(r.Context(), c.FIN); err == nil {
		v.Form.Address = person.RegistrationAddress
	}
	s.render(w, http.StatusOK, "new", "", s.newPage(w, r, "newAppeal", v))
}

func (s *Server) sendAppeal(w http.ResponseWriter, r *http.Request, c Citizen) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, &apiError{Status: http.StatusBadRequest})
		return
	}
	v, err := s.chosen(r.Context(), r.PostForm.Get("district"), r.PostForm.Get("service"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if v.Service == nil {
		http.Redirect(w, r, s.cfg.Base+"/new"+query("district", r.PostForm.Get("district")), http.StatusSeeOther)
		return
	}
	p := s.newPage(w, r, "newAppeal", v)
	v.Form = readAppealForm(r.PostForm, v.Service)
	if v.Problems = v.Form.check(p.Lang, *v.Service, v.Officials); len(v.Problems) > 0 {
		s.render(w, http.StatusUnprocessableEntity, "new", "", p)
		return
	}
	at := s.cfg.Now().In(routers.Baku).Truncate(time.Second)
	body, id, err := v.Form.request(c.FIN, *v.Service, at)
	if err == nil {
		err = s.cfg.Send(r.Context(), Message{ID: id, Body: body, Signature: routers.Sign(s.cfg.SigningKey, body)})
	}
	if err != nil {
		s.cfg.Logger.Error("portal: send request", "error", err)
		v.Problems = []problem{{Message: p.T("sendError")}}
		s.render(w, http.StatusServiceUnavailable, "new", "", p)
		return
	}
	http.Redirect(w, r, s.cfg.Base+"/sent"+query("id", id, "at", at.Format(time.RFC3339), "district", v.District.Code, "service", v.Service.Code), http.StatusSeeOther)
}

var (
	uuidPattern   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	codePattern   = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
	numberPattern = regexp.MustCompile(`^[A-Z0-9-]{1,40}$`)
)

// sent waits for the hub to register what was just sent, then shows it.
// The hub's API knows appeals, not the portal's message ids, so the appeal
// is found in the citizen's history by its district, service and
// submission time, which the page chose itself (to the second: two appeals
// of one citizen to one service in one second would be told apart by
// number only).
func (s *Server) sent(w http.ResponseWriter, r *http.Request, c Citizen) {
	q := r.URL.Query()
	at, err := time.Parse(time.RFC3339, q.Get("at"))
	district, service := q.Get("district"), q.Get("service")
	if err != nil || !uuidPattern.MatchString(q.Get("id")) || !codePattern.MatchString(district) || !codePattern.MatchString(service) {
		s.fail(w, r, &apiError{Status: http.StatusBadRequest})
		return
	}
	page, err := s.hub.history(r.Context(), c.FIN, url.Values{"service": {service}})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	found := ""
	for _, a := range page.Appeals {
		if a.District == district && a.SubmittedAt.Equal(at) {
			found = s.cfg.Base + "/appeals/" + url.PathEscape(a.Number) + "?sent=1"
			break
		}
	}
	if q.Get("probe") == "1" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(map[string]string{"url": found}) // the browser may be gone
		return
	}
	if found != "" {
		http.Redirect(w, r, found, http.StatusSeeOther)
		return
	}
	late := s.cfg.Now().Sub(at) > registeredWithin
	probe := r.URL.Query()
	probe.Set("probe", "1")
	s.render(w, http.StatusOK, "sent", "", s.newPage(w, r, "sending", map[string]any{
		"Late": late, "Probe": s.cfg.Base + "/sent?" + probe.Encode(),
	}))
}

// historyView is one page of the citizen's appeals with the names of
// services and authorities.
type historyView struct {
	Appeals   []Summary
	Next      string
	Status    string
	Service   string
	Services  []Service
	Districts map[string]string
}

// ServiceName names a service in the page's language.
func (v *historyView) ServiceName(p *page, code string) string {
	for _, s := range v.Services {
		if s.Code == code {
			return p.Pick(s.Name, s.NameEN)
		}
	}
	return code
}

func (s *Server) history(w http.ResponseWriter, r *http.Request, c Citizen) {
	q := r.URL.Query()
	v := &historyView{Status: q.Get("status"), Service: q.Get("service"), Districts: map[string]string{}}
	if v.Status != "" && !slices.Contains(statuses, v.Status) {
		v.Status = ""
	}
	services, err := s.hub.services(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Services = services
	if !slices.ContainsFunc(services, func(svc Service) bool { return svc.Code == v.Service }) {
		v.Service = ""
	}
	districts, err := s.hub.districts(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, d := range districts {
		v.Districts[d.Code] = d.Name
	}
	params := url.Values{}
	for k, val := range map[string]string{"status": v.Status, "service": v.Service, "cursor": q.Get("cursor")} {
		if val != "" && len(val) <= 256 {
			params.Set(k, val)
		}
	}
	page, err := s.hub.history(r.Context(), c.FIN, params)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Appeals = page.Appeals
	if page.NextCursor != "" {
		v.Next = s.cfg.Base + "/history" + query("status", v.Status, "service", v.Service, "cursor", page.NextCursor)
	}
	s.render(w, http.StatusOK, "history", "", s.newPage(w, r, "historyTitle", v))
}

// detailsView is one appeal, and the remark being written.
type detailsView struct {
	Appeal  Details
	Flash   string
	Comment string
	Problem string
	Final   bool // no further change of status is expected
}

func (s *Server) details(w http.ResponseWriter, r *http.Request, c Citizen) {
	s.showDetails(w, r, c, http.StatusOK, &detailsView{})
}

func (s *Server) showDetails(w http.ResponseWriter, r *http.Request, c Citizen, status int, v *detailsView) {
	number := r.PathValue("number")
	if !numberPattern.MatchString(number) {
		s.fail(w, r, errNotFound)
		return
	}
	a, err := s.hub.details(r.Context(), c.FIN, number)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Appeal = a
	v.Final = a.Status == "closed"
	q := r.URL.Query()
	switch {
	case q.Get("sent") == "1":
		v.Flash = "sent"
	case q.Get("commented") == "1":
		v.Flash = "commentSent"
	}
	part := ""
	if q.Get("part") == "live" {
		part = "live"
	}
	p := s.newPage(w, r, "detailsTitle", v)
	p.Title += " " + a.Number
	s.render(w, status, "details", part, p)
}

func (s *Server) addComment(w http.ResponseWriter, r *http.Request, c Citizen) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	text := r.PostFormValue("text")
	l := langOf(w, r)
	p := &problems{l: l}
	p.text("text", l.word("commentText"), text, true, maxCommentRunes)
	number := r.PathValue("number")
	if len(p.list) > 0 || !numberPattern.MatchString(number) {
		msg := l.word("badInput")
		if len(p.list) > 0 {
			msg = p.list[0].Label + " " + p.list[0].Message
		}
		s.showDetails(w, r, c, http.StatusUnprocessableEntity, &detailsView{Comment: text, Problem: msg})
		return
	}
	body, id, err := comment(c.FIN, number, text, s.cfg.Now().In(routers.Baku))
	if err == nil {
		err = s.cfg.Send(r.Context(), Message{ID: id, Body: body, Signature: routers.Sign(s.cfg.SigningKey, body)})
	}
	if err != nil {
		s.cfg.Logger.Error("portal: send comment", "error", err)
		s.showDetails(w, r, c, http.StatusServiceUnavailable, &detailsView{Comment: text, Problem: l.word("sendError")})
		return
	}
	http.Redirect(w, r, s.cfg.Base+"/appeals/"+url.PathEscape(number)+"?commented=1", http.StatusSeeOther)
}

// document passes the hub's PDF of the appeal on to the citizen.
func (s *Server) document(w http.ResponseWriter, r *http.Request, c Citizen) {
	number := r.PathValue("number")
	if !numberPattern.MatchString(number) {
		s.fail(w, r, errNotFound)
		return
	}
	l := az
	if r.URL.Query().Get("lang") == "en" {
		l = en
	}
	resp, err := s.hub.document(r.Context(), c.FIN, number, l)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="`+number+`.pdf"`)
	if _, err := io.Copy(w, io.LimitReader(resp.Body, maxPDFBytes)); err != nil {
		s.cfg.Logger.Warn("portal: document", "error", err)
	}
}

// StatusOptions are the statuses the history can be filtered by.
func (v *historyView) StatusOptions() []string { return statuses }
