package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/korpu-az/korpu/adapters/amqp"
	"github.com/korpu-az/korpu/adapters/sim/esdsim"
	"github.com/korpu-az/korpu/adapters/sim/portalsim"
	"github.com/korpu-az/korpu/adapters/sim/registrysim"
	"github.com/korpu-az/korpu/adapters/sim/restdistrict"
)

const simUsage = `korpu sim registry      --listen ADDR [--latency D] [--fail-rate F]          (token: KORPU_REGISTRY_TOKEN)
korpu sim rest-district --listen ADDR --code AZ-XXX --callback-url URL [--step-delay D] [--latency D] [--fail-rate F]
                                                  (tokens: KORPU_DISTRICT_TOKEN, KORPU_CALLBACK_TOKEN)
korpu sim esd           --listen ADDR --code AZ-XXX [--busy-rate F] [--step-delay D] [--latency D] (password: KORPU_ESD_PASSWORD)
korpu sim portal        --config FILE [--rate N] [--count N]                 (publishes to the hub's broker)`

func sim(ctx context.Context, args []string, getenv env) error {
	if len(args) == 0 {
		return errors.New("sim: which simulator?\n" + simUsage)
	}
	logger, err := newLogger(getenv)
	if err != nil {
		return err
	}
	secret := func(name string) (string, error) {
		v, ok := getenv(name)
		if !ok || v == "" {
			return "", fmt.Errorf("environment variable %s is not set", name)
		}
		return v, nil
	}
	fs := flag.NewFlagSet("sim "+args[0], flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to serve on")
	latency := fs.Duration("latency", 0, "added to every answer")
	failRate := fs.Float64("fail-rate", 0, "share of calls answered 503 (registry, rest-district)")
	switch args[0] {
	case "registry":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		token, err := secret("KORPU_REGISTRY_TOKEN")
		if err != nil {
			return err
		}
		return serveSim(ctx, logger, *listen, registrysim.New(registrysim.Options{Token: token, Latency: *latency, FailRate: *failRate}))
	case "rest-district":
		code := fs.String("code", "", "the district's code, e.g. AZ-SAT")
		callbackURL := fs.String("callback-url", "", "the hub's base URL for status callbacks")
		stepDelay := fs.Duration("step-delay", 200*time.Millisecond, "delay before each status callback")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		token, err := secret("KORPU_DISTRICT_TOKEN")
		if err != nil {
			return err
		}
		callbackToken, err := secret("KORPU_CALLBACK_TOKEN")
		if err != nil {
			return err
		}
		if *code == "" || *callbackURL == "" {
			return errors.New("sim rest-district: --code and --callback-url are required")
		}
		s := restdistrict.New(restdistrict.Options{Code: *code, Token: token, CallbackURL: *callbackURL, CallbackToken: callbackToken,
			StepDelay: *stepDelay, Latency: *latency, FailRate: *failRate, Logger: logger})
		s.Start(ctx)
		defer s.Close()
		return serveSim(ctx, logger, *listen, s)
	case "esd":
		code := fs.String("code", "", "the district's code, e.g. AZ-BIL")
		username := fs.String("username", "hub", "the user name ESD expects in the UsernameToken")
		busyRate := fs.Float64("busy-rate", 0, "share of calls answered SISTEM_MESGUL")
		stepDelay := fs.Duration("step-delay", 500*time.Millisecond, "time from one state of an appeal to the next")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		password, err := secret("KORPU_ESD_PASSWORD")
		if err != nil {
			return err
		}
		if *code == "" {
			return errors.New("sim esd: --code is required")
		}
		return serveSim(ctx, logger, *listen, esdsim.New(esdsim.Options{Code: *code, Username: *username, Password: password,
			BusyRate: *busyRate, Latency: *latency, StepDelay: *stepDelay, Logger: logger}))
	case "portal":
		return portal(ctx, args[1:], getenv, logger)
	default:
		return fmt.Errorf("sim: unknown simulator %q\n%s", args[0], simUsage)
	}
}

func serveSim(ctx context.Context, logger *slog.Logger, listen string, h http.Handler) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	logger.Info("simulator listening", "addr", ln.Addr().String())
	fmt.Fprintln(os.Stdout, "listening on", ln.Addr().String())
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// portal publishes generated requests to the hub's requests queue and
// counts the status events that come back.
func portal(ctx context.Context, args []string, getenv env, logger *slog.Logger) error {
	fs := flag.NewFlagSet("sim portal", flag.ContinueOnError)
	path := fs.String("config", "korpu.yaml", "the hub's config file (broker, queues, districts, signing key)")
	perSecond := fs.Float64("rate", 20, "requests per second")
	count := fs.Int("count", 0, "stop after this many requests (0: until Ctrl-C)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, _, err := loadConfig([]string{"--config", *path}, "sim portal", getenv)
	if err != nil {
		return err
	}
	validator, err := newValidator(cfg)
	if err != nil {
		return err
	}
	if err := amqp.WaitForBroker(ctx, cfg.AMQP.URL); err != nil {
		return err
	}
	// The portal's queues as the hub finds or makes them, so that the
	// simulator and the hub may start in either order.
	topo, err := topology(cfg)
	if err != nil {
		return err
	}
	if err := declareQueues(ctx, cfg, topo, nil); err != nil {
		return err
	}
	publisher := amqp.NewBatchPublisher(cfg.AMQP.URL)
	defer publisher.Close()
	subscriber, err := amqp.NewSubscriber(amqp.Config{URL: cfg.AMQP.URL, Topology: topo}, watermillLogger(logger))
	if err != nil {
		return err
	}
	defer subscriber.Close()
	statuses, err := subscriber.Subscribe(ctx, cfg.Portal.StatusQueue)
	if err != nil {
		return err
	}
	tracker := portalsim.NewTracker()
	go tracker.Consume(ctx, statuses)
	gen := portalsim.NewGenerator(portalsim.Options{
		Districts: portalDistricts(cfg), Catalogue: validator.Catalogue, Calendar: validator.Calendar,
		SigningKey: []byte(cfg.Portal.NewestKey()), Seed: uint64(time.Now().UnixNano()),
	})
	n := 0
	if _, err := (portalsim.Feed{
		Next: func() (portalsim.Message, bool) {
			if *count > 0 && n == *count {
				return portalsim.Message{}, false
			}
			n++
			return gen.Next(), true
		},
		Send: func(ctx context.Context, _ int, batch []*message.Message) error {
			return publisher.PublishTo(ctx, cfg.Portal.RequestsQueue, batch...)
		},
		Rate: *perSecond,
	}).Run(ctx); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	// Give the hub a moment to answer what was sent, then report.
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
	}
	counts, total := tracker.Counts()
	fmt.Fprintf(os.Stdout, "status events received: %d %v; order violations: %d\n", total, counts, len(tracker.Violations()))
	return nil
}
