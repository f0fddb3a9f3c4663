package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"github.com/transparency-dev/merkle/proof"

	"github.com/korpu-az/korpu/adapters/amqp"
	"github.com/korpu-az/korpu/routers/tlog"
)

// TestTransparencyLogAcrossHubs runs two hub processes with the log on:
// every history event joins one log, the hubs between them sign one
// checkpoint per interval and publish each to the checkpoints queue (real
// RabbitMQ), the API serves the latest and proves events in it, and
// `korpu audit verify` passes the log with a monitor's copy. Then a
// superuser with the triggers off drops a leaf, edits one appeal's event
// and deletes another's: verify names each, and refuses a copy whose
// signature was altered.
func TestTransparencyLogAcrossHubs(t *testing.T) {
	t.Parallel()
	skey, vkey, err := tlog.GenerateKey("korpu.e2e/log")
	require.NoError(t, err)
	verifier, err := tlog.NewVerifier(vkey)
	require.NoError(t, err)
	s := newStackWith(t, stackOptions{
		codes: []string{"AZ-BIL"}, hubs: 2, checkpointKey: skey,
		hubTuning: "retry_initial: 100ms, retry_max: 1s, checkpoint_interval: 1s",
	})
	published := subscribeCheckpoints(t, s.topology, s.topics.Checkpoints)
	s.startHubAt(0)
	s.startHubAt(1)
	e := s.publishGenerated(s.generatorWith(11, 0, 0), 10)
	waitFor(t, 2*time.Minute, "every appeal answered", func() bool { return s.answered(e) == len(e.valid) })

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var events uint64
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM status_history`).Scan(&events))
	var latest tlog.Checkpoint
	waitFor(t, time.Minute, "a published checkpoint of the whole history", func() bool {
		notes := published()
		if len(notes) == 0 {
			return false
		}
		cp, err := verifier.Open(notes[len(notes)-1])
		require.NoError(t, err)
		latest = cp
		return cp.Size == events
	})
	var last uint64
	for _, note := range published() {
		cp, err := verifier.Open(note)
		require.NoError(t, err, "every published checkpoint is signed by the log's key")
		require.Greater(t, cp.Size, last, "one checkpoint per size and interval across the hubs, growing")
		last = cp.Size
	}

	code, served := s.apiBytes("/v1/log/checkpoint", e2eMonitorToken, "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, latest.Note, served)
	var number string
	require.NoError(t, conn.QueryRow(ctx, `SELECT appeal_number FROM status_history ORDER BY appeal_number LIMIT 1`).Scan(&number))
	var p struct {
		LeafIndex uint64   `json:"leaf_index"`
		LeafHash  []byte   `json:"leaf_hash"`
		Proof     [][]byte `json:"proof"`
	}
	require.Equal(t, http.StatusOK, s.apiGet("/v1/log/proof?number="+number+"&sequence=1", e2ePortalToken, "", &p))
	require.NoError(t, proof.VerifyInclusion(tlog.Hasher, p.LeafIndex, latest.Size, p.LeafHash, p.Proof, latest.Root))

	dir := t.TempDir()
	good := filepath.Join(dir, "monitor.note")
	require.NoError(t, os.WriteFile(good, latest.Note, 0o600))
	out, err := s.auditVerifyWith("--checkpoint", good)
	require.NoError(t, err, "%s", out)
	require.Contains(t, out, fmt.Sprintf("transparency log: %d leaves", events))
	require.Contains(t, out, "verified: the record matches")

	altered := filepath.Join(dir, "altered.note")
	require.NoError(t, os.WriteFile(altered, alterSignature(t, latest.Note), 0o600))
	var dropNumber string
	var dropSequence int
	require.NoError(t, conn.QueryRow(ctx, `SELECT appeal_number, sequence FROM log_leaves WHERE leaf_index = 3`).Scan(&dropNumber, &dropSequence))
	_, err = conn.Exec(ctx, `DELETE FROM log_leaves WHERE leaf_index = 3`)
	require.ErrorContains(t, err, "append-only", "the trigger stands in the way")
	_, err = conn.Exec(ctx, `SET session_replication_role = replica`) // a superuser's way round triggers
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `DELETE FROM log_leaves WHERE leaf_index = 3`)
	require.NoError(t, err)
	// The whole tamper: also one appeal's event gets an earlier
	// time, and another appeal's latest event is deleted.
	var edited, deleted string
	var deletedSeq, deletedLeaf int
	require.NoError(t, conn.QueryRow(ctx, `SELECT appeal_number FROM status_history WHERE sequence = 2 AND appeal_number <> $1
		ORDER BY appeal_number LIMIT 1`, dropNumber).Scan(&edited))
	require.NoError(t, conn.QueryRow(ctx, `SELECT appeal_number, sequence, leaf_index FROM log_leaves
		WHERE appeal_number NOT IN ($1, $2) ORDER BY leaf_index DESC LIMIT 1`, dropNumber, edited).Scan(&deleted, &deletedSeq, &deletedLeaf))
	tag, err := conn.Exec(ctx, `UPDATE status_history SET event = jsonb_set(event, '{at}', '"2026-01-05T09:00:00+04:00"')
		WHERE appeal_number = $1 AND sequence = 2`, edited)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())
	tag, err = conn.Exec(ctx, `DELETE FROM status_history WHERE appeal_number = $1 AND sequence = $2`, deleted, deletedSeq)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())

	out, err = s.auditVerifyWith("--checkpoint", good, "--checkpoint", altered)
	t.Logf("korpu audit verify after the tampering:\n%s", out)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	require.Contains(t, out, fmt.Sprintf("MISMATCH transparency log: first bad leaf 3 (appeal %s sequence %d)", dropNumber, dropSequence))
	require.Contains(t, out, "MISMATCH transparency log: checkpoint copy altered.note: checkpoint refused: failed to verify signatures on checkpoint: invalid signature")
	require.Contains(t, out, "MISMATCH history chains: appeal "+edited+" sequence 2: altered")
	require.Contains(t, out, "MISMATCH history chains: appeal "+deleted+" ")
	require.Contains(t, out, fmt.Sprintf("MISMATCH transparency log: leaf %d (appeal %s sequence %d): no history row with a hash", deletedLeaf, deleted, deletedSeq))
}

// alterSignature flips one bit of a signed note's signature, as a forger
// would (re-encoded, so the note still parses).
func alterSignature(t *testing.T, note []byte) []byte {
	t.Helper()
	lines := bytes.Split(bytes.TrimSuffix(note, []byte("\n")), []byte("\n"))
	sig := lines[len(lines)-1] // "— origin base64(key hash, signature)"
	at := bytes.LastIndexByte(sig, ' ')
	raw, err := base64.StdEncoding.DecodeString(string(sig[at+1:]))
	require.NoError(t, err)
	raw[len(raw)-1] ^= 0x01
	lines[len(lines)-1] = append(bytes.Clone(sig[:at+1]), base64.StdEncoding.EncodeToString(raw)...)
	return append(bytes.Join(lines, []byte("\n")), '\n')
}

// subscribeCheckpoints consumes the checkpoints queue until the test ends
// and returns the notes received so far.
func subscribeCheckpoints(t *testing.T, topo *amqp.Topology, queue string) func() [][]byte {
	t.Helper()
	sub, err := amqp.NewSubscriber(amqp.Config{URL: amqpURL(), Topology: topo}, watermill.NopLogger{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); _ = sub.Close() })
	msgs, err := sub.Subscribe(ctx, queue)
	require.NoError(t, err)
	var (
		mu   sync.Mutex
		seen [][]byte
	)
	go func() {
		for msg := range msgs {
			mu.Lock()
			seen = append(seen, bytes.Clone(msg.Payload))
			mu.Unlock()
			msg.Ack()
		}
	}()
	return func() [][]byte {
		mu.Lock()
		defer mu.Unlock()
		return append([][]byte(nil), seen...)
	}
}

// auditVerifyWith runs `korpu audit verify` on the stack's config with args.
func (s *stack) auditVerifyWith(args ...string) (string, error) {
	cmd := exec.Command(korpuBinary, append([]string{"audit", "verify", "--config", s.config}, args...)...) //nolint:gosec // G204: the test's own binary
	cmd.Env = append(os.Environ(), "KORPU_PORTAL_KEY="+portalKey, "KORPU_REGISTRY_TOKEN="+registryToken, "KORPU_LOG_LEVEL=error")
	out, err := cmd.CombinedOutput()
	return string(out), err
}
