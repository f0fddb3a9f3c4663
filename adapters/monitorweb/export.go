package monitorweb

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/korpu-az/korpu/routers"
)

// exportFlushRows is how many rows go out at a time: the export streams,
// whatever its length, in constant memory.
const exportFlushRows = 500

// exportHeader names the CSV's columns.
var exportHeader = []string{"number", "district", "service", "type", "status", "deadline",
	"registered_at", "delivered_at", "first_in_progress_at", "answered_at", "closed_at"}

// cell guards a spreadsheet against formula injection (OWASP's CSV
// injection): a value starting with = + - @, a tab or a carriage return
// is taken as text by a leading apostrophe.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// stamp is an instant as RFC 3339 in Baku time; a step not reached is empty.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return routers.FormatTime(t)
}

func lifecycleRecord(lc routers.Lifecycle) []string {
	rec := []string{lc.Number, lc.District, lc.Service, lc.Type, string(lc.Status), lc.Deadline,
		stamp(lc.RegisteredAt), stamp(lc.DeliveredAt), stamp(lc.InProgressAt), stamp(lc.AnsweredAt), stamp(lc.ClosedAt)}
	for i, s := range rec {
		rec[i] = cell(s)
	}
	return rec
}

// export streams the lifecycles of a district's appeals (all districts
// when ?district= is empty) registered in the period.
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	req, p, ok := s.begin(w, r)
	if !ok {
		return
	}
	district := r.URL.Query().Get("district")
	if district != "" && !districtPattern.MatchString(district) {
		s.fail(w, r, http.StatusNotFound, "notFoundTitle", req.Lang, "noDistrict")
		return
	}
	rc := http.NewResponseController(w)
	// A long export outlasts the server's write timeout, which is for pages;
	// a client that stops reading still fails the writes.
	_ = rc.SetWriteDeadline(time.Time{}) // not every ResponseWriter has deadlines
	var out *csv.Writer
	rows := 0
	start := func() error {
		name := "all"
		if district != "" {
			name = district
		}
		last := p.To.AddDate(0, 0, -1)
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="korpu-%s-%s-%s.csv"`,
			name, p.From.In(routers.Baku).Format(time.DateOnly), last.In(routers.Baku).Format(time.DateOnly)))
		w.WriteHeader(http.StatusOK)
		out = csv.NewWriter(w)
		return out.Write(exportHeader)
	}
	err := s.cfg.Monitor.Lifecycles(r.Context(), district, p, func(lc routers.Lifecycle) error {
		if out == nil {
			if err := start(); err != nil {
				return err
			}
		}
		if err := out.Write(lifecycleRecord(lc)); err != nil {
			return err
		}
		if rows++; rows%exportFlushRows == 0 {
			out.Flush()
			if err := out.Error(); err != nil {
				return err
			}
			_ = rc.Flush() // a writer that cannot flush sends it all at the end
		}
		return nil
	})
	switch {
	case out == nil && errors.Is(err, routers.ErrUnknownDistrict):
		// Nothing is written until the first row, so an unknown district is
		// still a page of its own.
		s.fail(w, r, http.StatusNotFound, "notFoundTitle", req.Lang, "noDistrict")
		return
	case out == nil && err != nil:
		s.unavailable(w, r, req.Lang, "export", err)
		return
	case err != nil:
		// The status line went out with the first row: cut the connection,
		// so the download fails instead of looking complete.
		s.cfg.Logger.Error("monitor: export cut short", "district", district, "rows", rows, "error", err)
		panic(http.ErrAbortHandler)
	case out == nil:
		if err := start(); err != nil {
			return // the client left
		}
	}
	out.Flush()
}
