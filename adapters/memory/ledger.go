// Package memory keeps the hub's ledger in the process's memory, for
// `korpu demo` and for tests of the flows. It keeps nothing across restarts:
// appeals, numbers, the idempotency inbox and undelivered outbox messages all
// die with the process, so it must never back a real hub.
package memory

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/korpu-az/korpu/routers"
)

// Ledger is routers.Ledger in memory. One mutex serialises every change,
// which gives the same guarantees as PostgreSQL's row locks: gap-free
// numbers, bookings within capacity, one writer per appeal. Callbacks (number,
// effects, fn, job) run under that mutex and must not call the Ledger; the
// relay's publish runs outside it, so a slow broker does not stall intake.
// Everything handed in or out is deep-copied: callers cannot alias the state.
// What PostgreSQL's column types would refuse it refuses too (data.go).
type Ledger struct {
	// relay is held by the one running Relay, so records leave in commit order.
	relay sync.Mutex

	mu       sync.Mutex
	inbox    map[string]struct{}                    // request and comment IDs already used
	counters map[counterKey]int                     // last number given per district and year
	booked   map[bookingKey]int                     // places taken per official and day
	appeals  map[string]*routers.Appeal             // by number
	history  map[string]map[int]routers.StatusEvent // by appeal number, then sequence
	hashes   map[string]map[int][]byte              // each event's routers.ChainHash, as history
	comments map[string]*routers.Comment            // by ID
	byFIN    map[string][]string                    // appeal numbers by citizen, in registration order
	remarks  map[string][]string                    // comment IDs by appeal number, as added
	outbox   []routers.OutboxRecord                 // in commit order
	lastID   int64                                  // of the last outbox record
	changed  map[string]time.Time                   // when each appeal was last written
	cursors  map[string]time.Time                   // poll cursors by district
	dead     []*routers.DeadLetter                  // in ID order
	printed  map[string]bool                        // fingerprints of dead letters
	watched  map[string]crossed                     // the last crossing claimed, by appeal number
	filed    map[string]string                      // the district each appeal was registered with, by number
	refused  []refusedRequest                       // invalid requests (not comments), as claimed
	actions  []routers.OperatorAction               // the operators' record, in ID order

	log transparencyLog // the events' Merkle log (tlog.go)

	now func() time.Time // the hub's clock: every time the ledger records comes from it
}

type counterKey struct {
	district string
	year     int
}

type bookingKey struct {
	official string
	date     string
}

var (
	_ routers.Ledger         = (*Ledger)(nil)
	_ routers.DeadLetterBook = (*Ledger)(nil)
	_ routers.StatsLedger    = (*Ledger)(nil)
	_ routers.InquiryLedger  = (*Ledger)(nil)
)

// NewLedger returns an empty ledger that takes its time from now (time.Now
// if nil).
func NewLedger(now func() time.Time) *Ledger {
	if now == nil {
		now = time.Now
	}
	return &Ledger{
		now:      now,
		inbox:    map[string]struct{}{},
		counters: map[counterKey]int{},
		booked:   map[bookingKey]int{},
		appeals:  map[string]*routers.Appeal{},
		history:  map[string]map[int]routers.StatusEvent{},
		hashes:   map[string]map[int][]byte{},
		comments: map[string]*routers.Comment{},
		byFIN:    map[string][]string{},
		remarks:  map[string][]string{},
		changed:  map[string]time.Time{},
		cursors:  map[string]time.Time{},
		printed:  map[string]bool{},
		watched:  map[string]crossed{},
		filed:    map[string]string{},
	}
}

// Register implements routers.Ledger. The year of the number is the year of
// RegisteredAt in Baku.
func (l *Ledger) Register(ctx context.Context, draft routers.Appeal, booking *routers.Booking, number func(seq int) string, effects func(routers.Appeal) routers.Effects) (routers.Appeal, error) {
	if err := ctx.Err(); err != nil {
		return routers.Appeal{}, fmt.Errorf("register: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	if _, ok := l.inbox[draft.RequestID]; ok {
		return routers.Appeal{}, fmt.Errorf("register %s: %w", draft.RequestID, routers.ErrDuplicate)
	}
	var slot bookingKey
	if booking != nil {
		slot = bookingKey{booking.OfficialID, booking.Date}
		if l.booked[slot] >= booking.Capacity {
			return routers.Appeal{}, fmt.Errorf("register %s: %w", draft.RequestID, routers.ErrReceptionFull)
		}
	}
	counter := counterKey{draft.District, draft.RegisteredAt.In(routers.Baku).Year()}
	seq := l.counters[counter] + 1
	a := cloneAppeal(draft)
	a.Number = number(seq)
	if _, ok := l.appeals[a.Number]; ok {
		return routers.Appeal{}, &routers.PermanentError{Err: fmt.Errorf("%w: register %s: number %s is taken", routers.ErrDataRefused, draft.RequestID, a.Number)}
	}
	eff := effects(cloneAppeal(a))
	hashes, err := l.checkEffects(eff, a.Number)
	if err != nil {
		return routers.Appeal{}, fmt.Errorf("register %s: %w", draft.RequestID, err)
	}
	var refused refusal
	refused.appeal(a)
	refused.effects(eff)
	if err := refused.err(); err != nil {
		return routers.Appeal{}, fmt.Errorf("register %s: %w", draft.RequestID, err)
	}

	l.inbox[draft.RequestID] = struct{}{}
	if booking != nil {
		l.booked[slot]++
	}
	l.counters[counter] = seq
	l.appeals[a.Number] = &a
	l.filed[a.Number] = a.District
	l.byFIN[a.FIN] = append(l.byFIN[a.FIN], a.Number)
	l.changed[a.Number] = l.now()
	l.commit(eff, hashes)
	return cloneAppeal(a), nil
}

// RecordInvalid implements routers.Ledger. The effects' events belong to no
// appeal and so are no one's history; only the messages are kept, and what
// the figures count of the refusal.
func (l *Ledger) RecordInvalid(ctx context.Context, r routers.Refusal, effects routers.Effects) error {
	requestID := r.RequestID
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("record invalid: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	// In PostgreSQL's order: the claim of the id first, so a repeat is a
	// duplicate whatever else it carries.
	if err := keyRefused("inbox", requestID); err != nil {
		return fmt.Errorf("record invalid: %w", err)
	}
	if _, ok := l.inbox[requestID]; ok {
		return fmt.Errorf("record invalid %s: %w", requestID, routers.ErrDuplicate)
	}
	var refused refusal
	refused.text("inbox", r.District, r.Field)
	refused.messages(effects.Messages)
	if err := refused.err(); err != nil {
		return fmt.Errorf("record invalid: %w", err)
	}
	l.inbox[requestID] = struct{}{}
	if !r.Comment {
		l.refused = append(l.refused, refusedRequest{at: l.now(), district: r.District, field: r.Field})
	}
	l.commit(routers.Effects{Messages: effects.Messages}, nil)
	return nil
}

// Appeal implements routers.Ledger.
func (l *Ledger) Appeal(ctx context.Context, number string) (routers.Appeal, error) {
	if err := ctx.Err(); err != nil {
		return routers.Appeal{}, fmt.Errorf("appeal: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	a, ok := l.appeals[number]
	if !ok {
		return routers.Appeal{}, fmt.Errorf("appeal %s: %w", number, routers.ErrNotFound)
	}
	return cloneAppeal(*a), nil
}

// UpdateAppeal implements routers.Ledger. Of fn's changes only those to
// Status, Sequence, Person, Delivery, DistrictRef, District, Deadline,
// Statutory and Milestones are kept; the rest of an appeal never changes. fn's error is
// returned as it is.
func (l *Ledger) UpdateAppeal(ctx context.Context, number string, fn func(*routers.Appeal) (routers.Effects, error)) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("update appeal: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	if err := keyRefused("appeals", number); err != nil {
		return fmt.Errorf("update appeal: %w", err)
	}
	stored, ok := l.appeals[number]
	if !ok {
		return fmt.Errorf("update appeal %s: %w", number, routers.ErrNotFound)
	}
	work := cloneAppeal(*stored)
	eff, err := fn(&work)
	if err != nil {
		return err
	}
	hashes, err := l.checkEffects(eff, "")
	if err != nil {
		return fmt.Errorf("update appeal %s: %w", number, err)
	}
	var refused refusal
	refused.changes(work)
	refused.effects(eff)
	if err := refused.err(); err != nil {
		return fmt.Errorf("update appeal %s: %w", number, err)
	}
	applyChanges(stored, work)
	l.changed[number] = l.now()
	l.commit(eff, hashes)
	return nil
}

// History implements routers.Ledger. An unknown appeal has no history.
func (l *Ledger) History(ctx context.Context, number string) ([]routers.StatusEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	events := make([]routers.StatusEvent, 0, len(l.history[number]))
	for _, seq := range slices.Sorted(maps.Keys(l.history[number])) {
		events = append(events, cloneEvent(l.history[number][seq]))
	}
	return events, nil
}

// AddComment implements routers.Ledger: ErrNotFound if the comment's appeal
// is unknown.
func (l *Ledger) AddComment(ctx context.Context, c routers.Comment, effects routers.Effects) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("add comment: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	// In PostgreSQL's order: the claim of the id first, so a repeat is a
	// duplicate whatever else it carries.
	if err := keyRefused("inbox", c.ID); err != nil {
		return fmt.Errorf("add comment: %w", err)
	}
	if _, ok := l.inbox[c.ID]; ok {
		return fmt.Errorf("add comment %s: %w", c.ID, routers.ErrDuplicate)
	}
	var refused refusal
	refused.comment(c)
	refused.effects(effects)
	if err := refused.err(); err != nil {
		return fmt.Errorf("add comment: %w", err)
	}
	if _, ok := l.appeals[c.AppealNumber]; !ok {
		return fmt.Errorf("add comment %s: appeal %s: %w", c.ID, c.AppealNumber, routers.ErrNotFound)
	}
	hashes, err := l.checkEffects(effects, "")
	if err != nil {
		return fmt.Errorf("add comment %s: %w", c.ID, err)
	}
	l.inbox[c.ID] = struct{}{}
	l.comments[c.ID] = &c // c is the callee's copy; its Delivery holds no references
	l.remarks[c.AppealNumber] = append(l.remarks[c.AppealNumber], c.ID)
	l.commit(effects, hashes)
	return nil
}

// Comment implements routers.DeliveryLedger.
func (l *Ledger) Comment(ctx context.Context, id string) (routers.Comment, error) {
	if err := ctx.Err(); err != nil {
		return routers.Comment{}, fmt.Errorf("comment: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	c, ok := l.comments[id]
	if !ok {
		return routers.Comment{}, fmt.Errorf("comment %s: %w", id, routers.ErrNotFound)
	}
	return *c, nil // a Comment holds no references
}

// UpdateComment implements routers.Ledger. Of fn's changes only the
// comment's Delivery and the appeal's fields that UpdateAppeal keeps are kept.
func (l *Ledger) UpdateComment(ctx context.Context, id string, fn func(*routers.Comment, *routers.Appeal) (routers.Effects, error)) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("update comment: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	if err := keyRefused("comments", id); err != nil {
		return fmt.Errorf("update comment: %w", err)
	}
	c, ok := l.comments[id]
	if !ok {
		return fmt.Errorf("update comment %s: %w", id, routers.ErrNotFound)
	}
	a, ok := l.appeals[c.AppealNumber]
	if !ok {
		// AddComment checks the appeal and appeals are never removed.
		return fmt.Errorf("update comment %s: appeal %s: %w", id, c.AppealNumber, routers.ErrNotFound)
	}
	workC, workA := *c, cloneAppeal(*a)
	eff, err := fn(&workC, &workA)
	if err != nil {
		return err
	}
	hashes, err := l.checkEffects(eff, "")
	if err != nil {
		return fmt.Errorf("update comment %s: %w", id, err)
	}
	var refused refusal
	refused.delivery("comments", workC.Delivery)
	refused.changes(workA)
	refused.effects(eff)
	if err := refused.err(); err != nil {
		return fmt.Errorf("update comment %s: %w", id, err)
	}
	c.Delivery = workC.Delivery
	applyChanges(a, workA)
	l.changed[a.Number] = l.now()
	l.commit(eff, hashes)
	return nil
}

// PollCursor implements routers.Ledger.
func (l *Ledger) PollCursor(ctx context.Context, district string) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, fmt.Errorf("poll cursor: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cursors[district], nil
}

// SetPollCursor implements routers.Ledger.
func (l *Ledger) SetPollCursor(ctx context.Context, district string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("set poll cursor: %w", err)
	}
	if err := keyRefused("poll_cursors", district); err != nil {
		return fmt.Errorf("set poll cursor: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cursors[district] = at
	return nil
}

// StaleAppeals implements routers.Ledger.
func (l *Ledger) StaleAppeals(ctx context.Context, district string, before time.Time, limit int) ([]routers.Appeal, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("stale appeals: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []routers.Appeal
	for number, a := range l.appeals {
		if a.District == district && a.Delivery.State == routers.DeliveryDelivered && a.Status != routers.StatusClosed && l.changed[number].Before(before) {
			out = append(out, cloneAppeal(*a))
		}
	}
	slices.SortFunc(out, func(x, y routers.Appeal) int { return l.changed[x.Number].Compare(l.changed[y.Number]) })
	return out[:min(limit, len(out))], nil
}

// DistrictStats implements routers.Ledger.
func (l *Ledger) DistrictStats(ctx context.Context, today string) (map[string]routers.DistrictStats, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("district stats: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]routers.DistrictStats{}
	for _, a := range l.appeals {
		st := out[a.District]
		switch {
		case a.Status == routers.StatusRegistered, a.Status == routers.StatusDelivered, a.Status == routers.StatusInProgress,
			a.InTransfer():
			st.Open++
			if a.Deadline < today {
				st.Overdue++
			}
		}
		switch a.Delivery.State {
		case routers.DeliveryPending:
			st.PendingDelivery++
		case routers.DeliveryFailed:
			st.FailedDeliveries++
		}
		out[a.District] = st
	}
	for code, st := range out {
		if st == (routers.DistrictStats{}) {
			delete(out, code)
		}
	}
	return out, nil
}

// ClaimDue implements routers.Ledger.
func (l *Ledger) ClaimDue(ctx context.Context, now time.Time, limit int, filter routers.DueFilter, job func(routers.DueJob) routers.OutboxMessage) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("claim due: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	type candidate struct {
		job      routers.DueJob
		at       time.Time
		delivery *routers.Delivery
	}
	var due []candidate
	isDue := func(d routers.Delivery, district string) bool {
		return d.State == routers.DeliveryPending && !d.NextAttemptAt.IsZero() && !d.NextAttemptAt.After(now) &&
			(filter.Only == "" || filter.Only == district) && !slices.Contains(filter.Skip, district)
	}
	for _, a := range l.appeals {
		if isDue(a.Delivery, a.District) {
			due = append(due, candidate{routers.DueJob{Kind: routers.JobAppeal, Key: a.Number, District: a.District}, a.Delivery.NextAttemptAt, &a.Delivery})
		}
	}
	for _, c := range l.comments {
		if district := l.appeals[c.AppealNumber].District; isDue(c.Delivery, district) {
			due = append(due, candidate{routers.DueJob{Kind: routers.JobComment, Key: c.ID, District: district}, c.Delivery.NextAttemptAt, &c.Delivery})
		}
	}
	// Oldest first; ties in a fixed order, as map iteration has none.
	slices.SortFunc(due, func(x, y candidate) int {
		return cmp.Or(x.at.Compare(y.at), cmp.Compare(x.job.Kind, y.job.Kind), cmp.Compare(x.job.Key, y.job.Key))
	})
	due = due[:min(max(limit, 0), len(due))]

	messages := make([]routers.OutboxMessage, len(due))
	for i, d := range due {
		messages[i] = job(d.job)
	}
	var refused refusal
	refused.messages(messages)
	if err := refused.err(); err != nil {
		return 0, fmt.Errorf("claim due: %w", err)
	}
	for _, d := range due {
		d.delivery.NextAttemptAt = time.Time{}
	}
	l.commit(routers.Effects{Messages: messages}, nil)
	return len(due), nil
}

// Expedite implements routers.Ledger.
func (l *Ledger) Expedite(ctx context.Context, district string, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("expedite: %w", err)
	}
	if err := keyRefused("appeals", district); err != nil {
		return 0, fmt.Errorf("expedite: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	moved := 0
	expedite := func(d *routers.Delivery) {
		if d.State == routers.DeliveryPending && d.NextAttemptAt.After(now) {
			d.NextAttemptAt = now
			moved++
		}
	}
	for _, a := range l.appeals {
		if a.District == district {
			expedite(&a.Delivery)
		}
	}
	for _, c := range l.comments {
		if l.appeals[c.AppealNumber].District == district {
			expedite(&c.Delivery)
		}
	}
	return moved, nil
}

// ExpediteUnenriched implements routers.Ledger.
func (l *Ledger) ExpediteUnenriched(ctx context.Context, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("expedite unenriched: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	moved := 0
	for _, a := range l.appeals {
		if len(a.Person) == 0 && a.Delivery.State == routers.DeliveryPending && a.Delivery.NextAttemptAt.After(now) {
			a.Delivery.NextAttemptAt = now
			moved++
		}
	}
	return moved, nil
}

// Relay implements routers.Ledger. publish runs without the store's lock.
func (l *Ledger) Relay(ctx context.Context, limit int, publish func([]routers.OutboxRecord) error) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("relay: %w", err)
	}
	l.relay.Lock()
	defer l.relay.Unlock()

	l.mu.Lock()
	n := min(max(limit, 0), len(l.outbox))
	records := make([]routers.OutboxRecord, n)
	for i, r := range l.outbox[:n] {
		records[i] = routers.OutboxRecord{ID: r.ID, OutboxMessage: cloneMessage(r.OutboxMessage)}
	}
	l.mu.Unlock()
	if n == 0 {
		return 0, nil
	}

	if err := publish(records); err != nil {
		return 0, fmt.Errorf("relay: publish %d records: %w", n, err)
	}

	// Only the relay removes records, and it holds l.relay: the first n are
	// still the ones published.
	l.mu.Lock()
	l.outbox = slices.Delete(l.outbox, 0, n)
	l.mu.Unlock()
	return n, nil
}

// checkEffects refuses what PostgreSQL's keys and constraints would refuse,
// before anything changes: an event of an unknown appeal, a second event
// with the same sequence, or one whose predecessor is not kept (it cannot
// be chained). Events without an appeal number (invalid requests) are no
// history. registering names the appeal being registered, not yet stored.
// It returns each event's routers.ChainHash, by index in eff.Events.
func (l *Ledger) checkEffects(eff routers.Effects, registering string) (map[int][]byte, error) {
	hashes := map[int][]byte{}
	batch := map[string]map[int][]byte{} // the hashes of this batch's events, by appeal and sequence
	for i, ev := range eff.Events {
		if ev.AppealNumber == "" {
			continue
		}
		if _, ok := l.appeals[ev.AppealNumber]; !ok && ev.AppealNumber != registering {
			return nil, fmt.Errorf("event %s: appeal %s: %w", ev.EventID, ev.AppealNumber, routers.ErrNotFound)
		}
		_, stored := l.history[ev.AppealNumber][ev.Sequence]
		if _, seen := batch[ev.AppealNumber][ev.Sequence]; stored || seen {
			// A unique violation in PostgreSQL: a data error, like every other of class 23.
			return nil, &routers.PermanentError{Err: fmt.Errorf("%w: event %s: appeal %s already has an event with sequence %d",
				routers.ErrDataRefused, ev.EventID, ev.AppealNumber, ev.Sequence)}
		}
		prev := routers.ChainGenesis
		if ev.Sequence != 1 {
			var ok bool
			if prev, ok = batch[ev.AppealNumber][ev.Sequence-1]; !ok {
				prev, ok = l.hashes[ev.AppealNumber][ev.Sequence-1]
			}
			if !ok { // PostgreSQL's status_history_hash_sealed
				return nil, &routers.PermanentError{Err: fmt.Errorf("%w: event %s: appeal %s has no event with sequence %d to chain to",
					routers.ErrDataRefused, ev.EventID, ev.AppealNumber, ev.Sequence-1)}
			}
		}
		canonical, err := routers.CanonicalEvent(ev)
		if err != nil {
			return nil, &routers.PermanentError{Err: fmt.Errorf("%w: event %s: %w", routers.ErrDataRefused, ev.EventID, err)}
		}
		if batch[ev.AppealNumber] == nil {
			batch[ev.AppealNumber] = map[int][]byte{}
		}
		hashes[i] = routers.ChainHash(ev.AppealNumber, ev.Sequence, prev, canonical)
		batch[ev.AppealNumber][ev.Sequence] = hashes[i]
	}
	return hashes, nil
}

// commit keeps the events as their appeals' history, with the hashes
// checkEffects gave, and appends the messages to the outbox.
func (l *Ledger) commit(eff routers.Effects, hashes map[int][]byte) {
	for i, ev := range eff.Events {
		if ev.AppealNumber == "" {
			continue
		}
		if l.history[ev.AppealNumber] == nil {
			l.history[ev.AppealNumber] = map[int]routers.StatusEvent{}
			l.hashes[ev.AppealNumber] = map[int][]byte{}
		}
		l.history[ev.AppealNumber][ev.Sequence] = cloneEvent(ev)
		l.hashes[ev.AppealNumber][ev.Sequence] = hashes[i]
		l.queueForLog(ev.AppealNumber, ev.Sequence)
	}
	for _, m := range eff.Messages {
		l.lastID++
		l.outbox = append(l.outbox, routers.OutboxRecord{ID: l.lastID, OutboxMessage: cloneMessage(m)})
	}
	for _, dl := range eff.DeadLetters {
		l.addDeadLetter(dl)
	}
}

// addDeadLetter stores dl and reports whether it did: a stored
// fingerprint keeps its one letter.
func (l *Ledger) addDeadLetter(dl routers.DeadLetter) bool {
	if l.printed[dl.Fingerprint] {
		return false
	}
	l.printed[dl.Fingerprint] = true
	stored := cloneDeadLetter(dl)
	stored.ID = int64(len(l.dead) + 1)
	stored.CreatedAt = l.now()
	stored.State = routers.DeadLetterOpen
	stored.ResolvedAt = time.Time{}
	l.dead = append(l.dead, &stored)
	return true
}

func cloneDeadLetter(dl routers.DeadLetter) routers.DeadLetter {
	dl.Body = bytes.Clone(dl.Body)
	dl.Headers = maps.Clone(dl.Headers)
	return dl
}

// AddDeadLetter implements routers.Ledger.
func (l *Ledger) AddDeadLetter(ctx context.Context, dl routers.DeadLetter) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("add dead letter: %w", err)
	}
	var refused refusal
	refused.deadLetter(dl)
	if err := refused.err(); err != nil {
		return fmt.Errorf("add dead letter: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.addDeadLetter(dl) {
		return fmt.Errorf("add dead letter %s: %w", dl.Fingerprint, routers.ErrDuplicate)
	}
	return nil
}

// DeadLetters implements routers.Ledger.
func (l *Ledger) DeadLetters(ctx context.Context, state routers.DeadLetterState, afterID int64, limit int) ([]routers.DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []routers.DeadLetter
	for _, dl := range l.dead {
		if dl.ID > afterID && (state == "" || dl.State == state) && len(out) < limit {
			out = append(out, cloneDeadLetter(*dl))
		}
	}
	return out, nil
}

// DeadLetter implements routers.Ledger.
func (l *Ledger) DeadLetter(ctx context.Context, id int64) (routers.DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return routers.DeadLetter{}, fmt.Errorf("dead letter: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if id < 1 || id > int64(len(l.dead)) {
		return routers.DeadLetter{}, fmt.Errorf("dead letter %d: %w", id, routers.ErrNotFound)
	}
	return cloneDeadLetter(*l.dead[id-1]), nil
}

// ResolveDeadLetter implements routers.Ledger.
func (l *Ledger) ResolveDeadLetter(ctx context.Context, id int64, state routers.DeadLetterState, effects routers.Effects, requeueAt time.Time, act routers.OperatorAction) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("resolve dead letter: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if id < 1 || id > int64(len(l.dead)) {
		return false, fmt.Errorf("dead letter %d: %w", id, routers.ErrNotFound)
	}
	dl := l.dead[id-1]
	if dl.State != routers.DeadLetterOpen {
		return false, nil
	}
	hashes, err := l.checkEffects(effects, "")
	if err != nil {
		return false, fmt.Errorf("resolve dead letter %d: %w", id, err)
	}
	var refused refusal
	refused.effects(effects)
	act.DeadLetterID, act.Outcome = id, routers.OutcomeDone
	refused.operatorAction(act)
	if err := refused.err(); err != nil {
		return false, fmt.Errorf("resolve dead letter %d: %w", id, err)
	}
	dl.State, dl.ResolvedAt = state, l.now()
	l.record(act, dl.ResolvedAt)
	if !requeueAt.IsZero() {
		var d *routers.Delivery
		switch {
		case dl.Kind == routers.DeadAppeal && l.appeals[dl.AppealNumber] != nil:
			d = &l.appeals[dl.AppealNumber].Delivery
			l.changed[dl.AppealNumber] = l.now()
		case dl.Kind == routers.DeadComment && l.comments[dl.CommentID] != nil:
			d = &l.comments[dl.CommentID].Delivery
		}
		if d != nil && d.State == routers.DeliveryFailed {
			*d = routers.Delivery{State: routers.DeliveryPending, NextAttemptAt: requeueAt}
		}
	}
	l.commit(effects, hashes)
	return true, nil
}

// applyChanges copies into stored the fields an update may change.
func applyChanges(stored *routers.Appeal, changed routers.Appeal) {
	stored.Status = changed.Status
	stored.Sequence = changed.Sequence
	stored.Person = bytes.Clone(changed.Person)
	stored.Delivery = changed.Delivery
	stored.DistrictRef = changed.DistrictRef
	stored.District = changed.District // forwarded to another district on the hub
	stored.Deadline = changed.Deadline // extended
	stored.Statutory = changed.Statutory
	stored.Forwarders = slices.Clone(changed.Forwarders)
	stored.Milestones = changed.Milestones
}

func cloneAppeal(a routers.Appeal) routers.Appeal {
	a.Request = bytes.Clone(a.Request)
	a.Person = bytes.Clone(a.Person)
	a.Forwarders = slices.Clone(a.Forwarders)
	return a
}

func cloneEvent(ev routers.StatusEvent) routers.StatusEvent {
	ev.Errors = slices.Clone(ev.Errors)
	return ev
}

func cloneMessage(m routers.OutboxMessage) routers.OutboxMessage {
	m.Payload = bytes.Clone(m.Payload)
	m.Metadata = maps.Clone(m.Metadata)
	return m
}

// Chain implements the history chain's read (routers.ChainLink); none for
// an unknown appeal.
func (l *Ledger) Chain(ctx context.Context, number string) ([]routers.ChainLink, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("chain: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	links := make([]routers.ChainLink, 0, len(l.hashes[number]))
	for _, seq := range slices.Sorted(maps.Keys(l.hashes[number])) {
		links = append(links, routers.ChainLink{Sequence: seq, Hash: slices.Clone(l.hashes[number][seq])})
	}
	return links, nil
}
