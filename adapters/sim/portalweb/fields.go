package portalweb

import (
	"strconv"
	"strings"
)

// fieldView is one input of the appeal form as the templates draw it: its
// id is "f-" + Name, its hint "h-" + Name, its mistake "e-" + Name.
type fieldView struct {
	Page      *page
	Name      string
	Label     string
	Hint      string
	Error     string
	Required  bool
	Type      string // an input's type (text, tel, email, number, date), or textarea, select, checkboxes
	Value     string
	MaxLength int
	Min, Max  string
	Step      string
	Options   []optionView
}

// optionView is one choice of a list.
type optionView struct {
	Key, Name string
	Selected  bool
}

// Described is the ids of the texts that describe the input.
func (f fieldView) Described() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, "h-"+f.Name)
	}
	if f.Error != "" {
		ids = append(ids, "e-"+f.Name)
	}
	return strings.Join(ids, " ")
}

// commonFields are the inputs every appeal has (contract §1: appeal.*,
// citizen.*): the label's key, whether it is required, its kind, its
// bound, its hint's key and, for a list, the kind of code it takes.
var commonFields = map[string]struct {
	label     string
	required  bool
	kind      string
	maxLength int
	hint      string
	enum      string
}{
	"type":             {"type", true, "radio", 0, "", "type"},
	"social_status":    {"socialStatus", true, "select", 0, "", "social_status"},
	"privilege_status": {"privilege", false, "select", 0, "", "privilege_status"},
	"subject":          {"subject", false, "text", maxSubjectRunes, "", ""},
	"text":             {"text", true, "textarea", maxTextRunes, "", ""},
	"phone":            {"phone", true, "tel", 13, "phoneHint", ""},
	"email":            {"email", false, "email", 254, "", ""},
	"address":          {"address", true, "text", maxShortRunes, "", ""},
	"workplace":        {"workplace", false, "text", maxShortRunes, "", ""},
	"position":         {"position", false, "text", maxShortRunes, "", ""},
}

// enumOrder lists each kind of code in the order the form offers it.
var enumOrder = map[string][]string{"type": appealTypes, "social_status": socialStatuses, "privilege_status": privileges}

// Field describes one of the common inputs.
func (v *newView) Field(p *page, name string) fieldView {
	spec := commonFields[name]
	value := map[string]string{
		"type": v.Form.Type, "social_status": v.Form.SocialStatus, "privilege_status": v.Form.Privilege,
		"subject": v.Form.Subject, "text": v.Form.Text, "phone": v.Form.Phone, "email": v.Form.Email,
		"address": v.Form.Address, "workplace": v.Form.Workplace, "position": v.Form.Position,
	}[name]
	f := fieldView{Page: p, Name: name, Label: p.T(spec.label), Required: spec.required, Type: spec.kind,
		Value: value, MaxLength: spec.maxLength, Error: v.Problem(name)}
	if spec.hint != "" {
		f.Hint = p.T(spec.hint)
	}
	for _, code := range enumOrder[spec.enum] {
		f.Options = append(f.Options, optionView{Key: code, Name: p.E(spec.enum, code), Selected: code == value})
	}
	return f
}

// Attrs describes the service's own inputs, generated from the catalogue's
// attribute definitions (Open311: datatype, required, labels, choices).
func (v *newView) Attrs(p *page) []fieldView {
	if v.Service == nil {
		return nil
	}
	out := make([]fieldView, 0, len(v.Service.Attributes))
	for _, a := range v.Service.Attributes {
		name := "form." + a.Code
		f := fieldView{Page: p, Name: name, Label: p.Pick(a.Description, a.DescriptionEN),
			Hint: p.Pick(a.DatatypeDescription, a.DatatypeDescriptionEN), Required: a.Required,
			Value: v.Value(a.Code), MaxLength: a.MaxLength, Error: v.Problem(name)}
		switch a.Datatype {
		case "text":
			f.Type = "textarea"
			if f.MaxLength == 0 {
				f.MaxLength = 5000
			}
		case "number":
			f.Type, f.Step = "number", "any"
			if a.Integer {
				f.Step = "1"
			}
			if a.Min != nil {
				f.Min = strconv.FormatFloat(*a.Min, 'f', -1, 64)
			}
			if a.Max != nil {
				f.Max = strconv.FormatFloat(*a.Max, 'f', -1, 64)
			}
		case "datetime":
			f.Type = "date"
		case "singlevaluelist":
			f.Type = "select"
		case "multivaluelist":
			f.Type = "checkboxes"
		default:
			f.Type = "text"
			if f.MaxLength == 0 {
				f.MaxLength = 200
			}
		}
		for _, o := range a.Values {
			f.Options = append(f.Options, optionView{Key: o.Key, Name: p.Pick(o.Name, o.NameEN),
				Selected: v.Has(a.Code, o.Key)})
		}
		out = append(out, f)
	}
	return out
}
