package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/httpapi/openapitest"
	"github.com/korpu-az/korpu/routers"
)

// TestCallbackBounds: through the real binary, broker and database, a
// district's status callback with a control character or too many
// characters in its text, or a time outside the appeal's span, is answered
// 422 naming the field and moves nothing; a sound one after them is taken.
func TestCallbackBounds(t *testing.T) {
	t.Parallel()
	s := newStackWith(t, stackOptions{codes: []string{"AZ-SAT"}, progress: []string{}})
	s.startHub()
	m := s.generatorWith(7, -1, -1).Next()
	s.publish(m)
	has := func(status routers.Status) bool {
		for _, ev := range s.tracker.Request(m.ID) {
			if ev.Status == status {
				return true
			}
		}
		return false
	}
	waitFor(t, time.Minute, "the appeal delivered", func() bool { return has(routers.StatusDelivered) })
	number := s.tracker.Request(m.ID)[0].AppealNumber

	post := func(note, at string) (int, map[string]any) {
		t.Helper()
		body, err := json.Marshal(map[string]string{"appeal_number": number, "status": "answered", "note": note, "at": at})
		require.NoError(t, err)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+s.hubAddr+"/v1/districts/AZ-SAT/status", strings.NewReader(string(body)))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+callbackToken("AZ-SAT"))
		req.Header.Set("Content-Type", "application/json")
		resp, err := openapitest.Client(t).Do(req) // every answer as schemas/openapi.yaml says
		require.NoError(t, err)
		defer resp.Body.Close()
		var answer map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
		return resp.StatusCode, answer
	}
	now := time.Now() // the binary's clock is the real one
	sound := routers.FormatTime(now.Add(-time.Minute))
	for _, tc := range []struct {
		name, note, at, field string
	}{
		{"NoteNUL", "cavab\x00verildi", sound, "note"},
		{"NoteEscape", "\x1b[2J", sound, "note"},
		{"NoteDEL", "a\x7f", sound, "note"},
		{"NoteLineSeparator", "a\u2028b", sound, "note"},
		{"NoteTooLong", strings.Repeat("ə", 4001), sound, "note"},
		{"AtYear0000", "cavab", "0000-01-01T00:00:00Z", "at"},
		{"AtYear9999", "cavab", "9999-12-31T23:59:59Z", "at"},
		{"AtAnHourAhead", "cavab", routers.FormatTime(now.Add(time.Hour)), "at"},
		{"AtTwoDaysBeforeRegistration", "cavab", routers.FormatTime(now.Add(-48 * time.Hour)), "at"},
	} {
		code, answer := post(tc.note, tc.at)
		require.Equal(t, http.StatusUnprocessableEntity, code, "%s: %v", tc.name, answer)
		require.Equal(t, tc.field, answer["field"], tc.name)
		require.Contains(t, answer["detail"], tc.field+": ", tc.name)
	}

	code, answer := post("Cavab verildi\n\tİmza", sound)
	require.Equal(t, http.StatusOK, code, fmt.Sprint(answer))
	waitFor(t, 30*time.Second, "the sound report's event", func() bool { return has(routers.StatusAnswered) })
	evs := distinctBySequence(s.tracker.Request(m.ID))
	require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered, routers.StatusAnswered},
		[]routers.Status{evs[0].Status, evs[1].Status, evs[2].Status})
	require.Len(t, evs, 3)
	require.Equal(t, "Cavab verildi\n\tİmza", evs[2].Note)
}
