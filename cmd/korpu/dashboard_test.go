package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The Grafana dashboard as far as deploy/grafana/korpu.json uses it,
// decoded with unknown fields refused, so a misspelt key fails; what Grafana
// reads freely (field config, options, a variable's state) stays raw.
type grafanaDashboard struct {
	UID           string   `json:"uid"`
	Title         string   `json:"title"`
	Description   string   `json:"description"`
	Tags          []string `json:"tags"`
	SchemaVersion int      `json:"schemaVersion"`
	Version       int      `json:"version"`
	Editable      bool     `json:"editable"`
	GraphTooltip  int      `json:"graphTooltip"`
	Time          struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"time"`
	Timezone    string `json:"timezone"`
	Refresh     string `json:"refresh"`
	Annotations struct {
		List []grafanaAnnotation `json:"list"`
	} `json:"annotations"`
	Templating struct {
		List []grafanaVariable `json:"list"`
	} `json:"templating"`
	Panels []grafanaPanel `json:"panels"`
}

type grafanaDatasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type grafanaAnnotation struct {
	Name        string             `json:"name"`
	Enable      bool               `json:"enable"`
	IconColor   string             `json:"iconColor"`
	Datasource  *grafanaDatasource `json:"datasource"`
	Expr        string             `json:"expr"`
	TitleFormat string             `json:"titleFormat"`
	TextFormat  string             `json:"textFormat"`
}

type grafanaVariable struct {
	Name       string             `json:"name"`
	Label      string             `json:"label"`
	Type       string             `json:"type"`
	Datasource *grafanaDatasource `json:"datasource"`
	Query      json.RawMessage    `json:"query"`
	Definition string             `json:"definition"`
	Refresh    int                `json:"refresh"`
	Multi      bool               `json:"multi"`
	IncludeAll bool               `json:"includeAll"`
	AllValue   string             `json:"allValue"`
	Sort       int                `json:"sort"`
	Current    json.RawMessage    `json:"current"`
	Hide       int                `json:"hide"`
}

type grafanaPanel struct {
	ID          int    `json:"id"`
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	GridPos     struct {
		H int `json:"h"`
		W int `json:"w"`
		X int `json:"x"`
		Y int `json:"y"`
	} `json:"gridPos"`
	Datasource  *grafanaDatasource `json:"datasource"`
	Targets     []grafanaTarget    `json:"targets"`
	FieldConfig struct {
		Defaults  json.RawMessage   `json:"defaults"`
		Overrides []json.RawMessage `json:"overrides"`
	} `json:"fieldConfig"`
	Options json.RawMessage `json:"options"`
}

type grafanaTarget struct {
	RefID        string             `json:"refId"`
	Datasource   *grafanaDatasource `json:"datasource"`
	Expr         string             `json:"expr"`
	LegendFormat string             `json:"legendFormat"`
}

// grafanaGlobals are the variables Grafana itself defines, with a value
// PromQL parses in their place.
var grafanaGlobals = map[string]string{"__rate_interval": "5m", "__interval": "1m", "__range": "1h"}

var grafanaVar = regexp.MustCompile(`\$\{?(\w+)\}?`)

func loadDashboard(t *testing.T) grafanaDashboard {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/grafana/korpu.json")
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var d grafanaDashboard
	require.NoError(t, dec.Decode(&d))
	require.False(t, dec.More(), "one JSON value")
	return d
}

// promqlOf is expr with the dashboard's variables replaced by what PromQL
// parses: a duration for Grafana's intervals, a regex matching all for
// the dashboard's own. A variable neither defines fails.
func promqlOf(t *testing.T, vars map[string]grafanaVariable, where, expr string) string {
	t.Helper()
	return grafanaVar.ReplaceAllStringFunc(expr, func(ref string) string {
		name := grafanaVar.FindStringSubmatch(ref)[1]
		if v, ok := grafanaGlobals[name]; ok {
			return v
		}
		v, ok := vars[name]
		require.True(t, ok, "%s: %s is no variable of the dashboard", where, ref)
		require.NotEqual(t, "datasource", v.Type, "%s: the data source is no value", where)
		return ".*"
	})
}

// TestGrafanaDashboard: deploy/grafana/korpu.json is a dashboard Grafana
// 11 loads as meant: the data source a variable, every panel on it with
// queries that parse as PromQL over series a hub really exposes, the
// panels the operators need, none overlapping.
func TestGrafanaDashboard(t *testing.T) {
	t.Parallel()
	d := loadDashboard(t)
	require.GreaterOrEqual(t, d.SchemaVersion, 39)
	require.NotEmpty(t, d.UID)
	require.NotEmpty(t, d.Title)

	vars := map[string]grafanaVariable{}
	for _, v := range d.Templating.List {
		require.NotContains(t, vars, v.Name, "variable %s twice", v.Name)
		vars[v.Name] = v
	}
	ds, ok := vars["datasource"]
	require.True(t, ok, "the data source is a variable")
	require.Equal(t, "datasource", ds.Type)
	require.JSONEq(t, `"prometheus"`, string(ds.Query))
	onVariable := grafanaDatasource{Type: "prometheus", UID: "${datasource}"}

	hub := hubSeries(t)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		require.Equal(t, &onVariable, v.Datasource, "variable %s", v.Name)
		m := regexp.MustCompile(`^label_values\((\w+), (\w+)\)$`).FindStringSubmatch(v.Definition)
		require.NotNil(t, m, "variable %s: label_values(metric, label): %s", v.Name, v.Definition)
		require.True(t, hub[m[1]][m[2]], "variable %s: the hub exposes no %s with label %s", v.Name, m[1], m[2])
		var q struct {
			Query string `json:"query"`
		}
		require.NoError(t, json.Unmarshal(v.Query, &q))
		require.Equal(t, v.Definition, q.Query, "variable %s", v.Name)
	}
	for _, a := range d.Annotations.List {
		require.Equal(t, &onVariable, a.Datasource, "annotation %s", a.Name)
		requireExposed(t, hub, "annotation "+a.Name, promqlOf(t, vars, a.Name, a.Expr))
	}

	ids := map[int]bool{}
	used := map[string]bool{}
	var cells [][24]string // by row of the grid: the panel occupying each column
	for _, p := range d.Panels {
		where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		require.NotContains(t, ids, p.ID, "%s: id taken", where)
		ids[p.ID] = true
		require.Contains(t, []string{"stat", "timeseries", "state-timeline", "bargauge", "table"}, p.Type, where)
		require.NotEmpty(t, p.Title, where)
		require.NotEmpty(t, p.Description, "%s: says what it shows", where)
		require.Equal(t, &onVariable, p.Datasource, where)
		require.NotEmpty(t, p.Targets, "%s: at least one query", where)
		defaults := json.NewDecoder(bytes.NewReader(p.FieldConfig.Defaults))
		defaults.DisallowUnknownFields()
		var fieldDefaults struct {
			Unit       string            `json:"unit"`
			Mappings   []json.RawMessage `json:"mappings"`
			Thresholds json.RawMessage   `json:"thresholds"`
			Custom     json.RawMessage   `json:"custom"`
		}
		require.NoError(t, defaults.Decode(&fieldDefaults), "%s: fieldConfig.defaults", where)

		g := p.GridPos
		require.True(t, g.W > 0 && g.H > 0 && g.X >= 0 && g.Y >= 0 && g.X+g.W <= 24, "%s: on the 24-column grid: %+v", where, g)
		for len(cells) < g.Y+g.H {
			cells = append(cells, [24]string{})
		}
		for y := g.Y; y < g.Y+g.H; y++ {
			for x := g.X; x < g.X+g.W; x++ {
				require.Empty(t, cells[y][x], "%s overlaps %s", where, cells[y][x])
				cells[y][x] = p.Title
			}
		}

		refs := map[string]bool{}
		for _, tg := range p.Targets {
			require.NotEmpty(t, tg.RefID, where)
			require.NotContains(t, refs, tg.RefID, "%s: refId %s twice", where, tg.RefID)
			refs[tg.RefID] = true
			require.Equal(t, &onVariable, tg.Datasource, "%s %s", where, tg.RefID)
			require.NotEmpty(t, tg.Expr, "%s %s", where, tg.RefID)
			requireExposed(t, hub, where+" "+tg.RefID, promqlOf(t, vars, where, tg.Expr))
			for _, name := range regexp.MustCompile(`[a-z_:]+`).FindAllString(tg.Expr, -1) {
				used[name] = true
			}
		}
	}

	// What the operators asked to see.
	for _, metric := range []string{
		"korpu_appeals_received_total", "korpu_district_status_changes_total", // appeals per second by status
		"korpu_appeals_open", "korpu_appeals_overdue", // by district
		"korpu_district_breaker_state", "korpu_queue_messages",
		"korpu_deliveries_failed_total", "korpu_dead_letters_open", "korpu_deliveries_given_up",
		"korpu_handler_execution_time_seconds_bucket", // the registry's and districts' share of the handlers' time
		"korpu_ready", "korpu_district_last_report_timestamp_seconds",
	} {
		require.True(t, used[metric], "a panel shows %s", metric)
	}
	require.True(t, slices.ContainsFunc(d.Panels, func(p grafanaPanel) bool { return strings.Contains(p.Title, "readiness") }))
}
