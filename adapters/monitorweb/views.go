package monitorweb

import (
	"net/url"
	"time"

	"github.com/korpu-az/korpu/routers"
)

// The parts the country's and a district's pages share.

// periodForm is the period selector: it sends the page to itself.
type periodForm struct {
	Action  string
	Choices []periodChoice
	Period  periodQuery
	Hidden  []hiddenField // what else the page keeps: language, sorting
}

type periodChoice struct {
	Value, Label string
	Selected     bool
}

type hiddenField struct{ Name, Value string }

var periodLabels = map[string]string{"today": "periodToday", "7d": "period7d", "30d": "period30d", "year": "periodYear", "range": "periodRange"}

func newPeriodForm(action string, req request, hidden ...hiddenField) periodForm {
	f := periodForm{Action: action, Period: req.Period, Hidden: hidden}
	for _, name := range periods {
		f.Choices = append(f.Choices, periodChoice{Value: name, Label: periodLabels[name], Selected: name == req.Period.Name})
	}
	if req.Lang == en {
		f.Hidden = append(f.Hidden, hiddenField{"lang", string(en)})
	}
	return f
}

// periodShown is the span the figures cover, as people read it: its
// first and last day (the Period's To is the day after).
type periodShown struct {
	First, Last, Today string
}

func showPeriod(p routers.Period, today string) periodShown {
	return periodShown{
		First: p.From.In(routers.Baku).Format(time.DateOnly),
		Last:  p.To.In(routers.Baku).AddDate(0, 0, -1).Format(time.DateOnly),
		Today: today,
	}
}

// typeCount is one appeal type's registered appeals.
type typeCount struct {
	Name  string
	Count int
}

func typeCounts(l lang, byType map[string]int) []typeCount {
	out := make([]typeCount, len(appealTypes))
	for i, t := range appealTypes {
		out[i] = typeCount{Name: l.enum("type", t), Count: byType[t]}
	}
	return out
}

// districtURL opens a district's page for the same period.
func districtURL(req request, code string) string {
	return Base + "/districts/" + url.PathEscape(code) + query(req.Lang, req.Period.Pairs()...)
}

// exportURL is the lifecycles of a district ("" all) in the period.
func exportURL(req request, district string) string {
	return Base + "/export.csv" + query(req.Lang, req.Period.Pairs("district", district)...)
}
