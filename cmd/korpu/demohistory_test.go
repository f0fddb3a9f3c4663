package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/memory"
	"github.com/korpu-az/korpu/adapters/sim/registrysim"
	"github.com/korpu-az/korpu/cmd/korpu/config"
	"github.com/korpu-az/korpu/routers"
)

// demoPastHub wires the demo's hub over a memory ledger on a pinned clock,
// with the registry simulator answering (nothing is delivered: the hub
// does not run).
func demoPastHub(t *testing.T, clock *pinnedClock) (*config.Config, *wiredHub, *memory.Ledger) {
	t.Helper()
	registry := httptest.NewServer(http.StripPrefix("/registry", registrysim.New(registrysim.Options{Token: "demo-registry-token-on-this-machine-only"})))
	t.Cleanup(registry.Close)
	population, err := writeDemoPopulation()
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.Remove(population) })
	cfg, err := parseDemoConfig("127.0.0.1:1", registry.URL, population)
	require.NoError(t, err)
	pubsub := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
	t.Cleanup(func() { _ = pubsub.Close() })
	ledger := memory.NewLedger(clock.Now)
	w, err := wireHub(cfg, substrate{ledger: ledger, publisher: pubsub, subscriber: pubsub}, clock.Now, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	return cfg, w, ledger
}

// TestDemoPastHasEveryCase writes the demo's 90 days ending on 15 April
// 2026 (Novruz and Ramazan, 20–30 March, not worked, inside them) and
// checks that every case the monitors watch is there, written on the
// instants of the past.
func TestDemoPastHasEveryCase(t *testing.T) {
	t.Parallel()
	clock := &pinnedClock{}
	end := time.Date(2026, 4, 15, 11, 0, 0, 0, routers.Baku)
	clock.Pin(end)
	cfg, w, ledger := demoPastHub(t, clock)
	var out strings.Builder
	require.NoError(t, writeDemoPast(t.Context(), &out, cfg, w, clock, demoPast))
	require.Nil(t, clock.pinned.Load(), "the clock is the wall clock again")
	require.Regexp(t, `History of 90 days written in .*: \d{4} appeals registered, \d+ requests invalid, \d+ district reports`, out.String())

	stats, err := ledger.DistrictStats(t.Context(), "2026-04-15")
	require.NoError(t, err)
	var open, overdue int
	for _, s := range stats {
		open += s.Open
		overdue += s.Overdue
	}
	require.Greater(t, open, 100, "appeals still open")
	require.Greater(t, overdue, 5, "open appeals past their deadline")
	// The monitors' figures of those 90 days, as on the day they end.
	clock.Pin(end)
	p, err := w.monitor.ParsePeriod(routers.PeriodRange, "2026-01-15", "2026-04-15")
	require.NoError(t, err)
	view, err := w.monitor.Country(t.Context(), p)
	require.NoError(t, err)
	c := view.Country
	require.Equal(t, c.Registered+c.Invalid, c.Received)
	for what, n := range map[string]int{"invalid": c.Invalid, "due soon": c.DueSoon, "overdue": c.Overdue,
		"answered late": c.Answered - c.AnsweredOnTime, "forwarded": c.Forwarded, "forwarded late": c.ForwardedLate,
		"extended": c.Extended, "repeat appeals": c.Repeat} {
		require.Positive(t, n, what)
	}
	require.Greater(t, c.OnTimeShare(), 0.7, "most answers in time")
	require.Positive(t, c.PerThousand(), "the demo's population file is read")

	require.Greater(t, sumOf(t, w.metrics, "korpu_deadlines_extended_total", nil), 10.0, "deadlines extended")
	require.Greater(t, sumOf(t, w.metrics, "korpu_forwarded_total", map[string]string{"late": "false"}), 5.0, "forwarded in time")
	require.Greater(t, sumOf(t, w.metrics, "korpu_forwarded_total", map[string]string{"late": "true"}), 1.0, "forwarded late")

	// Every case's row is what `korpu audit verify` rebuilds of its history.
	verifier := routers.ChainVerifier{Calendar: w.validator.Calendar}
	require.NoError(t, ledger.Lifecycles(t.Context(), "", p, func(c routers.Lifecycle) error {
		for _, e := range storedHistory(t, ledger, c.Number) {
			require.Empty(t, verifier.Add(e))
		}
		return nil
	}))
	require.Empty(t, verifier.Close())
	require.Greater(t, verifier.Appeals, 1000)
}

// storedHistory is number's history in the memory ledger as the
// PostgreSQL ledger's WalkHistory hands it over.
func storedHistory(t *testing.T, ledger *memory.Ledger, number string) []routers.StoredEvent {
	t.Helper()
	a, err := ledger.Appeal(t.Context(), number)
	require.NoError(t, err)
	history, err := ledger.History(t.Context(), number)
	require.NoError(t, err)
	links, err := ledger.Chain(t.Context(), number)
	require.NoError(t, err)
	require.Len(t, links, len(history))
	row := routers.AppealRow{Status: a.Status, Milestones: a.Milestones, DaysUnknown: a.AnsweredAt.IsZero(),
		ForwardedBy: a.ForwardedBy, ForwardedAt: a.ForwardedAt, ForwardedLate: a.ForwardedLate}
	out := make([]routers.StoredEvent, len(history))
	for i, ev := range history {
		canonical, err := routers.CanonicalEvent(ev)
		require.NoError(t, err)
		out[i] = routers.StoredEvent{Number: number, Sequence: ev.Sequence, Event: canonical, Hash: links[i].Hash, Latest: a.Sequence, Row: row}
	}
	return out
}

// sumOf adds up the samples of the counter name on reg whose labels
// include want.
func sumOf(t *testing.T, reg prometheus.Gatherer, name string, want map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := want[l.GetName()]; ok && v != l.GetValue() {
					continue metrics
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}
