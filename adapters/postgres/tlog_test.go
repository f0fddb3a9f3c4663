package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"github.com/transparency-dev/merkle/proof"

	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/adapters/postgres/postgrestest"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/tlog"
)

// logWritten is when logWriter's events happened.
var logWritten = time.Date(2026, 11, 27, 10, 0, 0, 0, routers.Baku)

// logWriter registers appeals with a chain of events through ledger.
func logWriter(ctx context.Context, t *testing.T, ledger *postgres.Ledger, name string, appeals, events int) {
	t.Helper()
	registered, at := logWritten, logWritten.Format(time.RFC3339)
	for i := range appeals {
		draft := routers.Appeal{
			RequestID: fmt.Sprintf("%s-%d", name, i), District: "AZ-BIL", Service: "appeal", FIN: "5ZJ7K2M",
			Status: routers.StatusRegistered, Sequence: 1, RegisteredAt: registered, Deadline: "2026-12-18",
			Request: []byte(`{}`), Delivery: routers.Delivery{State: routers.DeliveryPending},
		}
		a, err := ledger.Register(ctx, draft, nil,
			func(seq int) string { return routers.FormatAppealNumber("AZ-BIL", 2026, seq) },
			func(a routers.Appeal) routers.Effects {
				return routers.Effects{Events: []routers.StatusEvent{{EventID: a.RequestID, AppealNumber: a.Number, Sequence: 1, Status: a.Status, At: at}}}
			})
		require.NoError(t, err)
		for seq := 2; seq <= events; seq++ {
			require.NoError(t, ledger.UpdateAppeal(ctx, a.Number, func(stored *routers.Appeal) (routers.Effects, error) {
				stored.Sequence = seq
				return routers.Effects{Events: []routers.StatusEvent{{EventID: fmt.Sprint(a.RequestID, seq), AppealNumber: a.Number, Sequence: seq, Status: routers.StatusInProgress, At: at}}}, nil
			}))
		}
	}
}

// historyTree recomputes the tree from the history rows' hashes in the
// log's leaf order, checking the log is contiguous and covers every row.
func historyTree(ctx context.Context, t *testing.T, pool *pgxpool.Pool) *tlog.Tree {
	t.Helper()
	var rows, leaves, maxIndex, pending int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM status_history), (SELECT count(*) FROM log_leaves),
		(SELECT coalesce(max(leaf_index), -1) FROM log_leaves), (SELECT count(*) FROM log_pending)`).Scan(&rows, &leaves, &maxIndex, &pending))
	require.Equal(t, rows, leaves, "every history row has a leaf")
	require.Equal(t, leaves-1, maxIndex, "leaf indexes are contiguous from 0")
	require.Zero(t, pending)
	hashes, err := pool.Query(ctx, `SELECT h.hash FROM log_leaves l JOIN status_history h USING (appeal_number, sequence) ORDER BY l.leaf_index`)
	require.NoError(t, err)
	defer hashes.Close()
	tree := tlog.Empty()
	for hashes.Next() {
		var h []byte
		require.NoError(t, hashes.Scan(&h))
		require.NoError(t, tree.Append(tlog.LeafHash(h), nil))
	}
	require.NoError(t, hashes.Err())
	return tree
}

// testSigner is a new log key's signer and the checkpoint message of it.
func testSigner(t *testing.T) (*tlog.Signer, func(tlog.Checkpoint) routers.OutboxMessage) {
	t.Helper()
	skey, _, err := tlog.GenerateKey("korpu.test/log")
	require.NoError(t, err)
	signer, err := tlog.NewSigner(skey)
	require.NoError(t, err)
	return signer, func(cp tlog.Checkpoint) routers.OutboxMessage {
		return routers.CheckpointMessage("checkpoints", signer.Origin(), cp)
	}
}

// TestLogTwoSequencersManyWriters: four writers in two processes commit
// while both processes' sequencers run; the log ends contiguous, each event
// once, and its checkpoint's root is the tree recomputed from the history.
func TestLogTwoSequencersManyWriters(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := postgrestest.NewDatabase(t)
	var (
		ledgers [2]*postgres.Ledger
		pools   [2]*pgxpool.Pool
	)
	for i := range ledgers {
		pool, err := postgres.Open(ctx, url+"&pool_max_conns=4")
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		if i == 0 {
			require.NoError(t, postgres.Migrate(ctx, pool, quietLogger()))
		}
		pools[i], ledgers[i] = pool, postgres.NewLedger(pool, time.Now)
	}
	var (
		writers   sync.WaitGroup
		done      atomic.Bool
		sequencer sync.WaitGroup
		appended  [2]atomic.Int64
	)
	for w := range 4 {
		writers.Go(func() { logWriter(ctx, t, ledgers[w%2], fmt.Sprint("w", w), 8, 3) })
	}
	for i, l := range ledgers {
		sequencer.Go(func() {
			for {
				finished := done.Load() // read before the round: the round after the writers is a full one
				n, err := l.SequenceLog(ctx, 7)
				if err != nil {
					t.Error(err)
					return
				}
				appended[i].Add(int64(n))
				if finished && n == 0 {
					return
				}
			}
		})
	}
	writers.Wait()
	done.Store(true)
	sequencer.Wait()
	// One sequencer may have found the other holding the lock at the end.
	for {
		n, err := ledgers[0].SequenceLog(ctx, 100)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}
	require.Equal(t, int64(4*8*3), appended[0].Load()+appended[1].Load()+0, "each event appended once")

	tree := historyTree(ctx, t, pools[0])
	require.Equal(t, uint64(4*8*3), tree.Size())
	skey, _, err := tlog.GenerateKey("korpu.test/log")
	require.NoError(t, err)
	signer, err := tlog.NewSigner(skey)
	require.NoError(t, err)
	message := func(cp tlog.Checkpoint) routers.OutboxMessage {
		return routers.CheckpointMessage("checkpoints", signer.Origin(), cp)
	}
	// Both processes try at once: one checkpoint.
	var signed atomic.Int32
	var both sync.WaitGroup
	for _, l := range ledgers {
		both.Go(func() {
			_, ok, err := l.Checkpoint(ctx, time.Now().Add(-time.Minute), signer.Sign, message)
			if err != nil {
				t.Error(err)
			}
			if ok {
				signed.Add(1)
			}
		})
	}
	both.Wait()
	require.Equal(t, int32(1), signed.Load())
	cp, err := ledgers[1].LatestCheckpoint(ctx)
	require.NoError(t, err)
	require.Equal(t, tree.Size(), cp.Size)
	require.Equal(t, tree.Root(), cp.Root)

	// Every event's proof verifies against it.
	proofs := routers.LogProofs{Ledger: ledgers[1]}
	rows, err := pools[0].Query(ctx, `SELECT appeal_number, sequence, hash FROM status_history`)
	require.NoError(t, err)
	type ev struct {
		number string
		seq    int
		hash   []byte
	}
	var evs []ev
	for rows.Next() {
		var e ev
		require.NoError(t, rows.Scan(&e.number, &e.seq, &e.hash))
		evs = append(evs, e)
	}
	require.NoError(t, rows.Err())
	for _, e := range evs {
		p, err := proofs.Inclusion(ctx, e.number, e.seq, 0)
		require.NoError(t, err)
		require.NoError(t, proof.VerifyInclusion(tlog.Hasher, p.LeafIndex, cp.Size, tlog.LeafHash(e.hash), p.Proof, cp.Root), "%s/%d", e.number, e.seq)
	}
}

// TestLogTablesAppendOnly: the log's rows can be neither changed nor
// removed, even by the superuser the tests connect as (the triggers); the
// queue's rows can be deleted.
func TestLogTablesAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := postgrestest.NewPool(t)
	ledger := postgres.NewLedger(pool, time.Now)
	logWriter(ctx, t, ledger, "w", 2, 2)
	_, err := pool.Exec(ctx, `DELETE FROM log_pending WHERE id = (SELECT max(id) FROM log_pending)`)
	require.NoError(t, err, "the queue is work: its rows go")
	_, err = ledger.SequenceLog(ctx, 100)
	require.NoError(t, err)
	skey, _, err := tlog.GenerateKey("korpu.test/log")
	require.NoError(t, err)
	signer, err := tlog.NewSigner(skey)
	require.NoError(t, err)
	_, ok, err := ledger.Checkpoint(ctx, time.Now().Add(-time.Minute), signer.Sign, func(cp tlog.Checkpoint) routers.OutboxMessage {
		return routers.CheckpointMessage("checkpoints", signer.Origin(), cp)
	})
	require.NoError(t, err)
	require.True(t, ok)
	for _, stmt := range []string{
		`UPDATE log_leaves SET leaf_hash = sha256('x') WHERE leaf_index = 0`,
		`DELETE FROM log_leaves WHERE leaf_index = 0`,
		`TRUNCATE log_leaves`,
		`UPDATE log_nodes SET hash = sha256('x')`,
		`DELETE FROM log_nodes`,
		`UPDATE log_checkpoints SET note = 'x'`,
		`DELETE FROM log_checkpoints`,
		`TRUNCATE log_checkpoints`,
	} {
		_, err := pool.Exec(ctx, stmt)
		require.ErrorContains(t, err, "append-only", stmt)
	}
	var grants int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.role_table_grants
		WHERE table_name IN ('log_leaves', 'log_nodes', 'log_checkpoints') AND privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')
		AND grantee IN (current_user, 'PUBLIC')`).Scan(&grants))
	require.Zero(t, grants, "UPDATE, DELETE and TRUNCATE revoked")
	var queueGrants []string
	require.NoError(t, pool.QueryRow(ctx, `SELECT coalesce(array_agg(privilege_type::text ORDER BY privilege_type), '{}')
		FROM information_schema.role_table_grants
		WHERE table_name = 'log_pending' AND grantee IN (current_user, 'PUBLIC')`).Scan(&queueGrants))
	require.NotContains(t, queueGrants, "UPDATE", "the queue's rows are not rewritten")
	require.NotContains(t, queueGrants, "TRUNCATE")
	require.Contains(t, queueGrants, "DELETE", "the sequencer deletes what it appended")
}

// TestLogBadQueueRowIsPermanent: a queued event already in the log (a
// row queued twice) fails sequencing the same way every time: the ledger
// says so, for the hub to report it once rather than retry quietly.
func TestLogBadQueueRowIsPermanent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := postgrestest.NewPool(t)
	ledger := postgres.NewLedger(pool, time.Now)
	logWriter(ctx, t, ledger, "w", 1, 1)
	_, err := pool.Exec(ctx, `INSERT INTO log_pending (appeal_number, sequence) SELECT appeal_number, sequence FROM log_pending`)
	require.NoError(t, err)
	for range 2 {
		_, err = ledger.SequenceLog(ctx, 100)
		require.True(t, routers.IsPermanent(err), "%v", err)
	}
}

// TestLogAuditNamesTampering: a clean log audits clean; a leaf dropped by
// a superuser with the triggers off is named with its event, an event
// rewritten with a recomputed chain hash (which the chain walk cannot see)
// is named by its leaf, and a copy of a checkpoint whose signature was
// altered is refused.
func TestLogAuditNamesTampering(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := postgrestest.NewPool(t)
	ledger := postgres.NewLedger(pool, time.Now)
	signer, message := testSigner(t)
	var copies = map[string][]byte{}
	for round := range 2 {
		logWriter(ctx, t, ledger, fmt.Sprint("r", round), 3, 2)
		_, err := ledger.SequenceLog(ctx, 100)
		require.NoError(t, err)
		cp, ok, err := ledger.Checkpoint(ctx, time.Now().Add(time.Hour), signer.Sign, message) // due whatever the last one's time
		require.NoError(t, err)
		require.True(t, ok)
		copies[fmt.Sprint("monitor-", round)] = cp.Note
	}
	report, err := routers.AuditLog(ctx, ledger, signer.Verifier(), copies, routers.LogClock{})
	require.NoError(t, err)
	require.Empty(t, report.Problems)
	require.Equal(t, uint64(12), report.Leaves)
	require.Equal(t, 2, report.Checkpoints)
	require.Equal(t, int64(-1), report.FirstBadLeaf)

	var number string
	var sequence int
	require.NoError(t, pool.QueryRow(ctx, `SELECT appeal_number, sequence FROM log_leaves WHERE leaf_index = 4`).Scan(&number, &sequence))
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `SET session_replication_role = replica`) // a superuser turns the triggers off
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `DELETE FROM log_leaves WHERE leaf_index = 4`)
	require.NoError(t, err)
	// A cleverer forger rewrites an appeal's latest event and recomputes
	// its chain hash: the chain walks clean, the log does not.
	var (
		forgedNumber        string
		forgedSeq, forgedAt int
		prev                []byte
		edited              string
	)
	require.NoError(t, conn.QueryRow(ctx, `
		SELECT h.appeal_number, h.sequence, l.leaf_index, p.hash, jsonb_set(h.event, '{status}', '"answered"')::text
		FROM status_history h JOIN log_leaves l USING (appeal_number, sequence)
		JOIN status_history p ON p.appeal_number = h.appeal_number AND p.sequence = h.sequence - 1
		WHERE h.sequence = (SELECT max(sequence) FROM status_history x WHERE x.appeal_number = h.appeal_number) AND l.leaf_index > 4
		ORDER BY l.leaf_index LIMIT 1`).Scan(&forgedNumber, &forgedSeq, &forgedAt, &prev, &edited))
	canonical, err := routers.CanonicalJSON([]byte(edited))
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `UPDATE status_history SET event = $3::jsonb, hash = $4 WHERE appeal_number = $1 AND sequence = $2`,
		forgedNumber, forgedSeq, edited, routers.ChainHash(forgedNumber, forgedSeq, prev, canonical))
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `RESET session_replication_role`)
	require.NoError(t, err)
	conn.Release()

	var chains routers.ChainVerifier
	var breaks []routers.ChainBreak
	require.NoError(t, ledger.WalkHistory(ctx, func(e routers.StoredEvent) error {
		breaks = append(breaks, chains.Add(e)...)
		return nil
	}))
	require.Empty(t, append(breaks, chains.Close()...), "the forged event's chain verifies: only the log tells")

	altered := bytes.Clone(copies["monitor-1"])
	altered[len(altered)-10] ^= 0x01 // in the signature's base64
	copies["altered"] = altered
	report, err = routers.AuditLog(ctx, ledger, signer.Verifier(), copies, routers.LogClock{})
	require.NoError(t, err)
	require.Equal(t, int64(4), report.FirstBadLeaf)
	require.Equal(t, routers.EventRef{AppealNumber: number, Sequence: sequence}, report.FirstBadRef)
	joined := strings.Join(report.Problems, "\n")
	require.Contains(t, joined, "leaf 4 missing")
	require.Contains(t, joined, fmt.Sprintf("appeal %s sequence %d: in the history, neither in the log nor queued", number, sequence))
	require.Contains(t, joined, "checkpoint copy altered: checkpoint refused")
	require.Contains(t, joined, "checkpoint 6: its root is not the root recomputed from the leaves")
	require.Contains(t, joined, fmt.Sprintf("leaf %d (appeal %s sequence %d): differs from its history row's hash", forgedAt, forgedNumber, forgedSeq))
}

// TestLogCheckpointRefusesRewrittenNodes: a node below the last checkpoint
// rewritten by a superuser with the triggers off changes the root the
// stored nodes give; the checkpointer refuses to sign it, for good.
func TestLogCheckpointRefusesRewrittenNodes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := postgrestest.NewPool(t)
	ledger := postgres.NewLedger(pool, time.Now)
	signer, message := testSigner(t)
	checkpoint := func() (tlog.Checkpoint, bool, error) {
		return ledger.Checkpoint(ctx, time.Now().Add(time.Hour), signer.Sign, message) // due whatever the last one's time
	}
	logWriter(ctx, t, ledger, "a", 2, 2)
	_, err := ledger.SequenceLog(ctx, 100)
	require.NoError(t, err)
	cp, ok, err := checkpoint()
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, uint64(4), cp.Size)
	logWriter(ctx, t, ledger, "b", 1, 2)
	_, err = ledger.SequenceLog(ctx, 100)
	require.NoError(t, err)

	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `SET session_replication_role = replica`) // a superuser's way round triggers
	require.NoError(t, err)
	tag, err := conn.Exec(ctx, `UPDATE log_nodes SET hash = sha256('forged') WHERE level = 2 AND node_index = 0`) // the first 4 leaves' root
	require.NoError(t, err)
	require.Equal(t, int64(1), tag.RowsAffected())
	_, err = conn.Exec(ctx, `RESET session_replication_role`)
	require.NoError(t, err)
	conn.Release()

	_, ok, err = checkpoint()
	require.ErrorIs(t, err, routers.ErrLogInconsistent)
	require.True(t, routers.IsPermanent(err))
	require.False(t, ok)
	latest, err := ledger.LatestCheckpoint(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(4), latest.Size, "nothing signed over the rewritten node")
}

// TestLogAuditNamesLeavesNoCheckpointCovers: the newest checkpoints
// removed, the leaves past the kept one are covered by no signature; the
// audit says so once the kept one is older than two intervals and the
// slack, and so with no checkpoint at all once the first leaf's event is.
func TestLogAuditNamesLeavesNoCheckpointCovers(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := postgrestest.NewPool(t)
	signedAt := logWritten.Add(time.Hour)
	ledger := postgres.NewLedger(pool, func() time.Time { return signedAt })
	signer, message := testSigner(t)
	logWriter(ctx, t, ledger, "w", 2, 2)
	_, err := ledger.SequenceLog(ctx, 100)
	require.NoError(t, err)
	audit := func(now time.Time) []string {
		t.Helper()
		report, err := routers.AuditLog(ctx, ledger, signer.Verifier(), nil, routers.LogClock{Now: now, Interval: time.Minute})
		require.NoError(t, err)
		return report.Problems
	}
	require.Empty(t, audit(logWritten.Add(2*time.Minute)), "the hub has not had its intervals yet")
	require.Equal(t, []string{"leaves 0..3 are covered by no checkpoint: the first is an event of 2026-11-27T06:00:00Z, older than 3m0s; " +
		"the checkpoints were removed, or the hub never signed"}, audit(logWritten.Add(4*time.Minute)))

	_, ok, err := ledger.Checkpoint(ctx, signedAt, signer.Sign, message)
	require.NoError(t, err)
	require.True(t, ok)
	logWriter(ctx, t, ledger, "x", 1, 2)
	_, err = ledger.SequenceLog(ctx, 100)
	require.NoError(t, err)
	require.Empty(t, audit(signedAt.Add(3*time.Minute)), "leaves past a checkpoint of the last intervals are the hub's work")
	require.Equal(t, []string{"leaves 4..5 are covered by no checkpoint younger than 3m0s: the latest kept, of size 4, was signed at " +
		"2026-11-27T07:00:00Z; newer checkpoints were removed, or the hub stopped signing"}, audit(signedAt.Add(3*time.Minute+time.Second)))
	report, err := routers.AuditLog(ctx, ledger, signer.Verifier(), nil, routers.LogClock{})
	require.NoError(t, err)
	require.Empty(t, report.Problems, "no interval, no such check")
}
