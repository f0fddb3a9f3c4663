package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"github.com/transparency-dev/merkle/proof"

	"github.com/korpu-az/korpu/adapters/httpapi"
	"github.com/korpu-az/korpu/adapters/httpapi/openapitest"
	"github.com/korpu-az/korpu/adapters/memory"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/tlog"
)

type logAPI struct {
	t       *testing.T
	ledger  *memory.Ledger
	handler http.Handler
	signer  *tlog.Signer
	number  string
	at      time.Time
}

func newLogAPI(t *testing.T) *logAPI {
	t.Helper()
	at := time.Date(2031, 3, 20, 9, 0, 0, 0, routers.Baku)
	l := memory.NewLedger(func() time.Time { return at })
	skey, _, err := tlog.GenerateKey("korpu.httpapitest/log")
	require.NoError(t, err)
	signer, err := tlog.NewSigner(skey)
	require.NoError(t, err)
	a, err := l.Register(t.Context(), routers.Appeal{
		RequestID: "req-1", District: "AZ-BIL", Service: "appeal", FIN: "5XK3P2M", Type: "complaint", Status: routers.StatusRegistered,
		Sequence: 1, RegisteredAt: at, Deadline: "2031-04-10", Request: json.RawMessage(`{}`),
		Delivery: routers.Delivery{State: routers.DeliveryPending},
	}, nil, func(int) string { return "AZ-BIL-2031-000001" }, func(a routers.Appeal) routers.Effects {
		return routers.Effects{Events: []routers.StatusEvent{{EventID: "e1", AppealNumber: a.Number, Sequence: 1, Status: routers.StatusRegistered}}}
	})
	require.NoError(t, err)
	api := &logAPI{t: t, ledger: l, signer: signer, number: a.Number, at: at, handler: openapitest.Wrap(t, httpapi.New(httpapi.Config{
		Access: testAccess(), Log: routers.LogProofs{Ledger: l},
		Gatherer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler),
	}))}
	api.addEvent(2)
	return api
}

func (a *logAPI) addEvent(seq int) {
	require.NoError(a.t, a.ledger.UpdateAppeal(a.t.Context(), a.number, func(*routers.Appeal) (routers.Effects, error) {
		return routers.Effects{Events: []routers.StatusEvent{{EventID: "e", AppealNumber: a.number, Sequence: seq, Status: routers.StatusDelivered}}}, nil
	}))
}

// sequenceAndSign runs the sequencer and a checkpoint, as the hub's loop does.
func (a *logAPI) sequenceAndSign() tlog.Checkpoint {
	_, err := a.ledger.SequenceLog(a.t.Context(), 100)
	require.NoError(a.t, err)
	a.at = a.at.Add(time.Hour)
	cp, ok, err := a.ledger.Checkpoint(a.t.Context(), a.at, a.signer.Sign, func(cp tlog.Checkpoint) routers.OutboxMessage {
		return routers.CheckpointMessage("korpu.checkpoints", a.signer.Origin(), cp)
	})
	require.NoError(a.t, err)
	require.True(a.t, ok)
	return cp
}

type proofBody struct {
	Status     string   `json:"status"`
	LeafIndex  *uint64  `json:"leaf_index"`
	LeafHash   []byte   `json:"leaf_hash"`
	Proof      [][]byte `json:"proof"`
	Checkpoint struct {
		Size uint64 `json:"size"`
		Root []byte `json:"root_hash"`
		Note string `json:"note"`
	} `json:"checkpoint"`
}

func (a *logAPI) get(path, token string) (*proofBody, int, http.Header, string) {
	rec := serve(a.handler, http.MethodGet, path, token, "")
	var body proofBody
	if rec.Header().Get("Content-Type") == "application/json" {
		require.NoError(a.t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	}
	return &body, rec.Code, rec.Header(), rec.Body.String()
}

func TestLogRoutes(t *testing.T) {
	t.Parallel()
	a := newLogAPI(t)
	proofPath := "/v1/log/proof?number=" + a.number + "&sequence=2"

	_, code, _, _ := a.get("/v1/log/checkpoint", portalToken)
	require.Equal(t, http.StatusNotFound, code, "no checkpoint yet")
	body, code, h, _ := a.get(proofPath, monitorToken)
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, "queued", body.Status)
	require.Equal(t, "2", h.Get("Retry-After"))

	_, err := a.ledger.SequenceLog(t.Context(), 100)
	require.NoError(t, err)
	body, code, _, _ = a.get(proofPath, monitorToken)
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, "sequenced", body.Status)
	require.Equal(t, uint64(1), *body.LeafIndex)

	cp := a.sequenceAndSign()
	_, code, h, note := a.get("/v1/log/checkpoint", portalToken)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "text/plain; charset=utf-8", h.Get("Content-Type"))
	opened, err := a.signer.Verifier().Open([]byte(note))
	require.NoError(t, err)
	require.Equal(t, cp.Root, opened.Root)

	body, code, _, _ = a.get(proofPath, portalToken)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, uint64(1), *body.LeafIndex)
	require.Equal(t, uint64(2), body.Checkpoint.Size)
	require.NoError(t, proof.VerifyInclusion(tlog.Hasher, *body.LeafIndex, body.Checkpoint.Size, body.LeafHash, body.Proof, opened.Root))

	a.addEvent(3)
	newer := a.sequenceAndSign()
	rec := serve(a.handler, http.MethodGet, "/v1/log/consistency?from=2", monitorToken, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var cons struct {
		From, To struct {
			Size uint64 `json:"size"`
			Root []byte `json:"root_hash"`
		}
		Proof [][]byte `json:"proof"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &cons))
	require.Equal(t, newer.Size, cons.To.Size)
	require.NoError(t, proof.VerifyConsistency(tlog.Hasher, cons.From.Size, cons.To.Size, cons.Proof, cp.Root, newer.Root))

	// An older checkpoint's proof, asked by size.
	body, code, _, _ = a.get(proofPath+"&size=2", portalToken)
	require.Equal(t, http.StatusOK, code)
	require.NoError(t, proof.VerifyInclusion(tlog.Hasher, 1, 2, body.LeafHash, body.Proof, cp.Root))

	for _, tc := range []struct {
		name, path, token string
		code              int
	}{
		{"NoToken", proofPath, "", http.StatusUnauthorized},
		{"DistrictToken", "/v1/log/checkpoint", "Bearer bil-secret", http.StatusForbidden},
		{"UnknownEvent", "/v1/log/proof?number=" + a.number + "&sequence=9", portalToken, http.StatusNotFound},
		{"UnknownCheckpoint", proofPath + "&size=1", portalToken, http.StatusNotFound},
		{"NoSequence", "/v1/log/proof?number=" + a.number, portalToken, http.StatusBadRequest},
		{"BadSize", proofPath + "&size=-1", portalToken, http.StatusBadRequest},
		{"ConsistencyFromRequired", "/v1/log/consistency", portalToken, http.StatusBadRequest},
		{"ConsistencyFromPastTo", "/v1/log/consistency?from=3&to=2", portalToken, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.code, serve(a.handler, http.MethodGet, tc.path, tc.token, "").Code)
		})
	}
}

// TestDetailsNameTheHeadLeaf: the view a printed appeal is made from
// names its head event's leaf in the log once the event is sequenced, and
// none before.
func TestDetailsNameTheHeadLeaf(t *testing.T) {
	t.Parallel()
	w := newPortalWorld(t)
	a := w.register(t, alice, "AZ-BIL", "appeal", nil)
	inquiry := routers.NewInquiry(w.ledger, w.validator, func() time.Time { return w.now }).WithLog(w.ledger)
	v, err := inquiry.Details(t.Context(), routers.Viewer{Monitor: true}, a.Number)
	require.NoError(t, err)
	require.Nil(t, v.HeadLeaf, "not yet in the log")
	_, err = w.ledger.SequenceLog(t.Context(), 10)
	require.NoError(t, err)
	v, err = inquiry.Details(t.Context(), routers.Viewer{Monitor: true}, a.Number)
	require.NoError(t, err)
	require.NotNil(t, v.HeadLeaf)
	index, err := w.ledger.LeafIndex(t.Context(), a.Number, v.Head.Sequence)
	require.NoError(t, err)
	require.Equal(t, index, *v.HeadLeaf)
}
