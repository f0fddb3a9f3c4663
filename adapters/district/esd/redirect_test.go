package esd_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/district/esd"
	"github.com/korpu-az/korpu/adapters/outbound/outboundtest"
	"github.com/korpu-az/korpu/routers"
)

// TestRedirectsNeverFollowed: whatever 3xx ESD answers, no operation sends
// anything to the host it points to, and the call fails, transient.
func TestRedirectsNeverFollowed(t *testing.T) {
	t.Parallel()
	ops := map[string]func(context.Context, *esd.Client) error{
		"Submit": func(ctx context.Context, c *esd.Client) error { _, err := c.Submit(ctx, submission()); return err },
		"Comment": func(ctx context.Context, c *esd.Client) error {
			return c.Comment(ctx, routers.CommentSubmission{ID: "c-1", AppealNumber: "AZ-BIL-2026-000017", Reference: "BIL-2026/000123", Text: "x", At: time.Now()})
		},
		"Changes": func(ctx context.Context, c *esd.Client) error { _, err := c.Changes(ctx, time.Now(), 10); return err },
		"State":   func(ctx context.Context, c *esd.Client) error { _, err := c.State(ctx, "BIL-2026/000123"); return err },
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
					c, err := esd.New(esd.Config{Code: "AZ-BIL", Endpoint: r.URL + "/esd", Username: username, Password: password}, client(), log.Logger())
					require.NoError(t, err)
					err = op(t.Context(), c)
					require.Zero(t, r.Hits(), "a redirect reached the other host")
					requireOutcome(t, transient, err)
					require.ErrorContains(t, err, "not followed")
					r.RequireLogged(t, &log, []string{`"district":"AZ-BIL"`}, password)
				})
			}
		}
	}
}
