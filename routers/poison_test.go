package routers_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// TestBoundedPoison: a poisoned message costs the ledger at most
// MaxDeadLetterBody of its body, whatever its size, and one letter however
// often the same bytes come under new message ids.
func TestBoundedPoison(t *testing.T) {
	t.Parallel()
	big := make([]byte, 1<<20)
	_, err := rand.Read(big)
	require.NoError(t, err)
	sum := sha256.Sum256(big)

	t.Run("BigBodyKeepsItsStartSizeAndHash", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		for range 3 {
			msg := message.NewMessage(uuid.NewString(), big)
			msg.Metadata.Set(routers.SignatureHeader, routers.Sign([]byte("not the portal's key"), big))
			h.publishMsg(msg)
		}
		letter := h.waitDeadLetter(routers.DeadPoison)
		require.Equal(t, big[:routers.MaxDeadLetterBody], letter.Body)
		require.Equal(t, int64(len(big)), letter.Size)
		require.Equal(t, hex.EncodeToString(sum[:]), letter.SHA256)
		require.True(t, letter.Truncated())
		require.Contains(t, letter.Error, fmt.Sprintf("body of %d bytes exceeds", len(big)), "the size is checked before the signature")

		waitUntil(t, "the two repeats absorbed", func() bool {
			return testutil.ToFloat64(h.m.PoisonLetters.WithLabelValues("repeat")) == 2
		})
		letters, err := h.ledger.DeadLetters(t.Context(), "", 0, 10)
		require.NoError(t, err)
		require.Len(t, letters, 1, "one letter for one body under three message ids")
		require.Equal(t, 1.0, testutil.ToFloat64(h.m.PoisonLetters.WithLabelValues("filed")))
		require.Equal(t, float64(routers.MaxDeadLetterBody), testutil.ToFloat64(h.m.PoisonedBytes.WithLabelValues("stored")))
		require.Equal(t, float64(3*len(big)-routers.MaxDeadLetterBody), testutil.ToFloat64(h.m.PoisonedBytes.WithLabelValues("discarded")))
	})

	t.Run("TruncatedLetterIsNotReplayed", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		msg := message.NewMessage(uuid.NewString(), big)
		h.publishMsg(msg)
		letter := h.waitDeadLetter(routers.DeadPoison)
		desk := routers.NewDeadLetterDesk(h.ledger, h.clock.Now)
		err := desk.Replay(t.Context(), letter.ID, deskOperator)
		require.ErrorIs(t, err, routers.ErrTruncated)
		require.Contains(t, err.Error(), hex.EncodeToString(sum[:]))
		shown, err := desk.Show(t.Context(), letter.ID)
		require.NoError(t, err)
		require.Equal(t, routers.DeadLetterOpen, shown.State, "a refused replay changes nothing")
		require.NoError(t, desk.Drop(t.Context(), letter.ID, deskOperator), "a truncated letter can still be dropped")
	})

	t.Run("WholeLetterIsReplayed", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		body, id := h.body("request-appeal.json", nil)
		h.publishMsg(message.NewMessage(uuid.NewString(), body)) // no signature
		letter := h.waitDeadLetter(routers.DeadPoison)
		require.False(t, letter.Truncated())
		require.Equal(t, int64(len(body)), letter.Size)
		desk := routers.NewDeadLetterDesk(h.ledger, h.clock.Now)
		require.NoError(t, desk.Replay(t.Context(), letter.ID, deskOperator))
		// Replayed unsigned, it is poisoned again: a new letter, not a repeat.
		waitUntil(t, "a second letter for the replay", func() bool {
			open, err := h.ledger.DeadLetters(t.Context(), routers.DeadLetterOpen, 0, 10)
			require.NoError(t, err)
			return len(open) == 1 && open[0].ID != letter.ID && open[0].SHA256 == letter.SHA256
		})
		require.Empty(t, h.eventsOf(id))
	})
}
