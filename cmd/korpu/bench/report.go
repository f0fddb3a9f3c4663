package bench

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"
)

// Report holds every figure of a run; its JSON is what `korpu bench --json` prints.
type Report struct {
	Mode         string  `json:"mode"` // burst (rate 0), steady (a set rate) or backlog
	Hubs         int     `json:"hubs"`
	Districts    int     `json:"districts"`
	ESD          int     `json:"esd_districts"`
	Requests     int     `json:"requests"`
	Rate         float64 `json:"rate_per_s,omitempty"`
	HubTuning    string  `json:"hub_tuning,omitempty"`
	Log          bool    `json:"transparency_log"`   // --log: the log sequenced and signed
	BodyBytes    int     `json:"request_body_bytes"` // mean size of a request's body
	CPUs         int     `json:"cpus"`
	WindowStart  string  `json:"window_start"` // what the clock of throughput and CPU starts at
	ElapsedS     float64 `json:"elapsed_s"`    // window start to the last answered
	DownDistrict string  `json:"down_district,omitempty"`

	// Throughput is appeals per second from the window's start to the last
	// appeal reaching each status.
	Throughput Throughput `json:"appeals_per_s"`
	// LatencyRegistered and LatencyDelivered run from the portal's publish to
	// the event's arrival at the bench's status consumer.
	LatencyRegistered Latency `json:"latency_publish_to_registered_ms"`
	LatencyDelivered  Latency `json:"latency_publish_to_delivered_ms"`
	// CPU is milliseconds of CPU per appeal, by process group.
	CPU CPUFigures `json:"cpu_ms_per_appeal"`
	// HubMemory is each hub process's resident memory.
	HubMemory []HubMemory `json:"hub_memory"`
	// Ceiling is the broker's own single-hop ceiling, measured in the same run.
	Ceiling *Ceiling `json:"broker_ceiling,omitempty"`
	// Hops are broker hops (one publish and one consume) per appeal.
	Hops Hops `json:"hops_per_appeal"`
	// BrokerBound is the appeals per second the broker's ceiling allows at
	// the measured hops, and the hub's share of it.
	BrokerBound *BrokerBound `json:"broker_bound,omitempty"`
	// Backlog is set in backlog mode.
	Backlog *BacklogFigures `json:"backlog,omitempty"`
	// Down is set with a down district.
	Down *DownFigures `json:"down_district_figures,omitempty"`
	// Reads is set by --reads, and is then the whole report.
	Reads *ReadFigures `json:"reads,omitempty"`
	// Monitor is set by --monitor, and is then the whole report.
	Monitor *MonitorFigures `json:"monitor,omitempty"`
}

// Throughput is appeals per second to each status.
type Throughput struct {
	Registered float64 `json:"registered"`
	Delivered  float64 `json:"delivered"`
	Answered   float64 `json:"answered"`
}

// Latency is a distribution's percentiles, in milliseconds.
type Latency struct {
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
	Count int     `json:"count"`
}

// CPUFigures split the machine's CPU per appeal, in milliseconds.
type CPUFigures struct {
	Hub      float64 `json:"hub"`
	Broker   float64 `json:"broker"`   // every beam.smp
	Database float64 `json:"database"` // every process named postgres
	Bench    float64 `json:"bench"`    // this process: simulators, publishers, status consumers
	// Machine is every CPU's busy time (/proc/stat), whoever spent it.
	Machine float64 `json:"machine"`
	// MachineBusy is the share of the machine's CPU capacity in use during the window.
	MachineBusy float64 `json:"machine_busy_share"`
}

// HubMemory is one hub's resident memory, in KiB.
type HubMemory struct {
	PID int `json:"pid"`
	// PeakRSS is VmHWM at the end of the run.
	PeakRSS int64 `json:"peak_rss_kib"`
	// RSSAtFirstRegistered is VmRSS when the first appeal was registered:
	// in backlog mode, the hub as it starts on the waiting backlog.
	RSSAtFirstRegistered int64 `json:"rss_at_first_registered_kib"`
}

// Ceiling is the broker's single-hop throughput with the hub's shape of hop.
type Ceiling struct {
	Messages   int     `json:"messages"`
	BodyBytes  int     `json:"body_bytes"`
	Publishers int     `json:"publishers"`
	Batch      int     `json:"confirm_batch"`
	Consumers  int     `json:"consumers"` // prefetch 1, one ack each
	PerSecond  float64 `json:"msgs_per_s"`
	BrokerCPU  float64 `json:"broker_cpu_ms_per_msg"`
	Seconds    float64 `json:"seconds"`
}

// Hops are measured broker hops per appeal: the request, plus what the
// hubs' outbox relayed (korpu_outbox_relayed_total): status events and
// delivery jobs, retries included.
type Hops struct {
	Relayed      float64 `json:"relayed"`       // outbox messages the hubs published
	StatusEvents int64   `json:"status_events"` // status messages the bench received
	Jobs         float64 `json:"jobs"`          // relayed minus status events: delivery jobs
	// ToDelivered counts the request, the delivery jobs, and the registered
	// and delivered events; 4 by design.
	ToDelivered float64 `json:"to_delivered"`
	// Total counts every hop, in_progress and answered included.
	Total float64 `json:"total"`
}

// BrokerBound compares the hub with the broker's ceiling.
type BrokerBound struct {
	LimitToDelivered float64 `json:"limit_to_delivered_per_s"` // ceiling / hops to delivered
	LimitTotal       float64 `json:"limit_total_per_s"`        // ceiling / all hops
	// Ratio is delivered throughput over LimitTotal: during the run the
	// broker carries every hop, so this is the hub's share of what the
	// broker could carry.
	Ratio            float64 `json:"ratio"`
	RatioToDelivered float64 `json:"ratio_to_delivered"` // delivered throughput over LimitToDelivered
}

// BacklogFigures describe a backlog run: requests published with the hubs
// stopped, then drained.
type BacklogFigures struct {
	PublishSeconds   float64 `json:"publish_s"`
	HubsReadySeconds float64 `json:"hubs_ready_s"` // from exec to /readyz, consuming meanwhile
}

// DownFigures describe a run with one district down until the others were served.
type DownFigures struct {
	District string `json:"district"`
	Appeals  int64  `json:"appeals"`
	// OthersPerSecond is the other districts' delivered rate while it was down.
	OthersPerSecond float64 `json:"others_delivered_per_s"`
	// RecoveredAtS is when it came back, from the window's start.
	RecoveredAtS float64 `json:"recovered_at_s"`
	// FirstAfterS is recovery to its first delivered appeal (retry backoff
	// and circuit breaker cooldown).
	FirstAfterS float64 `json:"first_delivered_after_recovery_s"`
	// DrainSeconds is recovery to its last delivered appeal.
	DrainSeconds float64 `json:"drain_s"`
	// DrainPerSecond is its appeals over DrainSeconds.
	DrainPerSecond float64 `json:"drain_per_s"`
}

func newReport(opts Options, reqs []*request) *Report {
	r := &Report{
		Hubs: opts.Hubs, Districts: opts.Districts, ESD: opts.ESD, Requests: len(reqs), Rate: opts.Rate,
		HubTuning: opts.HubTuning, Log: opts.Log, CPUs: runtime.NumCPU(), DownDistrict: opts.DownDistrict,
		Mode: "burst", WindowStart: "first publish",
	}
	switch {
	case opts.Backlog:
		r.Mode, r.WindowStart = "backlog", "hubs started (backlog published)"
	case opts.Rate > 0:
		r.Mode = "steady"
	}
	total := 0
	for _, q := range reqs {
		total += len(q.msg.Body)
	}
	r.BodyBytes = total / max(len(reqs), 1)
	return r
}

func (r *Report) setCeiling(opts Options, c ceilingResult) {
	r.Ceiling = &Ceiling{
		Messages: opts.CeilingMessages, BodyBytes: r.BodyBytes, Publishers: opts.CeilingPublishers,
		Batch: opts.tuning.RelayBatch, Consumers: opts.CeilingConsumers, Seconds: c.elapsed.Seconds(),
		PerSecond: float64(opts.CeilingMessages) / c.elapsed.Seconds(),
		BrokerCPU: c.brokerSeconds * 1000 / float64(opts.CeilingMessages),
	}
}

// finish works out every figure from the run's observations.
func (r *Report) finish(o *observer, reqs []*request, start time.Time, before, after cpuSnapshot, relayed float64, hubPIDs []int, w *watcher) {
	n := float64(len(reqs))
	t0 := start.UnixNano()
	rate := func(last int64) float64 {
		if last <= t0 {
			return 0
		}
		return n / time.Duration(last-t0).Seconds()
	}
	r.Throughput = Throughput{Registered: rate(o.lastRegistered.Load()), Delivered: rate(o.lastDelivered.Load()), Answered: rate(o.lastAnswered.Load())}
	r.ElapsedS = time.Duration(o.lastAnswered.Load() - t0).Seconds()
	var toRegistered, toDelivered []float64
	for _, q := range reqs {
		p := q.published.Load()
		if v := q.registered.Load(); v > 0 && p > 0 {
			toRegistered = append(toRegistered, float64(v-p)/1e6)
		}
		if v := q.delivered.Load(); v > 0 && p > 0 {
			toDelivered = append(toDelivered, float64(v-p)/1e6)
		}
	}
	r.LatencyRegistered, r.LatencyDelivered = percentiles(toRegistered), percentiles(toDelivered)

	r.CPU = *cpuPer(before, after, n)
	for i, pid := range hubPIDs {
		m := HubMemory{PID: pid}
		_, m.PeakRSS = w.proc.memory(pid)
		if i < len(w.rssAtFirst) {
			m.RSSAtFirstRegistered = w.rssAtFirst[i]
		}
		r.HubMemory = append(r.HubMemory, m)
	}

	events := o.arrivals.Load()
	r.Hops = Hops{Relayed: relayed, StatusEvents: events, Jobs: relayed - float64(events)}
	r.Hops.Total = (n + relayed) / n
	r.Hops.ToDelivered = (n + r.Hops.Jobs + float64(o.registered.Load()+o.delivered.Load())) / n
	if r.Ceiling != nil {
		b := &BrokerBound{LimitToDelivered: r.Ceiling.PerSecond / r.Hops.ToDelivered, LimitTotal: r.Ceiling.PerSecond / r.Hops.Total}
		b.Ratio = r.Throughput.Delivered / b.LimitTotal
		b.RatioToDelivered = r.Throughput.Delivered / b.LimitToDelivered
		r.BrokerBound = b
	}

	if r.DownDistrict != "" && !w.recovered.IsZero() {
		d := &DownFigures{District: r.DownDistrict, Appeals: w.downAppeals, RecoveredAtS: w.recovered.Sub(start).Seconds()}
		if last := o.lastOthers.Load(); last > t0 {
			d.OthersPerSecond = float64(int64(n)-w.downAppeals) / time.Duration(last-t0).Seconds()
		}
		var first int64
		for _, q := range reqs {
			if v := q.delivered.Load(); q.msg.District == r.DownDistrict && v > 0 && (first == 0 || v < first) {
				first = v
			}
		}
		rec := w.recovered.UnixNano()
		if first > 0 {
			d.FirstAfterS = max(time.Duration(first-rec).Seconds(), 0)
		}
		if last := o.lastDown.Load(); last > rec {
			d.DrainSeconds = time.Duration(last - rec).Seconds()
			d.DrainPerSecond = float64(w.downAppeals) / d.DrainSeconds
		}
		r.Down = d
	}
}

// cpuPer is the CPU of each group between two snapshots, in milliseconds
// per one of n things done.
func cpuPer(before, after cpuSnapshot, n float64) *CPUFigures {
	per := func(seconds float64) float64 { return seconds * 1000 / max(n, 1) }
	c := &CPUFigures{
		Hub: per(after.hub - before.hub), Broker: per(after.broker - before.broker),
		Database: per(after.database - before.database), Bench: per(after.bench - before.bench),
		Machine: per(after.machine.busy - before.machine.busy),
	}
	if total := after.machine.total - before.machine.total; total > 0 {
		c.MachineBusy = (after.machine.busy - before.machine.busy) / total
	}
	return c
}

// percentiles of samples in milliseconds (nearest rank).
func percentiles(samples []float64) Latency {
	if len(samples) == 0 {
		return Latency{}
	}
	slices.Sort(samples)
	at := func(p float64) float64 {
		i := int(p*float64(len(samples))+0.999999) - 1
		return samples[min(max(i, 0), len(samples)-1)]
	}
	return Latency{P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: samples[len(samples)-1], Count: len(samples)}
}

// WriteText prints the report for people.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	line := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, args...)) }
	if r.Reads != nil {
		r.writeReads(line)
		return tw.Flush()
	}
	if r.Monitor != nil {
		r.writeMonitor(line)
		return tw.Flush()
	}
	line("mode", "%s: %d requests (%d-byte bodies) over %d districts (%d ESD), %d hub(s)%s", r.Mode, r.Requests, r.BodyBytes, r.Districts, r.ESD, r.Hubs, r.rateText())
	if r.HubTuning != "" {
		line("hub tuning", "%s", r.HubTuning)
	}
	logState := "off (events only queued)"
	if r.Log {
		logState = "on (sequenced and signed)"
	}
	line("transparency log", "%s", logState)
	line("window", "from %s; %.1f s to the last answered", r.WindowStart, r.ElapsedS)
	line("appeals/s", "registered %.0f, delivered %.0f, answered %.0f", r.Throughput.Registered, r.Throughput.Delivered, r.Throughput.Answered)
	lat := func(l Latency) string {
		return fmt.Sprintf("p50 %.0f ms, p95 %.0f ms, p99 %.0f ms, max %.0f ms (%d)", l.P50, l.P95, l.P99, l.Max, l.Count)
	}
	line("publish→registered", "%s", lat(r.LatencyRegistered))
	line("publish→delivered", "%s", lat(r.LatencyDelivered))
	c := r.CPU
	line("CPU ms/appeal", "hub %.2f, broker %.2f, database %.2f, simulators+bench %.2f; machine %.2f (%.0f%% of %d CPUs busy)",
		c.Hub, c.Broker, c.Database, c.Bench, c.Machine, c.MachineBusy*100, r.CPUs)
	for i, m := range r.HubMemory {
		line(fmt.Sprintf("hub %d memory", i), "peak RSS %.1f MiB; RSS at first registered %.1f MiB", float64(m.PeakRSS)/1024, float64(m.RSSAtFirstRegistered)/1024)
	}
	h := r.Hops
	line("hops/appeal", "to delivered %.2f, total %.2f (relayed %.0f = %d status events + %.0f jobs)", h.ToDelivered, h.Total, h.Relayed, h.StatusEvents, h.Jobs)
	if cl := r.Ceiling; cl != nil {
		line("broker ceiling", "%.0f msgs/s, broker CPU %.3f ms/msg (%d msgs of %d bytes; %d publisher(s) confirming batches of %d, %d consumers prefetch 1)",
			cl.PerSecond, cl.BrokerCPU, cl.Messages, cl.BodyBytes, cl.Publishers, cl.Batch, cl.Consumers)
	}
	if b := r.BrokerBound; b != nil {
		line("broker-bound limit", "%.0f appeals/s at all hops (%.0f at hops to delivered); hub delivered/limit = %.2f (%.2f)",
			b.LimitTotal, b.LimitToDelivered, b.Ratio, b.RatioToDelivered)
	}
	if bl := r.Backlog; bl != nil {
		line("backlog", "published in %.1f s with the hubs stopped; hubs ready %.1f s after start", bl.PublishSeconds, bl.HubsReadySeconds)
	}
	if d := r.Down; d != nil {
		line("down district", "%s (%d appeals) recovered at %.1f s; others meanwhile %.0f delivered/s; first of its backlog delivered %.1f s after recovery, all in %.1f s (%.0f/s)",
			d.District, d.Appeals, d.RecoveredAtS, d.OthersPerSecond, d.FirstAfterS, d.DrainSeconds, d.DrainPerSecond)
	}
	return tw.Flush()
}

func (r *Report) rateText() string {
	if r.Rate > 0 {
		return fmt.Sprintf(", %g requests/s", r.Rate)
	}
	return ""
}

// writeSeed prints the figures of a seeded ledger.
func writeSeed(line func(k, format string, args ...any), sd SeedFigures) {
	line("seeded", "%d appeals of %d citizens, %d invalid requests, %d history rows (%.2f/appeal), %d comments, %d booked days; database %.2f GiB",
		sd.Appeals, sd.Citizens, sd.Invalid, sd.Events, float64(sd.Events)/float64(max(sd.Appeals, 1)), sd.Comments, sd.Bookings, float64(sd.Bytes)/(1<<30))
	line("seeding", "%.1f s (%.0f appeals/s) by COPY; CPU database %.0f s, bench %.0f s", sd.Seconds, float64(sd.Appeals)/sd.Seconds, sd.DatabaseCPU, sd.BenchCPU)
}

// writeMonitor prints the figures of --monitor.
func (r *Report) writeMonitor(line func(k, format string, args ...any)) {
	f := r.Monitor
	line("mode", "monitor: %d districts, the Monitor in the bench's process on the seeded database", r.Districts)
	writeSeed(line, f.Seed)
	for _, v := range f.Views {
		l := v.Latency
		errs := ""
		if v.Errors > 0 {
			errs = fmt.Sprintf("; %d errors, first: %s", v.Errors, v.FirstErr)
		}
		line(v.Name, "p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms (%d calls); first call %.0f ms%s", l.P50, l.P95, l.P99, l.Max, l.Count, v.FirstMS, errs)
		if c := v.CPU; c != nil {
			line("", "CPU ms/call: database %.2f, bench %.2f; machine %.2f (%.0f%% of %d CPUs busy)", c.Database, c.Bench, c.Machine, c.MachineBusy*100, r.CPUs)
		}
	}
}

// writeReads prints the figures of --reads.
func (r *Report) writeReads(line func(k, format string, args ...any)) {
	f := r.Reads
	line("mode", "reads: %d hub(s), %d districts (%d ESD)%s", r.Hubs, r.Districts, r.ESD, r.tuningText())
	writeSeed(line, f.Seed)
	lat := func(l Latency) string {
		return fmt.Sprintf("p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms (%d)", l.P50, l.P95, l.P99, l.Max, l.Count)
	}
	phase := func(name string, p ReadPhase) {
		line(name, "%.0f reads/s over %d readers for %.0f s; %s%s", p.PerSecond, f.Readers, p.Seconds, lat(p.Latency), errorsText(p))
		if c := p.CPU; c != nil {
			line("", "CPU ms/read: hub %.3f, database %.3f, bench %.3f; machine %.3f (%.0f%% of %d CPUs busy)",
				c.Hub, c.Database, c.Bench, c.Machine, c.MachineBusy*100, r.CPUs)
		}
	}
	phase("history reads", f.History)
	phase("details reads", f.Details)
	in := f.Intake
	if in == nil {
		return
	}
	for i, ir := range in.Rounds {
		beside := "alone"
		if ir.Beside != nil {
			beside = fmt.Sprintf("beside %.0f reads/s (%s%s)", ir.Beside.PerSecond, lat(ir.Beside.Latency), errorsText(*ir.Beside))
		}
		line(fmt.Sprintf("intake round %d", i+1), "%d requests %s: registered %.0f/s, delivered %.0f/s; publish→registered p50 %.0f ms, p99 %.0f ms; CPU ms/appeal hub %.2f, database %.2f, machine %.2f",
			r.Requests, beside, ir.Appeals.Registered, ir.Appeals.Delivered, ir.LatencyRegistered.P50, ir.LatencyRegistered.P99,
			ir.CPU.Hub, ir.CPU.Database, ir.CPU.Machine)
	}
	rate := fmt.Sprintf("%.0f reads/s", in.ReadRate)
	if in.ReadRate < 0 {
		rate = "reads at full speed"
	}
	line("intake slowdown", "%.1f%% with %s (registered %.0f/s beside reads, %.0f/s alone)", in.Slowdown*100, rate, in.RegisteredBeside, in.RegisteredAlone)
}

func errorsText(p ReadPhase) string {
	if p.Errors == 0 {
		return ""
	}
	return fmt.Sprintf("; %d errors, first: %s", p.Errors, p.FirstErr)
}

func (r *Report) tuningText() string {
	text := ""
	if r.HubTuning != "" {
		text = "; hub tuning " + r.HubTuning
	}
	if r.Log {
		text += "; transparency log on"
	}
	return text
}
