package routers_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/tlog"
)

// TestHubSequencesAndCheckpoints: with the log on, the hub's own loop puts
// the appeal's events in the log and publishes signed checkpoints of it on
// the checkpoints topic, growing, each verifying with the key.
func TestHubSequencesAndCheckpoints(t *testing.T) {
	t.Parallel()
	skey, _, err := tlog.GenerateKey("korpu.routers-test/log")
	require.NoError(t, err)
	signer, err := tlog.NewSigner(skey)
	require.NoError(t, err)
	h := newHarnessWith(t, harnessOptions{signer: signer})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	msgs, err := h.pubsub.Subscribe(ctx, topics.Checkpoints)
	require.NoError(t, err)

	body, id := h.body("request-appeal.json", nil)
	h.publish(body)
	ev := h.waitEvent(id, routers.StatusDelivered)
	var last uint64
	for last < uint64(ev.Sequence) {
		select {
		case msg := <-msgs:
			cp, err := signer.Verifier().Open(msg.Payload)
			require.NoError(t, err)
			require.Greater(t, cp.Size, last, "a checkpoint only when the log grew")
			last = cp.Size
			msg.Ack()
		case <-time.After(waitFor):
			t.Fatalf("no checkpoint of the appeal's %d events; the last was of %d", ev.Sequence, last)
		}
	}
	index, err := h.ledger.LeafIndex(t.Context(), ev.AppealNumber, ev.Sequence)
	require.NoError(t, err)
	require.Less(t, index, last)
}
