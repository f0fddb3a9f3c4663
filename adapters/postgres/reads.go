package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/korpu-az/korpu/routers"
)

// The portal's reads (routers.InquiryLedger) are single statements on the
// pool: no transaction, no row lock, so they never wait for intake or
// delivery, nor make them wait. Each is an index scan (migration 00007;
// TestReadsUseIndexes holds the plans to it).

// historyFirst reads the first page of a citizen's history from
// appeals_citizen and then, for the page's rows only, each appeal's last
// event by status_history's key; historyAfter a page after a position.
const (
	historyFirst = historyPage + historyRest
	historyAfter = historyPage + ` AND (registered_at, number) < ($5, $6)` + historyRest
	historyPage  = `
	SELECT a.number, a.district, a.service, a.appeal_type, a.status, a.submitted_at, a.registered_at,
		to_char(a.deadline, 'YYYY-MM-DD'), coalesce(h.event->>'at', '')
	FROM (
		SELECT number, district, service, appeal_type, status, submitted_at, registered_at, deadline, sequence
		FROM appeals
		WHERE fin = $1 AND ($2 = '' OR status = $2) AND ($3 = '' OR service = $3)`
	historyRest = `
		ORDER BY registered_at DESC, number DESC
		LIMIT $4
	) a
	LEFT JOIN status_history h ON h.appeal_number = a.number AND h.sequence = a.sequence
	ORDER BY a.registered_at DESC, a.number DESC`
)

// holdable reports whether text could be stored at all. The keys of reads
// come from outside (a path, a header): one PostgreSQL would refuse to
// compare (a NUL, invalid UTF-8) names nothing stored, as in the memory
// ledger, rather than failing the read.
func holdable(key string) bool { return utf8.ValidString(key) && strings.IndexByte(key, 0) < 0 }

// AppealsOf implements routers.InquiryLedger.
func (l *Ledger) AppealsOf(ctx context.Context, fin string, filter routers.HistoryFilter, after routers.HistoryPosition, limit int) ([]routers.AppealSummary, error) {
	if !holdable(fin) || !holdable(string(filter.Status)) || !holdable(filter.Service) {
		return nil, nil
	}
	query, args := historyFirst, []any{fin, string(filter.Status), filter.Service, max(limit, 0)}
	if !after.IsZero() {
		query, args = historyAfter, append(args, after.RegisteredAt, after.Number)
	}
	rows, err := l.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("appeals of a citizen: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (routers.AppealSummary, error) {
		var (
			s         routers.AppealSummary
			submitted *time.Time
			changed   string
		)
		if err := row.Scan(&s.Number, &s.District, &s.Service, &s.Type, &s.Status, &submitted, &s.RegisteredAt, &s.Deadline, &changed); err != nil {
			return s, err
		}
		if submitted != nil {
			s.SubmittedAt = *submitted
		}
		var err error
		s.ChangedAt, err = eventTime(s.Number, changed)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("appeals of a citizen: %w", err)
	}
	return list, nil
}

// eventTime reads an event's at; an appeal without events (none is) has
// none.
func eventTime(number, at string) (time.Time, error) {
	if at == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return time.Time{}, fmt.Errorf("appeal %s: last event's time: %w", number, err)
	}
	return t, nil
}

// The statements of AppealRecord, each on a key: appeals', status_history's
// and comments_appeal.
const (
	recordAppeal   = `SELECT ` + appealColumns + ` FROM appeals WHERE number = $1`
	recordHistory  = `SELECT event, hash FROM status_history WHERE appeal_number = $1 ORDER BY sequence`
	recordComments = `SELECT ` + commentColumns + ` FROM comments WHERE appeal_number = $1 ORDER BY submitted_at, id`
)

// AppealRecord implements routers.InquiryLedger in one round trip.
func (l *Ledger) AppealRecord(ctx context.Context, number string) (rec routers.AppealRecord, err error) {
	if !holdable(number) {
		return routers.AppealRecord{}, fmt.Errorf("appeal %q: %w", number, routers.ErrNotFound)
	}
	var b pgx.Batch
	b.Queue(recordAppeal, number)
	b.Queue(recordHistory, number)
	b.Queue(recordComments, number)
	br := l.pool.SendBatch(ctx, &b)
	defer func() {
		if closeErr := br.Close(); err == nil && closeErr != nil {
			err = fmt.Errorf("appeal %s: %w", number, closeErr)
		}
	}()
	rec.Appeal, err = scanAppeal(br.QueryRow())
	if err != nil {
		return routers.AppealRecord{}, fmt.Errorf("appeal %s: %w", number, err)
	}
	rows, err := br.Query()
	if err != nil {
		return routers.AppealRecord{}, fmt.Errorf("appeal %s: history: %w", number, err)
	}
	if rec.Events, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (routers.StatusEvent, error) {
		var ev routers.StatusEvent
		err := row.Scan(&ev, &rec.Head.Hash) // the last row's is the head
		rec.Head.Sequence = ev.Sequence
		return ev, err
	}); err != nil {
		return routers.AppealRecord{}, fmt.Errorf("appeal %s: history: %w", number, err)
	}
	rows, err = br.Query()
	if err != nil {
		return routers.AppealRecord{}, fmt.Errorf("appeal %s: comments: %w", number, err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanComment(rows)
		if err != nil {
			return routers.AppealRecord{}, fmt.Errorf("appeal %s: %w", number, err)
		}
		rec.Comments = append(rec.Comments, c)
	}
	if err := rows.Err(); err != nil {
		return routers.AppealRecord{}, fmt.Errorf("appeal %s: comments: %w", number, err)
	}
	return rec, nil
}

const bookedQuery = `SELECT to_char(day, 'YYYY-MM-DD'), booked FROM reception_bookings
	WHERE official_id = $1 AND day = ANY($2::date[])`

// Booked implements routers.InquiryLedger from reception_bookings' key.
func (l *Ledger) Booked(ctx context.Context, officialID string, days []string) (map[string]int, error) {
	if days == nil {
		days = []string{}
	}
	rows, err := l.pool.Query(ctx, bookedQuery, officialID, days)
	if err != nil {
		return nil, fmt.Errorf("bookings of %s: %w", officialID, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			day    string
			booked int
		)
		if err := rows.Scan(&day, &booked); err != nil {
			return nil, fmt.Errorf("bookings of %s: %w", officialID, err)
		}
		out[day] = booked
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("bookings of %s: %w", officialID, err)
	}
	return out, nil
}
