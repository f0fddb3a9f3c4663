package routers

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ThreeDotsLabs/watermill/message"
)

// RegistrationLedger is what intake needs of the ledger.
type RegistrationLedger interface {
	// Register records a valid request as a new appeal: it claims the request
	// ID (ErrDuplicate if taken), books the reception place if any
	// (ErrReceptionFull), allocates the next number of the district and year
	// without gaps, and commits the appeal with effects(appeal).
	Register(ctx context.Context, draft Appeal, booking *Booking, number func(seq int) string, effects func(Appeal) Effects) (Appeal, error)
	// RecordInvalid claims the request ID (ErrDuplicate if taken), keeps
	// what the figures count of the refusal and commits effects.
	RecordInvalid(ctx context.Context, r Refusal, effects Effects) error
	// AddComment claims the comment's ID (ErrDuplicate if taken) and stores
	// it with effects; ErrNotFound, claiming nothing, if its appeal is unknown.
	AddComment(ctx context.Context, c Comment, effects Effects) error
	// Appeal returns one appeal, read without a lock (ErrNotFound).
	Appeal(ctx context.Context, number string) (Appeal, error)
}

// Refusal is an invalid request as the ledger keeps it: its id, claimed
// like any request's, and what the monitors' figures count of it.
type Refusal struct {
	RequestID string
	Comment   bool   // a remark on an appeal, which the figures of appeals leave out
	District  string // the district it named, if the hub serves it; "" otherwise
	Field     string // the first field refused, at most MaxRefusedField bytes
}

// MaxRefusedField bounds Refusal.Field: the name of an unknown key is the
// sender's, of any length.
const MaxRefusedField = 64

// refusedField is the first field of errs as a Refusal keeps it: field
// names hold no control characters (problems.add escapes them), so
// cutting at a rune boundary is all.
func refusedField(errs []FieldError) string {
	if len(errs) == 0 {
		return ""
	}
	f := errs[0].Field
	for len(f) > MaxRefusedField {
		_, size := utf8.DecodeLastRuneInString(f)
		f = f[:len(f)-size]
	}
	return f
}

// SignatureHeader carries the portal's HMAC-SHA256 of the body.
const SignatureHeader = "x-signature"

// Sign returns the x-signature value of body under key (the portal's side,
// used by the simulator and tests).
func Sign(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// SigningKey is one of the portal's current x-signature keys. ID names it
// in korpu_portal_signatures_total, so the operator sees when an old key
// signs nothing any more and can be removed.
type SigningKey struct {
	ID  string
	Key []byte
}

// CheckSigningKeys says whether keys can be the portal's: at least one, each
// with a key and an id of its own.
func CheckSigningKeys(keys []SigningKey) error {
	if len(keys) == 0 {
		return errors.New("the portal has no signing key")
	}
	ids := make(map[string]bool, len(keys))
	for _, k := range keys {
		if k.ID == "" || len(k.Key) == 0 || ids[k.ID] {
			return fmt.Errorf("the portal's signing key %q: an id, unique, and a key are required", k.ID)
		}
		ids[k.ID] = true
	}
	return nil
}

// SetSigningKeys makes keys the portal's current ones, for every message
// verified from now on; a message being verified keeps the keys it began
// with. Nothing is dropped: the intake never stops.
func (h *Hub) SetSigningKeys(keys []SigningKey) error {
	if err := CheckSigningKeys(keys); err != nil {
		return err
	}
	h.storeSigningKeys(keys)
	return nil
}

func (h *Hub) storeSigningKeys(keys []SigningKey) {
	keys = slices.Clone(keys)
	for _, k := range keys {
		h.metrics.Signatures.WithLabelValues(k.ID) // present at 0, so a key nothing uses shows
	}
	h.signingKeys.Store(&keys)
}

// verifySignature checks header against every key and returns the id of
// the one that signed body.
func verifySignature(keys []SigningKey, body []byte, header string) (string, error) {
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if header == "" {
		return "", errors.New("x-signature header missing")
	}
	got, err := hex.DecodeString(hexSum)
	if !ok || err != nil || len(got) != sha256.Size {
		return "", errors.New("x-signature is not sha256=<hex>")
	}
	for _, k := range keys {
		mac := hmac.New(sha256.New, k.Key)
		mac.Write(body)
		if hmac.Equal(got, mac.Sum(nil)) {
			return k.ID, nil
		}
	}
	return "", errors.New("x-signature does not match the body under any current key")
}

// handleRequest is the intake: every message on the portal's requests queue
// ends as an appeal, a comment, exactly one invalid event, or a poison
// message with the reason. Nothing is dropped.
func (h *Hub) handleRequest(msg *message.Message) error {
	ctx, cancel := h.workContext(msg)
	defer cancel()
	body := msg.Payload
	// The size first: anyone can publish, and a body of any size must not
	// cost an HMAC over all of it before it is refused.
	if err := checkSize(body); err != nil {
		return err
	}
	key, err := verifySignature(*h.signingKeys.Load(), body, msg.Metadata.Get(SignatureHeader))
	if err != nil {
		return &PermanentError{Err: err}
	}
	h.metrics.Signatures.WithLabelValues(key).Inc()
	now := h.now()
	req, errs, err := h.validator.Decode(body, now)
	if err != nil {
		return err
	}
	switch {
	case len(errs) > 0:
		return h.reject(ctx, req, errs, now)
	case req.Kind == "comment":
		return h.addComment(ctx, req, now)
	default:
		_, err := h.register(ctx, req, body, now)
		return err
	}
}

// Decode reads a portal message as the intake does. A message that must go
// to the poison queue (too big, not UTF-8, not a JSON object, no usable id)
// is a *PermanentError; otherwise it returns the request and every problem
// of its fields, none if it is valid.
func (v *Validator) Decode(body []byte, now time.Time) (Request, []FieldError, error) {
	if err := checkSize(body); err != nil {
		return Request{}, nil, err
	}
	if !utf8.Valid(body) {
		return Request{}, nil, &PermanentError{Err: errors.New("body is not UTF-8")}
	}
	var head struct {
		ID any `json:"id"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return Request{}, nil, &PermanentError{Err: fmt.Errorf("body is not a JSON object: %w", err)}
	}
	if !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		return Request{}, nil, &PermanentError{Err: errors.New("body is not a JSON object")}
	}
	id, _ := head.ID.(string)
	if !usableID(id) {
		return Request{}, nil, &PermanentError{Err: errors.New("body has no usable id")}
	}
	var req Request
	var errs []FieldError
	decodeErr := json.Unmarshal(body, &req)
	if fe, ok := decodeError(decodeErr); ok {
		errs = append(errs, fe)
	} else if decodeErr != nil {
		return Request{}, nil, &PermanentError{Err: fmt.Errorf("decode request: %w", decodeErr)}
	}
	req.ID = id
	switch req.Kind {
	case "request":
		errs = append(errs, v.ValidateRequest(body, &req, now)...)
	case "comment":
		errs = append(errs, v.ValidateComment(body, &req, now)...)
	case "":
		errs = append(errs, FieldError{Field: "kind", Message: Bilingual("Sahə mütləqdir.", "The field is required.")})
	default:
		errs = append(errs, FieldError{Field: "kind", Message: Bilingual("Növ request və ya comment olmalıdır.", "The kind must be request or comment.")})
	}
	return req, errs, nil
}

// checkSize refuses a body over the contract's limit, for good.
func checkSize(body []byte) error {
	if len(body) > MaxBodyBytes {
		return &PermanentError{Err: fmt.Errorf("body of %d bytes exceeds %d", len(body), MaxBodyBytes)}
	}
	return nil
}

// usableID: an id the hub can answer under, even if it is not a UUID (that
// is reported as an invalid field).
func usableID(id string) bool {
	if id == "" || len(id) > 128 || strings.TrimSpace(id) != id {
		return false
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// reject answers a bad request with its one invalid event.
func (h *Hub) reject(ctx context.Context, req Request, errs []FieldError, now time.Time) error {
	district, service := req.District, req.Service
	if req.Kind == "comment" {
		if a, err := h.intakeLedger.Appeal(ctx, req.AppealNo); err == nil {
			district, service = a.District, a.Service
		}
	}
	ev := invalidEvent(req.ID, district, service, errs, now)
	refusal := Refusal{RequestID: req.ID, Comment: req.Kind == "comment", District: h.knownDistrict(district), Field: refusedField(errs)}
	err := h.intakeLedger.RecordInvalid(ctx, refusal, h.cfg.Topics.events(ev))
	if errors.Is(err, ErrDuplicate) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("record invalid request: %w", err)
	}
	h.committed()
	h.metrics.Invalid.WithLabelValues(h.knownDistrict(district)).Inc()
	h.logger.Info("request invalid", "request_id", req.ID, "district", district, "errors", len(errs), "first_field", errs[0].Field)
	return nil
}

// knownDistrict keeps metric labels bounded to configured districts.
func (h *Hub) knownDistrict(code string) string {
	if _, ok := h.validator.Directory.Districts[code]; ok {
		return code
	}
	return ""
}

// register turns a valid request into an appeal, the day it arrives.
func (h *Hub) register(ctx context.Context, req Request, body []byte, now time.Time) (string, error) {
	person, err := h.lookupPerson(ctx, req.Citizen.FIN)
	if errors.Is(err, ErrPersonNotFound) {
		return "", h.reject(ctx, req, []FieldError{{Field: "citizen.fin", Message: Bilingual(
			"Bu FİN ilə şəxs şəxsiyyət vəsiqələri reyestrində tapılmadı.", "No person with this FIN is in the ID-card registry.")}}, now)
	}
	if err != nil {
		// The registry's trouble must not delay registration: the appeal is
		// enriched before delivery instead.
		h.logger.Warn("registry unavailable at intake; enrichment deferred", "request_id", req.ID, "error", err)
	}
	submitted, err := time.Parse(time.RFC3339, req.SubmittedAt)
	if err != nil {
		return "", &PermanentError{Err: fmt.Errorf("submitted_at passed validation yet does not parse: %w", err)}
	}
	draft := Appeal{
		RequestID:    req.ID,
		District:     req.District,
		Service:      req.Service,
		FIN:          req.Citizen.FIN,
		Type:         req.Appeal.Type,
		SubmittedAt:  submitted,
		Status:       StatusRegistered,
		Sequence:     1,
		RegisteredAt: now,
		Deadline:     h.deadline(now),
		Request:      body,
		Person:       person,
		Delivery:     Delivery{State: DeliveryPending},
	}
	number := func(seq int) string { return FormatAppealNumber(req.District, now.In(Baku).Year(), seq) }
	effects := func(a Appeal) Effects {
		ev := StatusEvent{
			EventID: newEventID(), RequestID: a.RequestID, AppealNumber: a.Number, District: a.District,
			Service: a.Service, Status: StatusRegistered, Sequence: 1, At: FormatTime(now), Deadline: a.Deadline,
		}
		e := h.cfg.Topics.events(ev)
		e.Messages = append(e.Messages, h.cfg.Topics.jobMessage(a.District, Job{Kind: JobAppeal, Key: a.Number}))
		return e
	}
	booking := h.validator.BookingFor(&req)
	a, err := h.intakeLedger.Register(ctx, draft, booking, number, effects)
	if errors.Is(err, ErrDataRefused) && draft.Person != nil {
		// The registry's record, not the citizen's request, may be what the
		// store refuses: the request is registered without it, and the
		// hand-over, which needs the record, fails visibly instead.
		h.logger.Warn("registry record refused by the ledger; registering without it", "request_id", req.ID, "error", err)
		draft.Person = nil
		a, err = h.intakeLedger.Register(ctx, draft, booking, number, effects)
	}
	switch {
	case errors.Is(err, ErrDuplicate):
		return "", nil
	case errors.Is(err, ErrReceptionFull):
		return "", h.reject(ctx, req, []FieldError{{Field: "reception.date", Message: Bilingual(
			"Bu qəbul günündə boş yer qalmayıb.", "The reception day is fully booked.")}}, now)
	case err != nil:
		return "", fmt.Errorf("register: %w", err)
	}
	h.committed()
	h.metrics.Received.WithLabelValues(a.District).Inc()
	h.logger.Info("appeal registered", "appeal", a.Number, "request_id", a.RequestID, "district", a.District, "service", a.Service, "deadline", a.Deadline, "enriched", a.Person != nil)
	return a.Number, nil
}

func (h *Hub) lookupPerson(ctx context.Context, fin string) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.RegistryTimeout)
	defer cancel()
	return h.registry.Person(ctx, fin)
}

// deadline is the legal due date of the answer: 15 working days after the
// day of registration (see dueDate).
func (h *Hub) deadline(registered time.Time) string {
	return h.dueDate(registered, AnswerWorkingDays)
}

func addWeekdays(from time.Time, n int) time.Time {
	day := from.In(Baku)
	for n > 0 {
		day = day.AddDate(0, 0, 1)
		if wd := day.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return day
}

// addComment records a citizen's remark for delivery to the district.
func (h *Hub) addComment(ctx context.Context, req Request, now time.Time) error {
	a, err := h.intakeLedger.Appeal(ctx, req.AppealNo)
	if errors.Is(err, ErrNotFound) {
		return h.reject(ctx, req, []FieldError{{Field: "appeal_number", Message: Bilingual("Belə müraciət yoxdur.", "There is no such appeal.")}}, now)
	}
	if err != nil {
		return fmt.Errorf("find appeal: %w", err)
	}
	if a.FIN != req.Citizen.FIN {
		return h.reject(ctx, req, []FieldError{{Field: "citizen.fin", Message: Bilingual(
			"Müraciətə yalnız onu göndərən vətəndaş şərh yaza bilər.", "Only the citizen who filed the appeal may comment on it.")}}, now)
	}
	submitted, _ := time.Parse(time.RFC3339, req.SubmittedAt)
	c := Comment{ID: req.ID, AppealNumber: a.Number, Text: req.Text, SubmittedAt: submitted, Delivery: Delivery{State: DeliveryPending}}
	effects := Effects{Messages: []OutboxMessage{h.cfg.Topics.jobMessage(a.District, Job{Kind: JobComment, Key: c.ID})}}
	err = h.intakeLedger.AddComment(ctx, c, effects)
	if errors.Is(err, ErrDuplicate) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("add comment: %w", err)
	}
	h.committed()
	h.logger.Info("comment accepted", "appeal", a.Number, "request_id", c.ID)
	return nil
}
