package routers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
)

// DeadLetterFiler is what filing poisoned messages needs of the ledger.
type DeadLetterFiler interface {
	// AddDeadLetter stores a dead letter; one with a stored Fingerprint is
	// ignored.
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
	// effects with it; it reports false, committing nothing, if the letter
	// is not open (ErrNotFound if there is none). With a non-zero requeueAt,
	// the same commit makes the letter's delivery (an appeal's or a
	// comment's) pending again, with no attempts and due at requeueAt, if it
	// is still failed.
	ResolveDeadLetter(ctx context.Context, id int64, state DeadLetterState, effects Effects, requeueAt time.Time) (bool, error)
}

// ReplayedFromHeader marks a message replayed from a dead letter with that
// letter's ID.
const ReplayedFromHeader = "x-korpu-replayed-from"

// Errors of the dead-letter desk.
var (
	// ErrNotOpen: the dead letter was already replayed or dropped (409).
	ErrNotOpen = errors.New("the dead letter is no longer open")
)

// keepPoisoned files every message of the poison queue as a dead letter,
// with the reason the poison middleware gave and the original headers, so
// operators can list, replay or drop it. A redelivered poison message has
// the same fingerprint and is filed once.
func (h *Hub) keepPoisoned(msg *message.Message) error {
	headers := maps.Clone(map[string]string(msg.Metadata))
	reason := headers[middleware.ReasonForPoisonedKey]
	queue := headers[middleware.PoisonedTopicKey]
	for _, k := range []string{middleware.ReasonForPoisonedKey, middleware.PoisonedTopicKey, middleware.PoisonedHandlerKey, middleware.PoisonedSubscriberKey} {
		delete(headers, k)
	}
	if queue == "" {
		queue = h.cfg.Topics.Requests
	}
	sum := sha256.New()
	for _, part := range []string{queue, msg.UUID, reason, headers[ReplayedFromHeader]} {
		sum.Write([]byte(part))
		sum.Write([]byte{0})
	}
	sum.Write(msg.Payload)
	dl := DeadLetter{
		Kind: DeadPoison, Queue: queue, MessageID: msg.UUID, Body: msg.Payload, Headers: headers,
		Error: reason, Attempts: 1, Fingerprint: "poison:" + hex.EncodeToString(sum.Sum(nil)),
	}
	if err := h.ledger.AddDeadLetter(msg.Context(), dl); err != nil {
		return fmt.Errorf("file poisoned message: %w", err)
	}
	return nil
}

// DeadLetterDesk is what operators do with dead letters, from the CLI
// (korpu dlq) or the monitors' HTTP API. It needs only the ledger: a replay
// commits its message to the outbox, or its delivery as due, and a running
// hub's relay or sweeper takes it from there.
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

// Replay sends a dead letter's work round again: a poisoned message goes
// back to its queue with its original headers; a delivery the hub gave up on
// becomes pending again with a fresh budget of attempts (the age bound still
// counts from the appeal's arrival: an operator replaying an old appeal
// watches it). Replaying twice is
// harmless: the second finds the letter resolved (ErrNotOpen), and the
// intake's inbox and the delivery state keep any work from being done twice,
// so the appeal's sequence stays intact.
func (d *DeadLetterDesk) Replay(ctx context.Context, id int64) error {
	dl, err := d.ledger.DeadLetter(ctx, id)
	if err != nil {
		return err
	}
	if dl.State != DeadLetterOpen {
		return fmt.Errorf("%w: %d is %s", ErrNotOpen, id, dl.State)
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
	ok, err := d.ledger.ResolveDeadLetter(ctx, id, DeadLetterReplayed, effects, requeueAt)
	if err != nil {
		return fmt.Errorf("replay dead letter %d: %w", id, err)
	}
	if !ok {
		return fmt.Errorf("%w: %d", ErrNotOpen, id)
	}
	return nil
}

// Drop closes a dead letter without replaying it; it stays for the record.
func (d *DeadLetterDesk) Drop(ctx context.Context, id int64) error {
	ok, err := d.ledger.ResolveDeadLetter(ctx, id, DeadLetterDropped, Effects{}, time.Time{})
	if err != nil {
		return fmt.Errorf("drop dead letter %d: %w", id, err)
	}
	if !ok {
		return fmt.Errorf("%w: %d", ErrNotOpen, id)
	}
	return nil
}
