package rest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/district/districttest"
	"github.com/korpu-az/korpu/adapters/district/rest"
	"github.com/korpu-az/korpu/adapters/sim/restdistrict"
	"github.com/korpu-az/korpu/routers"
)

// harness runs the REST client against the simulated district, with a
// middleware in front of the simulator for the injected faults and a stub of
// the hub's status endpoint behind it.
type harness struct {
	sim    *restdistrict.Sim
	client *rest.Client

	mu       sync.Mutex
	failNext []districttest.Failure
	statuses map[string][]routers.Status
}

func (h *harness) District() routers.District { return h.client }
func (h *harness) ErrCredentials() error      { return rest.ErrCredentials }
func (h *harness) Registered() int            { return h.sim.Created() }
func (h *harness) Received(n string) int      { return h.sim.Received()[n] }
func (h *harness) Comments(n string) []string { return h.sim.Comments(n) }

func (h *harness) FailNext(f districttest.Failure) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failNext = append(h.failNext, f)
}

func (h *harness) Statuses(_ context.Context, number, _ string) ([]routers.Status, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]routers.Status(nil), h.statuses[number]...), nil
}

// inject answers the call with the next queued failure, if any.
func (h *harness) inject(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		var f districttest.Failure
		if len(h.failNext) > 0 {
			f, h.failNext = h.failNext[0], h.failNext[1:]
		}
		h.mu.Unlock()
		if f == 0 {
			next.ServeHTTP(w, r)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body) // so the server watches the connection while hanging
		switch f {
		case districttest.FailTransient:
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"error":"busy"}`, http.StatusServiceUnavailable)
		case districttest.FailPermanent:
			http.Error(w, `{"error":"invalid appeal"}`, http.StatusUnprocessableEntity)
		case districttest.FailCredentials:
			http.Error(w, `{"error":"invalid token"}`, http.StatusUnauthorized)
		case districttest.FailTimeout:
			<-r.Context().Done()
		case districttest.FailMalformed:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `<html>not json`)
		}
	})
}

// hub records the status callbacks the simulator makes.
func (h *harness) hub(w http.ResponseWriter, r *http.Request) {
	var b struct {
		AppealNumber string         `json:"appeal_number"`
		Status       routers.Status `json:"status"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.statuses[b.AppealNumber] = append(h.statuses[b.AppealNumber], b.Status)
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func TestConformance(t *testing.T) {
	t.Parallel()
	districttest.Run(t, func(t *testing.T) districttest.Harness {
		h := &harness{statuses: make(map[string][]routers.Status)}
		hub := httptest.NewServer(http.HandlerFunc(h.hub))
		t.Cleanup(hub.Close)
		h.sim = restdistrict.New(restdistrict.Options{Code: "AZ-BIL", Token: token, CallbackURL: hub.URL, CallbackToken: "cb", StepDelay: 10 * time.Millisecond})
		h.sim.Start(context.WithoutCancel(t.Context()))
		t.Cleanup(h.sim.Close)
		srv := httptest.NewServer(h.inject(h.sim))
		t.Cleanup(srv.Close)
		c, err := rest.New(rest.Config{Code: "AZ-BIL", Endpoint: srv.URL, Token: token}, nil, nil)
		require.NoError(t, err)
		h.client = c
		return h
	})
}
