package portalweb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/access"
	"github.com/korpu-az/korpu/adapters/httpapi"
	"github.com/korpu-az/korpu/adapters/httpapi/openapitest"
	"github.com/korpu-az/korpu/adapters/sim/portalweb"
	"github.com/korpu-az/korpu/adapters/sim/registrysim"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
	"github.com/korpu-az/korpu/routers/catalogue"
	"github.com/korpu-az/korpu/schemas"
)

const (
	portalToken = "test-portal-token"
	signingKey  = "test-signing-key"
	fin         = "4HN7P2K"
)

// A Tuesday in March 2026, 10:00 in Baku: no test depends on today.
var now = time.Date(2026, time.March, 10, 10, 0, 0, 0, routers.Baku)

// ledger is the read side the hub's API answers from: one citizen's
// appeals, and places booked on nobody's day.
type ledger struct {
	mu      sync.Mutex
	appeals []routers.AppealSummary
}

func (l *ledger) AppealsOf(_ context.Context, who string, f routers.HistoryFilter, _ routers.HistoryPosition, limit int) ([]routers.AppealSummary, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []routers.AppealSummary
	for _, a := range l.appeals {
		if who == fin && (f.Service == "" || f.Service == a.Service) && len(out) < limit {
			out = append(out, a)
		}
	}
	return out, nil
}

func (l *ledger) AppealRecord(context.Context, string) (routers.AppealRecord, error) {
	return routers.AppealRecord{}, routers.ErrNotFound
}

func (l *ledger) Booked(context.Context, string, []string) (map[string]int, error) { return nil, nil }

type fixture struct {
	url       string
	client    *http.Client
	validator *routers.Validator
	ledger    *ledger
	mu        sync.Mutex
	sent      []portalweb.Message
}

// setup serves the portal's page against the hub's real read API (over a
// ledger of the test's) and the registry simulator; what the page sends is
// kept for the test.
func setup(t *testing.T) *fixture {
	t.Helper()
	cal, err := calendar.Load(schemas.Holidays)
	require.NoError(t, err)
	dir := routers.Directory{Districts: map[string]routers.DistrictInfo{
		"AZ-BIL": {Code: "AZ-BIL", Name: "Biləsuvar", AllServices: true, Officials: map[string]routers.Official{
			"BIL-01": {ID: "BIL-01", Name: "Əliyev Rauf Kamal oğlu", Position: "Başçı",
				Sessions: []routers.Session{{Weekday: time.Tuesday, From: "10:00", To: "13:00", Capacity: 20}}},
		}},
	}}
	f := &fixture{validator: &routers.Validator{Catalogue: catalogue.Default(), Calendar: cal, Directory: dir}, ledger: &ledger{}}
	clock := func() time.Time { return now }
	hub := httptest.NewServer(openapitest.Wrap(t, httpapi.New(httpapi.Config{
		Access:  access.NewTokens(access.NewTable(map[string]access.Party{portalToken: {Name: "portal", Role: access.RolePortal}})),
		Inquiry: routers.NewInquiry(f.ledger, f.validator, clock),
	})))
	t.Cleanup(hub.Close)
	registry := httptest.NewServer(registrysim.New(registrysim.Options{Token: "reg"}))
	t.Cleanup(registry.Close)

	portal, err := portalweb.New(portalweb.Config{
		HubURL: hub.URL, PortalToken: portalToken, RegistryURL: registry.URL, RegistryToken: "reg",
		SigningKey: []byte(signingKey), Now: clock,
		Send: func(_ context.Context, m portalweb.Message) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.sent = append(f.sent, m)
			return nil
		},
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/portal/", portal)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	f.url = srv.URL + "/portal"
	f.client = &http.Client{Jar: jar}
	return f
}

func (f *fixture) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := f.client.Get(f.url + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// reply is the page a post ends on, after redirects.
type reply struct {
	StatusCode int
	URL        *url.URL
}

func (f *fixture) post(t *testing.T, path string, form url.Values) (reply, string) {
	t.Helper()
	resp, err := f.client.PostForm(f.url+path, form)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{StatusCode: resp.StatusCode, URL: resp.Request.URL}, string(b)
}

func (f *fixture) signIn(t *testing.T) {
	t.Helper()
	resp, body := f.post(t, "/signin", url.Values{"fin": {fin}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, `id="id-card"`)
}

func (f *fixture) messages() []portalweb.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]portalweb.Message(nil), f.sent...)
}

// common is a filled-in common part of the appeal form.
func common(service string) url.Values {
	return url.Values{
		"district": {"AZ-BIL"}, "service": {service},
		"type": {"proposal"}, "social_status": {"student"}, "privilege_status": {"large_family"},
		"subject": {"Park"}, "text": {"Parkın abadlaşdırılması ilə bağlı təklifim var.\nƏtraflı yazıram."},
		"phone": {"+994502345678"}, "email": {"a@example.az"}, "address": {"Biləsuvar şəhəri"},
	}
}

// checkRequest asserts that m is signed with the portal's key and is a
// request the hub's own rules accept.
func (f *fixture) checkRequest(t *testing.T, m portalweb.Message) routers.Request {
	t.Helper()
	require.Equal(t, routers.Sign([]byte(signingKey), m.Body), m.Signature, "x-signature")
	var req routers.Request
	require.NoError(t, json.Unmarshal(m.Body, &req))
	require.Equal(t, m.ID, req.ID, "the message id is the body's id")
	require.Empty(t, f.validator.ValidateRequest(m.Body, &req, now), "the hub's rules: %s", m.Body)
	return req
}

func TestSignInShowsTheIDCardAndRefusesStrangers(t *testing.T) {
	t.Parallel()
	f := setup(t)
	status, body := f.get(t, "/new")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `id="signin"`, "the form needs a signed-in citizen")

	resp, body := f.post(t, "/signin", url.Values{"fin": {"7AB3C9D"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "not a demo citizen")
	require.Contains(t, body, "Belə nümunə vətəndaş yoxdur.")

	f.signIn(t)
	_, body = f.get(t, "/")
	p := registrysim.Record(fin)
	for _, want := range []string{p.Surname, p.Name, p.Patronymic, p.BirthDate, p.IDCard.Series + " " + p.IDCard.Number, p.IDCard.IssuedBy} {
		require.Contains(t, body, want)
	}

	// A cookie naming another citizen, without the page's MAC, is nobody.
	u, err := url.Parse(f.url)
	require.NoError(t, err)
	f.client.Jar.SetCookies(u, []*http.Cookie{{Name: "portal_session", Value: "2QW4E6T.forged", Path: "/portal"}})
	_, body = f.get(t, "/new")
	require.Contains(t, body, `id="signin"`)
}

func TestReceptionBookingIsAValidSignedRequest(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.signIn(t)
	_, body := f.get(t, "/new?district=AZ-BIL&service=reception-booking")
	days := regexp.MustCompile(`name="reception" id="[^"]+" value="BIL-01\|(\d{4}-\d\d-\d\d)" data-free="20"`).FindAllStringSubmatch(body, -1)
	require.Len(t, days, 4, "the official's next 4 reception days with their free places")
	// The days after 10 March 2026 that are Tuesdays and working days.
	require.Equal(t, "2026-03-17", days[0][1])

	form := common("reception-booking")
	form.Set("reception", "BIL-01|"+days[1][1])
	resp, body := f.post(t, "/new", form)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, "/portal/sent", resp.URL.Path, "on to the page that waits for the registration")

	sent := f.messages()
	require.Len(t, sent, 1)
	req := f.checkRequest(t, sent[0])
	require.Equal(t, &routers.Reception{OfficialID: "BIL-01", Date: days[1][1]}, req.Reception)
	require.Equal(t, routers.Citizen{FIN: fin, Phone: "+994502345678", Email: "a@example.az", Address: "Biləsuvar şəhəri"}, req.Citizen)
	require.Equal(t, routers.AppealForm{Type: "proposal", SocialStatus: "student", PrivilegeStatus: "large_family",
		Subject: "Park", Text: "Parkın abadlaşdırılması ilə bağlı təklifim var.\nƏtraflı yazıram."}, req.Appeal)
	require.Equal(t, "2026-03-10T10:00:00+04:00", req.SubmittedAt)

	// Registered: the page that waited finds it by district, service and time.
	f.ledger.mu.Lock()
	f.ledger.appeals = []routers.AppealSummary{{Number: "AZ-BIL-2026-000042", District: "AZ-BIL", Service: "reception-booking",
		Type: "proposal", Status: routers.StatusRegistered, SubmittedAt: now, RegisteredAt: now, Deadline: "2026-04-01", ChangedAt: now}}
	f.ledger.mu.Unlock()
	probe := resp.URL.Query()
	probe.Set("probe", "1")
	_, body = f.get(t, "/sent?"+probe.Encode())
	require.JSONEq(t, `{"url":"/portal/appeals/AZ-BIL-2026-000042?sent=1"}`, body)
}

// Every service's form is generated from its attribute definitions, and
// its examples, typed into those inputs, make a request the hub accepts.
func TestServiceFormsFromTheCatalogue(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.signIn(t)
	for _, svc := range catalogue.Default().All() {
		if !svc.HasForm() || svc.Withdrawn {
			continue
		}
		t.Run(svc.Code, func(t *testing.T) {
			_, body := f.get(t, "/new?district=AZ-BIL&service="+svc.Code)
			form := common(svc.Code)
			for _, a := range svc.Attributes {
				name := "form." + a.Code
				var input string
				switch a.Datatype {
				case catalogue.DatatypeText:
					input = `<textarea id="f-` + name + `" name="` + name + `"`
				case catalogue.DatatypeSingleValueList:
					input = `<select id="f-` + name + `" name="` + name + `"`
				case catalogue.DatatypeMultiValueList:
					input = `<input type="checkbox" name="` + name + `" id="f-` + name + "-" + a.Values[0].Key + `"`
				case catalogue.DatatypeNumber:
					input = `<input type="number" id="f-` + name + `"`
				case catalogue.DatatypeDatetime:
					input = `<input type="date" id="f-` + name + `"`
				default:
					input = `<input type="text" id="f-` + name + `"`
				}
				require.Contains(t, body, input, a.Code)
				if a.Datatype != catalogue.DatatypeMultiValueList {
					require.Contains(t, body, `<label for="f-`+name+`">`+a.Description, "labelled")
				}
				if a.Datatype == catalogue.DatatypeMultiValueList {
					// A group of boxes cannot be required in HTML: its legend says so.
					legend := regexp.MustCompile(`id="f-` + regexp.QuoteMeta(name) + `"[^>]*>\s*<legend>[^<]*<span class="muted">\(([^)]*)\)`).FindStringSubmatch(body)
					require.NotNil(t, legend, a.Code)
					require.Equal(t, a.Required, legend[1] == "mütləqdir", "required %s", a.Code)
				} else {
					require.Equal(t, a.Required, strings.Contains(inputTag(body, "f-"+name), " required"), "required %s", a.Code)
				}
				switch v := a.Example.(type) {
				case []any:
					for _, k := range v {
						form.Add(name, fmt.Sprint(k))
					}
				default:
					form.Set(name, fmt.Sprint(v))
				}
			}
			before := len(f.messages())
			resp, body := f.post(t, "/new", form)
			require.Equal(t, "/portal/sent", resp.URL.Path, body)
			sent := f.messages()
			require.Len(t, sent, before+1)
			req := f.checkRequest(t, sent[before])
			require.Equal(t, len(svc.Attributes), len(req.Form), "every field sent")
		})
	}
}

// inputTag returns the opening tag of the element with id (for a
// checkbox group, its first box).
func inputTag(body, id string) string {
	m := regexp.MustCompile(`<(input|select|textarea)[^>]*id="` + regexp.QuoteMeta(id) + `(-[a-z0-9_]+)?"[^>]*>`).FindString(body)
	return m
}

func TestMistakesComeBackNextToTheirFields(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.signIn(t)
	form := common("family-composition-certificate")
	form.Set("text", "")
	form.Set("phone", "0501234567")
	form.Set("subject", strings.Repeat("ə", 201))
	form.Set("form.purpose", "sosial yardım üçün")
	form.Set("form.members_count", "31")
	resp, body := f.post(t, "/new", form)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Empty(t, f.messages(), "nothing sent")
	require.Contains(t, body, `role="alert" id="problems"`)
	for _, field := range []string{"text", "phone", "subject", "form.members_count"} {
		require.Contains(t, body, `href="#f-`+field+`"`, "the summary links %s", field)
		require.Contains(t, body, `id="e-`+field+`"`, "the message next to %s", field)
		require.Contains(t, inputTag(body, "f-"+field), `aria-invalid="true"`, field)
	}
	require.Contains(t, body, `value="sosial yardım üçün"`, "what was typed stays")

	// A reception day that is not offered is refused as well.
	form = common("reception-booking")
	form.Set("reception", "BIL-01|2026-03-11")
	resp, body = f.post(t, "/new", form)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, body, `id="e-reception"`)
	require.Empty(t, f.messages())
}

func TestRemarkIsAValidSignedComment(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.signIn(t)
	resp, _ := f.post(t, "/appeals/AZ-BIL-2026-000042/comments", url.Values{"text": {"Əlavə sənəd gətirəcəyəm."}})
	// The test's ledger holds no appeal: the page the remark returns to is a 404.
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Equal(t, "commented=1", resp.URL.RawQuery)
	sent := f.messages()
	require.Len(t, sent, 1)
	require.Equal(t, routers.Sign([]byte(signingKey), sent[0].Body), sent[0].Signature)
	var req routers.Request
	require.NoError(t, json.Unmarshal(sent[0].Body, &req))
	require.Equal(t, "comment", req.Kind)
	require.Equal(t, "AZ-BIL-2026-000042", req.AppealNo)
	require.Equal(t, fin, req.Citizen.FIN)
	require.Empty(t, f.validator.ValidateComment(sent[0].Body, &req, now), "%s", sent[0].Body)

	resp, _ = f.post(t, "/appeals/AZ-BIL-2026-000042/comments", url.Values{"text": {"  "}})
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "the appeal is still unknown")
	require.Len(t, f.messages(), 1, "an empty remark is not sent")
}

func TestEnglishOnRequest(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, body := f.get(t, "/?lang=en")
	require.Contains(t, body, `<html lang="en">`)
	require.Contains(t, body, "<h1>Sign in to the portal</h1>")
	_, body = f.get(t, "/")
	require.Contains(t, body, `<html lang="en">`, "the choice is remembered")
	_, body = f.get(t, "/?lang=az")
	require.Contains(t, body, `<html lang="az">`)
}
