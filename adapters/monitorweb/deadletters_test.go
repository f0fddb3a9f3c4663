package monitorweb_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// addLetters files three open dead letters: a whole poisoned message (1),
// a truncated one (2) and an appeal's delivery (3).
func (f *fixture) addLetters(t *testing.T) {
	t.Helper()
	for _, dl := range []routers.DeadLetter{
		{Kind: routers.DeadPoison, Body: []byte(`{"id":"a"}`), Error: "x-signature does not match the body"},
		{Kind: routers.DeadPoison, Body: []byte(`{"id":`), Size: 1 << 20, Error: "body of 1048576 bytes exceeds 262144"},
		{Kind: routers.DeadAppeal, Body: []byte(`{}`), Error: "district answered 422", AppealNumber: "AZ-SAB-2026-000017"},
	} {
		dl.Queue, dl.Attempts, dl.Fingerprint = "egov.portal.requests", 1, dl.Error
		require.NoError(t, f.ledger.AddDeadLetter(t.Context(), dl))
	}
}

// act posts an action as the signed-in browser does: the session cookie,
// Sec-Fetch-Site same-origin, the form and any headers.
func (f *fixture) act(t *testing.T, c *http.Cookie, target string, form url.Values, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := formPost(t, target, form)
	if c != nil {
		req.AddCookie(c)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec
}

var csrfPattern = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// formToken is the form token the dead letters page gives this session.
func (f *fixture) formToken(t *testing.T, c *http.Cookie) string {
	t.Helper()
	rec := f.getWith(t, "/monitor/dead-letters", c)
	require.Equal(t, http.StatusOK, rec.Code)
	m := csrfPattern.FindStringSubmatch(rec.Body.String())
	require.NotNil(t, m, "an operator's page carries the form token")
	return m[1]
}

func (f *fixture) letter(t *testing.T, id int64) routers.DeadLetter {
	t.Helper()
	letters, err := f.ledger.DeadLetters(t.Context(), "", 0, 100)
	require.NoError(t, err)
	for _, dl := range letters {
		if dl.ID == id {
			return dl
		}
	}
	t.Fatalf("no dead letter %d", id)
	return routers.DeadLetter{}
}

func (f *fixture) actions(t *testing.T) []routers.OperatorAction {
	t.Helper()
	got, err := f.ledger.OperatorActions(t.Context(), 0, 100)
	require.NoError(t, err)
	return got
}

// setupOperator is setup signed in as an operator.
func setupOperator(t *testing.T) *fixture {
	t.Helper()
	f := setup(t)
	f.cookie = f.signIn(t, operatorToken, "", nil)
	return f
}

// TestDeadLettersPage: the page lists the open dead letters with replay
// and drop for operators only, posts them with the session's form token,
// and shows the operators' record: who, what, when in Baku time, how.
func TestDeadLettersPage(t *testing.T) {
	t.Parallel()
	t.Run("OperatorReplaysAndIsRecorded", func(t *testing.T) {
		t.Parallel()
		f := setupOperator(t)
		f.addLetters(t)
		rec := f.get(t, "/monitor/dead-letters")
		require.Equal(t, http.StatusOK, rec.Code)
		body := rec.Body.String()
		for _, id := range []string{"1", "2", "3"} {
			require.Contains(t, body, `<tr data-letter="`+id+`"`)
		}
		require.Contains(t, body, `id="replay-1"`)
		require.NotContains(t, body, `id="replay-2"`, "a truncated letter cannot be replayed")
		require.Contains(t, body, `id="drop-2"`)
		require.Contains(t, body, "Zədəli mesaj", "the kind in words")
		require.Contains(t, body, `href="/monitor/appeals/AZ-SAB-2026-000017"`)
		require.Contains(t, body, `id="actions-none"`, "nothing recorded yet")
		csrf := f.formToken(t, f.cookie)
		require.Contains(t, body, `hx-headers='{"X-CSRF-Token": "`+csrf+`"}'`, "htmx sends it as a header")
		require.NotContains(t, csrf, f.cookie.Value)

		f.clock.Set(f.clock.Now().Add(7*time.Minute + 5*time.Second))
		rec = f.act(t, f.cookie, "/monitor/dead-letters/1/replay", url.Values{"csrf": {csrf}})
		require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
		require.Equal(t, "/monitor/dead-letters", rec.Header().Get("Location"))
		require.Equal(t, routers.DeadLetterReplayed, f.letter(t, 1).State)
		got := f.actions(t)
		require.Len(t, got, 1)
		require.Equal(t, routers.Operator{Name: dutyOperator.Name, Role: "operator", Channel: routers.ChannelDashboard}, got[0].Operator)
		require.Equal(t, routers.ActionReplay, got[0].Action)
		require.Equal(t, int64(1), got[0].DeadLetterID)
		require.Equal(t, routers.OutcomeDone, got[0].Outcome)
		require.Equal(t, f.clock.Now(), got[0].At, "by the hub's clock")

		body = f.get(t, "/monitor/dead-letters").Body.String()
		require.NotContains(t, body, `<tr data-letter="1"`, "no longer open")
		row := regexp.MustCompile(`(?s)<tr data-action="1" data-outcome="done">.*?</tr>`).FindString(body)
		require.NotEmpty(t, row, body)
		for _, want := range []string{"2026-03-18 10:07:05", dutyOperator.Name, "Yenidən göndərmə", "Panel", "Edildi"} {
			require.Contains(t, row, want, "who, what, when (Baku time), how")
		}
		en := f.get(t, "/monitor/dead-letters?lang=en").Body.String()
		require.Contains(t, en, "Dashboard")
		require.Contains(t, en, "Operators&#39; actions")
	})

	t.Run("HtmxDropsWithTheHeader", func(t *testing.T) {
		t.Parallel()
		f := setupOperator(t)
		f.addLetters(t)
		csrf := f.formToken(t, f.cookie)
		rec := f.act(t, f.cookie, "/monitor/dead-letters/3/drop?lang=en", nil, "HX-Request", "true", "X-CSRF-Token", csrf)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		body := rec.Body.String()
		require.True(t, strings.HasPrefix(strings.TrimSpace(body), `<div id="desk"`), "the desk alone, for htmx to swap: %.200s", body)
		require.Contains(t, body, `<p class="notice ok" id="notice">Dead letter 3 was dropped.</p>`)
		require.Contains(t, body, `data-outcome="done"`)
		require.Contains(t, body, `hx-get="/monitor/dead-letters?lang=en&amp;v=`, "the live part goes on")
		require.Equal(t, routers.DeadLetterDropped, f.letter(t, 3).State)
		require.Equal(t, "AZ-SAB-2026-000017", f.actions(t)[0].AppealNumber)

		rec = f.act(t, f.cookie, "/monitor/dead-letters/3/replay", nil, "HX-Request", "true", "X-CSRF-Token", csrf)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Contains(t, rec.Body.String(), "3 nömrəli məktub artıq açıq deyil")
		rec = f.act(t, f.cookie, "/monitor/dead-letters/2/replay", nil, "HX-Request", "true", "X-CSRF-Token", csrf)
		require.Contains(t, rec.Body.String(), "yalnız başlanğıcı saxlanılıb")
		rec = f.act(t, f.cookie, "/monitor/dead-letters/99/drop", url.Values{"csrf": {csrf}})
		require.Equal(t, http.StatusSeeOther, rec.Code)
		var outcomes []routers.Outcome
		for _, a := range f.actions(t) {
			outcomes = append(outcomes, a.Outcome)
		}
		require.Equal(t, []routers.Outcome{routers.OutcomeNotFound, routers.OutcomeTruncated, routers.OutcomeNotOpen, routers.OutcomeDone}, outcomes,
			"refusals are recorded too")
	})

	// A post without the session's own form token is refused before
	// anything is done, and nothing is recorded.
	t.Run("NoTokenNoAction", func(t *testing.T) {
		t.Parallel()
		f := setupOperator(t)
		f.addLetters(t)
		csrf := f.formToken(t, f.cookie)
		f.clock.Set(f.clock.Now().Add(time.Second))
		other := f.signIn(t, operatorToken, "", nil)
		require.NotEqual(t, f.cookie.Value, other.Value)
		otherCSRF := f.formToken(t, other)
		require.NotEqual(t, csrf, otherCSRF, "bound to the session")
		for name, tc := range map[string]struct {
			form    url.Values
			headers []string
		}{
			"Missing":         {},
			"Empty":           {form: url.Values{"csrf": {""}}},
			"Wrong":           {form: url.Values{"csrf": {otherLastChar(csrf)}}},
			"OtherSession":    {form: url.Values{"csrf": {otherCSRF}}},
			"TheCookieItself": {form: url.Values{"csrf": {f.cookie.Value}}},
			"WrongHeader":     {headers: []string{"HX-Request", "true", "X-CSRF-Token", otherCSRF}},
		} {
			rec := f.act(t, f.cookie, "/monitor/dead-letters/1/replay", tc.form, tc.headers...)
			require.Equal(t, http.StatusForbidden, rec.Code, name)
			if len(tc.headers) > 0 {
				require.Equal(t, "true", rec.Header().Get("HX-Refresh"), "htmx reloads, for a fresh token")
			} else {
				require.Contains(t, rec.Body.String(), "forma nişanı yoxdur və ya yanlışdır", name)
			}
		}
		// A bearer script reads the page but acts over the API.
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/monitor/dead-letters/1/drop", strings.NewReader("csrf="+csrf))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		f.handler.ServeHTTP(rec, req)
		require.Equal(t, http.StatusForbidden, rec.Code, "no session cookie, no form token")
		bearerPage := f.getWith(t, "/monitor/dead-letters", nil, "Authorization", "Bearer "+token).Body.String()
		require.NotContains(t, bearerPage, `id="drop-1"`)
		// Another site cannot post at all, token or not.
		rec = f.act(t, f.cookie, "/monitor/dead-letters/1/drop", url.Values{"csrf": {csrf}}, "Sec-Fetch-Site", "cross-site")
		require.Equal(t, http.StatusForbidden, rec.Code)
		// Nor can anyone signed out.
		rec = f.act(t, nil, "/monitor/dead-letters/1/drop", url.Values{"csrf": {csrf}})
		require.Equal(t, http.StatusUnauthorized, rec.Code)

		require.Equal(t, routers.DeadLetterOpen, f.letter(t, 1).State, "nothing done")
		require.Empty(t, f.actions(t), "nothing recorded")
		rec = f.act(t, f.cookie, "/monitor/dead-letters/1/drop", url.Values{"csrf": {csrf}})
		require.Equal(t, http.StatusSeeOther, rec.Code, "the right token still works")
	})

	// A monitor who is no operator reads the letters and the record, and
	// is refused an action.
	t.Run("MonitorOnlyReads", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.addLetters(t)
		csrf := f.formToken(t, f.signIn(t, operatorToken, "", nil)) // an operator's, which a monitor cannot borrow
		body := f.get(t, "/monitor/dead-letters").Body.String()
		require.Contains(t, body, `<tr data-letter="1"`)
		require.Contains(t, body, `id="read-only"`)
		require.NotContains(t, body, `id="replay-1"`)
		require.NotContains(t, body, `name="csrf"`)
		rec := f.act(t, f.cookie, "/monitor/dead-letters/1/replay", url.Values{"csrf": {csrf}})
		require.Equal(t, http.StatusForbidden, rec.Code)
		require.Contains(t, rec.Body.String(), "Bunu yalnız operator edə bilər.")
		require.Equal(t, routers.DeadLetterOpen, f.letter(t, 1).State)
		require.Empty(t, f.actions(t))
	})

	t.Run("LedgerDown", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel() // the memory ledger refuses a done context, as a lost database would
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/monitor/dead-letters", nil)
		req.AddCookie(f.cookie)
		rec := httptest.NewRecorder()
		f.handler.ServeHTTP(rec, req)
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	})
}

// otherLastChar is token with its last character changed: base64's last
// character takes only a few values, so a fixed replacement could be the
// one it had.
func otherLastChar(token string) string {
	last := "A"
	if strings.HasSuffix(token, last) {
		last = "Q"
	}
	return token[:len(token)-1] + last
}
