package routers

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/korpu-az/korpu/routers/catalogue"
)

// MaxHistoryPage is the most appeals one page of a citizen's history holds.
const MaxHistoryPage = 100

// maxAppealNumber bounds an appeal number a reader asks for: the hub's are
// 19 or 20 characters.
const maxAppealNumber = 40

// ErrBadCursor: a history cursor that this hub did not give out.
var ErrBadCursor = errors.New("malformed history cursor")

// InquiryLedger is what the portal's questions read. Every method is a
// plain read on indexed data that takes no locks, so reads never hold up
// intake or delivery.
type InquiryLedger interface {
	// AppealsOf returns up to limit of the citizen's appeals that match
	// filter, newest first (by registration time, then number), strictly
	// after position after (zero: from the newest).
	AppealsOf(ctx context.Context, fin string, filter HistoryFilter, after HistoryPosition, limit int) ([]AppealSummary, error)
	// AppealRecord returns an appeal with its status history and its
	// comments, oldest first, or ErrNotFound.
	AppealRecord(ctx context.Context, number string) (AppealRecord, error)
	// Booked returns the places taken on each of the official's days
	// (YYYY-MM-DD); days nobody booked are absent.
	Booked(ctx context.Context, officialID string, days []string) (map[string]int, error)
}

// HistoryFilter narrows a citizen's history; empty fields match all.
type HistoryFilter struct {
	Status  Status
	Service string
}

// HistoryPosition is where a page of history ends: the last appeal shown.
type HistoryPosition struct {
	RegisteredAt time.Time
	Number       string
}

// IsZero reports whether p is the start of the history.
func (p HistoryPosition) IsZero() bool { return p.Number == "" }

// AppealSummary is one line of a citizen's history.
type AppealSummary struct {
	Number       string
	District     string
	Service      string
	Type         string
	Status       Status
	SubmittedAt  time.Time
	RegisteredAt time.Time
	Deadline     string    // YYYY-MM-DD
	ChangedAt    time.Time // of the appeal's last event
}

// AppealRecord is all the ledger holds about one appeal.
type AppealRecord struct {
	Appeal   Appeal
	Events   []StatusEvent // in sequence order
	Comments []Comment     // oldest first
	Head     ChainLink     // the latest event's place in the history chain
}

// Viewer is who asks about an appeal: a citizen, named by the portal, or
// the central monitors, who may read every appeal.
type Viewer struct {
	FIN     string
	Monitor bool
}

// may reports whether v may see an appeal of the citizen fin.
func (v Viewer) may(fin string) bool { return v.Monitor || (v.FIN != "" && v.FIN == fin) }

// Inquiry answers the portal's questions (and the monitors' about single
// appeals) from the ledger, by the rules intake applies.
type Inquiry struct {
	log       LogReader // optional: the head event's leaf index
	ledger    InquiryLedger
	validator *Validator
	now       func() time.Time
}

// NewInquiry returns the read side of the hub over ledger; validator holds
// the catalogue, the calendar and the directory; now is the hub's clock.
func NewInquiry(ledger InquiryLedger, validator *Validator, now func() time.Time) *Inquiry {
	return &Inquiry{ledger: ledger, validator: validator, now: now}
}

// Catalogue is the hub's service catalogue.
func (q *Inquiry) Catalogue() *catalogue.Catalogue { return q.validator.Catalogue }

// Districts lists the connected authorities by code.
func (q *Inquiry) Districts() []DistrictInfo {
	dir := q.validator.Directory
	out := make([]DistrictInfo, 0, len(dir.Districts))
	for _, code := range dir.Codes() {
		out = append(out, dir.Districts[code])
	}
	return out
}

// District returns one connected authority, or ErrNotFound.
func (q *Inquiry) District(code string) (DistrictInfo, error) {
	d, ok := q.validator.Directory.Districts[code]
	if !ok {
		return DistrictInfo{}, fmt.Errorf("district %q: %w", code, ErrNotFound)
	}
	return d, nil
}

// OfficialDays is an official with his next reception days.
type OfficialDays struct {
	Official Official
	Days     []ReceptionDay
}

// ReceptionDay is one date a reception may be booked on.
type ReceptionDay struct {
	Date     string // YYYY-MM-DD
	Sessions []Session
	Capacity int
	Free     int // places not yet booked
}

// Officials lists a district's officials, each with his next reception days
// and the places left on each: the very dates intake accepts now.
func (q *Inquiry) Officials(ctx context.Context, district string) ([]OfficialDays, error) {
	d, err := q.District(district)
	if err != nil {
		return nil, err
	}
	now := q.now()
	out := make([]OfficialDays, 0, len(d.Officials))
	for _, id := range d.OfficialIDs() {
		o := d.Officials[id]
		days, err := q.validator.ReceptionDays(o, now)
		if err != nil {
			return nil, err
		}
		dates := make([]string, len(days))
		for i, day := range days {
			dates[i] = day.Format(time.DateOnly)
		}
		booked, err := q.ledger.Booked(ctx, o.ID, dates)
		if err != nil {
			return nil, fmt.Errorf("bookings of %s: %w", o.ID, err)
		}
		od := OfficialDays{Official: o, Days: make([]ReceptionDay, len(days))}
		for i, day := range days {
			capacity := o.CapacityOn(day.Weekday())
			od.Days[i] = ReceptionDay{
				Date: dates[i], Sessions: o.SessionsOn(day.Weekday()),
				Capacity: capacity, Free: max(capacity-booked[dates[i]], 0),
			}
		}
		out = append(out, od)
	}
	return out, nil
}

// HistoryPage is one page of a citizen's history.
type HistoryPage struct {
	Appeals []AppealSummary
	Next    string // the cursor of the next page; empty on the last
}

// History returns one page of the citizen's appeals, newest first. cursor
// is empty for the first page or a Next given before; limit is clamped to
// 1…MaxHistoryPage.
func (q *Inquiry) History(ctx context.Context, fin string, filter HistoryFilter, cursor string, limit int) (HistoryPage, error) {
	after, err := decodeCursor(cursor)
	if err != nil {
		return HistoryPage{}, err
	}
	limit = min(max(limit, 1), MaxHistoryPage)
	// One more than asked tells whether another page follows.
	list, err := q.ledger.AppealsOf(ctx, fin, filter, after, limit+1)
	if err != nil {
		return HistoryPage{}, fmt.Errorf("history: %w", err)
	}
	page := HistoryPage{Appeals: list}
	if len(list) > limit {
		page.Appeals = list[:limit]
		last := page.Appeals[limit-1]
		page.Next = encodeCursor(HistoryPosition{RegisteredAt: last.RegisteredAt, Number: last.Number})
	}
	return page, nil
}

type cursorJSON struct {
	RegisteredAt time.Time `json:"r"`
	Number       string    `json:"n"`
}

func encodeCursor(p HistoryPosition) string {
	p.RegisteredAt = p.RegisteredAt.UTC()
	b, err := json.Marshal(cursorJSON(p))
	if err != nil {
		panic(fmt.Sprintf("marshal cursor: %v", err)) // a time and a string: cannot fail
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (HistoryPosition, error) {
	if s == "" {
		return HistoryPosition{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 200 {
		return HistoryPosition{}, ErrBadCursor
	}
	var c cursorJSON
	if err := json.Unmarshal(b, &c); err != nil || c.Number == "" || c.RegisteredAt.IsZero() || strings.ContainsFunc(c.Number, forbiddenRune) {
		return HistoryPosition{}, ErrBadCursor
	}
	return HistoryPosition(c), nil
}

// Details returns what the hub knows of one appeal, described for people:
// ErrNotFound when there is no such appeal or the viewer may not see it, so
// that nobody learns which numbers exist.
func (q *Inquiry) Details(ctx context.Context, v Viewer, number string) (AppealView, error) {
	if len(number) > maxAppealNumber || strings.ContainsFunc(number, forbiddenRune) || !utf8.ValidString(number) {
		// No number the hub gives looks like this: no need to ask the ledger.
		return AppealView{}, fmt.Errorf("appeal %q: %w", number, ErrNotFound)
	}
	rec, err := q.ledger.AppealRecord(ctx, number)
	if err != nil {
		return AppealView{}, fmt.Errorf("appeal %s: %w", number, err)
	}
	if !v.may(rec.Appeal.FIN) {
		return AppealView{}, fmt.Errorf("appeal %s: %w", number, ErrNotFound)
	}
	view, err := q.describe(rec)
	if err != nil || q.log == nil || view.Head.Sequence == 0 {
		return view, err
	}
	switch leaf, err := q.log.LeafIndex(ctx, number, view.Head.Sequence); {
	case err == nil:
		view.HeadLeaf = &leaf
	case !errors.Is(err, ErrNotSequenced) && !errors.Is(err, ErrNotFound):
		return AppealView{}, fmt.Errorf("appeal %s: leaf index: %w", number, err)
	}
	return view, nil
}

// WithLog has Details name the head event's leaf in the transparency log
// (read from log) once it is sequenced.
func (q *Inquiry) WithLog(log LogReader) *Inquiry {
	q.log = log
	return q
}
