package rest

import (
	"encoding/json"

	"github.com/korpu-az/korpu/routers"
)

// AppealBody is the JSON body of POST {endpoint}/appeals: everything a district
// needs to handle an appeal without asking the hub again. The district
// simulator decodes the same struct, so the two cannot drift apart.
type AppealBody struct {
	// AppealNumber is the hub's registration number, e.g. AZ-SAT-2026-000017;
	// it is also the Idempotency-Key of the call.
	AppealNumber string `json:"appeal_number"`
	// Service is one of the 21 service codes of contract §1.
	Service string `json:"service"`
	// Deadline is the legal due date of the answer, YYYY-MM-DD.
	Deadline string `json:"deadline"`
	// RegisteredAt is when the hub registered the appeal, RFC 3339 in Baku time.
	RegisteredAt string `json:"registered_at"`
	// RequestID is the portal's id of the request.
	RequestID string `json:"request_id"`
	// SubmittedAt is when the citizen submitted the request, as the portal said.
	SubmittedAt string `json:"submitted_at"`
	// Citizen is the applicant as the portal authenticated them.
	Citizen routers.Citizen `json:"citizen"`
	// Appeal is the part of the form common to every service.
	Appeal routers.AppealForm `json:"appeal"`
	// Reception is the booked place, for reception-booking only.
	Reception *routers.Reception `json:"reception,omitempty"`
	// Form holds the service's own attributes: attribute code → value.
	Form map[string]any `json:"form,omitempty"`
	// Attachments point at files in the portal's file store.
	Attachments []routers.Attachment `json:"attachments,omitempty"`
	// Person is the ID-card registry's record of the citizen, passed through
	// exactly as the registry sent it (contract §3).
	Person json.RawMessage `json:"person"`
}

// CommentBody is the JSON body of POST {endpoint}/appeals/{appeal_number}/comments.
type CommentBody struct {
	// Text is the citizen's remark.
	Text string `json:"text"`
	// At is when the citizen made it, RFC 3339 in Baku time.
	At string `json:"at"`
}

// ReferenceBody is the district's answer to an accepted appeal.
type ReferenceBody struct {
	// Reference is the district's own number of the appeal.
	Reference string `json:"reference"`
}

// newAppealBody builds the body of a submission.
func newAppealBody(s routers.Submission) AppealBody {
	return AppealBody{
		AppealNumber: s.AppealNumber,
		Service:      s.Service,
		Deadline:     s.Deadline,
		RegisteredAt: routers.FormatTime(s.RegisteredAt),
		RequestID:    s.Request.ID,
		SubmittedAt:  s.Request.SubmittedAt,
		Citizen:      s.Request.Citizen,
		Appeal:       s.Request.Appeal,
		Reception:    s.Request.Reception,
		Form:         s.Request.Form,
		Attachments:  s.Request.Attachments,
		Person:       s.Person,
	}
}
