package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/korpu-az/korpu/adapters/amqp"
	"github.com/korpu-az/korpu/adapters/sim/esdsim"
	"github.com/korpu-az/korpu/adapters/sim/registrysim"
	"github.com/korpu-az/korpu/adapters/sim/restdistrict"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/tlog"
	"github.com/korpu-az/korpu/schemas"
)

// Secrets of the bench's world; they never leave the machine.
const (
	signingKey    = "bench-portal-key-0123456789abcdefghij"
	portalToken   = "bench-portal-token-0123456789abcdefghij"
	registryToken = "bench-registry-token-0123456789abcdefghij"
	esdUsername   = "hub"
	// An ESD district's password is this followed by its code's letters.
	esdPassword = "bench-esd-password-0123456789abcdefghij-"
	// A REST district's tokens are these followed by its code's letters.
	benchDistrictToken = "bench-district-token-0123456789-"
	benchCallbackToken = "bench-callback-token-0123456789-"
)

// Simulator pace: no latency, no failures, and progress soon after
// delivery so in_progress and answered follow quickly.
const (
	restStepDelay = 10 * time.Millisecond
	esdStepDelay  = 50 * time.Millisecond
	// esdPollInterval is how often the hub asks the ESD simulators for changes.
	esdPollInterval = 500 * time.Millisecond
	// receptionCapacity is every official's places per session: enough that
	// no generated booking is refused for a full day.
	receptionCapacity = 100000
)

// stack is the bench's world: a database, queue names, the simulators and
// the hub processes.
type stack struct {
	opts   Options
	log    *slog.Logger
	id     string
	dir    string
	dbName string
	dbURL  string
	topics routers.Topics
	// ceilingQueue carries the broker's single-hop ceiling run.
	ceilingQueue string
	codes        []string
	esd          map[string]bool
	rest         map[string]*restdistrict.Sim
	esdSims      map[string]*esdsim.Sim
	servers      []*http.Server
	hubAddrs     []string
	configs      []string
	hubs         []*hubProcess
	closeSims    []func()
}

// hubProcess is one running `korpu serve`.
type hubProcess struct {
	addr string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func randomID() (string, error) {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// districtCodes returns the first n codes of the embedded ISO 3166-2:AZ list.
func districtCodes(n int) ([]string, error) {
	var list []struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(schemas.Districts, &list); err != nil {
		return nil, fmt.Errorf("districts.json: %w", err)
	}
	if n > len(list) {
		return nil, fmt.Errorf("--districts %d: ISO 3166-2:AZ has only %d codes a config may name", n, len(list))
	}
	codes := make([]string, n)
	for i := range n {
		codes[i] = list[i].Code
	}
	return codes, nil
}

// newStack creates the database and queue names and starts the simulators;
// hubs start later (startHubs). close undoes everything.
func newStack(ctx context.Context, opts Options, log *slog.Logger) (s *stack, err error) {
	id, err := randomID()
	if err != nil {
		return nil, err
	}
	codes, err := districtCodes(opts.Districts)
	if err != nil {
		return nil, err
	}
	s = &stack{
		opts: opts, log: log, id: id, codes: codes, dbName: "korpu_bench_" + id,
		esd: map[string]bool{}, rest: map[string]*restdistrict.Sim{}, esdSims: map[string]*esdsim.Sim{},
		topics: routers.Topics{
			Requests: "bench." + id + ".requests", Status: "bench." + id + ".status",
			Poison: "bench." + id + ".poison", DistrictQueuePrefix: "bench." + id + ".district.",
			Oversight: "bench." + id + ".oversight", Checkpoints: "bench." + id + ".checkpoints",
		},
		ceilingQueue: "bench." + id + ".ceiling",
	}
	for _, code := range codes[:opts.ESD] {
		s.esd[code] = true
	}
	defer func() {
		if err != nil {
			s.close(context.WithoutCancel(ctx))
		}
	}()
	if s.dir, err = os.MkdirTemp("", "korpu-bench-"); err != nil {
		return s, err
	}
	if s.dbURL, err = s.createDatabase(ctx); err != nil {
		return s, err
	}
	if err := amqp.WaitForBroker(ctx, opts.AMQPURL); err != nil {
		return s, err
	}
	// The portal's queues and the ceiling run's, as a portal would make
	// them; the hubs declare their own (amqp.queue_type) at start.
	if err := amqp.DeclareQueues(ctx, opts.AMQPURL, s.topics.Requests, s.topics.Status, s.ceilingQueue); err != nil {
		return s, err
	}
	for range opts.Hubs {
		addr, err := freeAddr()
		if err != nil {
			return s, err
		}
		s.hubAddrs = append(s.hubAddrs, addr)
	}
	if err := s.startSimulators(ctx); err != nil {
		return s, err
	}
	return s, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// queues lists every queue of the run, the hub's and the bench's own.
func (s *stack) queues() []string {
	q := []string{s.topics.Requests, s.topics.Status, s.topics.Poison, s.topics.Oversight, s.topics.Checkpoints, s.ceilingQueue}
	for _, code := range s.codes {
		q = append(q, s.topics.District(code))
	}
	return q
}

func (s *stack) createDatabase(ctx context.Context) (string, error) {
	admin, err := pgx.Connect(ctx, s.opts.PostgresURL)
	if err != nil {
		return "", fmt.Errorf("postgres: connect to --postgres-url: %w", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+s.dbName); err != nil {
		return "", fmt.Errorf("postgres: create database %s: %w", s.dbName, err)
	}
	u, err := url.Parse(s.opts.PostgresURL)
	if err != nil {
		return "", fmt.Errorf("--postgres-url: %w", err)
	}
	u.Path = "/" + s.dbName
	return u.String(), nil
}

func (s *stack) dropDatabase(ctx context.Context) error {
	admin, err := pgx.Connect(ctx, s.opts.PostgresURL)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+s.dbName+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("postgres: drop database %s: %w", s.dbName, err)
	}
	return nil
}

// serve runs h on a fresh local port and returns its URL.
func (s *stack) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	s.servers = append(s.servers, srv)
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// callbackProxy spreads the districts' status callbacks over the hubs.
func callbackProxy(addrs []string) http.Handler {
	var next atomic.Uint64
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = addrs[next.Add(1)%uint64(len(addrs))]
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "no hub answers: "+err.Error(), http.StatusBadGateway)
		},
	}
}

// startSimulators starts the registry and one simulator per district, and
// writes each hub's config.
func (s *stack) startSimulators(ctx context.Context) error {
	registryURL, err := s.serve(registrysim.New(registrysim.Options{Token: registryToken}))
	if err != nil {
		return err
	}
	callbackURL := "http://" + s.hubAddrs[0]
	if len(s.hubAddrs) > 1 {
		if callbackURL, err = s.serve(callbackProxy(s.hubAddrs)); err != nil {
			return err
		}
	}
	var districts strings.Builder
	for _, code := range s.codes {
		short := strings.TrimPrefix(code, "AZ-")
		var (
			h     http.Handler
			extra string
		)
		if s.esd[code] {
			sim := esdsim.New(esdsim.Options{Code: code, Username: esdUsername, Password: esdPassword + short, StepDelay: esdStepDelay})
			s.esdSims[code] = sim
			h = sim
			extra = fmt.Sprintf("    adapter: esd\n    username: %s\n    password: %s\n    poll_interval: %s\n", esdUsername, esdPassword+short, esdPollInterval)
		} else {
			sim := restdistrict.New(restdistrict.Options{
				Code: code, Token: benchDistrictToken + short, CallbackURL: callbackURL, CallbackToken: benchCallbackToken + short, StepDelay: restStepDelay,
			})
			sim.Start(context.WithoutCancel(ctx))
			s.closeSims = append(s.closeSims, sim.Close)
			s.rest[code] = sim
			h = sim
			extra = fmt.Sprintf("    adapter: rest\n    token: %s\n    callback_token: %s\n", benchDistrictToken+short, benchCallbackToken+short)
		}
		endpoint, err := s.serve(h)
		if err != nil {
			return err
		}
		fmt.Fprintf(&districts, `
  - code: %s
    endpoint: %s
    allow_insecure_http: true
%s    services: all
    officials:
      - id: %s
        name: Bench Official
        reception: [{ weekday: tuesday, from: "10:00", to: "13:00", capacity: %d }, { weekday: thursday, from: "10:00", to: "13:00", capacity: %d }]
`, code, endpoint, extra, officialID(code), receptionCapacity, receptionCapacity)
	}
	tuning := ", checkpoint_queue: " + s.topics.Checkpoints
	if s.opts.HubTuning != "" {
		tuning += ", " + s.opts.HubTuning
	}
	audit := ""
	if s.opts.Log {
		key, _, err := tlog.GenerateKey("korpu.bench/log")
		if err != nil {
			return fmt.Errorf("checkpoint key: %w", err)
		}
		audit = fmt.Sprintf("audit: { checkpoint_key: %q }\n", key)
	}
	for i, addr := range s.hubAddrs {
		cfg := fmt.Sprintf(`amqp: { url: %q }
postgres: { url: %q }
http: { listen: %q }
portal:
  requests_queue: %s
  status_queue: %s
  signing_key: %s
  token: %s
registry: { url: %q, token: %s, allow_insecure_http: true }
hub: { poison_queue: %s, district_queue_prefix: %s, oversight_queue: %s%s }
%sdistricts:%s`, s.opts.AMQPURL, s.dbURL, addr, s.topics.Requests, s.topics.Status, signingKey, portalToken,
			registryURL, registryToken, s.topics.Poison, s.topics.DistrictQueuePrefix, s.topics.Oversight, tuning, audit, districts.String())
		path := filepath.Join(s.dir, fmt.Sprintf("korpu-%d.yaml", i))
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			return err
		}
		s.configs = append(s.configs, path)
	}
	return nil
}

func officialID(code string) string { return strings.TrimPrefix(code, "AZ-") + "-01" }

// setDown makes a district's simulator answer 503 (true) or serve again.
func (s *stack) setDown(code string, down bool) {
	if sim, ok := s.rest[code]; ok {
		sim.SetDown(down)
	}
	if sim, ok := s.esdSims[code]; ok {
		sim.SetDown(down)
	}
}

// startHubs starts every hub process and returns once each answers /readyz.
func (s *stack) startHubs(ctx context.Context) error {
	for i, cfg := range s.configs {
		logPath := filepath.Join(s.dir, fmt.Sprintf("hub-%d.log", i))
		logFile, err := os.Create(logPath)
		if err != nil {
			return err
		}
		cmd := exec.Command(s.opts.Binary, "serve", "--config", cfg)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		cmd.Env = append(os.Environ(), "KORPU_LOG_LEVEL="+s.opts.HubLogLevel)
		if err := cmd.Start(); err != nil {
			logFile.Close()
			return fmt.Errorf("start hub %d: %w", i, err)
		}
		h := &hubProcess{addr: s.hubAddrs[i], cmd: cmd, log: logPath, done: make(chan struct{})}
		go func() { _ = cmd.Wait(); logFile.Close(); close(h.done) }()
		s.hubs = append(s.hubs, h)
	}
	for _, h := range s.hubs {
		if err := waitReady(ctx, h); err != nil {
			return err
		}
	}
	return nil
}

func (s *stack) hubPIDs() []int {
	pids := make([]int, len(s.hubs))
	for i, h := range s.hubs {
		pids[i] = h.cmd.Process.Pid
	}
	return pids
}

// hubsAlive reports an error naming the first hub that has exited.
func (s *stack) hubsAlive() error {
	for i, h := range s.hubs {
		select {
		case <-h.done:
			return fmt.Errorf("hub %d exited: %s", i, tail(h.log))
		default:
		}
	}
	return nil
}

func waitReady(ctx context.Context, h *hubProcess) error {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-h.done:
			return fmt.Errorf("hub exited before it was ready: %s", tail(h.log))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if resp, err := http.Get("http://" + h.addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("hub on %s not ready within 2 minutes: %s", h.addr, tail(h.log))
}

// tail is the end of a log file, for an error message.
func tail(path string) string {
	raw, _ := os.ReadFile(path)
	if len(raw) > 2000 {
		raw = raw[len(raw)-2000:]
	}
	return fmt.Sprintf("log %s:\n%s", path, raw)
}

// relayed scrapes korpu_outbox_relayed_total from every hub's /metrics.
func (s *stack) relayed(ctx context.Context) (float64, error) {
	var sum float64
	for _, h := range s.hubs {
		v, err := scrapeCounter(ctx, "http://"+h.addr+"/metrics", "korpu_outbox_relayed_total")
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, nil
}

// scrapeCounter reads a counter from a Prometheus /metrics page: the sum of
// its series.
func scrapeCounter(ctx context.Context, metricsURL, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeProtoDelim)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", metricsURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("scrape %s: %s", metricsURL, resp.Status)
	}
	return findCounter(expfmt.NewDecoder(resp.Body, expfmt.ResponseFormat(resp.Header)), name)
}

// findCounter sums the series of the counter name that dec holds.
func findCounter(dec expfmt.Decoder, name string) (float64, error) {
	for {
		var mf dto.MetricFamily
		err := dec.Decode(&mf)
		if errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("no counter %s", name)
		}
		if err != nil {
			return 0, fmt.Errorf("metrics: %w", err)
		}
		if mf.GetName() != name {
			continue
		}
		if mf.GetType() != dto.MetricType_COUNTER {
			return 0, fmt.Errorf("%s is a %s, not a counter", name, mf.GetType())
		}
		var sum float64
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
		return sum, nil
	}
}

// stopHubs asks every hub to stop (SIGTERM) and kills those still running after 20 s.
func (s *stack) stopHubs() {
	for _, h := range s.hubs {
		_ = h.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, h := range s.hubs {
		select {
		case <-h.done:
		case <-time.After(20 * time.Second):
			_ = h.cmd.Process.Kill()
			<-h.done
		}
	}
}

// close stops the hubs and simulators, deletes the queues and drops the
// database; the temporary directory (configs, hub logs) goes unless keep.
func (s *stack) close(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	s.stopHubs()
	for _, srv := range s.servers {
		_ = srv.Close()
	}
	for _, c := range s.closeSims {
		c()
	}
	var errs []error
	errs = append(errs, amqp.PurgeAndDelete(ctx, s.opts.AMQPURL, s.queues()...))
	if s.dbURL != "" {
		errs = append(errs, s.dropDatabase(ctx))
	}
	if err := errors.Join(errs...); err != nil {
		s.log.Warn("bench cleanup incomplete", "error", err)
	}
	if s.dir != "" && !s.opts.KeepLogs {
		_ = os.RemoveAll(s.dir)
	}
}
