package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/cmd/korpu/config"
	"github.com/korpu-az/korpu/routers/catalogue"
)

const prometheusDir = "../../deploy/prometheus"

// promtool runs Prometheus's promtool in dir. Without it the test skips,
// unless KORPU_REQUIRE_TOOLS is set (scripts/test sets it after
// scripts/tools installed Debian's prometheus package, which has it).
func promtool(t *testing.T, dir string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("KORPU_REQUIRE_TOOLS") != "" {
			t.Fatal("promtool is required (KORPU_REQUIRE_TOOLS is set): apt-get install prometheus")
		}
		t.Skip("promtool is not installed (Debian/Ubuntu: apt-get install prometheus; KORPU_REQUIRE_TOOLS=1 makes this a failure)")
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "promtool %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// TestAlertRules: the rules load, the example config with them, and every
// unit test of korpu-alerts.*.test.yaml passes.
func TestAlertRules(t *testing.T) {
	t.Parallel()
	require.Contains(t, promtool(t, prometheusDir, "check", "rules", "korpu-alerts.yaml"), "SUCCESS: 8 rules found")
	promtool(t, prometheusDir, "check", "config", "prometheus.yml")
	out := promtool(t, prometheusDir, "test", "rules", "korpu-alerts.test.yaml", "korpu-alerts-days.test.yaml")
	require.Equal(t, 2, strings.Count(out, "SUCCESS"), out)
}

type alertRule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func alertRules(t *testing.T) []alertRule {
	t.Helper()
	raw, err := os.ReadFile(prometheusDir + "/korpu-alerts.yaml")
	require.NoError(t, err)
	var file struct {
		Groups []struct {
			Name  string      `yaml:"name"`
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	require.NoError(t, yaml.UnmarshalWithOptions(raw, &file, yaml.Strict()))
	var rules []alertRule
	for _, g := range file.Groups {
		rules = append(rules, g.Rules...)
	}
	require.NotEmpty(t, rules)
	return rules
}

// TestAlertsDocumentedAndTested: every alert has a severity, a summary, a
// description in Azerbaijani and English and a runbook in the README, and
// the unit tests show it firing and staying quiet.
func TestAlertsDocumentedAndTested(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, section, found := strings.Cut(string(readme), "\n## Alerts and dashboard\n")
	require.True(t, found, "README has an Alerts and dashboard section")
	section, _, _ = strings.Cut(section, "\n## ")

	type evaluation struct {
		Alertname string `yaml:"alertname"`
		ExpAlerts []any  `yaml:"exp_alerts"`
	}
	fired, quiet := map[string]bool{}, map[string]bool{}
	for _, name := range []string{"korpu-alerts.test.yaml", "korpu-alerts-days.test.yaml"} {
		raw, err := os.ReadFile(prometheusDir + "/" + name)
		require.NoError(t, err)
		var tests struct {
			Tests []struct {
				AlertRuleTest []evaluation `yaml:"alert_rule_test"`
			} `yaml:"tests"`
		}
		require.NoError(t, yaml.Unmarshal(raw, &tests), name)
		for _, tc := range tests.Tests {
			for _, ev := range tc.AlertRuleTest {
				fired[ev.Alertname] = fired[ev.Alertname] || len(ev.ExpAlerts) > 0
				quiet[ev.Alertname] = quiet[ev.Alertname] || len(ev.ExpAlerts) == 0
			}
		}
	}

	for _, r := range alertRules(t) {
		t.Run(r.Alert, func(t *testing.T) {
			require.NotEmpty(t, r.Alert, "an alerting rule: %s", r.Expr)
			require.Contains(t, []string{"critical", "warning"}, r.Labels["severity"])
			require.NotEmpty(t, r.Annotations["summary"])
			az, en, found := strings.Cut(r.Annotations["description"], " / ")
			require.True(t, found, "description in Azerbaijani / English: %q", r.Annotations["description"])
			require.NotEmpty(t, az)
			require.NotEmpty(t, en)
			require.Equal(t, "README.md, Alerts and dashboard: "+r.Alert, r.Annotations["runbook"])
			require.Contains(t, section, "**"+r.Alert+"**", "the README's runbook of the alert")
			require.True(t, fired[r.Alert], "a unit test where %s fires", r.Alert)
			require.True(t, quiet[r.Alert], "a unit test where %s stays quiet", r.Alert)
		})
	}
}

// series are the metric names a hub offers, each with its label names.
type series map[string]map[string]bool

// prometheusSeries are the series Prometheus makes itself.
var prometheusSeries = series{
	"up":     {"job": true, "instance": true},
	"ALERTS": {"alertname": true, "alertstate": true},
}

// targetLabels are the labels Prometheus gives every scraped series.
var targetLabels = []string{"job", "instance"}

// descName reads a description's name and label names from its String:
// client_golang keeps them unexported, and a family with no child yet (a
// counter never incremented) is on /metrics only once it has one.
var descName = regexp.MustCompile(`^Desc\{fqName: "([a-zA-Z_:][a-zA-Z0-9_:]*)", .*variableLabels: \{([^{}]*)\}\}$`)

// hubSeries wires a hub as serve does (the broker's queue collector and
// readiness checks included; nothing answers on the broker's address) over
// the memory ledger, then lists what its registry describes and what its
// /metrics serves.
func hubSeries(t *testing.T) series {
	t.Helper()
	getenv := func(name string) (string, bool) { return "set-by-compose-0123456789abcdef-" + name, true }
	cfg, err := config.Load("../../deploy/korpu.compose.yaml", getenv, catalogue.Default().Codes())
	require.NoError(t, err)
	w := wiredAsServe(t, cfg)

	out := series{}
	add := func(name string, labels ...string) {
		if out[name] == nil {
			out[name] = map[string]bool{}
		}
		for _, l := range labels {
			out[name][l] = true
		}
	}
	descs := make(chan *prometheus.Desc)
	go func() {
		w.metrics.Describe(descs)
		close(descs)
	}()
	for d := range descs {
		m := descName.FindStringSubmatch(d.String())
		require.NotNil(t, m, "client_golang's Desc.String changed: %s", d)
		var labels []string
		if m[2] != "" {
			labels = strings.Split(m[2], ",")
		}
		// A histogram's or summary's series, whichever it is.
		add(m[1], append(labels, "quantile")...)
		add(m[1]+"_bucket", append(labels, "le")...)
		add(m[1]+"_sum", labels...)
		add(m[1]+"_count", labels...)
	}

	rec := httptest.NewRecorder()
	w.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	dec := expfmt.NewDecoder(rec.Body, expfmt.ResponseFormat(rec.Header()))
	scraped := map[string]bool{}
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
		scraped[mf.GetName()] = true
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				add(mf.GetName(), lp.GetName())
			}
		}
	}
	for _, name := range []string{"korpu_ready", "korpu_ready_check", "korpu_dead_letters_open", "korpu_working_day",
		"korpu_appeals_open", "korpu_district_breaker_state", "korpu_queue_inspect_up", "process_start_time_seconds"} {
		require.True(t, scraped[name], "a scrape of the hub has %s", name)
	}
	return out
}

// requireExposed parses a PromQL expression and checks that every metric
// it selects is one the hub (or Prometheus) offers, and every label it
// names is one of theirs.
func requireExposed(t *testing.T, hub series, where, expr string) {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	require.NoError(t, err, "%s: %s", where, expr)
	labelsOf := func(node parser.Node) map[string]bool {
		out := map[string]bool{}
		for _, l := range targetLabels {
			out[l] = true
		}
		parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok {
				for l := range labelsOfSeries(hub, vs.Name) {
					out[l] = true
				}
			}
			return nil
		})
		return out
	}
	// Selectors first, so a renamed metric is named as such rather than as
	// a label its aggregation lacks.
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		require.NotEmpty(t, vs.Name, "%s: name the metric: %s", where, vs)
		labels := labelsOfSeries(hub, vs.Name)
		require.NotNil(t, labels, "%s: the hub exposes no %s", where, vs.Name)
		for _, m := range vs.LabelMatchers {
			if m.Name != "__name__" && !slices.Contains(targetLabels, m.Name) {
				require.True(t, labels[m.Name], "%s: %s has no label %s", where, vs.Name, m.Name)
			}
		}
		return nil
	})
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.AggregateExpr:
			have := labelsOf(n.Expr)
			for _, l := range n.Grouping {
				require.True(t, have[l], "%s: no series under %s has the label %s", where, n, l)
			}
		case *parser.BinaryExpr:
			if n.VectorMatching != nil && n.VectorMatching.On {
				lhs, rhs := labelsOf(n.LHS), labelsOf(n.RHS)
				for _, l := range n.VectorMatching.MatchingLabels {
					require.True(t, lhs[l] && rhs[l], "%s: both sides of %s must have the label %s", where, n, l)
				}
			}
		}
		return nil
	})
}

func labelsOfSeries(hub series, name string) map[string]bool {
	if l, ok := prometheusSeries[name]; ok {
		return l
	}
	return hub[name]
}

// TestDeployMetricsExist: every metric and label the alert rules use is
// one a hub wired as serve does really exposes, so renaming a metric fails
// here rather than silencing an alert.
func TestDeployMetricsExist(t *testing.T) {
	t.Parallel()
	hub := hubSeries(t)
	for _, r := range alertRules(t) {
		requireExposed(t, hub, r.Alert, r.Expr)
	}
}
