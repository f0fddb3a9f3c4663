// Package bench measures the hub end to end, for `korpu bench`: it starts
// real hub processes against the real RabbitMQ and PostgreSQL (a fresh
// database and fresh queue names, removed at the end), runs the registry and
// district simulators in its own process, publishes valid signed portal
// requests, and reports throughput, latency from publish to `registered` and
// `delivered`, CPU per appeal split by process group, the hubs' memory, and
// how close the hub comes to the broker's own single-hop ceiling.
//
// CPU times and memory come from /proc (Linux only), read with
// prometheus/procfs: utime+stime+cutime+cstime of each group's processes;
// the hubs' counters come from their /metrics, read with expfmt; the broker
// is reached only through adapters/amqp.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/korpu-az/korpu/cmd/korpu/config"
)

// Options configure a run; zero fields take the defaults noted.
type Options struct {
	// Binary is the korpu executable whose `serve` is measured. Required.
	Binary string
	// AMQPURL is RabbitMQ. Default amqp://guest:guest@127.0.0.1:5672/.
	AMQPURL string
	// PostgresURL is a database the bench may CREATE DATABASE from; the run's
	// own database korpu_bench_<random> lives beside it. Default
	// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
	PostgresURL string
	// Hubs is how many hub processes share the work. Default 1.
	Hubs int
	// Districts is how many districts the hub serves (the first codes of
	// ISO 3166-2:AZ, at most 90). Default 10.
	Districts int
	// ESD is how many of them run the legacy SOAP system; the rest are REST.
	// Default 1; negative means none.
	ESD int
	// Requests is how many requests are published. Default 20000; with Rate
	// and Duration both set, Rate × Duration.
	Requests int
	// Rate is requests per second; 0 publishes as fast as possible.
	Rate float64
	// Duration with Rate sets Requests.
	Duration time.Duration
	// Backlog publishes every request before the hubs start, then measures
	// their drain (the clock starts when the hubs do).
	Backlog bool
	// DownDistrict, if set, answers 503 until every other district's appeals
	// are delivered, then recovers.
	DownDistrict string
	// CeilingMessages is the size of the broker's single-hop ceiling run.
	// Default 20000; negative skips it.
	CeilingMessages int
	// CeilingPublishers and CeilingConsumers shape the ceiling run. Default
	// the hub's own: one publisher (one outbox relay runs at a time, whatever
	// the number of hubs) confirming batches of relay_batch, and
	// intake_consumers × Hubs consumers of prefetch 1.
	CeilingPublishers, CeilingConsumers int
	// HubTuning is added to the hub config's hub map, e.g.
	// "intake_consumers: 32, relay_batch: 500", and read by the config's own
	// rules (config.ParseTuning). Default none: the hub's defaults.
	HubTuning string
	// Log runs the transparency log (a checkpoint key made for the run), so
	// a run with and one without compare its cost. Default off: the events
	// queue for the log, which is neither sequenced nor signed.
	Log bool
	// HubLogLevel is the hubs' KORPU_LOG_LEVEL. Default info, as in production.
	HubLogLevel string
	// Publishers and Consumers are the bench's own goroutines publishing
	// requests and consuming status events. Default 4 each.
	Publishers, Consumers int
	// Timeout bounds the whole run. Default 30m.
	Timeout time.Duration
	// KeepLogs keeps the configs and hub logs in their temporary directory.
	KeepLogs bool
	// Reads measures the portal's reads instead (see runReads): it seeds
	// SeedAppeals appeals of SeedCitizens citizens, reads over the HTTP API,
	// then runs IntakeRounds rounds of Requests requests, every second one
	// with reads at ReadRate beside it.
	Reads bool
	// SeedAppeals and SeedCitizens size the seeded ledger of Reads and
	// Monitor. Default 1,000,000 and 100,000.
	SeedAppeals, SeedCitizens int
	// Monitor times the central monitors' views instead (see runMonitor):
	// it seeds the ledger as Reads does, then asks the country and a
	// district's view over 30 days and a year, MonitorCalls times each.
	Monitor bool
	// MonitorCalls is how many times each view is asked. Default 200.
	MonitorCalls int
	// ReadDuration is how long each read phase reads. Default 20s.
	ReadDuration time.Duration
	// Readers are the concurrent HTTP clients of a read phase. Default 8.
	Readers int
	// ReadRate is reads per second beside intake, history and details
	// alike; negative reads as fast as the readers can. Default 200.
	ReadRate float64
	// IntakeRounds alternate intake alone and intake with reads. Default 4;
	// negative skips the intake phase.
	IntakeRounds int
	// Progress receives a progress line a second; nil shows none.
	Progress io.Writer
	// Logger receives the bench's own logs. Default discards them.
	Logger *slog.Logger

	tuning    config.Hub // HubTuning read, defaults applied
	tuningErr error
}

func (o *Options) setDefaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if o.AMQPURL == "" {
		o.AMQPURL = "amqp://guest:guest@127.0.0.1:5672/"
	}
	if o.PostgresURL == "" {
		o.PostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	def(&o.Hubs, 1)
	def(&o.Districts, 10)
	def(&o.ESD, 1)
	o.ESD = max(o.ESD, 0)
	if o.Rate > 0 && o.Duration > 0 {
		o.Requests = int(math.Round(o.Rate * o.Duration.Seconds()))
	}
	if o.Reads || o.Monitor {
		def(&o.SeedAppeals, 1_000_000)
		def(&o.SeedCitizens, 100_000)
	}
	if o.Monitor {
		def(&o.MonitorCalls, 200)
		o.CeilingMessages = -1 // nor does the monitors' bench
	}
	if o.Reads {
		def(&o.Requests, 5000) // per intake round
		def(&o.Readers, 8)
		def(&o.IntakeRounds, 4)
		if o.ReadDuration <= 0 {
			o.ReadDuration = 20 * time.Second
		}
		if o.ReadRate == 0 {
			o.ReadRate = 200
		}
		o.CeilingMessages = -1 // the read bench measures no broker ceiling
	}
	def(&o.Requests, 20000)
	def(&o.CeilingMessages, 20000)
	def(&o.Publishers, 4)
	def(&o.Consumers, 4)
	if o.HubLogLevel == "" {
		o.HubLogLevel = "info"
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.tuning, o.tuningErr = config.ParseTuning(o.HubTuning)
	def(&o.CeilingConsumers, o.tuning.IntakeConsumers*o.Hubs)
	def(&o.CeilingPublishers, 1)
}

// Validate reports what is wrong with o, defaults applied.
func (o Options) Validate() error {
	var errs []error
	if o.Binary == "" {
		errs = append(errs, errors.New("no korpu binary"))
	}
	if o.Hubs < 1 || o.Districts < 1 || o.Requests < 1 || o.Publishers < 1 || o.Consumers < 1 {
		errs = append(errs, errors.New("hubs, districts, requests, publishers and consumers must be positive"))
	}
	if o.ESD > o.Districts {
		errs = append(errs, fmt.Errorf("--esd %d is more than --districts %d", o.ESD, o.Districts))
	}
	if _, err := districtCodes(o.Districts); err != nil {
		errs = append(errs, err)
	}
	if o.Rate < 0 {
		errs = append(errs, errors.New("negative rate"))
	}
	if o.Reads && o.Monitor {
		errs = append(errs, errors.New("--reads and --monitor are runs of their own"))
	}
	if o.Reads || o.Monitor {
		if o.Backlog || o.DownDistrict != "" {
			errs = append(errs, errors.New("--reads and --monitor run neither --backlog nor --down-district"))
		}
		if o.SeedAppeals < 1 || o.SeedCitizens < 1 || o.SeedCitizens > o.SeedAppeals {
			errs = append(errs, errors.New("--seed-appeals and --seed-citizens (at most the appeals) must be positive"))
		}
	}
	if o.Reads && o.Readers < 1 {
		errs = append(errs, errors.New("--readers must be positive"))
	}
	if o.Monitor && o.MonitorCalls < 1 {
		errs = append(errs, errors.New("--monitor-calls must be positive"))
	}
	if o.DownDistrict != "" {
		codes, err := districtCodes(min(o.Districts, 90))
		if err == nil && !slices.Contains(codes, o.DownDistrict) {
			errs = append(errs, fmt.Errorf("--down-district %s is not among the first %d districts (%s…)", o.DownDistrict, o.Districts, codes[0]))
		}
	}
	// It is written into the hub's config inside a flow mapping.
	if strings.ContainsAny(o.HubTuning, "{}\n") {
		errs = append(errs, errors.New("--hub-tuning is 'key: value, …' without braces or newlines"))
	} else if o.tuningErr != nil {
		errs = append(errs, fmt.Errorf("--hub-tuning: %w", o.tuningErr))
	}
	// The bench names the hub's queues itself.
	for _, key := range []string{"poison_queue", "district_queue_prefix", "checkpoint_queue"} {
		if strings.Contains(o.HubTuning, key) {
			errs = append(errs, fmt.Errorf("--hub-tuning: %s is the bench's own", key))
		}
	}
	return errors.Join(errs...)
}

// Run runs one benchmark and reports its figures.
func Run(ctx context.Context, opts Options) (*Report, error) {
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	log := opts.Logger
	s, err := newStack(ctx, opts, log)
	if err != nil {
		return nil, fmt.Errorf("bench: set up: %w", err)
	}
	defer s.close(context.WithoutCancel(ctx))
	if opts.KeepLogs {
		log.Info("configs and hub logs kept", "dir", s.dir)
	}

	if opts.Reads {
		return runReads(ctx, opts, s)
	}
	if opts.Monitor {
		return runMonitor(ctx, opts, s)
	}

	reqs, byID := generate(s.codes, opts.Requests, uint64(time.Now().UnixNano()))
	rep := newReport(opts, reqs)
	proc := newProcReader()

	if opts.CeilingMessages > 0 {
		log.Info("measuring the broker's single-hop ceiling", "messages", opts.CeilingMessages)
		c, err := runCeiling(ctx, opts.AMQPURL, s.ceilingQueue, reqs, opts.CeilingMessages,
			opts.CeilingPublishers, opts.CeilingConsumers, opts.tuning.RelayBatch, proc)
		if err != nil {
			return nil, fmt.Errorf("bench: ceiling: %w", err)
		}
		rep.setCeiling(opts, c)
	}
	if err := s.load(ctx, reqs, byID, rep, proc); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return rep, nil
}

// load publishes reqs through the portal's feed, starting the hubs unless
// they run, follows them until every appeal is answered, and fills rep.
func (s *stack) load(ctx context.Context, reqs []*request, byID map[string]*request, rep *Report, proc procReader) error {
	opts, log := s.opts, s.log
	o := &observer{byID: byID, down: opts.DownDistrict}
	stopConsuming, err := consumeStatus(ctx, opts.AMQPURL, s.topics.Status, opts.Consumers, o)
	if err != nil {
		return err
	}
	defer stopConsuming()
	if opts.DownDistrict != "" {
		s.setDown(opts.DownDistrict, true)
	}

	var (
		before    cpuSnapshot
		start     time.Time
		relayed0  float64
		published = make(chan error, 1)
	)
	if opts.Backlog {
		log.Info("publishing the backlog with the hubs stopped", "requests", len(reqs))
		t := time.Now()
		if err := publish(ctx, opts.AMQPURL, s.topics.Requests, reqs, byID, opts.Publishers, 0); err != nil {
			return err
		}
		rep.Backlog = &BacklogFigures{PublishSeconds: time.Since(t).Seconds()}
		published <- nil
		before, start = proc.snapshot(nil), time.Now()
		if err := s.startHubs(ctx); err != nil {
			return err
		}
		rep.Backlog.HubsReadySeconds = time.Since(start).Seconds()
	} else {
		if len(s.hubs) == 0 {
			if err := s.startHubs(ctx); err != nil {
				return err
			}
		}
		if relayed0, err = s.relayed(ctx); err != nil {
			return err
		}
		before, start = proc.snapshot(s.hubPIDs()), time.Now()
		go func() {
			published <- publish(ctx, opts.AMQPURL, s.topics.Requests, reqs, byID, opts.Publishers, opts.Rate)
		}()
	}

	w := &watcher{s: s, o: o, opts: opts, rep: rep, start: start, published: published, proc: proc}
	if err := w.wait(ctx); err != nil {
		return err
	}
	after := proc.snapshot(s.hubPIDs())
	relayed1, err := s.relayed(ctx)
	if err != nil {
		return err
	}
	rep.finish(o, reqs, start, before, after, relayed1-relayed0, s.hubPIDs(), w)
	return nil
}

// watcher follows the run until every appeal is answered and the hubs'
// outbox is quiet, draws the progress line, samples the hubs' memory and
// recovers the down district when its time comes.
type watcher struct {
	s         *stack
	o         *observer
	opts      Options
	rep       *Report
	start     time.Time
	published chan error
	proc      procReader

	recovered   time.Time
	rssAtFirst  []int64 // KiB, per hub, when the first appeal was registered
	rssSampled  bool
	downAppeals int64
}

func (w *watcher) wait(ctx context.Context) error {
	n := int64(len(w.o.byID))
	for _, r := range w.o.byID {
		if r.msg.District == w.opts.DownDistrict {
			w.downAppeals++
		}
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var (
		lastDraw     time.Time
		lastCount    int64
		lastRelayed  = -1.0
		stableSince  time.Time
		publishingOK bool
	)
	defer w.clearProgress()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w after %d registered, %d delivered, %d answered of %d", ctx.Err(),
				w.o.registered.Load(), w.o.delivered.Load(), w.o.answered.Load(), n)
		case err := <-w.published:
			if err != nil {
				return err
			}
			publishingOK = true
		case <-tick.C:
		}
		if err := w.s.hubsAlive(); err != nil {
			return err
		}
		if !w.rssSampled && w.o.registered.Load() > 0 && len(w.s.hubs) > 0 {
			w.rssSampled = true
			for _, pid := range w.s.hubPIDs() {
				rss, _ := w.proc.memory(pid)
				w.rssAtFirst = append(w.rssAtFirst, rss)
			}
		}
		if w.opts.DownDistrict != "" && w.recovered.IsZero() && w.o.othersDelivered.Load() == n-w.downAppeals {
			w.recovered = time.Now()
			w.s.setDown(w.opts.DownDistrict, false)
		}
		if now := time.Now(); now.Sub(lastDraw) >= time.Second {
			delivered := w.o.delivered.Load()
			w.draw(n, float64(delivered-lastCount)/now.Sub(lastDraw).Seconds())
			lastDraw, lastCount = now, delivered
		}
		if !publishingOK || w.o.answered.Load() < n {
			continue
		}
		// Everything is answered; wait until the outbox has nothing more to
		// relay and the bench has every event the hubs relayed.
		relayed, err := w.s.relayed(ctx)
		if err != nil {
			return err
		}
		if relayed != lastRelayed {
			lastRelayed, stableSince = relayed, time.Now()
			continue
		}
		if time.Since(stableSince) >= 500*time.Millisecond {
			return nil
		}
	}
}

func (w *watcher) draw(n int64, rate float64) {
	if w.opts.Progress == nil {
		return
	}
	const width = 30
	delivered := w.o.delivered.Load()
	filled := int(float64(width) * float64(delivered) / float64(n))
	fmt.Fprintf(w.opts.Progress, "\r[%s%s] registered %d/%d  delivered %d/%d  answered %d  %.0f delivered/s  %s ",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), w.o.registered.Load(), n, delivered, n,
		w.o.answered.Load(), rate, time.Since(w.start).Truncate(time.Second))
}

func (w *watcher) clearProgress() {
	if w.opts.Progress != nil {
		fmt.Fprintln(w.opts.Progress)
	}
}
