package httpapi

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/access"
	"github.com/korpu-az/korpu/adapters/memory"
	"github.com/korpu-az/korpu/routers"
)

// TestResolveNeedsAnOperator: the replay and drop handlers act only for an
// operator the request's context names, and record that operator's name;
// nobody, or a monitor, is refused and nothing is done or recorded.
func TestResolveNeedsAnOperator(t *testing.T) {
	t.Parallel()
	ledger := memory.NewLedger(time.Now)
	require.NoError(t, ledger.AddDeadLetter(t.Context(), routers.DeadLetter{
		Kind: routers.DeadPoison, Queue: "req", Body: []byte(`{}`), Error: "bad", Attempts: 1, Fingerprint: "a",
	}))
	desk := routers.NewDeadLetterDesk(ledger, time.Now)
	a := &api{cfg: Config{DeadLetters: desk, Logger: slog.New(slog.DiscardHandler)}}
	replay := a.resolveDeadLetter(desk.Replay)
	call := func(party *access.Party) int {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/v1/dead-letters/1/replay", nil)
		req.SetPathValue("id", "1")
		if party != nil {
			req = req.WithContext(access.WithParty(req.Context(), *party))
		}
		rec := httptest.NewRecorder()
		replay(rec, req)
		return rec.Code
	}
	require.Equal(t, http.StatusUnauthorized, call(nil))
	require.Equal(t, http.StatusForbidden, call(&access.Party{Name: "watcher", Role: access.RoleMonitor}))
	require.Equal(t, http.StatusForbidden, call(&access.Party{Name: "", Role: access.RoleOperator}), "a name the record cannot keep")
	dl, err := desk.Show(t.Context(), 1)
	require.NoError(t, err)
	require.Equal(t, routers.DeadLetterOpen, dl.State, "nothing done")
	actions, err := desk.Actions(t.Context(), 0, 10)
	require.NoError(t, err)
	require.Empty(t, actions, "nothing recorded")

	require.Equal(t, http.StatusOK, call(&access.Party{Name: "Aysel", Role: access.RoleOperator}))
	actions, err = desk.Actions(t.Context(), 0, 10)
	require.NoError(t, err)
	require.Len(t, actions, 1)
	require.Equal(t, routers.Operator{Name: "Aysel", Role: "operator", Channel: routers.ChannelAPI}, actions[0].Operator)
	require.Equal(t, routers.OutcomeDone, actions[0].Outcome)
}
