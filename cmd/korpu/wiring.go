package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/metrics"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/korpu-az/korpu/adapters/access"
	"github.com/korpu-az/korpu/adapters/authlimit"
	"github.com/korpu-az/korpu/adapters/document"
	"github.com/korpu-az/korpu/adapters/httpapi"
	"github.com/korpu-az/korpu/adapters/registry"
	"github.com/korpu-az/korpu/adapters/tlsconf"
	"github.com/korpu-az/korpu/cmd/korpu/config"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
	"github.com/korpu-az/korpu/routers/catalogue"
	"github.com/korpu-az/korpu/routers/tlog"
	"github.com/korpu-az/korpu/schemas"
)

// shutdownBudget bounds how long a stopping hub waits for in-flight work
// and the last outbox flush.
const shutdownBudget = 20 * time.Second

// directory turns the operator's district table into what the rules need.
func directory(cfg *config.Config) routers.Directory {
	dir := routers.Directory{Districts: make(map[string]routers.DistrictInfo, len(cfg.Districts))}
	for _, d := range cfg.Districts {
		info := routers.DistrictInfo{
			Code:        d.Code,
			Name:        d.Name,
			AllServices: d.AllServices,
			Services:    make(map[string]bool, len(d.Services)),
			Officials:   make(map[string]routers.Official, len(d.Officials)),
		}
		for _, s := range d.Services {
			info.Services[s] = true
		}
		for _, o := range d.Officials {
			official := routers.Official{ID: o.ID, Name: o.Name, Position: o.Position}
			for _, r := range o.Reception {
				official.Sessions = append(official.Sessions, routers.Session{Weekday: r.Weekday, From: r.From, To: r.To, Capacity: r.Capacity})
			}
			info.Officials[o.ID] = official
		}
		dir.Districts[d.Code] = info
	}
	return dir
}

// districtCodes lists the configured districts in the config's order.
func districtCodes(cfg *config.Config) []string {
	codes := make([]string, len(cfg.Districts))
	for i, d := range cfg.Districts {
		codes[i] = d.Code
	}
	return codes
}

// loadCalendar reads the embedded holidays and the operator's extra file.
func loadCalendar(cfg *config.Config) (*calendar.Calendar, error) {
	if cfg.HolidaysFile == "" {
		return calendar.Load(schemas.Holidays)
	}
	extra, err := os.ReadFile(cfg.HolidaysFile) //nolint:gosec // G304/G703: the operator's own file, named in the operator's config
	if err != nil {
		return nil, fmt.Errorf("holidays_file: %w", err)
	}
	cal, err := calendar.Load(schemas.Holidays, extra)
	if err != nil {
		return nil, fmt.Errorf("holidays_file %s: %w", cfg.HolidaysFile, err)
	}
	return cal, nil
}

// hubConfig maps the operator's tuning onto the hub's.
func hubConfig(cfg *config.Config) routers.Config {
	return routers.Config{
		Topics: routers.Topics{
			Requests:            cfg.Portal.RequestsQueue,
			Status:              cfg.Portal.StatusQueue,
			Poison:              cfg.Hub.PoisonQueue,
			DistrictQueuePrefix: cfg.Hub.DistrictQueuePrefix,
			Oversight:           cfg.Hub.OversightQueue,
			Checkpoints:         cfg.Hub.CheckpointQueue,
		},
		SigningKeys:        signingKeys(cfg),
		IntakeConsumers:    cfg.Hub.IntakeConsumers,
		DeliveryConsumers:  cfg.Hub.DeliveryConsumers,
		RegistryTimeout:    cfg.Hub.RegistryTimeout,
		DistrictTimeout:    cfg.Hub.DistrictTimeout,
		RetryInitial:       cfg.Hub.RetryInitial,
		RetryMax:           cfg.Hub.RetryMax,
		RelayBatch:         cfg.Hub.RelayBatch,
		RetryMaxAttempts:   cfg.Hub.RetryMaxAttempts,
		RetryMaxAge:        cfg.Hub.RetryMaxAge,
		BreakerFailures:    cfg.Hub.BreakerFailures,
		BreakerCooldown:    cfg.Hub.BreakerCooldown,
		ReconcileAfter:     cfg.Hub.ReconcileAfter,
		ReconcileInterval:  cfg.Hub.ReconcileInterval,
		OversightInterval:  cfg.Hub.OversightInterval,
		CheckpointInterval: cfg.Hub.CheckpointInterval,
		DistrictTimeouts:   districtTimeouts(cfg),
		DeliveryLimit:      deliveryLimit(cfg),
	}
}

// deliveryLimit is the queues' delivery limit for the hub to enforce: none
// on classic queues, which count no deliveries.
func deliveryLimit(cfg *config.Config) int {
	if cfg.AMQP.QueueType == config.QueueClassic {
		return 0
	}
	return cfg.AMQP.DeliveryLimit
}

// authLimitConfig is the allowance of failed authentications per source and route.
func authLimitConfig(cfg *config.Config) authlimit.Config {
	return authlimit.Config{Burst: cfg.Hub.AuthFailureBurst, Refill: cfg.Hub.AuthFailureRefill}
}

// districtTimeouts is each district's budget of one call: its own timeout
// key, else hub.district_timeout (the config has applied that already).
func districtTimeouts(cfg *config.Config) map[string]time.Duration {
	timeouts := make(map[string]time.Duration, len(cfg.Districts))
	for _, d := range cfg.Districts {
		timeouts[d.Code] = d.Timeout
	}
	return timeouts
}

// registryConfig maps the operator's registry and tuning onto the client's.
func registryConfig(cfg *config.Config) registry.Config {
	return registry.Config{
		URL: cfg.Registry.URL, Token: cfg.Registry.Token, Timeout: cfg.Hub.RegistryTimeout,
		MaxConcurrent: cfg.Hub.RegistryConcurrency, CacheTTL: cfg.Hub.RegistryCacheTTL,
	}
}

// newRegistryClient is the client of the registry the config describes.
func newRegistryClient(cfg *config.Config, now func() time.Time, logger *slog.Logger) (*registry.Client, error) {
	rc := registryConfig(cfg)
	rc.Now = now
	var err error
	if rc.TLS, err = tlsconf.Client(cfg.Registry.TLS); err != nil {
		return nil, fmt.Errorf("registry.tls: %w", err)
	}
	return registry.New(rc, nil, logger.With("component", "registry"))
}

func newValidator(cfg *config.Config) (*routers.Validator, error) {
	cal, err := loadCalendar(cfg)
	if err != nil {
		return nil, err
	}
	return &routers.Validator{Catalogue: catalogue.Default(), Calendar: cal, Directory: directory(cfg)}, nil
}

// store is a ledger as the wiring hands it on: to the hub, the dead-letter
// desk, the backlog collector, the read API, the monitors' figures and the
// check of printed copies.
// Both ledgers are one.
type store interface {
	routers.Ledger
	routers.DeadLetterBook
	routers.StatsLedger
	routers.InquiryLedger
	routers.DeadLetterCounter
	routers.FiguresLedger
	httpapi.Chains
	routers.LogLedger
	routers.LogReader
}

// substrate is what serve and demo choose differently beneath the hub: the
// ledger, the messaging, and what else readiness and /metrics report.
type substrate struct {
	ledger     store
	publisher  message.Publisher
	subscriber message.Subscriber
	outbox     routers.OutboxPublisher // nil: the relay publishes through publisher
	ready      []httpapi.Check
	// collectors, if set, are metrics of the hub's queues.
	collectors func(queues []string) []prometheus.Collector
	// queues, if set, tells the monitors how deep each district's queue is.
	queues routers.QueueInspector
}

// wiredHub is a hub ready to run, with its router and HTTP API.
type wiredHub struct {
	hub       *routers.Hub
	router    *message.Router
	handler   http.Handler
	validator *routers.Validator
	metrics   *prometheus.Registry // what /metrics serves
	monitor   *routers.Monitor     // the central monitors' figures, for the dashboard
	live      *live                // what a reload changes while it runs
}

// figuresTTL is how long the figures' gauges are reused: a scrape every
// few seconds by several Prometheus servers asks the ledger once.
const figuresTTL = 10 * time.Second

// wireHub builds what the operator's config describes on sub: the rules,
// the registry and district clients, the hub, its router and its HTTP API.
// serve and demo both start the hub through it. now is the process's one
// clock.
func wireHub(cfg *config.Config, sub substrate, now func() time.Time, logger *slog.Logger) (*wiredHub, error) {
	validator, err := newValidator(cfg)
	if err != nil {
		return nil, err
	}
	districts, polled, err := districtAdapters(cfg, now, logger)
	if err != nil {
		return nil, err
	}
	registryClient, err := newRegistryClient(cfg, now, logger)
	if err != nil {
		return nil, err
	}
	reg := newRegistry()
	tokens := access.NewTokens(accessTable(cfg))
	deps := routers.Deps{
		Ledger: sub.ledger, Registry: registryClient, Districts: districts, Polled: polled, Validator: validator,
		Publisher: sub.publisher, Subscriber: sub.subscriber, Outbox: sub.outbox,
		Metrics: routers.NewMetrics(reg), Logger: logger, Now: now,
	}
	if err := wireLog(cfg, sub.ledger, &deps, logger); err != nil {
		return nil, err
	}
	hub, err := routers.NewHub(hubConfig(cfg), deps)
	if err != nil {
		return nil, err
	}
	monitor := routers.NewMonitor(routers.MonitorConfig{
		Ledger: sub.ledger, Directory: validator.Directory, Calendar: validator.Calendar, Now: now,
		Population: cfg.Population, Health: hub.Health(sub.queues), Catalogue: validator.Catalogue,
	})
	reg.MustRegister(routers.NewBacklogCollector(sub.ledger, districtCodes(cfg), now),
		routers.NewDeadLetterCollector(sub.ledger), routers.NewWorkingDayCollector(validator.Calendar, now),
		routers.NewFiguresCollector(monitor, figuresTTL))
	if sub.collectors != nil {
		reg.MustRegister(sub.collectors(hub.Queues())...)
	}
	router, err := newRouter(hub, reg, logger)
	if err != nil {
		return nil, err
	}
	documents, err := document.New(document.Config{DetailsURL: cfg.Portal.DetailsURL})
	if err != nil {
		return nil, err
	}
	ready := append(slices.Clone(sub.ready), httpapi.Check{Name: "router", Check: func(context.Context) error {
		if router.IsClosed() {
			return errors.New("router closed")
		}
		return nil
	}})
	reg.MustRegister(httpapi.NewReadyCollector(ready))
	inquiry := routers.NewInquiry(sub.ledger, validator, now).WithLog(sub.ledger)
	desk := routers.NewDeadLetterDesk(sub.ledger, now)
	limitCfg := authLimitConfig(cfg)
	limitCfg.Now, limitCfg.Registerer, limitCfg.Logger = now, reg, logger.With("component", "authlimit")
	limit := authlimit.New(limitCfg) // one for the API and the dashboard
	api := httpapi.New(httpapi.Config{
		Access:      tokens,
		Inquiry:     inquiry,
		Documents:   documents,
		Chains:      sub.ledger,
		DeadLetters: desk,
		Log:         routers.LogProofs{Ledger: sub.ledger},
		Reporter:    hub,
		Gatherer:    reg,
		Logger:      logger,
		Ready:       ready,
		AuthLimit:   limit,
	})
	if cfg.HTTP.TLS != nil && cfg.HTTP.TLS.ClientCAFile != "" {
		api = httpapi.RequireCallbackCert(api, callbackCertNames(cfg), logger)
	}
	handler, err := withDashboard(api, monitor, inquiry, desk, tokens, now, logger, limit)
	if err != nil {
		return nil, err
	}
	return &wiredHub{hub: hub, router: router, handler: handler, validator: validator, metrics: reg, monitor: monitor,
		live: newLive(hub, tokens, registryClient, districts)}, nil
}

// wireLog turns the transparency log on when the operator gave its key:
// the ledger sequences it, the key signs its checkpoints. The verifier key
// is public, logged so that monitors can take it.
func wireLog(cfg *config.Config, ledger routers.LogLedger, deps *routers.Deps, logger *slog.Logger) error {
	if cfg.Audit.CheckpointKey == "" {
		logger.Warn("audit.checkpoint_key is not set: history events queue for the transparency log, which is neither sequenced nor signed")
		return nil
	}
	signer, err := tlog.NewSigner(cfg.Audit.CheckpointKey)
	if err != nil {
		return fmt.Errorf("audit.checkpoint_key: %w", err)
	}
	deps.Log, deps.CheckpointSigner = ledger, signer
	logger.Info("transparency log on", "origin", signer.Origin(), "verifier_key", signer.VerifierKey(),
		"checkpoint_interval", cfg.Hub.CheckpointInterval, "checkpoint_queue", cfg.Hub.CheckpointQueue)
	return nil
}

// newRegistry is a Prometheus registry with the process and Go collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// watermillLogger demotes Watermill's chatty Info to Debug.
func watermillLogger(logger *slog.Logger) watermill.LoggerAdapter {
	return watermill.NewSlogLoggerWithLevelMapping(logger.With("component", "watermill"), map[slog.Level]slog.Level{
		slog.LevelInfo: slog.LevelDebug,
	})
}

// newRouter builds the Watermill router with the hub's handlers and metrics.
func newRouter(hub *routers.Hub, reg prometheus.Registerer, logger *slog.Logger) (*message.Router, error) {
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: shutdownBudget}, watermillLogger(logger))
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	metrics.NewPrometheusMetricsBuilder(reg, "korpu", "").AddPrometheusRouterMetrics(router)
	if err := hub.AddHandlers(router); err != nil {
		return nil, err
	}
	return router, nil
}

// runHub runs the router, the relay and sweeper, and the HTTP server until
// ctx ends or one of them fails, then stops them in order: intake first so
// nothing new is taken, then a last outbox flush, then the rest.
func runHub(ctx context.Context, logger *slog.Logger, hub *routers.Hub, router *message.Router, ln net.Listener, handler http.Handler) error {
	// The router and the hub do not end with ctx: they are stopped below,
	// in order, so in-flight work finishes and the outbox is flushed.
	routerDone := make(chan error, 1)
	go func() { routerDone <- router.Run(context.WithoutCancel(ctx)) }()
	select {
	case <-router.Running():
	case err := <-routerDone:
		return fmt.Errorf("router: %w", err)
	case <-ctx.Done():
		return errors.Join(router.Close(), <-routerDone)
	}

	hubCtx, stopHub := context.WithCancel(context.WithoutCancel(ctx))
	hubDone := make(chan error, 1)
	go func() { hubDone <- hub.Run(hubCtx) }()

	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		// TLS handshake failures among them, structured like every other line.
		ErrorLog: slog.NewLogLogger(logger.With("component", "http").Handler(), slog.LevelWarn)}
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Serve(ln) }()
	logger.Info("hub running", "http", ln.Addr().String())

	var runErr error
	select {
	case <-ctx.Done():
		logger.Info("stopping: finishing in-flight work")
	case err := <-routerDone:
		runErr = fmt.Errorf("router stopped: %w", err)
	case err := <-httpDone:
		runErr = fmt.Errorf("http server: %w", err)
	}

	stopCtx, cancel := context.WithTimeout(context.Background(), shutdownBudget)
	defer cancel()
	if err := router.Close(); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("close router: %w", err))
	}
	// The relay loop stops before the last flush, so the flush is the only
	// publisher left in this process.
	stopHub()
	if err := <-hubDone; err != nil {
		runErr = errors.Join(runErr, err)
	}
	if err := hub.Flush(stopCtx); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("flush outbox: %w", err))
	}
	if err := srv.Shutdown(stopCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		runErr = errors.Join(runErr, fmt.Errorf("http shutdown: %w", err))
	}
	logger.Info("stopped")
	return runErr
}
