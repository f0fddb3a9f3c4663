package monitorweb

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/korpu-az/korpu/routers"
)

// districtView is one district's page.
type districtView struct {
	View     routers.DistrictView
	Req      request
	Columns  []column
	Services []serviceLine
	Chart    chart
	Form     periodForm
	Period   periodShown
	appeals  Appeals
}

// watchedPart is one list of appeals for the "watched" template.
type watchedPart struct {
	Page        *page
	View        *districtView
	ID, Caption string
	List        []routers.WatchedAppeal
}

// Watched hands one list to the "watched" template.
func (v *districtView) Watched(p *page, id, caption string, list []routers.WatchedAppeal) watchedPart {
	return watchedPart{Page: p, View: v, ID: id, Caption: caption, List: list}
}

// Types are the registered appeals by type.
func (v *districtView) Types() []typeCount { return typeCounts(v.Req.Lang, v.View.Row.ByType) }

// CountryURL is the country's page for the same period.
func (v *districtView) CountryURL() string {
	return Base + "/" + query(v.Req.Lang, v.Req.Period.Pairs()...)
}

// serviceLine is one service the district offers and its appeals.
type serviceLine struct {
	Code, Name string
	Registered int
}

// Cell is one of the district's figures.
func (v *districtView) Cell(c column) string { return c.cell(v.Req.Lang, v.View.Row) }

// ServiceName names a service from the catalogue, in the page's language.
func (v *districtView) ServiceName(code string) string {
	if s, ok := v.appeals.Catalogue().Lookup(code); ok {
		return v.Req.Lang.pick(s.Name, s.NameEN)
	}
	return code
}

// AppealURL opens an appeal's details.
func (v *districtView) AppealURL(number string) string {
	return Base + "/appeals/" + url.PathEscape(number) + query(v.Req.Lang)
}

// ExportURL is the district's lifecycles in the period, as CSV.
func (v *districtView) ExportURL() string { return exportURL(v.Req, v.View.Row.District) }

// liveURL is where the page's live part comes from.
func (v *districtView) liveURL(version string) string {
	return Base + "/districts/" + url.PathEscape(v.View.Row.District) + query(v.Req.Lang, v.Req.Period.Pairs("v", version)...)
}

func (s *Server) district(w http.ResponseWriter, r *http.Request) {
	req, p, ok := s.begin(w, r)
	if !ok {
		return
	}
	code := r.PathValue("code")
	if !districtPattern.MatchString(code) {
		s.fail(w, r, http.StatusNotFound, "notFoundTitle", req.Lang, "noDistrict")
		return
	}
	dv, err := s.cfg.Monitor.District(r.Context(), code, p)
	switch {
	case errors.Is(err, routers.ErrUnknownDistrict):
		s.fail(w, r, http.StatusNotFound, "notFoundTitle", req.Lang, "noDistrict")
		return
	case err != nil:
		s.unavailable(w, r, req.Lang, "district view", err)
		return
	}
	days, err := s.cfg.Monitor.PerDay(r.Context(), code, chartDays)
	if err != nil {
		s.unavailable(w, r, req.Lang, "appeals per day", err)
		return
	}
	v := &districtView{View: dv, Req: req, Columns: columns, Chart: drawChart(req.Lang, days), appeals: s.cfg.Appeals,
		Form: newPeriodForm(Base+"/districts/"+url.PathEscape(code), req), Period: showPeriod(p, dv.Today)}
	for _, code := range dv.Services {
		v.Services = append(v.Services, serviceLine{Code: code, Name: v.ServiceName(code), Registered: dv.Row.ByService[code]})
	}
	title := req.Lang.word("districtTitle")
	s.show(w, r, "district", title, req, v, v.liveURL)
}

// appealView is one appeal's details as the monitors see them: everything.
type appealView struct {
	Appeal routers.AppealView
	Req    request
}

// DistrictURL opens the page of the appeal's district.
func (v *appealView) DistrictURL(code string) string {
	return Base + "/districts/" + url.PathEscape(code) + query(v.Req.Lang)
}

func (s *Server) appeal(w http.ResponseWriter, r *http.Request) {
	req, perr := readRequest(r)
	if perr != nil {
		s.badParam(w, r, req.Lang, perr)
		return
	}
	number := r.PathValue("number")
	if !routers.ValidAppealNumber(number) {
		s.fail(w, r, http.StatusNotFound, "notFoundTitle", req.Lang, "badNumber")
		return
	}
	a, err := s.cfg.Appeals.Details(r.Context(), routers.Viewer{Monitor: true}, number)
	switch {
	case errors.Is(err, routers.ErrNotFound):
		s.fail(w, r, http.StatusNotFound, "notFoundTitle", req.Lang, "notFound")
		return
	case err != nil:
		// The error names the appeal by number, never its citizen.
		s.unavailable(w, r, req.Lang, "appeal details", err)
		return
	}
	p := s.newPage(r, req.Lang, "appealTitle", &appealView{Appeal: a, Req: req})
	p.Title += " " + a.Number
	s.render(w, http.StatusOK, "appeal", "", p)
}

// search finds an appeal by its number, as typed: spaces around it and
// small letters are forgiven.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	req, perr := readRequest(r)
	if perr != nil {
		s.badParam(w, r, req.Lang, perr)
		return
	}
	number := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("number")))
	if !routers.ValidAppealNumber(number) {
		s.fail(w, r, http.StatusNotFound, "notFoundTitle", req.Lang, "badNumber")
		return
	}
	http.Redirect(w, r, Base+"/appeals/"+url.PathEscape(number)+query(req.Lang), http.StatusSeeOther)
}
