package monitorweb

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/korpu-az/korpu/routers"
)

// maxQueryBytes bounds a page's query string; the dashboard's own links
// use well under 200 bytes.
const maxQueryBytes = 1024

// paramError names a query parameter the dashboard cannot take and why,
// in both languages.
type paramError struct {
	Name   string
	AZ, EN string
}

func (e *paramError) Error() string { return e.Name + ": " + e.EN }

var (
	// districtPattern bounds a district code before any lookup: ISO 3166-2:AZ
	// codes such as AZ-BIL, AZ-AGD-X or AZ-BA-XTA.
	districtPattern = regexp.MustCompile(`^AZ-[A-Z]{2,3}(-[A-Z]{1,3})?$`)
	versionPattern  = regexp.MustCompile(`^[0-9a-f]{16}$`)
)

// periods are the selector's choices, in its order.
var periods = []string{"today", "7d", "30d", "year", "range"}

// langOf is the page's language for answers that cannot wait for the
// query to be checked (an error page, the sign-in form): English only when
// asked for exactly.
func langOf(r *http.Request) lang {
	if r.URL.Query().Get("lang") == string(en) {
		return en
	}
	return az
}

// request is the parameters every page takes, checked.
type request struct {
	Lang   lang
	Period periodQuery
	// Version is the digest of the live part the browser shows ("v"); a
	// live update that would show the same answers 204.
	Version string
}

// periodQuery is the period as asked for, carried on in links and forms.
type periodQuery struct {
	Name, From, To string
}

// Pairs are the period's query parameters, for page.URL.
func (pq periodQuery) Pairs(kv ...string) []string {
	return append([]string{"period", pq.Name, "from", pq.From, "to", pq.To}, kv...)
}

// readRequest checks the query parameters every page shares: lang, period,
// from, to and v; every parameter appears once at most.
func readRequest(r *http.Request) (request, *paramError) {
	req := request{Lang: az}
	if len(r.URL.RawQuery) > maxQueryBytes {
		return req, &paramError{"query", "sorğu sətri çox uzundur.", "the query string is too long."}
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return req, &paramError{"query", "sorğu sətri düzgün kodlaşdırılmayıb.", "the query string is not properly encoded."}
	}
	for name, values := range q {
		if len(values) > 1 {
			return req, &paramError{name, "bir dəfədən çox verilib.", "is given more than once."}
		}
	}
	switch q.Get("lang") {
	case "", "az":
	case "en":
		req.Lang = en
	default:
		return req, &paramError{"lang", "az və ya en olmalıdır.", "must be az or en."}
	}
	req.Version = q.Get("v")
	if req.Version != "" && !versionPattern.MatchString(req.Version) {
		return req, &paramError{"v", "16 onaltılıq rəqəm olmalıdır.", "must be 16 hexadecimal digits."}
	}
	pq := periodQuery{Name: q.Get("period"), From: q.Get("from"), To: q.Get("to")}
	for _, d := range []struct{ name, value string }{{"from", pq.From}, {"to", pq.To}} {
		if _, err := time.Parse(time.DateOnly, d.value); d.value != "" && (err != nil || len(d.value) != 10) {
			return req, &paramError{d.name, "tarix İİİİ-AA-GG kimi olmalıdır.", "must be a date as YYYY-MM-DD."}
		}
	}
	if pq.Name == "" && (pq.From != "" || pq.To != "") {
		pq.Name = "range" // dates typed in without touching the selector
	}
	switch {
	case pq.Name == "":
		pq.Name = "30d"
	case !slices.Contains(periods, pq.Name):
		return req, &paramError{"period", "today, 7d, 30d, year və ya range olmalıdır.", "must be today, 7d, 30d, year or range."}
	}
	if pq.Name != "range" {
		// The form sends its date fields whatever the choice: they mean nothing then.
		pq.From, pq.To = "", ""
	} else {
		switch {
		case pq.From == "":
			return req, &paramError{"from", "«range» dövrü üçün başlanğıc tarixi lazımdır.", "is required with the period “range”."}
		case pq.To == "":
			return req, &paramError{"to", "«range» dövrü üçün son tarix lazımdır.", "is required with the period “range”."}
		case pq.To < pq.From:
			return req, &paramError{"to", "başlanğıc tarixindən əvvəl ola bilməz.", "must not be before “from”."}
		}
	}
	req.Period = pq
	return req, nil
}

// period asks the hub for the span the request names.
func (s *Server) period(req request) (routers.Period, *paramError) {
	p, err := s.cfg.Monitor.ParsePeriod(req.Period.Name, req.Period.From, req.Period.To)
	if err != nil {
		// What the hub refuses beyond the shapes checked here (a span too
		// long, a date outside its calendar), in its own words.
		return routers.Period{}, &paramError{"period", err.Error(), err.Error()}
	}
	return p, nil
}

// begin reads the shared parameters and the period; on a mistake it has
// answered the request itself.
func (s *Server) begin(w http.ResponseWriter, r *http.Request) (request, routers.Period, bool) {
	req, perr := readRequest(r)
	if perr != nil {
		s.badParam(w, r, req.Lang, perr)
		return req, routers.Period{}, false
	}
	p, perr := s.period(req)
	if perr != nil {
		s.badParam(w, r, req.Lang, perr)
		return req, routers.Period{}, false
	}
	return req, p, true
}
