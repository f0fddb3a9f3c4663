package main

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/cmd/korpu/config"
	"github.com/korpu-az/korpu/routers/catalogue"
)

// TestDeployConfigIsValid keeps the compose stack's config loadable: a
// broken one would only show on someone's laptop.
func TestDeployConfigIsValid(t *testing.T) {
	t.Parallel()
	getenv := func(name string) (string, bool) { return "set-by-compose-0123456789abcdef-" + name, true }
	cfg, err := config.Load("../../deploy/korpu.compose.yaml", getenv, catalogue.Default().Codes())
	require.NoError(t, err)
	_, polled, err := districtAdapters(cfg, time.Now, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.Contains(t, polled, "AZ-BIL", "the ESD district is polled")
}
