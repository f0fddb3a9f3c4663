//go:build faults

package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/amqp"
	"github.com/korpu-az/korpu/adapters/sim/portalsim"
	"github.com/korpu-az/korpu/routers"
)

// faultCodes are the ten districts of the fault and isolation suites.
var faultCodes = []string{"AZ-ABS", "AZ-AGA", "AZ-AGC", "AZ-AGM", "AZ-AGS", "AZ-AGU", "AZ-AST", "AZ-BAB", "AZ-BAL", "AZ-BAR"}

// report prints a line to the test log and to stdout, so CI logs show it
// even without -v.
func report(t *testing.T, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf(format, args...)
	t.Log(line)
	fmt.Println(line)
}

// publishStats is what a steady publisher did.
type publishStats struct {
	published int           // messages put on the queue
	retries   int           // failed publishes tried again (broker outage)
	took      time.Duration // from the first to the last publish
}

// publishSteadily publishes what next returns at rate messages a second,
// from workers goroutines, until next says stop or ctx ends; every message
// next returned is published. A failed
// publish (the broker is away) is tried again until it succeeds: a message
// whose confirmation was lost may so be published twice, a repeat the hub
// must absorb.
func publishSteadily(ctx context.Context, pub message.Publisher, topic string, rate float64, workers int, next func() (portalsim.Message, bool)) (publishStats, error) {
	var (
		stats    publishStats
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	jobs := make(chan portalsim.Message, 64)
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for m := range jobs {
				retries, err := publishUntilAccepted(pub, topic, portalMessage(m))
				mu.Lock()
				stats.retries += retries
				if err == nil {
					stats.published++
				} else if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	interval := time.Duration(float64(time.Second) / rate)
	for i := 0; ; i++ {
		// Pacing, not synchronisation: the i-th message leaves at start+i/rate.
		select {
		case <-ctx.Done():
		case <-time.After(time.Until(start.Add(time.Duration(i) * interval))):
		}
		if ctx.Err() != nil {
			break
		}
		m, ok := next() // only now, so every message taken is published
		if !ok {
			break
		}
		jobs <- m
	}
	close(jobs)
	wg.Wait()
	stats.took = time.Since(start)
	return stats, firstErr
}

// publishUntilAccepted publishes msg until the broker confirms it, for at
// most two minutes. A publish that hangs (its channel died under it) is
// given up after 10 s and tried again.
func publishUntilAccepted(pub message.Publisher, topic string, msg *message.Message) (int, error) {
	deadline := time.Now().Add(2 * time.Minute)
	delay := 100 * time.Millisecond
	for retries := 0; ; retries++ {
		done := make(chan error, 1)
		go func() { done <- pub.Publish(topic, msg) }()
		var err error
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			err = fmt.Errorf("publish of %s unconfirmed after 10 s", msg.UUID)
		}
		if err == nil {
			return retries, nil
		}
		if time.Now().After(deadline) {
			return retries, fmt.Errorf("publish %s: %w", msg.UUID, err)
		}
		time.Sleep(delay) // backoff while the broker is away
		delay = min(2*delay, time.Second)
	}
}

// slowDistrict delays a district's answers while its latency is set.
type slowDistrict struct {
	next    http.Handler
	latency atomic.Int64
}

func (d *slowDistrict) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if l := time.Duration(d.latency.Load()); l > 0 {
		// Read the body first: only then does the server notice a caller
		// that gives up while it waits.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		select {
		case <-time.After(l):
		case <-r.Context().Done():
			return
		}
	}
	d.next.ServeHTTP(w, r)
}

// fault is one injected fault, timed from the start of the run.
type fault struct {
	what       string
	start, end time.Duration
}

// faultLog records the faults as they happen; restores may come from timers.
type faultLog struct {
	mu     sync.Mutex
	t0     time.Time
	faults []fault
}

func (l *faultLog) begin(what string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.faults = append(l.faults, fault{what: what, start: time.Since(l.t0), end: -1})
	return len(l.faults) - 1
}

func (l *faultLog) finish(i int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.faults[i].end = time.Since(l.t0)
}

// window starts a fault now and ends it after d with restore, on a timer.
func (l *faultLog) window(what string, d time.Duration, inject, restore func()) {
	i := l.begin(what)
	inject()
	time.AfterFunc(d, func() { restore(); l.finish(i) })
}

func (l *faultLog) snapshot() []fault {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.faults)
}

// control runs a service-control command, bounded in time.
func control(name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// postgresVersion is the cluster's version directory under /etc/postgresql.
func postgresVersion(t *testing.T) string {
	t.Helper()
	entries, err := os.ReadDir("/etc/postgresql")
	require.NoError(t, err, "the fault suite restarts the local PostgreSQL cluster")
	require.NotEmpty(t, entries)
	return entries[0].Name()
}

// TestFaults runs three hub processes, ten districts and 2,000 portal
// messages through overlapping faults (hub SIGKILLs, a broker outage, a
// database restart, a district down, the registry down, a slow district,
// 10% of registry and district calls answered 503) and checks that nothing
// is lost, nothing delivered twice and no sequence has a gap, and that the
// tail is short: once the faults are over and the last request is in,
// every appeal reaches its final status within maxTail. It restarts the
// shared RabbitMQ and PostgreSQL, so it runs alone (build tag faults,
// scripts/faults).
func TestFaults(t *testing.T) {
	const (
		total   = 2000
		rate    = 2000.0 / 150 // messages a second: the stream lasts 150 s
		maxTail = 30 * time.Second
	)
	pgVersion := postgresVersion(t)
	_, err := exec.LookPath("rabbitmqctl")
	require.NoError(t, err, "the fault suite stops and starts the local RabbitMQ")
	// Whatever happens, leave the services running for whoever comes next.
	t.Cleanup(func() {
		_ = control("rabbitmqctl", "start_app")
		_ = control("pg_ctlcluster", "--skip-systemctl-redirect", pgVersion, "main", "start")
	})

	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	down, slow := faultCodes[9], faultCodes[8]
	slowHandler := &slowDistrict{}
	s := newStackWith(t, stackOptions{
		codes: faultCodes, hubs: 3, failRate: 0.1, registryFailRate: 0.1,
		// The production backoff (1s doubling to 5m): the backlog must drain
		// by the hub's own means (expediting what waited on a hold-off), not
		// by short retries; a high attempt budget so a minute-long outage
		// never dead-letters a delivery.
		hubTuning:       "breaker_cooldown: 2s, retry_max_attempts: 1000",
		districtTimeout: map[string]time.Duration{slow: 15 * time.Second},
		wrap: func(code string, h http.Handler) http.Handler {
			if code != slow {
				return h
			}
			slowHandler.next = h
			return slowHandler
		},
	})
	hubs := make([]*hubProcess, 3)
	for i := range hubs {
		hubs[i] = s.startHubAt(i)
	}
	gen := s.generatorWith(seed, 0.2, 0.08)
	e := newExpectations()

	log := &faultLog{t0: time.Now()}
	published := s.publishLoad(gen, e, total, rate)

	at := func(d time.Duration) { time.Sleep(time.Until(log.t0.Add(d))) } // the schedule, not synchronisation
	randomly := func(from, to time.Duration) time.Duration { return from + time.Duration(rng.Int64N(int64(to-from))) }
	kill := func(i int) {
		select {
		case err := <-hubs[i].done:
			t.Fatalf("hub %d exited by itself before its kill: %v (log %s)", i, err, hubs[i].log)
		default:
		}
		n := log.begin(fmt.Sprintf("SIGKILL hub %d, restarted", i))
		require.NoError(t, hubs[i].cmd.Process.Signal(syscall.SIGKILL))
		require.Error(t, <-hubs[i].done, "a killed hub exits with an error")
		hubs[i] = s.startHubAt(i)
		log.finish(n)
	}

	at(randomly(8*time.Second, 14*time.Second))
	kill(0)
	at(15 * time.Second)
	log.window("district "+down+" down (503)", time.Minute, func() { s.districts[down].SetDown(true) }, func() { s.districts[down].SetDown(false) })
	at(20 * time.Second)
	log.window("district "+slow+" answers in 10 s", time.Minute,
		func() { slowHandler.latency.Store(int64(10 * time.Second)) }, func() { slowHandler.latency.Store(0) })
	at(30 * time.Second)
	log.window("registry down (503)", time.Minute, func() { s.registry.SetDown(true) }, func() { s.registry.SetDown(false) })

	at(40 * time.Second)
	n := log.begin("RabbitMQ stop_app, start_app after 10 s")
	require.NoError(t, control("rabbitmqctl", "stop_app"))
	outageStart := time.Now()
	// /readyz tells the truth: not ready while the broker is gone …
	require.True(t, pollUntil(9*time.Second, func() bool { return readyz(s.hubAddrs[2]) == http.StatusServiceUnavailable }),
		"/readyz kept answering 200 with the broker stopped")
	report(t, "/readyz answered 503 %s into the broker outage", time.Since(outageStart).Round(100*time.Millisecond))
	time.Sleep(time.Until(outageStart.Add(10 * time.Second))) // the outage itself
	require.NoError(t, control("rabbitmqctl", "start_app"))
	log.finish(n)
	// … and ready again once it is back.
	require.True(t, pollUntil(time.Minute, func() bool { return readyz(s.hubAddrs[2]) == http.StatusOK }),
		"/readyz not 200 within 60 s of start_app")
	// The portal's status consumer must come back by itself.
	_, before := s.tracker.Counts()
	resumeStart := time.Now()
	resumed := false
	for time.Since(resumeStart) < time.Minute && !resumed {
		_, now := s.tracker.Counts()
		resumed = now > before
		time.Sleep(100 * time.Millisecond)
	}
	require.True(t, resumed, "the portal's status subscriber received nothing within 60 s of start_app: watermill-amqp did not resume consuming")
	report(t, "status subscriber resumed %s after start_app", time.Since(resumeStart).Round(100*time.Millisecond))
	// Every hub's every consumer must come back too: the other hubs would
	// otherwise hide one that stopped consuming.
	missing := consumersMissing(t, s, len(hubs))
	pollUntil(time.Minute, func() bool { missing = consumersMissing(t, s, len(hubs)); return len(missing) == 0 })
	require.Empty(t, missing, "queues short of consumers 60 s after start_app")
	report(t, "every consumer of the %d hubs and the portal back %s after start_app", len(hubs), time.Since(resumeStart).Round(100*time.Millisecond))

	at(randomly(62*time.Second, 75*time.Second))
	kill(1)
	at(85 * time.Second)
	n = log.begin("PostgreSQL restart")
	require.NoError(t, control("pg_ctlcluster", "--skip-systemctl-redirect", pgVersion, "main", "restart"))
	log.finish(n)
	at(randomly(100*time.Second, 120*time.Second))
	kill(2)

	out := <-published
	require.NoError(t, out.err)
	publishedAt := time.Since(log.t0)
	faults := log.snapshot()
	var lastFault time.Duration
	for _, f := range faults {
		require.GreaterOrEqual(t, f.end, time.Duration(0), "fault %q still going", f.what)
		lastFault = max(lastFault, f.end)
	}

	drain(s, e)
	drainedAt := time.Since(log.t0)
	checkHubsRunning(t, hubs)

	a := auditRun(s, e)
	poisonFiled, givenUp := deadLetterCounts(s, e)

	report(t, "== fault suite summary (seed %d)", seed)
	report(t, "requests: %d messages published (%d publish retries during the broker outage) in %s: %d valid, %d invalid (%d of them unknown FINs), %d poisoned, %d duplicates",
		out.stats.published, out.stats.retries, out.stats.took.Round(time.Second), len(e.valid), len(e.invalid), a.unknownFIN, e.poisoned, e.duplicates)
	report(t, "faults injected (from the start of the run):")
	for _, f := range faults {
		report(t, "  %7s – %7s  %s", f.start.Round(100*time.Millisecond), f.end.Round(100*time.Millisecond), f.what)
	}
	report(t, "lost: %d, duplicated: %d, sequence gaps: %d, not at final status: %d", len(a.lost), len(a.duplicated), len(a.gaps), a.notFinal)
	report(t, "unknown FINs: %d invalid at intake, %d registered while the registry was down and then rejected", a.unknownFIN-a.unknownRejected, a.unknownRejected)
	report(t, "repeated POSTs to districts absorbed by their idempotency: %d; repeated status events (dropped by sequence): %d", a.repeatedPosts, a.repeatedEvents)
	report(t, "poisoned filed as dead letters: %d of %d; deliveries given up: %d", poisonFiled, e.poisoned, givenUp)
	// The tail runs from when the faults are over and the last request is
	// in, whichever comes later, to the last final status.
	tail := drainedAt - max(lastFault, publishedAt)
	report(t, "tail: %s (at most %s) — publishing ended at %s, the last fault at %s, drained at %s: %s after the last fault, %s after the last publish",
		tail.Round(100*time.Millisecond), maxTail, publishedAt.Round(100*time.Millisecond), lastFault.Round(100*time.Millisecond),
		drainedAt.Round(100*time.Millisecond), (drainedAt - lastFault).Round(100*time.Millisecond), (drainedAt - publishedAt).Round(100*time.Millisecond))
	report(t, "throughput: %.1f messages/s offered, %.1f appeals answered/s end to end (valid appeals / time to drain)",
		float64(out.stats.published)/out.stats.took.Seconds(), float64(len(e.valid))/drainedAt.Seconds())
	reportBreaches(t, a.lost, a.duplicated, a.gaps)

	requireZeros(t, a)
	require.Equal(t, e.poisoned, poisonFiled, "poisoned messages, each filed once")
	require.Zero(t, givenUp, "deliveries given up")
	require.LessOrEqual(t, tail, maxTail, "the tail after the faults and the last publish")
}

// deadLetterCounts waits up to 30 s for the poisoned messages of e to be
// filed (by whichever hub takes them) and counts them, and the deliveries
// given up.
func deadLetterCounts(s *stack, e *expectations) (poisonFiled, givenUp int) {
	pollUntil(30*time.Second, func() bool { return len(s.deadLetters(routers.DeadPoison)) >= e.poisoned })
	return len(s.deadLetters(routers.DeadPoison)), len(s.deadLetters(routers.DeadAppeal)) + len(s.deadLetters(routers.DeadComment))
}

// requireZeros fails t unless the audit found nothing lost, doubled or
// missing from a sequence, and every request at its end.
func requireZeros(t *testing.T, a audit) {
	t.Helper()
	require.Empty(t, a.lost, "lost")
	require.Empty(t, a.duplicated, "duplicated")
	require.Empty(t, a.gaps, "sequence gaps")
	require.Zero(t, a.notFinal, "requests not at their final status")
}

// loadOutcome is how a publishLoad ended.
type loadOutcome struct {
	stats publishStats
	err   error
}

// publishLoad publishes total messages of gen, recorded in e, at rate
// messages a second, until the test ends, and says on the channel how it
// went.
func (s *stack) publishLoad(gen *portalsim.Generator, e *expectations, total int, rate float64) <-chan loadOutcome {
	published := make(chan loadOutcome, 1)
	sent := 0
	go func() {
		stats, err := publishSteadily(s.t.Context(), s.publisher, s.topics.Requests, rate, 4, func() (portalsim.Message, bool) {
			if sent == total {
				return portalsim.Message{}, false
			}
			sent++
			m := gen.Next()
			e.add(m)
			return m, true
		})
		published <- loadOutcome{stats, err}
	}()
	return published
}

// settled reports whether request id of e is at its end: a valid one at
// its final status, an invalid one answered. The caller holds e.mu.
func settled(s *stack, e *expectations, id string) bool {
	evs := s.tracker.Request(id)
	if _, valid := e.valid[id]; valid {
		return len(evs) > 0 && evs[len(evs)-1].Status == finalStatus
	}
	return len(evs) > 0
}

// unsettled lists the requests of e (valid or invalid) not yet at their
// end, and counts those e holds.
func unsettled(s *stack, e *expectations) (pending []string, taken int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, requests := range []map[string]portalsim.Message{e.valid, e.invalid} {
		for id := range requests {
			if !settled(s, e, id) {
				pending = append(pending, id)
			}
		}
	}
	return pending, len(e.valid) + len(e.invalid)
}

// drain waits until every request of e is settled, for at most 4 minutes.
func drain(s *stack, e *expectations) {
	deadline := time.Now().Add(4 * time.Minute)
	for pending, _ := unsettled(s, e); len(pending) > 0 && time.Now().Before(deadline); pending, _ = unsettled(s, e) {
		time.Sleep(250 * time.Millisecond)
	}
}

// checkHubsRunning fails t for every hub that exited by itself.
func checkHubsRunning(t *testing.T, hubs []*hubProcess) {
	t.Helper()
	for i, h := range hubs {
		select {
		case err := <-h.done:
			t.Errorf("hub %d exited by itself: %v (log %s)", i, err, h.log)
		default:
		}
	}
}

// reportBreaches reports the first 20 lines of each list.
func reportBreaches(t *testing.T, lists ...[]string) {
	t.Helper()
	for _, list := range lists {
		for i, line := range list {
			if i == 20 {
				report(t, "  … and %d more", len(list)-20)
				break
			}
			report(t, "  %s", line)
		}
	}
}

// consumersMissing lists the queues with fewer consumers than hubs hub
// processes (16 intake, 2 per district, 1 dead-letter keeper each) and the
// portal's status tracker should keep on them.
func consumersMissing(t *testing.T, s *stack, hubs int) []string {
	t.Helper()
	want := map[string]int{s.topics.Requests: 16 * hubs, s.topics.Poison: hubs, s.topics.Status: 1}
	for _, code := range s.codes {
		want[s.topics.District(code)] = 2 * hubs
	}
	inspector, err := amqp.NewInspector(s.broker)
	require.NoError(t, err)
	defer inspector.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var missing []string
	for queue, n := range want {
		_, consumers, err := inspector.Depth(ctx, queue)
		if err != nil || consumers != n {
			missing = append(missing, fmt.Sprintf("%s: %d consumers of %d (%v)", queue, consumers, n, err))
		}
	}
	slices.Sort(missing)
	return missing
}

// pollUntil polls cond until it holds or within passes.
func pollUntil(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(250 * time.Millisecond)
	}
	return true
}

// audit is what the portal and the districts saw, against what was sent.
type audit struct {
	lost, duplicated, gaps []string
	notFinal               int
	unknownFIN             int // invalid for a FİN the registry does not know
	unknownRejected        int // of those, registered during the registry's outage, then rejected
	repeatedPosts          int
	repeatedEvents         int
}

// auditRun checks every promise for every message of e, counting rather
// than stopping at the first breach, so the summary shows the whole damage.
func auditRun(s *stack, e *expectations) audit {
	var a audit
	a.gaps = s.tracker.Violations()
	want := []routers.Status{routers.StatusRegistered, routers.StatusDelivered, routers.StatusInProgress, routers.StatusAnswered}
	for id, m := range e.valid {
		evs := s.tracker.Request(id)
		if len(evs) == 0 {
			a.lost = append(a.lost, fmt.Sprintf("request %s (%s): no event at all", id, m.District))
			a.notFinal++
			continue
		}
		numbers := map[string]bool{}
		for _, ev := range evs {
			numbers[ev.AppealNumber] = true
		}
		if len(numbers) > 1 {
			a.duplicated = append(a.duplicated, fmt.Sprintf("request %s registered as %d appeals: %v", id, len(numbers), numbers))
		}
		number := evs[0].AppealNumber
		distinct := distinctBySequence(s.tracker.Appeal(number))
		a.repeatedEvents += len(s.tracker.Appeal(number)) - len(distinct)
		var statuses []routers.Status
		for i, ev := range distinct {
			if ev.Sequence != i+1 {
				a.gaps = append(a.gaps, fmt.Sprintf("%s: sequence %d at position %d", number, ev.Sequence, i+1))
			}
			statuses = append(statuses, ev.Status)
		}
		if !slices.Equal(statuses, want) {
			a.lost = append(a.lost, fmt.Sprintf("%s (request %s): statuses %v", number, id, statuses))
			if len(statuses) == 0 || statuses[len(statuses)-1] != finalStatus {
				a.notFinal++
			}
		}
		sim := s.districts[m.District]
		body, ok := sim.Appeal(number)
		switch {
		case !ok:
			a.lost = append(a.lost, fmt.Sprintf("%s never reached district %s", number, m.District))
		case !strings.Contains(string(body.Person), m.FIN):
			a.lost = append(a.lost, fmt.Sprintf("%s reached %s without the registry's person record", number, m.District))
		}
		if n := sim.Received()[number]; n > 1 {
			a.repeatedPosts += n - 1
		}
	}
	for id, m := range e.invalid {
		evs := distinctByEventID(s.tracker.Request(id))
		unknownFIN := m.Field == "citizen.fin" && strings.Contains(m.Reason, "registry")
		if unknownFIN {
			a.unknownFIN++
		}
		var statuses []routers.Status
		for _, ev := range evs {
			statuses = append(statuses, ev.Status)
		}
		switch {
		case len(evs) == 1 && evs[0].Status == routers.StatusInvalid && evs[0].Sequence == 1:
		case unknownFIN && slices.Equal(statuses, []routers.Status{routers.StatusRegistered, routers.StatusRejected}):
			// The registry was down at intake: registered, then refused
			// before delivery when the registry said it does not know the FİN.
			a.unknownRejected++
			if _, ok := s.districts[m.District].Appeal(evs[0].AppealNumber); ok {
				a.duplicated = append(a.duplicated, fmt.Sprintf("%s of unknown FİN reached district %s", evs[0].AppealNumber, m.District))
			}
		case len(evs) == 0:
			a.lost = append(a.lost, fmt.Sprintf("invalid request %s (%s): no event", id, m.Reason))
			a.notFinal++
		case len(evs) > 1 && statuses[0] == routers.StatusInvalid:
			a.duplicated = append(a.duplicated, fmt.Sprintf("invalid request %s (%s): %d distinct events %v", id, m.Reason, len(evs), statuses))
		default:
			a.lost = append(a.lost, fmt.Sprintf("invalid request %s (%s): events %v", id, m.Reason, statuses))
		}
	}
	created := 0
	for _, sim := range s.districts {
		created += sim.Created()
	}
	if created != len(e.valid) {
		a.duplicated = append(a.duplicated, fmt.Sprintf("districts created %d appeals for %d valid requests", created, len(e.valid)))
	}
	slices.Sort(a.lost)
	slices.Sort(a.duplicated)
	return a
}

// readyz is the status code of a hub's /readyz, 0 when it does not answer.
func readyz(addr string) int {
	client := http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
