package monitorweb

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/korpu-az/korpu/adapters/access"
	"github.com/korpu-az/korpu/adapters/authlimit"
)

// sessionLife is how long a sign-in lasts.
const sessionLife = 8 * time.Hour

// sessionCookie holds "v2.<party>.<role>.<expiry, Unix seconds>.<MAC>".
// The MAC is keyed from that party's token, so hubs that share the access
// list accept each other's sessions, and a party's new token ends only its
// own. The expiry is inside the signed value and checked on the hub's
// clock, so neither the browser's Max-Age nor an edited cookie can stretch
// a session.
const sessionCookie = "korpu_monitor"

// sessionLabel separates the session key from any other use of the party's key.
const sessionLabel = "korpu monitor session cookie v2"

// maxSignInBytes bounds the sign-in form: a token and a return path.
const maxSignInBytes = 4 << 10

// maxCookieBytes bounds a session cookie: a name of 64, a role, a time and a MAC.
const maxCookieBytes = 192

// sessions signs and checks the monitors' session cookies and tokens.
type sessions struct {
	tokens *access.Tokens
	now    func() time.Time
}

// reader finds the party of a token if it may read the dashboard.
func (s sessions) reader(token string) (access.Party, bool) {
	p, ok := s.tokens.Lookup(token)
	return p, ok && p.Role.Reads()
}

// mac signs payload with p's session key; false if p is not (any more) a
// party of the access list.
func (s sessions) mac(p access.Party, payload string) (string, bool) {
	key, ok := s.tokens.Key(p)
	if !ok {
		return "", false
	}
	k := hmac.New(sha256.New, key)
	k.Write([]byte(sessionLabel))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), true
}

// issue returns a new session's cookie value for p.
func (s sessions) issue(p access.Party) (string, time.Time, bool) {
	expiry := s.now().Add(sessionLife).Truncate(time.Second)
	payload := strings.Join([]string{"v2", p.Name, string(p.Role), strconv.FormatInt(expiry.Unix(), 10)}, ".")
	mac, ok := s.mac(p, payload)
	return payload + "." + mac, expiry, ok
}

// valid returns the party of a cookie value its token signed, if the
// session has not ended and the party still reads the dashboard.
func (s sessions) valid(value string) (access.Party, bool) {
	p, expiry, ok := s.signed(value)
	now := s.now()
	// A session a clock set back made look longer than one life is refused too.
	return p, ok && now.Before(expiry) && expiry.Sub(now) <= sessionLife
}

// signed reads a cookie value the party's token signed, ended or not.
func (s sessions) signed(value string) (access.Party, time.Time, bool) {
	parts := strings.Split(value, ".")
	if len(value) > maxCookieBytes || len(parts) != 5 || parts[0] != "v2" {
		return access.Party{}, time.Time{}, false
	}
	p := access.Party{Name: parts[1], Role: access.Role(parts[2])}
	want, ok := s.mac(p, strings.Join(parts[:4], "."))
	if !ok || !p.Role.Reads() || !hmac.Equal([]byte(parts[4]), []byte(want)) {
		return access.Party{}, time.Time{}, false
	}
	unix, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil {
		return access.Party{}, time.Time{}, false
	}
	return p, time.Unix(unix, 0), true
}

// authenticated returns the party r comes from, if it may read the
// dashboard, and whether by the session cookie (rather than a script's
// bearer header).
func (s sessions) authenticated(r *http.Request) (p access.Party, ok, byCookie bool) {
	if token, found := access.Bearer(r); found {
		p, ok = s.reader(token)
		return p, ok, false
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return access.Party{}, false, false
	}
	p, ok = s.valid(c.Value)
	return p, ok, ok
}

// credentials says what r presents, before it is served: the sign-in
// form's token, a bearer header, or a session cookie. A session that
// merely ended (a wall screen's live updates after 8 hours) is one the hub
// signed: no credentials any more, no guess either.
func (s sessions) credentials(r *http.Request) authlimit.Credentials {
	known := func(ok bool) authlimit.Credentials {
		if ok {
			return authlimit.CredentialsKnown
		}
		return authlimit.CredentialsUnknown
	}
	if r.Method == http.MethodPost && r.URL.Path == Base+"/signin" {
		// Read here within the handler's own bound; signIn finds it parsed.
		r.Body = http.MaxBytesReader(nil, r.Body, maxSignInBytes)
		if err := r.ParseForm(); err != nil {
			return authlimit.CredentialsUnknown
		}
		_, ok := s.tokens.Lookup(r.PostForm.Get("token"))
		return known(ok)
	}
	if r.Header.Get("Authorization") != "" {
		token, _ := access.Bearer(r)
		_, ok := s.tokens.Lookup(token)
		return known(ok)
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if _, ok := s.valid(c.Value); ok {
			return authlimit.CredentialsKnown
		}
		if _, _, signed := s.signed(c.Value); !signed {
			return authlimit.CredentialsUnknown
		}
	}
	return authlimit.CredentialsNone
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
		if p, ok, _ := s.sessions.authenticated(r); ok {
			next(w, r.WithContext(access.WithParty(r.Context(), p)))
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
	p, ok := s.sessions.reader(r.PostForm.Get("token"))
	var value string
	var expiry time.Time
	if ok {
		value, expiry, ok = s.sessions.issue(p)
	}
	if !ok {
		s.cfg.Logger.Warn("monitor: sign-in refused")
		s.signInPage(w, r, http.StatusUnauthorized, l, "badToken", next)
		return
	}
	s.cfg.Logger.Info("monitor: signed in", "party", p.Name, "role", string(p.Role))
	http.SetCookie(w, cookie(r, value, expiry, int(sessionLife/time.Second)))
	http.Redirect(w, r, returnPath(next, l), http.StatusSeeOther) //nolint:gosec // G710: returnPath keeps it to the dashboard's own pages
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, cookie(r, "", time.Time{}, -1))
	s.signInPage(w, r, http.StatusOK, langOf(r), "signedOut", "")
}
