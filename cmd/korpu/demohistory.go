package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/korpu-az/korpu/adapters/sim/portalsim"
	"github.com/korpu-az/korpu/cmd/korpu/config"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
)

// pinnedClock is the demo's one clock: the wall clock, but for while the
// past is written, when it reads the instant being written.
type pinnedClock struct{ pinned atomic.Pointer[time.Time] }

func (c *pinnedClock) Now() time.Time {
	if t := c.pinned.Load(); t != nil {
		return *t
	}
	return time.Now()
}

func (c *pinnedClock) Pin(t time.Time) { c.pinned.Store(&t) }

func (c *pinnedClock) Release() { c.pinned.Store(nil) }

// pastPlan is what the demo's past is made of.
type pastPlan struct {
	Days     int // how far back it starts
	PerDay   int // portal messages on a working day (a fifth of that on other days)
	Citizens int // how many people send them: fewer people, more repeat appeals
}

var demoPast = pastPlan{Days: 90, PerDay: 30, Citizens: 500}

// otherBodies are competent bodies outside the hub that REST districts
// forward appeals to.
var otherBodies = []string{
	"Əmək və Əhalinin Sosial Müdafiəsi Nazirliyi",
	"Dövlət Torpaq və Xəritəçəkmə Komitəsi",
	"Azərişıq ASC",
}

// pastAppeals plans plan.Days of appeals ending at end: the portal's
// messages (from gen, the live traffic's generator, on clock pinned to
// each arrival) and what their districts did, drawn so that every case
// the monitors watch exists: answered on time and late, extended, forwarded
// on time and late (to another body and to a district on the hub),
// rejected, and open ones due soon and overdue. Steps after end are left
// out: those appeals are still open, at whatever step they reached.
func pastAppeals(cfg *config.Config, cal *calendar.Calendar, gen *portalsim.Generator, clock *pinnedClock, plan pastPlan, end time.Time, rng *rand.Rand) ([]routers.PastAppeal, error) {
	var rest []string
	adapter := map[string]string{}
	for _, d := range cfg.Districts {
		adapter[d.Code] = d.Adapter
		if d.Adapter == config.AdapterREST {
			rest = append(rest, d.Code)
		}
	}
	fins := make([]string, plan.Citizens)
	for i := range fins {
		fins[i] = demoFIN(rng)
	}
	f := fates{cal: cal, rng: rng, end: end, rest: rest}
	var past []routers.PastAppeal
	first := calendar.Day(end).AddDate(0, 0, -plan.Days)
	for day := first; day.Before(end); day = day.AddDate(0, 0, 1) {
		working, err := cal.IsWorkingDay(day)
		if err != nil {
			return nil, fmt.Errorf("demo history: %w", err)
		}
		n := plan.PerDay
		if !working {
			n = plan.PerDay / 5
		}
		arrivals := make([]time.Time, n)
		for i := range arrivals { // the portal takes appeals day and night, most by day
			arrivals[i] = day.Add(time.Duration(7*60+rng.IntN(15*60)) * time.Minute).Add(time.Duration(rng.IntN(60)) * time.Second)
		}
		slices.SortFunc(arrivals, time.Time.Compare)
		for _, at := range arrivals {
			if !at.Before(end) {
				break
			}
			clock.Pin(at)
			m := gen.Next()
			if m.Outcome != portalsim.Registered && m.Outcome != portalsim.Invalid {
				continue // duplicates and poison leave nothing in the ledger to show
			}
			p := routers.PastAppeal{At: at, Body: m.Body}
			if m.Outcome == portalsim.Registered { // an invalid one keeps its FİN: it may be what is wrong
				var err error
				if p.Body, err = withFIN(m.Body, fins[rng.IntN(len(fins))]); err != nil {
					return nil, err
				}
				if p.Changes, err = f.of(m.District, adapter[m.District] == config.AdapterREST, at); err != nil {
					return nil, err
				}
			}
			past = append(past, p)
		}
	}
	return past, nil
}

// withFIN gives the message's citizen another FİN (from the demo's smaller
// population; the registry simulator knows every FİN not starting with 0).
func withFIN(body []byte, fin string) ([]byte, error) {
	var msg map[string]any
	if err := json.Unmarshal(body, &msg); err != nil {
		return nil, fmt.Errorf("demo history: %w", err)
	}
	if citizen, ok := msg["citizen"].(map[string]any); ok {
		citizen["fin"] = fin
	}
	return json.Marshal(msg)
}

func demoFIN(rng *rand.Rand) string {
	const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	b := make([]byte, 7)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// fates draws what a district does with an appeal.
type fates struct {
	cal  *calendar.Calendar
	rng  *rand.Rand
	end  time.Time
	rest []string // districts on the hub that can extend and forward
}

// workingDay is a time of day n working days after from's day, in office
// hours; never before from.
func (f fates) workingDay(from time.Time, n int) (time.Time, error) {
	day, err := f.cal.AddWorkingDays(from, n)
	if err != nil {
		return time.Time{}, fmt.Errorf("demo history: %w", err)
	}
	at := calendar.Day(day).Add(time.Duration(9*60+f.rng.IntN(8*60)) * time.Minute)
	if at.Before(from) {
		at = from.Add(time.Duration(1+f.rng.IntN(60)) * time.Minute)
	}
	return at, nil
}

func (f fates) of(district string, rest bool, registered time.Time) ([]routers.PastChange, error) {
	var changes []routers.PastChange
	var err error
	add := func(by string, at time.Time, ch routers.DistrictChange) time.Time {
		ch.At = at
		changes = append(changes, routers.PastChange{District: by, Change: ch})
		return at
	}
	at := add("", registered.Add(time.Duration(2+f.rng.IntN(40))*time.Minute), routers.DistrictChange{Status: routers.StatusDelivered})
	step := func(n int) time.Time {
		var t time.Time
		if err == nil {
			t, err = f.workingDay(registered, n)
		}
		if t.Before(at) {
			t = at.Add(time.Duration(1+f.rng.IntN(90)) * time.Minute)
		}
		at = t
		return t
	}
	add("", step(1+f.rng.IntN(2)), routers.DistrictChange{Status: routers.StatusInProgress, Note: "İcraçıya verildi."})
	roll := f.rng.Float64()
	switch {
	case rest && roll < 0.04: // forwarded to another body, one in three late
		days := 1 + f.rng.IntN(3)
		if f.rng.IntN(3) == 0 {
			days = 4 + f.rng.IntN(4)
		}
		add("", step(days), routers.DistrictChange{Status: routers.StatusForwarded,
			ForwardedTo: otherBodies[f.rng.IntN(len(otherBodies))], Note: "Aidiyyəti üzrə."})
	case rest && roll < 0.07 && len(f.rest) > 1: // forwarded to another district on the hub, which answers it
		to := f.rest[f.rng.IntN(len(f.rest))]
		for to == district {
			to = f.rest[f.rng.IntN(len(f.rest))]
		}
		add("", step(2+f.rng.IntN(3)), routers.DistrictChange{Status: routers.StatusForwarded, ForwardedTo: to, Note: "Ünvan həmin rayona aiddir."})
		add(to, at.Add(time.Duration(5+f.rng.IntN(60))*time.Minute), routers.DistrictChange{Status: routers.StatusDelivered})
		add(to, step(6+f.rng.IntN(3)), routers.DistrictChange{Status: routers.StatusInProgress})
		add(to, step(9+f.rng.IntN(8)), routers.DistrictChange{Status: routers.StatusAnswered, Note: "Cavab verildi."})
	case rest && roll < 0.15: // extended to 30 working days; answered by then, or late, or not yet
		add("", step(3+f.rng.IntN(6)), routers.DistrictChange{Status: routers.StatusInProgress, Extend: true,
			Reason: "Əlavə yoxlama tələb olunur: yerində baxış keçiriləcək."})
		add("", step(16+f.rng.IntN(18)), routers.DistrictChange{Status: routers.StatusAnswered, Note: "Cavab verildi."})
	case roll < 0.20:
		add("", step(2+f.rng.IntN(8)), routers.DistrictChange{Status: routers.StatusRejected, Note: "Müraciət əsassız hesab edildi."})
	default: // answered: most well in time, some on the last day, some late, a few never
		var days int
		switch r := f.rng.Float64(); {
		case r < 0.70:
			days = 3 + f.rng.IntN(11)
		case r < 0.88:
			days = 14 + f.rng.IntN(2)
		case r < 0.97:
			days = 16 + f.rng.IntN(8)
		default: // never answered: overdue once its deadline passes
		}
		if days == 0 {
			break
		}
		add("", step(days), routers.DistrictChange{Status: routers.StatusAnswered, Note: "Müraciətə baxıldı, cavab göndərildi."})
		if f.rng.IntN(5) < 3 {
			add("", step(days+1+f.rng.IntN(5)), routers.DistrictChange{Status: routers.StatusClosed})
		}
	}
	if err != nil {
		return nil, err
	}
	// What the district had not done by the end is still to come.
	kept := changes[:0]
	for _, c := range changes {
		if c.Change.At.Before(f.end) {
			kept = append(kept, c)
		}
	}
	return kept, nil
}

// writeDemoPast fills the demo's fresh ledger with plan's past, through the
// hub's own intake and the path of polled district changes.
func writeDemoPast(ctx context.Context, stdout io.Writer, cfg *config.Config, w *wiredHub, clock *pinnedClock, plan pastPlan) error {
	defer clock.Release()
	end := clock.Now()
	seed := uint64(end.UnixNano())
	gen := portalsim.NewGenerator(portalsim.Options{
		Districts: portalDistricts(cfg), Catalogue: w.validator.Catalogue, Calendar: w.validator.Calendar,
		SigningKey: []byte(cfg.Portal.NewestKey()), Seed: seed, Now: clock.Now, BadRate: 0.08, DuplicateRate: -1,
	})
	past, err := pastAppeals(cfg, w.validator.Calendar, gen, clock, plan, end, rand.New(rand.NewPCG(seed, seed>>1)))
	if err != nil {
		return err
	}
	started := time.Now()
	sum, err := w.hub.Backfill(ctx, past, clock.Pin)
	if err != nil {
		return fmt.Errorf("demo history: %w", err)
	}
	fmt.Fprintf(stdout, "History of %d days written in %s: %d appeals registered, %d requests invalid, %d district reports.\n",
		plan.Days, time.Since(started).Round(100*time.Millisecond), sum.Registered, sum.Invalid, sum.Changes)
	return nil
}
