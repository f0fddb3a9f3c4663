package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/amqp"
	"github.com/korpu-az/korpu/adapters/authlimit"
	"github.com/korpu-az/korpu/adapters/httpapi"
	"github.com/korpu-az/korpu/adapters/memory"
	"github.com/korpu-az/korpu/adapters/registry"
	"github.com/korpu-az/korpu/cmd/korpu/config"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/catalogue"
)

// wiring is everything the tuning of a config reaches.
type wiring struct {
	hub       routers.Config
	registry  registry.Config
	authLimit authlimit.Config
}

func wiringOf(t *testing.T, src string) wiring {
	t.Helper()
	getenv := func(name string) (string, bool) { return "set-0123456789abcdef0123456789-" + name, true }
	cfg, err := config.Parse([]byte(src), getenv, catalogue.Default().Codes())
	require.NoError(t, err)
	return wiring{hub: hubConfig(cfg), registry: registryConfig(cfg), authLimit: authLimitConfig(cfg)}
}

// TestWiringCarriesEverySetting: each key of config.Settings, set to other
// than its default, changes what the hub or the registry client gets; a
// setting the wiring forgot would be silently ignored.
func TestWiringCarriesEverySetting(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../deploy/korpu.compose.yaml")
	require.NoError(t, err)
	base := string(raw)
	defaults := wiringOf(t, base)
	for _, s := range config.Settings {
		t.Run(s.Key, func(t *testing.T) {
			t.Parallel()
			value := s.Default() + "x" // a name
			if _, err := strconv.Atoi(s.Default()); err == nil {
				value = "1234"
			} else if _, err := time.ParseDuration(s.Default()); err == nil {
				value = "1000h"
			}
			hub := "hub:\n  " + s.Key + ": " + value + "\n"
			if s.Key != "retry_max" {
				hub += "  retry_max: 2000h\n" // retry_initial may not exceed it
			}
			defaults := defaults
			if s.Key != "retry_max" {
				defaults = wiringOf(t, base+"hub:\n  retry_max: 2000h\n")
			}
			changed := wiringOf(t, base+hub)
			require.NotEqual(t, defaults, changed, "hub.%s reaches neither the hub nor the registry client", s.Key)
		})
	}
	t.Run("DistrictTimeout", func(t *testing.T) {
		t.Parallel()
		src := base + "hub:\n  district_timeout: 3s\n"
		require.Equal(t, map[string]time.Duration{"AZ-BIL": 3 * time.Second, "AZ-SAT": 3 * time.Second}, wiringOf(t, src).hub.DistrictTimeouts)
		src = base[:len(base)-1] + "\n    timeout: 30s\n" + "hub:\n  district_timeout: 3s\n"
		require.Equal(t, map[string]time.Duration{"AZ-BIL": 3 * time.Second, "AZ-SAT": 30 * time.Second}, wiringOf(t, src).hub.DistrictTimeouts,
			"a district's own timeout reaches the hub")
	})
}

// TestWiringMonitor: a hub wired as serve is has the monitors' figures:
// the operator's population, the hub's breakers and the broker's queues
// (here away, so unknown) beside the ledger's figures, and their gauges.
func TestWiringMonitor(t *testing.T) {
	t.Parallel()
	population := filepath.Join(t.TempDir(), "population.yaml")
	require.NoError(t, os.WriteFile(population, []byte("AZ-BIL: 52400\n"), 0o600))
	raw, err := os.ReadFile("../../deploy/korpu.compose.yaml")
	require.NoError(t, err)
	getenv := func(name string) (string, bool) { return "set-0123456789abcdef0123456789-" + name, true }
	cfg, err := config.Parse(append(raw, []byte("population_file: "+population+"\n")...), getenv, catalogue.Default().Codes())
	require.NoError(t, err)
	w := wiredAsServe(t, cfg)

	p, err := w.monitor.ParsePeriod("", "", "")
	require.NoError(t, err)
	view, err := w.monitor.Country(t.Context(), p)
	require.NoError(t, err)
	require.Len(t, view.Districts, 2)
	bil := view.Districts[0]
	require.Equal(t, "AZ-BIL", bil.District)
	require.Equal(t, 52400, bil.Population)
	require.Equal(t, "closed", bil.Breaker)
	require.Equal(t, -1, bil.QueueDepth, "the broker did not answer")
	require.Zero(t, view.Districts[1].Population)

	rec := httptest.NewRecorder()
	w.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "korpu_figures_up 1")
	require.Contains(t, rec.Body.String(), `korpu_appeals_due_soon{district="AZ-SAT"} 0`)
}

// wiredAsServe wires a hub of cfg as serve does (the broker's collectors,
// readiness check and queue depths included; nothing answers on the
// broker's address) over the memory ledger, on a clock on 20 March 2026.
func wiredAsServe(t *testing.T, cfg *config.Config) *wiredHub {
	t.Helper()
	inspector, err := amqp.NewInspector("amqp://guest:guest@127.0.0.1:1/")
	require.NoError(t, err)
	t.Cleanup(func() { _ = inspector.Close() })
	pubsub := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
	t.Cleanup(func() { _ = pubsub.Close() })
	clock := func() time.Time { return time.Date(2026, 3, 20, 10, 0, 0, 0, time.UTC) }
	w, err := wireHub(cfg, substrate{
		ledger: memory.NewLedger(clock), publisher: pubsub, subscriber: pubsub,
		ready:      []httpapi.Check{{Name: "rabbitmq", Check: inspector.Ping}},
		collectors: brokerCollectors(inspector),
		queues:     inspector,
	}, clock, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	return w
}
