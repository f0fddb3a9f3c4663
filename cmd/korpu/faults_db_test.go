//go:build faults

package main

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// pgpair's two servers (scripts/pgpair): the primary first, as an operator
// lists them; after the failover pgx finds the promoted standby by
// target_session_attrs.
const (
	pgpairAdmin   = "postgres://postgres@127.0.0.1:5441,127.0.0.1:5442/postgres?sslmode=disable&target_session_attrs=read-write"
	pgpairStandby = "127.0.0.1:5442"
)

// TestFaultsDatabase runs three hubs, ten districts and 2,000 portal
// messages on a PostgreSQL primary with a synchronous standby
// (scripts/pgpair), kills the primary under load (300 more messages
// published in the second before), promotes the standby a
// few seconds later, as a failover manager would, and checks that nothing
// is lost, nothing doubled, no sequence has a gap, every appeal reaches its
// final status, and every appeal the portal saw registered is in the
// promoted database. It uses the shared RabbitMQ and never restarts it;
// the database servers are its own (build tag faults, scripts/faults).
func TestFaultsDatabase(t *testing.T) {
	const (
		total        = 2000
		rate         = 2000.0 / 150 // messages a second: the stream lasts 150 s
		killAt       = 60 * time.Second
		burst        = 300 // messages published in the second before the kill
		burstLead    = time.Second
		promoteAfter = 5 * time.Second // a failover manager's detection and decision
		maxTail      = 30 * time.Second
	)
	pgpair := func(action string) { require.NoError(t, control("../../scripts/pgpair", action)) }
	pgpair("stop") // whatever an earlier run left
	pgpair("start")
	t.Cleanup(func() { _ = control("../../scripts/pgpair", "stop") })

	seed := uint64(time.Now().UnixNano())
	s := newStackWith(t, stackOptions{
		codes: faultCodes, hubs: 3, failRate: 0.05, postgresAdmin: pgpairAdmin,
		// TestFaults' tuning: the production backoff, and attempts enough
		// that no delivery is given up while the database is away.
		hubTuning: "breaker_cooldown: 2s, retry_max_attempts: 1000",
	})
	hubs := make([]*hubProcess, 3)
	for i := range hubs {
		hubs[i] = s.startHubAt(i)
	}
	promoted := connectPromoted(t, s.dbURL)
	gen := s.generatorWith(seed, 0.2, 0.08)
	e := newExpectations()

	t0 := time.Now()
	published := s.publishLoad(gen, e, total, rate)

	// A burst just before the kill, so that it meets work at every stage
	// (intake, enrichment, delivery, the outbox) rather than the few
	// requests the steady stream keeps in flight.
	time.Sleep(time.Until(t0.Add(killAt - burstLead)))                                                         // the schedule, not synchronisation
	burstPublished := s.publishLoad(s.generatorWith(seed+1, 0.2, 0.08), e, burst, 2*burst/burstLead.Seconds()) // in half the lead
	time.Sleep(time.Until(t0.Add(killAt)))
	inFlight, taken := unsettled(s, e)
	registeredAtKill := len(registeredAppeals(s))
	killed := time.Since(t0)
	pgpair("kill-primary")
	time.Sleep(promoteAfter)
	pgpair("promote")
	promotedAt := time.Since(t0)
	ctx := t.Context()
	var before int
	require.NoError(t, promoted.QueryRow(ctx, `SELECT count(*) FROM status_history`).Scan(&before))
	wrote := pollUntil(time.Minute, func() bool {
		var n int
		return promoted.QueryRow(ctx, `SELECT count(*) FROM status_history`).Scan(&n) == nil && n > before
	})
	require.True(t, wrote, "no hub wrote a status to the promoted database within 60 s")
	wroteAt := time.Since(t0)
	// The tail of this fault: until what was in flight when the primary died
	// is at its end (the steady stream goes on meanwhile).
	caughtUp := pollUntil(2*time.Minute, func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		return !slices.ContainsFunc(inFlight, func(id string) bool { return !settled(s, e, id) })
	})
	require.True(t, caughtUp, "the requests in flight at the kill not all at their end 2 minutes after it")
	caughtUpAt := time.Since(t0)

	burstOut := <-burstPublished
	require.NoError(t, burstOut.err)
	out := <-published
	require.NoError(t, out.err)
	publishedAt := time.Since(t0)
	drain(s, e)
	drainedAt := time.Since(t0)
	checkHubsRunning(t, hubs)

	a := auditRun(s, e)
	poisonFiled, givenUp := deadLetterCounts(s, e)
	registered := registeredAppeals(s)
	rows, err := promoted.Query(ctx, `SELECT n FROM unnest($1::text[]) AS n WHERE NOT EXISTS (SELECT 1 FROM appeals WHERE number = n) ORDER BY n`, registered)
	require.NoError(t, err)
	missing, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)

	report(t, "== database failover summary (seed %d)", seed)
	report(t, "requests: %d messages published in %s and a burst of %d in %s before the kill: %d valid, %d invalid, %d poisoned, %d duplicates",
		out.stats.published, out.stats.took.Round(time.Second), burstOut.stats.published, burstOut.stats.took.Round(10*time.Millisecond),
		len(e.valid), len(e.invalid), e.poisoned, e.duplicates)
	report(t, "primary killed at %s: %d requests in flight (published, not yet final) of %d published, %d appeals seen registered by the portal",
		killed.Round(100*time.Millisecond), len(inFlight), taken, registeredAtKill)
	report(t, "standby promoted at %s (%s after the kill); the hubs wrote again at %s: %s after the kill, %s after the promotion",
		promotedAt.Round(100*time.Millisecond), (promotedAt - killed).Round(100*time.Millisecond), wroteAt.Round(100*time.Millisecond),
		(wroteAt - killed).Round(100*time.Millisecond), (wroteAt - promotedAt).Round(100*time.Millisecond))
	report(t, "the %d requests in flight at the kill all at their end at %s: %s after the promotion",
		len(inFlight), caughtUpAt.Round(100*time.Millisecond), (caughtUpAt - promotedAt).Round(100*time.Millisecond))
	report(t, "lost: %d, duplicated: %d, sequence gaps: %d, not at final status: %d", len(a.lost), len(a.duplicated), len(a.gaps), a.notFinal)
	report(t, "appeals the portal saw registered: %d, missing from the promoted database: %d", len(registered), len(missing))
	report(t, "repeated POSTs to districts absorbed by their idempotency: %d; repeated status events (dropped by sequence): %d", a.repeatedPosts, a.repeatedEvents)
	report(t, "poisoned filed as dead letters: %d of %d; deliveries given up: %d", poisonFiled, e.poisoned, givenUp)
	tail := drainedAt - max(promotedAt, publishedAt)
	report(t, "tail: %s (at most %s) — publishing ended at %s, the fault at %s, drained at %s: %s after the promotion, %s after the last publish",
		tail.Round(100*time.Millisecond), maxTail, publishedAt.Round(100*time.Millisecond), promotedAt.Round(100*time.Millisecond),
		drainedAt.Round(100*time.Millisecond), (drainedAt - promotedAt).Round(100*time.Millisecond), (drainedAt - publishedAt).Round(100*time.Millisecond))
	reportBreaches(t, a.lost, a.duplicated, a.gaps, missing)

	requireZeros(t, a)
	require.Empty(t, missing, "appeals the portal saw registered, missing from the promoted database")
	require.Positive(t, registeredAtKill, "the primary died before any appeal was registered: the test proves nothing")
	require.Equal(t, e.poisoned, poisonFiled, "poisoned messages, each filed once")
	require.Zero(t, givenUp, "deliveries given up")
	require.LessOrEqual(t, tail, maxTail, "the tail after the promotion and the last publish")
	require.LessOrEqual(t, caughtUpAt-promotedAt, maxTail, "the work in flight at the kill, after the promotion")
}

// connectPromoted connects to the stack's database on pgpair's standby
// itself, not through the multi-host URL: what the promoted server holds is
// what the test asks of it.
func connectPromoted(t *testing.T, dbURL string) *pgx.Conn {
	t.Helper()
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	u.Host = pgpairStandby
	q := u.Query()
	q.Del("target_session_attrs") // the standby is read-only until promoted
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u.String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// registeredAppeals lists the appeals of which the portal has seen the
// registered event.
func registeredAppeals(s *stack) []string {
	var numbers []string
	for _, n := range s.tracker.Appeals() {
		if slices.ContainsFunc(s.tracker.Appeal(n), func(ev routers.StatusEvent) bool { return ev.Status == routers.StatusRegistered }) {
			numbers = append(numbers, n)
		}
	}
	return numbers
}
