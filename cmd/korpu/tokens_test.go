package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestServeRefusesWeakAndSharedTokens: the real binary will not start with
// a short token, nor with one token for two parties (the monitors' that is
// also a district's callback token); it names every key, never a value.
func TestServeRefusesWeakAndSharedTokens(t *testing.T) {
	t.Parallel()
	shared := "one-token-for-two-parties-0123456789"
	env := map[string]string{
		"KORPU_PORTAL_KEY":     "portal-key-0123456789abcdef0123456789",
		"KORPU_REGISTRY_TOKEN": "tiny",
		"KORPU_MONITOR_TOKEN":  shared,
		"SAT_CALLBACK_TOKEN":   shared,
		"SAT_TOKEN":            "sat-token-0123456789abcdef0123456789",
		"BIL_ESD_PASSWORD":     "esd-password",
		"POSTGRES_PASSWORD":    "pg",
	}
	cmd := exec.Command(korpuBinary, "serve", "--config", "../../deploy/korpu.compose.yaml")
	cmd.Env = os.Environ()
	for name, value := range env {
		cmd.Env = append(cmd.Env, name+"="+value)
	}
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "registry.token (line 15): 4 characters: a token or key needs at least 32")
	require.Contains(t, string(out), "districts[AZ-SAT].callback_token (line 40): the same value as monitor.token")
	for name, value := range env {
		if len(value) > 4 {
			require.NotContains(t, string(out), value, "%s shown", name)
		}
	}
	require.Equal(t, 2, strings.Count(string(out), "\n  "), "those two problems only:\n%s", out)
}
