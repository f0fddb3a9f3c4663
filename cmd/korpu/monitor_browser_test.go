package main

import (
	"context"
	"encoding/csv"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/access"
	"github.com/korpu-az/korpu/adapters/memory"
	"github.com/korpu-az/korpu/adapters/monitorweb/monitorwebtest"
	"github.com/korpu-az/korpu/routers"
)

// dashboardSite is a dashboard for driveDashboard: where it is, the
// monitors' token, and how to make its figures move (nil: they move by
// themselves, as under the demo's traffic).
type dashboardSite struct {
	URL    string // ends in /monitor/
	Token  string
	Change func()
	// Screenshot: this site's country view is the one docs/monitor.png
	// shows (KORPU_SCREENSHOTS=1 or -update takes it again).
	Screenshot bool
	// Ledger holds the fake site's dead letters and operators' record.
	Ledger *memory.Ledger
}

// fakeDashboard serves the dashboard over monitorwebtest's small country,
// mounted as the hub mounts it.
func fakeDashboard(t *testing.T) dashboardSite {
	t.Helper()
	fake := monitorwebtest.New()
	const token = "demo-monitor-token-on-this-machine-only"
	now := func() time.Time { return monitorwebtest.Today.Add(10 * time.Hour) }
	ledger := memory.NewLedger(now)
	h, err := withDashboard(http.NotFoundHandler(), fake, fake, routers.NewDeadLetterDesk(ledger, now),
		access.NewTokens(access.NewTable(map[string]access.Party{token: {Name: "monitor", Role: access.RoleOperator}})), now, slog.New(slog.DiscardHandler), nil)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return dashboardSite{URL: srv.URL + "/monitor/", Token: token, Change: func() { fake.Bump("AZ-SAT", 7) }, Ledger: ledger}
}

// TestDeadLettersInBrowser: an operator signed in to the dashboard replays
// a dead letter with its button; the page says so without a reload, and
// the operators' record shows who did it, when in Baku time and how. A
// post the page's own form did not make (no form token) is refused and
// recorded nowhere.
func TestDeadLettersInBrowser(t *testing.T) {
	t.Parallel()
	site := fakeDashboard(t)
	for _, dl := range []routers.DeadLetter{
		{Kind: routers.DeadPoison, Body: []byte(`{"id":"a"}`), Error: "x-signature does not match the body"},
		{Kind: routers.DeadAppeal, Body: []byte(`{}`), Error: "district answered 422", AppealNumber: monitorwebtest.Overdue},
	} {
		dl.Queue, dl.Attempts, dl.Fingerprint = "egov.portal.requests", 1, dl.Error
		require.NoError(t, site.Ledger.AddDeadLetter(t.Context(), dl))
	}
	ctx := browser(t)
	step, eval := drive(t, ctx)
	step("sign in and open the dead letters",
		chromedp.Navigate(site.URL),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), site.Token+"\r"),
		chromedp.WaitVisible(chromedp.CSS("#districts")),
		chromedp.Click(chromedp.CSS("#nav-dead-letters")),
		chromedp.WaitVisible(chromedp.CSS("#letters")),
	)
	require.Equal(t, "2", eval(`String(document.querySelectorAll('#letters tbody tr').length)`))
	checkLabels(t, ctx)
	checkContrast(t, ctx)

	step("replay the first",
		chromedp.Evaluate[chromedp.Void](`window.samePage = true`),
		chromedp.Click(chromedp.CSS("#replay-1")),
		chromedp.WaitVisible(chromedp.CSS("#notice")),
	)
	require.Equal(t, "1 nömrəli ölü məktub yenidən göndərildi.", eval(`document.getElementById('notice').textContent`))
	require.Equal(t, "true", eval(`String(window.samePage === true)`), "htmx swapped the desk: no reload")
	require.Equal(t, "1", eval(`String(document.querySelectorAll('#letters tbody tr').length)`), "the replayed letter left the list")
	row := eval(`document.querySelector('#actions tbody tr[data-outcome=done]').textContent`)
	for _, want := range []string{"2026-03-18 10:00:00", "monitor", "Yenidən göndərmə", "Panel", "Edildi"} {
		require.Contains(t, row, want, "who, what, when (Baku time), how")
	}
	checkContrast(t, ctx)
	screenshot(t, ctx, "monitor-dead-letters.png")

	// The page's script could post with the session's cookie, but not
	// without the form token: refused, nothing done or recorded.
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch('/monitor/dead-letters/2/drop', {method: 'POST', credentials: 'same-origin'}).then(r => r.status)`,
		chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, status)
	actions, err := site.Ledger.OperatorActions(t.Context(), 0, 10)
	require.NoError(t, err)
	require.Len(t, actions, 1)
	require.Equal(t, routers.Operator{Name: "monitor", Role: "operator", Channel: routers.ChannelDashboard}, actions[0].Operator)
	require.Equal(t, int64(1), actions[0].DeadLetterID)
	open, err := site.Ledger.DeadLetters(t.Context(), routers.DeadLetterOpen, 0, 10)
	require.NoError(t, err)
	require.Len(t, open, 1, "letter 2 is still open")
}

// TestMonitorDashboardInBrowser walks a monitor through the dashboard in a
// real browser, over a small fake country whose figures the test moves.
func TestMonitorDashboardInBrowser(t *testing.T) {
	t.Parallel()
	site := fakeDashboard(t)
	driveDashboard(t, browser(t), site)
}

// TestMonitorDashboardInDemo walks the same way through the whole demo: its
// 90 days of history in the memory ledger, read by the real Monitor, and
// its live traffic moving the table. KORPU_SCREENSHOTS=1 (or -update)
// writes docs/monitor.png from it.
func TestMonitorDashboardInDemo(t *testing.T) {
	t.Parallel()
	hub := startDemo(t)
	driveDashboard(t, browser(t), dashboardSite{URL: hub + "/monitor/", Token: "demo-monitor-token-on-this-machine-only", Screenshot: true})
}

// driveDashboard signs in by the form, reads and sorts the country table,
// sees it update live, opens a district with overdue appeals and one of
// them, downloads the district's CSV, and checks labels and contrast on
// the way. It assumes only what any hub's dashboard shows.
func driveDashboard(t *testing.T, ctx context.Context, site dashboardSite) {
	t.Helper()
	step, eval := drive(t, ctx)

	step("open the dashboard, Tab once",
		chromedp.Navigate(site.URL),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.KeyEvent("\t"),
	)
	require.Equal(t, "skip", eval(`document.activeElement.className`), "the skip link is the first stop of the keyboard")
	require.NotEqual(t, "none", eval(`getComputedStyle(document.activeElement).outlineStyle`), "focus is visible")
	require.Equal(t, "az", eval(`document.documentElement.lang`))
	checkLabels(t, ctx)
	const wrongToken = "Giriş nişanı yanlışdır. Yenidən yoxlayın."
	step("a wrong token",
		chromedp.SendKeys(chromedp.CSS("#token"), "not-the-token"),
		chromedp.Click(chromedp.CSS("#signin")),
		// The form shown in place already holds a #problem (sign in first):
		// wait for the answer to the post, not for any problem.
		chromedp.WaitVisible(chromedp.Search(`//p[@id="problem"][normalize-space()="`+wrongToken+`"]`)),
	)
	require.Equal(t, wrongToken, eval(`document.getElementById('problem').textContent`))
	step("sign in with the token and Enter",
		chromedp.SendKeys(chromedp.CSS("#token"), site.Token+"\r"),
		chromedp.WaitVisible(chromedp.CSS("#districts")),
	)
	require.Equal(t, "Rayonlar üzrə vəziyyət", eval(`document.querySelector('h1').textContent`))
	require.Equal(t, "true", eval(`String(document.cookie === '')`), "the session cookie is HttpOnly")
	checkLabels(t, ctx)
	checkContrast(t, ctx)

	type row struct {
		Code    string
		Overdue int
		Late    bool
	}
	rows := func() []row {
		t.Helper()
		out, err := chromedp.Run(ctx, chromedp.Evaluate[[]row](`[...document.querySelectorAll('#districts tbody tr')].map(r => ({
			Code: r.dataset.district, Overdue: +r.querySelector('[data-col=overdue]').textContent, Late: r.classList.contains('late')}))`))
		require.NoError(t, err)
		return out
	}
	all := rows()
	require.NotEmpty(t, all)
	step("sort by overdue", chromedp.Click(chromedp.CSS("#sort-overdue")), chromedp.WaitVisible(chromedp.CSS(`th[aria-sort=descending] #sort-overdue`)))
	sorted := rows()
	require.Len(t, sorted, len(all))
	for i := 1; i < len(sorted); i++ {
		require.GreaterOrEqual(t, sorted[i-1].Overdue, sorted[i].Overdue, "most overdue first: %+v", sorted)
	}
	require.Contains(t, eval(`location.search`), "sort=overdue", "sorting is a link: it works without script")
	step("and the other way", chromedp.Click(chromedp.CSS("#sort-overdue")), chromedp.WaitVisible(chromedp.CSS(`th[aria-sort=ascending] #sort-overdue`)))
	require.LessOrEqual(t, rows()[0].Overdue, rows()[len(all)-1].Overdue)

	late := sorted[0]
	require.Positive(t, late.Overdue, "a district with overdue appeals: %+v", sorted)
	require.True(t, late.Late, "a district with overdue appeals is marked late")
	require.Contains(t, eval(`document.querySelector('tr[data-district="`+late.Code+`"] .badge-late').textContent`), "gecikir",
		"late in words, not by colour alone")

	// Live: the table follows the hub without a reload. The mark on the
	// page outlives an update and would not outlive a reload.
	total := `document.querySelector('#districts tfoot [data-col=received]').textContent`
	before := eval(total)
	if site.Change != nil {
		site.Change()
	}
	step("the table updates live",
		chromedp.Evaluate[chromedp.Void](`window.samePage = true`),
		chromedp.Poll[chromedp.Void](`window.samePage === true && `+total+` !== `+jsString(before), chromedp.WithPollingTimeout(20*time.Second)),
	)
	checkContrast(t, ctx)
	if site.Screenshot && (*updateScreenshots || os.Getenv("KORPU_SCREENSHOTS") != "") {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join("..", "..", "docs", "monitor.png"), png, 0o644))
	}

	step("open the late district",
		chromedp.Click(chromedp.CSS("#d-"+late.Code)),
		chromedp.WaitVisible(chromedp.CSS("#figures")),
	)
	require.Equal(t, strconv.Itoa(late.Overdue), eval(`document.getElementById('fig-overdue').textContent`))
	checkLabels(t, ctx)
	checkContrast(t, ctx)
	districtURL := eval(`location.href`)
	number := eval(`document.querySelector('#overdue tbody tr').dataset.number`)
	require.True(t, strings.HasPrefix(number, late.Code+"-"), number)

	// The CSV, fetched by the page itself: the browser hands over the
	// HttpOnly session cookie.
	type download struct {
		Status                  int
		Type, Disposition, Body string
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[download](`fetch(document.getElementById('export').href, {credentials: 'same-origin'})
		.then(async r => ({Status: r.status, Type: r.headers.get('Content-Type'), Disposition: r.headers.get('Content-Disposition'), Body: await r.text()}))`,
		chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.Equal(t, 200, got.Status, got.Body)
	require.Equal(t, "text/csv; charset=utf-8", got.Type)
	require.Regexp(t, `^attachment; filename="korpu-`+late.Code+`-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv"$`, got.Disposition)
	records, err := csv.NewReader(strings.NewReader(got.Body)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"number", "district", "service", "type", "status", "deadline",
		"registered_at", "delivered_at", "first_in_progress_at", "answered_at", "closed_at"}, records[0])
	require.Greater(t, len(records), 1, "the district's appeals of the period")
	for _, r := range records[1:] {
		// Filed with the district; one forwarded on to another district on
		// the hub names its holder now.
		require.True(t, strings.HasPrefix(r[0], late.Code+"-"), "only the appeals filed with the district: %v", r)
		require.Regexp(t, `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+04:00$`, r[6], "registered, RFC 3339 in Baku time")
	}

	step("open an overdue appeal",
		chromedp.Click(chromedp.CSS("#a-"+number)),
		chromedp.WaitVisible(chromedp.CSS("#timeline")),
	)
	require.Equal(t, "Müraciət "+number, eval(`document.querySelector('h1').textContent`))
	require.NotEmpty(t, eval(`document.getElementById('status').dataset.status`))
	require.NotEqual(t, "0", eval(`String(document.querySelectorAll('#timeline tbody tr').length)`), "the timeline")
	checkContrast(t, ctx)

	step("in English",
		chromedp.Navigate(districtURL),
		chromedp.WaitVisible(chromedp.CSS("#figures")),
		chromedp.Click(chromedp.CSS(`a[hreflang="en"]`)),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #figures`)),
	)
	require.Equal(t, "Overdue", eval(`document.querySelector('#fig-overdue').previousElementSibling.textContent`))
	require.Contains(t, eval(`document.getElementById('export').href`), "lang=en", "links keep the language")

	step("find the appeal by its number",
		chromedp.SendKeys(chromedp.CSS("#search-number"), strings.ToLower(number)+"\r"),
		chromedp.WaitVisible(chromedp.CSS("#timeline")),
	)
	require.Equal(t, "Appeal "+number, eval(`document.querySelector('h1').textContent`))
	step("sign out",
		chromedp.Click(chromedp.CSS("#signout")),
		chromedp.WaitVisible(chromedp.CSS("#flash")),
		chromedp.Navigate(site.URL),
		chromedp.WaitVisible(chromedp.CSS("#token")),
	)
}

// drive is a test's hands on the browser: step runs actions, each step
// within 30 s; eval reads a value of the page as a string.
func drive(t *testing.T, ctx context.Context) (step func(what string, actions ...chromedp.Action[chromedp.Void]), eval func(js string) string) {
	step = func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		stepCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		require.NoError(t, chromedp.Do(stepCtx, actions...), what)
	}
	eval = func(js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		require.NoError(t, err, js)
		return s
	}
	return step, eval
}

// checkLabels fails the test for an input, select or text area of the
// page that has no label with text.
func checkLabels(t *testing.T, ctx context.Context) {
	t.Helper()
	unlabelled, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
		.filter(e => e.labels.length === 0 || !e.labels[0].textContent.trim()).map(e => e.name || e.id)`))
	require.NoError(t, err)
	require.Empty(t, unlabelled, "every input has a label")
}
