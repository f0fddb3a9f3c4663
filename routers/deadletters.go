package routers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
)

// DeadLetterFiler is what filing poisoned messages needs of the ledger.
type DeadLetterFiler interface {
	// AddDeadLetter stores a dead letter; one whose Fingerprint is stored
	// already is not stored again and gives ErrDuplicate.
	AddDeadLetter(ctx context.Context, dl DeadLetter) error
}

// DeadLetterBook is what the dead-letter desk needs of the ledger.
type DeadLetterBook interface {
	// DeadLetters lists dead letters in a state (all states if empty) with
	// an ID above afterID, oldest first, at most limit.
	DeadLetters(ctx context.Context, state DeadLetterState, afterID int64, limit int) ([]DeadLetter, error)
	// DeadLetter returns one dead letter (ErrNotFound).
	DeadLetter(ctx context.Context, id int64) (DeadLetter, error)
	// ResolveDeadLetter moves an open dead letter to state and commits
	// effects with it, and act in the operators' record (for letter id,
	// outcome done, at the commit's time), so no letter is resolved
	// unrecorded; it reports false, committing nothing, if the letter is
	// not open (ErrNotFound if there is none). With a non-zero requeueAt,
	// the same commit makes the letter's delivery (an appeal's or a
	// comment's) pending again, with no attempts and due at requeueAt, if
	// it is still failed.
	ResolveDeadLetter(ctx context.Context, id int64, state DeadLetterState, effects Effects, requeueAt time.Time, act OperatorAction) (bool, error)
	OperatorLog
}

// ReplayedFromHeader marks a message replayed from a dead letter with that
// letter's ID.
const ReplayedFromHeader = "x-korpu-replayed-from"

// Bounds of what a poisoned message may store: anyone who can publish can
// poison, so a letter costs at most a few tens of KiB however big the
// message was.
const (
	// MaxDeadLetterBody is how much of a poisoned body is kept.
	MaxDeadLetterBody = 64 << 10
	maxLetterText     = 4 << 10 // of the reason, queue, message id and a delivery's last error, each
	maxLetterHeaders  = 8 << 10 // of every header's name and value together
)

// Errors of the dead-letter desk.
var (
	// ErrNotOpen: the dead letter was already replayed or dropped (409).
	ErrNotOpen = errors.New("the dead letter is no longer open")
	// ErrTruncated: the dead letter keeps only the start of its body, so
	// there is nothing whole to replay (409); it can still be dropped.
	ErrTruncated = errors.New("the dead letter keeps only the start of its body and cannot be replayed")
)

// Truncated reports whether dl keeps only the start of its body.
func (dl DeadLetter) Truncated() bool { return dl.Size > int64(len(dl.Body)) }

// keepBody sets the letter's body, cut to MaxDeadLetterBody, and the whole
// body's size and hash.
func (dl *DeadLetter) keepBody(body []byte) {
	sum := sha256.Sum256(body)
	dl.Size, dl.SHA256 = int64(len(body)), hex.EncodeToString(sum[:])
	dl.Body = body[:min(len(body), MaxDeadLetterBody)]
}

// keepPoisoned files every message of the poison queue as a dead letter,
// with the reason the poison middleware gave (or, for what the broker
// dead-lettered, the broker's) and the original headers, so
// operators can list, replay or drop it. The letter is bounded (the body's
// first MaxDeadLetterBody bytes, its size and hash; headers and texts
// capped) and made storable (no NUL, valid UTF-8), so neither a big nor a
// crafted message can grow the database or make the filing fail.
//
// Its fingerprint is the body's hash within its queue and replay round:
// the message id and reason are left out, so the same bytes published again
// under new ids, or redelivered, keep one letter; a replay that fails again
// is a new letter.
func (h *Hub) keepPoisoned(msg *message.Message) error {
	headers := maps.Clone(map[string]string(msg.Metadata))
	reason := headers[middleware.ReasonForPoisonedKey]
	queue := headers[middleware.PoisonedTopicKey]
	if reason == "" && headers[firstDeathReasonHeader] != "" {
		queue = headers[firstDeathQueueHeader]
		reason = brokerReason(queue, headers[firstDeathReasonHeader])
	}
	// The broker's own headers go: a replay is a new message, which the
	// broker counts and dead-letters afresh.
	for _, k := range append([]string{middleware.ReasonForPoisonedKey, middleware.PoisonedTopicKey, middleware.PoisonedHandlerKey, middleware.PoisonedSubscriberKey,
		DeliveryCountHeader}, deathHeaders...) {
		delete(headers, k)
	}
	if queue == "" {
		queue = h.cfg.Topics.Requests
	}
	dl := DeadLetter{
		Kind: DeadPoison, Queue: storable(queue), MessageID: storable(msg.UUID),
		Headers: storableHeaders(headers), Error: storable(reason), Attempts: 1,
	}
	dl.keepBody(msg.Payload)
	fp := sha256.New()
	for _, part := range []string{queue, headers[ReplayedFromHeader], dl.SHA256} {
		fp.Write([]byte(part))
		fp.Write([]byte{0})
	}
	dl.Fingerprint = "poison:" + hex.EncodeToString(fp.Sum(nil))

	err := h.deadLetterLedger.AddDeadLetter(msg.Context(), dl)
	if errors.Is(err, ErrDuplicate) {
		h.metrics.PoisonLetters.WithLabelValues("repeat").Inc()
		h.metrics.PoisonedBytes.WithLabelValues("discarded").Add(float64(dl.Size))
		return nil
	}
	if err != nil {
		return fmt.Errorf("file poisoned message: %w", err)
	}
	h.metrics.PoisonLetters.WithLabelValues("filed").Inc()
	h.metrics.PoisonedBytes.WithLabelValues("stored").Add(float64(len(dl.Body)))
	h.metrics.PoisonedBytes.WithLabelValues("discarded").Add(float64(dl.Size - int64(len(dl.Body))))
	if dl.Truncated() {
		h.logger.Warn("poisoned message stored truncated", "message_id", dl.MessageID, "bytes", dl.Size, "sha256", dl.SHA256)
	}
	return nil
}

// Headers RabbitMQ adds to a message it dead-letters.
const (
	firstDeathReasonHeader = "x-first-death-reason"
	firstDeathQueueHeader  = "x-first-death-queue"
)

var deathHeaders = []string{"x-death", firstDeathReasonHeader, firstDeathQueueHeader, "x-first-death-exchange",
	"x-last-death-reason", "x-last-death-queue", "x-last-death-exchange"}

// brokerReason says why the broker dead-lettered a message from queue to
// the poison queue, which it does with no reason of the hub's.
func brokerReason(queue, why string) string {
	if why == "delivery_limit" {
		return fmt.Sprintf("dead-lettered by the broker from %s: delivered more times than its delivery limit "+
			"(x-delivery-limit) with no failure the hub could record (consumers that died or lost their connection "+
			"while holding it, or that outlived the broker's consumer_timeout)", queue)
	}
	return fmt.Sprintf("dead-lettered by the broker from %s: %s", queue, why)
}

// storable makes s fit a text column: valid UTF-8, no NUL (which
// PostgreSQL's text refuses), at most maxLetterText bytes. It keeps
// dead letters and a delivery's last error, which quote what outsiders sent.
func storable(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	if len(s) <= maxLetterText {
		return s
	}
	cut := maxLetterText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// storableHeaders keeps the headers, in name order, while they fit
// maxLetterHeaders, and says how many it left out.
func storableHeaders(headers map[string]string) map[string]string {
	out := make(map[string]string, len(headers))
	budget, dropped := maxLetterHeaders, 0
	for _, k := range slices.Sorted(maps.Keys(headers)) {
		name, value := storable(k), storable(headers[k])
		if len(name)+len(value) > budget {
			dropped++
			continue
		}
		budget -= len(name) + len(value)
		out[name] = value
	}
	if dropped > 0 {
		out[droppedHeadersHeader] = strconv.Itoa(dropped)
	}
	return out
}

// droppedHeadersHeader counts the headers a dead letter had no room for.
const droppedHeadersHeader = "x-korpu-headers-dropped"

// DeadLetterDesk is what operators do with dead letters, from the CLI
// (korpu dlq), the monitors' HTTP API or their dashboard, and the record
// of who did it. It needs only the ledger: a replay commits its message to
// the outbox, or its delivery as due, and a running hub's relay or sweeper
// takes it from there.
type DeadLetterDesk struct {
	ledger DeadLetterBook
	now    func() time.Time
}

// NewDeadLetterDesk returns the desk on ledger, with the hub's clock.
func NewDeadLetterDesk(ledger DeadLetterBook, now func() time.Time) *DeadLetterDesk {
	return &DeadLetterDesk{ledger: ledger, now: now}
}

// List returns dead letters in state ("" for all) after afterID, oldest first.
func (d *DeadLetterDesk) List(ctx context.Context, state DeadLetterState, afterID int64, limit int) ([]DeadLetter, error) {
	return d.ledger.DeadLetters(ctx, state, afterID, limit)
}

// Show returns one dead letter.
func (d *DeadLetterDesk) Show(ctx context.Context, id int64) (DeadLetter, error) {
	return d.ledger.DeadLetter(ctx, id)
}

// Actions returns the operators' recorded actions with an ID below
// beforeID (0: from the latest), newest first.
func (d *DeadLetterDesk) Actions(ctx context.Context, beforeID int64, limit int) ([]OperatorAction, error) {
	return d.ledger.OperatorActions(ctx, beforeID, limit)
}

// Replay sends a dead letter's work round again: a poisoned message goes
// back to its queue with its original headers; a delivery the hub gave up on
// becomes pending again with a fresh budget of attempts (the age bound still
// counts from the appeal's arrival: an operator replaying an old appeal
// watches it). Replaying twice is
// harmless: the second finds the letter resolved (ErrNotOpen), and the
// intake's inbox and the delivery state keep any work from being done twice,
// so the appeal's sequence stays intact. A letter that keeps only the start
// of its body is not replayed (ErrTruncated): the portal must send it again.
// The replay is recorded with who did it in its own commit; a refusal is
// recorded too.
func (d *DeadLetterDesk) Replay(ctx context.Context, id int64, by Operator) error {
	act, dl, err := d.begin(ctx, ActionReplay, id, by)
	if err != nil {
		return d.refused(ctx, act, err)
	}
	if dl.Truncated() {
		return d.refused(ctx, act, fmt.Errorf("%w: %d keeps %d of %d bytes (sha256 %s)", ErrTruncated, id, len(dl.Body), dl.Size, dl.SHA256))
	}
	var (
		effects   Effects
		requeueAt time.Time
	)
	switch dl.Kind {
	case DeadAppeal, DeadComment:
		// The delivery becomes due now, in the commit that closes the
		// letter; the sweeper queues it. A Drop racing this one finds the
		// letter closed.
		requeueAt = d.now()
	default:
		// The mark makes a message that fails again a new dead letter
		// rather than a repeat of this one.
		headers := maps.Clone(dl.Headers)
		if headers == nil {
			headers = map[string]string{}
		}
		headers[ReplayedFromHeader] = strconv.FormatInt(dl.ID, 10)
		effects.Messages = []OutboxMessage{{Topic: dl.Queue, UUID: dl.MessageID, Payload: dl.Body, Metadata: headers}}
	}
	return d.resolve(ctx, act, DeadLetterReplayed, effects, requeueAt)
}

// Drop closes a dead letter without replaying it; it stays for the record,
// with who dropped it.
func (d *DeadLetterDesk) Drop(ctx context.Context, id int64, by Operator) error {
	act, _, err := d.begin(ctx, ActionDrop, id, by)
	if err != nil {
		return d.refused(ctx, act, err)
	}
	return d.resolve(ctx, act, DeadLetterDropped, Effects{}, time.Time{})
}

// begin checks who acts and reads the open letter the action is on.
func (d *DeadLetterDesk) begin(ctx context.Context, kind ActionKind, id int64, by Operator) (OperatorAction, DeadLetter, error) {
	act := OperatorAction{Operator: by, Action: kind, DeadLetterID: id}
	if err := by.Validate(); err != nil {
		return act, DeadLetter{}, err
	}
	dl, err := d.ledger.DeadLetter(ctx, id)
	if err != nil {
		return act, dl, err
	}
	act.AppealNumber = dl.AppealNumber
	if dl.State != DeadLetterOpen {
		return act, dl, fmt.Errorf("%w: %d is %s", ErrNotOpen, id, dl.State)
	}
	return act, dl, nil
}

// resolve closes the letter and records act in the same commit.
func (d *DeadLetterDesk) resolve(ctx context.Context, act OperatorAction, state DeadLetterState, effects Effects, requeueAt time.Time) error {
	ok, err := d.ledger.ResolveDeadLetter(ctx, act.DeadLetterID, state, effects, requeueAt, act)
	if err != nil {
		return fmt.Errorf("%s dead letter %d: %w", act.Action, act.DeadLetterID, err)
	}
	if !ok {
		// Another operator's action closed it in between.
		return d.refused(ctx, act, fmt.Errorf("%w: %d", ErrNotOpen, act.DeadLetterID))
	}
	return nil
}

// refused records a refusal the operator can act on and returns err with
// whatever recording it failed with; other errors changed nothing and are
// returned as they are.
func (d *DeadLetterDesk) refused(ctx context.Context, act OperatorAction, err error) error {
	outcome, ok := outcomeOf(err)
	if !ok {
		return err
	}
	act.Outcome = outcome
	if rerr := d.ledger.RecordOperatorAction(ctx, act); rerr != nil {
		return errors.Join(err, fmt.Errorf("record the refused %s: %w", act.Action, rerr))
	}
	return err
}
