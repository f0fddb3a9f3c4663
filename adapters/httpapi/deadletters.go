package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/korpu-az/korpu/routers"
)

// monitor admits only the central monitors' token.
func (a *api) monitor(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !bearerMatches(r, a.monitorToken) {
			unauthorized(w)
			return
		}
		next(w, r)
	}
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

func (a *api) resolveDeadLetter(action func(context.Context, int64) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := pathID(w, r)
		if !ok {
			return
		}
		err := action(r.Context(), id)
		switch {
		case errors.Is(err, routers.ErrNotFound):
			writeError(w, http.StatusNotFound, "no such dead letter")
		case errors.Is(err, routers.ErrNotOpen):
			writeError(w, http.StatusConflict, fromSentinel(err, routers.ErrNotOpen))
		case errors.Is(err, routers.ErrTruncated):
			writeError(w, http.StatusConflict, fromSentinel(err, routers.ErrTruncated))
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
