package main

import (
	"context"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// TestAuditVerifyNamesTampering builds a ledger with real traffic through
// the hub, checks that `korpu audit verify` passes it, then rewrites
// history as a superuser who switched the append-only trigger off: one
// appeal's event gets an earlier time, another appeal loses an event.
// verify names both, appeal and sequence, and exits non-zero.
func TestAuditVerifyNamesTampering(t *testing.T) {
	t.Parallel()
	s := newStack(t, "AZ-BIL")
	e := s.publishGenerated(s.generatorWith(7, 0, 0), 12)
	s.startHub()
	waitFor(t, 2*time.Minute, "every appeal answered", func() bool { return s.answered(e) == len(e.valid) })

	out, err := s.auditVerify()
	require.NoError(t, err, "%s", out)
	require.Contains(t, out, "history chains: ")
	require.Contains(t, out, "verified: the record matches")

	var numbers []string
	for id := range e.valid {
		numbers = append(numbers, s.tracker.Request(id)[0].AppealNumber)
	}
	require.GreaterOrEqual(t, len(numbers), 4)
	edited, deleted, backdated, excused := numbers[0], numbers[1], numbers[2], numbers[3]

	// The printed appeal's QR code carries the record's head in the
	// details link's query, and the record recognises it.
	code, pdf := s.apiBytes("/v1/appeals/"+edited+"/document", e2eMonitorToken, "")
	require.Equal(t, http.StatusOK, code)
	if payload, ok := qrOfPDF(t, pdf); ok {
		number, link, found := strings.Cut(payload, " ")
		require.True(t, found, payload)
		require.Equal(t, edited, number)
		u, err := url.Parse(link)
		require.NoError(t, err)
		require.Equal(t, "/appeals/"+edited, u.Path, "the link still opens the appeal")
		q := u.Query()
		var answer struct {
			Match    string `json:"match"`
			Sequence int    `json:"sequence"`
		}
		require.Equal(t, http.StatusOK, s.apiGet("/v1/log/verify?"+url.Values{"number": {edited}, "head": {q.Get("head")}}.Encode(),
			e2ePortalToken, "", &answer))
		require.Equal(t, "current", answer.Match, payload)
		require.Equal(t, q.Get("seq"), strconv.Itoa(answer.Sequence), payload)
		require.Equal(t, distinctBySequence(s.tracker.Appeal(edited))[answer.Sequence-1].Status, routers.StatusAnswered, "the head is the latest event")
	}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	const edit = `UPDATE status_history SET event = jsonb_set(event, '{at}', '"2026-01-05T09:00:00+04:00"') WHERE appeal_number = $1 AND sequence = 2`
	_, err = conn.Exec(ctx, edit, edited)
	require.ErrorContains(t, err, "append-only", "the trigger stands in the way")
	_, err = conn.Exec(ctx, `SET session_replication_role = replica`) // a superuser's way round triggers
	require.NoError(t, err)
	tag, err := conn.Exec(ctx, edit, edited)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())
	tag, err = conn.Exec(ctx, `DELETE FROM status_history WHERE appeal_number = $1 AND sequence = 2`, deleted)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())
	// The figures are counted off the appeals' rows: a date moved back, an
	// answer made timely.
	tag, err = conn.Exec(ctx, `UPDATE appeals SET answered_at = answered_at - interval '3 days' WHERE number = $1`, backdated)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())
	tag, err = conn.Exec(ctx, `UPDATE appeals SET answered_on_time = NOT answered_on_time WHERE number = $1`, excused)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())

	out, err = s.auditVerify()
	t.Logf("korpu audit verify after the tampering:\n%s", out)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	require.NotZero(t, exit.ExitCode())
	require.Contains(t, out, "MISMATCH history chains: appeal "+edited+" sequence 2: altered")
	require.Contains(t, out, "MISMATCH history chains: appeal "+deleted+" sequence 2: missing")
	require.Regexp(t, "MISMATCH history chains: appeal "+backdated+" sequence [0-9]+: answered_at is [^,]+, before the step's event at ", out)
	require.Regexp(t, "MISMATCH history chains: appeal "+excused+" sequence [0-9]+: answered_on_time is (true|false), the history's answer gives ", out)
	require.Contains(t, out, "4 mismatches")
	require.Equal(t, 4, strings.Count(out, "MISMATCH"), "the first break of each appeal, nothing else:\n%s", out)
}

// auditVerify runs `korpu audit verify` on the stack's config.
func (s *stack) auditVerify() (string, error) {
	cmd := exec.Command(korpuBinary, "audit", "verify", "--config", s.config)
	cmd.Env = append(os.Environ(), "KORPU_PORTAL_KEY="+portalKey, "KORPU_REGISTRY_TOKEN="+registryToken, "KORPU_LOG_LEVEL=error")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// qrOfPDF decodes the QR code of pdf's first image (poppler's pdfimages);
// false when poppler is missing and the tools are not required.
func qrOfPDF(t *testing.T, pdf []byte) (string, bool) {
	t.Helper()
	if _, err := exec.LookPath("pdfimages"); err != nil && os.Getenv("KORPU_REQUIRE_TOOLS") == "" {
		t.Log("pdfimages is missing (Debian/Ubuntu: apt-get install poppler-utils): the QR code is not read")
		return "", false
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "appeal.pdf")
	require.NoError(t, os.WriteFile(path, pdf, 0o600))
	out, err := exec.CommandContext(t.Context(), "pdfimages", "-png", "-f", "1", "-l", "1", path, filepath.Join(dir, "img")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	f, err := os.Open(filepath.Join(dir, "img-000.png"))
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	require.NoError(t, err)
	// The extracted image is the code alone: read its modules straight.
	// gozxing's finder-pattern detector misplaces the grid of about 1 in
	// 100 valid codes (seen here with random chain heads), and the heads
	// of this test are random.
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	require.NoError(t, err)
	return res.GetText(), true
}
