package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/amqp"
	"github.com/korpu-az/korpu/adapters/memory"
	"github.com/korpu-az/korpu/routers"
)

// restartingStore is a ledger whose intake fails as a database restarting
// does: transiently, every time.
type restartingStore struct{ *memory.Ledger }

var errRestarting = errors.New("the database system is starting up")

func (restartingStore) Register(context.Context, routers.Appeal, *routers.Booking, func(int) string, func(routers.Appeal) routers.Effects) (routers.Appeal, error) {
	return routers.Appeal{}, errRestarting
}

func (restartingStore) RecordInvalid(context.Context, routers.Refusal, routers.Effects) error {
	return errRestarting
}

// TestQuorumDeliveryLimitPoisons: on the real broker, with quorum queues
// (the default) and amqp.delivery_limit 2, a request whose intake keeps
// failing transiently is poisoned by the hub on its 2nd delivery, with the
// hub's reason, and filed as a dead letter.
func TestQuorumDeliveryLimitPoisons(t *testing.T) {
	t.Parallel()
	population, err := writeDemoPopulation()
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.Remove(population) })
	cfg, err := parseDemoConfig("127.0.0.1:1", "http://127.0.0.1:1", population)
	require.NoError(t, err)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "test.quorum." + hex.EncodeToString(b) + "."
	cfg.AMQP.URL, cfg.AMQP.DeliveryLimit = amqpURL(), 2
	cfg.Portal.RequestsQueue, cfg.Portal.StatusQueue = prefix+"requests", prefix+"status"
	cfg.Hub.PoisonQueue, cfg.Hub.OversightQueue, cfg.Hub.CheckpointQueue = prefix+"poison", prefix+"oversight", prefix+"checkpoints"
	cfg.Hub.DistrictQueuePrefix, cfg.Hub.IntakeConsumers = prefix+"district.", 1

	topo, err := topology(cfg)
	require.NoError(t, err)
	broker := amqp.Config{URL: cfg.AMQP.URL, Topology: topo}
	pub, err := amqp.NewPublisher(broker, watermill.NopLogger{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = pub.Close() })
	sub, err := amqp.NewSubscriber(broker, watermill.NopLogger{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Close() })
	ledger := memory.NewLedger(time.Now)
	w, err := wireHub(cfg, substrate{ledger: restartingStore{ledger}, publisher: pub, subscriber: sub}, time.Now, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = amqp.PurgeAndDelete(ctx, amqpURL(), w.hub.Queues()...)
	})
	require.NoError(t, declareQueues(t.Context(), cfg, topo, w.hub.Queues()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.router.Run(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	<-w.router.Running()

	body := []byte(`{"id":"quorum-1"}`) // signed, but invalid: its refusal is what fails
	msg := message.NewMessage(uuid.NewString(), body)
	msg.Metadata.Set(routers.SignatureHeader, routers.Sign([]byte(cfg.Portal.NewestKey()), body))
	require.NoError(t, pub.Publish(cfg.Portal.RequestsQueue, msg))

	var letter routers.DeadLetter
	waitFor(t, time.Minute, "the request poisoned", func() bool {
		letters, err := ledger.DeadLetters(t.Context(), routers.DeadLetterOpen, 0, 1)
		require.NoError(t, err)
		if len(letters) == 0 {
			return false
		}
		letter = letters[0]
		return true
	})
	require.Equal(t, cfg.Portal.RequestsQueue, letter.Queue)
	require.True(t, strings.HasPrefix(letter.Error, "delivered 2 times; last failure: "), letter.Error)
	require.Contains(t, letter.Error, errRestarting.Error())
	require.Equal(t, body, letter.Body)
}

// TestQueuesCommand: korpu queues migrate turns a classic hub queue into
// the hub's quorum queue with its messages; list shows it; a second run
// has nothing to do.
func TestQueuesCommand(t *testing.T) {
	t.Parallel()
	s := newStack(t, "AZ-BIL")
	queue := s.topics.District("AZ-BIL")
	require.NoError(t, amqp.PurgeAndDelete(t.Context(), amqpURL(), queue))
	require.NoError(t, amqp.DeclareQueues(t.Context(), amqpURL(), queue), "a classic queue, as before quorum queues")
	for i := range 3 {
		require.NoError(t, s.publisher.Publish(queue, message.NewMessage(uuid.NewString(), []byte{byte('a' + i)})))
	}
	queues := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(korpuBinary, append([]string{"queues"}, append(args, "--config", s.config)...)...)
		cmd.Env = append(os.Environ(), "KORPU_PORTAL_KEY="+portalKey, "KORPU_REGISTRY_TOKEN="+registryToken, "KORPU_LOG_LEVEL=error")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		return string(out)
	}
	require.Regexp(t, regexp.QuoteMeta(queue)+` +classic +3 +0`, queues("list"))
	require.Contains(t, queues("migrate"), queue+": was classic, now the hub's quorum queue; 3 messages moved out, 3 back")
	list := queues("list")
	require.Regexp(t, regexp.QuoteMeta(queue)+` +hub's +3 +0`, list)
	require.Regexp(t, regexp.QuoteMeta(s.topics.Requests)+` +classic`, list, "the portal's queue as the portal made it")
	require.Contains(t, queues("migrate"), "nothing to migrate")
}
