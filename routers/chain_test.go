package routers_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
	"github.com/korpu-az/korpu/schemas"
)

// chainOf is a well-formed history of n events of number, as a ledger
// stores it.
func chainOf(t *testing.T, number string, n int) []routers.StoredEvent {
	t.Helper()
	prev := routers.ChainGenesis
	out := make([]routers.StoredEvent, n)
	for i := range out {
		raw := fmt.Appendf(nil, `{"sequence": %d, "status": "in_progress", "note": "\u00e7"}`, i+1)
		canonical, err := routers.CanonicalJSON(raw)
		require.NoError(t, err)
		prev = routers.ChainHash(number, i+1, prev, canonical)
		out[i] = routers.StoredEvent{Number: number, Sequence: i + 1, Event: raw, Hash: prev, Latest: n}
	}
	return out
}

func walk(events ...[]routers.StoredEvent) []string {
	var (
		v   routers.ChainVerifier
		out []string
	)
	for _, appeal := range events {
		for _, e := range appeal {
			for _, b := range v.Add(e) {
				out = append(out, b.String())
			}
		}
	}
	for _, b := range v.Close() {
		out = append(out, b.String())
	}
	return out
}

// TestChainVerifier names the first break of each appeal, whatever it is,
// and nothing of a chain that holds.
func TestChainVerifier(t *testing.T) {
	t.Parallel()
	const a, b = "AZ-BIL-2026-000001", "AZ-BIL-2026-000002"
	require.Empty(t, walk(chainOf(t, a, 3), chainOf(t, b, 1)))
	require.Empty(t, walk(), "an empty ledger")

	altered := chainOf(t, a, 3)
	altered[1].Event = []byte(`{"sequence": 2, "status": "answered", "note": "ç"}`)
	gap := chainOf(t, b, 3)
	gap = append(gap[:1], gap[2])
	require.Equal(t, []string{
		a + " sequence 2: altered: the hash does not match the event and the previous hash",
		b + " sequence 2: missing: the history goes on at sequence 3",
	}, trim(walk(altered, gap)), "only the first break of each appeal")

	reformatted := chainOf(t, a, 2)
	reformatted[0].Event = []byte(`{"note":"ç","status":"in_progress","sequence":1}`)
	require.Empty(t, walk(reformatted), "the same event in another form is the same event")

	rehashed := chainOf(t, a, 3) // event 2 altered and its hash made to fit: event 3's link breaks
	rehashed[1].Event = []byte(`{"sequence": 2}`)
	rehashed[1].Hash = routers.ChainHash(a, 2, rehashed[0].Hash, []byte(`{"sequence":2}`))
	require.Equal(t, []string{a + " sequence 3: altered: the hash does not match the event and the previous hash"}, trim(walk(rehashed)))

	tail := chainOf(t, a, 3)[:2]
	require.Equal(t, []string{a + " sequence 3: missing: the appeal's latest event is sequence 3"}, trim(walk(tail, chainOf(t, b, 1))))

	none := []routers.StoredEvent{{Number: a, Latest: 1}}
	require.Equal(t, []string{a + " sequence 1: missing: the appeal's latest event is sequence 1"}, trim(walk(none)))

	unsealed := chainOf(t, a, 2)
	unsealed[0].Hash = nil
	require.Equal(t, []string{a + " sequence 1: unsealed: the event has no hash"}, trim(walk(unsealed)))

	beyond := chainOf(t, a, 2)
	beyond[0].Latest, beyond[1].Latest = 1, 1
	require.Equal(t, []string{a + " sequence 2: beyond the appeal's latest event, sequence 1"}, trim(walk(beyond)))

	notJSON := chainOf(t, a, 1)
	notJSON[0].Event = []byte(`{"a":1,"a":2}`)
	require.Len(t, walk(notJSON), 1, "a duplicate key is no canonical event")
}

func trim(breaks []string) []string {
	for i, b := range breaks {
		breaks[i] = b[len("appeal "):]
	}
	return breaks
}

// historyOf is number's history of events as a ledger stores it, each
// row carrying the appeal's row.
func historyOf(t *testing.T, number string, row routers.AppealRow, events ...routers.StatusEvent) []routers.StoredEvent {
	t.Helper()
	prev := routers.ChainGenesis
	out := make([]routers.StoredEvent, len(events))
	for i, ev := range events {
		ev.AppealNumber, ev.Sequence = number, i+1
		canonical, err := routers.CanonicalEvent(ev)
		require.NoError(t, err)
		prev = routers.ChainHash(number, i+1, prev, canonical)
		out[i] = routers.StoredEvent{Number: number, Sequence: i + 1, Event: canonical, Hash: prev, Latest: len(events), Row: row}
	}
	return out
}

// TestChainVerifierChecksTheRow: with the calendar, the verifier names
// each column of an appeal's row that its verified history does not give
// (the figures count them), and passes the row the hub wrote: milestones
// at its own clock, later than the district's times.
func TestChainVerifierChecksTheRow(t *testing.T) {
	t.Parallel()
	cal, err := calendar.Load(schemas.Holidays)
	require.NoError(t, err)
	registered := time.Date(2026, 11, 2, 10, 0, 0, 0, routers.Baku)
	delivered, answered := registered.Add(time.Minute), registered.Add(8*24*time.Hour) // after the deadline
	const deadline = "2026-11-06"
	ev := func(status routers.Status, district string, at time.Time) routers.StatusEvent {
		return routers.StatusEvent{EventID: string(status), RequestID: "r", District: district, Status: status,
			At: routers.FormatTime(at), Deadline: deadline}
	}
	answer := []routers.StatusEvent{ev(routers.StatusRegistered, "AZ-BIL", registered), ev(routers.StatusDelivered, "AZ-BIL", delivered),
		ev(routers.StatusAnswered, "AZ-BIL", answered), ev(routers.StatusCommented, "AZ-BIL", answered.Add(time.Hour))}
	days, onTime := routers.AnswerDays(cal, registered, answered, deadline)
	require.False(t, onTime)
	hubs := routers.AppealRow{Status: routers.StatusAnswered, Milestones: routers.Milestones{
		DeliveredAt: delivered.Add(time.Second), AnsweredAt: answered.Add(3 * time.Hour), AnswerDays: days}}
	check := func(row routers.AppealRow, events ...routers.StatusEvent) []string {
		v := routers.ChainVerifier{Calendar: cal}
		var out []string
		for _, e := range historyOf(t, "AZ-BIL-2026-000001", row, events...) {
			for _, b := range v.Add(e) {
				out = append(out, b.String())
			}
		}
		for _, b := range v.Close() {
			out = append(out, b.String())
		}
		return out
	}
	require.Empty(t, check(hubs, answer...), "the hub's own row")
	require.Empty(t, walk(historyOf(t, "AZ-BIL-2026-000001", routers.AppealRow{}, answer...)), "no calendar: the chains alone")

	const at = "appeal AZ-BIL-2026-000001 sequence 4: "
	for name, c := range map[string]struct {
		edit func(*routers.AppealRow)
		want string
	}{
		"AnsweredEarlier": {func(r *routers.AppealRow) { r.Milestones.AnsweredAt = r.Milestones.AnsweredAt.Add(-3 * 24 * time.Hour) },
			"answered_at is 2026-11-07T13:00:00+04:00, before the step's event at 2026-11-10T10:00:00+04:00"},
		"OnTime": {func(r *routers.AppealRow) { r.Milestones.OnTime = true }, "answered_on_time is true, the history's answer gives false"},
		"Days":   {func(r *routers.AppealRow) { r.Milestones.AnswerDays-- }, fmt.Sprintf("answer_days is %d, the history's answer gives %d", days-1, days)},
		"Status": {func(r *routers.AppealRow) { r.Status = routers.StatusInProgress }, "status is in_progress, the history's last status answered"},
		"Closed": {func(r *routers.AppealRow) { r.Milestones.ClosedAt = answered }, "closed_at is 2026-11-10T10:00:00+04:00, the history has no such step"},
		"Undelivered": {func(r *routers.AppealRow) { r.Milestones.DeliveredAt = time.Time{} },
			"delivered_at is not set, the history has the step at 2026-11-02T10:01:00+04:00"},
	} {
		row := hubs
		c.edit(&row)
		require.Equal(t, []string{at + c.want}, check(row, answer...), name)
	}

	// A forwarding no other district's event follows: off the hub it was
	// the answer, on the hub the appeal waits for its delivery there.
	forwarded := append(answer[:2:2], ev(routers.StatusForwarded, "AZ-BIL", answered))
	offHub := hubs
	offHub.Status, offHub.ForwardedBy, offHub.ForwardedAt, offHub.ForwardedLate = routers.StatusForwarded, "AZ-BIL", answered.Add(time.Second/2), true
	require.Empty(t, check(offHub, forwarded...))
	waiting := routers.AppealRow{Status: routers.StatusForwarded, Milestones: routers.Milestones{DeliveredAt: hubs.Milestones.DeliveredAt}, DaysUnknown: true,
		ForwardedBy: "AZ-BIL", ForwardedAt: answered, ForwardedLate: true}
	require.Empty(t, check(waiting, forwarded...))
	excused := offHub
	excused.ForwardedLate = false
	require.Equal(t, []string{"appeal AZ-BIL-2026-000001 sequence 3: forwarded_late is false, the history's latest forwarding gives true"},
		check(excused, forwarded...))
	excused = offHub
	excused.ForwardedAt = answered.Add(-24 * time.Hour)
	require.Equal(t, []string{`appeal AZ-BIL-2026-000001 sequence 3: forwarded_by, forwarded_at are "AZ-BIL", 2026-11-09T10:00:00+04:00, ` +
		`the history's latest forwarding "AZ-BIL", 2026-11-10T10:00:00+04:00`}, check(excused, forwarded...))
	onHub := append(forwarded[:3:3], ev(routers.StatusDelivered, "AZ-QAB", answered.Add(time.Minute)))
	offHub.Status = routers.StatusDelivered
	require.Equal(t, []string{at + "answered_at is 2026-11-10T13:00:00+04:00, the history has no such step",
		at + fmt.Sprintf("answer_days is %d, the history has no answer", days)}, check(offHub, onHub...), "forwarded on the hub, not answered")
}
