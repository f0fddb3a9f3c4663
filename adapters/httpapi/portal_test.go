package httpapi_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/document"
	"github.com/korpu-az/korpu/adapters/httpapi"
	"github.com/korpu-az/korpu/adapters/httpapi/openapitest"
	"github.com/korpu-az/korpu/adapters/memory"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
	"github.com/korpu-az/korpu/routers/catalogue"
	"github.com/korpu-az/korpu/schemas"
)

const (
	portalToken  = "Bearer portal-secret"
	monitorToken = "Bearer monitor-secret"
	alice        = "5XK3P2A"
	bob          = "7TR9M4B"
)

// portalStart is a Monday before the 2026 Novruz and Ramazan holidays
// (20 to 30 March are not worked), so the next reception days skip them.
var portalStart = time.Date(2026, 3, 16, 9, 0, 0, 0, routers.Baku)

// portalWorld is a read API over a memory ledger on a clock of its own.
type portalWorld struct {
	ledger    *memory.Ledger
	validator *routers.Validator
	handler   http.Handler
	now       time.Time
	seq       int
}

func newPortalWorld(t *testing.T, documents ...httpapi.Documents) *portalWorld {
	t.Helper()
	cal, err := calendar.Load(schemas.Holidays)
	require.NoError(t, err)
	w := &portalWorld{now: portalStart}
	clock := func() time.Time { return w.now }
	w.ledger = memory.NewLedger(clock)
	w.validator = &routers.Validator{Catalogue: catalogue.Default(), Calendar: cal, Directory: routers.Directory{Districts: map[string]routers.DistrictInfo{
		"AZ-BIL": {Code: "AZ-BIL", Name: "Biləsuvar rayon İcra Hakimiyyəti", AllServices: true, Officials: map[string]routers.Official{
			"BIL-01": {ID: "BIL-01", Name: "Əliyev Rauf Kamal oğlu", Position: "İcra hakimiyyətinin başçısı",
				Sessions: []routers.Session{{Weekday: time.Tuesday, From: "10:00", To: "13:00", Capacity: 2}}},
		}},
		"AZ-SAT": {Code: "AZ-SAT", Name: "Saatlı rayon İcra Hakimiyyəti", Services: map[string]bool{"appeal": true, "marriage-age-reduction": true}},
	}}}
	w.handler = openapitest.Wrap(t, httpapi.New(httpapi.Config{
		Access:  testAccess(),
		Inquiry: routers.NewInquiry(w.ledger, w.validator, clock), Reporter: &fakeReporter{},
		Documents: documentsOf(documents), Chains: w.ledger,
		Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler),
	}))
	return w
}

// register files an appeal of fin as intake would, a minute after the last.
func (w *portalWorld) register(t *testing.T, fin, district, service string, reception *routers.Reception) routers.Appeal {
	t.Helper()
	w.now = w.now.Add(time.Minute)
	req := routers.Request{
		Kind: "request", ID: uuid.NewString(), SubmittedAt: routers.FormatTime(w.now.Add(-time.Second)),
		District: district, Service: service, Citizen: routers.Citizen{FIN: fin, Phone: "+994501234567", Address: "Biləsuvar, Bəydili"},
		Appeal:    routers.AppealForm{Type: "complaint", SocialStatus: "employed", Text: fmt.Sprintf("Müraciət %d: küçə işıqlandırılmır.", w.seq)},
		Reception: reception,
	}
	if svc, _ := w.validator.Catalogue.Lookup(service); svc.HasForm() {
		req.Form = svc.ExampleForm()
	}
	body, err := json.Marshal(req)
	require.NoError(t, err)
	submitted, err := time.Parse(time.RFC3339, req.SubmittedAt)
	require.NoError(t, err)
	w.seq++
	draft := routers.Appeal{
		RequestID: req.ID, District: district, Service: service, FIN: fin, Type: "complaint", SubmittedAt: submitted,
		Status: routers.StatusRegistered, Sequence: 1, RegisteredAt: w.now, Deadline: "2026-04-14", Request: body,
		Delivery: routers.Delivery{State: routers.DeliveryPending},
	}
	booking := w.validator.BookingFor(&req)
	number := func(seq int) string { return routers.FormatAppealNumber(district, 2026, seq) }
	a, err := w.ledger.Register(t.Context(), draft, booking, number, func(a routers.Appeal) routers.Effects {
		return routers.Effects{Events: []routers.StatusEvent{{
			EventID: uuid.NewString(), RequestID: a.RequestID, AppealNumber: a.Number, District: district, Service: service,
			Status: routers.StatusRegistered, Sequence: 1, At: routers.FormatTime(w.now), Deadline: a.Deadline,
		}}}
	})
	require.NoError(t, err)
	return a
}

func documentsOf(list []httpapi.Documents) httpapi.Documents {
	if len(list) == 0 {
		return nil
	}
	return list[0]
}

func get(h http.Handler, path, token, fin string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	if fin != "" {
		req.Header.Set("X-Citizen-FIN", fin)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

type problemBody struct {
	Type     string            `json:"type"`
	Title    string            `json:"title"`
	Status   int               `json:"status"`
	Detail   string            `json:"detail"`
	Messages map[string]string `json:"messages"`
	Field    string            `json:"field"`
	Errors   []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

func problemOf(t *testing.T, rec *httptest.ResponseRecorder, status int) problemBody {
	t.Helper()
	p := machineProblemOf(t, rec, status)
	require.NotEmpty(t, p.Messages["az"])
	require.NotEmpty(t, p.Messages["en"])
	return p
}

// machineProblemOf is problemOf for the machine-to-machine routes, whose
// problems are in English only.
func machineProblemOf(t *testing.T, rec *httptest.ResponseRecorder, status int) problemBody {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	var p problemBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	require.Equal(t, status, p.Status)
	require.Equal(t, "urn:korpu:problem:", p.Type[:len("urn:korpu:problem:")])
	require.NotEmpty(t, p.Title)
	require.NotEmpty(t, p.Detail)
	return p
}

func jsonOf[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var v T
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v), rec.Body.String())
	return v
}

func TestPortalTokens(t *testing.T) {
	t.Parallel()
	w := newPortalWorld(t)
	a := w.register(t, alice, "AZ-BIL", "appeal", nil)
	routes := []string{"/v1/districts", "/v1/services", "/v1/services/appeal", "/v1/districts/AZ-BIL/officials",
		"/v1/citizens/me/appeals", "/v1/appeals/" + a.Number, "/v1/appeals/" + a.Number + "/document"}
	for _, path := range routes {
		for name, token := range map[string]string{"None": "", "Wrong": "Bearer portal-secreT", "NotBearer": "portal-secret",
			"Empty": "Bearer "} {
			t.Run(path+"/"+name, func(t *testing.T) {
				rec := get(w.handler, path, token, alice)
				if path == "/v1/appeals/"+a.Number+"/document" {
					// No renderer is wired: the route is absent, whoever asks.
					require.Equal(t, http.StatusNotFound, rec.Code)
					return
				}
				p := problemOf(t, rec, http.StatusUnauthorized)
				require.Equal(t, "urn:korpu:problem:unauthorized", p.Type)
				require.Contains(t, rec.Header().Get("WWW-Authenticate"), "Bearer")
			})
		}
	}

	// A district is known, but reads nothing here.
	for _, path := range routes[:len(routes)-1] {
		p := problemOf(t, get(w.handler, path, bilAuth, alice), http.StatusForbidden)
		require.Equal(t, "urn:korpu:problem:forbidden", p.Type, path)
	}

	t.Run("CitizenNeedsFIN", func(t *testing.T) {
		for _, fin := range []string{"", "5XK3P2", "5XK3P2I", "5xk3p2a", "5XK3P2A0"} {
			p := problemOf(t, get(w.handler, "/v1/citizens/me/appeals", portalToken, fin), http.StatusBadRequest)
			require.Equal(t, "X-Citizen-FIN", p.Errors[0].Field, fin)
		}
	})
	t.Run("MonitorsReadDetailsWithoutFIN", func(t *testing.T) {
		d := jsonOf[map[string]any](t, get(w.handler, "/v1/appeals/"+a.Number, monitorToken, ""))
		require.Equal(t, a.Number, d["number"])
	})
	t.Run("MonitorsHaveNoCitizenHistory", func(t *testing.T) {
		problemOf(t, get(w.handler, "/v1/citizens/me/appeals", monitorToken, alice), http.StatusForbidden)
		problemOf(t, get(w.handler, "/v1/citizens/me/appeals", "Bearer operator-secret", alice), http.StatusForbidden)
	})
	t.Run("OperatorsReadAsMonitors", func(t *testing.T) {
		d := jsonOf[map[string]any](t, get(w.handler, "/v1/appeals/"+a.Number, "Bearer operator-secret", ""))
		require.Equal(t, a.Number, d["number"])
	})
	t.Run("MonitorsReadTheCatalogue", func(t *testing.T) {
		jsonOf[map[string]any](t, get(w.handler, "/v1/services", monitorToken, ""))
	})
}

type historyPage struct {
	Appeals []struct {
		Number       string `json:"number"`
		SubmittedAt  string `json:"submitted_at"`
		RegisteredAt string `json:"registered_at"`
		District     string `json:"district"`
		Service      string `json:"service"`
		Type         string `json:"type"`
		Status       string `json:"status"`
		Deadline     string `json:"deadline"`
		LastChangeAt string `json:"last_change_at"`
	} `json:"appeals"`
	NextCursor string `json:"next_cursor"`
}

func TestCitizenHistory(t *testing.T) {
	t.Parallel()
	w := newPortalWorld(t)
	var mine []string // oldest first
	for i := range 7 {
		if i%3 == 0 {
			w.register(t, bob, "AZ-BIL", "appeal", nil)
		}
		service := "appeal"
		if i == 4 {
			service = "housing-registration"
		}
		mine = append(mine, w.register(t, alice, "AZ-BIL", service, nil).Number)
	}

	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 3, "7 appeals in pages of 3")
		path := "/v1/citizens/me/appeals?limit=3"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		rec := get(w.handler, path, portalToken, alice)
		require.Equal(t, "private, no-store", rec.Header().Get("Cache-Control"))
		page := jsonOf[historyPage](t, rec)
		for _, a := range page.Appeals {
			seen = append(seen, a.Number)
			require.Equal(t, "AZ-BIL", a.District)
			require.Equal(t, "registered", a.Status)
			require.Equal(t, "complaint", a.Type)
			require.Equal(t, "2026-04-14", a.Deadline)
			require.Equal(t, a.RegisteredAt, a.LastChangeAt)
			sub, err := time.Parse(time.RFC3339, a.SubmittedAt)
			require.NoError(t, err)
			reg, err := time.Parse(time.RFC3339, a.RegisteredAt)
			require.NoError(t, err)
			require.Equal(t, time.Second, reg.Sub(sub))
		}
		if page.NextCursor == "" {
			require.Len(t, page.Appeals, 1)
			break
		}
		require.Len(t, page.Appeals, 3)
		cursor = page.NextCursor
	}
	want := make([]string, len(mine))
	for i, n := range mine {
		want[len(mine)-1-i] = n
	}
	require.Equal(t, want, seen, "alice's appeals, newest first, each once, none of bob's")

	t.Run("FilterByService", func(t *testing.T) {
		page := jsonOf[historyPage](t, get(w.handler, "/v1/citizens/me/appeals?service=housing-registration", portalToken, alice))
		require.Len(t, page.Appeals, 1)
		require.Equal(t, mine[4], page.Appeals[0].Number)
	})
	t.Run("FilterByStatus", func(t *testing.T) {
		page := jsonOf[historyPage](t, get(w.handler, "/v1/citizens/me/appeals?status=delivered", portalToken, alice))
		require.Empty(t, page.Appeals)
		page = jsonOf[historyPage](t, get(w.handler, "/v1/citizens/me/appeals?status=registered&limit=100", portalToken, alice))
		require.Len(t, page.Appeals, 7)
	})
	t.Run("NoAppeals", func(t *testing.T) {
		page := jsonOf[historyPage](t, get(w.handler, "/v1/citizens/me/appeals", portalToken, "9ZZ9ZZ9"))
		require.NotNil(t, page.Appeals)
		require.Empty(t, page.Appeals)
	})
	t.Run("BadParameters", func(t *testing.T) {
		for query, field := range map[string]string{
			"limit=0": "limit", "limit=101": "limit", "limit=ten": "limit", "status=invalid": "status",
			"status=lost": "status", "service=haircut": "service", "cursor=not-a-cursor": "cursor",
			"cursor=" + url.QueryEscape("eyJyIjoiMjAyNi0wMy0xNlQwNTowMDowMFoiLCJuIjoiIn0"): "cursor",
		} {
			p := problemOf(t, get(w.handler, "/v1/citizens/me/appeals?"+query, portalToken, alice), http.StatusBadRequest)
			require.Equal(t, field, p.Errors[0].Field, query)
		}
	})
}

func TestAppealDetails(t *testing.T) {
	t.Parallel()
	w := newPortalWorld(t)
	a := w.register(t, alice, "AZ-BIL", "housing-registration", nil)
	person := `{"fin":"5XK3P2A","surname":"Məmmədova","name":"Gülnarə","patronymic":"Əli qızı","birth_date":"1985-04-12",` +
		`"gender":"F","birth_place":"Biləsuvar","registration_address":"Biləsuvar şəhəri, Heydər Əliyev prospekti 12",` +
		`"id_card":{"series":"AA","number":"1234567","issued_at":"2020-01-10","expires_at":"2030-01-10","issued_by":"DİN"}}`
	require.NoError(t, w.ledger.UpdateAppeal(t.Context(), a.Number, func(x *routers.Appeal) (routers.Effects, error) {
		x.Person = json.RawMessage(person)
		x.DistrictRef = "ESD-778"
		x.Status, x.Sequence = routers.StatusDelivered, 2
		return routers.Effects{Events: []routers.StatusEvent{{EventID: uuid.NewString(), RequestID: x.RequestID, AppealNumber: x.Number,
			District: "AZ-SAT", // as if forwarded there
			Status:   routers.StatusDelivered, Sequence: 2, At: routers.FormatTime(w.now.Add(time.Minute)), Deadline: x.Deadline}}}, nil
	}))

	rec := get(w.handler, "/v1/appeals/"+a.Number, portalToken, alice)
	require.Equal(t, "private, no-store", rec.Header().Get("Cache-Control"))
	d := jsonOf[struct {
		Number   string `json:"number"`
		Status   string `json:"status"`
		District struct{ Code, Name string }
		Service  struct {
			Code   string `json:"code"`
			NameEN string `json:"name_en"`
		}
		Text              string          `json:"text"`
		Deadline          string          `json:"deadline"`
		DistrictReference string          `json:"district_reference"`
		Person            *routers.Person `json:"person"`
		Form              []struct {
			Code, Label, Value string
		} `json:"form"`
		Timeline []struct {
			Sequence int    `json:"sequence"`
			Status   string `json:"status"`
			District string `json:"district"`
		} `json:"timeline"`
	}](t, rec)
	require.Equal(t, a.Number, d.Number)
	require.Equal(t, "delivered", d.Status)
	require.Equal(t, "Biləsuvar rayon İcra Hakimiyyəti", d.District.Name)
	require.Equal(t, "housing-registration", d.Service.Code)
	require.Equal(t, "Müraciət 0: küçə işıqlandırılmır.", d.Text)
	require.Equal(t, "ESD-778", d.DistrictReference)
	require.Equal(t, "Məmmədova Gülnarə Əli qızı", d.Person.FullName())
	require.Equal(t, "1234567", d.Person.IDCard.Number)
	svc, _ := catalogue.Default().Lookup("housing-registration")
	example := svc.ExampleForm()
	require.Len(t, d.Form, len(example), "every field sent, no other")
	for i, f := range d.Form {
		attr := svc.Attributes[i]
		require.Equal(t, attr.Code, f.Code, "in the form's order")
		require.Equal(t, attr.Description, f.Label)
		if attr.Code == "reason" {
			require.Equal(t, attr.Values[slices.IndexFunc(attr.Values, func(v catalogue.Value) bool { return v.Key == example["reason"] })].Name, f.Value,
				"a list's choice is shown by its name")
		}
		if attr.Code == "living_area" {
			require.Equal(t, "28.5", f.Value, "a number as written")
		}
	}
	require.Len(t, d.Timeline, 2)
	require.Equal(t, "delivered", d.Timeline[1].Status)
	require.Equal(t, "AZ-SAT", d.Timeline[1].District, "each step names its authority")

	t.Run("AnotherCitizensIsNotFound", func(t *testing.T) {
		other := get(w.handler, "/v1/appeals/"+a.Number, portalToken, bob)
		unknown := get(w.handler, "/v1/appeals/AZ-BIL-2026-999999", portalToken, bob)
		problemOf(t, other, http.StatusNotFound)
		require.Equal(t, unknown.Body.String(), other.Body.String(), "someone else's appeal reads like none")
		require.Equal(t, unknown.Header(), other.Header())
	})
	t.Run("NoSuchNumberReachesTheLedger", func(t *testing.T) {
		for _, number := range []string{"AZ-BIL%00", "AZ-BIL-2026-" + strings.Repeat("0", 40), "%E2%80%A8", "%FF"} {
			problemOf(t, get(w.handler, "/v1/appeals/"+number, portalToken, alice), http.StatusNotFound)
		}
	})
}

func TestOfficialsFreePlaces(t *testing.T) {
	t.Parallel()
	w := newPortalWorld(t)
	type days struct {
		District  string `json:"district"`
		Officials []struct {
			ID        string `json:"id"`
			Name      string `json:"name"`
			Position  string `json:"position"`
			Reception []struct {
				Weekday  string `json:"weekday"`
				Capacity int    `json:"capacity"`
			} `json:"reception"`
			Next []struct {
				Date     string `json:"date"`
				Weekday  string `json:"weekday"`
				Capacity int    `json:"capacity"`
				Free     int    `json:"free"`
				Sessions []struct{ From, To string }
			} `json:"next_reception_days"`
		} `json:"officials"`
	}
	read := func() days { return jsonOf[days](t, get(w.handler, "/v1/districts/AZ-BIL/officials", portalToken, "")) }
	frees := func(d days) []int {
		var out []int
		for _, day := range d.Officials[0].Next {
			out = append(out, day.Free)
		}
		return out
	}
	got := read()
	require.Len(t, got.Officials, 1)
	o := got.Officials[0]
	require.Equal(t, "Əliyev Rauf Kamal oğlu", o.Name)
	require.Equal(t, "tuesday", o.Reception[0].Weekday)
	var dates []string
	for _, d := range o.Next {
		dates = append(dates, d.Date)
		require.Equal(t, "tuesday", d.Weekday)
		require.Equal(t, 2, d.Free)
		require.Equal(t, "10:00", d.Sessions[0].From)
	}
	// 24 March 2026 is a Tuesday in the Novruz and Ramazan holidays.
	require.Equal(t, []string{"2026-03-17", "2026-03-31", "2026-04-07", "2026-04-14"}, dates)

	// Every date offered is one intake accepts; the holiday is not.
	for _, date := range append(dates, "2026-03-24") {
		req := routers.Request{Service: "reception-booking", District: "AZ-BIL", Reception: &routers.Reception{OfficialID: "BIL-01", Date: date}}
		var receptionErr bool
		for _, fe := range w.validator.ValidateRequest([]byte(`{}`), &req, w.now) {
			receptionErr = receptionErr || fe.Field == "reception.date"
		}
		require.Equal(t, date == "2026-03-24", receptionErr, date)
	}

	w.register(t, alice, "AZ-BIL", "reception-booking", &routers.Reception{OfficialID: "BIL-01", Date: "2026-03-31"})
	require.Equal(t, []int{2, 1, 2, 2}, frees(read()))
	w.register(t, bob, "AZ-BIL", "reception-booking", &routers.Reception{OfficialID: "BIL-01", Date: "2026-03-31"})
	require.Equal(t, []int{2, 0, 2, 2}, frees(read()))

	t.Run("UnknownDistrict", func(t *testing.T) {
		problemOf(t, get(w.handler, "/v1/districts/AZ-XYZ/officials", portalToken, ""), http.StatusNotFound)
	})
}

func TestCatalogueRoutes(t *testing.T) {
	t.Parallel()
	w := newPortalWorld(t)
	type district struct {
		Code     string   `json:"code"`
		Name     string   `json:"name"`
		Services []string `json:"services"`
	}
	ds := jsonOf[struct{ Districts []district }](t, get(w.handler, "/v1/districts", portalToken, "")).Districts
	require.Len(t, ds, 2)
	require.Equal(t, "AZ-BIL", ds[0].Code)
	require.Len(t, ds[0].Services, len(catalogue.Default().Codes())-1, "all services but the withdrawn one")
	require.Equal(t, district{Code: "AZ-SAT", Name: "Saatlı rayon İcra Hakimiyyəti", Services: []string{"appeal"}}, ds[1],
		"a withdrawn service is offered nowhere")

	type service struct {
		Code       string `json:"service_code"`
		NameEN     string `json:"service_name_en"`
		Withdrawn  bool   `json:"withdrawn"`
		AnswerDays int    `json:"answer_days"`
		Extended   int    `json:"extended_answer_days"`
		Attributes []struct {
			Code string `json:"code"`
		} `json:"attributes"`
	}
	all := jsonOf[struct{ Services []service }](t, get(w.handler, "/v1/services", portalToken, "")).Services
	require.Len(t, all, 21)
	withdrawn := 0
	for _, s := range all {
		require.Equal(t, 15, s.AnswerDays)
		require.Equal(t, 30, s.Extended)
		if s.Withdrawn {
			withdrawn++
			require.Equal(t, "marriage-age-reduction", s.Code)
		}
	}
	require.Equal(t, 1, withdrawn)
	one := jsonOf[service](t, get(w.handler, "/v1/services/family-composition-certificate", portalToken, ""))
	require.NotEmpty(t, one.Attributes)
	require.NotEmpty(t, one.NameEN)
	problemOf(t, get(w.handler, "/v1/services/haircut", portalToken, ""), http.StatusNotFound)
}

func TestAppealDocument(t *testing.T) {
	t.Parallel()
	renderer, err := document.New(document.Config{DetailsURL: "https://portal.example/appeals/{number}"})
	require.NoError(t, err)
	w := newPortalWorld(t, renderer)
	a := w.register(t, alice, "AZ-BIL", "reception-booking", &routers.Reception{OfficialID: "BIL-01", Date: "2026-03-17"})
	for _, viewer := range []struct{ token, fin string }{{portalToken, alice}, {monitorToken, ""}} {
		for _, lang := range []string{"", "?lang=az", "?lang=en"} {
			rec := get(w.handler, "/v1/appeals/"+a.Number+"/document"+lang, viewer.token, viewer.fin)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			require.Equal(t, "application/pdf", rec.Header().Get("Content-Type"))
			require.Equal(t, "private, no-store", rec.Header().Get("Cache-Control"))
			require.Equal(t, `inline; filename="`+a.Number+`.pdf"`, rec.Header().Get("Content-Disposition"))
			require.True(t, strings.HasPrefix(rec.Body.String(), "%PDF-"))
		}
	}
	problemOf(t, get(w.handler, "/v1/appeals/"+a.Number+"/document", portalToken, bob), http.StatusNotFound)
	p := problemOf(t, get(w.handler, "/v1/appeals/"+a.Number+"/document?lang=ru", portalToken, alice), http.StatusBadRequest)
	require.Equal(t, "lang", p.Errors[0].Field)
	problemOf(t, get(w.handler, "/v1/appeals/"+a.Number+"/document", "", ""), http.StatusUnauthorized)
}
