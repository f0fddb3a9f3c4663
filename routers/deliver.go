package routers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// DeliveryLedger is what the hand-over of appeals and comments needs of the
// ledger.
type DeliveryLedger interface {
	// Appeal returns one appeal, read without a lock (ErrNotFound).
	Appeal(ctx context.Context, number string) (Appeal, error)
	// Comment returns one comment, read without a lock (ErrNotFound).
	Comment(ctx context.Context, id string) (Comment, error)
	// UpdateAppeal runs fn on the appeal under a lock and commits the
	// changed appeal with fn's effects; an error from fn commits nothing.
	// It counts as a change of the appeal even when fn changes nothing.
	UpdateAppeal(ctx context.Context, number string, fn func(*Appeal) (Effects, error)) error
	// UpdateComment runs fn on the comment and its appeal under their locks
	// and commits both with fn's effects; an error from fn commits nothing.
	UpdateComment(ctx context.Context, id string, fn func(*Comment, *Appeal) (Effects, error)) error
}

// handleJob hands one appeal or comment over to its district. It never
// sleeps: a transient failure records when to try again and acks; the
// sweeper queues the job again when that time comes.
func (h *Hub) handleJob(msg *message.Message) error {
	var job Job
	if err := json.Unmarshal(msg.Payload, &job); err != nil {
		return &PermanentError{Err: fmt.Errorf("malformed delivery job: %w", err)}
	}
	if job.Key == "" {
		return &PermanentError{Err: errors.New("delivery job without a key")}
	}
	ctx, cancel := h.workContext(msg)
	defer cancel()
	switch job.Kind {
	case JobAppeal:
		return h.deliverAppeal(ctx, job.Key)
	case JobComment:
		return h.deliverComment(ctx, job.Key)
	default:
		return &PermanentError{Err: fmt.Errorf("unknown delivery job kind %q", job.Kind)}
	}
}

func (h *Hub) deliverAppeal(ctx context.Context, number string) error {
	a, err := h.deliveryLedger.Appeal(ctx, number)
	if errors.Is(err, ErrNotFound) {
		return &PermanentError{Err: fmt.Errorf("delivery job for unknown appeal %s", number)}
	}
	if err != nil {
		return fmt.Errorf("load appeal: %w", err)
	}
	if a.Delivery.State != DeliveryPending {
		return nil // a repeated job: the hand-over is already settled
	}
	if a.Person == nil {
		person, err := h.lookupPerson(ctx, a.FIN)
		switch {
		case errors.Is(err, ErrPersonNotFound):
			return h.refuseUnknownPerson(ctx, a)
		case err != nil:
			return h.postpone(ctx, a.Number, a.District, err, false)
		}
		a.Person = person
		err = h.deliveryLedger.UpdateAppeal(ctx, a.Number, func(cur *Appeal) (Effects, error) {
			cur.Person = person
			return Effects{}, nil
		})
		if IsPermanent(err) {
			// The record cannot be kept (ErrDataRefused): no retry mends it,
			// and a poisoned job would leave the appeal pending for ever.
			return h.fail(ctx, a.Number, a.District, fmt.Errorf("the registry's record cannot be stored: %w", err))
		}
		if err != nil {
			return fmt.Errorf("store person: %w", err)
		}
	}
	var req Request
	if err := json.Unmarshal(a.Request, &req); err != nil {
		return &PermanentError{Err: fmt.Errorf("stored request of %s: %w", a.Number, err)}
	}
	callCtx, cancel := context.WithTimeout(ctx, h.districtTimeout(a.District))
	ref, err := h.districts[a.District].Submit(callCtx, Submission{
		AppealNumber: a.Number, Service: a.Service, Deadline: a.Deadline,
		RegisteredAt: a.RegisteredAt, Request: req, Person: a.Person,
	})
	cancel()
	if err != nil {
		if IsPermanent(err) {
			return h.fail(ctx, a.Number, a.District, err)
		}
		// A timeout leaves it open whether the district took the appeal.
		return h.postpone(ctx, a.Number, a.District, err, errors.Is(err, context.DeadlineExceeded))
	}
	now := h.now()
	var delivered, moved bool
	err = h.deliveryLedger.UpdateAppeal(ctx, a.Number, func(cur *Appeal) (Effects, error) {
		if moved = cur.District != a.District; moved {
			return Effects{}, nil // forwarded on meanwhile: this answer settles no delivery of the new authority
		}
		cur.DistrictRef = ref
		cur.Delivery = Delivery{State: DeliveryDelivered, Attempts: cur.Delivery.Attempts + 1}
		if rank[cur.stage()] >= rank[StatusDelivered] {
			return Effects{}, nil // a district callback already moved it on
		}
		delivered = true
		return h.cfg.Topics.events(h.step(cur, StatusDelivered, referenceNote(ref), now, now)), nil
	})
	if IsPermanent(err) {
		// The district holds the appeal but the ledger refuses its answer:
		// an operator must look, and the appeal must not stay pending unseen.
		return h.fail(ctx, a.Number, a.District, fmt.Errorf("the district's answer cannot be stored: %w", err))
	}
	if err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	if moved {
		h.logger.Info("appeal forwarded on while its district answered; that answer is set aside", "appeal", a.Number, "district", a.District)
		return nil
	}
	h.committed()
	h.metrics.Delivered.WithLabelValues(a.District).Inc()
	h.logger.Info("appeal delivered", "appeal", a.Number, "district", a.District, "reference", ref, "event", delivered)
	return nil
}

// refuseUnknownPerson ends an appeal whose FİN the registry does not know.
// It was registered while the registry was unreachable, so the portal has
// seen "registered": it now sees "rejected" with the reason.
func (h *Hub) refuseUnknownPerson(ctx context.Context, a Appeal) error {
	now := h.now()
	err := h.deliveryLedger.UpdateAppeal(ctx, a.Number, func(cur *Appeal) (Effects, error) {
		if cur.Delivery.State != DeliveryPending {
			return Effects{}, nil // another job for the appeal settled it first
		}
		cur.Delivery.State = DeliveryFailed
		cur.Delivery.LastError = ErrPersonNotFound.Error()
		if rank[cur.stage()] >= rank[StatusRejected] {
			return Effects{}, nil // a district's report already gave the appeal its outcome
		}
		note := Bilingual("Bu FİN ilə şəxs şəxsiyyət vəsiqələri reyestrində tapılmadı.", "No person with this FIN is in the ID-card registry.")
		return h.cfg.Topics.events(h.step(cur, StatusRejected, note, now, now)), nil
	})
	if err != nil {
		return fmt.Errorf("refuse appeal: %w", err)
	}
	h.committed()
	h.metrics.Failed.WithLabelValues(a.District, "person_not_found").Inc()
	return nil
}

// errAppealNotDelivered: a comment waits for its appeal to reach the
// district; like an open breaker, waiting spends no attempt.
var errAppealNotDelivered = errors.New("appeal not delivered yet")

// postpone records a transient failure of the delivery to district and
// when to try again, or gives the delivery up when the retry policy is
// spent; unanswered marks a Submit that went out and got no answer.
func (h *Hub) postpone(ctx context.Context, number, district string, cause error, unanswered bool) error {
	gaveUp := false
	now := h.now()
	err := h.deliveryLedger.UpdateAppeal(ctx, number, func(cur *Appeal) (Effects, error) {
		if cur.Delivery.State != DeliveryPending || cur.District != district {
			return Effects{}, nil // settled, or forwarded on: the failure is no longer the delivery's
		}
		if spendsAttempt(cause) {
			cur.Delivery.Attempts++
		}
		cur.Delivery.LastError = storable(cause.Error())
		cur.Delivery.Unanswered = cur.Delivery.Unanswered || unanswered
		if h.spent(cur.Delivery.Attempts, now.Sub(cur.RegisteredAt)) {
			gaveUp = true
			return h.giveUpAppeal(cur, fmt.Errorf("gave up after %d attempts: %w", cur.Delivery.Attempts, cause)), nil
		}
		cur.Delivery.NextAttemptAt = now.Add(h.backoff(cur.Delivery.Attempts, cause))
		return Effects{}, nil
	})
	if err != nil {
		return fmt.Errorf("postpone delivery: %w", err)
	}
	if gaveUp {
		h.failed(district, "retries_exhausted", cause)
		h.logger.Error("delivery dead-lettered: retry policy spent", "appeal", number, "district", district, "error", cause)
		return nil
	}
	h.metrics.Retries.WithLabelValues(district).Inc()
	h.logger.Warn("delivery postponed", "appeal", number, "district", district, "error", cause)
	return nil
}

// spent reports whether a delivery has used up the retry policy for
// transient failures: too many attempts, or the appeal grown too old. The
// policy by class of error: a refusal (4xx, invalid data, credentials) is
// never retried; a transient failure (5xx, 429, timeouts, busy, registry
// unavailable) counts against both bounds; a hold-off the hub imposes on
// itself (an open breaker, the registry's Retry-After: *HoldOffError)
// counts against the age bound only.
func (h *Hub) spent(attempts int, age time.Duration) bool {
	return attempts >= h.cfg.RetryMaxAttempts || age >= h.cfg.RetryMaxAge
}

// spendsAttempt tells whether a failure counts against the attempts bound:
// waiting (a hold-off, a comment's appeal not delivered yet) does not.
func spendsAttempt(err error) bool {
	var held *HoldOffError
	return !errors.As(err, &held) && !errors.Is(err, errAppealNotDelivered)
}

// giveUpAppeal flags an appeal's delivery failed and files its job as a
// dead letter, in the same commit.
func (h *Hub) giveUpAppeal(a *Appeal, cause error) Effects {
	return h.giveUp(&a.Delivery, a, JobAppeal, a.Number, cause)
}

// giveUp flags a delivery (an appeal's or a comment's, key naming it)
// failed and files its job as a dead letter, in the same commit.
func (h *Hub) giveUp(d *Delivery, a *Appeal, kind JobKind, key string, cause error) Effects {
	d.State = DeliveryFailed
	d.NextAttemptAt = time.Time{}
	d.LastError = storable(cause.Error())
	job := h.cfg.Topics.jobMessage(a.District, Job{Kind: kind, Key: key})
	dl := DeadLetter{
		Kind: DeadAppeal, Queue: job.Topic, MessageID: job.UUID, Headers: job.Metadata,
		Error: storable(cause.Error()), Attempts: d.Attempts, AppealNumber: a.Number,
		// The job's fresh UUID: a replayed delivery given up again is a new letter.
		Fingerprint: string(kind) + ":" + key + ":" + job.UUID,
	}
	dl.keepBody(job.Payload)
	if kind == JobComment {
		dl.Kind, dl.CommentID = DeadComment, key
	}
	return Effects{DeadLetters: []DeadLetter{dl}}
}

// fail flags an appeal the district refused for good and files it as a
// dead letter an operator can replay once the cause is fixed.
func (h *Hub) fail(ctx context.Context, number, district string, cause error) error {
	err := h.deliveryLedger.UpdateAppeal(ctx, number, func(cur *Appeal) (Effects, error) {
		if cur.Delivery.State != DeliveryPending || cur.District != district {
			return Effects{}, nil // a polled change settled it meanwhile, or it was forwarded on
		}
		cur.Delivery.Attempts++
		return h.giveUpAppeal(cur, cause), nil
	})
	if err != nil {
		return fmt.Errorf("flag failed delivery: %w", err)
	}
	h.failed(district, "refused", cause)
	h.logger.Error("district refused appeal for good; dead-lettered", "appeal", number, "district", district, "error", cause)
	return nil
}

// failed counts a permanent failure; refused credentials are a configuration
// error the operator must fix, so they are counted on their own as well.
func (h *Hub) failed(district, reason string, cause error) {
	h.metrics.Failed.WithLabelValues(district, reason).Inc()
	if errors.Is(cause, ErrDistrictCredentials) {
		h.metrics.Credentials.WithLabelValues(district).Inc()
		h.logger.Error("CONFIGURATION: the district's system refuses the hub's credentials; fix them in the config", "district", district, "error", cause)
	}
}

func (h *Hub) deliverComment(ctx context.Context, id string) error {
	// Plain reads, no locks: settleComment decides under the locks, and a
	// read commits nothing, so the appeal's last change (which
	// reconciliation goes by) stays as it was.
	target, err := h.deliveryLedger.Comment(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return &PermanentError{Err: fmt.Errorf("delivery job for unknown comment %s", id)}
	}
	if err != nil {
		return fmt.Errorf("load comment: %w", err)
	}
	if target.Delivery.State != DeliveryPending {
		return nil
	}
	appeal, err := h.deliveryLedger.Appeal(ctx, target.AppealNumber)
	if err != nil {
		return fmt.Errorf("load the appeal of comment %s: %w", id, err)
	}
	if appeal.Delivery.State == DeliveryFailed {
		return h.settleComment(ctx, id, appeal.District, &PermanentError{Err: errors.New("the appeal itself could not be delivered")})
	}
	if appeal.Delivery.State != DeliveryDelivered {
		// The district must have the appeal before a remark on it.
		return h.settleComment(ctx, id, appeal.District, &TransientError{Err: errAppealNotDelivered})
	}
	callCtx, cancel := context.WithTimeout(ctx, h.districtTimeout(appeal.District))
	err = h.districts[appeal.District].Comment(callCtx, CommentSubmission{
		ID: target.ID, AppealNumber: appeal.Number, Reference: appeal.DistrictRef, Text: target.Text, At: target.SubmittedAt,
	})
	cancel()
	return h.settleComment(ctx, id, appeal.District, err)
}

// settleComment records the outcome of a comment's hand-over: commented
// (one event), postponed, or given up (a dead letter).
func (h *Hub) settleComment(ctx context.Context, id, district string, outcome error) error {
	now := h.now()
	gaveUp := false
	err := h.deliveryLedger.UpdateComment(ctx, id, func(c *Comment, a *Appeal) (Effects, error) {
		if c.Delivery.State != DeliveryPending {
			return Effects{}, nil
		}
		if spendsAttempt(outcome) {
			c.Delivery.Attempts++
		}
		if outcome == nil {
			c.Delivery = Delivery{State: DeliveryDelivered, Attempts: c.Delivery.Attempts}
			return h.cfg.Topics.events(advance(a, c.ID, StatusCommented, "", now)), nil
		}
		c.Delivery.LastError = storable(outcome.Error())
		if IsPermanent(outcome) || h.spent(c.Delivery.Attempts, now.Sub(c.SubmittedAt)) {
			gaveUp = true
			return h.giveUp(&c.Delivery, a, JobComment, c.ID, outcome), nil
		}
		c.Delivery.NextAttemptAt = now.Add(h.backoff(c.Delivery.Attempts, outcome))
		return Effects{}, nil
	})
	if err != nil {
		return fmt.Errorf("record comment delivery: %w", err)
	}
	switch {
	case outcome == nil:
		h.committed()
		h.logger.Info("comment delivered", "request_id", id, "district", district)
	case gaveUp:
		h.failed(district, "comment_refused", outcome)
		h.logger.Error("comment dead-lettered", "request_id", id, "district", district, "error", outcome)
	default:
		h.metrics.Retries.WithLabelValues(district).Inc()
	}
	return nil
}
