package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers/tlog"
)

// TestAuditKey: `audit key --new` makes a signer key whose verifier key it
// prints, and `audit key --config` prints the same verifier key of the
// file's key, never the key itself.
func TestAuditKey(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"audit", "key", "--new", "korpu.test/log"}, &out, noEnv))
	var skey, vkey string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		_, value, _ := strings.Cut(line, ": ")
		switch {
		case strings.HasPrefix(line, "signer key"):
			skey = value
		case strings.HasPrefix(line, "verifier key"):
			vkey = value
		}
	}
	signer, err := tlog.NewSigner(skey)
	require.NoError(t, err)
	require.Equal(t, vkey, signer.VerifierKey())

	example, err := os.ReadFile("config/testdata/korpu.example.yaml")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "korpu.yaml")
	require.NoError(t, os.WriteFile(path, example, 0o600))
	env := func(name string) (string, bool) {
		switch name {
		case "KORPU_CHECKPOINT_KEY":
			return skey, true
		case "KORPU_LOG_LEVEL":
			return "error", true
		}
		return "value-of-" + name + "-at-least-32-characters-long", true
	}
	out.Reset()
	require.NoError(t, run(context.Background(), []string{"audit", "key", "--config", path}, &out, env))
	require.Equal(t, vkey+"\n", out.String())

	require.Error(t, run(context.Background(), []string{"audit", "key"}, &out, noEnv), "--new or --config")
}

func noEnv(string) (string, bool) { return "", false }
