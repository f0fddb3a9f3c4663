package monitorweb

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// sessionLife is how long a sign-in lasts.
const sessionLife = 8 * time.Hour

// sessionCookie holds "v1.<expiry, Unix seconds>.<MAC>". The expiry is
// inside the signed value and checked on the hub's clock, so neither the
// browser's Max-Age nor an edited cookie can stretch a session.
const sessionCookie = "korpu_monitor"

// sessionLabel separates the session key from any other use of the token.
const sessionLabel = "korpu monitor session cookie v1"

// maxSignInBytes bounds the sign-in form: a token and a return path.
const maxSignInBytes = 4 << 10

// sessions signs and checks the monitors' session cookies and tokens.
type sessions struct {
	token [32]byte // the monitors' token, hashed for constant-time comparison
	key   []byte   // HMAC key of the cookies, derived from the token
	now   func() time.Time
}

func newSessions(token string, now func() time.Time) sessions {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte(sessionLabel))
	return sessions{token: sha256.Sum256([]byte(token)), key: m.Sum(nil), now: now}
}

// tokenMatches compares hashes in constant time, so neither the token's
// length nor its content leaks through timing.
func (s sessions) tokenMatches(token string) bool {
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(s.token[:], got[:]) == 1 && token != ""
}

func (s sessions) mac(payload string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// issue returns a new session's cookie value.
func (s sessions) issue() (string, time.Time) {
	expiry := s.now().Add(sessionLife).Truncate(time.Second)
	payload := "v1." + strconv.FormatInt(expiry.Unix(), 10)
	return payload + "." + s.mac(payload), expiry
}

// valid reports whether a cookie value is one this token signed and its
// session has not ended.
func (s sessions) valid(value string) bool {
	i := strings.LastIndexByte(value, '.')
	if i < 0 || len(value) > 128 {
		return false
	}
	payload, mac := value[:i], value[i+1:]
	if !hmac.Equal([]byte(mac), []byte(s.mac(payload))) {
		return false
	}
	secs, ok := strings.CutPrefix(payload, "v1.")
	if !ok {
		return false
	}
	unix, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return false
	}
	now := s.now()
	expiry := time.Unix(unix, 0)
	// A session a clock set back made look longer than one life is refused too.
	return now.Before(expiry) && expiry.Sub(now) <= sessionLife
}

// authenticated reports whether r comes from a monitor, and whether by the
// session cookie (rather than a script's bearer header).
func (s sessions) authenticated(r *http.Request) (ok, byCookie bool) {
	if token, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); found {
		return s.tokenMatches(token), false
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return false, false
	}
	ok = s.valid(c.Value)
	return ok, ok
}

// presentsCredentials tells whether a refused request tried to sign in:
// a sign-in form (the one POST that can be refused so), a bearer header
// or a session cookie. A visit with none gets the sign-in form and guessed
// nothing.
func presentsCredentials(r *http.Request) bool {
	if r.Method == http.MethodPost || r.Header.Get("Authorization") != "" {
		return true
	}
	_, err := r.Cookie(sessionCookie)
	return err == nil
}

// cookie is the session cookie: HttpOnly, SameSite=Strict, for the
// dashboard's paths only, and Secure whenever the request came over TLS.
func cookie(r *http.Request, value string, expiry time.Time, maxAge int) *http.Cookie {
	return &http.Cookie{ //nolint:gosec // G124: Secure is r.TLS != nil, HttpOnly and SameSite are set
		Name: sessionCookie, Value: value, Path: Base + "/", Expires: expiry, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil}
}

// monitor lets only the monitors through; anyone else gets the sign-in
// form in place, which brings them back to this very page.
func (s *Server) monitor(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ok, _ := s.sessions.authenticated(r); ok {
			next(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="korpu"`)
		if live(r) {
			// A live update after the session ended: reload, to the sign-in form.
			w.Header().Set("HX-Refresh", "true")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		s.signInPage(w, r, http.StatusUnauthorized, langOf(r), "needSignIn", r.URL.RequestURI())
	}
}

// signInPage shows the sign-in form; note is a problem, or "signedOut".
func (s *Server) signInPage(w http.ResponseWriter, r *http.Request, status int, l lang, note, next string) {
	p := s.newPage(r, l, "signInTitle", nil)
	p.SignedIn, p.Cookie = false, false // also right after sign-out, whose request still bore the cookie
	data := map[string]string{"Next": next}
	switch note {
	case "":
	case "signedOut":
		data["Flash"] = l.word(note)
	default:
		data["Problem"] = l.word(note)
	}
	p.Data = data
	s.render(w, status, "signin", "", p)
}

// returnPath is where sign-in leads: a page of the dashboard, never
// elsewhere (no open redirect).
func returnPath(next string, l lang) string {
	if !strings.HasPrefix(next, Base+"/") || strings.ContainsAny(next, "\\\r\n") || strings.HasPrefix(next, Base+"//") ||
		len(next) > 1024 || strings.HasPrefix(next, Base+"/signin") || strings.HasPrefix(next, Base+"/signout") {
		return Base + "/" + query(l)
	}
	return next
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxSignInBytes)
	l := langOf(r)
	if err := r.ParseForm(); err != nil {
		s.signInPage(w, r, http.StatusBadRequest, l, "badToken", "")
		return
	}
	next := r.PostForm.Get("next")
	if !s.sessions.tokenMatches(r.PostForm.Get("token")) {
		s.cfg.Logger.Warn("monitor: sign-in refused")
		s.signInPage(w, r, http.StatusUnauthorized, l, "badToken", next)
		return
	}
	value, expiry := s.sessions.issue()
	http.SetCookie(w, cookie(r, value, expiry, int(sessionLife/time.Second)))
	http.Redirect(w, r, returnPath(next, l), http.StatusSeeOther) //nolint:gosec // G710: returnPath keeps it to the dashboard's own pages
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, cookie(r, "", time.Time{}, -1))
	s.signInPage(w, r, http.StatusOK, langOf(r), "signedOut", "")
}
