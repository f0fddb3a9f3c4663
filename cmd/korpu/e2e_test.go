package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/amqp"
	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/adapters/postgres/postgrestest"
	"github.com/korpu-az/korpu/adapters/sim/portalsim"
	"github.com/korpu-az/korpu/adapters/sim/registrysim"
	"github.com/korpu-az/korpu/adapters/sim/restdistrict"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
	"github.com/korpu-az/korpu/routers/catalogue"
)

// korpuBinary is the real binary, built once by TestMain.
var korpuBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "korpu-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	korpuBinary = filepath.Join(dir, "korpu")
	build := exec.Command("go", "build", "-o", korpuBinary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build korpu:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func amqpURL() string {
	if u := os.Getenv("KORPU_TEST_AMQP_URL"); u != "" {
		return u
	}
	return "amqp://guest:guest@127.0.0.1:5672/"
}

const (
	portalKey     = "e2e-portal-key"
	registryToken = "e2e-registry-token"
)

// stack is one isolated world: its own database, queues, simulators and
// hub processes.
type stack struct {
	t         *testing.T
	id        string
	dir       string
	dbURL     string
	hubAddr   string
	config    string
	registry  *registrysim.Sim
	districts map[string]*restdistrict.Sim
	tracker   *portalsim.Tracker
	publisher message.Publisher
	topics    routers.Topics
	codes     []string
}

// deadLetters reads the hub's dead letters from its database.
func (s *stack) deadLetters(kind routers.DeadLetterKind) []routers.DeadLetter {
	s.t.Helper()
	pool, err := postgres.Open(s.t.Context(), s.dbURL)
	require.NoError(s.t, err)
	defer pool.Close()
	letters, err := postgres.NewLedger(pool).DeadLetters(s.t.Context(), "", 0, 10000)
	require.NoError(s.t, err)
	var out []routers.DeadLetter
	for _, dl := range letters {
		if dl.Kind == kind {
			out = append(out, dl)
		}
	}
	return out
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// newStack starts the simulators and the portal's side; hubs start later.
func newStack(t *testing.T, codes ...string) *stack {
	t.Helper()
	id := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	s := &stack{
		t: t, id: id, dir: t.TempDir(), dbURL: postgrestest.NewDatabase(t), hubAddr: freeAddr(t),
		districts: map[string]*restdistrict.Sim{}, tracker: portalsim.NewTracker(), codes: codes,
		topics: routers.Topics{
			Requests: "test." + id + ".requests", Status: "test." + id + ".status",
			Poison: "test." + id + ".poison", DistrictQueuePrefix: "test." + id + ".district.",
		},
	}
	s.registry = registrysim.New(registrysim.Options{Token: registryToken, Latency: 2 * time.Millisecond})
	registrySrv := httptest.NewServer(s.registry)
	t.Cleanup(registrySrv.Close)

	var districts strings.Builder
	for _, code := range codes {
		sim := restdistrict.New(restdistrict.Options{
			Code: code, Token: "token-" + code, CallbackURL: "http://" + s.hubAddr, CallbackToken: "callback-" + code,
			StepDelay: 50 * time.Millisecond, FailRate: 0.05,
		})
		ctx, cancel := context.WithCancel(context.Background())
		sim.Start(ctx)
		srv := httptest.NewServer(sim)
		t.Cleanup(func() { srv.Close(); cancel(); sim.Close() })
		s.districts[code] = sim
		fmt.Fprintf(&districts, `
  - code: %s
    adapter: rest
    endpoint: %s
    token: token-%s
    callback_token: callback-%s
    services: all
    officials:
      - id: %s-01
        name: Test Official
        reception: [{ weekday: tuesday, from: "10:00", to: "13:00", capacity: 500 }, { weekday: thursday, from: "10:00", to: "13:00", capacity: 500 }]
`, code, srv.URL, code, code, strings.TrimPrefix(code, "AZ-"))
	}
	s.config = filepath.Join(s.dir, "korpu.yaml")
	cfg := fmt.Sprintf(`
amqp: { url: %q }
postgres: { url: %q }
http: { listen: %q }
portal:
  requests_queue: %s
  status_queue: %s
  signing_key: ${KORPU_PORTAL_KEY}
registry: { url: %q, token: "${KORPU_REGISTRY_TOKEN}" }
hub: { poison_queue: %s, district_queue_prefix: %s, retry_initial: 100ms, retry_max: 1s }
districts:%s`, amqpURL(), s.dbURL, s.hubAddr, s.topics.Requests, s.topics.Status, registrySrv.URL,
		s.topics.Poison, s.topics.DistrictQueuePrefix, districts.String())
	require.NoError(t, os.WriteFile(s.config, []byte(cfg), 0o600))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	queues := []string{s.topics.Requests, s.topics.Status, s.topics.Poison}
	for _, code := range codes {
		queues = append(queues, s.topics.District(code))
	}
	require.NoError(t, amqp.DeclareQueues(ctx, amqpURL(), queues...))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = amqp.PurgeAndDelete(ctx, amqpURL(), queues...)
	})

	logger := watermill.NopLogger{}
	pub, err := amqp.NewPublisher(amqp.Config{URL: amqpURL(), ChannelPoolSize: 4}, logger)
	require.NoError(t, err)
	t.Cleanup(func() { _ = pub.Close() })
	s.publisher = pub
	sub, err := amqp.NewSubscriber(amqp.Config{URL: amqpURL()}, logger)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Close() })
	subCtx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	statuses, err := sub.Subscribe(subCtx, s.topics.Status)
	require.NoError(t, err)
	go s.tracker.Consume(subCtx, statuses)
	return s
}

// hubProcess is one running `korpu serve`.
type hubProcess struct {
	cmd  *exec.Cmd
	done chan error
	log  string
}

func (s *stack) startHub() *hubProcess {
	s.t.Helper()
	logPath := filepath.Join(s.dir, fmt.Sprintf("hub-%d.log", time.Now().UnixNano()))
	logFile, err := os.Create(logPath)
	require.NoError(s.t, err)
	cmd := exec.Command(korpuBinary, "serve", "--config", s.config)
	cmd.Env = append(os.Environ(), "KORPU_PORTAL_KEY="+portalKey, "KORPU_REGISTRY_TOKEN="+registryToken)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(s.t, cmd.Start())
	h := &hubProcess{cmd: cmd, done: make(chan error, 1), log: logPath}
	go func() { h.done <- cmd.Wait(); logFile.Close() }()
	s.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-h.done
		}
		if s.t.Failed() {
			tail, _ := os.ReadFile(logPath)
			if len(tail) > 4000 {
				tail = tail[len(tail)-4000:]
			}
			s.t.Logf("hub log %s (tail):\n%s", logPath, tail)
		}
	})
	s.waitReady(h)
	return h
}

func (s *stack) waitReady(h *hubProcess) {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-h.done:
			log, _ := os.ReadFile(h.log)
			s.t.Fatalf("hub exited before ready: %v\n%s", err, log)
		default:
		}
		resp, err := http.Get("http://" + s.hubAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatal("hub not ready within 60 s")
}

func (s *stack) generator() *portalsim.Generator {
	var districts []portalsim.District
	for _, code := range s.codes {
		districts = append(districts, portalsim.District{Code: code, Officials: []portalsim.Official{{
			ID: strings.TrimPrefix(code, "AZ-") + "-01", Capacity: map[time.Weekday]int{time.Tuesday: 500, time.Thursday: 500},
		}}})
	}
	return portalsim.NewGenerator(portalsim.Options{
		Districts: districts, Catalogue: catalogue.Default(), Calendar: calendar.Default(),
		SigningKey: []byte(portalKey), Seed: 42, BadRate: 0.2, DuplicateRate: 0.08,
	})
}

func (s *stack) publish(m portalsim.Message) {
	s.t.Helper()
	msg := message.NewMessage(uuid.NewString(), m.Body)
	msg.Metadata.Set(routers.SignatureHeader, m.Signature)
	require.NoError(s.t, s.publisher.Publish(s.topics.Requests, msg))
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// expectations tally what the sent messages must lead to.
type expectations struct {
	valid    map[string]portalsim.Message // by request id
	invalid  map[string]portalsim.Message
	poisoned int
}

func newExpectations() *expectations {
	return &expectations{valid: map[string]portalsim.Message{}, invalid: map[string]portalsim.Message{}}
}

func (e *expectations) add(m portalsim.Message) {
	switch m.Outcome {
	case portalsim.Registered:
		e.valid[m.ID] = m
	case portalsim.Invalid:
		e.invalid[m.ID] = m
	case portalsim.Poisoned:
		e.poisoned++
	}
}

// finalStatus is where the simulated districts take every appeal.
const finalStatus = routers.StatusAnswered

func (s *stack) answered(e *expectations) int {
	n := 0
	for id := range e.valid {
		evs := s.tracker.Request(id)
		if len(evs) > 0 && evs[len(evs)-1].Status == finalStatus {
			n++
		}
	}
	return n
}

// verify checks every promise for the messages of e.
func (s *stack) verify(e *expectations) {
	t := s.t
	t.Helper()
	require.Empty(t, s.tracker.Violations(), "event order")
	created := map[string]bool{}
	for id, m := range e.valid {
		evs := s.tracker.Request(id)
		require.NotEmpty(t, evs, "request %s (%s) has no events", id, m.District)
		number := evs[0].AppealNumber
		require.Regexp(t, `^`+m.District+`-\d{4}-\d{6}$`, number)
		distinct := distinctBySequence(s.tracker.Appeal(number))
		var statuses []routers.Status
		for i, ev := range distinct {
			require.Equal(t, i+1, ev.Sequence, "contiguous sequences of %s", number)
			require.NotEmpty(t, ev.Deadline)
			if ev.Status == routers.StatusCommented {
				continue // carries the comment's request id; checked by the comment test
			}
			require.Equal(t, id, ev.RequestID)
			statuses = append(statuses, ev.Status)
		}
		require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered, routers.StatusInProgress, routers.StatusAnswered}, statuses, number)
		require.False(t, created[number], "appeal number %s given twice", number)
		created[number] = true

		sim := s.districts[m.District]
		body, ok := sim.Appeal(number)
		require.True(t, ok, "district %s never received %s", m.District, number)
		var person struct {
			FIN string `json:"fin"`
		}
		require.NoError(t, json.Unmarshal(body.Person, &person))
		require.Equal(t, m.FIN, person.FIN, "the registry's person record travels with the appeal")
	}
	for id, m := range e.invalid {
		evs := s.tracker.Request(id)
		require.Len(t, distinctByEventID(evs), 1, "exactly one invalid event for %s (%s)", id, m.Reason)
		require.Equal(t, routers.StatusInvalid, evs[0].Status, m.Reason)
		require.Equal(t, 1, evs[0].Sequence)
		var named bool
		for _, fe := range evs[0].Errors {
			named = named || fe.Field == m.Field
		}
		require.True(t, named, "invalid event for %q names %q: %+v", m.Reason, m.Field, evs[0].Errors)
	}
	total := 0
	for _, sim := range s.districts {
		total += sim.Created()
	}
	require.Equal(t, len(e.valid), total, "each valid appeal created once in its district, nothing else")
	// The poison queue's keeper files what it takes as dead letters.
	waitFor(t, 10*time.Second, "poisoned messages filed as dead letters", func() bool {
		return len(s.deadLetters(routers.DeadPoison)) >= e.poisoned
	})
	require.Len(t, s.deadLetters(routers.DeadPoison), e.poisoned, "poisoned messages, each filed once")
}

func distinctBySequence(evs []routers.StatusEvent) []routers.StatusEvent {
	seen := map[int]bool{}
	var out []routers.StatusEvent
	for _, ev := range evs {
		if !seen[ev.Sequence] {
			seen[ev.Sequence] = true
			out = append(out, ev)
		}
	}
	return out
}

func distinctByEventID(evs []routers.StatusEvent) []routers.StatusEvent {
	seen := map[string]bool{}
	var out []routers.StatusEvent
	for _, ev := range evs {
		if !seen[ev.EventID] {
			seen[ev.EventID] = true
			out = append(out, ev)
		}
	}
	return out
}

// TestServeEndToEnd sends 500 requests, bad ones and repeats included,
// through the real binary, broker and database, and checks every promise.
func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	s := newStack(t, "AZ-BIL", "AZ-SAT", "AZ-SAB")
	gen := s.generator()
	e := newExpectations()
	// The requests wait in the queue before the hub starts, so the time to
	// drain them measures the hub, not this test's publishing.
	for range 500 {
		m := gen.Next()
		e.add(m)
		s.publish(m)
	}
	s.startHub()
	start := time.Now()
	waitFor(t, 2*time.Minute, "every request registered or invalid", func() bool {
		c, _ := s.tracker.Counts()
		return c[routers.StatusRegistered] >= len(e.valid) && c[routers.StatusInvalid] >= len(e.invalid)
	})
	registered := time.Since(start)
	waitFor(t, 2*time.Minute, "every appeal answered", func() bool { return s.answered(e) == len(e.valid) })
	answered := time.Since(start)
	t.Logf("500 requests (%d valid, %d invalid, %d poisoned, rest repeats) drained by serve: all registered or invalid after %s (%.0f requests/s); all answered through district callbacks after %s",
		len(e.valid), len(e.invalid), e.poisoned, registered.Round(time.Millisecond), 500/registered.Seconds(), answered.Round(time.Millisecond))

	// Comments: the filer's reach the district and add an event; others' are invalid.
	numbers := map[string]portalsim.Message{}
	for id, m := range e.valid {
		numbers[s.tracker.Request(id)[0].AppealNumber] = m
		if len(numbers) == 5 {
			break
		}
	}
	comments := newExpectations()
	for number, m := range numbers {
		own := gen.Comment(number, m.FIN, true)
		other := gen.Comment(number, m.FIN, false)
		comments.add(other)
		s.publish(own)
		s.publish(own) // a repeat is one comment
		s.publish(other)
	}
	waitFor(t, time.Minute, "comments", func() bool {
		for number := range numbers {
			if len(distinctBySequence(s.tracker.Appeal(number))) < 5 {
				return false
			}
		}
		c, _ := s.tracker.Counts()
		return c[routers.StatusInvalid] >= len(e.invalid)+len(comments.invalid)
	})
	for number, m := range numbers {
		evs := distinctBySequence(s.tracker.Appeal(number))
		require.Len(t, evs, 5, number)
		require.Equal(t, routers.StatusCommented, evs[4].Status)
		require.Len(t, s.districts[m.District].Comments(number), 1, "the district got the comment once")
	}
	s.verify(e)
	for id := range comments.invalid {
		evs := s.tracker.Request(id)
		require.Len(t, evs, 1)
		require.Equal(t, "citizen.fin", evs[0].Errors[0].Field)
	}
}

// TestServeSurvivesSIGKILL kills the hub mid-stream and restarts it:
// nothing is lost, nothing delivered twice, sequences intact.
func TestServeSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	s := newStack(t, "AZ-BIL", "AZ-SAT")
	hub := s.startHub()
	gen := s.generator()
	e := newExpectations()
	for range 500 {
		m := gen.Next()
		e.add(m)
		s.publish(m)
	}
	waitFor(t, time.Minute, "some progress before the kill", func() bool {
		c, _ := s.tracker.Counts()
		return c[routers.StatusRegistered] >= 50
	})
	require.NoError(t, hub.cmd.Process.Signal(syscall.SIGKILL))
	<-hub.done
	c, _ := s.tracker.Counts()
	t.Logf("killed after %d registered, %d delivered, %d answered", c[routers.StatusRegistered], c[routers.StatusDelivered], c[routers.StatusAnswered])
	require.Less(t, c[routers.StatusAnswered], len(e.valid), "the kill came mid-stream")

	s.startHub()
	waitFor(t, 3*time.Minute, "every appeal answered after the restart", func() bool {
		c, _ := s.tracker.Counts()
		return s.answered(e) == len(e.valid) && c[routers.StatusInvalid] >= len(e.invalid)
	})
	s.verify(e)
}

// TestServeRefusesBadConfig: a broken config stops the hub at start with
// a message naming the key, before it touches any service.
func TestServeRefusesBadConfig(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "korpu.yaml")
	require.NoError(t, os.WriteFile(path, []byte("amqp: { url: \"http://x\" }\ncolour: blue\n"), 0o600))
	out, err := exec.Command(korpuBinary, "serve", "--config", path).CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "amqp.url")
	require.Contains(t, string(out), "colour")
	require.True(t, bytes.Contains(out, []byte("districts")), "every problem is reported at once:\n%s", out)
}
