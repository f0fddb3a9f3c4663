package registry_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/registry"
	"github.com/korpu-az/korpu/adapters/tlsconf"
	"github.com/korpu-az/korpu/adapters/tlsconf/tlstest"
)

// TestPersonOverMutualTLS asks a registry on a private CA that requires the
// hub's client certificate: with the registry's tls files it succeeds,
// without them it fails.
func TestPersonOverMutualTLS(t *testing.T) {
	t.Parallel()
	ca := tlstest.NewCA(t, "registry CA")
	srv := ca.MutualServer(t, answer(http.StatusOK, record(fin)))
	tc, err := tlsconf.Client(ca.ClientFiles(t, t.TempDir()))
	require.NoError(t, err)

	for name, tls := range map[string]bool{"WithFiles": true, "Without": false} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := registry.Config{URL: srv.URL, Token: token}
			if tls {
				cfg.TLS = tc
			}
			c, err := registry.New(cfg, nil, nil)
			require.NoError(t, err)
			person, err := c.Person(t.Context(), fin)
			if tls {
				require.NoError(t, err)
				require.Contains(t, string(person), fin)
			} else {
				require.ErrorContains(t, err, "certificate")
			}
		})
	}
}
