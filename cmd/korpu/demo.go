package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/korpu-az/korpu/adapters/memory"
	"github.com/korpu-az/korpu/adapters/sim/esdsim"
	"github.com/korpu-az/korpu/adapters/sim/portalsim"
	"github.com/korpu-az/korpu/adapters/sim/portalweb"
	"github.com/korpu-az/korpu/adapters/sim/registrysim"
	"github.com/korpu-az/korpu/adapters/sim/restdistrict"
	"github.com/korpu-az/korpu/cmd/korpu/config"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/catalogue"
	"github.com/korpu-az/korpu/routers/tlog"
)

// demoConfig is the hub's embedded default: Biləsuvar on the legacy ESD
// system (SOAP, polled) offering every service, and three REST districts,
// all served by built-in simulators on 127.0.0.1 (hence plain http).
const demoConfig = `
amqp: { url: "amqp://demo.invalid/" }
postgres: { url: "postgres://demo.invalid/korpu" }
http: { listen: "${DEMO_LISTEN}" }
portal:
  requests_queue: egov.portal.requests
  status_queue: egov.portal.status
  signing_key: demo-portal-key-on-this-machine-only
  token: demo-portal-token-on-this-machine-only
  details_url: "http://${DEMO_LISTEN}/portal/appeals/{number}"   # the printed appeal's QR code opens the training page
registry: { url: "${DEMO_SIMS}/registry", token: demo-registry-token-on-this-machine-only, allow_insecure_http: true }
monitor: { token: demo-monitor-token-on-this-machine-only }
audit: { checkpoint_key: "${DEMO_CHECKPOINT_KEY}" }
population_file: ${DEMO_POPULATION}
hub: { intake_consumers: 1, delivery_consumers: 1, retry_initial: 200ms, retry_max: 5s, checkpoint_interval: 10s }
districts:
  - code: AZ-BIL
    adapter: esd
    endpoint: ${DEMO_SIMS}/districts/AZ-BIL
    allow_insecure_http: true
    username: hub
    password: demo-esd-password-on-this-machine-only
    poll_interval: 500ms
    services: all
    officials:
      - id: BIL-01
        name: Əliyev Rauf Kamal oğlu
        reception: [{ weekday: tuesday, from: "10:00", to: "13:00", capacity: 200 }]
      - id: BIL-02
        name: Həsənova Aygün Tofiq qızı
        reception:
          - { weekday: monday, from: "14:00", to: "17:00", capacity: 150 }
          - { weekday: thursday, from: "10:00", to: "12:00", capacity: 100 }
  - code: AZ-SAT
    adapter: rest
    endpoint: ${DEMO_SIMS}/districts/AZ-SAT
    allow_insecure_http: true
    token: demo-sat-token-on-this-machine-only
    callback_token: demo-sat-callback-on-this-machine-only
    services: [appeal, reception-booking, family-composition-certificate, housing-registration]
    officials:
      - id: SAT-01
        name: Quliyev Elçin Rasim oğlu
        reception: [{ weekday: wednesday, from: "09:00", to: "12:00", capacity: 250 }]
  - code: AZ-SAB
    adapter: rest
    endpoint: ${DEMO_SIMS}/districts/AZ-SAB
    allow_insecure_http: true
    token: demo-sab-token-on-this-machine-only
    callback_token: demo-sab-callback-on-this-machine-only
    services: [appeal, housing-registration, child-name-change, minor-guardianship]
  - code: AZ-IMI
    adapter: rest
    endpoint: ${DEMO_SIMS}/districts/AZ-IMI
    allow_insecure_http: true
    token: demo-imi-token-on-this-machine-only
    callback_token: demo-imi-callback-on-this-machine-only
    services: [appeal, dwelling-replanning, architectural-approval, lease-contract-change]
`

func demo(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8080", "address of the hub's HTTP API (metrics, callbacks)")
	perSecond := fs.Float64("rate", 40, "portal requests per second (0: as fast as the hub takes them)")
	duration := fs.Duration("duration", 0, "stop after this long (0: until Ctrl-C)")
	verbose := fs.Bool("verbose", false, "log every step as JSON on stderr")
	historyDays := fs.Int("history-days", demoPast.Days, "days of past appeals written before the live traffic starts (0: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelError // the districts' simulated 503s would drown the progress lines
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	var lc net.ListenConfig
	hubLn, err := lc.Listen(ctx, "tcp", *listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	defer hubLn.Close()
	simLn, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer simLn.Close()
	hubURL := "http://" + hubLn.Addr().String()
	simsURL := "http://" + simLn.Addr().String()

	population, err := writeDemoPopulation()
	if err != nil {
		return err
	}
	defer os.Remove(population)
	cfg, err := parseDemoConfig(hubLn.Addr().String(), simsURL, population)
	if err != nil {
		return err
	}

	// The outside world: the registry and one REST system per district.
	sims := http.NewServeMux()
	sims.Handle("/registry/", http.StripPrefix("/registry", registrysim.New(registrysim.Options{Token: cfg.Registry.Token, Latency: 5 * time.Millisecond})))
	for _, d := range cfg.Districts {
		var sim http.Handler
		if d.Adapter == config.AdapterESD {
			// A busy legacy system: one call in ten answered SISTEM_MESGUL.
			sim = esdsim.New(esdsim.Options{Code: d.Code, Username: d.Username, Password: d.Password,
				BusyRate: 0.1, Latency: 15 * time.Millisecond, StepDelay: 400 * time.Millisecond, Logger: logger})
		} else {
			rs := restdistrict.New(restdistrict.Options{
				Code: d.Code, Token: d.Token, CallbackURL: hubURL, CallbackToken: d.CallbackToken,
				StepDelay: 300 * time.Millisecond, Latency: 10 * time.Millisecond, FailRate: 0.05, Logger: logger,
			})
			rs.Start(ctx)
			defer rs.Close()
			sim = rs
		}
		prefix := "/districts/" + d.Code
		sims.Handle(prefix, http.StripPrefix(prefix, sim))
		sims.Handle(prefix+"/", http.StripPrefix(prefix, sim))
	}
	simSrv := &http.Server{Handler: sims, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = simSrv.Serve(simLn) }()
	defer simSrv.Close()

	// In-process pub/sub instead of RabbitMQ, an in-memory ledger instead of
	// PostgreSQL. Blocking until the subscriber acks keeps each topic in
	// publish order, as a queue does; GoChannel otherwise hands every message
	// over in a goroutine of its own and the portal would see events reordered.
	pubsub := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 4096, BlockPublishUntilSubscriberAck: true}, watermillLogger(logger))
	defer pubsub.Close()
	// One clock for the whole process: the ledger, the hub, the desk and
	// the collectors compare times that each other wrote.
	// While the past is written, it reads the instant being written.
	pinned := &pinnedClock{}
	clock := pinned.Now
	w, err := wireHub(cfg, substrate{ledger: memory.NewLedger(clock), publisher: pubsub, subscriber: keepOpen{pubsub}}, clock, logger)
	if err != nil {
		return err
	}
	if *historyDays > 0 {
		if err := writeDemoPast(ctx, stdout, cfg, w, pinned, pastPlan{Days: *historyDays, PerDay: demoPast.PerDay, Citizens: demoPast.Citizens}); err != nil {
			return err
		}
	}
	if *duration > 0 { // of live traffic, after the past is written
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}

	// The portal: a tracker of status events, a poison counter, a publisher.
	tracker := portalsim.NewTracker()
	statuses, err := pubsub.Subscribe(ctx, cfg.Portal.StatusQueue)
	if err != nil {
		return err
	}
	go tracker.Consume(ctx, statuses)
	poisoned, err := pubsub.Subscribe(ctx, cfg.Hub.PoisonQueue)
	if err != nil {
		return err
	}
	var poisonCount atomic.Int64
	go func() {
		for msg := range poisoned {
			poisonCount.Add(1)
			msg.Ack()
		}
	}()
	gen := portalsim.NewGenerator(portalsim.Options{
		Districts: portalDistricts(cfg), Catalogue: w.validator.Catalogue, Calendar: w.validator.Calendar,
		SigningKey: []byte(cfg.Portal.NewestKey()), Seed: uint64(clock().UnixNano()),
	})
	var sent atomic.Int64
	go func() {
		<-w.router.Running()
		_, _ = portalsim.Feed{
			Next: func() (portalsim.Message, bool) { return gen.Next(), true },
			Send: func(_ context.Context, _ int, batch []*message.Message) error {
				return pubsub.Publish(cfg.Portal.RequestsQueue, batch...)
			},
			Rate: *perSecond, Sent: &sent,
		}.Run(ctx) // ends with ctx, or when the stopping demo closes the pub/sub
	}()

	// The portal's web page for training: a client of the hub's API and of
	// the requests queue, on the hub's listener.
	portal, err := portalweb.New(portalweb.Config{
		HubURL: hubURL, PortalToken: cfg.TokenOf(config.PortalParty),
		RegistryURL: cfg.Registry.URL, RegistryToken: cfg.Registry.Token,
		SigningKey: []byte(cfg.Portal.NewestKey()), Now: clock, Logger: logger.With("component", "portalweb"),
		Send: func(_ context.Context, m portalweb.Message) error {
			return pubsub.Publish(cfg.Portal.RequestsQueue, portalsim.Message{ID: m.ID, Body: m.Body, Signature: m.Signature}.WatermillMessage())
		},
	})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/portal/", portal)
	mux.Handle("/", w.handler)

	fmt.Fprintf(stdout, "Körpü demo: hub API on %s (try %s/metrics), the portal's page on %s/portal/, the monitors' dashboard on %s/monitor/ (token %s), simulators on %s. Ctrl-C stops.\n",
		hubURL, hubURL, hubURL, hubURL, cfg.TokenOf(config.MonitorParty), simsURL)
	go printProgress(ctx, stdout, tracker, &sent, &poisonCount)
	err = runHub(ctx, logger, w.hub, w.router, hubLn, mux)
	counts, _ := tracker.Counts()
	fmt.Fprintf(stdout, "\nstopped: sent %d, registered %d, delivered %d, answered %d, invalid %d, poisoned %d; order violations: %d\n",
		sent.Load(), counts[routers.StatusRegistered], counts[routers.StatusDelivered], counts[routers.StatusAnswered],
		counts[routers.StatusInvalid], poisonCount.Load(), len(tracker.Violations()))
	return err
}

// keepOpen hands the router the in-process pub/sub without letting it close
// it: the router closes its subscribers when it stops, and the hub's last
// outbox flush still publishes through the same GoChannel. The demo closes
// it itself at the end.
type keepOpen struct{ message.Subscriber }

func (keepOpen) Close() error { return nil }

// portalDistricts tells the portal simulator what the districts offer.
func portalDistricts(cfg *config.Config) []portalsim.District {
	var out []portalsim.District
	for _, d := range cfg.Districts {
		pd := portalsim.District{Code: d.Code, Services: d.Services}
		for _, o := range d.Officials {
			pd.Officials = append(pd.Officials, portalsim.Official{ID: o.ID, Capacity: o.Capacity()})
		}
		out = append(out, pd)
	}
	return out
}

// printProgress prints one line a second: totals and the rate of each.
func printProgress(ctx context.Context, w io.Writer, tracker *portalsim.Tracker, sent, poisoned *atomic.Int64) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	start := time.Now()
	var last [6]int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c, _ := tracker.Counts()
		now := [6]int64{sent.Load(), int64(c[routers.StatusRegistered]), int64(c[routers.StatusDelivered]),
			int64(c[routers.StatusAnswered]), int64(c[routers.StatusInvalid]), poisoned.Load()}
		names := [6]string{"received", "registered", "delivered", "answered", "invalid", "poisoned"}
		var b strings.Builder
		fmt.Fprintf(&b, "%5.0fs", time.Since(start).Seconds())
		for i := range now {
			fmt.Fprintf(&b, "  %s %d (%+d/s)", names[i], now[i], now[i]-last[i])
		}
		fmt.Fprintln(w, b.String())
		last = now
	}
}

// demoPopulation is the residents of the demo's districts, rounded and
// approximate (about 2023): enough for the figures per 1,000 residents,
// not official statistics.
const demoPopulation = `AZ-BIL: 105000
AZ-SAT: 108000
AZ-SAB: 182000
AZ-IMI: 130000
`

// parseDemoConfig is demoConfig with the hub's address, the simulators'
// base URL and the population file filled in.
func parseDemoConfig(listen, sims, population string) (*config.Config, error) {
	// A new checkpoint key each start: the demo's log lives as long as its
	// memory, and the hub logs the verifier key.
	checkpointKey, _, err := tlog.GenerateKey("korpu.demo/log")
	if err != nil {
		return nil, fmt.Errorf("demo checkpoint key: %w", err)
	}
	cfg, err := config.Parse([]byte(demoConfig), func(name string) (string, bool) {
		switch name {
		case "DEMO_CHECKPOINT_KEY":
			return checkpointKey, true
		case "DEMO_LISTEN":
			return listen, true
		case "DEMO_SIMS":
			return sims, true
		case "DEMO_POPULATION":
			return population, true
		}
		return "", false
	}, catalogue.Default().Codes())
	if err != nil {
		return nil, fmt.Errorf("demo config: %w", err)
	}
	return cfg, nil
}

// writeDemoPopulation puts demoPopulation where the config's
// population_file reads it, as an operator's file would be.
func writeDemoPopulation() (string, error) {
	f, err := os.CreateTemp("", "korpu-demo-population-*.yaml")
	if err != nil {
		return "", fmt.Errorf("demo population: %w", err)
	}
	_, err = f.WriteString(demoPopulation)
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return "", fmt.Errorf("demo population: %w", err)
	}
	return f.Name(), nil
}
