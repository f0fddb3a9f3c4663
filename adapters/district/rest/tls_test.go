package rest_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/district/rest"
	"github.com/korpu-az/korpu/adapters/tlsconf"
	"github.com/korpu-az/korpu/adapters/tlsconf/tlstest"
)

// TestSubmitOverMutualTLS calls a district on a private CA that requires
// the hub's client certificate: with the district's tls files it succeeds,
// without them it fails.
func TestSubmitOverMutualTLS(t *testing.T) {
	t.Parallel()
	ca := tlstest.NewCA(t, "AZ-SAT CA")
	srv := ca.MutualServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"reference":"SAT-2026-000123"}`)
	}))
	tc, err := tlsconf.Client(ca.ClientFiles(t, t.TempDir()))
	require.NoError(t, err)
	cfg := rest.Config{Code: "AZ-SAT", Endpoint: srv.URL, Token: token}

	for name, tls := range map[string]bool{"WithFiles": true, "Without": false} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := cfg
			if tls {
				cfg.TLS = tc
			}
			c, err := rest.New(cfg, nil, nil)
			require.NoError(t, err)
			ref, err := c.Submit(t.Context(), submission())
			if tls {
				require.NoError(t, err)
				require.Equal(t, "SAT-2026-000123", ref)
			} else {
				require.ErrorContains(t, err, "certificate")
			}
		})
	}
}
