package esd

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/korpu-az/korpu/routers"
)

// The mapping table of contract §5.
var (
	appealKinds = map[string]string{
		"complaint":   "SIKAYET",
		"application": "ERIZE",
		"proposal":    "TEKLIF",
	}
	socialStatuses = map[string]string{
		"employed":   "İşləyir",
		"unemployed": "İşsiz",
		"pensioner":  "Pensiyaçı",
		"student":    "Tələbə",
		"other":      "Digər",
	}
	privilegeStatuses = map[string]string{
		"war_veteran":   "Müharibə veteranı",
		"war_disabled":  "Müharibə əlili",
		"martyr_family": "Şəhid ailəsi",
		"idp":           "Məcburi köçkün",
		"disability_1":  "I qrup əlil",
		"disability_2":  "II qrup əlil",
		"disability_3":  "III qrup əlil",
		"large_family":  "Çoxuşaqlı ailə",
	}
	// states maps Veziyyet 1–6 to the portal's statuses.
	states = map[int]routers.Status{
		1: routers.StatusDelivered,
		2: routers.StatusInProgress,
		3: routers.StatusAnswered,
		4: routers.StatusRejected,
		5: routers.StatusForwarded,
		6: routers.StatusClosed,
	}
)

// Services with a Nov of their own rather than XIDMET.
const (
	serviceAppeal    = "appeal"
	serviceReception = "reception-booking"
)

// multiValueSeparator joins the values of a multivaluelist attribute in a
// Sahe's Deyer; values may hold commas, semicolons are rarer.
const multiValueSeparator = "; "

// StatusOf maps a Veziyyet to the portal's status; ok is false outside 1–6.
func StatusOf(veziyyet int) (routers.Status, bool) {
	s, ok := states[veziyyet]
	return s, ok
}

// person is the registry's record (contract §3), as far as ESD needs it.
type person struct {
	FIN                 string `json:"fin"`
	Surname             string `json:"surname"`
	Name                string `json:"name"`
	Patronymic          string `json:"patronymic"`
	BirthDate           string `json:"birth_date"`
	RegistrationAddress string `json:"registration_address"`
	IDCard              struct {
		Series string `json:"series"`
		Number string `json:"number"`
	} `json:"id_card"`
}

// registerPayload builds the QeydiyyataAl message of a submission. An error
// means the submission cannot be expressed in the vendor's schema: no retry
// changes that.
func registerPayload(s routers.Submission) (*etree.Element, error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	r := s.Request

	op := NewPayload("QeydiyyataAl")
	m := Add(op, "Muraciet", "")
	Add(m, "XariciNomre", s.AppealNumber)
	if s.AppealNumber == "" {
		fail("no appeal number")
	}
	switch s.Service {
	case serviceReception:
		Add(m, "Nov", "QEBUL")
	case serviceAppeal:
		nov, ok := appealKinds[r.Appeal.Type]
		if !ok {
			fail("appeal type %q has no ESD Nov", r.Appeal.Type)
		}
		Add(m, "Nov", nov)
	case "":
		fail("no service")
	default:
		Add(m, "Nov", "XIDMET")
		Add(m, "XidmetKodu", s.Service)
	}
	if v := r.Appeal.SocialStatus; v != "" {
		label, ok := socialStatuses[v]
		if !ok {
			fail("social status %q has no ESD label", v)
		}
		Add(m, "SosialStatus", label)
	}
	if v := r.Appeal.PrivilegeStatus; v != "" {
		label, ok := privilegeStatuses[v]
		if !ok {
			fail("privilege status %q has no ESD label", v)
		}
		Add(m, "GuzestStatusu", label)
	}
	addOptional(m, "Movzu", r.Appeal.Subject)
	Add(m, "Metn", r.Appeal.Text)
	if err := addCitizen(m, s.Person, r.Citizen); err != nil {
		errs = append(errs, err)
	}
	if s.Service == serviceReception {
		if r.Reception == nil {
			fail("reception-booking without a reception")
		} else {
			q := Add(m, "Qebul", "")
			Add(q, "VezifeliSexsKodu", r.Reception.OfficialID)
			Add(q, "Tarix", r.Reception.Date)
			if !isDate(r.Reception.Date) {
				fail("reception date %q is not YYYY-MM-DD", r.Reception.Date)
			}
		}
	}
	if fields := formFields(r.Form); len(fields) > 0 {
		fs := Add(m, "FormSaheleri", "")
		for _, f := range fields {
			sahe := Add(fs, "Sahe", "")
			Add(sahe, "Ad", f[0])
			Add(sahe, "Deyer", f[1])
		}
	}
	if len(r.Attachments) > 0 {
		el := Add(m, "Elaveler", "")
		for _, a := range r.Attachments {
			e := Add(el, "Elave", "")
			Add(e, "Ad", a.Name)
			Add(e, "Tip", a.ContentType)
			Add(e, "Olcu", strconv.FormatInt(a.Size, 10))
			Add(e, "Hash", a.SHA256)
			Add(e, "Unvan", a.URL)
		}
	}
	Add(m, "GonderilmeTarixi", FormatDateTime(sentAt(s)))
	Add(m, "SonMuddet", s.Deadline)
	if !isDate(s.Deadline) {
		fail("deadline %q is not YYYY-MM-DD", s.Deadline)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return op, nil
}

// addCitizen appends the Vetendas: the ID card's data from the registry's
// record, the contacts from the portal's request.
func addCitizen(m *etree.Element, raw json.RawMessage, c routers.Citizen) error {
	var p person
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("person record is not the registry's JSON: %w", err)
	}
	if p.FIN == "" {
		p.FIN = c.FIN
	}
	card := strings.TrimSpace(p.IDCard.Series + " " + p.IDCard.Number)
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"fin", p.FIN}, {"surname", p.Surname}, {"name", p.Name}, {"birth_date", p.BirthDate},
		{"id_card", card}, {"registration_address", p.RegistrationAddress}, {"citizen.phone", c.Phone},
	} {
		if strings.TrimSpace(f.value) == "" {
			missing = append(missing, f.name)
		}
	}
	v := Add(m, "Vetendas", "")
	Add(v, "FIN", p.FIN)
	Add(v, "Soyad", p.Surname)
	Add(v, "Ad", p.Name)
	addOptional(v, "AtaAdi", p.Patronymic)
	Add(v, "DogumTarixi", p.BirthDate)
	Add(v, "SexsiyyetVesiqesi", card)
	Add(v, "QeydiyyatUnvani", p.RegistrationAddress)
	addOptional(v, "FaktikiUnvan", c.Address)
	Add(v, "Telefon", c.Phone)
	addOptional(v, "EPoct", c.Email)
	addOptional(v, "IsYeri", c.Workplace)
	addOptional(v, "Vezife", c.Position)
	if len(missing) > 0 {
		return fmt.Errorf("person lacks %s", strings.Join(missing, ", "))
	}
	if p.BirthDate != "" && !isDate(p.BirthDate) {
		return fmt.Errorf("birth date %q is not YYYY-MM-DD", p.BirthDate)
	}
	return nil
}

// sentAt is GonderilmeTarixi: when the citizen sent the appeal, as the
// portal said; the hub's registration time if that cannot be read.
func sentAt(s routers.Submission) time.Time {
	if t, err := time.Parse(time.RFC3339, s.Request.SubmittedAt); err == nil {
		return t
	}
	return s.RegisteredAt
}

// formFields renders a service form as (attribute code, text) pairs in code
// order, so the same form always makes the same request. Empty values are
// left out: Deyer is required, and an empty one says nothing.
func formFields(form map[string]any) [][2]string {
	var out [][2]string
	for _, code := range slices.Sorted(maps.Keys(form)) {
		if text := formText(form[code]); text != "" {
			out = append(out, [2]string{code, text})
		}
	}
	return out
}

// formText renders one attribute's value as text.
func formText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case json.Number:
		return v.String()
	case []any: // a multivaluelist
		parts := make([]string, 0, len(v))
		for _, x := range v {
			if t := formText(x); t != "" {
				parts = append(parts, t)
			}
		}
		return strings.Join(parts, multiValueSeparator)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
}

func isDate(s string) bool {
	_, err := time.Parse(dateLayout, s)
	return err == nil
}
