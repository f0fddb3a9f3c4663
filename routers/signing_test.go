package routers_test

import (
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// TestSigningKeyRotation: a message signed with any current key is taken
// and its key counted; the swap applies to the running intake; a key
// removed no longer verifies.
func TestSigningKeyRotation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	next := []byte("the portal's next key")
	// publishSigned returns the message's UUID and the request's id.
	publishSigned := func(key []byte) (string, string) {
		body, id := h.body("request-appeal.json", nil)
		msg := message.NewMessage(uuid.NewString(), body)
		msg.Metadata.Set(routers.SignatureHeader, routers.Sign(key, body))
		h.publishMsg(msg)
		return msg.UUID, id
	}
	counted := func(id string) float64 { return testutil.ToFloat64(h.metricsOf().Signatures.WithLabelValues(id)) }

	// Before the swap, the next key is unknown: poisoned.
	before, _ := publishSigned(next)
	poisoned := h.waitPoisoned(before)
	require.Contains(t, poisoned.Metadata.Get(middleware.ReasonForPoisonedKey), "under any current key")

	require.NoError(t, h.hub.SetSigningKeys([]routers.SigningKey{{ID: "test", Key: signingKey}, {ID: "next", Key: next}}))
	require.Zero(t, counted("next"), "a new key shows at zero")
	_, old := publishSigned(signingKey)
	h.waitEvent(old, routers.StatusRegistered)
	_, fresh := publishSigned(next)
	h.waitEvent(fresh, routers.StatusRegistered)
	require.Equal(t, 1.0, counted("next"))
	require.Equal(t, 1.0, counted("test"))

	require.NoError(t, h.hub.SetSigningKeys([]routers.SigningKey{{ID: "next", Key: next}}))
	after, _ := publishSigned(signingKey)
	h.waitPoisoned(after)
	_, again := publishSigned(next)
	h.waitEvent(again, routers.StatusRegistered)
	require.Equal(t, 2.0, counted("next"))

	require.Error(t, h.hub.SetSigningKeys(nil), "no key at all is refused")
	require.Error(t, h.hub.SetSigningKeys([]routers.SigningKey{{ID: "a", Key: next}, {ID: "a", Key: signingKey}}))
}
