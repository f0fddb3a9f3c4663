package portalweb

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Bounds of the contract (§1) the page checks before sending, so that a
// citizen sees a mistake next to the field instead of an invalid event.
const (
	maxSubjectRunes = 200
	maxTextRunes    = 10000
	maxCommentRunes = 5000
	maxShortRunes   = 500
	maxFormBytes    = 256 << 10 // a posted form; the contract's body limit
)

var phonePattern = regexp.MustCompile(`^\+994[0-9]{9}$`)

// appealForm is what the citizen filled in, kept as typed so that a form
// with mistakes comes back as it was.
type appealForm struct {
	District, Service                          string
	Reception                                  string // "<official id>|<date>"
	Type, SocialStatus, Privilege              string
	Subject, Text                              string
	Phone, Email, Address, Workplace, Position string
	Fields                                     url.Values // attribute code → values
}

// readAppealForm takes the posted fields; every value is still unchecked.
func readAppealForm(v url.Values, svc *Service) appealForm {
	f := appealForm{
		District: v.Get("district"), Service: v.Get("service"), Reception: v.Get("reception"),
		Type: v.Get("type"), SocialStatus: v.Get("social_status"), Privilege: v.Get("privilege_status"),
		Subject: v.Get("subject"), Text: v.Get("text"),
		Phone: strings.TrimSpace(v.Get("phone")), Email: strings.TrimSpace(v.Get("email")),
		Address: v.Get("address"), Workplace: v.Get("workplace"), Position: v.Get("position"),
		Fields: url.Values{},
	}
	if svc != nil {
		for _, a := range svc.Attributes {
			if vals := v["form."+a.Code]; len(vals) > 0 {
				f.Fields[a.Code] = vals
			}
		}
	}
	return f
}

// problem is one mistake, keyed by the input's name.
type problem struct {
	Field   string
	Label   string
	Message string
}

// problems collects mistakes in the order of the form.
type problems struct {
	l    lang
	list []problem
}

func (p *problems) add(field, label, message string) {
	p.list = append(p.list, problem{Field: field, Label: label, Message: message})
}

// of returns the message for an input, if it has one.
func (p *problems) of(field string) string {
	for _, x := range p.list {
		if x.Field == field {
			return x.Message
		}
	}
	return ""
}

// text checks a free-text input: required or not, its length, and the
// characters no text of a request may hold (contract §1 via the hub's rules).
func (p *problems) text(field, label, s string, required bool, limit int) {
	switch n := utf8.RuneCountInString(s); {
	case strings.TrimSpace(s) == "":
		if required {
			p.add(field, label, p.l.word("errRequired"))
		}
	case n > limit:
		p.add(field, label, p.l.word("errTooLong")+fmt.Sprintf(" (%d / %d)", n, limit))
	case strings.ContainsFunc(s, forbiddenRune):
		p.add(field, label, p.l.word("errControl"))
	}
}

// forbiddenRune is a character the hub refuses in any text: the C0
// controls but TAB, LF and CR, DEL, the line and paragraph separators.
func forbiddenRune(r rune) bool {
	return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f || r == '\u2028' || r == '\u2029'
}

func (p *problems) choice(field, label, value string, options []string, required bool) {
	switch {
	case value == "":
		if required {
			p.add(field, label, p.l.word("errRequired"))
		}
	case !slices.Contains(options, value):
		p.add(field, label, p.l.word("errChoice"))
	}
}

// check validates f against the service and, for a booking, the reception
// days offered now; it returns the mistakes in the form's order.
func (f appealForm) check(l lang, svc Service, officials []OfficialDays) []problem {
	p := &problems{l: l}
	if svc.Code == "reception-booking" {
		switch day, ok := f.day(officials); {
		case !ok:
			p.add("reception", l.word("officials"), l.word("errNoDay"))
		case day.Free <= 0:
			p.add("reception", l.word("officials"), l.word("errDayFull"))
		}
	}
	p.choice("type", l.word("type"), f.Type, appealTypes, true)
	p.choice("social_status", l.word("socialStatus"), f.SocialStatus, socialStatuses, true)
	p.choice("privilege_status", l.word("privilege"), f.Privilege, privileges, false)
	p.text("subject", l.word("subject"), f.Subject, false, maxSubjectRunes)
	p.text("text", l.word("text"), f.Text, true, maxTextRunes)
	if svc.HasForm() {
		labels := map[string]string{}
		for _, a := range svc.Attributes {
			labels[a.Code] = l.pick(a.Description, a.DescriptionEN)
		}
		for _, problem := range svc.ValidateForm(f.formValues(svc)) {
			code := strings.TrimPrefix(problem.Field, "form.")
			p.add(problem.Field, labels[code], l.pick(problem.AZ, problem.EN))
		}
	}
	switch {
	case f.Phone == "":
		p.add("phone", l.word("phone"), l.word("errRequired"))
	case !phonePattern.MatchString(f.Phone):
		p.add("phone", l.word("phone"), l.word("errPhone"))
	}
	if f.Email != "" {
		if a, err := mail.ParseAddress(f.Email); err != nil || a.Address != f.Email || len(f.Email) > 254 {
			p.add("email", l.word("email"), l.word("errEmail"))
		}
	}
	p.text("address", l.word("address"), f.Address, true, maxShortRunes)
	p.text("workplace", l.word("workplace"), f.Workplace, false, maxShortRunes)
	p.text("position", l.word("position"), f.Position, false, maxShortRunes)
	return p.list
}

// day finds the chosen reception day among those offered.
func (f appealForm) day(officials []OfficialDays) (ReceptionDay, bool) {
	id, date, ok := strings.Cut(f.Reception, "|")
	if !ok {
		return ReceptionDay{}, false
	}
	for _, o := range officials {
		if o.ID != id {
			continue
		}
		for _, d := range o.Days {
			if d.Date == date {
				return d, true
			}
		}
	}
	return ReceptionDay{}, false
}

// formValues is the service's form as the portal sends it: text as
// strings (numbers too, as the portal writes "4"), a multi-value list as a
// list of keys; blank fields are left out.
func (f appealForm) formValues(svc Service) map[string]any {
	out := map[string]any{}
	for _, a := range svc.Attributes {
		vals := f.Fields[a.Code]
		if a.Datatype == "multivaluelist" {
			keys := make([]any, 0, len(vals))
			for _, v := range vals {
				if v != "" {
					keys = append(keys, v)
				}
			}
			if len(keys) > 0 {
				out[a.Code] = keys
			}
			continue
		}
		if len(vals) > 0 && strings.TrimSpace(vals[0]) != "" {
			out[a.Code] = strings.TrimSpace(vals[0])
		}
	}
	return out
}

// The messages of contract §1, as the portal writes them.
type (
	requestJSON struct {
		Kind        string         `json:"kind"`
		ID          string         `json:"id"`
		SubmittedAt string         `json:"submitted_at"`
		District    string         `json:"district"`
		Service     string         `json:"service"`
		Citizen     citizenJSON    `json:"citizen"`
		Appeal      appealJSON     `json:"appeal"`
		Reception   *receptionJSON `json:"reception,omitempty"`
		Form        map[string]any `json:"form,omitempty"`
	}
	citizenJSON struct {
		FIN       string `json:"fin"`
		Phone     string `json:"phone,omitempty"`
		Email     string `json:"email,omitempty"`
		Workplace string `json:"workplace,omitempty"`
		Position  string `json:"position,omitempty"`
		Address   string `json:"address,omitempty"`
	}
	appealJSON struct {
		Type            string `json:"type"`
		SocialStatus    string `json:"social_status"`
		PrivilegeStatus string `json:"privilege_status,omitempty"`
		Subject         string `json:"subject,omitempty"`
		Text            string `json:"text"`
	}
	receptionJSON struct {
		OfficialID string `json:"official_id"`
		Date       string `json:"date"`
	}
	commentJSON struct {
		Kind         string      `json:"kind"`
		ID           string      `json:"id"`
		SubmittedAt  string      `json:"submitted_at"`
		Citizen      citizenJSON `json:"citizen"`
		AppealNumber string      `json:"appeal_number"`
		Text         string      `json:"text"`
	}
)

// request builds the contract's request for a checked form.
func (f appealForm) request(fin string, svc Service, at time.Time) ([]byte, string, error) {
	req := requestJSON{
		Kind: "request", ID: uuid.NewString(), SubmittedAt: at.Format(time.RFC3339),
		District: f.District, Service: svc.Code,
		Citizen: citizenJSON{FIN: fin, Phone: f.Phone, Email: f.Email, Address: strings.TrimSpace(f.Address),
			Workplace: strings.TrimSpace(f.Workplace), Position: strings.TrimSpace(f.Position)},
		Appeal: appealJSON{Type: f.Type, SocialStatus: f.SocialStatus, PrivilegeStatus: f.Privilege,
			Subject: strings.TrimSpace(f.Subject), Text: f.Text},
	}
	if svc.Code == "reception-booking" {
		id, date, _ := strings.Cut(f.Reception, "|")
		req.Reception = &receptionJSON{OfficialID: id, Date: date}
	}
	if svc.HasForm() {
		req.Form = f.formValues(svc)
	}
	body, err := json.Marshal(req)
	return body, req.ID, err
}

// comment builds the contract's comment on an appeal.
func comment(fin, number, text string, at time.Time) ([]byte, string, error) {
	c := commentJSON{
		Kind: "comment", ID: uuid.NewString(), SubmittedAt: at.Format(time.RFC3339),
		Citizen: citizenJSON{FIN: fin}, AppealNumber: number, Text: text,
	}
	body, err := json.Marshal(c)
	return body, c.ID, err
}
