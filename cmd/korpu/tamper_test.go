package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestAuditVerifyNamesTampering builds a ledger with real traffic through
// the hub, checks that `korpu audit verify` passes it, then rewrites
// history as a superuser who switched the append-only trigger off: one
// appeal's event gets an earlier time, another appeal loses an event.
// verify names both, appeal and sequence, and exits non-zero.
func TestAuditVerifyNamesTampering(t *testing.T) {
	t.Parallel()
	s := newStack(t, "AZ-BIL")
	e := s.publishGenerated(s.generatorWith(7, 0, 0), 12)
	s.startHub()
	waitFor(t, 2*time.Minute, "every appeal answered", func() bool { return s.answered(e) == len(e.valid) })

	out, err := s.auditVerify()
	require.NoError(t, err, "%s", out)
	require.Contains(t, out, "history chains: ")
	require.Contains(t, out, "verified: the record matches")

	var numbers []string
	for id := range e.valid {
		numbers = append(numbers, s.tracker.Request(id)[0].AppealNumber)
	}
	require.GreaterOrEqual(t, len(numbers), 2)
	edited, deleted := numbers[0], numbers[1]

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	const edit = `UPDATE status_history SET event = jsonb_set(event, '{at}', '"2026-01-05T09:00:00+04:00"') WHERE appeal_number = $1 AND sequence = 2`
	_, err = conn.Exec(ctx, edit, edited)
	require.ErrorContains(t, err, "append-only", "the trigger stands in the way")
	_, err = conn.Exec(ctx, `SET session_replication_role = replica`) // a superuser's way round triggers
	require.NoError(t, err)
	tag, err := conn.Exec(ctx, edit, edited)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())
	tag, err = conn.Exec(ctx, `DELETE FROM status_history WHERE appeal_number = $1 AND sequence = 2`, deleted)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())

	out, err = s.auditVerify()
	t.Logf("korpu audit verify after the tampering:\n%s", out)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	require.NotZero(t, exit.ExitCode())
	require.Contains(t, out, "MISMATCH history chains: appeal "+edited+" sequence 2: altered")
	require.Contains(t, out, "MISMATCH history chains: appeal "+deleted+" sequence 2: missing")
	require.Contains(t, out, "2 mismatches")
	require.Equal(t, 2, strings.Count(out, "MISMATCH"), "the first break of each appeal, nothing else:\n%s", out)
}

// auditVerify runs `korpu audit verify` on the stack's config.
func (s *stack) auditVerify() (string, error) {
	cmd := exec.Command(korpuBinary, "audit", "verify", "--config", s.config)
	cmd.Env = append(os.Environ(), "KORPU_PORTAL_KEY="+portalKey, "KORPU_REGISTRY_TOKEN="+registryToken, "KORPU_LOG_LEVEL=error")
	out, err := cmd.CombinedOutput()
	return string(out), err
}
