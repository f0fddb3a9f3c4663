package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/routers"
)

// ReadFigures are the figures of `korpu bench --reads`.
type ReadFigures struct {
	Seed    SeedFigures `json:"seed"`
	Readers int         `json:"readers"`
	// History and Details are the read phases at full speed: a citizen's
	// first page of history, one appeal's details.
	History ReadPhase `json:"history"`
	Details ReadPhase `json:"details"`
	// Intake is intake alone and beside reads, alternated.
	Intake *IntakeFigures `json:"intake,omitempty"`
}

// ReadPhase is one kind of read over the HTTP API.
type ReadPhase struct {
	Reads     int64   `json:"reads"`
	Errors    int64   `json:"errors"` // answers other than 200 with the expected body
	FirstErr  string  `json:"first_error,omitempty"`
	PerSecond float64 `json:"reads_per_s"`
	Seconds   float64 `json:"seconds"`
	Latency   Latency `json:"latency_ms"` // request sent to the body read
	// CPU is milliseconds of CPU per read by process group, for the read
	// phases: what a read costs whatever else the machine runs.
	CPU *CPUFigures `json:"cpu_ms_per_read,omitempty"`
}

// IntakeFigures compare intake without and with reads beside it.
type IntakeFigures struct {
	ReadRate float64       `json:"read_rate_per_s"` // negative: as fast as the readers can
	Rounds   []IntakeRound `json:"rounds"`
	// Registered is appeals/s to registered, the mean of each kind of round.
	RegisteredAlone  float64 `json:"registered_per_s_alone"`
	RegisteredBeside float64 `json:"registered_per_s_beside_reads"`
	// Slowdown is 1 − beside/alone: the share of intake's rate the reads took.
	Slowdown float64 `json:"slowdown"`
}

// IntakeRound is one burst of requests through the hub.
type IntakeRound struct {
	Reads             bool       `json:"reads"`
	Appeals           Throughput `json:"appeals_per_s"`
	LatencyRegistered Latency    `json:"latency_publish_to_registered_ms"`
	CPU               CPUFigures `json:"cpu_ms_per_appeal"`
	// Beside is the reads made meanwhile, history and details together.
	Beside *ReadPhase `json:"beside,omitempty"`
}

// readKind is what one read asks.
type readKind int

const (
	readHistory readKind = iota
	readDetails
)

// seedLedger migrates the stack's database and seeds a national ledger
// into it (opts.SeedAppeals of opts.SeedCitizens), and returns a pool on
// it with the seed.
func seedLedger(ctx context.Context, opts Options, s *stack) (*pgxpool.Pool, *ledgerSeed, error) {
	pool, err := postgres.Open(ctx, s.dbURL)
	if err != nil {
		return nil, nil, fmt.Errorf("bench: %w", err)
	}
	err = postgres.Migrate(ctx, pool, s.log)
	var seed *ledgerSeed
	if err == nil {
		s.log.Info("seeding the ledger", "appeals", opts.SeedAppeals, "citizens", opts.SeedCitizens)
		progress(opts, "seeding %d appeals of %d citizens …", opts.SeedAppeals, opts.SeedCitizens)
		seed, err = newLedgerSeed(opts.SeedAppeals, opts.SeedCitizens, s.codes, time.Now(), uint64(time.Now().UnixNano()))
	}
	if err == nil {
		proc := newProcReader()
		before := proc.snapshot(nil)
		seed.figures, err = seed.write(ctx, pool)
		after := proc.snapshot(nil)
		seed.figures.DatabaseCPU, seed.figures.BenchCPU = after.database-before.database, after.bench-before.bench
	}
	if err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("bench: %w", err)
	}
	progress(opts, " %.1f s\n", seed.figures.Seconds)
	return pool, seed, nil
}

// runReads seeds a national ledger into the stack's database, starts the
// hubs on it, reads over their HTTP API as the portal does (the history
// and details phases), then runs intake rounds without and with reads.
func runReads(ctx context.Context, opts Options, s *stack) (*Report, error) {
	rep := &Report{Mode: "reads", Hubs: opts.Hubs, Districts: opts.Districts, ESD: opts.ESD, Requests: opts.Requests,
		HubTuning: opts.HubTuning, CPUs: runtime.NumCPU()}
	figures := &ReadFigures{Readers: opts.Readers}
	rep.Reads = figures

	pool, seed, err := seedLedger(ctx, opts, s)
	if err != nil {
		return nil, err
	}
	pool.Close()
	figures.Seed = seed.figures
	if err := s.startHubs(ctx); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}

	r := newReaders(s, seed, opts.Readers)
	for _, phase := range []struct {
		kind readKind
		into *ReadPhase
		name string
	}{{readHistory, &figures.History, "history"}, {readDetails, &figures.Details, "details"}} {
		progress(opts, "reading %s for %s …", phase.name, opts.ReadDuration)
		phaseCtx, cancel := context.WithTimeout(ctx, opts.ReadDuration)
		proc := newProcReader()
		before := proc.snapshot(s.hubPIDs())
		*phase.into = r.run(phaseCtx, func(*rand.Rand) readKind { return phase.kind }, -1)
		after := proc.snapshot(s.hubPIDs())
		cancel()
		phase.into.CPU = cpuPer(before, after, float64(phase.into.Reads))
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		progress(opts, " %.0f/s\n", phase.into.PerSecond)
	}

	if opts.IntakeRounds > 0 {
		in := &IntakeFigures{ReadRate: opts.ReadRate}
		for round := range opts.IntakeRounds {
			ir, err := s.intakeRound(ctx, r, round%2 == 1)
			if err != nil {
				return nil, fmt.Errorf("bench: intake round %d: %w", round+1, err)
			}
			in.Rounds = append(in.Rounds, ir)
		}
		var alone, beside []float64
		for _, ir := range in.Rounds {
			if ir.Reads {
				beside = append(beside, ir.Appeals.Registered)
			} else {
				alone = append(alone, ir.Appeals.Registered)
			}
		}
		in.RegisteredAlone, in.RegisteredBeside = mean(alone), mean(beside)
		if in.RegisteredAlone > 0 && len(beside) > 0 {
			in.Slowdown = 1 - in.RegisteredBeside/in.RegisteredAlone
		}
		figures.Intake = in
	}
	return rep, nil
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

func progress(opts Options, format string, args ...any) {
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, format, args...)
	}
}

// intakeRound runs one burst of fresh requests, as `korpu bench` does,
// with reads at opts.ReadRate beside it when reads is set.
func (s *stack) intakeRound(ctx context.Context, r *readers, reads bool) (IntakeRound, error) {
	reqs, byID := generate(s.codes, s.opts.Requests, uint64(time.Now().UnixNano()))
	rep := newReport(s.opts, reqs)
	var (
		beside ReadPhase
		done   = make(chan struct{})
	)
	readCtx, stopReads := context.WithCancel(ctx)
	defer stopReads()
	if reads {
		go func() {
			defer close(done)
			beside = r.run(readCtx, func(rng *rand.Rand) readKind { return readKind(rng.IntN(2)) }, s.opts.ReadRate)
		}()
	} else {
		close(done)
	}
	err := s.load(ctx, reqs, byID, rep, newProcReader())
	stopReads()
	<-done
	if err != nil {
		return IntakeRound{}, err
	}
	ir := IntakeRound{Reads: reads, Appeals: rep.Throughput, LatencyRegistered: rep.LatencyRegistered, CPU: rep.CPU}
	if reads {
		ir.Beside = &beside
	}
	return ir, nil
}

// readers read the hubs' portal API as the portal does, for the citizens
// and appeals of the seed.
type readers struct {
	client  *http.Client
	bases   []string
	seed    *ledgerSeed
	workers int
}

func newReaders(s *stack, seed *ledgerSeed, workers int) *readers {
	r := &readers{
		client: &http.Client{
			Timeout:   10 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: 64},
		},
		seed: seed, workers: workers,
	}
	for _, addr := range s.hubAddrs {
		r.bases = append(r.bases, "http://"+addr)
	}
	return r
}

// run reads until ctx ends, each read's kind chosen by kind: as fast as
// the workers can (rate negative) or rate reads per second.
func (r *readers) run(ctx context.Context, kind func(*rand.Rand) readKind, rate float64) ReadPhase {
	var tokens chan struct{}
	workers := r.workers
	if rate > 0 {
		// Enough readers to keep the pace though each read waits 50 ms.
		workers = max(workers, int(math.Ceil(rate/20)))
		tokens = make(chan struct{}, workers)
		go func() {
			interval := time.Duration(float64(time.Second) / rate)
			next := time.Now()
			for {
				next = next.Add(interval)
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(next)):
				}
				select {
				case tokens <- struct{}{}:
				default: // the readers are behind: the read is not made, as a portal's would time out
				}
			}
		}()
	}
	var (
		mu       sync.Mutex
		samples  []float64
		reads    atomic.Int64
		errs     atomic.Int64
		firstErr atomic.Pointer[string]
		wg       sync.WaitGroup
	)
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(w)))
			var mine []float64
			for ctx.Err() == nil {
				if tokens != nil {
					select {
					case <-ctx.Done():
						continue
					case <-tokens:
					}
				}
				t := time.Now()
				err := r.read(ctx, rng, kind(rng))
				if ctx.Err() != nil {
					break // a read the phase's end cut short counts for nothing
				}
				mine = append(mine, float64(time.Since(t).Microseconds())/1000)
				reads.Add(1)
				if err != nil && errs.Add(1) == 1 {
					msg := err.Error()
					firstErr.Store(&msg)
				}
			}
			mu.Lock()
			samples = append(samples, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	p := ReadPhase{Reads: reads.Load(), Errors: errs.Load(), Seconds: elapsed.Seconds(), Latency: percentiles(samples)}
	p.PerSecond = float64(p.Reads) / elapsed.Seconds()
	if msg := firstErr.Load(); msg != nil {
		p.FirstErr = *msg
	}
	return p
}

// read asks one question of a random hub about a random citizen or appeal
// of the seed and checks the answer names what was asked for.
func (r *readers) read(ctx context.Context, rng *rand.Rand, kind readKind) error {
	s := r.seed
	base := r.bases[rng.IntN(len(r.bases))]
	var path, fin, want string
	switch kind {
	case readHistory:
		fin = s.fins[rng.IntN(len(s.fins))]
		path, want = "/v1/citizens/me/appeals", `"appeals":[`
	default:
		i := rng.IntN(len(s.at))
		fin = s.fins[s.citizen[i]]
		want = routers.FormatAppealNumber(s.codes[s.district[i]], int(s.year[i]), int(s.seq[i]))
		path = "/v1/appeals/" + url.PathEscape(want)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+portalToken)
	req.Header.Set("X-Citizen-FIN", fin)
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %.200s", path, resp.Status, body)
	}
	if !bytes.Contains(body, []byte(want)) {
		return fmt.Errorf("GET %s: the answer lacks %s: %.200s", path, want, body)
	}
	return nil
}
