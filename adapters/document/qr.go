package document

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"strconv"
	"strings"

	qrcode "github.com/yeqown/go-qrcode/v2"

	"github.com/korpu-az/korpu/routers"
)

// numberPlaceholder is what Config.DetailsURL holds where the appeal's
// number goes.
const numberPlaceholder = "{number}"

// maxDetailsURL bounds the configured link so that, with the longest
// number the document shows, the QR code stays within what a phone reads.
const maxDetailsURL = 512

// qrPayload is what the QR code carries: the appeal's number and, when the
// portal's link is configured, the link to its details page. The chain
// head (the sequence and hash of the latest event, which
// GET /v1/log/verify checks) rides as seq= and head= (base64url) in the
// link's query, or alone as the second word without a link, so a reader
// that takes the first word as the number, or opens the link, reads it as
// before. The head event's leaf index in the transparency log follows as
// leaf= once it is sequenced, for GET /v1/log/proof.
func qrPayload(number, detailsURL string, head routers.ChainLink, leaf *uint64) string {
	var chain string
	if len(head.Hash) > 0 {
		chain = "seq=" + strconv.Itoa(head.Sequence) + "&head=" + base64.RawURLEncoding.EncodeToString(head.Hash)
		if leaf != nil {
			chain += "&leaf=" + strconv.FormatUint(*leaf, 10)
		}
	}
	if detailsURL == "" {
		return strings.TrimSpace(number + " " + chain)
	}
	link := strings.ReplaceAll(detailsURL, numberPlaceholder, url.PathEscape(number))
	if chain != "" {
		if u, err := url.Parse(link); err == nil { // CheckDetailsURL parsed it
			u.RawQuery = strings.TrimPrefix(u.RawQuery+"&"+chain, "&")
			link = u.String()
		}
	}
	return number + " " + link
}

// CheckDetailsURL accepts an empty link (the QR code then carries the number
// alone) or an absolute http(s) URL with {number} in it, short enough for a
// readable QR code. The config validates portal.details_url with it.
func CheckDetailsURL(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > maxDetailsURL {
		return fmt.Errorf("details URL: longer than %d bytes", maxDetailsURL)
	}
	if !strings.Contains(s, numberPlaceholder) {
		return fmt.Errorf("details URL %q: has no %s", s, numberPlaceholder)
	}
	u, err := url.Parse(strings.ReplaceAll(s, numberPlaceholder, "AZ-BIL-2026-000001"))
	if err != nil {
		return fmt.Errorf("details URL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("details URL %q: not an absolute http(s) URL", s)
	}
	return nil
}

// qrModulePx is the side of one QR module in the image: large enough that a
// viewer scaling the image up keeps the edges sharp.
const qrModulePx = 8

// qrPNG encodes payload as a QR code (error correction level M, bytes mode
// so that any UTF-8 is carried as it is) with the standard quiet zone of
// four modules, as a grey-scale PNG.
func qrPNG(payload string) ([]byte, error) {
	code, err := qrcode.NewWith(payload,
		qrcode.WithEncodingMode(qrcode.EncModeByte),
		qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	var m matrix
	if err := code.Save(&m); err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	const quiet = 4
	side := (len(m.bits) + 2*quiet) * qrModulePx
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y, row := range m.bits {
		for x, dark := range row {
			if !dark {
				continue
			}
			for dy := range qrModulePx {
				for dx := range qrModulePx {
					img.SetGray((x+quiet)*qrModulePx+dx, (y+quiet)*qrModulePx+dy, color.Gray{})
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	return buf.Bytes(), nil
}

// matrix is a qrcode.Writer that keeps the code's modules, dark as true.
type matrix struct{ bits [][]bool }

func (m *matrix) Write(mat qrcode.Matrix) error {
	m.bits = mat.Bitmap()
	return nil
}

func (m *matrix) Close() error { return nil }
