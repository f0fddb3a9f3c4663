package ledgertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// Districts and outbox topics of the suite; any strings would do.
const (
	bil = "AZ-BIL"
	nrm = "AZ-NRM"

	topicStatus  = "status"
	topicDeliver = "deliver"
	topicJob     = "job"
)

var (
	// registeredAt is a morning in Baku, with the microsecond precision PostgreSQL keeps.
	registeredAt = time.Date(2026, 3, 10, 9, 15, 30, 123456000, routers.Baku)

	// errRollback is what the suite's callbacks return to commit nothing.
	errRollback = errors.New("ledgertest: roll back")
)

// draft is a valid request of district, registered at at, ready for Register.
func draft(requestID, district string, at time.Time) routers.Appeal {
	return routers.Appeal{
		RequestID:    requestID,
		District:     district,
		Service:      "reception",
		FIN:          "5XK3P2M",
		Type:         "complaint",
		SubmittedAt:  at.Add(-90 * time.Second).Truncate(time.Second), // as RFC 3339 gives it
		Status:       routers.StatusRegistered,
		Sequence:     1,
		RegisteredAt: at,
		Deadline:     at.In(routers.Baku).AddDate(0, 0, 15).Format(time.DateOnly),
		Request: json.RawMessage(fmt.Sprintf(
			`{"kind":"request","id":%q,"district":%q,"appeal":{"type":"complaint","text":"Küçədə işıq yoxdur"}}`,
			requestID, district)),
		Delivery: routers.Delivery{State: routers.DeliveryPending},
	}
}

// numberOf numbers d's appeals as the hub does: <district>-<year>-<6 digits>.
func numberOf(d routers.Appeal) func(seq int) string {
	return func(seq int) string { return number(d.District, d.RegisteredAt.In(routers.Baku).Year(), seq) }
}

func number(district string, year, seq int) string {
	return fmt.Sprintf("%s-%d-%06d", district, year, seq)
}

// event is a's status event number seq.
func event(a routers.Appeal, seq int, status routers.Status) routers.StatusEvent {
	return routers.StatusEvent{
		EventID:      stableUUID(fmt.Sprintf("event/%s/%d", a.RequestID, seq)),
		RequestID:    a.RequestID,
		AppealNumber: a.Number,
		District:     a.District,
		Service:      a.Service,
		Status:       status,
		Sequence:     seq,
		At:           routers.FormatTime(a.RegisteredAt.Add(time.Duration(seq) * time.Minute)),
	}
}

// statusMessage carries ev to the portal. The payload is spaced oddly on
// purpose: the outbox must keep the bytes, not a reformatted document.
func statusMessage(ev routers.StatusEvent) routers.OutboxMessage {
	return routers.OutboxMessage{
		Topic:    topicStatus,
		UUID:     ev.EventID,
		Payload:  fmt.Appendf(nil, `{"event_id": %q,  "status":%q, "sequence" : %d}`, ev.EventID, ev.Status, ev.Sequence),
		Metadata: map[string]string{"request_id": ev.RequestID, "appeal": ev.AppealNumber},
	}
}

// deliverMessage asks for a's hand-over to its district.
func deliverMessage(a routers.Appeal) routers.OutboxMessage {
	return routers.OutboxMessage{
		Topic:   topicDeliver,
		UUID:    stableUUID("deliver/" + a.Number),
		Payload: fmt.Appendf(nil, "%q", a.Number),
	}
}

// jobMessage is the job func of ClaimDue: it writes the job into the payload
// so that the suite can read the claims back from the outbox.
func jobMessage(j routers.DueJob) routers.OutboxMessage {
	payload, err := json.Marshal(j)
	if err != nil {
		panic(err) // three strings always marshal
	}
	return routers.OutboxMessage{Topic: topicJob, UUID: uuid.NewString(), Payload: payload}
}

func stableUUID(name string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(name)).String()
}

// registered is the effects func of Register: the registered event, its
// message to the portal and the delivery job, in that order.
func registered(a routers.Appeal) routers.Effects {
	ev := event(a, 1, routers.StatusRegistered)
	return routers.Effects{
		Events:   []routers.StatusEvent{ev},
		Messages: []routers.OutboxMessage{statusMessage(ev), deliverMessage(a)},
	}
}

// emit publishes events to the portal and keeps them as history.
func emit(events ...routers.StatusEvent) routers.Effects {
	e := routers.Effects{Events: events}
	for _, ev := range events {
		e.Messages = append(e.Messages, statusMessage(ev))
	}
	return e
}

// register registers d without a booking and returns the stored appeal.
func register(t *testing.T, l Ledger, d routers.Appeal) routers.Appeal {
	t.Helper()
	a, err := l.Register(t.Context(), d, nil, numberOf(d), registered)
	require.NoError(t, err)
	return a
}

// registerDrained registers d and empties the outbox, for tests about what comes next.
func registerDrained(t *testing.T, l Ledger, d routers.Appeal) routers.Appeal {
	t.Helper()
	a := register(t, l, d)
	drain(t, l)
	return a
}

// comment is a remark on a, submitted a day after its registration.
func comment(id string, a routers.Appeal) routers.Comment {
	return routers.Comment{
		ID:           id,
		AppealNumber: a.Number,
		Text:         "Cavab hələ gəlməyib",
		SubmittedAt:  a.RegisteredAt.Add(24 * time.Hour),
		Delivery:     routers.Delivery{State: routers.DeliveryPending},
	}
}

// addComment adds c with its delivery job and empties the outbox.
func addComment(t *testing.T, l Ledger, c routers.Comment) {
	t.Helper()
	require.NoError(t, l.AddComment(t.Context(), c, routers.Effects{Messages: []routers.OutboxMessage{commentMessage(c)}}))
	drain(t, l)
}

func commentMessage(c routers.Comment) routers.OutboxMessage {
	return routers.OutboxMessage{
		Topic:    topicDeliver,
		UUID:     stableUUID("comment/" + c.ID),
		Payload:  fmt.Appendf(nil, `{"comment": %q}`, c.ID),
		Metadata: map[string]string{"appeal": c.AppealNumber},
	}
}

// peekComment reads a comment and its appeal back through the only door the
// port has, UpdateComment, and rolls back.
func peekComment(t *testing.T, l Ledger, id string) (routers.Comment, routers.Appeal) {
	t.Helper()
	c, err := l.Comment(t.Context(), id)
	require.NoError(t, err)
	a, err := l.Appeal(t.Context(), c.AppealNumber)
	require.NoError(t, err)
	return c, a
}

// setDelivery changes the delivery state of an appeal, emitting nothing.
func setDelivery(t *testing.T, l Ledger, number string, d routers.Delivery) {
	t.Helper()
	require.NoError(t, l.UpdateAppeal(t.Context(), number, func(a *routers.Appeal) (routers.Effects, error) {
		a.Delivery = d
		return routers.Effects{}, nil
	}))
}

// setCommentDelivery changes the delivery state of a comment, emitting nothing.
func setCommentDelivery(t *testing.T, l Ledger, id string, d routers.Delivery) {
	t.Helper()
	require.NoError(t, l.UpdateComment(t.Context(), id, func(c *routers.Comment, _ *routers.Appeal) (routers.Effects, error) {
		c.Delivery = d
		return routers.Effects{}, nil
	}))
}

// drain relays the whole outbox and returns what was published, in order.
func drain(t *testing.T, l Ledger) []routers.OutboxRecord {
	t.Helper()
	var all []routers.OutboxRecord
	for {
		n, err := l.Relay(t.Context(), 100, func(records []routers.OutboxRecord) error {
			all = append(all, cloneRecords(records)...)
			return nil
		})
		require.NoError(t, err)
		if n == 0 {
			return all
		}
	}
}

func cloneRecords(records []routers.OutboxRecord) []routers.OutboxRecord {
	out := make([]routers.OutboxRecord, len(records))
	for i, r := range records {
		out[i] = r
		out[i].Payload = append([]byte(nil), r.Payload...)
	}
	return out
}

// requireMessages checks the published records against the messages
// committed, byte for byte; no metadata and empty metadata are the same.
func requireMessages(t *testing.T, want []routers.OutboxMessage, got []routers.OutboxRecord) {
	t.Helper()
	norm := func(m routers.OutboxMessage) routers.OutboxMessage {
		if len(m.Metadata) == 0 {
			m.Metadata = nil
		}
		return m
	}
	wantN := make([]routers.OutboxMessage, len(want))
	for i, m := range want {
		wantN[i] = norm(m)
	}
	gotN := make([]routers.OutboxMessage, len(got))
	for i, r := range got {
		gotN[i] = norm(r.OutboxMessage)
	}
	require.Equal(t, wantN, gotN)
}

// jobs reads the claims of ClaimDue back from the published job messages.
func jobs(t *testing.T, records []routers.OutboxRecord) []routers.DueJob {
	t.Helper()
	var out []routers.DueJob
	for _, r := range records {
		require.Equal(t, topicJob, r.Topic)
		var j routers.DueJob
		require.NoError(t, json.Unmarshal(r.Payload, &j))
		out = append(out, j)
	}
	return out
}

// history returns the events of an appeal.
func history(t *testing.T, l Ledger, number string) []routers.StatusEvent {
	t.Helper()
	events, err := l.History(t.Context(), number)
	require.NoError(t, err)
	return events
}

func sequences(events []routers.StatusEvent) []int {
	out := make([]int, len(events))
	for i, ev := range events {
		out[i] = ev.Sequence
	}
	return out
}

// upTo returns 1..n.
func upTo(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// requireEvents compares events field by field; no errors and an empty
// list of errors are the same.
func requireEvents(t *testing.T, want, got []routers.StatusEvent) {
	t.Helper()
	norm := func(events []routers.StatusEvent) []routers.StatusEvent {
		out := make([]routers.StatusEvent, len(events))
		for i, ev := range events {
			if len(ev.Errors) == 0 {
				ev.Errors = nil
			}
			out[i] = ev
		}
		return out
	}
	require.Equal(t, norm(want), norm(got))
}

// requireAppeal compares appeals as a store may return them: JSON as
// documents (jsonb reformats), times as instants to the microsecond.
func requireAppeal(t *testing.T, want, got routers.Appeal) {
	t.Helper()
	require.Equal(t, want.Number, got.Number, "Number")
	require.Equal(t, want.RequestID, got.RequestID, "RequestID")
	require.Equal(t, want.District, got.District, "District")
	require.Equal(t, want.Service, got.Service, "Service")
	require.Equal(t, want.FIN, got.FIN, "FIN")
	require.Equal(t, want.Type, got.Type, "Type")
	requireTime(t, want.SubmittedAt, got.SubmittedAt, "SubmittedAt")
	require.Equal(t, want.Status, got.Status, "Status")
	require.Equal(t, want.Sequence, got.Sequence, "Sequence")
	requireTime(t, want.RegisteredAt, got.RegisteredAt, "RegisteredAt")
	require.Equal(t, want.Deadline, got.Deadline, "Deadline")
	requireJSON(t, want.Request, got.Request, "Request")
	requireJSON(t, want.Person, got.Person, "Person")
	requireDelivery(t, want.Delivery, got.Delivery)
	require.Equal(t, want.DistrictRef, got.DistrictRef, "DistrictRef")
	requireStatutory(t, want.Statutory, got.Statutory)
	requireMilestones(t, want.Milestones, got.Milestones)
}

func requireMilestones(t *testing.T, want, got routers.Milestones) {
	t.Helper()
	requireTime(t, want.DeliveredAt, got.DeliveredAt, "DeliveredAt")
	requireTime(t, want.InProgressAt, got.InProgressAt, "InProgressAt")
	requireTime(t, want.AnsweredAt, got.AnsweredAt, "AnsweredAt")
	requireTime(t, want.ClosedAt, got.ClosedAt, "ClosedAt")
	require.Equal(t, want.AnswerDays, got.AnswerDays, "AnswerDays")
	require.Equal(t, want.OnTime, got.OnTime, "OnTime")
}

func requireStatutory(t *testing.T, want, got routers.Statutory) {
	t.Helper()
	require.Equal(t, want.Extended, got.Extended, "Extended")
	requireTime(t, want.ExtendedAt, got.ExtendedAt, "ExtendedAt")
	require.Equal(t, want.ExtensionReason, got.ExtensionReason, "ExtensionReason")
	require.Equal(t, want.ForwardedTo, got.ForwardedTo, "ForwardedTo")
	require.Equal(t, want.ForwardedBy, got.ForwardedBy, "ForwardedBy")
	requireTime(t, want.ForwardedAt, got.ForwardedAt, "ForwardedAt")
	require.Equal(t, want.ForwardedLate, got.ForwardedLate, "ForwardedLate")
	require.Equal(t, want.Forwarders, got.Forwarders, "Forwarders")
}

func requireComment(t *testing.T, want, got routers.Comment) {
	t.Helper()
	require.Equal(t, want.ID, got.ID, "ID")
	require.Equal(t, want.AppealNumber, got.AppealNumber, "AppealNumber")
	require.Equal(t, want.Text, got.Text, "Text")
	requireTime(t, want.SubmittedAt, got.SubmittedAt, "SubmittedAt")
	requireDelivery(t, want.Delivery, got.Delivery)
}

func requireDelivery(t *testing.T, want, got routers.Delivery) {
	t.Helper()
	require.Equal(t, want.State, got.State, "Delivery.State")
	require.Equal(t, want.Attempts, got.Attempts, "Delivery.Attempts")
	requireTime(t, want.NextAttemptAt, got.NextAttemptAt, "Delivery.NextAttemptAt")
	require.Equal(t, want.LastError, got.LastError, "Delivery.LastError")
	require.Equal(t, want.Unanswered, got.Unanswered, "Delivery.Unanswered")
}

// requireTime compares instants to the microsecond PostgreSQL keeps; a zero
// time must come back zero.
func requireTime(t *testing.T, want, got time.Time, field string) {
	t.Helper()
	if want.IsZero() {
		require.True(t, got.IsZero(), "%s: want zero, got %v", field, got)
		return
	}
	require.WithinDuration(t, want, got, time.Microsecond, field)
}

// requireJSON compares documents; a missing document must come back missing.
func requireJSON(t *testing.T, want, got json.RawMessage, field string) {
	t.Helper()
	if len(want) == 0 {
		require.Empty(t, got, field)
		return
	}
	require.JSONEq(t, string(want), string(got), field)
}
