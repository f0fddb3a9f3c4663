package main

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/registry"
	"github.com/korpu-az/korpu/cmd/korpu/config"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/catalogue"
)

// wiring is everything the tuning of a config reaches.
type wiring struct {
	hub      routers.Config
	registry registry.Config
}

func wiringOf(t *testing.T, src string) wiring {
	t.Helper()
	getenv := func(name string) (string, bool) { return "set-" + name, true }
	cfg, err := config.Parse([]byte(src), getenv, catalogue.Default().Codes())
	require.NoError(t, err)
	return wiring{hub: hubConfig(cfg), registry: registryConfig(cfg)}
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
