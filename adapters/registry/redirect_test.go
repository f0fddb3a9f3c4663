package registry_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/outbound/outboundtest"
	"github.com/korpu-az/korpu/adapters/registry"
	"github.com/korpu-az/korpu/routers"
)

// TestRedirectsNeverFollowed: whatever 3xx the registry answers, neither the
// token nor the FİN goes to the host it points to, and the lookup fails,
// transient.
func TestRedirectsNeverFollowed(t *testing.T) {
	t.Parallel()
	// A given client has its own transport: httptest servers closing in
	// parallel tests close http.DefaultTransport's idle connections.
	clients := map[string]func() *http.Client{"DefaultClient": func() *http.Client { return nil }, "GivenClient": func() *http.Client { return &http.Client{Transport: &http.Transport{}} }}
	for _, status := range outboundtest.Statuses {
		for clientName, client := range clients {
			t.Run(fmt.Sprintf("Lookup%d%s", status, clientName), func(t *testing.T) {
				t.Parallel()
				r := outboundtest.New(t, status)
				var log outboundtest.Log
				c, err := registry.New(registry.Config{URL: r.URL, Token: token}, client(), log.Logger())
				require.NoError(t, err)
				_, err = c.Person(t.Context(), fin)
				require.Zero(t, r.Hits(), "a redirect reached the other host")
				var te *routers.TransientError
				require.ErrorAs(t, err, &te)
				require.ErrorContains(t, err, "not followed")
				require.NotContains(t, err.Error(), fin)
				r.RequireLogged(t, &log, []string{`"fin":"` + registry.MaskFIN(fin) + `"`}, token, fin)
			})
		}
	}
}
