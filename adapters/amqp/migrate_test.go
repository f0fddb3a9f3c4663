package amqp

import (
	"strconv"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/require"
)

// fill publishes messages from..to (inclusive) to queue, each with a body,
// header and properties of its number, and waits for their confirmations.
func fill(t *testing.T, queue string, from, to int) {
	t.Helper()
	ch := rawChannel(t)
	for i := from; i <= to; i++ {
		n := strconv.Itoa(i)
		confirm, err := ch.PublishWithDeferredConfirm("", queue, false, false, amqp091.Publishing{
			Headers: amqp091.Table{"x-n": int64(i), "x-signature": "sig-" + n}, ContentType: "application/json",
			DeliveryMode: amqp091.Persistent, CorrelationId: "c-" + n, MessageId: "m-" + n, AppId: "portal",
			Timestamp: time.Unix(int64(1_700_000_000+i), 0), Body: []byte(n),
		})
		require.NoError(t, err)
		require.True(t, confirm.Wait())
	}
}

// drain takes every message of queue and checks each is the one fill made.
func drain(t *testing.T, queue string) []int {
	t.Helper()
	ch := rawChannel(t)
	var got []int
	for {
		d, ok, err := ch.Get(queue, true)
		require.NoError(t, err)
		if !ok {
			return got
		}
		i, err := strconv.Atoi(string(d.Body))
		require.NoError(t, err)
		delete(d.Headers, deliveryCountHeader) // the broker's, on every get from a quorum queue
		n := strconv.Itoa(i)
		require.Equal(t, amqp091.Table{"x-n": int64(i), "x-signature": "sig-" + n}, d.Headers)
		require.Equal(t, "application/json", d.ContentType)
		require.Equal(t, amqp091.Persistent, d.DeliveryMode)
		require.Equal(t, "c-"+n, d.CorrelationId)
		require.Equal(t, "m-"+n, d.MessageId)
		require.Equal(t, "portal", d.AppId)
		require.Equal(t, time.Unix(int64(1_700_000_000+i), 0), d.Timestamp)
		got = append(got, i)
	}
}

func upTo(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i + 1
	}
	return s
}

// migrateSetup returns a topology and the name of a queue to migrate.
func migrateSetup(t *testing.T) (*Topology, string) {
	t.Helper()
	q := newQueueName(t)
	cleanupQueues(t, q+MigratingSuffix)
	topo, err := NewTopology(Quorum, 20, q+".poison")
	require.NoError(t, err)
	cleanupQueues(t, q+".poison")
	return topo, q
}

func stateOf(t *testing.T, topo *Topology, q string) QueueState {
	t.Helper()
	states, err := topo.Inspect(t.Context(), testURL, []string{q})
	require.NoError(t, err)
	require.Len(t, states, 1)
	return states[0]
}

func TestMigrateClassicToQuorum(t *testing.T) {
	t.Parallel()
	topo, q := migrateSetup(t)
	require.NoError(t, DeclareQueues(t.Context(), testURL, q))
	fill(t, q, 1, 50)
	require.Equal(t, QueueState{Queue: q, Kind: KindClassic, Messages: 50, Migrating: -1}, stateOf(t, topo, q))

	moved, err := topo.Migrate(t.Context(), testURL, []string{q, q + ".never-declared"})
	require.NoError(t, err)
	require.Equal(t, []Moved{{Queue: q, From: KindClassic, Out: 50, Back: 50}}, moved)
	require.Equal(t, QueueState{Queue: q, Kind: KindHubs, Messages: 50, Migrating: -1}, stateOf(t, topo, q))
	require.Equal(t, KindMissing, stateOf(t, topo, q+".never-declared").Kind, "a missing queue is left to the hub")

	moved, err = topo.Migrate(t.Context(), testURL, []string{q})
	require.NoError(t, err)
	require.Empty(t, moved, "a second run has nothing to do")
	require.Equal(t, upTo(50), drain(t, q), "every message once, in order, as published")
}

// TestMigrateResumes: a run after a crash at any step finishes the work
// from what it finds, losing and repeating nothing.
func TestMigrateResumes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		crash func(t *testing.T, topo *Topology, q string) // leaves 1..10 somewhere
		want  Moved
	}{
		{name: "WhileMovingOut", crash: func(t *testing.T, _ *Topology, q string) {
			require.True(t, declaredAs(t, q+MigratingSuffix, migratingArgs))
			fill(t, q+MigratingSuffix, 1, 4)
			require.NoError(t, DeclareQueues(t.Context(), testURL, q))
			fill(t, q, 5, 10)
		}, want: Moved{From: KindClassic, Out: 6, Back: 10}},
		{name: "AfterDeleting", crash: func(t *testing.T, _ *Topology, q string) {
			require.True(t, declaredAs(t, q+MigratingSuffix, migratingArgs))
			fill(t, q+MigratingSuffix, 1, 10)
		}, want: Moved{From: KindMissing, Back: 10}},
		{name: "WhileMovingBack", crash: func(t *testing.T, topo *Topology, q string) {
			require.True(t, declaredAs(t, q, topo.Arguments(q)))
			fill(t, q, 1, 3)
			require.True(t, declaredAs(t, q+MigratingSuffix, migratingArgs))
			fill(t, q+MigratingSuffix, 4, 10)
		}, want: Moved{From: KindHubs, Back: 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			topo, q := migrateSetup(t)
			tc.crash(t, topo, q)
			moved, err := topo.Migrate(t.Context(), testURL, []string{q})
			require.NoError(t, err)
			tc.want.Queue = q
			require.Equal(t, []Moved{tc.want}, moved)
			require.Equal(t, QueueState{Queue: q, Kind: KindHubs, Messages: 10, Migrating: -1}, stateOf(t, topo, q))
			require.Equal(t, upTo(10), drain(t, q))
		})
	}
}

func TestMigrateRefusesConsumers(t *testing.T) {
	t.Parallel()
	topo, q := migrateSetup(t)
	require.NoError(t, DeclareQueues(t.Context(), testURL, q))
	fill(t, q, 1, 3)
	ch := rawChannel(t)
	_, err := ch.Consume(q, "a-hub", false, false, false, false, nil)
	require.NoError(t, err)
	_, err = topo.Migrate(t.Context(), testURL, []string{q})
	require.ErrorIs(t, err, ErrConsumers)
	require.NoError(t, ch.Cancel("a-hub", false))
}

// TestMigrateNewLimit: a quorum queue declared with another delivery limit
// is migrated like a classic one.
func TestMigrateNewLimit(t *testing.T) {
	t.Parallel()
	before, q := migrateSetup(t) // delivery limit 20
	require.NoError(t, before.Declare(t.Context(), testURL, []string{q}, nil))
	fill(t, q, 1, 5)
	five, err := NewTopology(Quorum, 5, q+".poison")
	require.NoError(t, err)
	require.Equal(t, KindOther, stateOf(t, five, q).Kind)
	moved, err := five.Migrate(t.Context(), testURL, []string{q})
	require.NoError(t, err)
	require.Equal(t, []Moved{{Queue: q, From: KindOther, Out: 5, Back: 5}}, moved)
	require.True(t, declaredAs(t, q, five.Arguments(q)))
	require.Equal(t, upTo(5), drain(t, q))
}
