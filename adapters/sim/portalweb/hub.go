package portalweb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/catalogue"
)

// Bounds on what the hub and the registry may send back: the largest real
// answer (the catalogue) is about 100 KiB, an appeal's PDF a few hundred.
const (
	maxJSONBytes = 4 << 20
	maxPDFBytes  = 16 << 20
)

// errNotFound: the hub answered 404 (no such appeal, or someone else's).
var errNotFound = errors.New("not found")

// apiError is a failed call to the hub, with the problem's messages when
// it sent them (RFC 9457, API.md).
type apiError struct {
	Status int
	AZ, EN string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("hub answered %d: %s", e.Status, e.EN)
}

// Is makes a 404 match errNotFound.
func (e *apiError) Is(target error) bool {
	return target == errNotFound && e.Status == http.StatusNotFound
}

// hubClient calls the hub's read API as the portal does: with the portal's
// token and the signed-in citizen's FİN.
type hubClient struct {
	base   string
	token  string
	client *http.Client
}

// District is one authority of GET /v1/districts.
type District struct {
	Code     string   `json:"code"`
	Name     string   `json:"name"`
	Services []string `json:"services"`
}

// Service is a catalogue entry of GET /v1/services.
type Service struct {
	catalogue.Service
	AnswerDays         int `json:"answer_days"`
	ExtendedAnswerDays int `json:"extended_answer_days"`
}

// Officials is GET /v1/districts/{code}/officials.
type Officials struct {
	District  string         `json:"district"`
	Officials []OfficialDays `json:"officials"`
}

// OfficialDays is an official with his next reception days.
type OfficialDays struct {
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	Position string         `json:"position"`
	Days     []ReceptionDay `json:"next_reception_days"`
}

// ReceptionDay is one day a reception may be booked on.
type ReceptionDay struct {
	Date     string    `json:"date"`
	Weekday  string    `json:"weekday"`
	Sessions []Session `json:"sessions"`
	Capacity int       `json:"capacity"`
	Free     int       `json:"free"`
}

// Session is a reception's hours.
type Session struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// HistoryPage is one page of GET /v1/citizens/me/appeals.
type HistoryPage struct {
	Appeals    []Summary `json:"appeals"`
	NextCursor string    `json:"next_cursor"`
}

// Summary is one line of a citizen's history.
type Summary struct {
	Number       string    `json:"number"`
	SubmittedAt  time.Time `json:"submitted_at"`
	RegisteredAt time.Time `json:"registered_at"`
	District     string    `json:"district"`
	Service      string    `json:"service"`
	Type         string    `json:"type"`
	Status       string    `json:"status"`
	Deadline     string    `json:"deadline"`
	LastChangeAt time.Time `json:"last_change_at"`
}

// Details is GET /v1/appeals/{number}.
type Details struct {
	Number   string `json:"number"`
	Status   string `json:"status"`
	District struct{ Code, Name string }
	Service  struct {
		Code   string `json:"code"`
		Name   string `json:"name"`
		NameEN string `json:"name_en"`
	} `json:"service"`
	Type            string    `json:"type"`
	SocialStatus    string    `json:"social_status"`
	PrivilegeStatus string    `json:"privilege_status"`
	Subject         string    `json:"subject"`
	Text            string    `json:"text"`
	SubmittedAt     time.Time `json:"submitted_at"`
	RegisteredAt    time.Time `json:"registered_at"`
	Deadline        string    `json:"deadline"`
	Reference       string    `json:"district_reference"`
	Citizen         struct {
		FIN, Phone, Email, Workplace, Position, Address string
	} `json:"citizen"`
	Person    *routers.Person `json:"person"`
	Form      []Field         `json:"form"`
	Reception *struct {
		Official struct{ ID, Name, Position string }
		Date     string    `json:"date"`
		Sessions []Session `json:"sessions"`
	} `json:"reception"`
	Timeline []Step    `json:"timeline"`
	Comments []Comment `json:"comments"`
}

// Field is one filled-in field of a service's form.
type Field struct {
	Code    string `json:"code"`
	Label   string `json:"label"`
	LabelEN string `json:"label_en"`
	Value   string `json:"value"`
	ValueEN string `json:"value_en"`
}

// Step is one change of an appeal's status.
type Step struct {
	Sequence int       `json:"sequence"`
	Status   string    `json:"status"`
	At       time.Time `json:"at"`
	Note     string    `json:"note"`
	Deadline string    `json:"deadline"`
}

// Comment is a citizen's remark on an appeal.
type Comment struct {
	ID          string    `json:"id"`
	Text        string    `json:"text"`
	SubmittedAt time.Time `json:"submitted_at"`
	Delivered   bool      `json:"delivered"`
	Failed      bool      `json:"failed"`
}

func (c *hubClient) districts(ctx context.Context) ([]District, error) {
	var out struct{ Districts []District }
	return out.Districts, c.getJSON(ctx, "/v1/districts", "", &out)
}

func (c *hubClient) services(ctx context.Context) ([]Service, error) {
	var out struct{ Services []Service }
	return out.Services, c.getJSON(ctx, "/v1/services", "", &out)
}

func (c *hubClient) officials(ctx context.Context, district string) (Officials, error) {
	var out Officials
	return out, c.getJSON(ctx, "/v1/districts/"+url.PathEscape(district)+"/officials", "", &out)
}

func (c *hubClient) history(ctx context.Context, fin string, q url.Values) (HistoryPage, error) {
	var out HistoryPage
	path := "/v1/citizens/me/appeals"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return out, c.getJSON(ctx, path, fin, &out)
}

func (c *hubClient) details(ctx context.Context, fin, number string) (Details, error) {
	var out Details
	return out, c.getJSON(ctx, "/v1/appeals/"+url.PathEscape(number), fin, &out)
}

// document fetches an appeal's PDF; the caller closes the body.
func (c *hubClient) document(ctx context.Context, fin, number string, l lang) (*http.Response, error) {
	resp, err := c.do(ctx, "/v1/appeals/"+url.PathEscape(number)+"/document?lang="+string(l), fin)
	if err != nil {
		return nil, err
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/pdf" {
		resp.Body.Close()
		return nil, fmt.Errorf("document of %s: content type %q", number, mt)
	}
	return resp, nil
}

func (c *hubClient) getJSON(ctx context.Context, path, fin string, v any) error {
	resp, err := c.do(ctx, path, fin)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJSONBytes)).Decode(v); err != nil {
		return fmt.Errorf("GET %s: decode: %w", path, err)
	}
	return nil
}

// do sends one GET; any answer but 200 is an error (the body closed).
func (c *hubClient) do(ctx context.Context, path, fin string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if fin != "" {
		req.Header.Set("X-Citizen-FIN", fin)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	var problem struct {
		Detail   string
		Messages struct{ AZ, EN string }
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, maxJSONBytes)).Decode(&problem) // a problem without a body is still a failure
	if problem.Messages.EN == "" {
		problem.Messages.EN = problem.Detail
	}
	return nil, fmt.Errorf("GET %s: %w", path, &apiError{Status: resp.StatusCode, AZ: problem.Messages.AZ, EN: problem.Messages.EN})
}

// registryClient reads ID-card records, as the portal shows them to the
// signed-in citizen (contract §3).
type registryClient struct {
	base   string
	token  string
	client *http.Client
}

func (c *registryClient) person(ctx context.Context, fin string) (routers.Person, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/persons/"+url.PathEscape(fin), nil)
	if err != nil {
		return routers.Person{}, fmt.Errorf("registry: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.client.Do(req)
	if err != nil {
		return routers.Person{}, fmt.Errorf("registry: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return routers.Person{}, fmt.Errorf("registry answered %d", resp.StatusCode)
	}
	var p routers.Person
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJSONBytes)).Decode(&p); err != nil {
		return routers.Person{}, fmt.Errorf("registry: decode: %w", err)
	}
	return p, nil
}
