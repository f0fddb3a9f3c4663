package httpapi

import (
	"github.com/korpu-az/korpu/routers"
)

// detailsJSON is one appeal as the portal's "Ətraflı" page reads it.
type detailsJSON struct {
	Number            string               `json:"number"`
	Status            string               `json:"status"`
	District          districtNameJSON     `json:"district"`
	Service           serviceNameJSON      `json:"service"`
	Type              string               `json:"type"`
	SocialStatus      string               `json:"social_status"`
	PrivilegeStatus   string               `json:"privilege_status,omitempty"`
	Subject           string               `json:"subject,omitempty"`
	Text              string               `json:"text"`
	SubmittedAt       string               `json:"submitted_at"`
	RegisteredAt      string               `json:"registered_at"`
	Deadline          string               `json:"deadline"`
	DistrictReference string               `json:"district_reference,omitempty"`
	Citizen           routers.Citizen      `json:"citizen"`
	Person            *routers.Person      `json:"person"`
	Form              []fieldJSON          `json:"form"`
	Reception         *receptionJSON       `json:"reception,omitempty"`
	Attachments       []routers.Attachment `json:"attachments"`
	Timeline          []timelineJSON       `json:"timeline"`
	Comments          []commentJSON        `json:"comments"`
}

type districtNameJSON struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

type serviceNameJSON struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	NameEN string `json:"name_en"`
}

type fieldJSON struct {
	Code    string `json:"code"`
	Label   string `json:"label"`
	LabelEN string `json:"label_en"`
	Value   string `json:"value"`
	ValueEN string `json:"value_en"`
}

type officialNameJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Position string `json:"position"`
}

type receptionJSON struct {
	Official officialNameJSON `json:"official"`
	Date     string           `json:"date"`
	Sessions []hoursJSON      `json:"sessions"`
}

type timelineJSON struct {
	Sequence int    `json:"sequence"`
	Status   string `json:"status"`
	District string `json:"district,omitempty"` // the authority of the step: a forwarded appeal has two
	At       string `json:"at"`
	Note     string `json:"note,omitempty"`
	Deadline string `json:"deadline,omitempty"`
}

type commentJSON struct {
	ID          string `json:"id"`
	Text        string `json:"text"`
	SubmittedAt string `json:"submitted_at"`
	Delivered   bool   `json:"delivered"`
}

func detailsOf(v routers.AppealView) detailsJSON {
	req := v.Request
	d := detailsJSON{
		Number: v.Number, Status: string(v.Status),
		District: districtNameJSON{Code: v.District.Code, Name: v.District.Name},
		Service:  serviceNameJSON{Code: v.Service.Code, Name: v.Service.Name, NameEN: v.Service.NameEN},
		Type:     req.Appeal.Type, SocialStatus: req.Appeal.SocialStatus, PrivilegeStatus: req.Appeal.PrivilegeStatus,
		Subject: req.Appeal.Subject, Text: req.Appeal.Text,
		SubmittedAt: routers.FormatTime(v.SubmittedAt), RegisteredAt: routers.FormatTime(v.RegisteredAt),
		Deadline: v.Deadline, DistrictReference: v.DistrictRef, Citizen: req.Citizen, Person: v.Person,
		Form: make([]fieldJSON, len(v.Fields)), Attachments: req.Attachments,
		Timeline: make([]timelineJSON, len(v.Events)), Comments: make([]commentJSON, len(v.Comments)),
	}
	if d.Attachments == nil {
		d.Attachments = []routers.Attachment{}
	}
	for i, f := range v.Fields {
		d.Form[i] = fieldJSON(f)
	}
	if r := v.Reception; r != nil {
		d.Reception = &receptionJSON{
			Official: officialNameJSON{ID: r.Official.ID, Name: r.Official.Name, Position: r.Official.Position},
			Date:     r.Date, Sessions: hours(r.Sessions),
		}
	}
	for i, ev := range v.Events {
		d.Timeline[i] = timelineJSON{Sequence: ev.Sequence, Status: string(ev.Status), District: ev.District, At: ev.At, Note: ev.Note, Deadline: ev.Deadline}
	}
	for i, c := range v.Comments {
		d.Comments[i] = commentJSON{ID: c.ID, Text: c.Text, SubmittedAt: routers.FormatTime(c.SubmittedAt), Delivered: c.Delivered}
	}
	return d
}
