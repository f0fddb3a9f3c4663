package config

import (
	"bytes"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the README's table of hub settings from Settings")

// readmePath is the repository's README, whose configuration section holds
// the table of hub settings between these markers.
const (
	readmePath    = "../../../README.md"
	settingsBegin = "<!-- hub settings: generated from cmd/korpu/config/settings.go; go test ./cmd/korpu/config -update -->\n"
	settingsEnd   = "<!-- end of hub settings -->\n"
)

// TestREADMESettings fails when the README's table of hub settings and
// Settings differ; -update rewrites the table.
func TestREADMESettings(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	readme := string(raw)
	before, rest, ok := strings.Cut(readme, settingsBegin)
	require.True(t, ok, "the README has no begin marker %q", settingsBegin)
	table, after, ok := strings.Cut(rest, settingsEnd)
	require.True(t, ok, "the README has no end marker %q", settingsEnd)
	want := SettingsTable()
	if *update && table != want {
		require.NoError(t, os.WriteFile(readmePath, []byte(before+settingsBegin+want+settingsEnd+after), 0o644))
		return
	}
	require.Equal(t, want, table, "README's hub settings differ from Settings: run go test ./cmd/korpu/config -update")
}

// SettingsTable renders Settings as the README's Markdown table.
func SettingsTable() string {
	var b strings.Builder
	b.WriteString("| key | default | what it tunes |\n|---|---|---|\n")
	for _, s := range Settings {
		fmt.Fprintf(&b, "| `hub.%s` | `%s` | %s |\n", s.Key, s.Default(), s.Doc)
	}
	return b.String()
}

// value is s's value in h, as written in the file.
func (s Setting) value(h Hub) string { return format(deref(s.field(&h))) }

// changed is a valid value of s other than its default, as written in a file.
func changed(s Setting) string {
	switch d := s.def.(type) {
	case int:
		return fmt.Sprint(d + 3)
	case time.Duration:
		return formatDuration(d * 3)
	default:
		return s.Default() + "x"
	}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		cfg, err := Parse([]byte(example(t)), lookup(exampleEnv()), services)
		require.NoError(t, err)
		for _, s := range Settings {
			require.Equal(t, s.Default(), s.value(cfg.Hub), s.Key)
		}
	})
	for _, s := range Settings {
		t.Run(s.Key, func(t *testing.T) {
			t.Parallel()
			parse := func(value string, env map[string]string) (*Config, error) {
				src := example(t) + "hub:\n  " + s.Key + ": " + value + "\n"
				if s.Key == "retry_initial" {
					src += "  retry_max: 1000h\n" // retry_initial may not exceed it
				}
				e := exampleEnv()
				for k, v := range env {
					e[k] = v
				}
				return Parse([]byte(src), lookup(e), services)
			}
			// A value other than the default lands in its field, written
			// literally or through a variable.
			for _, value := range []string{changed(s), "${V}"} {
				cfg, err := parse(value, map[string]string{"V": changed(s)})
				require.NoError(t, err, value)
				require.Equal(t, changed(s), s.value(cfg.Hub), value)
				for _, other := range Settings {
					if other.Key != s.Key && other.Key != "retry_max" {
						require.Equal(t, other.Default(), other.value(cfg.Hub), "%s: setting %s moved %s", value, s.Key, other.Key)
					}
				}
			}
			// Values of the wrong kind or out of bounds: one problem naming the key.
			bad := map[string][]string{
				"a positive whole number":           {"0", "-2", "1.5", "many", "true", "[1]", "9223372036854775808", "99999999999999999999"},
				"a positive duration like 5s or 2m": {"0s", "-1s", "5", "soon", "{a: 1}"},
				"a non-empty name":                  {`""`, "[a]"},
			}[s.kind]
			require.NotEmpty(t, bad, s.kind)
			for _, value := range bad {
				_, err := parse(value, nil)
				var verr *ValidationError
				require.ErrorAs(t, err, &verr, value)
				require.Len(t, verr.Problems, 1, "%s: %v", value, err)
				require.Equal(t, "hub."+s.Key, verr.Problems[0].Key, value)
				require.Equal(t, strings.Count(example(t), "\n")+2, verr.Problems[0].Line, "%s: the line of the key (after hub:, after the file)", value)
			}
		})
	}
}

func TestSettingsAreLogged(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(example(t)), lookup(exampleEnv()), services)
	require.NoError(t, err)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", cfg)
	for _, s := range Settings {
		require.Contains(t, buf.String(), `"`+s.Key+`":`)
	}
}

func TestParseTuning(t *testing.T) {
	t.Parallel()
	h, err := ParseTuning("intake_consumers: 32, relay_batch: 500, retry_initial: 2s")
	require.NoError(t, err)
	require.Equal(t, 32, h.IntakeConsumers)
	require.Equal(t, 500, h.RelayBatch)
	require.Equal(t, 2*time.Second, h.RetryInitial)
	require.Equal(t, 2, h.DeliveryConsumers, "absent keys take their defaults")

	h, err = ParseTuning("")
	require.NoError(t, err)
	require.Equal(t, 16, h.IntakeConsumers)

	_, err = ParseTuning("intake_consumer: 3, relay_batch: 0")
	require.ErrorContains(t, err, `hub.intake_consumer (line 1): unknown key "intake_consumer"`)
	require.ErrorContains(t, err, "hub.relay_batch (line 1): must be positive, not 0")
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		200 * time.Millisecond: "200ms", 5 * time.Second: "5s", 5 * time.Minute: "5m", 90 * time.Second: "1m30s",
		72 * time.Hour: "72h", 90 * time.Minute: "1h30m", time.Hour + time.Second: "1h0m1s",
	} {
		require.Equal(t, want, formatDuration(d))
	}
}
