package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/korpu-az/korpu/adapters/access"
	"github.com/korpu-az/korpu/routers"
)

// monitor admits the parties who read everything: monitors and operators.
func (a *api) monitor(next http.HandlerFunc) http.HandlerFunc {
	return a.admit(func(p access.Party) bool { return p.Role.Reads() }, problemUnauthorized, notMonitor, next)
}

// operator admits the operators only: they replay and drop dead letters.
func (a *api) operator(next http.HandlerFunc) http.HandlerFunc {
	return a.admit(func(p access.Party) bool { return p.Role == access.RoleOperator }, problemUnauthorized, notOperator, next)
}

func notMonitor(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusForbidden, "only monitors and operators read dead letters")
}

func notOperator(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusForbidden, "only operators replay and drop dead letters")
}

// deadLetterView is a dead letter as the API shows it: the body as text when
// it is UTF-8, else in base64; a truncated letter's body is only the start
// of Size bytes.
type deadLetterView struct {
	ID           int64             `json:"id"`
	CreatedAt    time.Time         `json:"created_at"`
	Kind         string            `json:"kind"`
	Queue        string            `json:"queue"`
	MessageID    string            `json:"message_id,omitempty"`
	Body         string            `json:"body,omitempty"`
	BodyBase64   []byte            `json:"body_base64,omitempty"`
	Size         int64             `json:"size"`
	SHA256       string            `json:"sha256,omitempty"`
	Truncated    bool              `json:"truncated"`
	Headers      map[string]string `json:"headers,omitempty"`
	Error        string            `json:"error"`
	Attempts     int               `json:"attempts"`
	AppealNumber string            `json:"appeal_number,omitempty"`
	CommentID    string            `json:"comment_id,omitempty"`
	State        string            `json:"state"`
	ResolvedAt   *time.Time        `json:"resolved_at,omitempty"`
}

func viewDeadLetter(dl routers.DeadLetter, withBody bool) deadLetterView {
	v := deadLetterView{
		ID: dl.ID, CreatedAt: dl.CreatedAt, Kind: string(dl.Kind), Queue: dl.Queue, MessageID: dl.MessageID,
		Size: dl.Size, SHA256: dl.SHA256, Truncated: dl.Truncated(),
		Error: dl.Error, Attempts: dl.Attempts, AppealNumber: dl.AppealNumber, CommentID: dl.CommentID, State: string(dl.State),
	}
	if !dl.ResolvedAt.IsZero() {
		v.ResolvedAt = &dl.ResolvedAt
	}
	if withBody {
		v.Headers = dl.Headers
		if utf8.Valid(dl.Body) {
			v.Body = string(dl.Body)
		} else {
			v.BodyBase64 = dl.Body
		}
	}
	return v
}

func (a *api) listDeadLetters(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := routers.DeadLetterState(q.Get("state"))
	switch state {
	case "", routers.DeadLetterOpen, routers.DeadLetterReplayed, routers.DeadLetterDropped:
	default:
		writeError(w, http.StatusBadRequest, "state must be dead, replayed or dropped")
		return
	}
	after, err1 := queryInt(q.Get("after"), 0)
	limit, err2 := queryInt(q.Get("limit"), 100)
	if err := errors.Join(err1, err2); err != nil || limit < 1 || limit > 1000 || after < 0 {
		writeError(w, http.StatusBadRequest, "after must be an id ≥ 0 and limit 1 to 1000")
		return
	}
	letters, err := a.cfg.DeadLetters.List(r.Context(), state, after, int(limit))
	if err != nil {
		a.unavailable(w, "list dead letters", err)
		return
	}
	out := make([]deadLetterView, len(letters))
	for i, dl := range letters {
		out[i] = viewDeadLetter(dl, false)
	}
	writeJSON(w, http.StatusOK, map[string]any{"dead_letters": out})
}

func queryInt(s string, def int64) (int64, error) {
	if s == "" {
		return def, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, http.StatusBadRequest, "the id must be a positive number")
		return 0, false
	}
	return id, true
}

func (a *api) showDeadLetter(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	dl, err := a.cfg.DeadLetters.Show(r.Context(), id)
	switch {
	case errors.Is(err, routers.ErrNotFound):
		writeError(w, http.StatusNotFound, "no such dead letter")
	case err != nil:
		a.unavailable(w, "show dead letter", err)
	default:
		writeJSON(w, http.StatusOK, viewDeadLetter(dl, true))
	}
}

// resolveDeadLetter replays or drops a letter as the caller, an operator,
// who is recorded with the action.
func (a *api) resolveDeadLetter(action func(context.Context, int64, routers.Operator) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		party, found := access.PartyFrom(r.Context())
		switch {
		case !found:
			// A route wired without authentication: nobody to record, so nothing is done.
			writeError(w, http.StatusUnauthorized, "the caller is not known")
			return
		case party.Role != access.RoleOperator:
			writeError(w, http.StatusForbidden, "only an operator may replay or drop dead letters")
			return
		}
		id, ok := pathID(w, r)
		if !ok {
			return
		}
		err := action(r.Context(), id, routers.Operator{Name: party.Name, Role: string(party.Role), Channel: routers.ChannelAPI})
		switch {
		case errors.Is(err, routers.ErrNotFound):
			writeError(w, http.StatusNotFound, "no such dead letter")
		case errors.Is(err, routers.ErrNotOpen):
			writeError(w, http.StatusConflict, fromSentinel(err, routers.ErrNotOpen))
		case errors.Is(err, routers.ErrTruncated):
			writeError(w, http.StatusConflict, fromSentinel(err, routers.ErrTruncated))
		case errors.Is(err, routers.ErrBadOperator):
			// The access list's name cannot be recorded: refused, and said in the log.
			a.cfg.Logger.Error("operator cannot be recorded", "error", err)
			writeError(w, http.StatusForbidden, "the caller cannot be recorded")
		case err != nil:
			a.unavailable(w, "resolve dead letter", err)
		default:
			writeJSON(w, http.StatusOK, map[string]string{"result": "done"})
		}
	}
}

func (a *api) unavailable(w http.ResponseWriter, what string, err error) {
	a.cfg.Logger.Error(what+" failed", "error", err)
	writeError(w, http.StatusServiceUnavailable, "temporarily unavailable; try again")
}

// operatorActionView is an entry of the operators' record as the API shows it.
type operatorActionView struct {
	ID           int64     `json:"id"`
	At           time.Time `json:"at"`
	Actor        string    `json:"actor"`
	Role         string    `json:"role"`
	Channel      string    `json:"channel"`
	Action       string    `json:"action"`
	DeadLetterID int64     `json:"dead_letter_id"`
	AppealNumber string    `json:"appeal_number,omitempty"`
	Outcome      string    `json:"outcome"`
}

func (a *api) listOperatorActions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	before, err1 := queryInt(q.Get("before"), 0)
	limit, err2 := queryInt(q.Get("limit"), 100)
	if err := errors.Join(err1, err2); err != nil || limit < 1 || limit > 1000 || before < 0 {
		writeError(w, http.StatusBadRequest, "before must be an id ≥ 0 and limit 1 to 1000")
		return
	}
	actions, err := a.cfg.DeadLetters.Actions(r.Context(), before, int(limit))
	if err != nil {
		a.unavailable(w, "list operator actions", err)
		return
	}
	out := make([]operatorActionView, len(actions))
	for i, act := range actions {
		out[i] = operatorActionView{
			ID: act.ID, At: act.At, Actor: act.Operator.Name, Role: act.Operator.Role, Channel: string(act.Operator.Channel),
			Action: string(act.Action), DeadLetterID: act.DeadLetterID, AppealNumber: act.AppealNumber, Outcome: string(act.Outcome),
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"operator_actions": out})
}
