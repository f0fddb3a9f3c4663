package memory

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/korpu-az/korpu/routers"
)

// refusal collects the values PostgreSQL's column types would refuse, so
// that this ledger refuses them too, with the same error (a *PermanentError
// wrapping routers.ErrDataRefused): the demo and the flows' tests meet what
// production meets. Only the first problem is kept.
type refusal struct{ problem string }

func (r *refusal) add(column, why string) {
	if r.problem == "" {
		r.problem = column + ": " + why
	}
}

func (r *refusal) err() error {
	if r.problem == "" {
		return nil
	}
	return &routers.PermanentError{Err: fmt.Errorf("%w: %s", routers.ErrDataRefused, r.problem)}
}

// text: PostgreSQL's text holds valid UTF-8 without NUL.
func (r *refusal) text(column string, values ...string) {
	for _, s := range values {
		if strings.IndexByte(s, 0) >= 0 {
			r.add(column, "text cannot hold NUL")
		} else if !utf8.ValidString(s) {
			r.add(column, "text is not valid UTF-8")
		}
	}
}

// json: jsonb refuses what is not JSON in UTF-8, the escape \u0000 (its
// strings are text) and escapes of unpaired UTF-16 surrogates. Go's decoder
// takes the last two, so they are looked for in the escapes themselves.
func (r *refusal) json(column string, doc []byte) {
	if !utf8.Valid(doc) || !json.Valid(doc) {
		r.add(column, "not JSON in UTF-8")
		return
	}
	// In a valid document a backslash stands only in a string, and the
	// character it escapes is skipped with it.
	for i := 0; i < len(doc); i++ {
		if doc[i] != '\\' {
			continue
		}
		i++ // a valid document has the escaped character, and four hex digits after u
		if doc[i] != 'u' {
			continue
		}
		code := hex4(doc[i+1:])
		i += 4
		switch {
		case code == 0:
			r.add(column, `\u0000 cannot be converted to text`)
			return
		case code >= 0xDC00 && code < 0xE000:
			r.add(column, "a low surrogate without a high one")
			return
		case code >= 0xD800 && code < 0xDC00:
			if i+6 < len(doc) && doc[i+1] == '\\' && doc[i+2] == 'u' {
				if low := hex4(doc[i+3:]); low >= 0xDC00 && low < 0xE000 {
					i += 6
					continue
				}
			}
			r.add(column, "a high surrogate without a low one")
			return
		}
	}
}

func hex4(b []byte) uint64 {
	n, _ := strconv.ParseUint(string(b[:4]), 16, 32)
	return n
}

// jsonMap: headers and metadata are marshalled to jsonb, where a NUL
// becomes the refused \u0000 (invalid UTF-8 is replaced on the way).
func (r *refusal) jsonMap(column string, m map[string]string) {
	for k, v := range m {
		if strings.IndexByte(k+v, 0) >= 0 {
			r.add(column, `\u0000 cannot be converted to text`)
		}
	}
}

// date: the deadline is a PostgreSQL date.
func (r *refusal) date(column, s string) {
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		r.add(column, "not a date")
	}
}

func (r *refusal) delivery(table string, d routers.Delivery) {
	r.text(table+".delivery_state", string(d.State))
	r.text(table+".last_error", d.LastError)
}

// appeal checks the columns of an appeal.
func (r *refusal) appeal(a routers.Appeal) {
	r.text("appeals", a.Number, a.RequestID, a.District, a.Service, a.FIN, a.Type, string(a.Status), a.DistrictRef)
	r.date("appeals.deadline", a.Deadline)
	if len(a.Request) == 0 {
		r.add("appeals.request", "null value violates not-null constraint")
	} else {
		r.json("appeals.request", a.Request)
	}
	if len(a.Person) > 0 {
		r.json("appeals.person", a.Person)
	}
	r.delivery("appeals", a.Delivery)
	r.statutory(a.Statutory)
}

// changes checks the columns an update of an appeal writes.
func (r *refusal) changes(a routers.Appeal) {
	r.text("appeals", string(a.Status), a.DistrictRef, a.District)
	r.date("appeals.deadline", a.Deadline)
	if len(a.Person) > 0 {
		r.json("appeals.person", a.Person)
	}
	r.delivery("appeals", a.Delivery)
	r.statutory(a.Statutory)
}

// statutory checks the columns of an appeal's extension and forwarding.
func (r *refusal) statutory(s routers.Statutory) {
	r.text("appeals", s.ExtensionReason, s.ForwardedTo, s.ForwardedBy)
	r.text("appeals.forwarders", s.Forwarders...)
}

// keyRefused refuses a key PostgreSQL could not even compare.
func keyRefused(table, key string) error {
	var r refusal
	r.text(table, key)
	return r.err()
}

func (r *refusal) comment(c routers.Comment) {
	r.text("comments", c.ID, c.AppealNumber, c.Text)
	r.delivery("comments", c.Delivery)
}

func (r *refusal) deadLetter(dl routers.DeadLetter) {
	r.text("dead_letters", string(dl.Kind), dl.Queue, dl.MessageID, dl.Error, dl.AppealNumber, dl.CommentID, dl.Fingerprint, dl.SHA256)
	r.jsonMap("dead_letters.headers", dl.Headers)
}

func (r *refusal) operatorAction(a routers.OperatorAction) {
	r.text("operator_actions", a.Operator.Name, a.Operator.Role, string(a.Operator.Channel), string(a.Action), a.AppealNumber, string(a.Outcome))
}

func (r *refusal) messages(messages []routers.OutboxMessage) {
	for _, m := range messages {
		r.text("outbox", m.Topic, m.UUID)
		r.jsonMap("outbox.metadata", m.Metadata)
	}
}

// effects checks what effects store: history events (those of an appeal),
// outbox messages and dead letters.
func (r *refusal) effects(e routers.Effects) {
	for _, ev := range e.Events {
		if ev.AppealNumber == "" {
			continue
		}
		doc, err := json.Marshal(ev)
		if err != nil {
			r.add("status_history.event", err.Error())
			continue
		}
		r.text("status_history", ev.AppealNumber, string(ev.Status))
		r.json("status_history.event", doc)
	}
	r.messages(e.Messages)
	for _, dl := range e.DeadLetters {
		r.deadLetter(dl)
	}
}
