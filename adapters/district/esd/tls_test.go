package esd_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/district/esd"
	"github.com/korpu-az/korpu/adapters/sim/esdsim"
	"github.com/korpu-az/korpu/adapters/tlsconf"
	"github.com/korpu-az/korpu/adapters/tlsconf/tlstest"
)

// TestChangesOverMutualTLS calls an ESD on a private CA that requires the
// hub's client certificate: with the district's tls files it succeeds,
// without them it fails.
func TestChangesOverMutualTLS(t *testing.T) {
	t.Parallel()
	ca := tlstest.NewCA(t, "AZ-BIL CA")
	srv := ca.MutualServer(t, esdsim.New(esdsim.Options{Code: "AZ-BIL", Username: "hub", Password: "pw"}))
	tc, err := tlsconf.Client(ca.ClientFiles(t, t.TempDir()))
	require.NoError(t, err)
	cfg := esd.Config{Code: "AZ-BIL", Endpoint: srv.URL + "/esd", Username: "hub", Password: "pw", Timeout: 5 * time.Second}

	for name, tls := range map[string]bool{"WithFiles": true, "Without": false} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := cfg
			if tls {
				cfg.TLS = tc
			}
			c, err := esd.New(cfg, nil, nil)
			require.NoError(t, err)
			_, err = c.Changes(t.Context(), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 10)
			if tls {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, "certificate")
			}
		})
	}
}
