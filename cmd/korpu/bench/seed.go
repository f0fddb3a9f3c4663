package bench

import (
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/korpu-az/korpu/adapters/sim/registrysim"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
	"github.com/korpu-az/korpu/routers/catalogue"
)

// seedSince is where the seeded ledger's history starts: the first working
// day of the first year the holiday calendar knows, so every deadline is
// counted as the hub counts it.
var seedSince = calendar.Date(2025, time.January, 2)

// ledgerSeed is a national ledger made up in advance: appeals of many
// citizens over the last two years, each with its history, some with
// comments, as the hub itself would have written them. Every choice about
// appeal i comes from a random source seeded with i (plan), so the tables
// are written by separate COPY streams at once and still agree.
type ledgerSeed struct {
	seed    uint64
	now     time.Time
	codes   []string
	fins    []string // the citizens
	persons [][]byte // the registry's record of each citizen, as enrichment stored it
	// By appeal, in registration order.
	at       []int64 // registered, Unix microseconds
	district []uint8
	citizen  []int32
	year     []int16 // of the number: the Baku year of registration
	seq      []int32 // of the number in its district and year
	// counters is the last number given per district and year.
	counters map[counterKey]int32
	services []string       // the services appeals are filed for
	forms    map[string]any // by service: its example form
	// deadlines of the appeals registered on each day since seedSince:
	// the first, and extended.
	deadlines, extended []deadline
	cal                 *calendar.Calendar
	// today and dueSoonBy are the oversight's dates at now: open appeals
	// past them were claimed by the hub's sweep as it went.
	today, dueSoonBy string
	// invalid is how many invalid requests the inbox holds beside the appeals.
	invalid int
	// figures are those of its writing, once written.
	figures SeedFigures
}

type counterKey struct {
	district string
	year     int16
}

type deadline struct {
	date time.Time // midnight in Baku
	text string    // YYYY-MM-DD
}

// newLedgerSeed lays out appeals appeals of citizens citizens over the
// districts codes, registered between seedSince and an hour before now.
func newLedgerSeed(appeals, citizens int, codes []string, now time.Time, seed uint64) (*ledgerSeed, error) {
	if len(codes) > 255 {
		return nil, fmt.Errorf("seed: %d districts, at most 255", len(codes))
	}
	end := now.Add(-time.Hour)
	if !end.After(seedSince) {
		return nil, fmt.Errorf("seed: the clock says %s, before the seeded years", now.Format(time.RFC3339))
	}
	s := &ledgerSeed{seed: seed, now: now, codes: codes, counters: map[counterKey]int32{}, forms: map[string]any{}, cal: calendar.Default()}
	var err error
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	seen := make(map[string]bool, citizens)
	for len(s.fins) < citizens {
		fin := randomFIN(rng)
		if !seen[fin] {
			seen[fin] = true
			s.fins = append(s.fins, fin)
		}
	}
	s.persons = make([][]byte, citizens)
	for i, fin := range s.fins {
		raw, err := json.Marshal(registrysim.Record(fin))
		if err != nil {
			return nil, fmt.Errorf("seed: person: %w", err)
		}
		s.persons[i] = raw
	}
	for _, svc := range catalogue.Default().All() {
		if svc.Withdrawn {
			continue
		}
		s.services = append(s.services, svc.Code)
		if svc.HasForm() {
			s.forms[svc.Code] = svc.ExampleForm()
		}
	}
	for day := seedSince; !day.After(end); day = day.AddDate(0, 0, 1) {
		due, err := s.cal.AddWorkingDays(day, routers.AnswerWorkingDays)
		if err != nil {
			return nil, fmt.Errorf("seed: deadline: %w", err)
		}
		later, err := s.cal.AddWorkingDays(day, routers.ExtendedAnswerWorkingDays)
		if err != nil {
			return nil, fmt.Errorf("seed: extended deadline: %w", err)
		}
		s.deadlines = append(s.deadlines, deadline{date: due, text: due.Format(time.DateOnly)})
		s.extended = append(s.extended, deadline{date: later, text: later.Format(time.DateOnly)})
	}
	s.today, s.dueSoonBy, err = routers.WatchDates(s.cal, now)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	s.invalid = appeals * invalidPercent / 100

	from, span := seedSince.UnixMicro(), end.UnixMicro()-seedSince.UnixMicro()
	s.at = make([]int64, appeals)
	for i := range s.at {
		s.at[i] = from + rng.Int64N(span)
	}
	slices.Sort(s.at)
	s.district, s.citizen = make([]uint8, appeals), make([]int32, appeals)
	s.year, s.seq = make([]int16, appeals), make([]int32, appeals)
	for i, at := range s.at {
		s.district[i] = uint8(rng.IntN(len(codes)))
		s.citizen[i] = int32(rng.IntN(citizens))
		s.year[i] = int16(time.UnixMicro(at).In(routers.Baku).Year())
		k := counterKey{codes[s.district[i]], s.year[i]}
		s.counters[k]++
		s.seq[i] = s.counters[k]
	}
	return s, nil
}

const finAlphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ" // no I, no O

// randomFIN is a FİN the registry simulator knows (none starts with 0).
func randomFIN(rng *rand.Rand) string {
	var b [7]byte
	b[0] = finAlphabet[1+rng.IntN(len(finAlphabet)-1)]
	for i := 1; i < len(b); i++ {
		b[i] = finAlphabet[rng.IntN(len(finAlphabet))]
	}
	return string(b[:])
}

// The shares of the seeded appeals that take the law's other roads, and
// of invalid requests beside them, in percent.
const (
	forwardedOffPercent = 2 // forwarded to a body off the hub: its answer
	forwardedOnPercent  = 1 // forwarded to another district on the hub, which answers
	extendedPercent     = 5 // extended to 30 working days while in progress
	invalidPercent      = 3 // requests refused at intake, beside the appeals
)

// appealPlan is everything decided about one appeal.
type appealPlan struct {
	number     string
	requestID  string
	district   string // where it was filed: the number's, the request's
	holder     string // the district holding it at the end: district, unless forwarded on the hub
	service    string
	kind       string
	fin        string
	citizen    int32
	registered time.Time
	submitted  time.Time
	first      deadline // 15 working days after registration
	deadline   deadline // the one it has at the end: first, or extended
	reception  *routers.Reception
	events     []plannedEvent // in sequence order
	comments   []plannedComment
	status     routers.Status
	delivery   routers.DeliveryState
	statutory  routers.Statutory
	milestones routers.Milestones
	// oversight is the crossing the hub's sweep claimed for deadline by
	// now: 0 none, 1 due soon, 2 overdue.
	oversight int16
	// rng goes on where the plan stopped, for what one table alone needs.
	rng *rand.Rand
}

type plannedEvent struct {
	status    routers.Status
	at        time.Time
	requestID string // the comment's id for a commented event
	note      string
	district  string // the authority in whose name it is
	deadline  string // the deadline it carries
}

type plannedComment struct {
	id   string
	at   time.Time
	text string
}

// bodies are the competent bodies off the hub that appeals are forwarded to.
var bodies = []string{"Əmək və Əhalinin Sosial Müdafiəsi Nazirliyi", "Daxili İşlər Nazirliyi", "Təhsil Nazirliyi"}

// plan decides appeal i: the same i always gives the same plan.
func (s *ledgerSeed) plan(i int) appealPlan {
	rng := rand.New(rand.NewPCG(s.seed, uint64(i)))
	p := appealPlan{
		district: s.codes[s.district[i]], citizen: s.citizen[i], fin: s.fins[s.citizen[i]],
		registered: time.UnixMicro(s.at[i]).In(routers.Baku), requestID: randomUUID(rng), rng: rng,
	}
	p.holder = p.district
	p.number = routers.FormatAppealNumber(p.district, int(s.year[i]), int(s.seq[i]))
	switch roll := rng.IntN(100); {
	case roll < 45:
		p.service = "appeal"
	case roll < 60:
		p.service = "reception-booking"
	default:
		p.service = s.services[rng.IntN(len(s.services))]
	}
	p.kind = pickOf(rng, []string{"complaint", "complaint", "application", "application", "proposal"})
	p.submitted = p.registered.Add(-time.Duration(1+rng.IntN(120)) * time.Second).Truncate(time.Second)
	dayIndex := int(calendar.Day(p.registered).Sub(seedSince).Hours()/24 + 0.5)
	p.first, p.deadline = s.deadlines[dayIndex], s.deadlines[dayIndex]
	if p.service == "reception-booking" {
		days, err := s.cal.NextWorkingDays(p.submitted, 4, func(w time.Weekday) bool { return w == time.Tuesday || w == time.Thursday })
		if err == nil {
			p.reception = &routers.Reception{OfficialID: officialID(p.district), Date: pickOf(rng, days).Format(time.DateOnly)}
		}
	}
	s.live(&p, rng, s.extended[dayIndex])
	if p.delivery == routers.DeliveryDelivered {
		for n := commentsOf(rng); n > 0; n-- {
			first := p.events[1].at
			limit := s.now.Add(-time.Minute)
			c := plannedComment{id: randomUUID(rng), text: pickOf(rng, commentTexts)}
			c.at = first.Add(time.Duration(rng.Int64N(int64(limit.Sub(first))/2 + 1))).Truncate(time.Second)
			p.comments = append(p.comments, c)
			district, due := p.stateAt(c.at.Add(time.Second))
			p.events = append(p.events, plannedEvent{status: routers.StatusCommented, at: c.at.Add(time.Second), requestID: c.id,
				district: district, deadline: due})
		}
		slices.SortStableFunc(p.events, func(x, y plannedEvent) int { return x.at.Compare(y.at) })
		slices.SortFunc(p.comments, func(x, y plannedComment) int { return cmp.Or(x.at.Compare(y.at), strings.Compare(x.id, y.id)) })
	}
	return p
}

// live decides an appeal's life after registration, as the hub would have
// recorded it: delivered within seconds; then most are answered within
// weeks (some taken up first, some extended to the 30 working days they
// may have), a few forwarded to a body off the hub or to another district
// on it, a few never answered; each step only if its time has come.
func (s *ledgerSeed) live(p *appealPlan, rng *rand.Rand, extended deadline) {
	limit := s.now.Add(-time.Minute)
	at := p.registered
	add := func(status routers.Status, note string) {
		p.events = append(p.events, plannedEvent{status: status, at: at, note: note, district: p.holder, deadline: p.deadline.text})
		p.status = status
	}
	// next moves on by after, unless that is past the seed's clock.
	next := func(after time.Duration) bool {
		t := at.Add(after).Truncate(time.Second)
		if t.After(limit) {
			return false
		}
		at = t
		return true
	}
	day := 24 * time.Hour
	someHours := func() time.Duration { return time.Duration(rng.IntN(8*3600)) * time.Second }
	add(routers.StatusRegistered, "")
	p.delivery = routers.DeliveryPending
	if !next(time.Duration(1+rng.IntN(30)) * time.Second) {
		s.watch(p)
		return
	}
	add(routers.StatusDelivered, "")
	p.delivery, p.milestones.DeliveredAt = routers.DeliveryDelivered, at

	switch road := rng.IntN(100); {
	case road < forwardedOffPercent:
		if next(time.Duration(1+rng.IntN(5))*day + someHours()) {
			to := pickOf(rng, bodies)
			add(routers.StatusForwarded, routers.Bilingual("Aidiyyəti üzrə göndərildi: "+to, "forwarded to: "+to))
			s.forwarded(p, to, at)
			s.answered(p, at)
		}
		s.watch(p)
		return
	case road < forwardedOffPercent+forwardedOnPercent && len(s.codes) > 1:
		if !next(time.Duration(1+rng.IntN(5))*day + someHours()) {
			s.watch(p)
			return
		}
		to := s.codes[(slices.Index(s.codes, p.district)+1+rng.IntN(len(s.codes)-1))%len(s.codes)]
		add(routers.StatusForwarded, routers.Bilingual("Aidiyyəti üzrə göndərildi: "+to, "forwarded to: "+to))
		s.forwarded(p, to, at)
		p.holder, p.delivery = to, routers.DeliveryPending
		if !next(time.Duration(1+rng.IntN(30)) * time.Second) {
			s.watch(p)
			return
		}
		add(routers.StatusDelivered, "")
		p.delivery = routers.DeliveryDelivered
	}

	extend := rng.IntN(100) < extendedPercent
	if (extend || rng.IntN(10) < 3) && next(time.Duration(1+rng.IntN(4))*day+someHours()) {
		note := ""
		if extend {
			p.deadline = extended
			p.statutory.Extended, p.statutory.ExtendedAt, p.statutory.ExtensionReason = true, at, "Yerində əlavə yoxlama lazımdır"
			note = "Cavab müddəti " + extended.text + " tarixinədək uzadıldı. Səbəb / reason: " + p.statutory.ExtensionReason
		}
		add(routers.StatusInProgress, note)
		p.milestones.InProgressAt = at
	}
	if rng.IntN(100) < 97 {
		final, note := routers.StatusAnswered, pickOf(rng, answerNotes)
		if rng.IntN(10) == 0 {
			final, note = routers.StatusRejected, "Müraciət aidiyyəti üzrə deyil."
		}
		after := time.Duration(3+rng.IntN(21)) * day // now and then later than the 15 working days
		if extend {
			after += time.Duration(10+rng.IntN(15)) * day
		}
		if next(after + someHours()) {
			add(final, note)
			s.answered(p, at)
			if rng.IntN(20) == 0 && next(time.Duration(1+rng.IntN(10))*day) {
				add(routers.StatusClosed, "")
				p.milestones.ClosedAt = at
			}
		}
	}
	s.watch(p)
}

// forwarded records the forwarding of p by its holder to to at at; late
// after the 3rd working day from registration, as the hub counts it.
func (s *ledgerSeed) forwarded(p *appealPlan, to string, at time.Time) {
	last, err := s.cal.AddWorkingDays(p.registered, 3)
	late := err == nil && calendar.Day(at).After(last)
	st := &p.statutory
	st.ForwardedTo, st.ForwardedBy, st.ForwardedAt, st.ForwardedLate = to, p.holder, at, late
	if slices.Contains(s.codes, to) {
		st.Forwarders = append(st.Forwarders, p.holder)
	}
}

// answered records p's answer at at, as the hub's milestones keep it.
func (s *ledgerSeed) answered(p *appealPlan, at time.Time) {
	p.milestones.AnsweredAt = at
	p.milestones.AnswerDays, p.milestones.OnTime = routers.AnswerDays(s.cal, p.registered, at, p.deadline.text)
}

// watch is the crossing the hub's oversight sweep claimed for p by now,
// had it run all along: an open appeal past its deadline is overdue, one
// due by dueSoonBy due soon.
func (s *ledgerSeed) watch(p *appealPlan) {
	open := p.status == routers.StatusRegistered || p.status == routers.StatusDelivered || p.status == routers.StatusInProgress ||
		p.status == routers.StatusForwarded && p.holder != p.district
	switch {
	case !open:
	case p.deadline.text < s.today:
		p.oversight = 2
	case p.deadline.text <= s.dueSoonBy:
		p.oversight = 1
	}
}

// stateAt is the district holding p and its deadline at t.
func (p *appealPlan) stateAt(t time.Time) (district, due string) {
	district, due = p.district, p.first.text
	if st := p.statutory; st.ForwardedTo == p.holder && p.holder != p.district && !t.Before(st.ForwardedAt) {
		district = p.holder
	}
	if p.statutory.Extended && !t.Before(p.statutory.ExtendedAt) {
		due = p.deadline.text
	}
	return district, due
}

// commentsOf: one appeal in five has a comment, one in twenty two.
func commentsOf(rng *rand.Rand) int {
	switch roll := rng.IntN(100); {
	case roll < 5:
		return 2
	case roll < 20:
		return 1
	}
	return 0
}

func pickOf[T any](rng *rand.Rand, items []T) T { return items[rng.IntN(len(items))] }

// randomUUID is a version 4 UUID from rng: as random as the portal's, but
// the same for the same plan.
func randomUUID(rng *rand.Rand) string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// request is the portal's body of the plan, as the portal would have sent it.
func (s *ledgerSeed) request(p appealPlan) ([]byte, error) {
	rng := p.rng
	req := routers.Request{
		Kind: "request", ID: p.requestID, SubmittedAt: routers.FormatTime(p.submitted), District: p.district, Service: p.service,
		Citizen: routers.Citizen{FIN: p.fin, Phone: fmt.Sprintf("+99450%07d", rng.IntN(10_000_000)), Address: pickOf(rng, addresses)},
		Appeal: routers.AppealForm{
			Type: p.kind, SocialStatus: pickOf(rng, []string{"employed", "unemployed", "pensioner", "student", "other"}),
			Subject: pickOf(rng, subjects), Text: pickOf(rng, texts),
		},
		Reception: p.reception,
	}
	if rng.IntN(2) == 0 {
		req.Citizen.Email = fmt.Sprintf("vetendas%d@example.az", p.citizen)
		req.Citizen.Workplace, req.Citizen.Position = pickOf(rng, workplaces), pickOf(rng, positions)
	}
	if rng.IntN(3) == 0 {
		req.Appeal.PrivilegeStatus = pickOf(rng, []string{"war_veteran", "war_disabled", "martyr_family", "idp", "disability_1", "disability_2", "disability_3", "large_family"})
	}
	if form, ok := s.forms[p.service]; ok {
		req.Form = form.(map[string]any)
	}
	if rng.IntN(4) == 0 {
		req.Attachments = []routers.Attachment{{
			Name: "sened.pdf", ContentType: "application/pdf", Size: int64(1000 + rng.IntN(500000)),
			SHA256: fmt.Sprintf("%016x%016x%016x%016x", rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()),
			URL:    "https://files.portal.example/att/" + p.requestID + "/1",
		}}
	}
	return json.Marshal(req)
}

var (
	addresses   = []string{"Biləsuvar şəhəri, Nizami küçəsi 14", "Saatlı şəhəri, Azadlıq prospekti 7", "Bəydili kəndi", "Sabirabad şəhəri, H. Əliyev küçəsi 21", "Bakı, Yasamal rayonu, Şərifzadə küçəsi 5"}
	workplaces  = []string{"3 nömrəli tam orta məktəb", "Rayon mərkəzi xəstəxanası", "ASAN xidmət", "Fermer təsərrüfatı"}
	positions   = []string{"müəllim", "həkim", "mühasib", "sürücü", "mühəndis"}
	subjects    = []string{"İçməli su", "Yol təmiri", "Küçə işıqlandırması", "Qaz təchizatı", "Məktəb binası", "Sosial yardım"}
	answerNotes = []string{"Müraciətinizə baxılmışdır, cavab məktubu ünvanınıza göndərilib.", "Məsələ həll olunub.", "Təmir işləri plana salınıb."}
	texts       = []string{
		"Kəndimizdə iki həftədir içməli su verilmir. Xahiş edirəm məsələyə baxasınız.",
		"Küçəmizdəki yol çuxurlarla doludur, təmir olunmasını xahiş edirəm.",
		"Məhəlləmizdə axşamlar küçə işıqları yanmır.",
		"Ailəmizin mənzil şəraitinin yaxşılaşdırılması üçün kömək istəyirəm.",
		"Parkın abadlaşdırılması ilə bağlı təklifim var.",
	}
	commentTexts = []string{"Problem hələ də davam edir, əlavə şəkil göndərirəm.", "Təşəkkür edirəm, gözləyirəm.", "Əlavə məlumat: ünvan dəqiqləşdirildi."}
)

// SeedFigures describe the seeded ledger.
type SeedFigures struct {
	Appeals  int64   `json:"appeals"`
	Citizens int     `json:"citizens"`
	Events   int64   `json:"status_history_rows"`
	Comments int64   `json:"comments"`
	Bookings int64   `json:"reception_booking_rows"`
	Invalid  int     `json:"invalid_requests"` // in the inbox beside the appeals
	Seconds  float64 `json:"seconds"`          // COPY, index builds and VACUUM (ANALYZE)
	Bytes    int64   `json:"database_bytes"`
	// DatabaseCPU and BenchCPU are the CPU seconds PostgreSQL and the bench
	// (generating the rows) spent meanwhile: on a shared machine, what the
	// seeding costs whatever else runs.
	DatabaseCPU float64 `json:"database_cpu_s"`
	BenchCPU    float64 `json:"bench_cpu_s"`
}

// write fills the migrated, empty database of pool with the seed: COPY
// streams for every table at once, then the numbering counters and a
// vacuum.
// History and comments are written with their foreign keys' triggers off
// (session_replication_role, as pg_restore --disable-triggers does): the
// appeals they name are being written beside them, and plan guarantees
// they exist.
func (s *ledgerSeed) write(ctx context.Context, pool *pgxpool.Pool) (SeedFigures, error) {
	start := time.Now()
	fig := SeedFigures{Citizens: len(s.fins), Invalid: s.invalid}
	n := len(s.at)
	indexes, err := deferIndexes(ctx, pool)
	if err != nil {
		return fig, err
	}
	g, gctx := errgroup.WithContext(ctx)
	// Appeals and history carry most bytes: two streams each.
	half := n / 2
	var appealsA, appealsB, eventsA, eventsB int64
	g.Go(func() (err error) { appealsA, err = s.copyAppeals(gctx, pool, 0, half); return err })
	g.Go(func() (err error) { appealsB, err = s.copyAppeals(gctx, pool, half, n); return err })
	g.Go(func() (err error) { eventsA, err = s.copyHistory(gctx, pool, 0, half); return err })
	g.Go(func() (err error) { eventsB, err = s.copyHistory(gctx, pool, half, n); return err })
	g.Go(func() (err error) { fig.Comments, err = s.copyComments(gctx, pool); return err })
	g.Go(func() error { return s.copyInbox(gctx, pool) })
	g.Go(func() (err error) { fig.Bookings, err = s.copyBookings(gctx, pool); return err })
	if err := g.Wait(); err != nil {
		return fig, err
	}
	fig.Appeals, fig.Events = appealsA+appealsB, eventsA+eventsB
	if err := buildIndexes(ctx, pool, indexes); err != nil {
		return fig, err
	}
	var b pgx.Batch
	for k, last := range s.counters {
		b.Queue(`INSERT INTO appeal_counters (district, year, last_seq) VALUES ($1, $2, $3)`, k.district, int(k.year), int(last))
	}
	if err := pool.SendBatch(ctx, &b).Close(); err != nil {
		return fig, fmt.Errorf("seed: counters: %w", err)
	}
	// A vacuum now rather than autovacuum's in the middle of the readings:
	// the ledger read is one that has been vacuumed, as a long-lived one
	// has. One table a connection: a vacuum works on one core.
	g, gctx = errgroup.WithContext(ctx)
	for _, table := range []string{"appeals", "status_history", "comments", "inbox", "reception_bookings", "appeal_counters"} {
		g.Go(func() error {
			if _, err := pool.Exec(gctx, `VACUUM (ANALYZE) `+table); err != nil {
				return fmt.Errorf("seed: vacuum %s: %w", table, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fig, err
	}
	fig.Seconds = time.Since(start).Seconds()
	if err := pool.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&fig.Bytes); err != nil {
		return fig, fmt.Errorf("seed: size: %w", err)
	}
	return fig, nil
}

// deferIndexes drops the indexes of the seeded tables that back no
// constraint and returns their definitions: built again after the load,
// each is one sort instead of millions of random inserts. The schema ends
// as the migrations made it.
func deferIndexes(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	rows, err := pool.Query(ctx, `
		SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
		WHERE i.indrelid = ANY ('{appeals, status_history, comments, inbox}'::regclass[])
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`)
	if err != nil {
		return nil, fmt.Errorf("seed: indexes: %w", err)
	}
	var names, defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return nil, fmt.Errorf("seed: indexes: %w", err)
		}
		names, defs = append(names, name), append(defs, def)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("seed: indexes: %w", err)
	}
	for _, name := range names {
		if _, err := pool.Exec(ctx, "DROP INDEX "+name); err != nil {
			return nil, fmt.Errorf("seed: drop index %s: %w", name, err)
		}
	}
	return defs, nil
}

// buildIndexes runs the definitions deferIndexes returned, two at a time.
func buildIndexes(ctx context.Context, pool *pgxpool.Pool, defs []string) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for _, def := range defs {
		g.Go(func() error {
			return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
					return fmt.Errorf("seed: %w", err)
				}
				if _, err := tx.Exec(ctx, def); err != nil {
					return fmt.Errorf("seed: %s: %w", def, err)
				}
				return nil
			})
		})
	}
	return g.Wait()
}

// copyRows COPYs the rows next makes into table on a connection of its own.
func copyRows(ctx context.Context, pool *pgxpool.Pool, table string, columns []string, noTriggers bool, next func() ([]any, bool, error)) (int64, error) {
	pooled, err := pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("seed %s: %w", table, err)
	}
	// Taken from the pool: it closes with its session setting.
	conn := pooled.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if noTriggers {
		if _, err := conn.Exec(ctx, `SET session_replication_role = replica`); err != nil {
			return 0, fmt.Errorf("seed %s: turn the foreign keys' triggers off (needs a superuser): %w", table, err)
		}
	}
	var row []any
	n, err := conn.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromFunc(func() ([]any, error) {
		var (
			more bool
			err  error
		)
		row, more, err = next()
		if err != nil || !more {
			return nil, err
		}
		return row, nil
	}))
	if err != nil {
		return n, fmt.Errorf("seed %s: %w", table, err)
	}
	return n, nil
}

// each walks the plans of appeals from to to, calling rows for each; rows
// returns the plan's rows of one table, handed out one by one.
func (s *ledgerSeed) each(from, to int, rows func(p appealPlan) ([][]any, error)) func() ([]any, bool, error) {
	i := from
	var pending [][]any
	return func() ([]any, bool, error) {
		for len(pending) == 0 {
			if i == to {
				return nil, false, nil
			}
			var err error
			if pending, err = rows(s.plan(i)); err != nil {
				return nil, false, err
			}
			i++
		}
		row := pending[0]
		pending = pending[1:]
		return row, true, nil
	}
}

func (s *ledgerSeed) copyAppeals(ctx context.Context, pool *pgxpool.Pool, from, to int) (int64, error) {
	columns := []string{"number", "request_id", "district", "service", "fin", "status", "sequence", "registered_at", "deadline",
		"request", "person", "delivery_state", "delivery_attempts", "last_error", "district_ref", "updated_at",
		"delivery_unanswered", "appeal_type", "submitted_at", "filed_district",
		"extended", "extended_at", "extension_reason", "forwarded_to", "forwarded_by", "forwarded_at", "forwarded_late", "forwarders",
		"delivered_at", "in_progress_at", "answered_at", "answer_days", "answered_on_time", "closed_at",
		"oversight_level", "oversight_deadline"}
	return copyRows(ctx, pool, "appeals", columns, false, s.each(from, to, func(p appealPlan) ([][]any, error) {
		body, err := s.request(p)
		if err != nil {
			return nil, fmt.Errorf("request of %s: %w", p.number, err)
		}
		ref, attempts := fmt.Sprintf("%s/%d/%07d", strings.TrimPrefix(p.holder, "AZ-"), p.registered.Year(), p.rng.IntN(10_000_000)), int32(1)
		if p.delivery == routers.DeliveryPending {
			ref, attempts = "", 0
		}
		st, m := p.statutory, p.milestones
		forwarders := st.Forwarders
		if forwarders == nil {
			forwarders = []string{}
		}
		var days, watched any // NULL without an answer, without a crossing claimed
		if !m.AnsweredAt.IsZero() {
			days = int32(m.AnswerDays)
		}
		if p.oversight > 0 {
			watched = p.deadline.date
		}
		// updated_at is the seeding: reconciliation would otherwise ask
		// the simulators about a million appeals they never received.
		return [][]any{{p.number, p.requestID, p.holder, p.service, p.fin, string(p.status), int32(len(p.events)), p.registered,
			p.deadline.date, body, s.persons[p.citizen], string(p.delivery), attempts, "", ref, s.now,
			false, p.kind, p.submitted, p.district,
			st.Extended, nullTime(st.ExtendedAt), st.ExtensionReason, st.ForwardedTo, st.ForwardedBy, nullTime(st.ForwardedAt), st.ForwardedLate, forwarders,
			nullTime(m.DeliveredAt), nullTime(m.InProgressAt), nullTime(m.AnsweredAt), days, m.OnTime, nullTime(m.ClosedAt),
			p.oversight, watched}}, nil
	}))
}

// nullTime is a zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func (s *ledgerSeed) copyHistory(ctx context.Context, pool *pgxpool.Pool, from, to int) (int64, error) {
	columns := []string{"appeal_number", "sequence", "status", "event", "hash"}
	return copyRows(ctx, pool, "status_history", columns, true, s.each(from, to, func(p appealPlan) ([][]any, error) {
		rows := make([][]any, len(p.events))
		prev := routers.ChainGenesis
		for i, e := range p.events {
			requestID := p.requestID
			if e.requestID != "" {
				requestID = e.requestID
			}
			ev := routers.StatusEvent{
				EventID: randomUUID(p.rng), RequestID: requestID, AppealNumber: p.number, District: e.district,
				Service: p.service, Status: e.status, Sequence: i + 1, At: routers.FormatTime(e.at),
				Deadline: e.deadline, Note: e.note,
			}
			// Chained as the hub chains what it writes, so the seed verifies.
			canonical, err := routers.CanonicalEvent(ev)
			if err != nil {
				return nil, fmt.Errorf("event of %s: %w", p.number, err)
			}
			prev = routers.ChainHash(p.number, i+1, prev, canonical)
			rows[i] = []any{p.number, int32(i + 1), string(e.status), canonical, prev}
		}
		return rows, nil
	}))
}

func (s *ledgerSeed) copyComments(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	columns := []string{"id", "appeal_number", "text", "submitted_at", "delivery_state", "delivery_attempts", "last_error"}
	return copyRows(ctx, pool, "comments", columns, true, s.each(0, len(s.at), func(p appealPlan) ([][]any, error) {
		rows := make([][]any, len(p.comments))
		for i, c := range p.comments {
			rows[i] = []any{c.id, p.number, c.text, c.at, string(routers.DeliveryDelivered), int32(1), ""}
		}
		return rows, nil
	}))
}

// copyInbox claims every request and comment id, as intake did, and
// the invalid requests beside them with the district each named (one in
// ten none the hub serves) and the field refused.
func (s *ledgerSeed) copyInbox(ctx context.Context, pool *pgxpool.Pool) error {
	columns := []string{"request_id", "outcome", "received_at", "district", "refused_field"}
	appeals := s.each(0, len(s.at), func(p appealPlan) ([][]any, error) {
		rows := [][]any{{p.requestID, "registered", p.registered, "", ""}}
		for _, c := range p.comments {
			rows = append(rows, []any{c.id, "comment", c.at, "", ""})
		}
		return rows, nil
	})
	rng := rand.New(rand.NewPCG(s.seed, 0x1a7a11d))
	from, span := seedSince.UnixMicro(), s.now.Add(-time.Hour).UnixMicro()-seedSince.UnixMicro()
	invalid := 0
	_, err := copyRows(ctx, pool, "inbox", columns, false, func() ([]any, bool, error) {
		if row, more, err := appeals(); more || err != nil {
			return row, more, err
		}
		if invalid == s.invalid {
			return nil, false, nil
		}
		invalid++
		district := ""
		if rng.IntN(10) > 0 {
			district = pickOf(rng, s.codes)
		}
		return []any{randomUUID(rng), "invalid", time.UnixMicro(from + rng.Int64N(span)), district, pickOf(rng, refusedFields)}, true, nil
	})
	return err
}

// refusedFields are what invalid requests are refused for, the first more often.
var refusedFields = []string{"citizen.fin", "citizen.fin", "citizen.fin", "appeal.text", "appeal.text", "service",
	"reception.date", "district", "submitted_at", "form.child_birth_date"}

// copyBookings counts the places the reception bookings took.
func (s *ledgerSeed) copyBookings(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	type slot struct{ official, date string }
	booked := map[slot]int32{}
	for i := range s.at {
		if p := s.plan(i); p.reception != nil {
			booked[slot{p.reception.OfficialID, p.reception.Date}]++
		}
	}
	slots := make([]slot, 0, len(booked))
	for k := range booked {
		slots = append(slots, k)
	}
	next := 0
	return copyRows(ctx, pool, "reception_bookings", []string{"official_id", "day", "booked"}, false, func() ([]any, bool, error) {
		if next == len(slots) {
			return nil, false, nil
		}
		k := slots[next]
		next++
		day, err := time.Parse(time.DateOnly, k.date)
		if err != nil {
			return nil, false, errors.New("seed: a reception date that is no date")
		}
		return []any{k.official, day, booked[k]}, true, nil
	})
}
