package monitorweb

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/korpu-az/korpu/adapters/access"
	"github.com/korpu-az/korpu/routers"
)

// DeadLetters is what the dashboard does with dead letters
// (routers.DeadLetterDesk).
type DeadLetters interface {
	List(ctx context.Context, state routers.DeadLetterState, afterID int64, limit int) ([]routers.DeadLetter, error)
	Replay(ctx context.Context, id int64, by routers.Operator) error
	Drop(ctx context.Context, id int64, by routers.Operator) error
	Actions(ctx context.Context, beforeID int64, limit int) ([]routers.OperatorAction, error)
}

// How much the dead letters page shows: the oldest open letters (the rest
// are for korpu dlq list) and the latest actions of the record.
const (
	lettersShown = 100
	actionsShown = 50
)

// The form token of an operator's action: a synchronizer token, the HMAC
// of the session cookie's value under the session key, so it is bound to
// one sign-in and no other site can know it. It travels in a hidden field
// and, for htmx, in a header.
const (
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
	// csrfLabel keeps form tokens apart from the cookies' own MACs.
	csrfLabel = "korpu monitor form token v1\x00"
)

// maxActionBytes bounds an action's form: the token and nothing else.
const maxActionBytes = 1 << 10

// csrfToken is the form token of p's session whose cookie value this is,
// keyed like the cookie by p's token; "" when p's token is gone.
func (s sessions) csrfToken(p access.Party, cookieValue string) string {
	token, _ := s.mac(p, csrfLabel+cookieValue)
	return token
}

// formToken is the form token of r's session; "" without a valid session
// cookie (a script with a bearer token reads, and acts over the API).
func (s *Server) formToken(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	p, ok := s.sessions.valid(c.Value)
	if !ok {
		return ""
	}
	return s.sessions.csrfToken(p, c.Value)
}

// csrfValid tells whether r carries its session's form token, in the
// header or the form.
func (s *Server) csrfValid(r *http.Request) bool {
	want := s.formToken(r)
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostForm.Get(csrfField)
	}
	return want != "" && hmac.Equal([]byte(got), []byte(want))
}

// operatorOf is the signed-in party if it may act on dead letters.
func operatorOf(r *http.Request) (access.Party, bool) {
	p, ok := access.PartyFrom(r.Context())
	return p, ok && p.Role == access.RoleOperator
}

// deadLettersView is the dead letters page.
type deadLettersView struct {
	Letters []routers.DeadLetter
	More    bool // more open letters than shown
	Actions []routers.OperatorAction
	CanAct  bool   // an operator, signed in by the session cookie
	CSRF    string // the session's form token, when CanAct
	Notice  *notice
	Req     request
}

// notice says what came of the action just taken.
type notice struct {
	OK   bool
	Text string
}

// ActionURL is where a letter's action is posted.
func (v *deadLettersView) ActionURL(id int64, action string) string {
	return Base + "/dead-letters/" + strconv.FormatInt(id, 10) + "/" + action + query(v.Req.Lang)
}

// AppealURL opens the letter's appeal.
func (v *deadLettersView) AppealURL(number string) string {
	return Base + "/appeals/" + url.PathEscape(number) + query(v.Req.Lang)
}

// At is when an action was taken, in Baku time to the second.
func (v *deadLettersView) At(t time.Time) string {
	return t.In(routers.Baku).Format(time.DateTime)
}

// MoreNote says that only the oldest letters are shown.
func (v *deadLettersView) MoreNote() string {
	return fmt.Sprintf(v.Req.Lang.word("moreLetters"), lettersShown)
}

// LiveURL is where the live part comes from.
func (v *deadLettersView) LiveURL(version string) string {
	return Base + "/dead-letters" + query(v.Req.Lang, "v", version)
}

// load reads the open letters and the latest actions.
func (s *Server) loadDeadLetters(r *http.Request, req request) (*deadLettersView, error) {
	letters, err := s.cfg.DeadLetters.List(r.Context(), routers.DeadLetterOpen, 0, lettersShown+1)
	if err != nil {
		return nil, err
	}
	actions, err := s.cfg.DeadLetters.Actions(r.Context(), 0, actionsShown)
	if err != nil {
		return nil, err
	}
	v := &deadLettersView{Letters: letters, Actions: actions, Req: req}
	if len(letters) > lettersShown {
		v.Letters, v.More = letters[:lettersShown], true
	}
	if _, ok := operatorOf(r); ok {
		v.CSRF = s.formToken(r)
		v.CanAct = v.CSRF != ""
	}
	return v, nil
}

func (s *Server) deadLetters(w http.ResponseWriter, r *http.Request) {
	req, perr := readRequest(r)
	if perr != nil {
		s.badParam(w, r, req.Lang, perr)
		return
	}
	v, err := s.loadDeadLetters(r, req)
	if err != nil {
		s.unavailable(w, r, req.Lang, "dead letters", err)
		return
	}
	s.show(w, r, "deadletters", "deadLetters", req, v, v.LiveURL)
}

// resolve replays or drops a dead letter as the signed-in operator, who is
// recorded with the action. Refused, recording nothing: anyone but an
// operator, and a request without its session's form token.
func (s *Server) resolve(action routers.ActionKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req := request{Lang: langOf(r)}
		r.Body = http.MaxBytesReader(w, r.Body, maxActionBytes)
		party, ok := operatorOf(r)
		if !ok {
			s.refuse(w, r, req.Lang, "operatorsOnly")
			return
		}
		if err := r.ParseForm(); err != nil || !s.csrfValid(r) {
			s.cfg.Logger.Warn("monitor: action refused without its form token", "action", action, "operator", party.Name)
			s.refuse(w, r, req.Lang, "csrfRefused")
			return
		}
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id < 1 {
			s.fail(w, r, http.StatusNotFound, "notFoundTitle", req.Lang, "pageNotFound")
			return
		}
		do := s.cfg.DeadLetters.Replay
		if action == routers.ActionDrop {
			do = s.cfg.DeadLetters.Drop
		}
		err = do(r.Context(), id, routers.Operator{Name: party.Name, Role: string(party.Role), Channel: routers.ChannelDashboard})
		n := &notice{}
		switch {
		case err == nil && action == routers.ActionDrop:
			n.OK, n.Text = true, fmt.Sprintf(req.Lang.word("droppedNotice"), id)
		case err == nil:
			n.OK, n.Text = true, fmt.Sprintf(req.Lang.word("replayedNotice"), id)
		case errors.Is(err, routers.ErrNotFound):
			n.Text = fmt.Sprintf(req.Lang.word("noLetterNotice"), id)
		case errors.Is(err, routers.ErrNotOpen):
			n.Text = fmt.Sprintf(req.Lang.word("notOpenNotice"), id)
		case errors.Is(err, routers.ErrTruncated):
			n.Text = fmt.Sprintf(req.Lang.word("truncatedNotice"), id)
		default:
			s.unavailable(w, r, req.Lang, string(action), err)
			return
		}
		if !live(r) {
			// Without script: back to the page, whose record shows the outcome.
			http.Redirect(w, r, Base+"/dead-letters"+query(req.Lang), http.StatusSeeOther)
			return
		}
		v, err := s.loadDeadLetters(r, req)
		if err != nil {
			s.unavailable(w, r, req.Lang, "dead letters", err)
			return
		}
		v.Notice = n
		p, _, ok := s.livePage(w, r, "deadletters", "deadLetters", req.Lang, v, v.LiveURL)
		if ok {
			s.render(w, http.StatusOK, "deadletters", "desk", p)
		}
	}
}

// refuse answers 403 with a message of words; htmx is told to reload, so
// the operator gets a fresh page (and token) or the sign-in form.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, l lang, message string) {
	if live(r) {
		w.Header().Set("HX-Refresh", "true")
	}
	s.fail(w, r, http.StatusForbidden, "forbiddenTitle", l, message)
}
