package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/routers"
)

// TestHostileIntake publishes what anyone on the broker could, through the
// real binary, broker and database: a signed request with a NUL in its text
// gets one invalid event; 20 distinct 1 MiB bodies with bad signatures grow
// the database by less than 2 MiB; the same bytes under new message ids
// keep their one letter; a truncated letter cannot be replayed.
func TestHostileIntake(t *testing.T) {
	t.Parallel()
	s := newStack(t, "AZ-BIL")
	s.startHub()

	m := s.generatorWith(8, -1, -1).Next() // a valid request
	var req map[string]any
	require.NoError(t, json.Unmarshal(m.Body, &req))
	req["appeal"].(map[string]any)["text"] = "İçməli su\x00 yoxdur"
	m.Body, _ = json.Marshal(req)
	m.Signature = routers.Sign([]byte(portalKey), m.Body)
	s.publish(m)
	barrier := s.generatorWith(9, -1, -1).Next()
	s.publish(barrier)
	waitFor(t, 30*time.Second, "the invalid event and a later registration", func() bool {
		return len(s.tracker.Request(m.ID)) > 0 && len(s.tracker.Request(barrier.ID)) > 0
	})
	evs := distinctByEventID(s.tracker.Request(m.ID))
	require.Len(t, evs, 1)
	require.Equal(t, routers.StatusInvalid, evs[0].Status)
	require.Equal(t, "appeal.text", evs[0].Errors[0].Field)

	pool, err := postgres.Open(t.Context(), s.dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	dbSize := func() int64 {
		var n int64
		require.NoError(t, pool.QueryRow(t.Context(), `SELECT pg_database_size(current_database())`).Scan(&n))
		return n
	}
	before := dbSize()
	const n, size = 20, 1 << 20
	bodies := make([][]byte, n)
	for i := range bodies {
		random := make([]byte, size*3/4)
		_, err := rand.Read(random)
		require.NoError(t, err)
		bodies[i] = []byte(base64.StdEncoding.EncodeToString(random)) // 1 MiB that does not compress
		bad := m
		bad.Body, bad.Signature = bodies[i], routers.Sign([]byte("not the portal's key"), bodies[i])
		s.publish(bad)
	}
	waitFor(t, time.Minute, "20 poison letters", func() bool { return len(s.deadLetters(routers.DeadPoison)) == n })
	grown := dbSize() - before
	t.Logf("%d distinct %d-byte bad-signature messages grew the database by %d bytes (%.2f MiB)", n, size, grown, float64(grown)/(1<<20))
	require.Less(t, grown, int64(2<<20))

	for range 5 {
		again := m
		again.Body, again.Signature = bodies[0], routers.Sign([]byte("not the portal's key"), bodies[0])
		s.publish(again) // a new message id each time
	}
	waitFor(t, 30*time.Second, "five repeats absorbed", func() bool {
		return strings.Contains(scrapeMetrics(t, s.hubAddr), `korpu_poison_letters_total{outcome="repeat"} 5`)
	})
	letters := s.deadLetters(routers.DeadPoison)
	require.Len(t, letters, n, "repeats keep one letter")
	sums := map[string]bool{}
	for _, dl := range letters {
		require.Len(t, dl.Body, routers.MaxDeadLetterBody)
		require.EqualValues(t, size, dl.Size)
		require.True(t, dl.Truncated())
		require.Contains(t, dl.Error, "exceeds", "the size is checked before the signature")
		sums[dl.SHA256] = true
	}
	for _, body := range bodies {
		sum := sha256.Sum256(body)
		require.True(t, sums[hex.EncodeToString(sum[:])], "each letter carries its whole body's hash")
	}

	cmd := exec.Command(korpuBinary, "dlq", "replay", "--config", s.config, strconv.FormatInt(letters[0].ID, 10))
	cmd.Env = append(os.Environ(), "KORPU_PORTAL_KEY="+portalKey, "KORPU_REGISTRY_TOKEN="+registryToken, "KORPU_LOG_LEVEL=error")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "a truncated letter is not replayed")
	require.Contains(t, string(out), "cannot be replayed")
}

// scrapeMetrics returns the text of a hub's /metrics.
func scrapeMetrics(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(text)
}
