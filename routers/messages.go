package routers

import (
	"time"
	_ "time/tzdata" // the law counts days in Baku time, whatever the host's zone files
)

// Request is the portal's message on the requests queue (contract §1). Kind
// tells a new request ("request") from a citizen's remark ("comment").
type Request struct {
	Kind        string         `json:"kind"`
	ID          string         `json:"id"`
	SubmittedAt string         `json:"submitted_at"`
	District    string         `json:"district"`
	Service     string         `json:"service"`
	Citizen     Citizen        `json:"citizen"`
	Appeal      AppealForm     `json:"appeal"`
	Reception   *Reception     `json:"reception,omitempty"`
	Form        map[string]any `json:"form,omitempty"`
	Attachments []Attachment   `json:"attachments,omitempty"`
	AppealNo    string         `json:"appeal_number,omitempty"` // comments only
	Text        string         `json:"text,omitempty"`          // comments only
}

// Citizen is the applicant as the portal authenticated them.
type Citizen struct {
	FIN       string `json:"fin"`
	Phone     string `json:"phone,omitempty"`
	Email     string `json:"email,omitempty"`
	Workplace string `json:"workplace,omitempty"`
	Position  string `json:"position,omitempty"`
	Address   string `json:"address,omitempty"`
}

// AppealForm is the part of the portal's form common to every service.
type AppealForm struct {
	Type            string `json:"type"`
	SocialStatus    string `json:"social_status"`
	PrivilegeStatus string `json:"privilege_status,omitempty"`
	Subject         string `json:"subject,omitempty"`
	Text            string `json:"text"`
}

// Reception is a booking with an official on one of his reception days.
type Reception struct {
	OfficialID string `json:"official_id"`
	Date       string `json:"date"`
}

// Attachment points at a file in the portal's file store.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	URL         string `json:"url"`
}

// Status is an appeal's state as the portal sees it (contract §2).
type Status string

// The statuses of contract §2.
const (
	StatusInvalid    Status = "invalid"
	StatusRegistered Status = "registered"
	StatusDelivered  Status = "delivered"
	StatusInProgress Status = "in_progress"
	StatusAnswered   Status = "answered"
	StatusRejected   Status = "rejected"
	StatusForwarded  Status = "forwarded"
	StatusClosed     Status = "closed"
	StatusCommented  Status = "commented"
)

// rank orders the life of an appeal; a change may only move to a higher rank.
// answered, rejected and forwarded are alternative outcomes of equal rank.
var rank = map[Status]int{
	StatusRegistered: 1,
	StatusDelivered:  2,
	StatusInProgress: 3,
	StatusAnswered:   4,
	StatusRejected:   4,
	StatusForwarded:  4,
	StatusClosed:     5,
}

// OfAppeal reports whether s is a status a registered appeal can be in.
func (s Status) OfAppeal() bool { _, ok := rank[s]; return ok }

// DistrictStatuses are the statuses a district may report (contract §4).
var DistrictStatuses = map[Status]bool{
	StatusInProgress: true, StatusAnswered: true, StatusRejected: true,
	StatusForwarded: true, StatusClosed: true,
}

// FieldError names one field of a request and why it is wrong, in Azerbaijani
// and English ("az / en"), as the portal shows it to the citizen.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// StatusEvent is one message on the portal's status queue (contract §2).
type StatusEvent struct {
	EventID      string       `json:"event_id"`
	RequestID    string       `json:"request_id"`
	AppealNumber string       `json:"appeal_number,omitempty"`
	District     string       `json:"district,omitempty"`
	Service      string       `json:"service,omitempty"`
	Status       Status       `json:"status"`
	Sequence     int          `json:"sequence"`
	At           string       `json:"at"`
	Deadline     string       `json:"deadline,omitempty"`
	Note         string       `json:"note,omitempty"`
	Errors       []FieldError `json:"errors,omitempty"`
}

// Baku is the time zone the law's days are counted in.
var Baku = mustLoadLocation("Asia/Baku")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // time/tzdata is embedded, so this cannot fail
	}
	return loc
}

// FormatTime renders t as the contracts do: RFC 3339 in Baku time.
func FormatTime(t time.Time) string { return t.In(Baku).Format(time.RFC3339) }
