package routers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/korpu-az/korpu/routers/catalogue"
)

// AppealView is one appeal as people read it, on the portal's details page
// and on the printed appeal: what the citizen sent with the form's labels,
// who they are by the registry, and what has happened since.
type AppealView struct {
	Number       string
	District     DistrictInfo
	Service      catalogue.Service
	Request      Request // as the citizen sent it
	Person       *Person // nil until the registry's record came
	Fields       []FieldView
	Reception    *ReceptionView
	Status       Status
	SubmittedAt  time.Time
	RegisteredAt time.Time
	Deadline     string // YYYY-MM-DD
	DistrictRef  string
	Events       []StatusEvent
	Comments     []CommentView
	Head         ChainLink // the latest event's hash, printed for checking a copy
	// HeadLeaf is Head's event's leaf index in the transparency log, printed
	// with it; nil while the event is not yet in the log (or no log).
	HeadLeaf *uint64
}

// FieldView is one filled-in field of a service's form: its label and the
// value as words (a list's choices by their names), in both languages.
type FieldView struct {
	Code    string
	Label   string
	LabelEN string
	Value   string
	ValueEN string
}

// ReceptionView is the booked reception: the official, the day and that
// day's hours.
type ReceptionView struct {
	Official Official
	Date     string // YYYY-MM-DD
	Sessions []Session
}

// CommentView is a citizen's remark and whether it reached the authority.
type CommentView struct {
	ID          string
	Text        string
	SubmittedAt time.Time
	Delivered   bool
	Failed      bool // the hub gave up handing it over; the monitors act on it
}

// Person is the ID-card registry's record of a citizen (contract §3).
type Person struct {
	FIN                 string `json:"fin"`
	Surname             string `json:"surname"`
	Name                string `json:"name"`
	Patronymic          string `json:"patronymic"`
	BirthDate           string `json:"birth_date"`
	Gender              string `json:"gender"`
	BirthPlace          string `json:"birth_place"`
	RegistrationAddress string `json:"registration_address"`
	IDCard              IDCard `json:"id_card"`
}

// IDCard is the card part of a registry record.
type IDCard struct {
	Series    string `json:"series"`
	Number    string `json:"number"`
	IssuedAt  string `json:"issued_at"`
	ExpiresAt string `json:"expires_at"`
	IssuedBy  string `json:"issued_by"`
}

// FullName is surname, name and patronymic, as Azerbaijani documents print them.
func (p Person) FullName() string {
	return strings.Join(strings.Fields(p.Surname+" "+p.Name+" "+p.Patronymic), " ")
}

// describe turns a ledger record into its view.
func (q *Inquiry) describe(rec AppealRecord) (AppealView, error) {
	a := rec.Appeal
	var req Request
	dec := json.NewDecoder(bytes.NewReader(a.Request))
	dec.UseNumber() // a number is shown as the citizen wrote it
	if err := dec.Decode(&req); err != nil {
		return AppealView{}, fmt.Errorf("appeal %s: stored request: %w", a.Number, err)
	}
	v := AppealView{
		Number: a.Number, Request: req, Status: a.Status, SubmittedAt: a.SubmittedAt, RegisteredAt: a.RegisteredAt,
		Deadline: a.Deadline, DistrictRef: a.DistrictRef, Events: rec.Events, Head: rec.Head,
	}
	if d, ok := q.validator.Directory.Districts[a.District]; ok {
		v.District = d
	} else {
		// An appeal outlives its district's place in the config.
		v.District = DistrictInfo{Code: a.District, Name: a.District}
	}
	if s, ok := q.Catalogue().Lookup(a.Service); ok {
		v.Service = s
		v.Fields = formFields(s, req.Form)
	} else {
		v.Service = catalogue.Service{Code: a.Service, Name: a.Service, NameEN: a.Service}
	}
	if len(a.Person) > 0 {
		var p Person
		if err := json.Unmarshal(a.Person, &p); err == nil {
			v.Person = &p
		}
	}
	if req.Reception != nil {
		v.Reception = &ReceptionView{Date: req.Reception.Date, Official: Official{ID: req.Reception.OfficialID, Name: req.Reception.OfficialID}}
		if o, ok := v.District.Officials[req.Reception.OfficialID]; ok {
			v.Reception.Official = o
			if day, err := time.ParseInLocation(time.DateOnly, req.Reception.Date, Baku); err == nil {
				v.Reception.Sessions = o.SessionsOn(day.Weekday())
			}
		}
	}
	for _, c := range rec.Comments {
		v.Comments = append(v.Comments, CommentView{
			ID: c.ID, Text: c.Text, SubmittedAt: c.SubmittedAt,
			Delivered: c.Delivery.State == DeliveryDelivered, Failed: c.Delivery.State == DeliveryFailed,
		})
	}
	return v, nil
}

// formFields lists the form's values in the catalogue's order, labelled.
func formFields(s catalogue.Service, form map[string]any) []FieldView {
	var out []FieldView
	for _, attr := range s.Attributes {
		raw, ok := form[attr.Code]
		if !ok {
			continue
		}
		f := FieldView{Code: attr.Code, Label: attr.Description, LabelEN: attr.DescriptionEN}
		f.Value, f.ValueEN = valueWords(attr, raw)
		out = append(out, f)
	}
	return out
}

// valueWords renders a form value: a list's keys by their names, a number
// as written, text as it is.
func valueWords(attr catalogue.Attribute, raw any) (az, en string) {
	name := func(key string) (string, string) {
		for _, v := range attr.Values {
			if v.Key == key {
				return v.Name, v.NameEN
			}
		}
		return key, key
	}
	switch x := raw.(type) {
	case string:
		if len(attr.Values) > 0 {
			return name(x)
		}
		return x, x
	case json.Number:
		return x.String(), x.String()
	case []any:
		var azs, ens []string
		for _, item := range x {
			a, e := valueWords(attr, item)
			azs, ens = append(azs, a), append(ens, e)
		}
		return strings.Join(azs, ", "), strings.Join(ens, ", ")
	default:
		s := fmt.Sprint(x)
		return s, s
	}
}
