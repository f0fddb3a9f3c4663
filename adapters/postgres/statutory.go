package postgres

import (
	"time"

	"github.com/korpu-az/korpu/routers"
)

// statutoryColumns are the columns of routers.Statutory (migration 00008),
// in the order of statutoryArgs and statutoryScan.dest.
const statutoryColumns = `extended, extended_at, extension_reason, forwarded_to, forwarded_by, forwarded_at, forwarded_late, forwarders`

// openAppeal is the condition of an appeal that awaits an answer: also one
// forwarded to another district on the hub that has not taken it up yet
// (routers.Appeal.InTransfer).
const openAppeal = `status IN ('registered', 'delivered', 'in_progress') OR (status = 'forwarded' AND forwarded_to = district)`

func statutoryArgs(s routers.Statutory) []any {
	forwarders := s.Forwarders
	if forwarders == nil {
		forwarders = []string{} // the column is NOT NULL
	}
	return []any{s.Extended, timeArg(s.ExtendedAt), s.ExtensionReason, s.ForwardedTo, s.ForwardedBy,
		timeArg(s.ForwardedAt), s.ForwardedLate, forwarders}
}

// statutoryScan receives the statutory columns of a row.
type statutoryScan struct {
	s                     routers.Statutory
	extendedAt, forwarded *time.Time
}

func (st *statutoryScan) dest() []any {
	return []any{&st.s.Extended, &st.extendedAt, &st.s.ExtensionReason, &st.s.ForwardedTo, &st.s.ForwardedBy,
		&st.forwarded, &st.s.ForwardedLate, &st.s.Forwarders}
}

func (st *statutoryScan) statutory() routers.Statutory {
	if st.extendedAt != nil {
		st.s.ExtendedAt = *st.extendedAt
	}
	if st.forwarded != nil {
		st.s.ForwardedAt = *st.forwarded
	}
	if len(st.s.Forwarders) == 0 {
		st.s.Forwarders = nil // as the memory ledger keeps none
	}
	return st.s
}

// milestoneColumns are the columns of routers.Milestones (migration
// 00010), in the order of milestoneArgs and milestoneScan.dest.
const milestoneColumns = `delivered_at, in_progress_at, answered_at, answer_days, answered_on_time, closed_at`

func milestoneArgs(m routers.Milestones) []any {
	var days any // no answer, no days
	if !m.AnsweredAt.IsZero() {
		days = m.AnswerDays
	}
	return []any{timeArg(m.DeliveredAt), timeArg(m.InProgressAt), timeArg(m.AnsweredAt), days, m.OnTime, timeArg(m.ClosedAt)}
}

// milestoneScan receives the milestone columns of a row.
type milestoneScan struct {
	delivered, inProgress, answered, closed *time.Time
	days                                    *int
	onTime                                  bool
}

func (ms *milestoneScan) dest() []any {
	return []any{&ms.delivered, &ms.inProgress, &ms.answered, &ms.days, &ms.onTime, &ms.closed}
}

func (ms *milestoneScan) milestones() routers.Milestones {
	m := routers.Milestones{OnTime: ms.onTime}
	setTimes(ms.delivered, &m.DeliveredAt, ms.inProgress, &m.InProgressAt, ms.answered, &m.AnsweredAt, ms.closed, &m.ClosedAt)
	if ms.days != nil {
		m.AnswerDays = *ms.days
	}
	return m
}

// setTimes takes pairs of a nullable column as scanned and the time it
// sets when not NULL.
func setTimes(pairs ...*time.Time) {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i] != nil {
			*pairs[i+1] = *pairs[i]
		}
	}
}
