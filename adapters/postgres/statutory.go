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
