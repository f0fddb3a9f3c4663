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
	Checkpoints         string // the transparency log's signed checkpoints, for monitors (with Deps.Log)
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
	return jsonMessage(t.Status, ev.EventID, ev, map[string]string{"correlation_id": ev.RequestID})
}

func (t Topics) jobMessage(district string, job Job) OutboxMessage {
	return jsonMessage(t.District(district), uuid.NewString(), job, nil)
}

// jsonMessage is v as a JSON message on topic, with id as its UUID and
// message_id, and extra metadata. The hub's messages are plain structs of
// strings and numbers: marshalling them cannot fail.
func jsonMessage(topic, id string, v any, extra map[string]string) OutboxMessage {
	payload, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal %T: %v", v, err))
	}
	metadata := map[string]string{"message_id": id, "content_type": "application/json"}
	for k, val := range extra {
		metadata[k] = val
	}
	return OutboxMessage{Topic: topic, UUID: id, Payload: payload, Metadata: metadata}
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
