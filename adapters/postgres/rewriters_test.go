package postgres_test

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/adapters/postgres/postgrestest"
)

// TestRewriter: the tests' superuser could rewrite the record, and so could
// an owner of the tables; a role that may only read and append cannot.
func TestRewriter(t *testing.T) {
	t.Parallel()
	pool := postgrestest.NewPool(t)
	why, err := postgres.Rewriter(t.Context(), pool)
	require.NoError(t, err)
	require.Contains(t, why, "superuser")

	conn, err := pool.Acquire(t.Context())
	require.NoError(t, err)
	defer conn.Release()
	for _, tc := range []struct {
		grant, want string
	}{
		{"GRANT SELECT, INSERT ON status_history TO %s", ""},
		{"ALTER TABLE status_history OWNER TO %s", "owns the history tables"},
	} {
		role := "korpu_test_" + uuid.NewString()[:8]
		for _, sql := range []string{"CREATE ROLE " + role, fmt.Sprintf(tc.grant, role), "SET ROLE " + role} {
			_, err := conn.Exec(t.Context(), sql)
			require.NoError(t, err, sql)
		}
		why, err := postgres.Rewriter(t.Context(), conn)
		require.NoError(t, err)
		if tc.want == "" {
			require.Empty(t, why)
		} else {
			require.Contains(t, why, tc.want)
		}
		for _, sql := range []string{"RESET ROLE", "ALTER TABLE status_history OWNER TO CURRENT_USER", "DROP OWNED BY " + role, "DROP ROLE " + role} {
			_, err := conn.Exec(t.Context(), sql)
			require.NoError(t, err, sql)
		}
	}
}
