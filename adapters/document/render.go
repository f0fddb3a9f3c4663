package document

import (
	_ "embed" // the fonts
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/signintech/gopdf"

	"github.com/korpu-az/korpu/routers"
)

var (
	//go:embed fonts/DejaVuSans.ttf
	dejaVuSans []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	dejaVuSansBold []byte
)

// ErrLanguage: a language the document is not written in.
var ErrLanguage = errors.New("no such language: az or en")

// Config is the renderer's configuration.
type Config struct {
	// DetailsURL is the portal's page of an appeal, "{number}" standing for
	// its number, e.g. "https://portal.example/appeals/{number}". The QR code
	// carries the number and this link; empty: the number alone.
	DetailsURL string
}

// Renderer prints appeals. It is safe for concurrent use.
type Renderer struct {
	cfg   Config
	fonts *gopdf.FontContainer
}

// New checks cfg and parses the fonts, once for every document.
func New(cfg Config) (*Renderer, error) {
	if err := CheckDetailsURL(cfg.DetailsURL); err != nil {
		return nil, err
	}
	fonts := &gopdf.FontContainer{}
	if err := fonts.AddTTFFontData(regular, dejaVuSans); err != nil {
		return nil, fmt.Errorf("font %s: %w", regular, err)
	}
	if err := fonts.AddTTFFontData(bold, dejaVuSansBold); err != nil {
		return nil, fmt.Errorf("font %s: %w", bold, err)
	}
	return &Renderer{cfg: cfg, fonts: fonts}, nil
}

// qrSize is the side of the QR code on the page, in points (about 3.8
// cm): with the chain head in it the code has 41 modules or more, and a
// screen at 150 dpi still gives each module four pixels.
const qrSize = 108.0

// Render prints v as an A4 PDF in lang, "az" (the default when empty) or
// "en"; any other is ErrLanguage. Every text of v is outside input: it is
// cleaned and bounded, wrapped to the page and carried over as many pages
// as it needs.
func (r *Renderer) Render(v routers.AppealView, lang string) ([]byte, error) {
	say, err := wordsFor(lang)
	if err != nil {
		return nil, err
	}
	number := line(v.Number, routers.MaxReferenceRunes)
	qr, err := qrPNG(qrPayload(number, r.cfg.DetailsURL, v.Head, v.HeadLeaf))
	if err != nil {
		return nil, fmt.Errorf("appeal %s: %w", number, err)
	}
	qrImage, err := gopdf.ImageHolderByBytes(qr)
	if err != nil {
		return nil, fmt.Errorf("appeal %s: QR image: %w", number, err)
	}

	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitPT})
	for _, family := range []string{regular, bold} {
		if err := pdf.AddTTFFontFromFontContainer(family, r.fonts); err != nil {
			return nil, fmt.Errorf("font %s: %w", family, err)
		}
	}
	title := say.title + " " + number
	pdf.SetInfo(gopdf.PdfInfo{Title: title, Subject: line(v.District.Name, maxShort), Creator: "Körpü"})

	d := &writer{pdf: pdf, cut: fmt.Sprintf(say.cut, maxPages)}
	d.newPage()
	d.fail(pdf.ImageByHolder(qrImage, pageW-margin-qrSize, margin-8, &gopdf.Rect{W: qrSize, H: qrSize}))
	caption := say.qrCaption
	if r.cfg.DetailsURL == "" {
		caption = say.number // the code carries nothing else
	}
	d.header(say, v, number, caption)
	d.appeal(say, v, number)
	d.citizen(say, v)
	d.content(say, v)
	d.fields(say, v)
	d.reception(say, v)
	d.timeline(say, v)
	d.footers(title, say.page)
	if d.err != nil {
		return nil, fmt.Errorf("appeal %s: %w", number, d.err)
	}
	out, err := pdf.GetBytesPdfReturnErr()
	if err != nil {
		return nil, fmt.Errorf("appeal %s: %w", number, err)
	}
	return out, nil
}

// header sets the authority's name and the title beside the QR code, and
// the code's caption. Both are bounded (500 and 100 characters), so they
// fit on the first page whatever they hold.
func (w *writer) header(say *words, v routers.AppealView, number, caption string) {
	textW := contentW - qrSize - 12
	top := w.y
	authority := style{font: bold, size: 12}
	for _, l := range w.wrap(authority, turkishUpper(line(v.District.Name, maxShort)), textW) {
		w.text(margin, w.y, textW, authority, l)
		w.y += 16
	}
	w.y += 10
	title := style{font: bold, size: 16}
	for _, l := range w.wrap(title, say.upper(say.title)+" № "+number, textW) {
		w.text(margin, w.y, textW, title, l)
		w.y += 20
	}
	small := style{font: regular, size: 7, gray: true}
	capY := top - 8 + qrSize
	for _, l := range w.wrap(small, caption, qrSize) {
		w.text(pageW-margin-qrSize, capY, qrSize, small, l)
		capY += 9
	}
	w.y = max(w.y, capY) + 4
}

// labelled is the two columns of a label and its value.
var labelled = []column{{width: 170, style: labelStyle}, {width: contentW - 170, style: bodyStyle}}

func (w *writer) appeal(say *words, v routers.AppealView, number string) {
	w.heading(say.upper(say.about))
	service := say.pick(v.Service.Name, v.Service.NameEN)
	w.row(labelled, say.number, number)
	w.row(labelled, say.service, line(service, maxShort))
	w.row(labelled, say.kind, code(say.kinds, line(v.Request.Appeal.Type, maxShort)))
	w.row(labelled, say.submitted, moment(v.SubmittedAt, say.clock))
	w.row(labelled, say.registered, moment(v.RegisteredAt, say.clock))
	w.row(labelled, say.deadline, say.calendarDay(line(v.Deadline, maxShort), false))
	w.row(labelled, say.status, say.statusWord(routers.Status(line(string(v.Status), maxShort))))
	if ref := line(v.DistrictRef, maxShort); ref != "" {
		w.row(labelled, say.reference, ref)
	}
	w.row([]column{{width: contentW, style: style{font: regular, size: 8, gray: true}}}, say.bakuTime)
}

func (w *writer) citizen(say *words, v routers.AppealView) {
	w.heading(say.upper(say.citizen))
	if p := v.Person; p != nil {
		w.row(labelled, say.fullName, orDash(line(p.FullName(), maxShort)))
		w.row(labelled, say.idCard, orDash(line(strings.TrimSpace(p.IDCard.Series+" "+p.IDCard.Number), maxShort)))
	} else {
		w.row(labelled, say.fullName, say.notFromRegistry)
		w.row(labelled, say.idCard, say.notFromRegistry)
	}
	f := v.Request.Appeal
	w.row(labelled, say.social, orDash(code(say.socials, line(f.SocialStatus, maxShort))))
	privilege := say.noPrivilege
	if f.PrivilegeStatus != "" {
		privilege = code(say.privileges, line(f.PrivilegeStatus, maxShort))
	}
	w.row(labelled, say.privilege, privilege)
}

func (w *writer) content(say *words, v routers.AppealView) {
	w.heading(say.upper(say.content))
	if subject := line(v.Request.Appeal.Subject, maxShort); subject != "" {
		w.row(labelled, say.subject, subject)
	}
	w.row([]column{{width: contentW, style: labelStyle}}, say.text)
	w.paragraph(bodyStyle, clean(v.Request.Appeal.Text, maxLong))
}

func (w *writer) fields(say *words, v routers.AppealView) {
	if len(v.Fields) == 0 {
		return
	}
	w.heading(say.upper(say.form))
	for i, f := range v.Fields {
		if i == maxFields {
			w.row(labelled, "", fmt.Sprintf(say.omitted, len(v.Fields)-i))
			break
		}
		label := or(say.pick(f.Label, f.LabelEN), f.Code)
		w.row(labelled, line(label, maxShort), orDash(clean(say.pick(f.Value, f.ValueEN), maxMedium)))
	}
}

func (w *writer) reception(say *words, v routers.AppealView) {
	rc := v.Reception
	if rc == nil {
		return
	}
	w.heading(say.upper(say.reception))
	w.row(labelled, say.official, orDash(line(rc.Official.Name, maxShort)))
	w.row(labelled, say.position, orDash(line(rc.Official.Position, maxShort)))
	w.row(labelled, say.day, orDash(say.calendarDay(line(rc.Date, maxShort), true)))
	var hours []string
	for i, s := range rc.Sessions {
		if i == maxFields {
			break
		}
		hours = append(hours, line(s.From, maxShort)+"–"+line(s.To, maxShort))
	}
	w.row(labelled, say.hours, orDash(strings.Join(hours, ", ")))
}

func (w *writer) timeline(say *words, v routers.AppealView) {
	w.heading(say.upper(say.timeline))
	if len(v.Events) == 0 {
		w.paragraph(bodyStyle, say.noEvents)
		return
	}
	cols := []column{
		{width: 30, style: bodyStyle}, {width: 150, style: bodyStyle},
		{width: 110, style: bodyStyle}, {width: contentW - 290, style: bodyStyle},
	}
	head := make([]column, len(cols))
	for i, c := range cols {
		head[i] = column{width: c.width, style: boldStyle}
	}
	header := func() {
		w.row(head, say.sequence, say.upper(say.state), say.upper(say.when), say.upper(say.note))
	}
	// Keep the header with the first entry.
	w.need(3 * lineH)
	header()
	w.onBreak = header
	defer func() { w.onBreak = nil }()
	for i, e := range v.Events {
		if i == maxEvents {
			w.onBreak = nil
			w.paragraph(bodyStyle, fmt.Sprintf(say.omitted, len(v.Events)-i))
			break
		}
		at, err := parseTime(e.At)
		when := moment(at, say.short)
		if err != nil {
			when = line(e.At, maxShort)
		}
		w.row(cols, strconv.Itoa(e.Sequence), say.statusWord(routers.Status(line(string(e.Status), maxShort))),
			when, clean(e.Note, maxMedium))
	}
}

// parseTime reads an event's time as the contract writes it.
func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339, s) }

func or(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

func orDash(s string) string { return or(strings.TrimSpace(s), "—") }
