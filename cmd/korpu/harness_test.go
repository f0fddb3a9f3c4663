package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/amqp"
	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/adapters/postgres/postgrestest"
	"github.com/korpu-az/korpu/adapters/sim/esdsim"
	"github.com/korpu-az/korpu/adapters/sim/portalsim"
	"github.com/korpu-az/korpu/adapters/sim/registrysim"
	"github.com/korpu-az/korpu/adapters/sim/restdistrict"
	"github.com/korpu-az/korpu/cmd/korpu/config"
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
	portalKey     = "e2e-portal-key-0123456789abcdefghij"
	registryToken = "e2e-registry-token-0123456789abcdefghij"
)

// districtToken is what the hub presents to REST district code, and
// callbackToken what that district presents on its callbacks: each at
// least 32 characters and no one else's, as the config requires.
func districtToken(code string) string { return "e2e-district-token-0123456789-" + code }

func callbackToken(code string) string { return "e2e-callback-token-0123456789-" + code }

// stackOptions shape a stack; the zero value of every field but codes is
// what the end-to-end tests use.
type stackOptions struct {
	codes []string
	// hubs is how many hub processes the stack may run, each with its own
	// http.listen; with more than one, districts call back through a proxy
	// that forwards to any live hub. Default 1.
	hubs int
	// hubTuning is the body of the config's hub map after the queue names.
	// Default "retry_initial: 100ms, retry_max: 1s".
	hubTuning string
	// districtTimeout gives some districts their own `timeout`.
	districtTimeout map[string]time.Duration
	// failRate is the share of calls every district answers 503.
	failRate float64
	// progress, if not nil, is what the REST simulators report after
	// accepting an appeal; empty: nothing, the test calls back itself.
	progress []string
	// forwardTo and extendReason are what the REST simulators put in a
	// forwarded report and in their first in_progress report (contract §4
	// v1.1; restdistrict.Options): by default another body, and no extension.
	forwardTo, extendReason string
	// registryFailRate is the share of lookups the registry answers 503.
	registryFailRate float64
	// wrap, if set, stands in front of each district's simulator (to inject latency).
	wrap func(code string, h http.Handler) http.Handler
	// observe, if set, sees every status event as it arrives, before the tracker.
	observe func(routers.StatusEvent)
	// esdCodes are districts on the legacy ESD system (SOAP, polled) rather
	// than REST; esdBusyRate is the share of their calls answered SISTEM_MESGUL.
	esdCodes    []string
	esdBusyRate float64
	// httpTLS, if set, is the config's http.tls (a flow map), and https the
	// client that trusts the hubs' certificate, which waitReady asks.
	httpTLS string
	https   *http.Client
	// checkpointKey, if set, is the hubs' audit.checkpoint_key: the
	// transparency log runs, its checkpoints on topics.Checkpoints.
	checkpointKey string
	// amqpURLs, if set, are the broker's nodes (the hubs' amqp.urls), which
	// the portal's side dials too; default the one node of amqpURL().
	amqpURLs []string
	// postgresAdmin, if set, is the server the stack's database is made on
	// (a URL that may list several hosts); default postgrestest.AdminURL.
	postgresAdmin string
}

// stack is one isolated world: its own database, queues, simulators and
// hub processes.
type stack struct {
	t         *testing.T
	id        string
	dir       string
	broker    string // the broker's address as adapters/amqp takes it
	dbURL     string
	hubAddr   string   // the first hub's
	hubAddrs  []string // by hub index
	configs   []string // by hub index
	config    string   // the first hub's
	registry  *registrysim.Sim
	districts map[string]*restdistrict.Sim
	esd       map[string]*esdsim.Sim
	envelopes *envelopeRecorder // every SOAP request the hubs sent
	tracker   *portalsim.Tracker
	publisher message.Publisher
	topics    routers.Topics
	// topology declares the stack's queues as its hubs do, for the tests'
	// own subscribers.
	topology *amqp.Topology
	codes    []string
	https    *http.Client // set: the hubs serve HTTPS (stackOptions.https)
}

// deadLetters reads the hub's dead letters from its database.
func (s *stack) deadLetters(kind routers.DeadLetterKind) []routers.DeadLetter {
	s.t.Helper()
	pool, err := postgres.Open(s.t.Context(), s.dbURL)
	require.NoError(s.t, err)
	defer pool.Close()
	letters, err := postgres.NewLedger(pool, time.Now).DeadLetters(s.t.Context(), "", 0, 10000)
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
	return newStackWith(t, stackOptions{codes: codes, failRate: 0.05})
}

// newStackWith is newStack shaped by opts.
func newStackWith(t *testing.T, opts stackOptions) *stack {
	t.Helper()
	if opts.hubs < 1 {
		opts.hubs = 1
	}
	if opts.hubTuning == "" {
		opts.hubTuning = "retry_initial: 100ms, retry_max: 1s"
	}
	if opts.postgresAdmin == "" {
		opts.postgresAdmin = postgrestest.AdminURL()
	}
	amqpConfig := fmt.Sprintf("url: %q", amqpURL())
	broker := amqpURL()
	if len(opts.amqpURLs) > 0 {
		quoted := make([]string, len(opts.amqpURLs))
		for i, u := range opts.amqpURLs {
			quoted[i] = strconv.Quote(u) // a flow sequence reads an unquoted ':' as a mapping
		}
		amqpConfig = fmt.Sprintf("urls: [%s]", strings.Join(quoted, ", "))
		var err error
		broker, err = amqp.JoinNodes(opts.amqpURLs...)
		require.NoError(t, err)
	}
	id := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	s := &stack{
		t: t, id: id, dir: t.TempDir(), broker: broker, dbURL: postgrestest.NewDatabaseOn(t, opts.postgresAdmin),
		districts: map[string]*restdistrict.Sim{}, esd: map[string]*esdsim.Sim{}, envelopes: &envelopeRecorder{},
		tracker: portalsim.NewTracker(), codes: append(slices.Clone(opts.codes), opts.esdCodes...), https: opts.https,
		topics: routers.Topics{
			Requests: "test." + id + ".requests", Status: "test." + id + ".status",
			Poison: "test." + id + ".poison", DistrictQueuePrefix: "test." + id + ".district.",
			Oversight: "test." + id + ".oversight", Checkpoints: "test." + id + ".checkpoints",
		},
	}
	for range opts.hubs {
		s.hubAddrs = append(s.hubAddrs, freeAddr(t))
	}
	s.hubAddr = s.hubAddrs[0]
	callbackURL := "http://" + s.hubAddr
	if opts.hubs > 1 {
		proxy := httptest.NewServer(newCallbackProxy(s.hubAddrs))
		t.Cleanup(proxy.Close)
		callbackURL = proxy.URL
	}
	s.registry = registrysim.New(registrysim.Options{Token: registryToken, Latency: 2 * time.Millisecond, FailRate: opts.registryFailRate})
	registrySrv := httptest.NewServer(s.registry)
	t.Cleanup(registrySrv.Close)

	var districts strings.Builder
	for _, code := range opts.codes {
		sim := restdistrict.New(restdistrict.Options{
			Code: code, Token: districtToken(code), CallbackURL: callbackURL, CallbackToken: callbackToken(code),
			StepDelay: 50 * time.Millisecond, FailRate: opts.failRate, Progress: opts.progress,
			ForwardTo: opts.forwardTo, ExtendReason: opts.extendReason,
		})
		ctx, cancel := context.WithCancel(context.Background())
		sim.Start(ctx)
		var handler http.Handler = sim
		if opts.wrap != nil {
			handler = opts.wrap(code, sim)
		}
		srv := httptest.NewServer(handler)
		t.Cleanup(func() { srv.Close(); cancel(); sim.Close() })
		s.districts[code] = sim
		timeout := ""
		if d, ok := opts.districtTimeout[code]; ok {
			timeout = fmt.Sprintf("\n    timeout: %s", d)
		}
		fmt.Fprintf(&districts, `
  - code: %s
    adapter: rest
    endpoint: %s
    allow_insecure_http: true
    token: %s
    callback_token: %s
    services: all%s
    officials:
      - id: %s-01
        name: Test Official
        reception: [{ weekday: tuesday, from: "10:00", to: "13:00", capacity: 500 }, { weekday: thursday, from: "10:00", to: "13:00", capacity: 500 }]
`, code, srv.URL, districtToken(code), callbackToken(code), timeout, strings.TrimPrefix(code, "AZ-"))
	}
	for _, code := range opts.esdCodes {
		sim := esdsim.New(esdsim.Options{Code: code, Username: "hub", Password: esdPassword(code), BusyRate: opts.esdBusyRate, StepDelay: 50 * time.Millisecond})
		srv := httptest.NewServer(s.envelopes.wrap(sim))
		t.Cleanup(srv.Close)
		s.esd[code] = sim
		fmt.Fprintf(&districts, `
  - code: %s
    adapter: esd
    endpoint: %s/esd
    allow_insecure_http: true
    username: hub
    password: %s
    poll_interval: 200ms
    services: all
    officials:
      - id: %s-01
        name: Test Official
        reception: [{ weekday: tuesday, from: "10:00", to: "13:00", capacity: 500 }, { weekday: thursday, from: "10:00", to: "13:00", capacity: 500 }]
`, code, srv.URL, esdPassword(code), strings.TrimPrefix(code, "AZ-"))
	}
	listenTLS := ""
	if opts.httpTLS != "" {
		listenTLS = ", tls: " + opts.httpTLS
	}
	for i, addr := range s.hubAddrs {
		cfg := fmt.Sprintf(`
amqp: { %s }
postgres: { url: %q }
http: { listen: %q%s }
portal:
  requests_queue: %s
  status_queue: %s
  signing_key: ${KORPU_PORTAL_KEY}
  token: %s
monitor: { token: %s }
access: [{ name: duty-operator, role: operator, token: %s }]
registry: { url: %q, token: "${KORPU_REGISTRY_TOKEN}", allow_insecure_http: true }
hub: { poison_queue: %s, district_queue_prefix: %s, oversight_queue: %s, checkpoint_queue: %s, %s }
districts:%s`, amqpConfig, s.dbURL, addr, listenTLS, s.topics.Requests, s.topics.Status, e2ePortalToken, e2eMonitorToken, e2eOperatorToken, registrySrv.URL,
			s.topics.Poison, s.topics.DistrictQueuePrefix, s.topics.Oversight, s.topics.Checkpoints, opts.hubTuning, districts.String())
		if opts.checkpointKey != "" {
			cfg += fmt.Sprintf("\naudit: { checkpoint_key: %q }\n", opts.checkpointKey)
		}
		path := filepath.Join(s.dir, fmt.Sprintf("korpu-%d.yaml", i))
		require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
		s.configs = append(s.configs, path)
	}
	s.config = s.configs[0]

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The portal's queues as a portal would make them; the hub's as the
	// hubs will (amqp.queue_type's default), before anyone subscribes.
	portal := []string{s.topics.Requests, s.topics.Status}
	own := []string{s.topics.Poison, s.topics.Oversight, s.topics.Checkpoints}
	for _, code := range s.codes {
		own = append(own, s.topics.District(code))
	}
	queues := append(slices.Clone(portal), own...)
	// On one node the portal's queues are classic, as a portal makes them
	// there; a cluster's portal leaves them to the hubs' topology, which
	// makes them quorum queues, so that they survive a node.
	if len(opts.amqpURLs) == 0 {
		require.NoError(t, amqp.DeclareQueues(ctx, broker, portal...))
	}
	topo, err := amqp.NewTopology(amqp.Quorum, config.DefaultDeliveryLimit, s.topics.Poison)
	require.NoError(t, err)
	require.NoError(t, topo.Declare(ctx, broker, own, portal))
	s.topology = topo
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = amqp.PurgeAndDelete(ctx, broker, queues...)
	})

	logger := watermill.NopLogger{}
	pub, err := amqp.NewPublisher(amqp.Config{URL: broker, ChannelPoolSize: 4}, logger)
	require.NoError(t, err)
	t.Cleanup(func() { _ = pub.Close() })
	s.publisher = pub
	// With the topology: on a cluster the status queue is a quorum queue.
	sub, err := amqp.NewSubscriber(amqp.Config{URL: broker, Topology: topo}, logger)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Close() })
	subCtx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	statuses, err := sub.Subscribe(subCtx, s.topics.Status)
	require.NoError(t, err)
	if opts.observe != nil {
		statuses = observed(statuses, opts.observe)
	}
	go s.tracker.Consume(subCtx, statuses)
	return s
}

// observed shows every event of in to observe and passes the message on.
func observed(in <-chan *message.Message, observe func(routers.StatusEvent)) <-chan *message.Message {
	out := make(chan *message.Message)
	go func() {
		defer close(out)
		for msg := range in {
			var ev routers.StatusEvent
			if json.Unmarshal(msg.Payload, &ev) == nil {
				observe(ev)
			}
			out <- msg
		}
	}()
	return out
}

// callbackProxy forwards district callbacks to any live hub: it tries the
// hubs in turn, starting at the next in rotation, until one answers, so a
// killed hub loses no callback.
type callbackProxy struct {
	addrs []string
	next  atomic.Uint64
	base  http.RoundTripper
}

func newCallbackProxy(addrs []string) http.Handler {
	p := &callbackProxy{addrs: addrs, base: http.DefaultTransport.(*http.Transport).Clone()}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", addrs[0] // RoundTrip picks the hub
		},
		Transport: p,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "no hub answers: "+err.Error(), http.StatusBadGateway)
		},
	}
}

// RoundTrip implements http.RoundTripper.
func (p *callbackProxy) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	first := int(p.next.Add(1))
	var errs []error
	for i := range p.addrs {
		out := req.Clone(req.Context())
		out.URL.Host = p.addrs[(first+i)%len(p.addrs)]
		out.Host = out.URL.Host
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.ContentLength = int64(len(body))
		resp, err := p.base.RoundTrip(out)
		if err == nil {
			return resp, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// hubProcess is one running `korpu serve`.
type hubProcess struct {
	index int
	addr  string
	cmd   *exec.Cmd
	done  chan error
	log   string
}

// startHub starts the first hub and waits until it is ready.
func (s *stack) startHub() *hubProcess {
	s.t.Helper()
	return s.startHubAt(0)
}

// startHubAt starts hub i (its own config and address) and waits until it is ready.
func (s *stack) startHubAt(i int) *hubProcess {
	s.t.Helper()
	logPath := filepath.Join(s.dir, fmt.Sprintf("hub-%d-%d.log", i, time.Now().UnixNano()))
	logFile, err := os.Create(logPath)
	require.NoError(s.t, err)
	cmd := exec.Command(korpuBinary, "serve", "--config", s.configs[i], "--pid-file", s.pidFile(i))
	cmd.Env = append(os.Environ(), "KORPU_PORTAL_KEY="+portalKey, "KORPU_REGISTRY_TOKEN="+registryToken)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(s.t, cmd.Start())
	h := &hubProcess{index: i, addr: s.hubAddrs[i], cmd: cmd, done: make(chan error, 1), log: logPath}
	go func() { h.done <- cmd.Wait(); logFile.Close() }()
	s.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			s.t.Logf("hub %d stopped at cleanup: %v", i, <-h.done)
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

// pidFile is where hub i writes its process id, for korpu reload.
func (s *stack) pidFile(i int) string { return filepath.Join(s.dir, fmt.Sprintf("hub-%d.pid", i)) }

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
		client, scheme := http.DefaultClient, "http"
		if s.https != nil {
			client, scheme = s.https, "https"
		}
		resp, err := client.Get(scheme + "://" + h.addr + "/readyz")
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

// generatorWith is the portal's generator over the stack's districts.
func (s *stack) generatorWith(seed uint64, badRate, duplicateRate float64) *portalsim.Generator {
	var districts []portalsim.District
	for _, code := range s.codes {
		districts = append(districts, portalsim.District{Code: code, Officials: []portalsim.Official{{
			ID: strings.TrimPrefix(code, "AZ-") + "-01", Capacity: map[time.Weekday]int{time.Tuesday: 500, time.Thursday: 500},
		}}})
	}
	return portalsim.NewGenerator(portalsim.Options{
		Districts: districts, Catalogue: catalogue.Default(), Calendar: calendar.Default(),
		SigningKey: []byte(portalKey), Seed: seed, BadRate: badRate, DuplicateRate: duplicateRate,
	})
}

func (s *stack) generator() *portalsim.Generator { return s.generatorWith(42, 0.2, 0.08) }

// portalMessage is m as the portal puts it on the requests queue.
func portalMessage(m portalsim.Message) *message.Message {
	msg := message.NewMessage(uuid.NewString(), m.Body)
	msg.Metadata.Set(routers.SignatureHeader, m.Signature)
	return msg
}

func (s *stack) publish(m portalsim.Message) {
	s.t.Helper()
	require.NoError(s.t, s.publisher.Publish(s.topics.Requests, portalMessage(m)))
}

// publishGenerated publishes n messages of gen and returns what they owe.
func (s *stack) publishGenerated(gen *portalsim.Generator, n int) *expectations {
	s.t.Helper()
	e := newExpectations()
	for range n {
		m := gen.Next()
		e.add(m)
		s.publish(m)
	}
	return e
}

// restartAndVerify starts the hub again, waits within for every request of
// e at its final status, and checks every promise.
func (s *stack) restartAndVerify(e *expectations, within time.Duration) {
	s.t.Helper()
	s.startHub()
	waitFor(s.t, within, "every appeal answered after the restart", func() bool {
		c, _ := s.tracker.Counts()
		return s.answered(e) == len(e.valid) && c[routers.StatusInvalid] >= len(e.invalid)
	})
	s.verify(e)
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
	mu         sync.Mutex
	valid      map[string]portalsim.Message // by request id
	invalid    map[string]portalsim.Message
	poisoned   int // dead letters they make: one per distinct body
	duplicates int

	poisonBodies map[string]bool
}

func newExpectations() *expectations {
	return &expectations{valid: map[string]portalsim.Message{}, invalid: map[string]portalsim.Message{}, poisonBodies: map[string]bool{}}
}

func (e *expectations) add(m portalsim.Message) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch m.Outcome {
	case portalsim.Registered:
		e.valid[m.ID] = m
	case portalsim.Invalid:
		e.invalid[m.ID] = m
	case portalsim.Poisoned:
		// The same bytes again (the generator's one non-JSON body) are a
		// repeat of the letter the first made.
		if !e.poisonBodies[string(m.Body)] {
			e.poisonBodies[string(m.Body)] = true
			e.poisoned++
		}
	case portalsim.Duplicate:
		e.duplicates++
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

		if sim, ok := s.esd[m.District]; ok {
			a, ok := sim.Appeal(number)
			require.True(t, ok, "ESD district %s never registered %s", m.District, number)
			require.Equal(t, m.FIN, a.FIN, "the registry's person record travels with the appeal (Vetendas)")
			require.NotEmpty(t, a.Soyad, "Vetendas carries the registry's surname")
			continue
		}
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
	for _, sim := range s.esd {
		total += sim.Registered()
	}
	require.Equal(t, len(e.valid), total, "each valid appeal created once in its district, nothing else")
	// The poison queue's keeper files what it takes as dead letters.
	waitFor(t, 10*time.Second, "poisoned messages filed as dead letters", func() bool {
		return len(s.deadLetters(routers.DeadPoison)) >= e.poisoned
	})
	require.Len(t, s.deadLetters(routers.DeadPoison), e.poisoned, "poisoned messages, each filed once")
}

// esdPassword is what the simulated ESD system of code expects in the
// UsernameToken: each district's own, as the config requires.
func esdPassword(code string) string { return "e2e-esd-password-" + code }

// envelopeRecorder keeps every SOAP request on its way to a simulated ESD,
// so a test can check them all against the vendor's XSD.
type envelopeRecorder struct {
	mu        sync.Mutex
	envelopes [][]byte
}

func (r *envelopeRecorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPost {
			body, err := io.ReadAll(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.mu.Lock()
			r.envelopes = append(r.envelopes, body)
			r.mu.Unlock()
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, req)
	})
}

func (r *envelopeRecorder) all() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.envelopes)
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
