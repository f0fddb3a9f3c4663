package bench

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/procfs"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/sim/portalsim"
)

// TestProcReader reads a /proc fixture (testdata/proc) with the bench's
// accounting: a process's CPU counts its reaped children, a group is every
// process of a name, the machine's busy time leaves out idle and iowait.
func TestProcReader(t *testing.T) {
	t.Parallel()
	fs, err := procfs.NewFS("testdata/proc")
	require.NoError(t, err)
	r := procReader{fs: fs, ok: true}
	s := r.snapshot([]int{4242})
	// utime 700 + stime 300 + cutime 50 + cstime 25 ticks, at 100 a second.
	require.InDelta(t, 10.75, s.hub, 1e-9)
	// Two postgres processes: 100+50+0+0 and 20+10+5+5 ticks.
	require.InDelta(t, 1.9, s.database, 1e-9)
	require.Zero(t, s.broker, "no beam.smp in the fixture")
	// user nice system irq softirq steal = 100+5+50+3+2+1; idle 1000, iowait 20.
	require.InDelta(t, 1.61, s.machine.busy, 1e-9)
	require.InDelta(t, 11.81, s.machine.total, 1e-9)
	rss, peak := r.memory(4242)
	require.Equal(t, int64(40000), rss)
	require.Equal(t, int64(53812), peak)
	rss, peak = r.memory(1)
	require.Zero(t, rss+peak, "a process that is gone reads 0")

	none := procReader{}
	require.Equal(t, cpuSnapshot{}, none.snapshot([]int{4242}), "no /proc: zeros")
}

func TestPercentiles(t *testing.T) {
	t.Parallel()
	var samples []float64
	for i := 100; i >= 1; i-- {
		samples = append(samples, float64(i))
	}
	require.Equal(t, Latency{P50: 50, P95: 95, P99: 99, Max: 100, Count: 100}, percentiles(samples))
	require.Equal(t, Latency{}, percentiles(nil))
}

func TestTuning(t *testing.T) {
	t.Parallel()
	o := Options{Binary: "korpu", Hubs: 2, HubTuning: "intake_consumers: 8"}
	o.setDefaults()
	require.NoError(t, o.Validate())
	require.Equal(t, 16, o.CeilingConsumers, "the hubs' intake consumers")
	require.Equal(t, 1, o.CeilingPublishers, "one relay runs at a time")
	require.Equal(t, 200, o.tuning.RelayBatch, "the config's default")
	o = Options{Binary: "korpu", HubTuning: "relay_batch: 500"}
	o.setDefaults()
	require.Equal(t, 500, o.tuning.RelayBatch)
	require.Equal(t, 16, o.CeilingConsumers, "the config's default intake_consumers")
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"TooManyDistricts", Options{Binary: "k", Districts: 100}, "only 90"},
		{"TooManyESD", Options{Binary: "k", Districts: 2, ESD: 3}, "--esd 3"},
		{"UnknownDownDistrict", Options{Binary: "k", Districts: 2, DownDistrict: "AZ-XXX"}, "--down-district"},
		{"Braces", Options{Binary: "k", HubTuning: "{relay_batch: 5}"}, "--hub-tuning"},
		{"TuningUnknownKey", Options{Binary: "k", HubTuning: "relay_bach: 5"}, `--hub-tuning: 1 problem:
  hub.relay_bach (line 1): unknown key "relay_bach"`},
		{"TuningBadValue", Options{Binary: "k", HubTuning: "intake_consumers: -1"}, "hub.intake_consumers (line 1): must be positive"},
		{"TuningQueues", Options{Binary: "k", HubTuning: "poison_queue: x"}, "poison_queue is the bench's own"},
		{"ReadsAndMonitor", Options{Binary: "k", Reads: true, Monitor: true}, "runs of their own"},
		{"MonitorBacklog", Options{Binary: "k", Monitor: true, Backlog: true}, "--monitor run neither"},
		{"MonitorSeed", Options{Binary: "k", Monitor: true, SeedAppeals: 10, SeedCitizens: 20}, "--seed-citizens"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.opts.setDefaults()
			err := tc.opts.Validate()
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestFindCounter(t *testing.T) {
	t.Parallel()
	page := "# HELP korpu_outbox_relayed_total x\n# TYPE korpu_outbox_relayed_total counter\nkorpu_outbox_relayed_total 1.25e+06\n" +
		"# TYPE korpu_delivered_total counter\nkorpu_delivered_total{district=\"AZ-BIL\"} 3\nkorpu_delivered_total{district=\"AZ-SAT\"} 4\n" +
		"# TYPE korpu_up gauge\nkorpu_up 1\n"
	dec := func() expfmt.Decoder {
		return expfmt.NewDecoder(strings.NewReader(page), expfmt.NewFormat(expfmt.TypeTextPlain))
	}
	v, err := findCounter(dec(), "korpu_outbox_relayed_total")
	require.NoError(t, err)
	require.InDelta(t, 1.25e6, v, 0)
	v, err = findCounter(dec(), "korpu_delivered_total")
	require.NoError(t, err)
	require.InDelta(t, 7, v, 0, "the sum of its series")
	_, err = findCounter(dec(), "korpu_nothing")
	require.ErrorContains(t, err, "no counter korpu_nothing")
	_, err = findCounter(dec(), "korpu_up")
	require.ErrorContains(t, err, "not a counter")
}

// TestGenerateAndRecord checks the bench's own bookkeeping: only valid
// requests, and each status counted once per request however often it comes.
func TestGenerateAndRecord(t *testing.T) {
	t.Parallel()
	codes, err := districtCodes(3)
	require.NoError(t, err)
	reqs, byID := generate(codes, 500, 7)
	require.Len(t, reqs, 500)
	require.Len(t, byID, 500)
	for _, r := range reqs {
		require.Equal(t, portalsim.Registered, r.msg.Outcome)
	}
	o := &observer{byID: byID, down: codes[0]}
	r := reqs[0]
	event := func(status string) []byte {
		return []byte(`{"request_id":"` + r.msg.ID + `","status":"` + status + `"}`)
	}
	o.record(event("registered"), 10)
	o.record(event("registered"), 20) // a repeat
	o.record(event("delivered"), 30)
	o.record([]byte(`{"request_id":"someone-else","status":"registered"}`), 40)
	require.Equal(t, int64(4), o.arrivals.Load())
	require.Equal(t, int64(1), o.registered.Load())
	require.Equal(t, int64(10), r.registered.Load(), "the first arrival counts")
	require.Equal(t, int64(1), o.delivered.Load())
	require.Equal(t, int64(1), o.unknown.Load())
	if r.msg.District == codes[0] {
		require.Equal(t, int64(1), o.downDelivered.Load())
	} else {
		require.Equal(t, int64(1), o.othersDelivered.Load())
	}
}

// TestTimeView: a view is asked once apart, then the calls measured; a
// failing call is counted, a failing first one ends the run.
func TestTimeView(t *testing.T) {
	t.Parallel()
	calls := 0
	v := monitorView{name: "v", ask: func(context.Context, *rand.Rand) error {
		calls++
		if calls%4 == 0 {
			return errors.New("the ledger is away")
		}
		return nil
	}}
	got, err := timeView(t.Context(), v, 10)
	require.NoError(t, err)
	require.Equal(t, 11, calls)
	require.Equal(t, 10, got.Latency.Count)
	require.Equal(t, 2, got.Errors)
	require.Equal(t, "the ledger is away", got.FirstErr)
	require.NotNil(t, got.CPU)

	_, err = timeView(t.Context(), monitorView{name: "down", ask: func(context.Context, *rand.Rand) error { return errors.New("down") }}, 10)
	require.Error(t, err)
}
