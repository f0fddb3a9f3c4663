package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/korpu-az/korpu/adapters/access"
	"github.com/korpu-az/korpu/adapters/problem"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/catalogue"
)

// defaultHistoryPage is a history page's length when the portal names none.
const defaultHistoryPage = 20

// Inquiry answers the portal's questions (routers.Inquiry).
type Inquiry interface {
	Districts() []routers.DistrictInfo
	Catalogue() *catalogue.Catalogue
	Officials(ctx context.Context, district string) ([]routers.OfficialDays, error)
	History(ctx context.Context, fin string, filter routers.HistoryFilter, cursor string, limit int) (routers.HistoryPage, error)
	Details(ctx context.Context, v routers.Viewer, number string) (routers.AppealView, error)
}

// Documents renders the printable appeal (adapters/document).
type Documents interface {
	Render(v routers.AppealView, lang string) ([]byte, error)
}

// registerPortal adds the portal's read API.
func (a *api) registerPortal(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/districts", a.portalOrMonitor(a.districts))
	mux.HandleFunc("GET /v1/services", a.portalOrMonitor(a.services))
	mux.HandleFunc("GET /v1/services/{code}", a.portalOrMonitor(a.service))
	mux.HandleFunc("GET /v1/districts/{code}/officials", a.portalOrMonitor(a.officials))
	mux.HandleFunc("GET /v1/citizens/me/appeals", a.citizen(a.history))
	mux.HandleFunc("GET /v1/appeals/{number}", a.viewer(a.details))
	if a.cfg.Documents != nil {
		mux.HandleFunc("GET /v1/appeals/{number}/document", a.viewer(a.document))
	}
}

// portalOrMonitor admits the portal and those who read everything.
func (a *api) portalOrMonitor(next http.HandlerFunc) http.HandlerFunc {
	return a.admit(func(p access.Party) bool { return p.Role == access.RolePortal || p.Role.Reads() },
		problemUnauthorized, problemForbidden, next)
}

// citizen admits the portal with the citizen it names in X-Citizen-FIN:
// the portal has authenticated them, the hub trusts it.
func (a *api) citizen(next func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return a.admit(func(p access.Party) bool { return p.Role == access.RolePortal }, problemUnauthorized, problemForbidden,
		func(w http.ResponseWriter, r *http.Request) {
			if fin, ok := citizenFIN(w, r); ok {
				next(w, r, fin)
			}
		})
}

// viewer admits a citizen through the portal, or those who read
// everything, who may read every appeal.
func (a *api) viewer(next func(http.ResponseWriter, *http.Request, routers.Viewer)) http.HandlerFunc {
	return a.admit(func(p access.Party) bool { return p.Role == access.RolePortal || p.Role.Reads() },
		problemUnauthorized, problemForbidden, func(w http.ResponseWriter, r *http.Request) {
			if p, _ := access.PartyFrom(r.Context()); p.Role.Reads() {
				next(w, r, routers.Viewer{Monitor: true})
				return
			}
			if fin, ok := citizenFIN(w, r); ok {
				next(w, r, routers.Viewer{FIN: fin})
			}
		})
}

func citizenFIN(w http.ResponseWriter, r *http.Request) (string, bool) {
	fin := r.Header.Get("X-Citizen-FIN")
	if !routers.ValidFIN(fin) {
		badRequest(w, routers.FieldError{Field: "X-Citizen-FIN", Message: routers.Bilingual(
			"Vətəndaşın FİN-i 7 simvoldur: rəqəmlər və I, O-dan başqa böyük latın hərfləri.",
			"The citizen's FIN is 7 characters: digits and capital Latin letters other than I and O.")})
		return "", false
	}
	return fin, true
}

type districtJSON struct {
	Code     string   `json:"code"`
	Name     string   `json:"name"`
	Services []string `json:"services"`
}

func (a *api) districts(w http.ResponseWriter, _ *http.Request) {
	cat := a.cfg.Inquiry.Catalogue()
	list := a.cfg.Inquiry.Districts()
	out := make([]districtJSON, len(list))
	for i, d := range list {
		out[i] = districtJSON{Code: d.Code, Name: d.Name, Services: []string{}}
		for _, s := range cat.All() {
			if d.Offers(s.Code) && !s.Withdrawn {
				out[i].Services = append(out[i].Services, s.Code)
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"districts": out})
}

// serviceJSON is a catalogue entry with the law's answer periods.
type serviceJSON struct {
	catalogue.Service
	AnswerDays         int `json:"answer_days"`
	ExtendedAnswerDays int `json:"extended_answer_days"`
}

func withPeriods(s catalogue.Service) serviceJSON {
	return serviceJSON{Service: s, AnswerDays: routers.AnswerWorkingDays, ExtendedAnswerDays: routers.ExtendedAnswerWorkingDays}
}

func (a *api) services(w http.ResponseWriter, _ *http.Request) {
	list := a.cfg.Inquiry.Catalogue().All()
	out := make([]serviceJSON, len(list))
	for i, s := range list {
		out[i] = withPeriods(s)
	}
	writeJSON(w, http.StatusOK, map[string]any{"services": out})
}

func (a *api) service(w http.ResponseWriter, r *http.Request) {
	s, ok := a.cfg.Inquiry.Catalogue().Lookup(r.PathValue("code"))
	if !ok {
		notFound(w, "Belə xidmət yoxdur.", "No such service.")
		return
	}
	writeJSON(w, http.StatusOK, withPeriods(s))
}

type sessionJSON struct {
	Weekday  string `json:"weekday"`
	From     string `json:"from"`
	To       string `json:"to"`
	Capacity int    `json:"capacity"`
}

type hoursJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type receptionDayJSON struct {
	Date     string      `json:"date"`
	Weekday  string      `json:"weekday"`
	Sessions []hoursJSON `json:"sessions"`
	Capacity int         `json:"capacity"`
	Free     int         `json:"free"`
}

type officialJSON struct {
	ID                string             `json:"id"`
	Name              string             `json:"name"`
	Position          string             `json:"position"`
	Reception         []sessionJSON      `json:"reception"`
	NextReceptionDays []receptionDayJSON `json:"next_reception_days"`
}

func weekday(d time.Weekday) string { return strings.ToLower(d.String()) }

func hours(sessions []routers.Session) []hoursJSON {
	out := make([]hoursJSON, len(sessions))
	for i, s := range sessions {
		out[i] = hoursJSON{From: s.From, To: s.To}
	}
	return out
}

func (a *api) officials(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	list, err := a.cfg.Inquiry.Officials(r.Context(), code)
	switch {
	case errors.Is(err, routers.ErrNotFound):
		notFound(w, "Bu kodla yerli icra hakimiyyəti hub-a qoşulmayıb.", "No local executive authority with this code is connected to the hub.")
		return
	case err != nil:
		a.unavailableProblem(w, "officials", err)
		return
	}
	out := make([]officialJSON, len(list))
	for i, od := range list {
		o := officialJSON{ID: od.Official.ID, Name: od.Official.Name, Position: od.Official.Position,
			Reception: make([]sessionJSON, len(od.Official.Sessions)), NextReceptionDays: make([]receptionDayJSON, len(od.Days))}
		for j, s := range od.Official.Sessions {
			o.Reception[j] = sessionJSON{Weekday: weekday(s.Weekday), From: s.From, To: s.To, Capacity: s.Capacity}
		}
		for j, d := range od.Days {
			day, _ := time.Parse(time.DateOnly, d.Date) // the calendar's own date
			o.NextReceptionDays[j] = receptionDayJSON{Date: d.Date, Weekday: weekday(day.Weekday()),
				Sessions: hours(d.Sessions), Capacity: d.Capacity, Free: d.Free}
		}
		out[i] = o
	}
	writeJSON(w, http.StatusOK, map[string]any{"district": code, "officials": out})
}

type summaryJSON struct {
	Number       string `json:"number"`
	SubmittedAt  string `json:"submitted_at"`
	RegisteredAt string `json:"registered_at"`
	District     string `json:"district"`
	Service      string `json:"service"`
	Type         string `json:"type"`
	Status       string `json:"status"`
	Deadline     string `json:"deadline"`
	LastChangeAt string `json:"last_change_at"`
}

type historyJSON struct {
	Appeals    []summaryJSON `json:"appeals"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

func (a *api) history(w http.ResponseWriter, r *http.Request, fin string) {
	q := r.URL.Query()
	var problems []routers.FieldError
	limit := defaultHistoryPage
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > routers.MaxHistoryPage {
			problems = append(problems, routers.FieldError{Field: "limit", Message: routers.Bilingual(
				"1-dən 100-ə qədər tam ədəd olmalıdır.", "Must be a whole number from 1 to 100.")})
		}
		limit = n
	}
	filter := routers.HistoryFilter{Status: routers.Status(q.Get("status")), Service: q.Get("service")}
	if filter.Status != "" && !filter.Status.OfAppeal() {
		problems = append(problems, routers.FieldError{Field: "status", Message: routers.Bilingual("Belə status yoxdur.", "No such status.")})
	}
	if _, ok := a.cfg.Inquiry.Catalogue().Lookup(filter.Service); filter.Service != "" && !ok {
		problems = append(problems, routers.FieldError{Field: "service", Message: routers.Bilingual("Belə xidmət yoxdur.", "No such service.")})
	}
	if len(problems) > 0 {
		badRequest(w, problems...)
		return
	}
	page, err := a.cfg.Inquiry.History(r.Context(), fin, filter, q.Get("cursor"), limit)
	switch {
	case errors.Is(err, routers.ErrBadCursor):
		badRequest(w, routers.FieldError{Field: "cursor", Message: routers.Bilingual(
			"Səhifə göstəricisi bu hub-ın verdiyi deyil.", "The cursor was not given out by this hub.")})
		return
	case err != nil:
		a.unavailableProblem(w, "history", err)
		return
	}
	out := historyJSON{Appeals: make([]summaryJSON, len(page.Appeals)), NextCursor: page.Next}
	for i, s := range page.Appeals {
		out.Appeals[i] = summaryJSON{
			Number: s.Number, SubmittedAt: routers.FormatTime(s.SubmittedAt), RegisteredAt: routers.FormatTime(s.RegisteredAt),
			District: s.District, Service: s.Service, Type: s.Type, Status: string(s.Status), Deadline: s.Deadline,
			LastChangeAt: routers.FormatTime(s.ChangedAt),
		}
	}
	private(w)
	writeJSON(w, http.StatusOK, out)
}

// appealView fetches the appeal the path names for v, answering the
// request itself when it cannot.
func (a *api) appealView(w http.ResponseWriter, r *http.Request, v routers.Viewer) (routers.AppealView, bool) {
	view, err := a.cfg.Inquiry.Details(r.Context(), v, r.PathValue("number"))
	switch {
	case errors.Is(err, routers.ErrNotFound):
		// Someone else's appeal is answered exactly like one that does not exist.
		private(w)
		notFound(w, "Belə müraciət yoxdur.", "No such appeal.")
		return routers.AppealView{}, false
	case err != nil:
		a.unavailableProblem(w, "appeal details", err)
		return routers.AppealView{}, false
	}
	return view, true
}

func (a *api) details(w http.ResponseWriter, r *http.Request, v routers.Viewer) {
	view, ok := a.appealView(w, r, v)
	if !ok {
		return
	}
	private(w)
	writeJSON(w, http.StatusOK, detailsOf(view))
}

func (a *api) document(w http.ResponseWriter, r *http.Request, v routers.Viewer) {
	lang := r.URL.Query().Get("lang")
	switch lang {
	case "":
		lang = "az"
	case "az", "en":
	default:
		badRequest(w, routers.FieldError{Field: "lang", Message: routers.Bilingual("az və ya en olmalıdır.", "Must be az or en.")})
		return
	}
	view, ok := a.appealView(w, r, v)
	if !ok {
		return
	}
	pdf, err := a.cfg.Documents.Render(view, lang)
	if err != nil {
		a.cfg.Logger.Error("render appeal document failed", "appeal", view.Number, "error", err)
		writeProblem(w, http.StatusInternalServerError, "internal", "Internal error",
			"Sənəd hazırlana bilmədi.", "The document could not be made.")
		return
	}
	private(w)
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="`+view.Number+`.pdf"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(pdf) //nolint:gosec // G705: a PDF the hub made, served as application/pdf, not HTML; a failed write means the client left
}

// private marks an answer about a person: no cache may keep it.
func private(w http.ResponseWriter) { w.Header().Set("Cache-Control", "private, no-store") }

// writeProblem answers with an RFC 9457 problem told in both languages.
func writeProblem(w http.ResponseWriter, status int, slug, title, az, en string, errs ...routers.FieldError) {
	problem.Write(w, problem.Details{
		Type: "urn:korpu:problem:" + slug, Title: title, Status: status, Detail: en,
		Messages: map[string]string{"az": az, "en": en}, Errors: errs,
	})
}

func problemUnauthorized(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="korpu"`)
	writeProblem(w, http.StatusUnauthorized, "unauthorized", "Unauthorized",
		"Giriş nişanı yoxdur və ya yanlışdır.", "The bearer token is missing or wrong.")
}

func problemForbidden(w http.ResponseWriter, _ *http.Request) {
	writeProblem(w, http.StatusForbidden, "forbidden", "Forbidden",
		"Bu giriş nişanı ilə bu sorğuya icazə yoxdur.", "This bearer token's role may not make this request.")
}

func notFound(w http.ResponseWriter, az, en string) {
	writeProblem(w, http.StatusNotFound, "not-found", "Not found", az, en)
}

func badRequest(w http.ResponseWriter, errs ...routers.FieldError) {
	writeProblem(w, http.StatusBadRequest, "bad-request", "Bad request",
		"Sorğunun parametrləri yanlışdır.", "The request's parameters are wrong.", errs...)
}

func (a *api) unavailableProblem(w http.ResponseWriter, what string, err error) {
	a.cfg.Logger.Error(what+" failed", "error", err)
	w.Header().Set("Retry-After", "1")
	writeProblem(w, http.StatusServiceUnavailable, "unavailable", "Service unavailable",
		"Xidmət müvəqqəti əlçatan deyil; bir azdan yenə cəhd edin.", "Temporarily unavailable; try again shortly.")
}
