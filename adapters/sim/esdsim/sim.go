// Package esdsim simulates a legacy district system (contract §5): the ESD
// vendor's "Müraciət" SOAP 1.1 service, for `korpu sim esd`, the demo and
// tests. It checks the WS-Security UsernameToken, registers appeals once per
// XariciNomre, refuses incomplete ones, takes comments, and moves every
// registered appeal to Veziyyet 2 (in progress) and then 3 (answered), which
// the hub sees by polling DeyisiklikleriAl or VeziyyetSorgula. Faults can be
// injected: busy answers at random, a whole outage, or a chosen failure of
// the next calls.
package esdsim

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"

	"github.com/korpu-az/korpu/adapters/district/esd"
	"github.com/korpu-az/korpu/schemas"
)

// Defaults of Options.
const (
	// DefaultStepDelay is the time between two states of an appeal when
	// Options.StepDelay is zero.
	DefaultStepDelay = 200 * time.Millisecond
	// DefaultPageSize caps the changes of one DeyisiklikleriAl answer when
	// Options.PageSize is zero.
	DefaultPageSize = 100
)

// maxRequestBody bounds what the simulator reads of a request.
const maxRequestBody = 2 << 20

// notes are what the simulated officials write with each state.
var notes = map[int]string{
	2: "Müraciət icraya götürüldü / The appeal is being handled",
	3: "Müraciətə cavab verildi / The appeal has been answered",
	4: "Müraciət rədd edildi / The appeal was rejected",
	5: "Müraciət aidiyyəti üzrə göndərildi / The appeal was forwarded",
	6: "Müraciət bağlandı / The appeal is closed",
}

// Options configure a simulated ESD.
type Options struct {
	// Code is the district's code, e.g. AZ-BIL; without its "AZ-" prefix it
	// starts the ESD numbers.
	Code string
	// Username and Password are what the UsernameToken must hold; an empty
	// Username accepts any token, but a token is still required.
	Username, Password string
	// BusyRate is the fraction of calls answered with the SISTEM_MESGUL
	// fault, from 0 (none, the default) to 1 (all).
	BusyRate float64
	// Latency delays every answer, to mimic a slow system. Default none.
	Latency time.Duration
	// StepDelay is the time from registration to Veziyyet 2, and from 2 to 3.
	// Default DefaultStepDelay (200ms); negative: appeals stay at 1 unless
	// SetState moves them.
	StepDelay time.Duration
	// PageSize caps the changes of one DeyisiklikleriAl answer, whatever
	// Limit the caller asks. Default DefaultPageSize (100).
	PageSize int
	// Logger receives the simulator's logs; nil discards them.
	Logger *slog.Logger
}

func (o *Options) setDefaults() {
	if o.StepDelay == 0 {
		o.StepDelay = DefaultStepDelay
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Failure is a fault the simulator can be told to answer the next call with.
type Failure int

// Failures for FailNext.
const (
	// FailBusy answers the SISTEM_MESGUL fault.
	FailBusy Failure = iota + 1
	// FailInvalid answers the MELUMAT_SEHVDIR fault.
	FailInvalid
	// FailUnauthorized answers the ICAZE_YOXDUR fault.
	FailUnauthorized
	// FailMalformed answers 200 with a body that is not XML.
	FailMalformed
	// FailHang answers nothing until the caller gives up.
	FailHang
	// FailDown answers 503 without a SOAP body.
	FailDown
)

// Sim is a simulated ESD; it is an http.Handler. It needs no goroutine:
// the appeals' progress is worked out whenever a call comes.
type Sim struct {
	opts Options
	log  *slog.Logger
	wsdl []byte
	xsd  []byte

	mu        sync.Mutex
	appeals   map[string]*Appeal // by XariciNomre
	byNumber  map[string]*Appeal // by QeydiyyatNomresi
	received  map[string]int     // QeydiyyataAl calls by XariciNomre
	changes   []change           // oldest first
	failNext  []Failure
	down      bool
	malformed bool
}

// Appeal is an appeal as the simulator registered it.
type Appeal struct {
	XariciNomre      string
	QeydiyyatNomresi string
	Nov              string
	XidmetKodu       string
	SosialStatus     string
	GuzestStatusu    string
	Movzu            string
	Metn             string
	FIN              string
	Soyad, Ad        string
	Telefon          string
	Qebul            *Qebul
	Fields           map[string]string // FormSaheleri: Ad → Deyer
	Attachments      []string          // Elave Unvan, in order
	GonderilmeTarixi string
	SonMuddet        string
	Veziyyet         int
	Comments         []string

	registered time.Time
	auto       int // automatic steps taken: 0, 1 (to 2) or 2 (to 3)
}

// Qebul is a booked reception.
type Qebul struct{ VezifeliSexsKodu, Tarix string }

type change struct {
	xarici, number string
	veziyyet       int
	note           string
	at             time.Time
}

// New returns a simulated ESD.
func New(opts Options) *Sim {
	opts.setDefaults()
	wsdl, err := schemas.ESD.ReadFile("esd/esd-muraciet-v1.wsdl")
	if err != nil {
		panic(err) // embedded: cannot fail
	}
	xsd, err := schemas.ESD.ReadFile("esd/esd-muraciet-v1.xsd")
	if err != nil {
		panic(err)
	}
	return &Sim{
		opts:     opts,
		log:      opts.Logger.With("district", opts.Code),
		wsdl:     wsdl,
		xsd:      xsd,
		appeals:  make(map[string]*Appeal),
		byNumber: make(map[string]*Appeal),
		received: make(map[string]int),
	}
}

// SetDown makes the simulator answer every call 503 without a SOAP body
// (true) or serve again (false).
func (s *Sim) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// SetMalformed makes the simulator answer every call with a broken body
// (true) or serve again (false).
func (s *Sim) SetMalformed(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.malformed = on
}

// FailNext makes the next calls, one each, fail as given.
func (s *Sim) FailNext(f ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = append(s.failNext, f...)
}

// Registered returns how many distinct appeals the simulator has registered.
func (s *Sim) Registered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.appeals)
}

// Received returns how many QeydiyyataAl calls named xarici and got past the
// simulated faults and the credentials check, valid or not.
func (s *Sim) Received(xarici string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received[xarici]
}

// Appeal returns a copy of a registered appeal by its XariciNomre.
func (s *Sim) Appeal(xarici string) (Appeal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(time.Now())
	a, ok := s.appeals[xarici]
	if !ok {
		return Appeal{}, false
	}
	c := *a
	c.Comments = slices.Clone(a.Comments)
	c.Attachments = slices.Clone(a.Attachments)
	return c, true
}

// Comments returns the comments of an appeal, named by its XariciNomre or
// its ESD number, in arrival order.
func (s *Sim) Comments(number string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.appeals[number]
	if a == nil {
		a = s.byNumber[number]
	}
	if a == nil {
		return nil
	}
	return slices.Clone(a.Comments)
}

// SetState moves an appeal, named by its XariciNomre, to a Veziyyet (1–6)
// now, as an official would; its automatic progress stops.
func (s *Sim) SetState(xarici string, veziyyet int, note string) error {
	if veziyyet < 1 || veziyyet > 6 {
		return fmt.Errorf("veziyyet %d is outside 1–6", veziyyet)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.advance(now)
	a, ok := s.appeals[xarici]
	if !ok {
		return fmt.Errorf("no appeal %s", xarici)
	}
	if note == "" {
		note = notes[veziyyet]
	}
	a.auto = 2
	a.Veziyyet = veziyyet
	s.changes = append(s.changes, change{xarici: xarici, number: a.QeydiyyatNomresi, veziyyet: veziyyet, note: note, at: now})
	return nil
}

// advance takes every automatic step due by now, in time order. Steps are
// due at fixed times after registration, so the change log stays ordered:
// every step due before the previous call was taken then. The caller holds s.mu.
func (s *Sim) advance(now time.Time) {
	if s.opts.StepDelay < 0 {
		return
	}
	var due []change
	for _, a := range s.appeals {
		for a.auto < 2 {
			at := a.registered.Add(time.Duration(a.auto+1) * s.opts.StepDelay)
			if at.After(now) {
				break
			}
			a.auto++
			a.Veziyyet = a.auto + 1
			due = append(due, change{xarici: a.XariciNomre, number: a.QeydiyyatNomresi, veziyyet: a.Veziyyet, note: notes[a.Veziyyet], at: at})
		}
	}
	slices.SortStableFunc(due, func(x, y change) int { return x.at.Compare(y.at) })
	s.changes = append(s.changes, due...)
}

// ServeHTTP serves the WSDL and XSD on GET and the four operations on POST.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		s.serveContract(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// Reading the body first lets the server notice a caller that gives up
	// during the latency: it watches the connection only once the body is read.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	if !s.wait(r, s.opts.Latency) {
		return
	}
	if s.injected(w, r) {
		return
	}
	env, err := esd.ReadEnvelope(body)
	if err != nil {
		s.fault(w, esd.CodeInvalid, "Sorğu oxunmadı / Unreadable request: "+err.Error(), "")
		return
	}
	user, pass, ok := env.Credentials()
	if !ok || (s.opts.Username != "" && (!equal(user, s.opts.Username) || !equal(pass, s.opts.Password))) {
		s.fault(w, esd.CodeUnauthorized, "İcazə yoxdur / Wrong or missing credentials", "")
		return
	}
	op := env.Payload.Tag
	if env.Payload.NamespaceURI() != esd.Namespace {
		op = ""
	}
	action := strings.Trim(r.Header.Get("SOAPAction"), `"`)
	handlers := map[string]struct {
		action string
		handle func(http.ResponseWriter, *etree.Element)
	}{
		"QeydiyyataAl":    {esd.SOAPAction(esd.OpRegister), s.register},
		"VeziyyetSorgu":   {esd.SOAPAction(esd.OpState), s.state},
		"DeyisiklikSorgu": {esd.SOAPAction(esd.OpChanges), s.changesSince},
		"SerhElaveEt":     {esd.SOAPAction(esd.OpComment), s.comment},
	}
	h, ok := handlers[op]
	switch {
	case !ok:
		s.fault(w, esd.CodeInvalid, fmt.Sprintf("Naməlum əməliyyat / Unknown operation %q", env.Payload.FullTag()), "")
	case action != h.action:
		s.fault(w, esd.CodeInvalid, fmt.Sprintf("SOAPAction %q does not match %s", action, op), "")
	default:
		h.handle(w, env.Payload)
	}
}

// serveContract answers ?wsdl with the WSDL, its address pointed at this
// server, and the XSD it imports.
func (s *Sim) serveContract(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Query().Has("wsdl"):
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		here := scheme + "://" + r.Host + r.URL.Path
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		_, _ = w.Write(bytes.Replace(s.wsdl, []byte("http://127.0.0.1:18090/esd"), []byte(here), 1))
	case strings.HasSuffix(r.URL.Path, "esd-muraciet-v1.xsd") || r.URL.Query().Has("xsd"):
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		_, _ = w.Write(s.xsd)
	default:
		http.Error(w, "ask ?wsdl", http.StatusNotFound)
	}
}

// injected answers the call with a simulated failure, if one is due.
func (s *Sim) injected(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	var f Failure
	switch {
	case s.down:
		f = FailDown
	case s.malformed:
		f = FailMalformed
	case len(s.failNext) > 0:
		f, s.failNext = s.failNext[0], s.failNext[1:]
	case s.opts.BusyRate > 0 && rand.Float64() < s.opts.BusyRate:
		f = FailBusy
	}
	s.mu.Unlock()
	switch f {
	case 0:
		return false
	case FailBusy:
		s.fault(w, esd.CodeBusy, "Sistem məşğuldur / The system is busy, try again later", "")
	case FailInvalid:
		s.fault(w, esd.CodeInvalid, "Məlumat səhvdir / Invalid data", "")
	case FailUnauthorized:
		s.fault(w, esd.CodeUnauthorized, "İcazə yoxdur / Wrong or missing credentials", "")
	case FailMalformed:
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		_, _ = io.WriteString(w, "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><broken")
	case FailHang:
		<-r.Context().Done()
	case FailDown:
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
	}
	return true
}

// wait sleeps d unless the caller gives up first.
func (s *Sim) wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// reply writes a successful answer.
func (s *Sim) reply(w http.ResponseWriter, payload *etree.Element) {
	s.write(w, http.StatusOK, payload)
}

// fault writes a SOAP fault with a Xeta detail, HTTP 500 as SOAP 1.1 says.
func (s *Sim) fault(w http.ResponseWriter, code, message, existing string) {
	s.write(w, http.StatusInternalServerError, esd.NewFault(code, message, existing))
}

func (s *Sim) write(w http.ResponseWriter, status int, payload *etree.Element) {
	b, err := esd.NewEnvelope(nil, payload).WriteToBytes()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
