package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/district/rest"
	"github.com/korpu-az/korpu/adapters/outbound/outboundtest"
	"github.com/korpu-az/korpu/routers"
)

// TestRedirectsNeverFollowed: whatever 3xx the district answers, neither the
// appeal nor the comment nor the token goes to the host it points to, and the
// call fails, transient.
func TestRedirectsNeverFollowed(t *testing.T) {
	t.Parallel()
	ops := map[string]func(context.Context, *rest.Client) error{
		"Submit": func(ctx context.Context, c *rest.Client) error { _, err := c.Submit(ctx, submission()); return err },
		"Comment": func(ctx context.Context, c *rest.Client) error {
			return c.Comment(ctx, routers.CommentSubmission{ID: "c-1", AppealNumber: "AZ-SAT-2026-000017", Text: "x", At: time.Now()})
		},
	}
	// A given client has its own transport: httptest servers closing in
	// parallel tests close http.DefaultTransport's idle connections.
	clients := map[string]func() *http.Client{"DefaultClient": func() *http.Client { return nil }, "GivenClient": func() *http.Client { return &http.Client{Transport: &http.Transport{}} }}
	for _, status := range outboundtest.Statuses {
		for opName, op := range ops {
			for clientName, client := range clients {
				t.Run(fmt.Sprintf("%s%d%s", opName, status, clientName), func(t *testing.T) {
					t.Parallel()
					r := outboundtest.New(t, status)
					var log outboundtest.Log
					c, err := rest.New(rest.Config{Code: "AZ-SAT", Endpoint: r.URL, Token: token}, client(), log.Logger())
					require.NoError(t, err)
					err = op(t.Context(), c)
					require.Zero(t, r.Hits(), "a redirect reached the other host")
					var te *routers.TransientError
					require.ErrorAs(t, err, &te)
					require.False(t, routers.IsPermanent(err))
					require.ErrorContains(t, err, "not followed")
					r.RequireLogged(t, &log, []string{`"district":"AZ-SAT"`}, token)
				})
			}
		}
	}
}
