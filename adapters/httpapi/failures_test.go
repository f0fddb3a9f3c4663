package httpapi_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/httpapi"
	"github.com/korpu-az/korpu/adapters/httpapi/openapitest"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/catalogue"
)

var errLedgerDown = errors.New("ledger: connection refused")

// downInquiry knows the catalogue and the districts but cannot read the
// ledger.
type downInquiry struct{}

func (downInquiry) Districts() []routers.DistrictInfo { return nil }

func (downInquiry) Catalogue() *catalogue.Catalogue { return catalogue.Default() }

func (downInquiry) Officials(context.Context, string) ([]routers.OfficialDays, error) {
	return nil, errLedgerDown
}

func (downInquiry) History(context.Context, string, routers.HistoryFilter, string, int) (routers.HistoryPage, error) {
	return routers.HistoryPage{}, errLedgerDown
}

func (downInquiry) Details(context.Context, routers.Viewer, string) (routers.AppealView, error) {
	return routers.AppealView{}, errLedgerDown
}

// downDesk cannot read or resolve dead letters.
type downDesk struct{}

func (downDesk) List(context.Context, routers.DeadLetterState, int64, int) ([]routers.DeadLetter, error) {
	return nil, errLedgerDown
}

func (downDesk) Show(context.Context, int64) (routers.DeadLetter, error) {
	return routers.DeadLetter{}, errLedgerDown
}

func (downDesk) Replay(context.Context, int64, routers.Operator) error { return errLedgerDown }

func (downDesk) Drop(context.Context, int64, routers.Operator) error { return errLedgerDown }

func (downDesk) Actions(context.Context, int64, int) ([]routers.OperatorAction, error) {
	return nil, errLedgerDown
}

type failingDocuments struct{}

func (failingDocuments) Render(routers.AppealView, string) ([]byte, error) {
	return nil, errors.New("font missing")
}

// TestDocumentedFailures: the answers a failing ledger or renderer gives,
// checked against the document like every other (the tests of each route
// rarely meet them).
func TestDocumentedFailures(t *testing.T) {
	t.Parallel()
	down := openapitest.Wrap(t, httpapi.New(httpapi.Config{
		Access:  testAccess(),
		Inquiry: downInquiry{}, Documents: failingDocuments{}, DeadLetters: downDesk{},
		Reporter: &fakeReporter{}, Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler),
	}))
	for _, tc := range []struct {
		name, method, path, token, fin string
	}{
		{"officials", http.MethodGet, "/v1/districts/AZ-BIL/officials", portalToken, ""},
		{"history", http.MethodGet, "/v1/citizens/me/appeals", portalToken, alice},
		{"details", http.MethodGet, "/v1/appeals/AZ-BIL-2026-000001", portalToken, alice},
		{"document", http.MethodGet, "/v1/appeals/AZ-BIL-2026-000001/document", monitorToken, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := get(down, tc.path, tc.token, tc.fin)
			p := problemOf(t, rec, http.StatusServiceUnavailable)
			require.Equal(t, "urn:korpu:problem:unavailable", p.Type)
			require.NotEmpty(t, rec.Header().Get("Retry-After"))
			require.NotContains(t, rec.Body.String(), "connection refused", "the ledger's error stays in the log")
		})
	}
	for _, tc := range []struct{ name, method, path string }{
		{"dead letters", http.MethodGet, "/v1/dead-letters"},
		{"a dead letter", http.MethodGet, "/v1/dead-letters/1"},
		{"replay", http.MethodPost, "/v1/dead-letters/1/replay"},
		{"drop", http.MethodPost, "/v1/dead-letters/1/drop"},
		{"operator actions", http.MethodGet, "/v1/operator-actions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(down, tc.method, tc.path, "Bearer operator-secret", "")
			require.Equal(t, http.StatusServiceUnavailable, rec.Code)
			require.Equal(t, "temporarily unavailable; try again", machineProblemOf(t, rec, http.StatusServiceUnavailable).Detail)
		})
	}

	t.Run("renderer", func(t *testing.T) {
		t.Parallel()
		w := newPortalWorld(t, failingDocuments{})
		a := w.register(t, alice, "AZ-BIL", "appeal", nil)
		p := problemOf(t, get(w.handler, "/v1/appeals/"+a.Number+"/document", portalToken, alice), http.StatusInternalServerError)
		require.Equal(t, "urn:korpu:problem:internal", p.Type)
	})
	t.Run("no citizen named", func(t *testing.T) {
		t.Parallel()
		w := newPortalWorld(t, failingDocuments{})
		a := w.register(t, alice, "AZ-BIL", "appeal", nil)
		for _, path := range []string{"/v1/appeals/" + a.Number, "/v1/appeals/" + a.Number + "/document"} {
			for _, fin := range []string{"", "5XK3P2"} {
				p := problemOf(t, get(w.handler, path, portalToken, fin), http.StatusBadRequest)
				require.Equal(t, "X-Citizen-FIN", p.Errors[0].Field, "%s with %q", path, fin)
			}
		}
	})
}
