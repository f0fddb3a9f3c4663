package bench

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/sim/portalsim"
)

func TestParseStat(t *testing.T) {
	t.Parallel()
	// utime 14, stime 15, cutime 16, cstime 17; the name holds ") (".
	raw := []byte("4242 (korpu) (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 700 300 50 25 20 0 12 0 100 0 0")
	got, err := parseStat(raw)
	require.NoError(t, err)
	require.Equal(t, procTimes{self: 1000, children: 75}, got)
	require.Equal(t, int64(1075), got.total())
	_, err = parseStat([]byte("4242 korpu S 1"))
	require.Error(t, err)
}

func TestParseMachineStat(t *testing.T) {
	t.Parallel()
	got, err := parseMachineStat([]byte("cpu  100 5 50 1000 20 3 2 1 40 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"))
	require.NoError(t, err)
	// busy: user nice system irq softirq steal; guest is inside user already.
	require.Equal(t, machineTimes{busy: 161, total: 1181}, got)
}

func TestParseStatusKiB(t *testing.T) {
	t.Parallel()
	raw := []byte("Name:\tkorpu\nVmHWM:\t   53812 kB\nVmRSS:\t   40000 kB\n")
	for _, tc := range []struct {
		key  string
		want int64
	}{{"VmHWM", 53812}, {"VmRSS", 40000}} {
		got, err := parseStatusKiB(raw, tc.key)
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
	}
	_, err := parseStatusKiB(raw, "VmSwap")
	require.Error(t, err)
}

func TestClkTckFromAuxv(t *testing.T) {
	t.Parallel()
	aux := func(pairs ...uint64) []byte {
		b := make([]byte, 8*len(pairs))
		for i, v := range pairs {
			binary.LittleEndian.PutUint64(b[8*i:], v)
		}
		return b
	}
	hz, ok := clkTckFromAuxv(aux(6, 4096, atClkTck, 250, 0, 0))
	require.True(t, ok)
	require.Equal(t, int64(250), hz)
	_, ok = clkTckFromAuxv(aux(6, 4096, 0, 0, atClkTck, 250))
	require.False(t, ok, "nothing after AT_NULL counts")
	require.Positive(t, clockTicks())
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

func TestParseTuning(t *testing.T) {
	t.Parallel()
	require.Equal(t, map[string]int{"intake_consumers": 32, "relay_batch": 500},
		parseTuning("intake_consumers: 32, retry_initial: 1s, relay_batch:500"))
	o := Options{Binary: "korpu", Hubs: 2, HubTuning: "intake_consumers: 8"}
	o.setDefaults()
	require.Equal(t, 16, o.CeilingConsumers, "the hubs' intake consumers")
	require.Equal(t, 1, o.CeilingPublishers, "one relay runs at a time")
	require.Equal(t, 200, relayBatch(o))
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.opts.setDefaults()
			err := tc.opts.Validate()
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestFindSeries(t *testing.T) {
	t.Parallel()
	page := "# HELP korpu_outbox_relayed_total x\nkorpu_outbox_relayed_total_x 3\nkorpu_outbox_relayed_total 1.25e+06\n"
	v, err := findSeries(strings.NewReader(page), "korpu_outbox_relayed_total")
	require.NoError(t, err)
	require.InDelta(t, 1.25e6, v, 0)
	_, err = findSeries(strings.NewReader(page), "korpu_nothing")
	require.Error(t, err)
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
