package routers

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Topics names the queues the hub uses.
type Topics struct {
	Requests            string // the portal's requests
	Status              string // the portal's status events
	Poison              string // messages no retry can mend, with the reason
	DistrictQueuePrefix string // + district code: that district's delivery jobs
	Oversight           string // crossings into due soon and overdue, for notifiers
}

// District returns the delivery queue of a district.
func (t Topics) District(code string) string { return t.DistrictQueuePrefix + code }

// Job is a message on a district's delivery queue: hand one appeal or comment over.
type Job struct {
	Kind JobKind `json:"kind"`
	Key  string  `json:"key"` // appeal number or comment id
}

// FormatAppealNumber renders <district>-<year>-<6 digits>.
func FormatAppealNumber(district string, year, seq int) string {
	return fmt.Sprintf("%s-%d-%06d", district, year, seq)
}

// eventMessage is the outbox message that publishes ev to the portal, with
// the AMQP properties contract §2 asks for.
func (t Topics) eventMessage(ev StatusEvent) OutboxMessage {
	payload, err := json.Marshal(ev)
	if err != nil {
		panic(fmt.Sprintf("marshal status event: %v", err)) // plain structs of strings: cannot fail
	}
	return OutboxMessage{
		Topic:   t.Status,
		UUID:    ev.EventID,
		Payload: payload,
		Metadata: map[string]string{
			"message_id":     ev.EventID,
			"correlation_id": ev.RequestID,
			"content_type":   "application/json",
		},
	}
}

func (t Topics) jobMessage(district string, job Job) OutboxMessage {
	payload, err := json.Marshal(job)
	if err != nil {
		panic(fmt.Sprintf("marshal job: %v", err))
	}
	id := uuid.NewString()
	return OutboxMessage{
		Topic:    t.District(district),
		UUID:     id,
		Payload:  payload,
		Metadata: map[string]string{"message_id": id, "content_type": "application/json"},
	}
}

// events turns status events into Effects that publish them in order.
func (t Topics) events(evs ...StatusEvent) Effects {
	e := Effects{Events: evs}
	for _, ev := range evs {
		e.Messages = append(e.Messages, t.eventMessage(ev))
	}
	return e
}

// advance moves a to status and returns the event the portal gets for it.
func advance(a *Appeal, requestID string, status Status, note string, at time.Time) StatusEvent {
	a.Sequence++
	if status != StatusCommented {
		a.Status = status
	}
	return StatusEvent{
		EventID:      newEventID(),
		RequestID:    requestID,
		AppealNumber: a.Number,
		District:     a.District,
		Service:      a.Service,
		Status:       status,
		Sequence:     a.Sequence,
		At:           FormatTime(at),
		Deadline:     a.Deadline,
		Note:         note,
	}
}

// invalidEvent is the one answer to a bad request.
func invalidEvent(requestID, district, service string, errs []FieldError, at time.Time) StatusEvent {
	return StatusEvent{
		EventID:   newEventID(),
		RequestID: requestID,
		District:  district,
		Service:   service,
		Status:    StatusInvalid,
		Sequence:  1,
		At:        FormatTime(at),
		Errors:    errs,
	}
}

func newEventID() string { return uuid.NewString() }
