package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/korpu-az/korpu/cmd/korpu/bench"
)

// benchCmd runs `korpu bench`: real hub processes (this executable's
// serve) against the real broker and database, measured; see package bench.
func benchCmd(ctx context.Context, args []string, stdout io.Writer, getenv env) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o bench.Options
	fs.StringVar(&o.AMQPURL, "amqp-url", "amqp://guest:guest@127.0.0.1:5672/", "RabbitMQ")
	fs.StringVar(&o.PostgresURL, "postgres-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"PostgreSQL; the run creates and drops its own database korpu_bench_<random> beside this one")
	fs.IntVar(&o.Hubs, "hubs", 1, "hub processes")
	fs.IntVar(&o.Districts, "districts", 10, "districts (first ISO 3166-2:AZ codes, at most 90)")
	fs.IntVar(&o.ESD, "esd", 1, "how many of the districts run ESD (SOAP, polled); the rest REST")
	fs.IntVar(&o.Requests, "requests", 0, "valid requests to publish (0: 20000; with --reads, 5000 per intake round)")
	fs.Float64Var(&o.Rate, "rate", 0, "requests per second (0: as fast as possible)")
	fs.DurationVar(&o.Duration, "duration", 0, "with --rate: publish for this long (sets --requests)")
	fs.BoolVar(&o.Backlog, "backlog", false, "publish every request before the hubs start, then measure the drain")
	fs.StringVar(&o.DownDistrict, "down-district", "", "CODE: this district answers 503 until the others are served, then recovers")
	fs.IntVar(&o.CeilingMessages, "ceiling-messages", 20000, "messages of the broker's single-hop ceiling run (negative: skip it)")
	fs.IntVar(&o.CeilingPublishers, "ceiling-publishers", 0, "publishers of the ceiling run (0: the hub's, 1 relay)")
	fs.IntVar(&o.CeilingConsumers, "ceiling-consumers", 0, "consumers of the ceiling run (0: the hub's, intake_consumers × hubs)")
	fs.StringVar(&o.HubTuning, "hub-tuning", "", "added to the hub config's hub map, e.g. 'intake_consumers: 32, relay_batch: 500'")
	fs.BoolVar(&o.Log, "log", false, "run the transparency log (a checkpoint key is made for the run); off, events only queue for it")
	fs.StringVar(&o.HubLogLevel, "hub-log-level", "info", "the hubs' KORPU_LOG_LEVEL")
	fs.IntVar(&o.Publishers, "publishers", 4, "the bench's request publishers")
	fs.IntVar(&o.Consumers, "consumers", 4, "the bench's status consumers")
	fs.DurationVar(&o.Timeout, "timeout", 0, "give up after this long (0: 30m)")
	fs.BoolVar(&o.KeepLogs, "keep-logs", false, "keep the hub configs and logs (their directory is logged)")
	fs.BoolVar(&o.Reads, "reads", false, "measure the portal's reads: seed a national ledger, read over the HTTP API, then intake alone and beside reads")
	fs.BoolVar(&o.Monitor, "monitor", false, "time the central monitors' views: seed a national ledger as --reads does, then ask the country and a district's view over 30 days and a year")
	fs.IntVar(&o.MonitorCalls, "monitor-calls", 0, "with --monitor: calls of each view (0: 200)")
	fs.IntVar(&o.SeedAppeals, "seed-appeals", 0, "with --reads or --monitor: appeals seeded (0: 1,000,000)")
	fs.IntVar(&o.SeedCitizens, "seed-citizens", 0, "with --reads or --monitor: citizens they belong to (0: 100,000)")
	fs.DurationVar(&o.ReadDuration, "read-duration", 0, "with --reads: length of each read phase (0: 20s)")
	fs.IntVar(&o.Readers, "readers", 0, "with --reads: concurrent HTTP readers (0: 8)")
	fs.Float64Var(&o.ReadRate, "read-rate", 0, "with --reads: reads/s beside intake (0: 200; negative: full speed)")
	fs.IntVar(&o.IntakeRounds, "intake-rounds", 0, "with --reads: intake rounds, alone and beside reads in turn (0: 4; negative: none), --requests each")
	asJSON := fs.Bool("json", false, "print one JSON document with every figure, no progress bar")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger, err := newLogger(getenv)
	if err != nil {
		return err
	}
	if o.Binary, err = os.Executable(); err != nil {
		return fmt.Errorf("bench: the korpu executable: %w", err)
	}
	o.Logger = logger
	if !*asJSON {
		o.Progress = os.Stderr
	}
	report, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	return report.WriteText(stdout)
}
