package esd_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/district/districttest"
	"github.com/korpu-az/korpu/adapters/district/esd"
	"github.com/korpu-az/korpu/adapters/sim/esdsim"
	"github.com/korpu-az/korpu/routers"
)

type harness struct {
	sim    *esdsim.Sim
	client *esd.Client
}

func (h *harness) District() routers.District { return h.client }
func (h *harness) ErrCredentials() error      { return esd.ErrCredentials }
func (h *harness) Registered() int            { return h.sim.Registered() }
func (h *harness) Received(n string) int      { return h.sim.Received(n) }
func (h *harness) Comments(n string) []string { return h.sim.Comments(n) }

func (h *harness) FailNext(f districttest.Failure) {
	h.sim.FailNext(map[districttest.Failure]esdsim.Failure{
		districttest.FailTransient:   esdsim.FailBusy,
		districttest.FailPermanent:   esdsim.FailInvalid,
		districttest.FailCredentials: esdsim.FailUnauthorized,
		districttest.FailTimeout:     esdsim.FailHang,
		districttest.FailMalformed:   esdsim.FailMalformed,
	}[f])
}

// Statuses polls the way the hub does: every page of changes since the
// beginning, then the appeal's own state, which must agree with the last change.
func (h *harness) Statuses(ctx context.Context, number, ref string) ([]routers.Status, error) {
	var out []routers.Status
	seen := make(map[esd.Change]bool) // a page repeats the changes of its first instant
	since, limit := time.Time{}, 1
	for {
		page, err := h.client.Changes(ctx, since, limit)
		if err != nil {
			return nil, err
		}
		for _, c := range page.Changes {
			if c.AppealNumber == number && !seen[c] {
				seen[c] = true
				out = append(out, c.Status)
			}
		}
		if !page.More {
			break
		}
		if page.Next.Equal(since) {
			limit *= 2 // the page held only the changes of its first instant
		}
		since = page.Next
	}
	st, err := h.client.State(ctx, ref)
	if err != nil {
		return nil, err
	}
	if len(out) > 0 && st.Status != out[len(out)-1] {
		return nil, nil // a change between the two calls: ask again
	}
	return out, nil
}

func TestConformance(t *testing.T) {
	t.Parallel()
	districttest.Run(t, func(t *testing.T) districttest.Harness {
		sim := esdsim.New(esdsim.Options{Code: "AZ-BIL", Username: "hub", Password: "pw", StepDelay: 20 * time.Millisecond, PageSize: 2})
		srv := httptest.NewServer(sim)
		t.Cleanup(srv.Close)
		c, err := esd.New(esd.Config{Code: "AZ-BIL", Endpoint: srv.URL + "/esd", Username: "hub", Password: "pw", Timeout: 5 * time.Second}, nil, nil)
		require.NoError(t, err)
		return &harness{sim: sim, client: c}
	})
}
