package esd_test

import (
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/district/esd"
	"github.com/korpu-az/korpu/adapters/district/esd/esdtest"
	"github.com/korpu-az/korpu/routers"
)

var update = flag.Bool("update", false, "rewrite the golden requests in testdata/requests")

const (
	username = "korpu-hub"
	password = "s3cret"
)

// recorder stands in for ESD: it keeps the requests and answers each
// operation with its golden response.
type recorder struct {
	mu       sync.Mutex
	requests []recorded
}

type recorded struct {
	action, contentType string
	body                []byte
}

var answers = map[string]string{
	`"` + esd.SOAPAction(esd.OpRegister) + `"`: "register.xml",
	`"` + esd.SOAPAction(esd.OpState) + `"`:    "state.xml",
	`"` + esd.SOAPAction(esd.OpChanges) + `"`:  "changes.xml",
	`"` + esd.SOAPAction(esd.OpComment) + `"`:  "comment.xml",
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.requests = append(rec.requests, recorded{action: r.Header.Get("SOAPAction"), contentType: r.Header.Get("Content-Type"), body: body})
	rec.mu.Unlock()
	name, ok := answers[r.Header.Get("SOAPAction")]
	if !ok {
		http.Error(w, "unknown SOAPAction", http.StatusBadRequest)
		return
	}
	b, err := os.ReadFile(filepath.Join("testdata", "responses", name))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write(b)
}

func (rec *recorder) last(t *testing.T) recorded {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.NotEmpty(t, rec.requests, "no request reached the server")
	return rec.requests[len(rec.requests)-1]
}

const fullPerson = `{"fin":"5ZJ7K2M","surname":"Məmmədov","name":"Rəşad","patronymic":"Elçin oğlu","birth_date":"1988-04-12","gender":"male","birth_place":"Biləsuvar rayonu","registration_address":"Biləsuvar şəhəri, Nizami küçəsi 14","id_card":{"series":"AZE","number":"12345678","issued_at":"2019-05-20","expires_at":"2029-05-20","issued_by":"DİN Biləsuvar"}}`

// goldenSubmissions are fixed inputs covering every branch of the mapping.
func goldenSubmissions() map[string]routers.Submission {
	base := func(number, service string) routers.Submission {
		return routers.Submission{
			AppealNumber: number,
			Service:      service,
			Deadline:     "2026-12-18",
			RegisteredAt: time.Date(2026, 11, 27, 6, 15, 5, 0, time.UTC),
			Request: routers.Request{
				Kind: "request", ID: "2f8d6a4e-6c1b-4f5e-9a57-0d3c8e1b7a21", SubmittedAt: "2026-11-27T10:15:04+04:00",
				District: "AZ-BIL", Service: service,
				Citizen: routers.Citizen{FIN: "5ZJ7K2M", Phone: "+994501234567"},
			},
			Person: json.RawMessage(fullPerson),
		}
	}
	appeal := base("AZ-BIL-2026-000017", "appeal")
	appeal.Request.Citizen = routers.Citizen{
		FIN: "5ZJ7K2M", Phone: "+994501234567", Email: "rashad.mammadov@example.az",
		Workplace: "Biləsuvar rayon 3 nömrəli tam orta məktəb", Position: "müəllim", Address: "Biləsuvar şəhəri, Nizami küçəsi 14",
	}
	appeal.Request.Appeal = routers.AppealForm{Type: "complaint", SocialStatus: "employed", PrivilegeStatus: "idp", Subject: "İçməli su",
		Text: "Kəndimizdə iki həftədir içməli su verilmir. <Təcili> & vacib!"}
	appeal.Request.Attachments = []routers.Attachment{
		{Name: "su-xetti.jpg", ContentType: "image/jpeg", Size: 482113, SHA256: "9b74c9897bac770ffc029102a200c5de8f2bd0e4b4a0b9b1b6f1c0d3c0d5a1e2", URL: "https://files.portal.example/att/2f8d6a4e/1"},
		{Name: "akt.pdf", ContentType: "application/pdf", Size: 1024, SHA256: "0c1f", URL: "https://files.portal.example/att/2f8d6a4e/2?v=1&x=2"},
	}

	proposal := base("AZ-BIL-2026-000018", "appeal")
	proposal.Person = json.RawMessage(`{"fin":"5ZJ7K2M","surname":"Məmmədova","name":"Aysel","patronymic":"","birth_date":"2004-01-30","gender":"female","birth_place":"Bakı şəhəri","registration_address":"Bakı şəhəri, Yasamal rayonu","id_card":{"series":"AA","number":"1234567","issued_at":"2020-02-01","expires_at":"2030-02-01","issued_by":"DİN Yasamal"}}`)
	proposal.Request.Appeal = routers.AppealForm{Type: "proposal", SocialStatus: "student", Text: "Parkda işıqlandırma olsun."}

	reception := base("AZ-BIL-2026-000019", "reception-booking")
	reception.Request.Citizen.Address = "Biləsuvar rayonu, Bəydili kəndi"
	reception.Request.Appeal = routers.AppealForm{Type: "application", SocialStatus: "pensioner", PrivilegeStatus: "disability_2", Text: "Pensiya məsələsi ilə bağlı qəbula yazılmaq istəyirəm."}
	reception.Request.Reception = &routers.Reception{OfficialID: "BIL-01", Date: "2026-12-01"}

	service := base("AZ-BIL-2026-000020", "family-composition-certificate")
	service.Request.SubmittedAt = "not a time" // GonderilmeTarixi falls back to RegisteredAt
	service.Request.Appeal = routers.AppealForm{Type: "application", SocialStatus: "unemployed", PrivilegeStatus: "large_family", Text: "Ailə tərkibi haqqında arayış tələb olunur."}
	service.Request.Form = map[string]any{
		"purpose":       "sosial yardım üçün",
		"members_count": float64(4),
		"documents":     []any{"birth_certificate", "marriage_certificate"},
		"urgent":        true,
		"note":          nil,
		"empty":         "",
	}
	service.Request.Attachments = []routers.Attachment{{Name: "şəhadətnamə.png", ContentType: "image/png", Size: 7, SHA256: "ab12", URL: "https://files.portal.example/att/c1a9/1"}}

	return map[string]routers.Submission{
		"submit-appeal":    appeal,
		"submit-proposal":  proposal,
		"submit-reception": reception,
		"submit-service":   service,
	}
}

func newClient(t *testing.T, h http.Handler) *esd.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := esd.New(esd.Config{Code: "AZ-BIL", Endpoint: srv.URL + "/esd", Username: username, Password: password, Timeout: 5 * time.Second}, nil, nil)
	require.NoError(t, err)
	return c
}

// TestGoldenRequests generates every operation's request for fixed inputs,
// compares it byte for byte with testdata/requests (go test -update rewrites
// them) and validates its payload against the vendor's XSD with xmllint.
func TestGoldenRequests(t *testing.T) {
	t.Parallel()
	type call struct {
		op  string
		run func(*esd.Client) error
	}
	calls := map[string]call{
		"state": {esd.OpState, func(c *esd.Client) error {
			_, err := c.State(t.Context(), "BIL-2026/000123")
			return err
		}},
		"changes": {esd.OpChanges, func(c *esd.Client) error {
			_, err := c.Changes(t.Context(), time.Date(2026, 11, 28, 5, 0, 0, 500_000_000, time.UTC), 50)
			return err
		}},
		"comment": {esd.OpComment, func(c *esd.Client) error {
			return c.Comment(t.Context(), routers.CommentSubmission{ID: "0e5f3c2b", AppealNumber: "AZ-BIL-2026-000017", Reference: "BIL-2026/000123",
				Text: "Problem hələ də davam edir, əlavə şəkil göndərirəm.", At: time.Date(2026, 12, 3, 5, 40, 12, 0, time.UTC)})
		}},
	}
	for name, s := range goldenSubmissions() {
		calls[name] = call{esd.OpRegister, func(c *esd.Client) error {
			_, err := c.Submit(t.Context(), s)
			return err
		}}
	}
	for name, tc := range calls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			require.NoError(t, tc.run(newClient(t, rec)))
			got := rec.last(t)
			require.Equal(t, `"`+esd.SOAPAction(tc.op)+`"`, got.action)
			require.Equal(t, "text/xml; charset=utf-8", got.contentType)

			path := filepath.Join("testdata", "requests", name+".xml")
			if *update {
				require.NoError(t, os.WriteFile(path, got.body, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -update to create the golden file")
			require.Equal(t, string(want), string(got.body))

			env, err := esd.ReadEnvelope(got.body)
			require.NoError(t, err)
			user, pass, ok := env.Credentials()
			require.True(t, ok)
			require.Equal(t, username, user)
			require.Equal(t, password, pass)
			validate(t, got.body)
		})
	}
}

// TestGoldenResponsesValid checks that the vendor-style answers the tests
// use are what the XSD allows, so the parser is tested on the real shape.
func TestGoldenResponsesValid(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "responses", "*.xml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			validate(t, b)
		})
	}
}

// validate checks the ESD element of an envelope against the vendor's XSD:
// the Body's payload, or a fault's Xeta detail. A fault without Xeta has nothing to check.
func validate(t *testing.T, envelope []byte) {
	t.Helper()
	require.NoError(t, schemaCheck(t, envelope))
}

// schemaCheck runs xmllint on the ESD element of an envelope.
func schemaCheck(t *testing.T, envelope []byte) error {
	t.Helper()
	err := esdtest.Validate(envelope)
	require.NotErrorIs(t, err, esdtest.ErrNoXmllint, "the XSD checks never skip")
	return err
}

// TestSchemaCheckRejects proves the check bites: requests the XSD forbids fail it.
func TestSchemaCheckRejects(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile(filepath.Join("testdata", "requests", "submit-appeal.xml"))
	require.NoError(t, err)
	require.NoError(t, schemaCheck(t, good))
	for name, edit := range map[string]func(string) string{
		"MissingNov": func(s string) string { return strings.Replace(s, "<esd:Nov>SIKAYET</esd:Nov>", "", 1) },
		"WrongOrder": func(s string) string {
			s = strings.Replace(s, "<esd:Movzu>İçməli su</esd:Movzu>", "", 1)
			return strings.Replace(s, "</esd:Metn>", "</esd:Metn><esd:Movzu>İçməli su</esd:Movzu>", 1)
		},
		"EmptyElaveler": func(s string) string {
			i, j := strings.Index(s, "<esd:Elaveler>"), strings.Index(s, "</esd:Elaveler>")
			return s[:i] + "<esd:Elaveler>" + s[j:]
		},
		"BadFIN": func(s string) string {
			return strings.Replace(s, "<esd:FIN>5ZJ7K2M</esd:FIN>", "<esd:FIN>5zj7</esd:FIN>", 1)
		},
		"BadNov":  func(s string) string { return strings.Replace(s, "SIKAYET", "COMPLAINT", 1) },
		"BadDate": func(s string) string { return strings.Replace(s, "2026-12-18", "18.12.2026", 1) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Error(t, schemaCheck(t, []byte(edit(string(good)))))
		})
	}
}
