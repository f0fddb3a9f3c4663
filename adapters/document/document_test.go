package document_test

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	_ "image/png" // decoding the QR code's rendering
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/document"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/catalogue"
)

var update = flag.Bool("update", false, "rewrite docs/appeal-document.png, the first page of the sample appeal")

const (
	number     = "AZ-BIL-2026-000017"
	detailsURL = "https://portal.example/appeals/{number}"
	fullName   = "Məmmədova Gülçöhrə İlqar qızı"
	appealText = "Hörmətli İcra Hakimiyyəti! Ötən ayın ortasından bəri Şıxlı küçəsindəki 17 nömrəli binanın " +
		"həyətində işıqlar yanmır, uşaqlar axşamlar qaranlıqda gəzir. Binanın divarında \"DİQQƏT: ÇÖKMƏ " +
		"TƏHLÜKƏSİ, AĞIR YÜK QADAĞANDIR\" yazısı var, amma heç bir iş görülmür. Ğ, Ş, Ç, Ö, Ü və Ə hərfləri " +
		"ilə yazılan bu müraciətə baxmağınızı və işığın bərpa olunmasını xahiş edirəm."
)

// view is a realistic complaint: registered, delivered and being looked into.
func view() routers.AppealView {
	registered := time.Date(2026, 12, 1, 10, 5, 0, 0, routers.Baku)
	svc, _ := catalogue.Default().Lookup("appeal")
	return routers.AppealView{
		Number:   number,
		District: routers.DistrictInfo{Code: "AZ-BIL", Name: "Biləsuvar rayon İcra Hakimiyyəti"},
		Service:  svc,
		Request: routers.Request{
			Service: "appeal",
			Citizen: routers.Citizen{FIN: "5ZJ7K2M", Phone: "+994501234567"},
			Appeal: routers.AppealForm{
				Type: "complaint", SocialStatus: "employed", PrivilegeStatus: "idp",
				Subject: "Həyətdəki küçə işıqları", Text: appealText,
			},
		},
		Person: &routers.Person{
			FIN: "5ZJ7K2M", Surname: "Məmmədova", Name: "Gülçöhrə", Patronymic: "İlqar qızı",
			IDCard: routers.IDCard{Series: "AZE", Number: "12345678"},
		},
		Status:       routers.StatusInProgress,
		SubmittedAt:  registered.Add(-2 * time.Minute),
		RegisteredAt: registered,
		Deadline:     "2026-12-22",
		DistrictRef:  "BIL/2026/4411",
		Events: []routers.StatusEvent{
			{Sequence: 1, Status: routers.StatusRegistered, At: routers.FormatTime(registered), Deadline: "2026-12-22"},
			{Sequence: 2, Status: routers.StatusDelivered, At: routers.FormatTime(registered.Add(40 * time.Second))},
			{Sequence: 3, Status: routers.StatusInProgress, At: routers.FormatTime(registered.Add(26 * time.Hour)),
				Note: "Müraciət kommunal xidmətə göndərilib, işçilər sabah yerində baxış keçirəcək."},
		},
		Head: routers.ChainLink{Sequence: 3, Hash: headHash}, HeadLeaf: &headLeaf,
	}
}

// headHash is view's chain head, whose base64url holds both - and _.
var headHash = []byte("\xfb\xff\xbf-chain-head-of-32-bytes-long!")

// headLeaf is the head event's leaf index in the transparency log.
var headLeaf uint64 = 4711

// serviceView is an application for a service with a form.
func serviceView() routers.AppealView {
	v := view()
	v.Service = catalogue.Service{Code: "family-composition-certificate", Name: "Ailə tərkibi haqqında arayış",
		NameEN: "Certificate of family composition"}
	v.Request.Appeal.Type = "application"
	v.Fields = []routers.FieldView{
		{Code: "purpose", Label: "Arayışın təqdim ediləcəyi yer", LabelEN: "Where the certificate is for",
			Value: "Sosial müdafiə şöbəsi", ValueEN: "Social protection department"},
		{Code: "members", Label: "Ailə üzvlərinin sayı", LabelEN: "Number of family members", Value: "4", ValueEN: "4"},
	}
	return v
}

// receptionView books a reception with the head of the authority.
func receptionView() routers.AppealView {
	v := view()
	v.Service = catalogue.Service{Code: "reception-booking", Name: "Vəzifəli şəxsin qəbuluna yazılma", NameEN: "Booking a reception"}
	v.Request.Appeal.Type = "application"
	v.Reception = &routers.ReceptionView{
		Official: routers.Official{ID: "BIL-01", Name: "Əliyev Rauf Kamal oğlu", Position: "İcra hakimiyyətinin başçısı"},
		Date:     "2026-12-08",
		Sessions: []routers.Session{{Weekday: time.Tuesday, From: "10:00", To: "13:00"}, {Weekday: time.Tuesday, From: "15:00", To: "17:00"}},
	}
	return v
}

func renderer(t testing.TB) *document.Renderer {
	t.Helper()
	r, err := document.New(document.Config{DetailsURL: detailsURL})
	require.NoError(t, err)
	return r
}

func render(t testing.TB, v routers.AppealView, lang string) []byte {
	t.Helper()
	pdf, err := renderer(t).Render(v, lang)
	require.NoError(t, err)
	return pdf
}

// poppler runs one of poppler-utils' tools on pdf and returns what it prints.
// Without the tools a test skips, unless KORPU_REQUIRE_TOOLS is set, as
// scripts/test (and so CI) sets it after installing them.
func poppler(t *testing.T, pdf []byte, tool string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		if os.Getenv("KORPU_REQUIRE_TOOLS") != "" {
			t.Fatalf("%s is missing (scripts/tools installs poppler-utils)", tool)
		}
		t.Skipf("%s is missing (Debian/Ubuntu: apt-get install poppler-utils)", tool)
	}
	path := filepath.Join(t.TempDir(), "appeal.pdf")
	require.NoError(t, os.WriteFile(path, pdf, 0o600))
	args = append(args, path)
	if tool == "pdftotext" {
		args = append(args, "-") // to standard output
	}
	out, err := exec.Command(tool, args...).CombinedOutput()
	require.NoError(t, err, "%s: %s", tool, out)
	return string(out)
}

var footer = regexp.MustCompile(`(?m)^.*(Səhifə|Page) \d+ (/|of) \d+\s*$`)

// text is the document's text with the page footers taken out and every
// run of white space made one space: line breaks are the layout's, not the
// text's.
func text(t *testing.T, pdf []byte) string {
	t.Helper()
	out := footer.ReplaceAllString(poppler(t, pdf, "pdftotext", "-layout", "-enc", "UTF-8"), "")
	return strings.Join(strings.Fields(out), " ")
}

// contains is require.Contains with a message short enough to read: a
// document's text runs to pages.
func contains(t *testing.T, got, want string, msg ...any) {
	t.Helper()
	if !strings.Contains(got, want) {
		excerpt := got
		if len(excerpt) > 3000 {
			excerpt = excerpt[:3000] + "…"
		}
		require.Failf(t, "text missing", "want %q\nin %s\n%v", want, excerpt, msg)
	}
}

func pages(t *testing.T, pdf []byte) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)$`).FindStringSubmatch(poppler(t, pdf, "pdfinfo"))
	require.NotNil(t, m)
	n, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	return n
}

func TestRenderAzerbaijani(t *testing.T) {
	t.Parallel()
	pdf := render(t, view(), "az")
	got := text(t, pdf)
	for _, want := range []string{
		"BİLƏSUVAR RAYON İCRA HAKİMİYYƏTİ", "MÜRACİƏT № " + number, "MÜRACİƏT HAQQINDA", "VƏTƏNDAŞ", "MÜRACİƏTİN MƏZMUNU", "VƏZİYYƏTLƏRİN TARİXÇƏSİ",
		"Müraciətin nömrəsi " + number, "Müraciətin növü şikayət",
		"Təqdim edilib 01.12.2026, 10:03", "Qeydiyyata alınıb 01.12.2026, 10:05", "Cavabın son müddəti 22.12.2026",
		"Cari vəziyyət baxılır", "BIL/2026/4411",
		"Soyadı, adı, atasının adı " + fullName, "Şəxsiyyət vəsiqəsi AZE 12345678",
		"Sosial statusu İşləyir", "Güzəşt statusu Məcburi köçkün",
		"Mövzu Həyətdəki küçə işıqları", appealText,
		"№ VƏZİYYƏT VAXT QEYD 1 qeydiyyata alınıb 01.12.2026, 10:05", "2 icra hakimiyyətinə çatdırılıb 01.12.2026, 10:05",
		"3 baxılır 02.12.2026, 12:05 Müraciət kommunal xidmətə göndərilib",
	} {
		contains(t, got, want)
	}
	require.Equal(t, 1, pages(t, pdf))
}

func TestRenderIsA4WithEmbeddedFonts(t *testing.T) {
	t.Parallel()
	pdf := render(t, view(), "az")
	require.Regexp(t, `(?m)^Page size:\s+595 x 842 pts \(A4\)$`, poppler(t, pdf, "pdfinfo"))
	fonts := strings.Split(strings.TrimSpace(poppler(t, pdf, "pdffonts")), "\n")
	require.Len(t, fonts, 4, "a header, a rule and the two fonts:\n%s", strings.Join(fonts, "\n"))
	for _, f := range fonts[2:] {
		// name type encoding emb sub uni object ID
		fields := strings.Fields(f)
		require.Regexp(t, `^[A-Z]{6}\+`, fields[0], "a subset's name: %s", f)
		require.Equal(t, []string{"yes", "yes", "yes"}, fields[len(fields)-5:len(fields)-2], "embedded, subset, with a ToUnicode map: %s", f)
	}
}

func TestRenderEnglish(t *testing.T) {
	t.Parallel()
	got := text(t, render(t, serviceView(), "en"))
	for _, want := range []string{
		"BİLƏSUVAR RAYON İCRA HAKİMİYYƏTİ", "APPEAL № " + number, "ABOUT THE APPEAL", "CITIZEN", "CONTENT OF THE APPEAL", "FORM DETAILS", "STATUS HISTORY",
		"Service Certificate of family composition", "Type application", "Submitted 1 December 2026, 10:03",
		"Answer due by 22 December 2026", "Current status in progress", "Full name " + fullName,
		"Social status employed", "Privilege status internally displaced person",
		"Where the certificate is for Social protection department", "Number of family members 4",
		"No. STATUS TIME NOTE", "3 in progress 2 Dec 2026, 12:05", "Times are Baku time (UTC+4).",
	} {
		contains(t, got, want)
	}
	require.NotContains(t, got, "İN PROGRESS", "English is not capitalised by Turkic rules")
}

func TestRenderForm(t *testing.T) {
	t.Parallel()
	got := text(t, render(t, serviceView(), ""))
	contains(t, got, "FORMANIN MƏLUMATLARI Arayışın təqdim ediləcəyi yer Sosial müdafiə şöbəsi Ailə üzvlərinin sayı 4")
	contains(t, got, "Xidmət Ailə tərkibi haqqında arayış")
	contains(t, got, "Müraciətin növü ərizə")
}

func TestRenderReception(t *testing.T) {
	t.Parallel()
	got := text(t, render(t, receptionView(), "az"))
	contains(t, got, "VƏTƏNDAŞLARIN QƏBULU Vəzifəli şəxs Əliyev Rauf Kamal oğlu Vəzifəsi İcra hakimiyyətinin başçısı "+
		"Qəbul günü 08.12.2026, çərşənbə axşamı Qəbul saatları 10:00–13:00, 15:00–17:00")
	got = text(t, render(t, receptionView(), "en"))
	contains(t, got, "Reception day 8 December 2026, Tuesday Reception hours 10:00–13:00, 15:00–17:00")
}

func TestRenderWithoutPersonOrEvents(t *testing.T) {
	t.Parallel()
	v := view()
	v.Person, v.Events, v.DistrictRef = nil, nil, ""
	v.Request.Appeal.PrivilegeStatus = ""
	got := text(t, render(t, v, "az"))
	contains(t, got, "Soyadı, adı, atasının adı reyestrdən hələ daxil olmayıb Şəxsiyyət vəsiqəsi reyestrdən hələ daxil olmayıb")
	contains(t, got, "Güzəşt statusu yoxdur")
	contains(t, got, "VƏZİYYƏTLƏRİN TARİXÇƏSİ Hələ heç bir dəyişiklik olmayıb.")
	require.NotContains(t, got, "İcra hakimiyyətində qeydiyyat nömrəsi")

	got = text(t, render(t, routers.AppealView{}, "en"))
	contains(t, got, "Full name not yet received from the registry")
	contains(t, got, "No changes yet.")
}

// TestRenderLongText: a text of many pages is all there, in order, and the
// timeline's header comes again on each page it goes on to.
func TestRenderLongText(t *testing.T) {
	t.Parallel()
	var words []string
	for i := range 800 { // the contract's 10,000 characters at most
		words = append(words, fmt.Sprintf("söz%dçəğış", i))
	}
	v := view()
	v.Request.Appeal.Text = strings.Join(words, " ")
	for i := range 120 {
		v.Events = append(v.Events, routers.StatusEvent{Sequence: 4 + i, Status: routers.StatusCommented,
			At: routers.FormatTime(v.RegisteredAt.Add(time.Duration(i) * time.Hour)), Note: fmt.Sprintf("qeyd %d", i)})
	}
	pdf := render(t, v, "az")
	n := pages(t, pdf)
	require.Greater(t, n, 3)
	got := text(t, pdf)
	contains(t, got, v.Request.Appeal.Text)
	contains(t, got, "123 vətəndaş əlavə bildirib")
	contains(t, got, "qeyd 119")
	raw := poppler(t, pdf, "pdftotext", "-layout", "-enc", "UTF-8")
	require.Contains(t, raw, fmt.Sprintf("Səhifə %d / %d", n, n))
	require.GreaterOrEqual(t, strings.Count(raw, "VAXT"), 2, "the timeline's header on every page it spans")
}

// TestRenderHostile: what bypassed the hub's checks is bounded and set
// without failing: a word wider than the page, control characters, invalid
// UTF-8, characters the font lacks, a thousand form fields.
func TestRenderHostile(t *testing.T) {
	t.Parallel()
	v := view()
	long := strings.Repeat("ğ", 3000)
	v.Request.Appeal.Text = long + "\x00\x1b[31m\xff\xfe tab\there\r\nnew line \u202eevil\u202c 😀 " + strings.Repeat("söz ", 20000)
	v.Request.Appeal.Subject = strings.Repeat("\n", 5000)
	v.District.Name = strings.Repeat("Biləsuvar ", 300)
	v.Person.Surname = strings.Repeat("x", 10000)
	for i := range 1000 {
		v.Fields = append(v.Fields, routers.FieldView{Code: strconv.Itoa(i), Value: strings.Repeat("v", 300)})
	}
	v.Events = append(v.Events, routers.StatusEvent{Sequence: -1, Status: "nonsense", At: "yesterday", Note: strings.Repeat("n ", 50000)})
	pdf := render(t, v, "az")
	got := text(t, pdf)
	require.Equal(t, 3000, strings.Count(got, "ğ"), "a word wider than the page is cut, not lost")
	contains(t, got, "ğ [31m\ufffd tab here new line evil \ufffd söz", "control characters are spaces, bad bytes and characters beyond U+FFFF one U+FFFD")
	contains(t, got, "… daha 800 qeyd göstərilməyib")
	contains(t, got, "-1 nonsense yesterday")
	require.NotContains(t, got, "\x1b")
}

// TestRenderStopsAtFiftyPages: a document is bounded whatever the ledger
// holds, and says where it stops.
func TestRenderStopsAtFiftyPages(t *testing.T) {
	t.Parallel()
	v := view()
	for i := range 1000 {
		v.Events = append(v.Events, routers.StatusEvent{Sequence: 4 + i, Status: routers.StatusCommented,
			At: routers.FormatTime(v.RegisteredAt), Note: strings.Repeat("uzun qeyd ", routers.MaxNoteRunes/10)})
	}
	pdf := render(t, v, "az")
	require.Equal(t, 50, pages(t, pdf))
	raw := poppler(t, pdf, "pdftotext", "-layout", "-enc", "UTF-8")
	contains(t, raw, "… sənəd 50 səhifədən uzun olmur; qalanı portaldadır.")
	contains(t, raw, "Səhifə 50 / 50")
}

func TestRenderRefusesOtherLanguages(t *testing.T) {
	t.Parallel()
	_, err := renderer(t).Render(view(), "ru")
	require.ErrorIs(t, err, document.ErrLanguage)
}

func TestNewChecksDetailsURL(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"", detailsURL, "http://127.0.0.1:8081/a/{number}?x=1"} {
		_, err := document.New(document.Config{DetailsURL: ok})
		require.NoError(t, err, ok)
	}
	for _, bad := range []string{
		"https://portal.example/appeals/", "portal.example/{number}", "ftp://portal.example/{number}",
		"https:///{number}", "https://portal.example/" + strings.Repeat("a", 600) + "{number}",
	} {
		_, err := document.New(document.Config{DetailsURL: bad})
		require.Error(t, err, bad)
	}
}

// TestQRCode decodes the QR code twice: the image the PDF embeds, and the
// first page as a reader's screen shows it.
func TestQRCode(t *testing.T) {
	t.Parallel()
	pdf := render(t, view(), "az")
	const chain = "seq=3&head=-_-_LWNoYWluLWhlYWQtb2YtMzItYnl0ZXMtbG9uZyE&leaf=4711"
	want := number + " https://portal.example/appeals/" + number + "?" + chain

	list := poppler(t, pdf, "pdfimages", "-list")
	require.Regexp(t, `(?m)^\s+1\s+0 image\s+\d+\s+\d+\s+gray\s+1\s+8`, list, "one grey-scale image on page 1:\n%s", list)
	dir := t.TempDir()
	path := filepath.Join(dir, "appeal.pdf")
	require.NoError(t, os.WriteFile(path, pdf, 0o600))
	out, err := exec.Command("pdfimages", "-png", path, filepath.Join(dir, "img")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, want, decodeQR(t, filepath.Join(dir, "img-000.png")))

	out, err = exec.Command("pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile", path, filepath.Join(dir, "page")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, want, decodeQR(t, filepath.Join(dir, "page.png")))

	r, err := document.New(document.Config{})
	require.NoError(t, err)
	pdf, err = r.Render(view(), "az")
	require.NoError(t, err)
	path = filepath.Join(dir, "bare.pdf")
	require.NoError(t, os.WriteFile(path, pdf, 0o600))
	out, err = exec.Command("pdfimages", "-png", path, filepath.Join(dir, "bare")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, number+" "+chain, decodeQR(t, filepath.Join(dir, "bare-000.png")), "no link configured: the number and the chain head")

	got := text(t, pdf)
	contains(t, got, "MÜRACİƏT № "+number+" Müraciətin nömrəsi MÜRACİƏT HAQQINDA", "the caption says what the code holds")
	require.NotContains(t, got, "portalda")

	r, err = document.New(document.Config{DetailsURL: "https://portal.example/view?lang=az&n={number}#top"})
	require.NoError(t, err)
	pdf, err = r.Render(view(), "az")
	require.NoError(t, err)
	path = filepath.Join(dir, "query.pdf")
	require.NoError(t, os.WriteFile(path, pdf, 0o600))
	out, err = exec.Command("pdfimages", "-png", path, filepath.Join(dir, "query")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, number+" https://portal.example/view?lang=az&n="+number+"&"+chain+"#top", decodeQR(t, filepath.Join(dir, "query-000.png")),
		"the link's own query and fragment stay")
}

func decodeQR(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, _, err := image.Decode(f)
	require.NoError(t, err)
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	require.NoError(t, err)
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, nil)
	require.NoError(t, err)
	return res.GetText()
}

// TestRenderConcurrently: one Renderer serves many requests at once (the
// parsed fonts are shared), each document with its own text.
func TestRenderConcurrently(t *testing.T) {
	t.Parallel()
	r := renderer(t)
	var wg sync.WaitGroup
	docs := make([][]byte, 8)
	for i := range docs {
		wg.Go(func() {
			v := view()
			v.Number = fmt.Sprintf("AZ-BIL-2026-%06d", i)
			pdf, err := r.Render(v, []string{"az", "en"}[i%2])
			if err == nil {
				docs[i] = pdf
			}
		})
	}
	wg.Wait()
	for i, pdf := range docs {
		require.NotNil(t, pdf)
		require.Contains(t, text(t, pdf), fmt.Sprintf("AZ-BIL-2026-%06d", i))
	}
}

// FuzzRender: whatever the strings, Render makes a PDF and does not panic.
func FuzzRender(f *testing.F) {
	f.Add(number, fullName, appealText, "qeyd", "complaint", "Ad", "dəyər", "2026-12-22", false)
	f.Add("", "", "", "", "", "", "", "", true)
	f.Add("\xff\x00", "\u202e", strings.Repeat("W", 500), "\r\n\t", "😀", "\x1b", "\ufffd", "9999-99-99", false)
	r := renderer(f)
	f.Fuzz(func(t *testing.T, num, name, body, note, kind, label, value, date string, english bool) {
		v := view()
		v.Number, v.Person.Name, v.Request.Appeal.Text, v.Request.Appeal.Type, v.Deadline = num, name, body, kind, date
		v.Request.Appeal.SocialStatus, v.Request.Appeal.PrivilegeStatus, v.Request.Appeal.Subject = label, value, note
		v.District.Name, v.DistrictRef, v.Status = name, note, routers.Status(kind)
		v.Events = append(v.Events, routers.StatusEvent{Sequence: len(body), Status: routers.Status(kind), At: date, Note: note})
		v.Fields = []routers.FieldView{{Code: kind, Label: label, LabelEN: value, Value: value, ValueEN: body}}
		v.Reception = &routers.ReceptionView{Official: routers.Official{Name: name, Position: label}, Date: date,
			Sessions: []routers.Session{{From: note, To: value}}}
		lang := "az"
		if english {
			lang = "en"
		}
		pdf, err := r.Render(v, lang)
		require.NoError(t, err)
		require.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")))
	})
}

// TestDocumentImage writes the sample's first page for the README with -update.
func TestDocumentImage(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite docs/appeal-document.png")
	}
	pdf := render(t, view(), "az")
	dir := t.TempDir()
	path := filepath.Join(dir, "appeal.pdf")
	require.NoError(t, os.WriteFile(path, pdf, 0o600))
	out, err := exec.Command("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", path, filepath.Join(dir, "page")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	png, err := os.ReadFile(filepath.Join(dir, "page.png"))
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join("..", "..", "docs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join("..", "..", "docs", "appeal-document.png"), png, 0o644))
}

// BenchmarkRender: one typical appeal, one page.
func BenchmarkRender(b *testing.B) {
	r := renderer(b)
	v := view()
	for b.Loop() {
		if _, err := r.Render(v, "az"); err != nil {
			b.Fatal(err)
		}
	}
}
