// Package portalsim simulates the e-gov portal: it generates realistic,
// signed requests to several districts (bad ones included, each with the
// outcome the hub owes it), publishes them, and tracks the status events
// the hub sends back.
package portalsim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
	"github.com/korpu-az/korpu/routers/catalogue"
)

// Outcome is what the hub owes a generated message.
type Outcome int

// Outcomes.
const (
	// Registered: a valid request; registered, delivered, answered.
	Registered Outcome = iota
	// Invalid: exactly one invalid event naming Field.
	Invalid
	// Poisoned: no event at all; the message ends on the poison queue.
	Poisoned
	// Duplicate: a repeat of an earlier message; no effect of its own.
	Duplicate
)

func (o Outcome) String() string {
	return [...]string{"registered", "invalid", "poisoned", "duplicate"}[o]
}

// Official is one official of a simulated district.
type Official struct {
	ID       string
	Capacity map[time.Weekday]int
}

// District is what the portal knows of a district.
type District struct {
	Code      string
	Services  []string // empty: all services
	Officials []Official
}

// Options configure a Generator.
type Options struct {
	Districts  []District
	Catalogue  *catalogue.Catalogue
	Calendar   *calendar.Calendar
	SigningKey []byte
	// BadRate is the share of messages that are bad in some way (default 0.15);
	// DuplicateRate the share that repeat an earlier message (default 0.05).
	// A negative rate means none: BadRate and DuplicateRate both negative
	// give valid requests only, as a benchmark wants (a reception booking
	// that finds every place taken still comes out bad).
	BadRate, DuplicateRate float64
	Seed                   uint64
	Now                    func() time.Time
}

// Message is one generated message and what it should lead to.
type Message struct {
	ID        string
	Body      []byte
	Signature string
	Outcome   Outcome
	Field     string // for Invalid: the field the hub must name
	Reason    string // for Invalid and Poisoned: what is wrong
	District  string
	FIN       string
}

// Generator makes portal messages. It is safe for concurrent use.
type Generator struct {
	opts     Options
	mu       sync.Mutex
	rng      *rand.Rand
	sent     []Message // valid and invalid ones, for duplicates
	bookings map[string]int
}

// NewGenerator returns a generator; opts must name at least one district.
func NewGenerator(opts Options) *Generator {
	if opts.BadRate == 0 {
		opts.BadRate = 0.15
	}
	if opts.DuplicateRate == 0 {
		opts.DuplicateRate = 0.05
	}
	opts.BadRate, opts.DuplicateRate = max(opts.BadRate, 0), max(opts.DuplicateRate, 0)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Generator{opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)), bookings: map[string]int{}}
}

// Next returns the next message.
func (g *Generator) Next() Message {
	g.mu.Lock()
	defer g.mu.Unlock()
	roll := g.rng.Float64()
	switch {
	case roll < g.opts.DuplicateRate && len(g.sent) > 0:
		m := g.sent[g.rng.IntN(len(g.sent))]
		m.Outcome = Duplicate
		return m
	case roll < g.opts.DuplicateRate+g.opts.BadRate:
		return g.bad()
	}
	req, district, ok := g.valid()
	if !ok {
		return g.bad()
	}
	return g.finish(req, district, Registered, "", "")
}

// Comment makes a citizen's comment on a registered appeal; by the filer
// (fin) when own is true, else by someone else (Invalid).
func (g *Generator) Comment(appealNumber, fin string, own bool) Message {
	g.mu.Lock()
	defer g.mu.Unlock()
	outcome, field := Registered, ""
	if !own {
		fin, outcome, field = g.fin(), Invalid, "citizen.fin"
	}
	body := map[string]any{
		"kind": "comment", "id": uuid.NewString(), "submitted_at": g.opts.Now().Format(time.RFC3339),
		"citizen": map[string]any{"fin": fin}, "appeal_number": appealNumber,
		"text": pick(g.rng, commentTexts),
	}
	m := g.finish(body, "", outcome, field, "comment by another citizen")
	m.FIN = fin
	return m
}

func (g *Generator) finish(body map[string]any, district string, outcome Outcome, field, reason string) Message {
	raw, err := json.Marshal(body)
	if err != nil {
		panic(err) // maps of strings and numbers always marshal
	}
	id, _ := body["id"].(string)
	fin := ""
	if c, ok := body["citizen"].(map[string]any); ok {
		fin, _ = c["fin"].(string)
	}
	m := Message{ID: id, Body: raw, Signature: routers.Sign(g.opts.SigningKey, raw), Outcome: outcome,
		Field: field, Reason: reason, District: district, FIN: fin}
	if outcome == Registered || outcome == Invalid {
		g.sent = append(g.sent, m)
	}
	return m
}

const finAlphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// fin is a FİN the registry simulator knows (it does not know those
// starting with 0).
func (g *Generator) fin() string {
	var b strings.Builder
	b.WriteByte(finAlphabet[1+g.rng.IntN(len(finAlphabet)-1)])
	for range 6 {
		b.WriteByte(finAlphabet[g.rng.IntN(len(finAlphabet))])
	}
	return b.String()
}

func (g *Generator) district() District { return g.opts.Districts[g.rng.IntN(len(g.opts.Districts))] }

func (g *Generator) services(d District) []string {
	if len(d.Services) > 0 {
		return d.Services
	}
	var codes []string
	for _, s := range g.opts.Catalogue.All() {
		if !s.Withdrawn {
			codes = append(codes, s.Code)
		}
	}
	return codes
}

// valid builds a request that passes every rule.
func (g *Generator) valid() (map[string]any, string, bool) {
	d := g.district()
	services := g.services(d)
	service := services[g.rng.IntN(len(services))]
	req := g.base(d.Code, service)
	switch service {
	case "reception-booking":
		reception, ok := g.reception(d)
		if !ok {
			return nil, "", false
		}
		req["reception"] = reception
	default:
		if s, ok := g.opts.Catalogue.Lookup(service); ok && s.HasForm() {
			req["form"] = s.ExampleForm()
		}
	}
	return req, d.Code, true
}

// reception books a free place on one of an official's next 4 days.
func (g *Generator) reception(d District) (map[string]any, bool) {
	if len(d.Officials) == 0 {
		return nil, false
	}
	o := d.Officials[g.rng.IntN(len(d.Officials))]
	days, err := g.opts.Calendar.NextWorkingDays(g.opts.Now(), 4, func(w time.Weekday) bool { return o.Capacity[w] > 0 })
	if err != nil {
		return nil, false
	}
	for _, i := range g.rng.Perm(len(days)) {
		day := days[i]
		key := o.ID + "/" + day.Format(time.DateOnly)
		if g.bookings[key] < o.Capacity[day.Weekday()] {
			g.bookings[key]++
			return map[string]any{"official_id": o.ID, "date": day.Format(time.DateOnly)}, true
		}
	}
	return nil, false
}

func (g *Generator) base(district, service string) map[string]any {
	citizen := map[string]any{
		"fin":     g.fin(),
		"phone":   fmt.Sprintf("+99450%07d", g.rng.IntN(10_000_000)),
		"address": pick(g.rng, addresses),
	}
	if g.rng.IntN(2) == 0 {
		citizen["email"] = fmt.Sprintf("vetendas%d@example.az", g.rng.IntN(100000))
		citizen["workplace"] = pick(g.rng, workplaces)
		citizen["position"] = pick(g.rng, positions)
	}
	appeal := map[string]any{
		"type":          pick(g.rng, []string{"complaint", "application", "proposal"}),
		"social_status": pick(g.rng, []string{"employed", "unemployed", "pensioner", "student", "other"}),
		"subject":       pick(g.rng, subjects),
		"text":          pick(g.rng, texts),
	}
	if g.rng.IntN(3) == 0 {
		appeal["privilege_status"] = pick(g.rng, []string{"war_veteran", "war_disabled", "martyr_family", "idp", "disability_1", "disability_2", "disability_3", "large_family"})
	}
	req := map[string]any{
		"kind": "request", "id": uuid.NewString(), "submitted_at": g.opts.Now().Format(time.RFC3339),
		"district": district, "service": service, "citizen": citizen, "appeal": appeal,
	}
	if g.rng.IntN(4) == 0 {
		req["attachments"] = []map[string]any{{
			"name": "sened.pdf", "content_type": "application/pdf", "size": 1000 + g.rng.IntN(500000),
			"sha256": fmt.Sprintf("%064x", g.rng.Uint64()), "url": "https://files.portal.example/att/" + uuid.NewString(),
		}}
	}
	return req
}

// bad makes one of the kinds of bad input the hub must answer.
func (g *Generator) bad() Message {
	d := g.district()
	req := g.base(d.Code, "appeal")
	citizen := req["citizen"].(map[string]any)
	appeal := req["appeal"].(map[string]any)
	invalid := func(field, reason string) Message { return g.finish(req, d.Code, Invalid, field, reason) }
	switch g.rng.IntN(14) {
	case 0:
		citizen["fin"] = "12345I7"
		return invalid("citizen.fin", "FİN with the letter I")
	case 1:
		citizen["phone"] = "0501234567"
		return invalid("citizen.phone", "phone without +994")
	case 2:
		req["service"] = "passport-renewal"
		return invalid("service", "unknown service")
	case 3:
		req["service"] = "marriage-age-reduction"
		req["form"] = map[string]any{}
		return invalid("service", "withdrawn service")
	case 4:
		delete(appeal, "text")
		return invalid("appeal.text", "missing text")
	case 5:
		appeal["text"] = strings.Repeat("ə", 10001)
		return invalid("appeal.text", "text too long")
	case 6:
		req["district"] = "AZ-XXX"
		return invalid("district", "unknown district")
	case 7:
		req["service"] = "reception-booking"
		req["reception"] = map[string]any{"official_id": "NOBODY-01", "date": g.opts.Now().AddDate(0, 0, 7).Format(time.DateOnly)}
		return invalid("reception.official_id", "official of no district")
	case 8:
		req["colour"] = "blue"
		return invalid("colour", "field not in the contract")
	case 9:
		citizen["fin"] = "0" + g.fin()[1:]
		return invalid("citizen.fin", "FİN unknown to the registry")
	case 10:
		m := g.finish(req, d.Code, Poisoned, "", "bad signature")
		m.Signature = routers.Sign([]byte("not the portal's key"), m.Body)
		return m
	case 11:
		raw := []byte("<appeal>not json</appeal>")
		return Message{ID: "", Body: raw, Signature: routers.Sign(g.opts.SigningKey, raw), Outcome: Poisoned, Reason: "not JSON"}
	case 12:
		delete(req, "id")
		m := g.finish(req, d.Code, Poisoned, "", "no id")
		return m
	default:
		appeal["type"] = "petition"
		return invalid("appeal.type", "unknown appeal type")
	}
}

func pick[T any](rng *rand.Rand, items []T) T { return items[rng.IntN(len(items))] }

var (
	addresses  = []string{"Biləsuvar şəhəri, Nizami küçəsi 14", "Saatlı şəhəri, Azadlıq prospekti 7", "Bəydili kəndi", "Sabirabad şəhəri, H. Əliyev küçəsi 21", "Bakı, Yasamal rayonu, Şərifzadə küçəsi 5"}
	workplaces = []string{"3 nömrəli tam orta məktəb", "Rayon mərkəzi xəstəxanası", "ASAN xidmət", "Fermer təsərrüfatı"}
	positions  = []string{"müəllim", "həkim", "mühasib", "sürücü", "mühəndis"}
	subjects   = []string{"İçməli su", "Yol təmiri", "Küçə işıqlandırması", "Qaz təchizatı", "Məktəb binası", "Sosial yardım"}
	texts      = []string{
		"Kəndimizdə iki həftədir içməli su verilmir. Xahiş edirəm məsələyə baxasınız.",
		"Küçəmizdəki yol çuxurlarla doludur, təmir olunmasını xahiş edirəm.",
		"Məhəlləmizdə axşamlar küçə işıqları yanmır.",
		"Ailəmizin mənzil şəraitinin yaxşılaşdırılması üçün kömək istəyirəm.",
		"Parkın abadlaşdırılması ilə bağlı təklifim var.",
	}
	commentTexts = []string{"Problem hələ də davam edir, əlavə şəkil göndərirəm.", "Təşəkkür edirəm, gözləyirəm.", "Əlavə məlumat: ünvan dəqiqləşdirildi."}
)
