package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/sim/registrysim"
)

var updateScreenshots = flag.Bool("update", false, "rewrite the portal's screenshots in docs/")

// startDemo runs `korpu demo` in this process, as the command line does,
// and returns the hub's URL; the demo stops with the test.
func startDemo(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, in := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- demo(ctx, []string{"--listen", "127.0.0.1:0", "--rate", "2"}, in)
		in.Close()
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done, "demo stopped with an error")
	})
	// The pipe is drained to the end whatever happens, so the demo never
	// blocks on a line nobody reads.
	lines := bufio.NewScanner(out)
	defer func() { go func() { _, _ = io.Copy(io.Discard, out) }() }()
	var printed []string
	for lines.Scan() { // the history's summary comes first
		printed = append(printed, lines.Text())
		if m := regexp.MustCompile(`hub API on (http://\S+) `).FindStringSubmatch(lines.Text()); m != nil {
			return m[1]
		}
	}
	require.FailNow(t, "the demo never said where its hub listens", "it printed: %q", printed)
	return ""
}

// browser starts a headless Chromium of its own, on a fresh profile, that
// asks nothing of the internet.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("KORPU_REQUIRE_TOOLS") == "" {
			t.Skip("chromium is not installed (scripts/tools installs it; KORPU_REQUIRE_TOOLS=1 makes this a failure)")
		}
		t.Fatal("chromium is required (KORPU_REQUIRE_TOOLS is set): apt-get install chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	// Cleanups run last-in first-out: the browser ends before its profile goes.
	t.Cleanup(cancelAlloc)
	t.Cleanup(cancelCtx)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("about:blank")), "start chromium")
	return ctx
}

// TestPortalPageInBrowser walks a citizen through the training portal in a
// real browser against the whole demo: sign in, the ID card from the
// registry, a reception booking on one of the next 4 days with free places,
// "Müraciətiniz göndərildi" once registered, the status following the hub
// live, the history, the details, a remark and the PDF.
func TestPortalPageInBrowser(t *testing.T) {
	t.Parallel()
	hub := startDemo(t)
	ctx := browser(t)
	const fin = "2QW4E6T"
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		stepCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		require.NoError(t, chromedp.Do(stepCtx, actions...), what)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		require.NoError(t, err, sel)
		return s
	}

	step("open the portal, Tab once",
		chromedp.Navigate(hub+"/portal/"),
		chromedp.WaitVisible(chromedp.CSS("#signin")),
		chromedp.KeyEvent("\t"),
	)
	focus, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(e => [e.className, getComputedStyle(e).outlineStyle])(document.activeElement)`))
	require.NoError(t, err)
	require.Equal(t, "skip", focus[0], "the skip link is the first stop of the keyboard")
	require.NotEqual(t, "none", focus[1], "focus is visible")
	step("sign in with the keyboard",
		chromedp.Focus(chromedp.CSS("#fin-"+fin)),
		chromedp.KeyEvent(" "), // a focused radio is chosen with the space bar
		chromedp.Focus(chromedp.CSS("#signin")),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS("#id-card")),
	)
	person := registrysim.Record(fin)
	card := text("#id-card")
	for _, want := range []string{person.Surname, person.Name, person.Patronymic, person.BirthDate, person.RegistrationAddress, person.IDCard.Number} {
		require.Contains(t, card, want, "the ID card as the registry has it")
	}

	step("choose Biləsuvar and a reception",
		chromedp.Click(chromedp.CSS("#new-appeal")),
		chromedp.WaitVisible(chromedp.CSS("#district")),
		chromedp.SetValue(chromedp.CSS("#district"), "AZ-BIL"),
		chromedp.Click(chromedp.CSS("#choose-continue")),
		chromedp.WaitVisible(chromedp.CSS("#service")),
		chromedp.SetValue(chromedp.CSS("#service"), "reception-booking"),
		chromedp.Click(chromedp.CSS("#choose-continue")),
		chromedp.WaitVisible(chromedp.CSS("#f-reception")),
	)
	type day struct {
		Official, Date string
		Free           int
		Disabled       bool
		ID             string
	}
	days, err := chromedp.Run(ctx, chromedp.Evaluate[[]day](`[...document.querySelectorAll('input[name=reception]')].map(e => ({
		Official: e.value.split('|')[0], Date: e.value.split('|')[1], Free: +e.dataset.free, Disabled: e.disabled, ID: e.id}))`))
	require.NoError(t, err)
	// The page shows what the hub offers: each official's next 4 days.
	var offered struct {
		Officials []struct {
			ID   string `json:"id"`
			Days []struct {
				Date string `json:"date"`
				Free int    `json:"free"`
			} `json:"next_reception_days"`
		} `json:"officials"`
	}
	apiJSON(t, hub+"/v1/districts/AZ-BIL/officials", &offered)
	require.Len(t, offered.Officials, 2)
	var shown, want []string
	for _, d := range days {
		shown = append(shown, d.Official+" "+d.Date)
		require.Equal(t, d.Free <= 0, d.Disabled, "only a full day is disabled: %+v", d)
	}
	for _, o := range offered.Officials {
		require.Len(t, o.Days, 4)
		for _, d := range o.Days {
			want = append(want, o.ID+" "+d.Date)
		}
	}
	require.Equal(t, want, shown, "the reception days the hub offers")
	chosen := days[0]
	require.Positive(t, chosen.Free, "free places on the first day")

	step("fill in the appeal",
		chromedp.Click(chromedp.CSS("#"+chosen.ID)),
		chromedp.Click(chromedp.CSS("#type-application")),
		chromedp.SetValue(chromedp.CSS("#f-social_status"), "pensioner"),
		chromedp.SetValue(chromedp.CSS("#f-privilege_status"), "idp"),
		chromedp.SendKeys(chromedp.CSS("#f-subject"), "Torpaq sahəsi"),
		chromedp.SendKeys(chromedp.CSS("#f-text"), "Həyətyanı torpaq sahəsinin sənədləşdirilməsi ilə bağlı qəbula yazılmaq istəyirəm."),
	)
	unlabelled, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
		.filter(e => e.labels.length === 0 || !e.labels[0].textContent.trim()).map(e => e.name || e.id)`))
	require.NoError(t, err)
	require.Empty(t, unlabelled, "every input has a label")
	headings, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.documentElement.lang, ...[...document.querySelectorAll('h1')].map(h => h.textContent)]`))
	require.NoError(t, err)
	require.Equal(t, []string{"az", "Yeni müraciət"}, headings, "the page's language and its one h1")
	checkContrast(t, ctx)
	phone, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#f-phone")))
	require.NoError(t, err)
	require.Equal(t, "+994553456789", phone, "the profile's phone filled in")
	screenshot(t, ctx, "portal.png")

	step("send", chromedp.Click(chromedp.CSS("#send")), chromedp.WaitVisible(chromedp.CSS("#flash")))
	require.Equal(t, "Müraciətiniz göndərildi", text("#flash"))
	number := strings.TrimPrefix(text("h1"), "Müraciət ")
	require.Regexp(t, `^AZ-BIL-\d{4}-\d{6}$`, number)
	require.Contains(t, text("#reception"), chosen.Date, "the booked day")

	// Live: the status part follows the hub without a reload. The mark on
	// the element outlives any update and would not outlive a reload; the
	// stale status shown must be replaced by the hub's, delivered or later.
	step("status follows the hub live",
		chromedp.Evaluate[chromedp.Void](`document.getElementById('live-status').dataset.mark = 'same page';
			document.querySelector('#live-status [data-status]').dataset.status = 'stale'`),
		chromedp.Poll[chromedp.Void](`document.getElementById('live-status').dataset.mark === 'same page' &&
			['delivered','in_progress','answered','rejected','forwarded','closed'].includes(document.querySelector('#live-status [data-status]').dataset.status)`,
			chromedp.WithPollingTimeout(20*time.Second)),
	)
	checkContrast(t, ctx)
	screenshot(t, ctx, "portal-details.png")

	step("history, then details",
		chromedp.Click(chromedp.CSS(`#main .actions a[href$="/history"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-number="`+number+`"]`)),
		chromedp.Click(chromedp.CSS(`tr[data-number="`+number+`"] a`)),
		chromedp.WaitVisible(chromedp.CSS("#comment-form")),
	)
	require.Equal(t, "Müraciət "+number, text("h1"))
	step("in English", chromedp.Click(chromedp.CSS(`a[hreflang="en"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #comment-form`)))
	require.Equal(t, "Appeal "+number, text("h1"))
	step("and back", chromedp.Click(chromedp.CSS(`a[hreflang="az"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="az"] #comment-form`)))

	const remark = "Əlavə sənədləri qəbul günü gətirəcəyəm."
	step("add a remark",
		chromedp.SendKeys(chromedp.CSS("#comment-text"), remark),
		chromedp.Click(chromedp.CSS("#comment-send")),
		chromedp.WaitVisible(chromedp.CSS("#flash")),
	)
	require.Equal(t, "Qeydiniz göndərildi", text("#flash"))
	step("the remark reaches the authority",
		chromedp.Poll[chromedp.Void](`(t => t.includes(`+jsString(remark)+`) && t.includes('çatdırılıb'))(document.getElementById('live-comments').textContent)`,
			chromedp.WithPollingTimeout(20*time.Second)),
	)

	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('pdf').href`))
	require.NoError(t, err)
	// The session cookie is HttpOnly: the browser hands it over, not the page.
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{href}})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, href, nil)
	require.NoError(t, err)
	for _, c := range cookies.Cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	pdf, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the appeal's PDF: %s", pdf)
	require.Equal(t, "application/pdf", resp.Header.Get("Content-Type"))
	require.True(t, strings.HasPrefix(string(pdf), "%PDF"), "a PDF")
}

// lowContrast lists the texts of the page whose colour on their background
// falls short of WCAG AA: 4.5:1, or 3:1 for large text (24px, or 18.66px
// bold). The background is the nearest opaque one among the ancestors.
const lowContrast = `(() => {
	const rgb = s => s.match(/[\d.]+/g).map(Number);
	const lum = c => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
	const background = e => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.length < 4 || c[3] === 1) return c; } return [255, 255, 255]; };
	const bad = [];
	for (const e of document.querySelectorAll('body *')) {
		if (![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
		const st = getComputedStyle(e), r = e.getBoundingClientRect();
		if (r.width <= 1 || r.height <= 1 || st.visibility !== 'visible') continue;
		const [a, b] = [lum(rgb(st.color)), lum(background(e))], ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
		const size = parseFloat(st.fontSize), large = size >= 24 || (size >= 18.66 && +st.fontWeight >= 700);
		if (ratio < (large ? 3 : 4.5)) bad.push(e.tagName + ' "' + e.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2));
	}
	return bad;
})()`

// checkContrast fails the test for any text of the page below WCAG AA.
func checkContrast(t *testing.T, ctx context.Context) {
	t.Helper()
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](lowContrast))
	require.NoError(t, err)
	require.Empty(t, bad, "texts below WCAG AA contrast")
}

// apiJSON reads the hub's API as the central monitors do.
func apiJSON(t *testing.T, url string, v any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer demo-monitor-token-on-this-machine-only")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, url)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

// screenshot writes the whole page to docs/name when -update is given.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if !*updateScreenshots {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join("..", "..", "docs", name), png, 0o644))
}

// jsString quotes s for JavaScript.
func jsString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}
