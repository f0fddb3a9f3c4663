package main

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPprofListensOnLoopbackOnly(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{":0", "0.0.0.0:0", "[::]:0", "192.0.2.1:6060", "example.org:6060"} {
		t.Run(addr, func(t *testing.T) {
			t.Parallel()
			getenv := func(string) (string, bool) { return addr, true }
			_, err := servePprof(context.Background(), getenv, slog.New(slog.DiscardHandler))
			require.ErrorIs(t, err, errPprofNotLoopback)
			require.ErrorContains(t, err, "loopback")
		})
	}
	t.Run("Loopback", func(t *testing.T) {
		t.Parallel()
		getenv := func(string) (string, bool) { return "127.0.0.1:0", true }
		stop, err := servePprof(context.Background(), getenv, slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		stop()
	})
}
