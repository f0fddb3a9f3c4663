package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/httpapi"
	"github.com/korpu-az/korpu/adapters/httpapi/openapitest"
	"github.com/korpu-az/korpu/adapters/memory"
	"github.com/korpu-az/korpu/routers"
)

func TestDeadLetters(t *testing.T) {
	t.Parallel()
	ledger := memory.NewLedger(time.Now)
	for _, fp := range []string{"a", "b"} {
		require.NoError(t, ledger.AddDeadLetter(t.Context(), routers.DeadLetter{
			Kind: routers.DeadPoison, Queue: "req", Body: []byte(`{"id":"` + fp + `"}`), Headers: map[string]string{"x-signature": "sha256=00"},
			Error: "x-signature does not match the body", Attempts: 1, Fingerprint: fp,
		}))
	}
	require.NoError(t, ledger.AddDeadLetter(t.Context(), routers.DeadLetter{Kind: routers.DeadPoison, Queue: "req", Body: []byte{0xff, 0x00}, Error: "not UTF-8", Fingerprint: "c"}))
	srv := httptest.NewServer(openapitest.Wrap(t, httpapi.New(httpapi.Config{
		Access:      testAccess(),
		DeadLetters: routers.NewDeadLetterDesk(ledger, time.Now),
		Gatherer:    prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler),
	})))
	t.Cleanup(srv.Close)

	call := func(method, path, token string) (int, map[string]any) {
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var body map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		return resp.StatusCode, body
	}

	for _, token := range []string{"", "bil", "monitor-secretX"} {
		code, _ := call(http.MethodGet, "/v1/dead-letters", token)
		require.Equal(t, http.StatusUnauthorized, code, "token %q", token)
	}
	// Known parties without the monitors' role: the portal and districts.
	for _, token := range []string{"portal-secret", "bil-secret"} {
		for _, route := range []struct{ method, path string }{
			{http.MethodGet, "/v1/dead-letters"}, {http.MethodGet, "/v1/dead-letters/1"},
			{http.MethodPost, "/v1/dead-letters/1/replay"}, {http.MethodPost, "/v1/dead-letters/1/drop"},
		} {
			code, _ := call(route.method, route.path, token)
			require.Equal(t, http.StatusForbidden, code, "%s %s %s", token, route.method, route.path)
		}
	}
	// A monitor reads but may neither replay nor drop: only operators.
	for _, action := range []string{"replay", "drop"} {
		code, body := call(http.MethodPost, "/v1/dead-letters/1/"+action, "monitor-secret")
		require.Equal(t, http.StatusForbidden, code, action)
		require.Contains(t, body["detail"], "only operators")
	}
	code, body := call(http.MethodGet, "/v1/dead-letters/1", "monitor-secret")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, string(routers.DeadLetterOpen), body["state"], "the monitor's replay changed nothing")
	code, body = call(http.MethodGet, "/v1/dead-letters?state=dead", "monitor-secret")
	require.Equal(t, http.StatusOK, code)
	require.Len(t, body["dead_letters"], 3)
	code, body = call(http.MethodGet, "/v1/dead-letters?after=1&limit=1", "monitor-secret")
	require.Equal(t, http.StatusOK, code)
	require.Len(t, body["dead_letters"], 1)
	require.EqualValues(t, 2, body["dead_letters"].([]any)[0].(map[string]any)["id"])
	code, _ = call(http.MethodGet, "/v1/dead-letters?state=lost", "monitor-secret")
	require.Equal(t, http.StatusBadRequest, code)

	code, body = call(http.MethodGet, "/v1/dead-letters/1", "monitor-secret")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, `{"id":"a"}`, body["body"])
	require.Equal(t, map[string]any{"x-signature": "sha256=00"}, body["headers"])
	code, body = call(http.MethodGet, "/v1/dead-letters/3", "monitor-secret")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "/wA=", body["body_base64"], "bytes that are not UTF-8 come in base64")
	code, _ = call(http.MethodGet, "/v1/dead-letters/99", "monitor-secret")
	require.Equal(t, http.StatusNotFound, code)

	code, _ = call(http.MethodPost, "/v1/dead-letters/1/replay", "operator-secret")
	require.Equal(t, http.StatusOK, code)
	code, body = call(http.MethodPost, "/v1/dead-letters/1/replay", "operator-secret")
	require.Equal(t, http.StatusConflict, code, "a second replay")
	require.True(t, strings.Contains(body["detail"].(string), "no longer open"))
	code, _ = call(http.MethodPost, "/v1/dead-letters/2/drop", "operator-secret")
	require.Equal(t, http.StatusOK, code)
	code, body = call(http.MethodGet, "/v1/dead-letters?state=dead", "monitor-secret")
	require.Equal(t, http.StatusOK, code)
	require.Len(t, body["dead_letters"], 1)

	var replayed []routers.OutboxRecord
	_, err := ledger.Relay(t.Context(), 10, func(records []routers.OutboxRecord) error {
		replayed = append(replayed, records...)
		return nil
	})
	require.NoError(t, err)
	require.Len(t, replayed, 1, "the replay put the original message back on its queue")
	require.Equal(t, "req", replayed[0].Topic)
	require.Equal(t, `{"id":"a"}`, string(replayed[0].Payload))
	require.Equal(t, "sha256=00", replayed[0].Metadata["x-signature"])

	// Every replay and drop is in the operators' record with who asked,
	// the refused second replay too; monitors read it newest first.
	code, body = call(http.MethodGet, "/v1/operator-actions", "monitor-secret")
	require.Equal(t, http.StatusOK, code)
	type entry struct{ Actor, Role, Channel, Action, Outcome string }
	var entries []entry
	for _, a := range body["operator_actions"].([]any) {
		m := a.(map[string]any)
		require.NotEmpty(t, m["at"])
		entries = append(entries, entry{m["actor"].(string), m["role"].(string), m["channel"].(string), m["action"].(string), m["outcome"].(string)})
	}
	require.Equal(t, []entry{
		{"duty-operator", "operator", "api", "dead_letter.drop", "done"},
		{"duty-operator", "operator", "api", "dead_letter.replay", "not_open"},
		{"duty-operator", "operator", "api", "dead_letter.replay", "done"},
	}, entries)
	code, body = call(http.MethodGet, "/v1/operator-actions?before=3&limit=1", "monitor-secret")
	require.Equal(t, http.StatusOK, code)
	require.Len(t, body["operator_actions"], 1)
	require.Equal(t, "not_open", body["operator_actions"].([]any)[0].(map[string]any)["outcome"])
	for _, q := range []string{"?limit=0", "?before=-1", "?limit=x"} {
		code, _ = call(http.MethodGet, "/v1/operator-actions"+q, "monitor-secret")
		require.Equal(t, http.StatusBadRequest, code, q)
	}
	code, _ = call(http.MethodGet, "/v1/operator-actions", "bil")
	require.Equal(t, http.StatusUnauthorized, code)
}

// TestDeadLetterTruncated: a letter that keeps only the start of a big
// body shows its whole size and hash, and a replay is refused with 409.
func TestDeadLetterTruncated(t *testing.T) {
	t.Parallel()
	ledger := memory.NewLedger(time.Now)
	sum := strings.Repeat("5e", 32)
	require.NoError(t, ledger.AddDeadLetter(t.Context(), routers.DeadLetter{
		Kind: routers.DeadPoison, Queue: "req", Body: []byte(`{"id":"big"`), Size: 8 << 20, SHA256: sum,
		Error: "body of 8388608 bytes exceeds 262144", Attempts: 1, Fingerprint: "big",
	}))
	srv := httptest.NewServer(openapitest.Wrap(t, httpapi.New(httpapi.Config{
		Access:      testAccess(),
		DeadLetters: routers.NewDeadLetterDesk(ledger, time.Now),
		Gatherer:    prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler),
	})))
	t.Cleanup(srv.Close)
	call := func(method, path string) (int, map[string]any) {
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer operator-secret")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var body map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		return resp.StatusCode, body
	}

	code, body := call(http.MethodGet, "/v1/dead-letters")
	require.Equal(t, http.StatusOK, code)
	listed := body["dead_letters"].([]any)[0].(map[string]any)
	require.EqualValues(t, 8<<20, listed["size"])
	require.Equal(t, true, listed["truncated"])
	code, body = call(http.MethodGet, "/v1/dead-letters/1")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, `{"id":"big"`, body["body"])
	require.Equal(t, sum, body["sha256"])
	require.Equal(t, true, body["truncated"])

	code, body = call(http.MethodPost, "/v1/dead-letters/1/replay")
	require.Equal(t, http.StatusConflict, code)
	require.Contains(t, body["detail"], "cannot be replayed")
	code, body = call(http.MethodGet, "/v1/dead-letters/1")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, string(routers.DeadLetterOpen), body["state"])
	code, _ = call(http.MethodPost, "/v1/dead-letters/1/drop")
	require.Equal(t, http.StatusOK, code)
}
