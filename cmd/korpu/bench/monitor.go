package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/korpu-az/korpu/adapters/access"
	"github.com/korpu-az/korpu/adapters/monitorweb"
	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
	"github.com/korpu-az/korpu/routers/catalogue"
)

// MonitorFigures are the figures of `korpu bench --monitor`.
type MonitorFigures struct {
	Seed SeedFigures `json:"seed"`
	// Views are the monitors' questions, each asked Calls times in turn.
	Views []MonitorView `json:"views"`
}

// MonitorView is one kind of question, asked over and over.
type MonitorView struct {
	Name     string  `json:"name"`
	Calls    int     `json:"calls"`
	Errors   int     `json:"errors"`
	FirstErr string  `json:"first_error,omitempty"`
	Latency  Latency `json:"latency_ms"`
	// FirstMS is the first call, apart: it rolls up the seed's days that
	// are over, as the first view a deployment is asked does once.
	FirstMS float64 `json:"first_call_ms"`
	// CPU is milliseconds of CPU per call by process group (the database,
	// and the bench, which runs the Monitor).
	CPU *CPUFigures `json:"cpu_ms_per_call,omitempty"`
}

// monitorView is a question the bench times: a function value, so the
// same loop can time the Monitor in process, as here, or the dashboard's
// page over HTTP.
type monitorView struct {
	name string
	ask  func(ctx context.Context, rng *rand.Rand) error
}

// runMonitor seeds a national ledger as --reads does, then times the
// monitors' country and district views over 30 days and over a year.
// The Monitor runs in the bench's process on the seeded database, as a
// hub's would (the broker's queue depths aside: no hub runs).
func runMonitor(ctx context.Context, opts Options, s *stack) (*Report, error) {
	rep := &Report{Mode: "monitor", Hubs: 0, Districts: opts.Districts, CPUs: runtime.NumCPU()}
	pool, seed, err := seedLedger(ctx, opts, s)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	figures := &MonitorFigures{Seed: seed.figures}
	rep.Monitor = figures

	views := monitorViews(seedMonitor(pool, s.codes, time.Now), s.codes)
	dashboard, err := seedDashboard(pool, s.codes, time.Now)
	if err != nil {
		return nil, err
	}
	url, err := s.serve(dashboard)
	if err != nil {
		return nil, err
	}
	views = append(views, pageViews(url, s.codes)...)
	for _, v := range views {
		progress(opts, "asking %s %d times …", v.name, opts.MonitorCalls)
		view, err := timeView(ctx, v, opts.MonitorCalls)
		if err != nil {
			return nil, fmt.Errorf("bench: %s: %w", v.name, err)
		}
		figures.Views = append(figures.Views, view)
		progress(opts, " p95 %.1f ms\n", view.Latency.P95)
	}
	return rep, nil
}

// seedMonitor is a hub's Monitor of the seeded districts over pool, on
// the clock now; every district offers every service and has a population.
func seedMonitor(pool *pgxpool.Pool, codes []string, now func() time.Time) *routers.Monitor {
	population := map[string]int{}
	for i, code := range codes {
		population[code] = 50_000 + 1_000*i
	}
	return routers.NewMonitor(routers.MonitorConfig{
		Ledger: postgres.NewLedger(pool, now), Directory: seedDirectory(codes), Calendar: calendar.Default(), Now: now, Population: population,
	})
}

func seedDirectory(codes []string) routers.Directory {
	dir := routers.Directory{Districts: map[string]routers.DistrictInfo{}}
	for _, code := range codes {
		dir.Districts[code] = routers.DistrictInfo{Code: code, Name: code, AllServices: true}
	}
	return dir
}

// dashboardToken is the monitors' token of the bench's dashboard.
const dashboardToken = "bench-monitor-token-bench-monitor-token"

// seedDashboard is the hub's dashboard over seedMonitor, as serve mounts it.
func seedDashboard(pool *pgxpool.Pool, codes []string, now func() time.Time) (http.Handler, error) {
	validator := &routers.Validator{Catalogue: catalogue.Default(), Calendar: calendar.Default(), Directory: seedDirectory(codes)}
	ledger := postgres.NewLedger(pool, now)
	return monitorweb.New(monitorweb.Config{
		Monitor: seedMonitor(pool, codes, now), Appeals: routers.NewInquiry(ledger, validator, now),
		DeadLetters: routers.NewDeadLetterDesk(ledger, now),
		Access:      access.NewTokens(access.NewTable(map[string]access.Party{dashboardToken: {Name: "bench", Role: access.RoleMonitor}})),
		Now:         now, Logger: slog.New(slog.DiscardHandler),
	})
}

// pageViews are the dashboard's pages a monitor opens, rendered whole over
// HTTP: the country view (its table and the 90 days' chart) and a random
// district's (figures, services, overdue and due-soon lists).
func pageViews(url string, codes []string) []monitorView {
	client := &http.Client{Timeout: time.Minute}
	get := func(ctx context.Context, path, want string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+path, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+dashboardToken)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		switch {
		case err != nil:
			return err
		case resp.StatusCode != http.StatusOK:
			return fmt.Errorf("GET %s: %s", path, resp.Status)
		case !strings.Contains(string(body), want):
			return fmt.Errorf("GET %s: the page has no %s", path, want)
		}
		return nil
	}
	var views []monitorView
	for _, period := range []string{routers.Period30d, routers.PeriodYear} {
		views = append(views,
			monitorView{name: "country page " + period, ask: func(ctx context.Context, _ *rand.Rand) error {
				return get(ctx, monitorweb.Base+"/?period="+period, `id="districts"`)
			}},
			monitorView{name: "district page " + period, ask: func(ctx context.Context, rng *rand.Rand) error {
				return get(ctx, monitorweb.Base+"/districts/"+codes[rng.IntN(len(codes))]+"?period="+period, `id="figures"`)
			}})
	}
	return views
}

// monitorViews are the questions timed: the country view and a random
// district's, over the last 30 days and the last year.
func monitorViews(m *routers.Monitor, codes []string) []monitorView {
	var views []monitorView
	for _, period := range []string{routers.Period30d, routers.PeriodYear} {
		views = append(views,
			monitorView{name: "country " + period, ask: func(ctx context.Context, _ *rand.Rand) error {
				p, err := m.ParsePeriod(period, "", "")
				if err != nil {
					return err
				}
				view, err := m.Country(ctx, p)
				if err == nil && len(view.Districts) != len(codes) {
					err = fmt.Errorf("%d districts in the country view, not %d", len(view.Districts), len(codes))
				}
				return err
			}},
			monitorView{name: "district " + period, ask: func(ctx context.Context, rng *rand.Rand) error {
				p, err := m.ParsePeriod(period, "", "")
				if err != nil {
					return err
				}
				code := codes[rng.IntN(len(codes))]
				view, err := m.District(ctx, code, p)
				if err == nil && view.Row.District != code {
					err = fmt.Errorf("the view of %s is %s's", code, view.Row.District)
				}
				return err
			}})
	}
	return views
}

// timeView asks v once apart, then calls times, and measures each.
func timeView(ctx context.Context, v monitorView, calls int) (MonitorView, error) {
	out := MonitorView{Name: v.name, Calls: calls}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	start := time.Now()
	if err := v.ask(ctx, rng); err != nil {
		return out, err // the first must work: the rest would measure a failure
	}
	out.FirstMS = float64(time.Since(start).Microseconds()) / 1000
	proc := newProcReader()
	before := proc.snapshot(nil)
	samples := make([]float64, 0, calls)
	for range calls {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		t := time.Now()
		err := v.ask(ctx, rng)
		samples = append(samples, float64(time.Since(t).Microseconds())/1000)
		if err != nil {
			if out.Errors++; out.Errors == 1 {
				out.FirstErr = err.Error()
			}
		}
	}
	out.CPU = cpuPer(before, proc.snapshot(nil), float64(calls))
	out.Latency = percentiles(samples)
	return out, nil
}
