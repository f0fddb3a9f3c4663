package config_test

import (
	"os"
	"testing"

	"github.com/korpu-az/korpu/cmd/korpu/config"
)

// FuzzParse feeds the config loader arbitrary files: it must never panic,
// and a file it accepts must be complete enough to run a hub.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("testdata/korpu.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte("amqp: { url: ${X} }\ndistricts: [{code: AZ-BIL, services: [appeal], officials: [{id: A, reception: [{weekday: monday, from: '25:00'}]}]}]"))
	f.Add([]byte("- [\n&a *a"))
	f.Add([]byte("hub: {intake_consumers: [1], retry_max: 1.5, poison_queue: {a: b}, relay_batch: 99999999999999999999, retry_initial: ${X}}"))
	getenv := func(name string) (string, bool) { return "value-of-" + name, true }
	services := []string{"appeal", "reception-booking", "family-composition-certificate", "housing-registration"}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse(data, getenv, services)
		if err != nil {
			return
		}
		if cfg.AMQP.URL == "" || cfg.Postgres.URL == "" || len(cfg.Districts) == 0 || len(cfg.Portal.SigningKeys) == 0 {
			t.Fatalf("accepted an incomplete config: %+v", cfg)
		}
	})
}
