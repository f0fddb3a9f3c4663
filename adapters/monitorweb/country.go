package monitorweb

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/korpu-az/korpu/routers"
)

// chartDays is how far back the chart of appeals per day goes.
const chartDays = 90

// column is one figure of the country table: its sort key (the ?sort=
// value), its heading, how it compares and how it reads.
type column struct {
	Key   string
	Label string // a words key
	value func(r routers.DistrictRow) float64
	cell  func(l lang, r routers.DistrictRow) string
}

func count(f func(routers.Figures) int) (func(routers.DistrictRow) float64, func(lang, routers.DistrictRow) string) {
	return func(r routers.DistrictRow) float64 { return float64(f(r.Figures)) },
		func(_ lang, r routers.DistrictRow) string { return strconv.Itoa(f(r.Figures)) }
}

// answerFigure is a figure of the answers given, "—" when there were none.
func answerFigure(f func(routers.Figures) float64, format func(lang, float64) string) (func(routers.DistrictRow) float64, func(lang, routers.DistrictRow) string) {
	return func(r routers.DistrictRow) float64 {
			if r.Answered == 0 {
				return -1
			}
			return f(r.Figures)
		}, func(l lang, r routers.DistrictRow) string {
			if r.Answered == 0 {
				return "—"
			}
			return format(l, f(r.Figures))
		}
}

// breakerRank orders breakers by trouble: unknown, closed, half-open, open.
var breakerRank = map[string]float64{"closed": 1, "half-open": 2, "open": 3}

// columns are the figures of the country table, in its order; the
// district's name comes first, outside this list.
var columns = func() []column {
	c := func(key, label string, value func(routers.DistrictRow) float64, cell func(lang, routers.DistrictRow) string) column {
		return column{Key: key, Label: label, value: value, cell: cell}
	}
	percent := func(l lang, x float64) string { return l.decimal(100*x, 1) + "%" }
	days := func(l lang, x float64) string { return l.decimal(x, 1) }
	list := []column{}
	for _, n := range []struct {
		key, label string
		f          func(routers.Figures) int
	}{
		{"received", "received", func(f routers.Figures) int { return f.Received }},
		{"registered", "registered", func(f routers.Figures) int { return f.Registered }},
		{"invalid", "invalid", func(f routers.Figures) int { return f.Invalid }},
		{"open", "open", func(f routers.Figures) int { return f.Open }},
		{"due_soon", "dueSoon", func(f routers.Figures) int { return f.DueSoon }},
		{"overdue", "overdue", func(f routers.Figures) int { return f.Overdue }},
	} {
		v, cell := count(n.f)
		list = append(list, c(n.key, n.label, v, cell))
	}
	v, cell := answerFigure(routers.Figures.OnTimeShare, percent)
	list = append(list, c("on_time", "onTime", v, cell))
	v, cell = answerFigure(func(f routers.Figures) float64 { return f.AnswerDaysP50 }, days)
	list = append(list, c("p50", "p50", v, cell))
	v, cell = answerFigure(func(f routers.Figures) float64 { return f.AnswerDaysP90 }, days)
	list = append(list, c("p90", "p90", v, cell))
	for _, n := range []struct {
		key, label string
		f          func(routers.Figures) int
	}{
		{"forwarded", "forwarded", func(f routers.Figures) int { return f.Forwarded }},
		{"forwarded_late", "forwardedLate", func(f routers.Figures) int { return f.ForwardedLate }},
		{"extended", "extended", func(f routers.Figures) int { return f.Extended }},
		{"repeat", "repeat", func(f routers.Figures) int { return f.Repeat }},
	} {
		v, cell := count(n.f)
		list = append(list, c(n.key, n.label, v, cell))
	}
	list = append(list, c("per_thousand", "perThousand",
		func(r routers.DistrictRow) float64 {
			if r.Population == 0 {
				return -1
			}
			return r.PerThousand()
		},
		func(l lang, r routers.DistrictRow) string {
			if r.Population == 0 {
				return "—"
			}
			return l.decimal(r.PerThousand(), 2)
		}))
	for _, n := range []struct {
		key, label string
		f          func(routers.Figures) int
	}{
		{"pending", "pending", func(f routers.Figures) int { return f.PendingDeliveries }},
		{"dead_letters", "deadLetters", func(f routers.Figures) int { return f.DeadLetters }},
	} {
		v, cell := count(n.f)
		list = append(list, c(n.key, n.label, v, cell))
	}
	list = append(list, c("breaker", "breaker",
		func(r routers.DistrictRow) float64 { return breakerRank[r.Breaker] },
		func(l lang, r routers.DistrictRow) string {
			if r.Breaker == "" {
				return "—"
			}
			return l.enum("breaker", r.Breaker)
		}))
	list = append(list, c("queue", "queue",
		func(r routers.DistrictRow) float64 { return float64(r.QueueDepth) },
		func(_ lang, r routers.DistrictRow) string {
			if r.QueueDepth < 0 {
				return "—"
			}
			return strconv.Itoa(r.QueueDepth)
		}))
	return list
}()

// azCollator orders district names as Azerbaijani does (Ç after C, Ə
// after E, İ after I); a Collator is not safe for concurrent use.
var azCollator = sync.Pool{New: func() any { return collate.New(language.Azerbaijani) }}

// sortRows orders the districts by a column ("name" or a column's key),
// keeping the hub's order (by code) among equals.
func sortRows(rows []routers.DistrictRow, key string, desc bool) {
	var compare func(a, b routers.DistrictRow) int
	if key == "name" {
		c := azCollator.Get().(*collate.Collator)
		defer azCollator.Put(c)
		compare = func(a, b routers.DistrictRow) int { return c.CompareString(a.Name, b.Name) }
	} else {
		i := slices.IndexFunc(columns, func(c column) bool { return c.Key == key })
		value := columns[i].value
		compare = func(a, b routers.DistrictRow) int { return cmp.Compare(value(a), value(b)) }
	}
	slices.SortStableFunc(rows, func(a, b routers.DistrictRow) int {
		if desc {
			return compare(b, a)
		}
		return compare(a, b)
	})
}

// readSort checks ?sort= and ?dir=: a column of the table, and asc or
// desc (a column's natural direction when left out: names A to Z, figures
// largest first, where trouble is).
func readSort(r *http.Request) (string, bool, *paramError) {
	q := r.URL.Query()
	key := q.Get("sort")
	switch {
	case key == "":
		key = "name"
	case key != "name" && !slices.ContainsFunc(columns, func(c column) bool { return c.Key == key }):
		return "", false, &paramError{"sort", "cədvəlin sütunlarından biri olmalıdır.", "must be one of the table's columns."}
	}
	switch q.Get("dir") {
	case "":
		return key, key != "name", nil
	case "asc":
		return key, false, nil
	case "desc":
		return key, true, nil
	}
	return "", false, &paramError{"dir", "asc və ya desc olmalıdır.", "must be asc or desc."}
}

// countryView is the first page: the districts' table and the chart.
type countryView struct {
	View    routers.CountryView
	Rows    []routers.DistrictRow // sorted as asked
	Country routers.DistrictRow   // the totals row
	Columns []column
	Sort    string
	Desc    bool
	Req     request
	Chart   chart
	Form    periodForm
	Period  periodShown
}

// DistrictURL opens a district's page for the same period.
func (v *countryView) DistrictURL(code string) string { return districtURL(v.Req, code) }

// ExportURL is every district's lifecycles in the period, as CSV.
func (v *countryView) ExportURL() string { return exportURL(v.Req, "") }

// Cell is one figure of a row.
func (v *countryView) Cell(c column, r routers.DistrictRow) string { return c.cell(v.Req.Lang, r) }

// AriaSort is the sorted column's aria-sort value; "" for the others.
func (v *countryView) AriaSort(key string) string {
	switch {
	case key != v.Sort:
		return ""
	case v.Desc:
		return "descending"
	}
	return "ascending"
}

// SortURL sorts by key: the other way when it is sorted by it already,
// else in the column's natural direction.
func (v *countryView) SortURL(key string) string {
	dir := "desc"
	if key == "name" {
		dir = "asc"
	}
	if key == v.Sort {
		dir = map[bool]string{true: "asc", false: "desc"}[v.Desc]
	}
	return Base + "/" + query(v.Req.Lang, v.Req.Period.Pairs("sort", key, "dir", dir)...)
}

// LiveURL is where the live part comes from.
func (v *countryView) LiveURL(version string) string {
	return Base + "/" + query(v.Req.Lang, v.Req.Period.Pairs("sort", v.Sort, "dir", map[bool]string{true: "desc", false: "asc"}[v.Desc], "v", version)...)
}

func (s *Server) country(w http.ResponseWriter, r *http.Request) {
	req, p, ok := s.begin(w, r)
	if !ok {
		return
	}
	key, desc, perr := readSort(r)
	if perr != nil {
		s.badParam(w, r, req.Lang, perr)
		return
	}
	cv, err := s.cfg.Monitor.Country(r.Context(), p)
	if err != nil {
		s.unavailable(w, r, req.Lang, "country view", err)
		return
	}
	days, err := s.cfg.Monitor.PerDay(r.Context(), "", chartDays)
	if err != nil {
		s.unavailable(w, r, req.Lang, "appeals per day", err)
		return
	}
	rows := slices.Clone(cv.Districts)
	sortRows(rows, key, desc)
	v := &countryView{
		View: cv, Rows: rows, Columns: columns, Sort: key, Desc: desc, Req: req,
		Country: routers.DistrictRow{Figures: cv.Country, Name: req.Lang.word("country"), QueueDepth: -1},
		Chart:   drawChart(req.Lang, days),
		Period:  showPeriod(p, cv.Today),
		Form: newPeriodForm(Base+"/", req, hiddenField{"sort", key},
			hiddenField{"dir", map[bool]string{true: "desc", false: "asc"}[desc]}),
	}
	s.show(w, r, "country", "countryTitle", req, v, v.LiveURL)
}
