package memory

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// TestOversightNewDeadlineArmsAgain: a crossing is claimed for the deadline
// it was computed for; when the deadline moves (an extension), the appeal
// is watched again from no crossing at all.
func TestOversightNewDeadlineArmsAgain(t *testing.T) {
	t.Parallel()
	l := NewLedger(func() time.Time { return time.Date(2026, 4, 1, 9, 0, 0, 0, routers.Baku) })
	const number = "AZ-BIL-2026-000001"
	l.appeals[number] = &routers.Appeal{Number: number, District: "AZ-BIL", Service: "appeal", Status: routers.StatusInProgress, Deadline: "2026-03-31"}
	claim := func(today, dueSoonBy string) []routers.OversightKind {
		t.Helper()
		claimed, err := l.ClaimCrossings(t.Context(), today, dueSoonBy, 10, func(routers.Crossing) routers.OutboxMessage {
			return routers.OutboxMessage{Topic: "oversight", UUID: uuid.NewString()}
		})
		require.NoError(t, err)
		var kinds []routers.OversightKind
		for _, c := range claimed {
			kinds = append(kinds, c.Kind)
		}
		return kinds
	}
	require.Equal(t, []routers.OversightKind{routers.OversightOverdue}, claim("2026-04-01", "2026-04-06"))
	require.Empty(t, claim("2026-04-01", "2026-04-06"))

	l.appeals[number].Deadline = "2026-04-13" // extended
	require.Empty(t, claim("2026-04-01", "2026-04-06"), "the new deadline is not near yet")
	require.Equal(t, []routers.OversightKind{routers.OversightDueSoon}, claim("2026-04-08", "2026-04-13"))
	require.Equal(t, []routers.OversightKind{routers.OversightOverdue}, claim("2026-04-14", "2026-04-17"))
	require.Empty(t, claim("2026-04-14", "2026-04-17"))
}
