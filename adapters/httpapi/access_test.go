package httpapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/access"
	"github.com/korpu-az/korpu/adapters/httpapi"
	"github.com/korpu-az/korpu/adapters/httpapi/openapitest"
	"github.com/korpu-az/korpu/routers"
)

// partyDesk is a dead-letter desk that keeps who asked, as the audit will.
type partyDesk struct {
	downDesk
	mu      sync.Mutex
	callers []access.Party
}

func (d *partyDesk) Replay(_ context.Context, _ int64, by routers.Operator) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.callers = append(d.callers, access.Party{Name: by.Name, Role: access.Role(by.Role)})
	return routers.ErrNotFound
}

// TestCallerInContext: the handlers find the authenticated party in the
// request's context: an operator by name on a replay, a district by code
// on its callback.
func TestCallerInContext(t *testing.T) {
	t.Parallel()
	desk := &partyDesk{}
	reporter := &fakeReporter{}
	h := openapitest.Wrap(t, httpapi.New(httpapi.Config{
		Access: testAccess(), DeadLetters: desk, Reporter: reporter,
		Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler),
	}))
	require.Equal(t, http.StatusNotFound, serve(h, http.MethodPost, "/v1/dead-letters/7/replay", "Bearer operator-secret", "").Code)
	require.Equal(t, []access.Party{{Name: "duty-operator", Role: access.RoleOperator}}, desk.callers)
}

// TestDistrictTouchesOnlyItsOwnCode: a district's token acts for its own
// code only, and the code the hub reports is the path's, which only that
// token opens.
func TestDistrictTouchesOnlyItsOwnCode(t *testing.T) {
	t.Parallel()
	reporter := &fakeReporter{}
	h := newAPI(t, reporter, prometheus.NewRegistry())
	for _, token := range []string{"Bearer sat-secret", "Bearer portal-secret", "Bearer operator-secret"} {
		require.Equal(t, http.StatusUnauthorized, serve(h, http.MethodPost, "/v1/districts/AZ-BIL/status", token, report).Code, token)
	}
	require.Empty(t, reporter.received(), "no one else's report reached the hub")
	require.Equal(t, http.StatusOK, serve(h, http.MethodPost, "/v1/districts/AZ-SAT/status", "Bearer sat-secret", report).Code)
	got := reporter.received()
	require.Len(t, got, 1)
	require.Equal(t, "AZ-SAT", got[0].District, "the hub checks the appeal against the caller's own code (ErrForeignAppeal)")
}

// TestTokensSwapLive: a new table applies to the next request, without a
// new handler: the old token is refused, the new one admitted.
func TestTokensSwapLive(t *testing.T) {
	t.Parallel()
	tokens := testAccess()
	h := openapitest.Wrap(t, httpapi.New(httpapi.Config{
		Access: tokens, DeadLetters: &partyDesk{}, Reporter: &fakeReporter{},
		Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler),
	}))
	require.Equal(t, http.StatusNotFound, serve(h, http.MethodPost, "/v1/dead-letters/7/replay", "Bearer operator-secret", "").Code)
	tokens.Swap(access.NewTable(map[string]access.Party{"operator-secret-2": {Name: "duty-operator", Role: access.RoleOperator}}))
	require.Equal(t, http.StatusUnauthorized, serve(h, http.MethodPost, "/v1/dead-letters/7/replay", "Bearer operator-secret", "").Code)
	require.Equal(t, http.StatusNotFound, serve(h, http.MethodPost, "/v1/dead-letters/7/replay", "Bearer operator-secret-2", "").Code)
}
