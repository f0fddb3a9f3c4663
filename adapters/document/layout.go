package document

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/signintech/gopdf"
)

// The page, in points: A4 with 50 pt margins and room for the footer.
const (
	pageW, pageH = 595.0, 842.0
	margin       = 50.0
	contentW     = pageW - 2*margin
	bottom       = pageH - 62.0 - lineH // the lowest a body line may end: one more is kept for the cut line
	footerY      = pageH - 44.0
	bodySize     = 10.0
	lineH        = 14.0
	headingSize  = 11.0
	headingH     = 26.0
)

// The embedded fonts' names. gopdf writes a font's family as its PDF name
// and embeds only the glyphs a document uses; the six-letter tag is how the
// PDF standard (ISO 32000 9.6.4) marks such a subset for readers.
const (
	regular = "KRPREG+DejaVuSans"
	bold    = "KRPBLD+DejaVuSans-Bold"
)

// style is how a column's text is set.
type style struct {
	font string
	size float64
	gray bool
}

var (
	bodyStyle  = style{font: regular, size: bodySize}
	labelStyle = style{font: regular, size: bodySize, gray: true}
	boldStyle  = style{font: bold, size: bodySize}
)

// column is one column of a row: its width and style.
type column struct {
	width float64
	style style
}

// writer lays text out down the pages, starting a new page whenever the
// next line would not fit. gopdf reports errors on every call; the first
// one is kept and the later calls do nothing, so the layout code reads as a
// sequence of lines.
type writer struct {
	pdf   *gopdf.GoPdf
	y     float64
	err   error
	space map[style]float64 // the width of a space
	// onBreak draws what a new page repeats (a table's header); nil for none.
	onBreak func()
	// full is set once the last page allowed is full: the rest is left out,
	// after the line cut says so.
	full bool
	cut  string
}

func (w *writer) fail(err error) {
	if w.err == nil && err != nil {
		w.err = err
	}
}

func (w *writer) newPage() {
	w.pdf.AddPage()
	w.y = margin
	if w.onBreak != nil {
		brk := w.onBreak
		w.onBreak = nil // the header itself must not recurse
		brk()
		w.onBreak = brk
	}
}

// need starts a new page unless h more points fit on this one. On the
// last page allowed it ends the document instead, with the cut line in the
// room kept for it.
func (w *writer) need(h float64) {
	switch {
	case w.full || w.y+h <= bottom:
	case w.pdf.GetNumberOfPages() < maxPages:
		w.newPage()
	default:
		w.full = true
		w.draw(margin, w.y, contentW, boldStyle, w.cut)
	}
}

func (w *writer) use(s style) {
	if w.err != nil {
		return
	}
	w.fail(w.pdf.SetFont(s.font, "", s.size))
	if s.gray {
		w.pdf.SetTextColor(90, 90, 90)
	} else {
		w.pdf.SetTextColor(0, 0, 0)
	}
}

// text sets one line of the body at (x, y), its top at y, unless the
// document is full.
func (w *writer) text(x, y, width float64, s style, line string) {
	if !w.full {
		w.draw(x, y, width, s, line)
	}
}

// draw sets one line at (x, y), its top at y.
func (w *writer) draw(x, y, width float64, s style, line string) {
	w.use(s)
	if w.err != nil || line == "" {
		return
	}
	w.pdf.SetXY(x, y)
	w.fail(w.pdf.Cell(&gopdf.Rect{W: width, H: lineH}, line))
}

// measure is the width of s in style st (kerning is off, so widths add up).
func (w *writer) measure(st style, s string) float64 {
	w.use(st)
	return w.width(s)
}

// width is the width of s in the current font.
func (w *writer) width(s string) float64 {
	if w.err != nil {
		return 0
	}
	width, err := w.pdf.MeasureTextWidth(s)
	w.fail(err)
	return width
}

// wrap breaks s into lines no wider than width: at spaces, and inside a word
// only when the word alone is wider. Each newline starts a new line; runs of
// empty lines count as one.
func (w *writer) wrap(st style, s string, width float64) []string {
	if w.space == nil {
		w.space = map[style]float64{}
	}
	sp, ok := w.space[st]
	if !ok {
		sp = w.measure(st, " ")
		w.space[st] = sp
	}
	w.use(st)
	var lines []string
	blank := false
	for _, para := range strings.Split(s, "\n") {
		words := strings.Fields(para)
		if len(words) == 0 {
			if !blank && len(lines) > 0 {
				lines = append(lines, "")
			}
			blank = true
			continue
		}
		blank = false
		var line strings.Builder
		used := 0.0
		for _, word := range words {
			ww := w.width(word)
			switch {
			case line.Len() > 0 && used+sp+ww <= width:
				line.WriteByte(' ')
				line.WriteString(word)
				used += sp + ww
				continue
			case line.Len() > 0:
				lines = append(lines, line.String())
				line.Reset()
				used = 0
			}
			if ww <= width {
				line.WriteString(word)
				used = ww
				continue
			}
			// A word wider than the column is cut where it must be.
			for _, r := range word {
				rw := w.width(string(r))
				if line.Len() > 0 && used+rw > width {
					lines = append(lines, line.String())
					line.Reset()
					used = 0
				}
				line.WriteRune(r)
				used += rw
			}
		}
		lines = append(lines, line.String())
	}
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// row sets cells side by side, each wrapped in its column, line by line, so
// that a row taller than what is left of the page goes on over the next.
func (w *writer) row(cols []column, cells ...string) {
	if w.full {
		return
	}
	wrapped := make([][]string, len(cols))
	n := 1
	for i, c := range cols {
		if i < len(cells) {
			wrapped[i] = w.wrap(c.style, cells[i], c.width-6)
		}
		n = max(n, len(wrapped[i]))
	}
	for l := range n {
		w.need(lineH)
		if w.full {
			return
		}
		x := margin
		for i, c := range cols {
			if l < len(wrapped[i]) {
				w.text(x, w.y, c.width, c.style, wrapped[i][l])
			}
			x += c.width
		}
		w.y += lineH
	}
	w.y += 3
}

// paragraph sets s across the page's width.
func (w *writer) paragraph(st style, s string) {
	w.row([]column{{width: contentW + 6, style: st}}, s)
}

// heading starts a section, kept on a page with at least two of its lines.
func (w *writer) heading(s string) {
	if w.full {
		return
	}
	w.y += 8
	w.need(headingH + 2*lineH)
	st := style{font: bold, size: headingSize}
	for _, line := range w.wrap(st, s, contentW) {
		w.need(lineH + 4)
		w.text(margin, w.y, contentW, st, line)
		w.y += lineH + 2
	}
	if !w.full {
		w.rule(w.y)
	}
	w.y += 6
}

// rule draws a thin line across the page at y.
func (w *writer) rule(y float64) {
	w.pdf.SetStrokeColor(150, 150, 150)
	w.pdf.SetLineWidth(0.5)
	w.pdf.Line(margin, y, pageW-margin, y)
}

// footers writes each page's footer once the number of pages is known.
func (w *writer) footers(left, pageFormat string) {
	n := w.pdf.GetNumberOfPages()
	st := style{font: regular, size: 8, gray: true}
	for p := 1; p <= n; p++ {
		w.fail(w.pdf.SetPage(p))
		w.rule(footerY - 4)
		w.draw(margin, footerY, contentW/2, st, left)
		right := fmt.Sprintf(pageFormat, p, n)
		w.draw(pageW-margin-w.measure(st, right), footerY, contentW/2, st, right)
	}
}

// Bounds on what one document shows, well above the contract's own (the
// appeal's text is at most 10,000 characters, a district's note 4,000): only
// input that bypassed the hub's checks is cut.
const (
	maxLong   = 10_000 // the appeal's text
	maxMedium = 5_000  // a form value, a note
	maxShort  = 500    // names, labels, the subject
	maxEvents = 1_000
	maxFields = 200
	// maxPages bounds the whole: an appeal at the contract's limits takes
	// five or six pages.
	maxPages = 50
)

// clean makes outside text safe to set: valid UTF-8, no control or format
// characters (a tab or carriage return becomes a space or a newline), at
// most limit characters, the cut marked with an ellipsis. A character
// beyond U+FFFF becomes U+FFFD: gopdf writes a character's code as four hex
// digits in the text's Unicode map and in the metadata, and would garble it
// (😀 came out as ὠ).
func clean(s string, limit int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == limit {
			b.WriteRune('…')
			break
		}
		switch {
		case r == '\n':
		case r == '\r':
			r = '\n'
		case unicode.IsControl(r) || unicode.IsSpace(r):
			r = ' '
		case unicode.Is(unicode.Cf, r):
			continue
		case r > 0xFFFF:
			r = '\uFFFD'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// line is clean for a one-line value: newlines become spaces.
func line(s string, limit int) string {
	return strings.ReplaceAll(clean(s, limit), "\n", " ")
}
