package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/korpu-az/korpu/adapters/amqp"
	"github.com/korpu-az/korpu/adapters/district/esd"
	"github.com/korpu-az/korpu/adapters/district/rest"
	"github.com/korpu-az/korpu/adapters/httpapi"
	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/adapters/tlsconf"
	"github.com/korpu-az/korpu/cmd/korpu/config"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/catalogue"
)

// startupBudget is how long serve waits for the broker and database to
// answer at start, so the hub and its services may start in any order.
const startupBudget = 2 * time.Minute

func loadConfig(args []string, name string, getenv env) (*config.Config, *slog.Logger, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	path := fs.String("config", "korpu.yaml", "the hub's config file")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	return readConfig(*path, getenv)
}

// readConfig builds the logger and reads the operator's file at path.
func readConfig(path string, getenv env) (*config.Config, *slog.Logger, error) {
	logger, err := newLogger(getenv)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := config.Load(path, getenv, catalogue.Default().Codes())
	if err != nil {
		return nil, nil, err
	}
	logger.Info("effective config", "config", cfg)
	return cfg, logger, nil
}

// openLedger connects to PostgreSQL (waiting for it at start) and migrates.
func openLedger(ctx context.Context, url string, logger *slog.Logger) (*pgxpool.Pool, error) {
	pool, err := backoff.Retry(ctx, func() (*pgxpool.Pool, error) {
		pool, err := postgres.Open(ctx, url)
		if err != nil {
			logger.Warn("waiting for PostgreSQL", "error", err)
		}
		return pool, err
	}, backoff.WithMaxElapsedTime(startupBudget))
	if err != nil {
		return nil, err
	}
	if err := postgres.Migrate(ctx, pool, logger); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

func migrate(ctx context.Context, args []string, getenv env) error {
	cfg, logger, err := loadConfig(args, "migrate", getenv)
	if err != nil {
		return err
	}
	pool, err := openLedger(ctx, cfg.Postgres.URL, logger)
	if err != nil {
		return err
	}
	pool.Close()
	logger.Info("migrations applied")
	return nil
}

// districtAdapters builds one client per district system, and the pollers
// of those that cannot call back.
func districtAdapters(cfg *config.Config, now func() time.Time, logger *slog.Logger) (map[string]routers.District, map[string]routers.Polled, error) {
	districts := make(map[string]routers.District, len(cfg.Districts))
	polled := map[string]routers.Polled{}
	for _, d := range cfg.Districts {
		dlog := logger.With("district", d.Code)
		tc, err := tlsconf.Client(d.TLS)
		if err != nil {
			return nil, nil, fmt.Errorf("district %s: tls: %w", d.Code, err)
		}
		switch d.Adapter {
		case config.AdapterREST:
			client, err := rest.New(rest.Config{Code: d.Code, Endpoint: d.Endpoint, Token: d.Token, Timeout: d.Timeout, Now: now, TLS: tc}, nil, dlog)
			if err != nil {
				return nil, nil, fmt.Errorf("district %s: %w", d.Code, err)
			}
			districts[d.Code] = client
		case config.AdapterESD:
			client, err := esd.New(esd.Config{Code: d.Code, Endpoint: d.Endpoint, Username: d.Username, Password: d.Password, Timeout: d.Timeout, Now: now, TLS: tc}, nil, dlog)
			if err != nil {
				return nil, nil, fmt.Errorf("district %s: %w", d.Code, err)
			}
			districts[d.Code] = client
			polled[d.Code] = routers.Polled{Poller: esd.Poller{Client: client}, Interval: d.PollInterval}
		default:
			return nil, nil, fmt.Errorf("district %s: unknown adapter %q", d.Code, d.Adapter)
		}
	}
	return districts, polled, nil
}

// brokerCollectors are serve's metrics of the hub's queues, asked of the broker.
func brokerCollectors(inspector *amqp.Inspector) func(queues []string) []prometheus.Collector {
	return func(queues []string) []prometheus.Collector {
		return []prometheus.Collector{amqp.NewQueueCollector(inspector, queues)}
	}
}

func serve(ctx context.Context, args []string, getenv env) error {
	// SIGHUP asks for a reload; until the hub runs, one waits in hup
	// rather than ending the process, as it would by default.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	path := fs.String("config", "korpu.yaml", "the hub's config file")
	pidFile := fs.String("pid-file", "", "write the process id to this file, for korpu reload")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, logger, err := readConfig(*path, getenv)
	if err != nil {
		return err
	}
	stopPprof, err := servePprof(ctx, getenv, logger)
	if err != nil {
		return fmt.Errorf("KORPU_PPROF_LISTEN: %w", err)
	}
	defer stopPprof()
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http.listen: %w", err)
	}
	defer ln.Close()
	var hooks []func(*config.Config) error
	if cfg.HTTP.TLS != nil {
		certs, err := tlsconf.NewServer(*cfg.HTTP.TLS)
		if err != nil {
			return fmt.Errorf("http.tls: %w", err)
		}
		ln = tls.NewListener(ln, certs.Config())
		hooks = append(hooks, reloadTLS(certs, cfg.HTTP.TLS.ClientCAFile != "", logger))
	}

	pool, err := openLedger(ctx, cfg.Postgres.URL, logger)
	if err != nil {
		return err
	}
	defer pool.Close()
	if why, err := postgres.Rewriter(ctx, pool); err != nil {
		return err
	} else if why != "" {
		logger.Warn("the record is tamper-evident, not tamper-proof, for this role: " + why +
			"; run the hub as a role that only reads and appends (README, A record no one rewrites unseen)")
	}

	// A pool of channels: without one the publisher opens a channel per publish.
	broker := amqp.Config{URL: cfg.AMQP.URL, ChannelPoolSize: 8}
	if broker.Topology, err = topology(cfg); err != nil {
		return err
	}
	waitCtx, cancel := context.WithTimeout(ctx, startupBudget)
	err = amqp.WaitForBroker(waitCtx, cfg.AMQP.URL)
	cancel()
	if err != nil {
		return fmt.Errorf("rabbitmq: %w", err)
	}
	wmLogger := watermillLogger(logger)
	publisher, err := amqp.NewPublisher(broker, wmLogger)
	if err != nil {
		return err
	}
	defer publisher.Close()
	subscriber, err := amqp.NewSubscriber(broker, wmLogger)
	if err != nil {
		return err
	}
	defer subscriber.Close()
	inspector, err := amqp.NewInspector(cfg.AMQP.URL)
	if err != nil {
		return err
	}
	defer inspector.Close()

	relayPublisher := amqp.NewBatchPublisher(cfg.AMQP.URL)
	defer relayPublisher.Close()

	// One clock for the whole process: the ledger, the hub, the desk and
	// the collectors compare times that each other wrote.
	clock := time.Now
	w, err := wireHub(cfg, substrate{
		ledger: postgres.NewLedger(pool, clock), publisher: publisher, subscriber: subscriber,
		outbox:     amqpOutbox{relayPublisher},
		ready:      []httpapi.Check{{Name: "postgres", Check: pool.Ping}, {Name: "rabbitmq", Check: inspector.Ping}},
		collectors: brokerCollectors(inspector),
		queues:     inspector,
	}, clock, logger)
	if err != nil {
		return err
	}
	if err := declareQueues(ctx, cfg, broker.Topology, w.hub.Queues()); err != nil {
		return err
	}
	logger.Info("queues declared", "queue_type", cfg.AMQP.QueueType, "longest_hold", w.hub.LongestHold(),
		"advice", "RabbitMQ's consumer_timeout must be well above longest_hold (README, Quorum queues)")
	if *pidFile != "" {
		remove, err := writePIDFile(*pidFile)
		if err != nil {
			return err
		}
		defer remove()
	}
	r := &reloader{path: *path, getenv: getenv, logger: logger, current: cfg, live: w.live, hooks: hooks}
	go r.run(ctx, hup)
	go warmFigures(ctx, w.monitor, logger)
	return runHub(ctx, logger, w.hub, w.router, ln, w.handler)
}

// warmFigures asks the country's figures of the last year once at start,
// so the ledger rolls up the days that are over before a monitor asks: on
// a national ledger the first year's roll-up takes tens of seconds, longer
// than a page may. Several hubs doing it at once is safe (each span is
// written once); a failure only leaves the work to the first view.
func warmFigures(ctx context.Context, monitor *routers.Monitor, logger *slog.Logger) {
	started := time.Now()
	p, err := monitor.ParsePeriod(routers.PeriodYear, "", "")
	if err == nil {
		_, err = monitor.Country(ctx, p)
	}
	if err != nil {
		logger.Warn("figures not rolled up at start; the first view will", "error", err)
		return
	}
	logger.Info("figures rolled up", "took", time.Since(started).Round(time.Millisecond))
}
