package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/httpapi/openapitest"
	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
)

// TestForwardingEndToEnd, through the real binary, broker and database: a
// REST district (AZ-SAT) extends each of its appeals' deadline and then
// forwards it to an ESD district on the hub (AZ-SAB). The ESD system
// registers the same appeal number once, with the extended deadline, and
// takes it to its answer; the portal sees one sequence with no gaps, each
// step in the name of the authority that made it. AZ-SAB's own appeals go
// their usual way beside them.
func TestForwardingEndToEnd(t *testing.T) {
	t.Parallel()
	const rest, legacy = "AZ-SAT", "AZ-SAB"
	s := newStackWith(t, stackOptions{
		codes: []string{rest}, esdCodes: []string{legacy}, failRate: 0.05, esdBusyRate: 0.1,
		progress:     []string{string(routers.StatusInProgress), string(routers.StatusForwarded)},
		forwardTo:    legacy,
		extendReason: "Yerində əlavə yoxlama lazımdır",
	})
	gen := s.generatorWith(7, -1, -1)
	e := s.publishGenerated(gen, 60)
	s.startHub()

	var forwarded, direct []string
	for id, m := range e.valid {
		waitFor(t, time.Minute, "registered", func() bool { return len(s.tracker.Request(id)) > 0 })
		number := s.tracker.Request(id)[0].AppealNumber
		if m.District == rest {
			forwarded = append(forwarded, number)
		} else {
			direct = append(direct, number)
		}
	}
	require.NotEmpty(t, forwarded)
	require.NotEmpty(t, direct)
	answered := func(number string, n int) bool {
		evs := distinctBySequence(s.tracker.Appeal(number))
		return len(evs) == n && evs[n-1].Status == routers.StatusAnswered
	}
	waitFor(t, 2*time.Minute, "every appeal answered, the forwarded ones by the ESD district", func() bool {
		for _, number := range forwarded {
			if !answered(number, 7) {
				return false
			}
		}
		for _, number := range direct {
			if !answered(number, 4) {
				return false
			}
		}
		return true
	})
	require.Empty(t, s.tracker.Violations(), "the portal's sequences: in order, no gaps, no two events on one")
	t.Logf("%d appeals forwarded from %s to %s and answered there, %d of %s's own answered", len(forwarded), rest, legacy, len(direct), legacy)

	pool, err := postgres.Open(t.Context(), s.dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	ledger := postgres.NewLedger(pool, time.Now)
	for _, number := range forwarded {
		evs := distinctBySequence(s.tracker.Appeal(number))
		var steps, authorities []string
		for i, ev := range evs {
			require.Equal(t, i+1, ev.Sequence, number)
			steps = append(steps, string(ev.Status))
			authorities = append(authorities, ev.District)
		}
		require.Equal(t, []string{"registered", "delivered", "in_progress", "forwarded", "delivered", "in_progress", "answered"}, steps, number)
		require.Equal(t, []string{rest, rest, rest, rest, legacy, legacy, legacy}, authorities, number)
		require.Contains(t, evs[3].Note, legacy, "forwarded names the district")

		registeredAt, err := time.Parse(time.RFC3339, evs[0].At)
		require.NoError(t, err)
		extended, err := calendar.Default().AddWorkingDays(registeredAt, 30)
		require.NoError(t, err)
		require.NotEqual(t, evs[0].Deadline, evs[2].Deadline)
		require.Equal(t, extended.Format(time.DateOnly), evs[2].Deadline, "in_progress carries the extended deadline")
		for _, ev := range evs[2:] {
			require.Equal(t, evs[2].Deadline, ev.Deadline, "forwarding keeps the deadline")
		}

		got, ok := s.esd[legacy].Appeal(number)
		require.True(t, ok, "ESD never registered %s", number)
		require.Equal(t, number, got.XariciNomre, "the same appeal number")
		require.Equal(t, evs[2].Deadline, got.SonMuddet, "ESD gets the extended deadline")
		require.Equal(t, 1, s.esd[legacy].Received(number), "registered in ESD once")
		_, ok = s.districts[rest].Appeal(number)
		require.True(t, ok)

		a, err := ledger.Appeal(t.Context(), number)
		require.NoError(t, err)
		require.Equal(t, legacy, a.District)
		require.Equal(t, rest, a.ForwardedBy)
		require.Equal(t, legacy, a.ForwardedTo)
		require.False(t, a.ForwardedLate)
		require.True(t, a.Extended)
	}
	require.Equal(t, len(forwarded), s.districts[rest].Created(), "AZ-SAT created each of its appeals once")
	require.Equal(t, len(e.valid), s.esd[legacy].Registered(), "ESD registered its own and the forwarded ones, each once")

	// The district that forwarded may no longer touch the appeal: it is
	// another's now, answered as one that does not exist.
	body := fmt.Sprintf(`{"appeal_number": %q, "status": "answered"}`, forwarded[0])
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+s.hubAddr+"/v1/districts/"+rest+"/status", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+callbackToken(rest))
	req.Header.Set("Content-Type", "application/json")
	resp, err := openapitest.Client(t).Do(req) // the answer as schemas/openapi.yaml says
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	resp, err = http.Get("http://" + s.hubAddr + "/metrics")
	require.NoError(t, err)
	metrics, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Contains(t, string(metrics), fmt.Sprintf(`korpu_forwarded_total{district=%q,late="false"} %d`, rest, len(forwarded)))
	require.Contains(t, string(metrics), fmt.Sprintf(`korpu_deadlines_extended_total{district=%q} %d`, rest, len(forwarded)))
}

// TestStatutoryCallbacks: contract 1.1's fields through the real binary,
// every answer checked against schemas/openapi.yaml. Against its rules a
// report is 422 naming the field and moves nothing; a sound extension is
// taken once, a second is 409; forwarding to another body ends the appeal,
// a repeat of it is taken, forwarding it elsewhere is 409.
func TestStatutoryCallbacks(t *testing.T) {
	t.Parallel()
	s := newStackWith(t, stackOptions{codes: []string{"AZ-SAT"}, progress: []string{}})
	s.startHub()
	m := s.generatorWith(9, -1, -1).Next()
	s.publish(m)
	waitFor(t, time.Minute, "the appeal delivered", func() bool { return len(distinctBySequence(s.tracker.Request(m.ID))) == 2 })
	number := s.tracker.Request(m.ID)[0].AppealNumber

	post := func(report map[string]any) (int, map[string]any) {
		t.Helper()
		report["appeal_number"] = number
		body, err := json.Marshal(report)
		require.NoError(t, err)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+s.hubAddr+"/v1/districts/AZ-SAT/status", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+callbackToken("AZ-SAT"))
		req.Header.Set("Content-Type", "application/json")
		resp, err := openapitest.Client(t).Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var answer map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
		return resp.StatusCode, answer
	}
	for _, tc := range []struct {
		name   string
		report map[string]any
		field  string
	}{
		{"ExtendOnAnswered", map[string]any{"status": "answered", "extend": true, "reason": "yoxlama"}, "extend"},
		{"ExtendWithoutReason", map[string]any{"status": "in_progress", "extend": true}, "reason"},
		{"ReasonWithoutExtend", map[string]any{"status": "in_progress", "reason": "yoxlama"}, "reason"},
		{"ReasonTooLong", map[string]any{"status": "in_progress", "extend": true, "reason": strings.Repeat("ə", 4001)}, "reason"},
		{"ForwardedWithoutBody", map[string]any{"status": "forwarded"}, "forwarded_to"},
		{"ForwardedToOnClosed", map[string]any{"status": "closed", "forwarded_to": "AZ-BIL"}, "forwarded_to"},
		{"ForwardedToItself", map[string]any{"status": "forwarded", "forwarded_to": "AZ-SAT"}, "forwarded_to"},
		{"ForwardedToTooLong", map[string]any{"status": "forwarded", "forwarded_to": strings.Repeat("N", 201)}, "forwarded_to"},
		{"ForwardedToWithNUL", map[string]any{"status": "forwarded", "forwarded_to": "Nazirlik\x00"}, "forwarded_to"},
	} {
		code, answer := post(tc.report)
		require.Equal(t, http.StatusUnprocessableEntity, code, "%s: %v", tc.name, answer)
		require.Equal(t, tc.field, answer["field"], tc.name)
	}

	extension := map[string]any{"status": "in_progress", "extend": true, "reason": "Yerində əlavə yoxlama lazımdır"}
	code, answer := post(extension)
	require.Equal(t, http.StatusOK, code, fmt.Sprint(answer))
	code, answer = post(extension)
	require.Equal(t, http.StatusConflict, code, fmt.Sprint(answer))
	require.Contains(t, answer["detail"], "already extended")

	forward := map[string]any{"status": "forwarded", "forwarded_to": "Əmək və Əhalinin Sosial Müdafiəsi Nazirliyi"}
	code, answer = post(forward)
	require.Equal(t, http.StatusOK, code, fmt.Sprint(answer))
	code, answer = post(forward)
	require.Equal(t, http.StatusOK, code, "a repeat: %v", answer)
	code, answer = post(map[string]any{"status": "forwarded", "forwarded_to": "Səhiyyə Nazirliyi"})
	require.Equal(t, http.StatusConflict, code, fmt.Sprint(answer))

	waitFor(t, 30*time.Second, "the events", func() bool { return len(distinctBySequence(s.tracker.Request(m.ID))) == 4 })
	evs := distinctBySequence(s.tracker.Request(m.ID))
	require.Equal(t, routers.StatusInProgress, evs[2].Status)
	require.NotEqual(t, evs[1].Deadline, evs[2].Deadline, "in_progress carries the extended deadline")
	require.Equal(t, routers.StatusForwarded, evs[3].Status)
	require.Contains(t, evs[3].Note, "Əmək və Əhalinin Sosial Müdafiəsi Nazirliyi")
	require.Empty(t, s.tracker.Violations())
}
