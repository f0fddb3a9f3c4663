package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/korpu-az/korpu/routers"
)

// relayLockKey is the advisory lock that makes one relay the only publisher
// of the outbox at a time, across every hub process.
const relayLockKey = 0x6b6f7270755f6f62 // "korpu_ob"

// Ledger is routers.Ledger on PostgreSQL.
type Ledger struct {
	pool *pgxpool.Pool
	// now is the hub's clock. Every time the ledger records (last change,
	// dead letter, resolution) comes from it, never from the database's
	// now(), so the ledger and the flows that compare against those times
	// share one clock.
	now func() time.Time

	// rollMu makes one caller of the process at a time roll up the
	// figures' spans; rolled remembers the spans known to be rolled up
	// ("day/2026-03-10", "month/2026-03-01"), which never change.
	rollMu sync.Mutex
	rolled map[string]bool
}

var (
	_ routers.Ledger         = (*Ledger)(nil)
	_ routers.DeadLetterBook = (*Ledger)(nil)
	_ routers.StatsLedger    = (*Ledger)(nil)
	_ routers.InquiryLedger  = (*Ledger)(nil)
	_ routers.FiguresLedger  = (*Ledger)(nil)
)

// NewLedger returns a ledger on a migrated database that takes its time
// from now (time.Now if nil).
func NewLedger(pool *pgxpool.Pool, now func() time.Time) *Ledger {
	if now == nil {
		now = time.Now
	}
	return &Ledger{pool: pool, now: now, rolled: map[string]bool{}}
}

// inTx runs fn in a transaction; it and inPipeline carry every write of
// the ledger, so both classify what fails (see classify).
func (l *Ledger) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return classify(pgx.BeginFunc(ctx, l.pool, fn))
}

// claimRequest claims a request id in the inbox; a refused request's row
// also keeps the district it named and the field refused (refusal's), for
// the figures.
func claimRequest(ctx context.Context, tx pgx.Tx, requestID, outcome string, refusal routers.Refusal, now time.Time) error {
	tag, err := tx.Exec(ctx, `INSERT INTO inbox (request_id, outcome, received_at, district, refused_field) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING`, requestID, outcome, now, refusal.District, refusal.Field)
	if err != nil {
		return fmt.Errorf("claim request: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return routers.ErrDuplicate
	}
	return nil
}

// Register implements routers.Ledger in two round trips: one batch opens
// the transaction, claims the request, books the place and takes the
// number; a second writes the appeal and its effects and commits. The
// counter row stays locked only between the two, so registrations in one
// district queue behind each other as briefly as possible.
func (l *Ledger) Register(ctx context.Context, draft routers.Appeal, booking *routers.Booking, number func(int) string, effects func(routers.Appeal) routers.Effects) (routers.Appeal, error) {
	now := l.now() // one instant for everything this commit records
	a := draft
	err := l.inPipeline(ctx, func(p *pipeline) error {
		var claim pgx.Batch
		claim.Queue(`INSERT INTO inbox (request_id, outcome, received_at) VALUES ($1, 'registered', $2) ON CONFLICT DO NOTHING`, a.RequestID, now)
		if booking != nil {
			claim.Queue(`
				INSERT INTO reception_bookings (official_id, day, booked) VALUES ($1, $2::date, 1)
				ON CONFLICT (official_id, day) DO UPDATE SET booked = reception_bookings.booked + 1
				WHERE reception_bookings.booked < $3
				RETURNING booked`, booking.OfficialID, booking.Date, booking.Capacity)
		}
		claim.Queue(`
			INSERT INTO appeal_counters (district, year, last_seq) VALUES ($1, $2, 1)
			ON CONFLICT (district, year) DO UPDATE SET last_seq = appeal_counters.last_seq + 1
			RETURNING last_seq`, a.District, a.RegisteredAt.In(routers.Baku).Year())
		br, err := p.send(ctx, &claim)
		if err != nil {
			return err
		}
		seq, err := readClaim(br, booking)
		if err != nil {
			return err // the transaction rolls back whatever the batch did
		}
		a.Number = number(seq)
		var write pgx.Batch
		write.Queue(`
			INSERT INTO appeals (number, request_id, district, service, fin, status, sequence, registered_at,
				deadline, request, person, delivery_state, delivery_attempts, next_attempt_at, last_error, district_ref,
				delivery_unanswered, updated_at, appeal_type, submitted_at, filed_district, `+statutoryColumns+`, `+milestoneColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::date, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $3,
				$21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34)`,
			slices.Concat([]any{a.Number, a.RequestID, a.District, a.Service, a.FIN, a.Status, a.Sequence, a.RegisteredAt,
				a.Deadline, jsonArg(a.Request), jsonArg(a.Person), a.Delivery.State, a.Delivery.Attempts,
				timeArg(a.Delivery.NextAttemptAt), a.Delivery.LastError, a.DistrictRef, a.Delivery.Unanswered, now,
				a.Type, timeArg(a.SubmittedAt)}, statutoryArgs(a.Statutory), milestoneArgs(a.Milestones))...)
		if err := queueEffects(&write, effects(a), now); err != nil {
			return err
		}
		if err := p.commit(ctx, &write); err != nil {
			return fmt.Errorf("write appeal: %w", err)
		}
		return nil
	})
	if err != nil {
		return routers.Appeal{}, err
	}
	return a, nil
}

// readClaim reads the answers of Register's first batch: the inbox claim,
// the booking if any, and the number.
func readClaim(br pgx.BatchResults, booking *routers.Booking) (seq int, err error) {
	defer func() {
		if closeErr := br.Close(); err == nil && closeErr != nil {
			err = fmt.Errorf("claim request: %w", closeErr)
		}
	}()
	tag, err := br.Exec()
	if err != nil {
		return 0, fmt.Errorf("claim request: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return 0, routers.ErrDuplicate
	}
	if booking != nil {
		var booked int
		err := br.QueryRow().Scan(&booked)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, routers.ErrReceptionFull
		}
		if err != nil {
			return 0, fmt.Errorf("book reception: %w", err)
		}
	}
	if err := br.QueryRow().Scan(&seq); err != nil {
		return 0, fmt.Errorf("allocate number: %w", err)
	}
	return seq, nil
}

// RecordInvalid implements routers.Ledger: the inbox's claim keeps the
// refusal's district and field for the figures, in the row it writes anyway.
func (l *Ledger) RecordInvalid(ctx context.Context, r routers.Refusal, effects routers.Effects) error {
	now := l.now() // one instant for everything this commit records
	outcome := "invalid"
	if r.Comment {
		outcome = "comment_invalid"
	}
	return l.inTx(ctx, func(tx pgx.Tx) error {
		if err := claimRequest(ctx, tx, r.RequestID, outcome, r, now); err != nil {
			return err
		}
		return writeEffects(ctx, tx, now, routers.Effects{Messages: effects.Messages})
	})
}

const appealColumns = `number, request_id, district, service, fin, status, sequence, registered_at,
	to_char(deadline, 'YYYY-MM-DD'), request, person, delivery_state, delivery_attempts, next_attempt_at,
	last_error, district_ref, delivery_unanswered, appeal_type, submitted_at, ` + statutoryColumns + `, ` + milestoneColumns

func scanAppeal(row pgx.Row) (routers.Appeal, error) {
	var (
		a               routers.Appeal
		next, submitted *time.Time
	)
	var (
		st statutoryScan
		ms milestoneScan
	)
	err := row.Scan(slices.Concat([]any{&a.Number, &a.RequestID, &a.District, &a.Service, &a.FIN, &a.Status, &a.Sequence,
		&a.RegisteredAt, &a.Deadline, &a.Request, &a.Person, &a.Delivery.State, &a.Delivery.Attempts,
		&next, &a.Delivery.LastError, &a.DistrictRef, &a.Delivery.Unanswered, &a.Type, &submitted}, st.dest(), ms.dest())...)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, routers.ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("scan appeal: %w", err)
	}
	if next != nil {
		a.Delivery.NextAttemptAt = *next
	}
	if submitted != nil {
		a.SubmittedAt = *submitted
	}
	a.Statutory = st.statutory()
	a.Milestones = ms.milestones()
	return a, nil
}

// Appeal implements routers.Ledger.
func (l *Ledger) Appeal(ctx context.Context, number string) (routers.Appeal, error) {
	return scanAppeal(l.pool.QueryRow(ctx, `SELECT `+appealColumns+` FROM appeals WHERE number = $1`, number))
}

func lockAppeal(ctx context.Context, tx pgx.Tx, number string) (routers.Appeal, error) {
	return scanAppeal(tx.QueryRow(ctx, `SELECT `+appealColumns+` FROM appeals WHERE number = $1 FOR NO KEY UPDATE`, number))
}

func queueSaveAppeal(b *pgx.Batch, a routers.Appeal, now time.Time) {
	b.Queue(`
		UPDATE appeals SET status = $2, sequence = $3, person = $4, delivery_state = $5,
			delivery_attempts = $6, next_attempt_at = $7, last_error = $8, district_ref = $9, updated_at = $10,
			delivery_unanswered = $11, district = $12, deadline = $13::date,
			(`+statutoryColumns+`) = ($14, $15, $16, $17, $18, $19, $20, $21),
			(`+milestoneColumns+`) = ($22, $23, $24, $25, $26, $27)
		WHERE number = $1`,
		slices.Concat([]any{a.Number, a.Status, a.Sequence, jsonArg(a.Person), a.Delivery.State, a.Delivery.Attempts,
			timeArg(a.Delivery.NextAttemptAt), a.Delivery.LastError, a.DistrictRef, now, a.Delivery.Unanswered,
			a.District, a.Deadline}, statutoryArgs(a.Statutory), milestoneArgs(a.Milestones))...)
}

// UpdateAppeal implements routers.Ledger in two round trips: open and lock,
// then write and commit.
func (l *Ledger) UpdateAppeal(ctx context.Context, number string, fn func(*routers.Appeal) (routers.Effects, error)) error {
	now := l.now() // one instant for everything this commit records
	return l.inPipeline(ctx, func(p *pipeline) error {
		var lock pgx.Batch
		lock.Queue(`SELECT `+appealColumns+` FROM appeals WHERE number = $1 FOR NO KEY UPDATE`, number)
		br, err := p.send(ctx, &lock)
		if err != nil {
			return err
		}
		a, err := scanAppeal(br.QueryRow())
		if closeErr := br.Close(); err == nil && closeErr != nil {
			err = fmt.Errorf("lock appeal: %w", closeErr)
		}
		if err != nil {
			return err
		}
		effects, err := fn(&a)
		if err != nil {
			return err
		}
		var b pgx.Batch
		queueSaveAppeal(&b, a, now)
		if err := queueEffects(&b, effects, now); err != nil {
			return err
		}
		if err := p.commit(ctx, &b); err != nil {
			return fmt.Errorf("update appeal: %w", err)
		}
		return nil
	})
}

// History implements routers.Ledger.
func (l *Ledger) History(ctx context.Context, number string) ([]routers.StatusEvent, error) {
	rows, err := l.pool.Query(ctx, `SELECT event FROM status_history WHERE appeal_number = $1 ORDER BY sequence`, number)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (routers.StatusEvent, error) {
		var ev routers.StatusEvent
		err := row.Scan(&ev)
		return ev, err
	})
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return events, nil
}

// AddComment implements routers.Ledger.
func (l *Ledger) AddComment(ctx context.Context, c routers.Comment, effects routers.Effects) error {
	now := l.now() // one instant for everything this commit records
	return l.inTx(ctx, func(tx pgx.Tx) error {
		if err := claimRequest(ctx, tx, c.ID, "comment", routers.Refusal{}, now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO comments (id, appeal_number, text, submitted_at, delivery_state, delivery_attempts, next_attempt_at, last_error)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			c.ID, c.AppealNumber, c.Text, c.SubmittedAt, c.Delivery.State, c.Delivery.Attempts,
			timeArg(c.Delivery.NextAttemptAt), c.Delivery.LastError)
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == pgerrcode.ForeignKeyViolation {
			return fmt.Errorf("add comment %s: appeal %s: %w", c.ID, c.AppealNumber, routers.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("insert comment: %w", err)
		}
		return writeEffects(ctx, tx, now, effects)
	})
}

const commentColumns = `id, appeal_number, text, submitted_at, delivery_state, delivery_attempts, next_attempt_at, last_error`

func scanComment(row pgx.Row) (routers.Comment, error) {
	var (
		c    routers.Comment
		next *time.Time
	)
	err := row.Scan(&c.ID, &c.AppealNumber, &c.Text, &c.SubmittedAt, &c.Delivery.State, &c.Delivery.Attempts, &next, &c.Delivery.LastError)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, routers.ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("scan comment: %w", err)
	}
	if next != nil {
		c.Delivery.NextAttemptAt = *next
	}
	return c, nil
}

// Comment implements routers.DeliveryLedger: one statement, no lock.
func (l *Ledger) Comment(ctx context.Context, id string) (routers.Comment, error) {
	return scanComment(l.pool.QueryRow(ctx, `SELECT `+commentColumns+` FROM comments WHERE id = $1`, id))
}

// UpdateComment implements routers.Ledger. The appeal is locked first, as
// every other writer of the appeal does, so the two locks never deadlock.
func (l *Ledger) UpdateComment(ctx context.Context, id string, fn func(*routers.Comment, *routers.Appeal) (routers.Effects, error)) error {
	now := l.now() // one instant for everything this commit records
	return l.inTx(ctx, func(tx pgx.Tx) error {
		var number string
		err := tx.QueryRow(ctx, `SELECT appeal_number FROM comments WHERE id = $1`, id).Scan(&number)
		if errors.Is(err, pgx.ErrNoRows) {
			return routers.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("find comment: %w", err)
		}
		a, err := lockAppeal(ctx, tx, number)
		if err != nil {
			return err
		}
		c, err := scanComment(tx.QueryRow(ctx, `SELECT `+commentColumns+` FROM comments WHERE id = $1 FOR NO KEY UPDATE`, id))
		if err != nil {
			return fmt.Errorf("lock comment: %w", err)
		}
		effects, err := fn(&c, &a)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE comments SET delivery_state = $2, delivery_attempts = $3, next_attempt_at = $4, last_error = $5
			WHERE id = $1`, c.ID, c.Delivery.State, c.Delivery.Attempts, timeArg(c.Delivery.NextAttemptAt), c.Delivery.LastError)
		if err != nil {
			return fmt.Errorf("update comment: %w", err)
		}
		var b pgx.Batch
		queueSaveAppeal(&b, a, now)
		if err := queueEffects(&b, effects, now); err != nil {
			return err
		}
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return fmt.Errorf("update comment's appeal: %w", err)
		}
		return nil
	})
}

// ClaimDue implements routers.Ledger.
func (l *Ledger) ClaimDue(ctx context.Context, now time.Time, limit int, filter routers.DueFilter, job func(routers.DueJob) routers.OutboxMessage) (int, error) {
	claimed := 0
	skip := filter.Skip
	if skip == nil {
		skip = []string{}
	}
	err := l.inTx(ctx, func(tx pgx.Tx) error {
		// Two hubs sweeping at once may pick the same rows: the UPDATE checks
		// the conditions again under the row lock, so each is claimed once.
		rows, err := tx.Query(ctx, `
			WITH due AS (
				(SELECT 'appeal' AS kind, number AS key, district, next_attempt_at FROM appeals
				 WHERE delivery_state = 'pending' AND next_attempt_at <= $1
				   AND ($3 = '' OR district = $3) AND NOT (district = ANY($4))
				 ORDER BY next_attempt_at LIMIT $2)
				UNION ALL
				(SELECT 'comment', c.id, a.district, c.next_attempt_at FROM comments c JOIN appeals a ON a.number = c.appeal_number
				 WHERE c.delivery_state = 'pending' AND c.next_attempt_at <= $1
				   AND ($3 = '' OR a.district = $3) AND NOT (a.district = ANY($4))
				 ORDER BY c.next_attempt_at LIMIT $2)
			)
			SELECT kind, key, district FROM due ORDER BY next_attempt_at LIMIT $2`, now, limit, filter.Only, skip)
		if err != nil {
			return fmt.Errorf("find due: %w", err)
		}
		jobs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (routers.DueJob, error) {
			var j routers.DueJob
			err := row.Scan(&j.Kind, &j.Key, &j.District)
			return j, err
		})
		if err != nil {
			return fmt.Errorf("find due: %w", err)
		}
		var appeals, comments []string
		for _, j := range jobs {
			if j.Kind == routers.JobComment {
				comments = append(comments, j.Key)
			} else {
				appeals = append(appeals, j.Key)
			}
		}
		// One statement per kind; RETURNING tells which rows were still due.
		still := map[string]bool{}
		for _, kind := range []routers.JobKind{routers.JobAppeal, routers.JobComment} {
			keys, query := appeals, `UPDATE appeals SET next_attempt_at = NULL WHERE number = ANY($1) AND delivery_state = 'pending' AND next_attempt_at <= $2 RETURNING number`
			if kind == routers.JobComment {
				keys, query = comments, `UPDATE comments SET next_attempt_at = NULL WHERE id = ANY($1) AND delivery_state = 'pending' AND next_attempt_at <= $2 RETURNING id`
			}
			if len(keys) == 0 {
				continue
			}
			rows, err := tx.Query(ctx, query, keys, now)
			if err != nil {
				return fmt.Errorf("claim due: %w", err)
			}
			claimedKeys, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return fmt.Errorf("claim due: %w", err)
			}
			for _, k := range claimedKeys {
				still[string(kind)+"/"+k] = true
			}
		}
		var messages []routers.OutboxMessage
		for _, j := range jobs { // oldest first
			if still[string(j.Kind)+"/"+j.Key] {
				messages = append(messages, job(j))
			}
		}
		claimed = len(messages)
		return writeEffects(ctx, tx, now, routers.Effects{Messages: messages})
	})
	if err != nil {
		return 0, err
	}
	return claimed, nil
}

// Expedite implements routers.Ledger.
func (l *Ledger) Expedite(ctx context.Context, district string, now time.Time) (int, error) {
	moved := 0
	err := l.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE appeals SET next_attempt_at = $2
			WHERE district = $1 AND delivery_state = 'pending' AND next_attempt_at > $2`, district, now)
		if err != nil {
			return fmt.Errorf("expedite appeals: %w", err)
		}
		moved = int(tag.RowsAffected())
		tag, err = tx.Exec(ctx, `UPDATE comments c SET next_attempt_at = $2 FROM appeals a
			WHERE a.number = c.appeal_number AND a.district = $1 AND c.delivery_state = 'pending' AND c.next_attempt_at > $2`, district, now)
		if err != nil {
			return fmt.Errorf("expedite comments: %w", err)
		}
		moved += int(tag.RowsAffected())
		return nil
	})
	return moved, err
}

// ExpediteUnenriched implements routers.Ledger; the partial index of due
// deliveries keeps it to the appeals waiting in the future.
func (l *Ledger) ExpediteUnenriched(ctx context.Context, now time.Time) (int, error) {
	tag, err := l.pool.Exec(ctx, `UPDATE appeals SET next_attempt_at = $1
		WHERE delivery_state = 'pending' AND next_attempt_at > $1 AND person IS NULL`, now)
	if err != nil {
		return 0, classify(fmt.Errorf("expedite unenriched appeals: %w", err))
	}
	return int(tag.RowsAffected()), nil
}

// PollCursor implements routers.Ledger.
func (l *Ledger) PollCursor(ctx context.Context, district string) (time.Time, error) {
	var at time.Time
	err := l.pool.QueryRow(ctx, `SELECT resume_at FROM poll_cursors WHERE district = $1`, district).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("poll cursor: %w", err)
	}
	return at, nil
}

// SetPollCursor implements routers.Ledger.
func (l *Ledger) SetPollCursor(ctx context.Context, district string, at time.Time) error {
	_, err := l.pool.Exec(ctx, `
		INSERT INTO poll_cursors (district, resume_at, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (district) DO UPDATE SET resume_at = excluded.resume_at, updated_at = excluded.updated_at`, district, at, l.now())
	if err != nil {
		return classify(fmt.Errorf("set poll cursor: %w", err))
	}
	return nil
}

// StaleAppeals implements routers.Ledger.
func (l *Ledger) StaleAppeals(ctx context.Context, district string, before time.Time, limit int) ([]routers.Appeal, error) {
	rows, err := l.pool.Query(ctx, `SELECT `+appealColumns+` FROM appeals
		WHERE district = $1 AND delivery_state = 'delivered' AND status <> 'closed' AND updated_at < $2
		ORDER BY updated_at LIMIT $3`, district, before, limit)
	if err != nil {
		return nil, fmt.Errorf("stale appeals: %w", err)
	}
	defer rows.Close()
	var out []routers.Appeal
	for rows.Next() {
		a, err := scanAppeal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stale appeals: %w", err)
	}
	return out, nil
}

// DistrictStats implements routers.Ledger from the partial index of open
// appeals and the delivery states.
func (l *Ledger) DistrictStats(ctx context.Context, today string) (map[string]routers.DistrictStats, error) {
	rows, err := l.pool.Query(ctx, `
		SELECT district,
			count(*) FILTER (WHERE `+openAppeal+`),
			count(*) FILTER (WHERE (`+openAppeal+`) AND deadline < $1::date),
			count(*) FILTER (WHERE delivery_state = 'pending'),
			count(*) FILTER (WHERE delivery_state = 'failed')
		FROM appeals
		WHERE status IN ('registered', 'delivered', 'in_progress') OR delivery_state <> 'delivered'
		GROUP BY district`, today)
	if err != nil {
		return nil, fmt.Errorf("district stats: %w", err)
	}
	defer rows.Close()
	out := map[string]routers.DistrictStats{}
	for rows.Next() {
		var (
			code string
			st   routers.DistrictStats
		)
		if err := rows.Scan(&code, &st.Open, &st.Overdue, &st.PendingDelivery, &st.FailedDeliveries); err != nil {
			return nil, fmt.Errorf("district stats: %w", err)
		}
		out[code] = st
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("district stats: %w", err)
	}
	return out, nil
}

// Relay implements routers.Ledger. The transaction holds the relay lock
// while publishing, so a crash mid-publish leaves the records for the next
// relay (the portal drops the repeats by sequence).
func (l *Ledger) Relay(ctx context.Context, limit int, publish func([]routers.OutboxRecord) error) (int, error) {
	relayed := 0
	err := l.inTx(ctx, func(tx pgx.Tx) error {
		var leader bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, int64(relayLockKey)).Scan(&leader); err != nil {
			return fmt.Errorf("relay lock: %w", err)
		}
		if !leader {
			return nil
		}
		rows, err := tx.Query(ctx, `SELECT id, topic, uuid, payload, metadata FROM outbox ORDER BY id LIMIT $1`, limit)
		if err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		records, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (routers.OutboxRecord, error) {
			var r routers.OutboxRecord
			err := row.Scan(&r.ID, &r.Topic, &r.UUID, &r.Payload, &r.Metadata)
			return r, err
		})
		if err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		if len(records) == 0 {
			return nil
		}
		if err := publish(records); err != nil {
			return fmt.Errorf("relay publish: %w", err)
		}
		ids := make([]int64, len(records))
		for i, r := range records {
			ids[i] = r.ID
		}
		if _, err := tx.Exec(ctx, `DELETE FROM outbox WHERE id = ANY($1)`, ids); err != nil {
			return fmt.Errorf("delete relayed: %w", err)
		}
		relayed = len(records)
		return nil
	})
	return relayed, err
}

// writeEffects writes effects in one round trip.
func writeEffects(ctx context.Context, tx pgx.Tx, now time.Time, e routers.Effects) error {
	var b pgx.Batch
	if err := queueEffects(&b, e, now); err != nil {
		return err
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("write effects: %w", err)
	}
	return nil
}

// queueEffects queues the statements that keep effects: history rows,
// dead letters (created now) and outbox messages, in that order.
func queueEffects(b *pgx.Batch, e routers.Effects, now time.Time) error {
	for _, ev := range e.Events {
		if ev.AppealNumber == "" {
			continue // invalid requests have no appeal and so no history
		}
		canonical, err := routers.CanonicalEvent(ev)
		if err != nil {
			return &routers.PermanentError{Err: fmt.Errorf("%w: event %s: %w", routers.ErrDataRefused, ev.EventID, err)}
		}
		b.Queue(insertHistory, ev.AppealNumber, ev.Sequence, ev.Status, canonical,
			routers.ChainHeader(ev.AppealNumber, ev.Sequence), genesisOf(ev.Sequence))
	}
	for _, dl := range e.DeadLetters {
		queueDeadLetter(b, dl, now)
	}
	queueOutbox(b, e.Messages, now)
	return nil
}

// insertHistory keeps an event and its routers.ChainHash, finished here
// from the header and canonical bytes Go made and the previous event's
// hash ($6 for the first event, else the row before, which may be earlier
// in the same batch): no extra round trip. A missing predecessor leaves the
// hash NULL, which status_history_hash_sealed refuses.
const insertHistory = `
	INSERT INTO status_history (appeal_number, sequence, status, event, hash)
	VALUES ($1, $2, $3, convert_from($4::bytea, 'UTF8')::jsonb, sha256($5 || coalesce($6,
		(SELECT p.hash FROM status_history p WHERE p.appeal_number = $1 AND p.sequence = $2 - 1)) || $4))`

// genesisOf is insertHistory's $6: the previous hash of a first event, or
// NULL to have the statement read it.
func genesisOf(sequence int) []byte {
	if sequence == 1 {
		return routers.ChainGenesis
	}
	return nil
}

func queueOutbox(b *pgx.Batch, messages []routers.OutboxMessage, now time.Time) {
	for _, m := range messages {
		metadata := m.Metadata
		if metadata == nil {
			metadata = map[string]string{}
		}
		b.Queue(`INSERT INTO outbox (topic, uuid, payload, metadata, created_at) VALUES ($1, $2, $3, $4, $5)`, m.Topic, m.UUID, m.Payload, metadata, now)
	}
}

// insertDeadLetter stores a dead letter unless its fingerprint is stored.
const insertDeadLetter = `
	INSERT INTO dead_letters (kind, queue, message_id, body, body_size, body_sha256, headers, error, attempts,
		appeal_number, comment_id, fingerprint, created_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (fingerprint) DO NOTHING`

func deadLetterArgs(dl routers.DeadLetter, now time.Time) []any {
	headers := dl.Headers
	if headers == nil {
		headers = map[string]string{}
	}
	return []any{dl.Kind, dl.Queue, dl.MessageID, dl.Body, dl.Size, dl.SHA256, headers, dl.Error, dl.Attempts,
		dl.AppealNumber, dl.CommentID, dl.Fingerprint, now}
}

func queueDeadLetter(b *pgx.Batch, dl routers.DeadLetter, now time.Time) {
	b.Queue(insertDeadLetter, deadLetterArgs(dl, now)...)
}

// AddDeadLetter implements routers.Ledger.
func (l *Ledger) AddDeadLetter(ctx context.Context, dl routers.DeadLetter) error {
	tag, err := l.pool.Exec(ctx, insertDeadLetter, deadLetterArgs(dl, l.now())...)
	if err != nil {
		return classify(fmt.Errorf("add dead letter: %w", err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("add dead letter %s: %w", dl.Fingerprint, routers.ErrDuplicate)
	}
	return nil
}

const deadLetterColumns = `id, created_at, kind, queue, message_id, body, body_size, body_sha256, headers, error, attempts,
	appeal_number, comment_id, fingerprint, state, resolved_at`

func scanDeadLetter(row pgx.Row) (routers.DeadLetter, error) {
	var (
		dl       routers.DeadLetter
		resolved *time.Time
	)
	err := row.Scan(&dl.ID, &dl.CreatedAt, &dl.Kind, &dl.Queue, &dl.MessageID, &dl.Body, &dl.Size, &dl.SHA256, &dl.Headers,
		&dl.Error, &dl.Attempts, &dl.AppealNumber, &dl.CommentID, &dl.Fingerprint, &dl.State, &resolved)
	if errors.Is(err, pgx.ErrNoRows) {
		return dl, routers.ErrNotFound
	}
	if err != nil {
		return dl, fmt.Errorf("scan dead letter: %w", err)
	}
	if resolved != nil {
		dl.ResolvedAt = *resolved
	}
	return dl, nil
}

// DeadLetters implements routers.Ledger.
func (l *Ledger) DeadLetters(ctx context.Context, state routers.DeadLetterState, afterID int64, limit int) ([]routers.DeadLetter, error) {
	rows, err := l.pool.Query(ctx, `SELECT `+deadLetterColumns+` FROM dead_letters
		WHERE ($1 = '' OR state = $1) AND id > $2 ORDER BY id LIMIT $3`, string(state), afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	defer rows.Close()
	var out []routers.DeadLetter
	for rows.Next() {
		dl, err := scanDeadLetter(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, dl)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	return out, nil
}

// DeadLetter implements routers.Ledger.
func (l *Ledger) DeadLetter(ctx context.Context, id int64) (routers.DeadLetter, error) {
	return scanDeadLetter(l.pool.QueryRow(ctx, `SELECT `+deadLetterColumns+` FROM dead_letters WHERE id = $1`, id))
}

// ResolveDeadLetter implements routers.Ledger.
func (l *Ledger) ResolveDeadLetter(ctx context.Context, id int64, state routers.DeadLetterState, effects routers.Effects, requeueAt time.Time) (bool, error) {
	now := l.now() // one instant for everything this commit records
	resolved := false
	err := l.inTx(ctx, func(tx pgx.Tx) error {
		var (
			current            routers.DeadLetterState
			kind               routers.DeadLetterKind
			appeal, commentKey string
		)
		err := tx.QueryRow(ctx, `SELECT state, kind, appeal_number, comment_id FROM dead_letters WHERE id = $1 FOR NO KEY UPDATE`, id).
			Scan(&current, &kind, &appeal, &commentKey)
		if errors.Is(err, pgx.ErrNoRows) {
			return routers.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("lock dead letter: %w", err)
		}
		if current != routers.DeadLetterOpen {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE dead_letters SET state = $2, resolved_at = $3 WHERE id = $1`, id, state, now); err != nil {
			return fmt.Errorf("resolve dead letter: %w", err)
		}
		if !requeueAt.IsZero() {
			query, args := `UPDATE appeals SET delivery_state = 'pending', delivery_attempts = 0, next_attempt_at = $2, last_error = '',
					delivery_unanswered = false, updated_at = $3
				WHERE number = $1 AND delivery_state = 'failed'`, []any{appeal, requeueAt, now}
			if kind == routers.DeadComment {
				query, args = `UPDATE comments SET delivery_state = 'pending', delivery_attempts = 0, next_attempt_at = $2, last_error = ''
					WHERE id = $1 AND delivery_state = 'failed'`, []any{commentKey, requeueAt}
			}
			if kind == routers.DeadAppeal || kind == routers.DeadComment {
				if _, err := tx.Exec(ctx, query, args...); err != nil {
					return fmt.Errorf("requeue delivery: %w", err)
				}
			}
		}
		resolved = true
		return writeEffects(ctx, tx, now, effects)
	})
	return resolved, err
}

// jsonArg stores an empty document as NULL rather than as invalid JSON.
func jsonArg(doc json.RawMessage) any {
	if len(doc) == 0 {
		return nil
	}
	return string(doc)
}

func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
