package esdsim

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/korpu-az/korpu/adapters/district/esd"
	"github.com/korpu-az/korpu/routers"
)

var (
	finPattern = regexp.MustCompile(`^[0-9A-Z]{7}$`)
	kinds      = map[string]bool{"SIKAYET": true, "ERIZE": true, "TEKLIF": true, "QEBUL": true, "XIDMET": true}
)

// register answers QeydiyyataAl: a new XariciNomre gets the next number, a
// known one the TEKRAR fault with that number.
func (s *Sim) register(w http.ResponseWriter, op *etree.Element) {
	m := esd.Child(op, "Muraciet")
	xarici := esd.Text(m, "XariciNomre")
	s.mu.Lock()
	if xarici != "" {
		s.received[xarici]++
	}
	existing := s.appeals[xarici]
	s.mu.Unlock()
	if existing != nil {
		s.fault(w, esd.CodeDuplicate, "Bu xarici nömrə artıq qeydiyyatdadır / Already registered", existing.QeydiyyatNomresi)
		return
	}
	a, problems := parseAppeal(m)
	if len(problems) > 0 {
		s.fault(w, esd.CodeInvalid, "Məlumat səhvdir / Invalid data: "+strings.Join(problems, "; "), "")
		return
	}
	s.mu.Lock()
	if prior := s.appeals[xarici]; prior != nil { // a concurrent twin won
		s.mu.Unlock()
		s.fault(w, esd.CodeDuplicate, "Bu xarici nömrə artıq qeydiyyatdadır / Already registered", prior.QeydiyyatNomresi)
		return
	}
	now := time.Now()
	s.advance(now)
	a.QeydiyyatNomresi = fmt.Sprintf("%s-%d/%06d", strings.TrimPrefix(s.opts.Code, "AZ-"), now.In(routers.Baku).Year(), len(s.appeals)+1)
	a.Veziyyet = 1
	a.registered = now
	s.appeals[xarici] = a
	s.byNumber[a.QeydiyyatNomresi] = a
	s.mu.Unlock()
	s.log.Info("appeal registered", "appeal", xarici, "reference", a.QeydiyyatNomresi, "nov", a.Nov)

	ans := esd.NewPayload("QeydiyyataAlCavab")
	esd.Add(ans, "QeydiyyatNomresi", a.QeydiyyatNomresi)
	esd.Add(ans, "Tarix", esd.FormatDateTime(now))
	s.reply(w, ans)
}

// parseAppeal reads a Muraciet and lists what the XSD requires but it lacks.
func parseAppeal(m *etree.Element) (*Appeal, []string) {
	var problems []string
	need := func(e *etree.Element, name string) string {
		v := esd.Text(e, name)
		if v == "" {
			problems = append(problems, name+" is required")
		}
		return v
	}
	date := func(e *etree.Element, name string) string {
		v := need(e, name)
		if _, err := time.Parse("2006-01-02", v); v != "" && err != nil {
			problems = append(problems, name+" is not a date")
		}
		return v
	}
	if m == nil {
		return nil, []string{"Muraciet is required"}
	}
	a := &Appeal{
		XariciNomre:   need(m, "XariciNomre"),
		Nov:           need(m, "Nov"),
		XidmetKodu:    esd.Text(m, "XidmetKodu"),
		SosialStatus:  esd.Text(m, "SosialStatus"),
		GuzestStatusu: esd.Text(m, "GuzestStatusu"),
		Movzu:         esd.Text(m, "Movzu"),
		Metn:          need(m, "Metn"),
		SonMuddet:     date(m, "SonMuddet"),
	}
	if a.Nov != "" && !kinds[a.Nov] {
		problems = append(problems, "Nov "+a.Nov+" is unknown")
	}
	if a.Nov == "XIDMET" && a.XidmetKodu == "" {
		problems = append(problems, "XidmetKodu is required for XIDMET")
	}
	a.GonderilmeTarixi = need(m, "GonderilmeTarixi")
	if _, err := esd.ParseDateTime(a.GonderilmeTarixi); a.GonderilmeTarixi != "" && err != nil {
		problems = append(problems, "GonderilmeTarixi is not a date-time")
	}
	v := esd.Child(m, "Vetendas")
	if v == nil {
		problems = append(problems, "Vetendas is required")
	} else {
		a.FIN = need(v, "FIN")
		if a.FIN != "" && !finPattern.MatchString(a.FIN) {
			problems = append(problems, "FIN is malformed")
		}
		a.Soyad, a.Ad, a.Telefon = need(v, "Soyad"), need(v, "Ad"), need(v, "Telefon")
		date(v, "DogumTarixi")
		need(v, "SexsiyyetVesiqesi")
		need(v, "QeydiyyatUnvani")
	}
	if q := esd.Child(m, "Qebul"); q != nil {
		a.Qebul = &Qebul{VezifeliSexsKodu: need(q, "VezifeliSexsKodu"), Tarix: date(q, "Tarix")}
	} else if a.Nov == "QEBUL" {
		problems = append(problems, "Qebul is required for QEBUL")
	}
	if fs := esd.Child(m, "FormSaheleri"); fs != nil {
		a.Fields = make(map[string]string)
		for _, f := range fs.ChildElements() {
			if esd.Is(f, "Sahe") {
				a.Fields[need(f, "Ad")] = need(f, "Deyer")
			}
		}
	}
	if el := esd.Child(m, "Elaveler"); el != nil {
		for _, e := range el.ChildElements() {
			if esd.Is(e, "Elave") {
				a.Attachments = append(a.Attachments, need(e, "Unvan"))
				if _, err := strconv.ParseInt(need(e, "Olcu"), 10, 64); err != nil {
					problems = append(problems, "Olcu is not a number")
				}
			}
		}
	}
	return a, problems
}

// state answers VeziyyetSorgu.
func (s *Sim) state(w http.ResponseWriter, op *etree.Element) {
	number := esd.Text(op, "QeydiyyatNomresi")
	s.mu.Lock()
	s.advance(time.Now())
	a := s.byNumber[number]
	var last change
	if a != nil {
		last = change{veziyyet: 1, at: a.registered}
		for _, c := range s.changes {
			if c.number == number {
				last = c
			}
		}
	}
	s.mu.Unlock()
	if a == nil {
		s.fault(w, esd.CodeNotFound, "Müraciət tapılmadı / No appeal "+number, "")
		return
	}
	ans := esd.NewPayload("VeziyyetCavab")
	esd.Add(ans, "QeydiyyatNomresi", number)
	esd.Add(ans, "Veziyyet", strconv.Itoa(last.veziyyet))
	if last.note != "" {
		esd.Add(ans, "Qeyd", last.note)
	}
	if last.veziyyet > 1 {
		esd.Add(ans, "Icraci", "Aparat rəhbərinin müavini")
	}
	esd.Add(ans, "Tarix", esd.FormatDateTime(last.at))
	s.reply(w, ans)
}

// changesSince answers DeyisiklikSorgu: changes at or after Tarixden, about
// Limit of them but never ending a page inside one instant.
func (s *Sim) changesSince(w http.ResponseWriter, op *etree.Element) {
	since, err := esd.ParseDateTime(esd.Text(op, "Tarixden"))
	if err != nil {
		s.fault(w, esd.CodeInvalid, "Tarixden: "+err.Error(), "")
		return
	}
	limit, err := strconv.Atoi(esd.Text(op, "Limit"))
	if err != nil || limit <= 0 {
		s.fault(w, esd.CodeInvalid, "Limit must be a positive number", "")
		return
	}
	limit = min(limit, s.opts.PageSize)
	s.mu.Lock()
	s.advance(time.Now())
	start, _ := slices.BinarySearchFunc(s.changes, since, func(c change, t time.Time) int { return c.at.Compare(t) })
	end := min(start+limit, len(s.changes))
	for end < len(s.changes) && end > start && s.changes[end].at.Equal(s.changes[end-1].at) {
		end++
	}
	page := slices.Clone(s.changes[start:end])
	more := end < len(s.changes)
	s.mu.Unlock()

	ans := esd.NewPayload("DeyisiklikCavab")
	for _, c := range page {
		d := esd.Add(ans, "Deyisiklik", "")
		esd.Add(d, "XariciNomre", c.xarici)
		esd.Add(d, "QeydiyyatNomresi", c.number)
		esd.Add(d, "Veziyyet", strconv.Itoa(c.veziyyet))
		if c.note != "" {
			esd.Add(d, "Qeyd", c.note)
		}
		esd.Add(d, "Tarix", esd.FormatDateTime(c.at))
	}
	esd.Add(ans, "Davami", strconv.FormatBool(more))
	s.reply(w, ans)
}

// comment answers SerhElaveEt. Like the real ESD it has no idempotency key:
// every call adds a comment.
func (s *Sim) comment(w http.ResponseWriter, op *etree.Element) {
	number := esd.Text(op, "QeydiyyatNomresi")
	text := esd.Text(op, "Metn")
	if text == "" || esd.Text(op, "Tarix") == "" {
		s.fault(w, esd.CodeInvalid, "Metn and Tarix are required", "")
		return
	}
	s.mu.Lock()
	a := s.byNumber[number]
	if a != nil {
		a.Comments = append(a.Comments, text)
	}
	s.mu.Unlock()
	if a == nil {
		s.fault(w, esd.CodeNotFound, "Müraciət tapılmadı / No appeal "+number, "")
		return
	}
	s.log.Info("comment added", "appeal", a.XariciNomre)
	ans := esd.NewPayload("SerhElaveEtCavab")
	esd.Add(ans, "Qebul", "true")
	s.reply(w, ans)
}
