package routers

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Sentinel errors of the ports. Adapters return them (wrapped or not); the
// flows test them with errors.Is.
var (
	// ErrDuplicate: the request ID was seen before; the request has already had its effect.
	ErrDuplicate = errors.New("duplicate request")
	// ErrNotFound: no such appeal or comment.
	ErrNotFound = errors.New("not found")
	// ErrReceptionFull: the official's reception day has no free place left.
	ErrReceptionFull = errors.New("reception day is fully booked")
	// ErrPersonNotFound: the registry has no person with that FİN.
	ErrPersonNotFound = errors.New("person not found in the registry")
	// ErrDataRefused: the ledger refused a value for what it is (a NUL in
	// text, JSON its store cannot keep, an impossible date …). No retry can
	// mend it, so ledgers return it inside a *PermanentError.
	ErrDataRefused = errors.New("the ledger refused the data")
)

// DeliveryState tracks the hand-over of an appeal (or comment) to its district.
type DeliveryState string

// Delivery states.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryFailed    DeliveryState = "failed" // permanent: flagged for the monitors
)

// Appeal is the ledger's record of one registered request.
type Appeal struct {
	Number       string
	RequestID    string
	District     string // the authority that holds it: where it was filed, or the district on the hub it was forwarded to
	Service      string
	FIN          string
	Type         string    // complaint, application or proposal
	SubmittedAt  time.Time // when the citizen sent it, as the portal says
	Status       Status
	Sequence     int // sequence of the last event sent to the portal
	RegisteredAt time.Time
	Deadline     string          // YYYY-MM-DD
	Request      json.RawMessage // the portal's body as received
	Person       json.RawMessage // the registry's record; nil until enriched
	Delivery     Delivery
	DistrictRef  string // the district system's own reference
	Statutory           // extension and forwarding (statutory.go)
	Milestones          // when the hub recorded each step (milestones.go)
}

// Delivery is the retry state of a hand-over to a district.
type Delivery struct {
	State         DeliveryState
	Attempts      int
	NextAttemptAt time.Time // zero: a delivery job is queued or none is due
	LastError     string
	// Unanswered: a Submit went out and its answer never came (it timed
	// out), so the district may hold the appeal. It lasts until the
	// delivery is settled.
	Unanswered bool
}

// InFlight reports whether a pending hand-over may be under way: its job is
// queued, being handled, or (after a crash) coming back from the broker, or
// a Submit of it went unanswered, so the district may have it. The ledger
// knows it in every hub process from the commits that already happen: the
// one that queues the job (registration, the sweeper's claim) clears
// NextAttemptAt, and every outcome of the job sets it again (postponed, and
// Unanswered after a timeout) or settles the delivery.
func (d Delivery) InFlight() bool {
	return d.State == DeliveryPending && (d.NextAttemptAt.IsZero() || d.Unanswered)
}

// Comment is a citizen's remark on a registered appeal.
type Comment struct {
	ID           string // the portal's request id
	AppealNumber string
	Text         string
	SubmittedAt  time.Time
	Delivery     Delivery
}

// Booking asks for one place on an official's reception day.
type Booking struct {
	OfficialID string
	Date       string // YYYY-MM-DD
	Capacity   int
}

// OutboxMessage is a message committed with a state change and published
// after the commit, in commit order, by the relay.
type OutboxMessage struct {
	Topic    string
	UUID     string
	Payload  []byte
	Metadata map[string]string
}

// OutboxRecord is an OutboxMessage as stored, with its position.
type OutboxRecord struct {
	ID int64
	OutboxMessage
}

// Effects are what a state change emits: status events for the portal (also
// kept as the appeal's history), every message, in order, to publish, and
// dead letters for what the hub gave up on.
type Effects struct {
	Events      []StatusEvent
	Messages    []OutboxMessage
	DeadLetters []DeadLetter
}

// DeadLetterKind tells what a dead letter holds.
type DeadLetterKind string

// Kinds of dead letters.
const (
	DeadPoison  DeadLetterKind = "poison"  // a message no handler could take (bad signature, not JSON …)
	DeadAppeal  DeadLetterKind = "appeal"  // an appeal's delivery the hub gave up on
	DeadComment DeadLetterKind = "comment" // a comment's delivery the hub gave up on
)

// DeadLetterState is where an operator's work on a dead letter stands.
type DeadLetterState string

// States of a dead letter.
const (
	DeadLetterOpen     DeadLetterState = "dead"
	DeadLetterReplayed DeadLetterState = "replayed"
	DeadLetterDropped  DeadLetterState = "dropped"
)

// DeadLetter is something the hub gave up on, kept with what an operator
// needs to act: the original message, the error and the attempts made.
type DeadLetter struct {
	ID           int64
	CreatedAt    time.Time
	Kind         DeadLetterKind
	Queue        string // where the message was consumed from, and goes back to on replay
	MessageID    string
	Body         []byte // the body, or its first MaxDeadLetterBody bytes (see Truncated)
	Size         int64  // of the whole body
	SHA256       string // lowercase hex of the whole body's SHA-256
	Headers      map[string]string
	Error        string
	Attempts     int
	AppealNumber string
	CommentID    string
	// Fingerprint identifies the failure: storing the same one twice (a
	// redelivered poison message) keeps one letter.
	Fingerprint string
	State       DeadLetterState
	ResolvedAt  time.Time
}

// JobKind tells what a delivery job hands over.
type JobKind string

// Job kinds.
const (
	JobAppeal  JobKind = "appeal"
	JobComment JobKind = "comment"
)

// DueJob names a delivery whose retry time has come.
type DueJob struct {
	Kind     JobKind
	Key      string // appeal number or comment id
	District string
}

// DueFilter narrows ClaimDue to one district, or leaves some out.
type DueFilter struct {
	Only string   // if set, only this district
	Skip []string // never these districts
}

// DistrictStats is one district's backlog as the monitors see it.
type DistrictStats struct {
	Open             int // registered, delivered or in progress: no answer yet
	Overdue          int // open and past the legal deadline
	PendingDelivery  int // not yet handed over to the district
	FailedDeliveries int // given up on: dead letters to act on
}

// OutboxPublisher publishes relayed outbox records, in order, and returns
// once the broker holds every one. Without one, the hub publishes through
// its Watermill publisher, one confirmed message at a time.
type OutboxPublisher interface {
	PublishOutbox(ctx context.Context, records []OutboxRecord) error
}

// Registry looks up a person's ID-card record by FİN.
type Registry interface {
	// Person returns the registry's JSON record, ErrPersonNotFound, a
	// *TransientError (with the delay the registry asked for, if any), or a
	// *HoldOffError while the client does not call the registry because it
	// asked to wait.
	Person(ctx context.Context, fin string) (json.RawMessage, error)
}

// RecoveryNotifier is implemented by a Registry that can tell when the
// registry answers again after failing. The hub then makes the appeals that
// wait for the registry's record due at once, as it does with a district's
// backlog when its breaker closes.
type RecoveryNotifier interface {
	// OnRecovery sets fn, called each time a real answer follows a failure;
	// fn must not block.
	OnRecovery(fn func())
}

// District is the system of one local executive authority.
type District interface {
	// Submit hands over an appeal; a repeat of a known appeal is success.
	// It returns the district's reference, a *TransientError or a *PermanentError.
	Submit(ctx context.Context, s Submission) (reference string, err error)
	// Comment forwards a citizen's remark on a delivered appeal; a repeat of
	// a known comment ID is success.
	Comment(ctx context.Context, c CommentSubmission) error
}

// CommentSubmission is a citizen's remark as a district receives it.
type CommentSubmission struct {
	ID           string // the portal's id of the comment: the idempotency key
	AppealNumber string
	Reference    string // the district's own reference of the appeal
	Text         string
	At           time.Time
}

// Poller is a district system that cannot call the hub back (ESD): the hub
// asks it for changes on a schedule, and for the state of single appeals to
// reconcile.
type Poller interface {
	// Changes returns the changes at or after since, oldest first, about
	// limit of them. The changes of the page's last instant may come again
	// in the next page.
	Changes(ctx context.Context, since time.Time, limit int) (ChangePage, error)
	// State returns an appeal's current state by the district's reference.
	State(ctx context.Context, reference string) (DistrictChange, error)
}

// DistrictChange is an appeal's state as a district system reports it.
type DistrictChange struct {
	AppealNumber string // the hub's number (empty from State)
	Reference    string // the district's own number
	Status       Status
	Note         string
	At           time.Time
	// Contract §4 v1.1, callbacks only (ESD has no place for them):
	// Extend with Reason on in_progress, ForwardedTo on forwarded.
	Extend      bool
	Reason      string
	ForwardedTo string
}

// ChangePage is one answer to Poller.Changes.
type ChangePage struct {
	Changes []DistrictChange
	More    bool      // more changes follow: ask again from Next
	Next    time.Time // the last change's time, or the query's start if none
}

// ErrDistrictCredentials: the district system refused the hub's credentials,
// a configuration error that no retry mends. Adapters wrap it in a
// PermanentError so it is counted and logged loudly.
var ErrDistrictCredentials = errors.New("the district system refused the hub's credentials")

// Submission is everything a district receives about a new appeal.
type Submission struct {
	AppealNumber string
	Service      string
	Deadline     string
	RegisteredAt time.Time
	Request      Request
	Person       json.RawMessage
}

// TransientError is a failure worth retrying later, after RetryAfter if set.
type TransientError struct {
	Err        error
	RetryAfter time.Duration
}

func (e *TransientError) Error() string { return "transient: " + e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// HoldOffError is a call the hub did not make: it holds itself off for Wait
// more, because the other side asked it to wait (the registry's
// Retry-After) or a circuit breaker is open. It is no failed attempt: a
// delivery it stops spends none, its backoff does not grow, and it is due
// again when the hold-off ends.
type HoldOffError struct {
	Err  error
	Wait time.Duration
}

func (e *HoldOffError) Error() string { return "held off: " + e.Err.Error() }
func (e *HoldOffError) Unwrap() error { return e.Err }

// PermanentError is a failure that no retry can mend; the message that caused
// it goes to the poison queue with Err as the reason.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err must not be retried.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}
