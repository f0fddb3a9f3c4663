package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/httpapi/openapitest"
	"github.com/korpu-az/korpu/adapters/sim/portalsim"
	"github.com/korpu-az/korpu/routers"
)

const (
	e2ePortalToken   = "e2e-portal-token-0123456789abcdefghij"
	e2eMonitorToken  = "e2e-monitor-token-0123456789abcdefghij"
	e2eOperatorToken = "e2e-operator-token-0123456789abcdefghij"
)

// citizenRequest is a valid request of fin, signed as the portal signs it.
func citizenRequest(fin, district, service, text string, reception *routers.Reception) portalsim.Message {
	req := routers.Request{
		Kind: "request", ID: uuid.NewString(), SubmittedAt: time.Now().Format(time.RFC3339),
		District: district, Service: service,
		Citizen:   routers.Citizen{FIN: fin, Phone: "+994501234567", Address: "Saatlı şəhəri, Azadlıq küçəsi 4"},
		Appeal:    routers.AppealForm{Type: "application", SocialStatus: "pensioner", Subject: "Qəbul", Text: text},
		Reception: reception,
	}
	body, err := json.Marshal(req)
	if err != nil {
		panic(err) // plain strings
	}
	return portalsim.Message{ID: req.ID, Body: body, Signature: routers.Sign([]byte(portalKey), body)}
}

// apiGet reads the hub's API as the portal (fin set) or as token says,
// decoding a 200's JSON into into.
func (s *stack) apiGet(path, token, fin string, into any) int {
	s.t.Helper()
	code, body := s.apiBytes(path, token, fin)
	if into != nil && code == http.StatusOK {
		require.NoError(s.t, json.Unmarshal(body, into), string(body))
	}
	return code
}

// apiBytes reads the hub's API and returns the answer's status and body.
func (s *stack) apiBytes(path, token, fin string) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequestWithContext(s.t.Context(), http.MethodGet, "http://"+s.hubAddr+path, nil)
	require.NoError(s.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if fin != "" {
		req.Header.Set("X-Citizen-FIN", fin)
	}
	resp, err := openapitest.Client(s.t).Do(req) // every answer as schemas/openapi.yaml says
	require.NoError(s.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return resp.StatusCode, body
}

type e2eOfficials struct {
	Officials []struct {
		ID   string `json:"id"`
		Next []struct {
			Date     string `json:"date"`
			Capacity int    `json:"capacity"`
			Free     int    `json:"free"`
		} `json:"next_reception_days"`
	} `json:"officials"`
}

// TestPortalReadsEndToEnd drives the read API of a real hub on the real
// broker and database: the reception days it offers are the ones intake
// accepts and their places run down as bookings register; a citizen sees
// exactly their own appeals, page by page, and their details as sent and
// as they went; another citizen's appeal is a 404, a wrong token a 401.
func TestPortalReadsEndToEnd(t *testing.T) {
	t.Parallel()
	s := newStackWith(t, stackOptions{codes: []string{"AZ-SAT"}, progress: []string{"in_progress", "answered"}})
	s.startHub()

	const alice, bob = "5XK3P2A", "7TR9M4B"
	var days e2eOfficials
	require.Equal(t, http.StatusOK, s.apiGet("/v1/districts/AZ-SAT/officials", e2ePortalToken, "", &days))
	require.Len(t, days.Officials, 1)
	official := days.Officials[0]
	require.Len(t, official.Next, 4)

	// Book each offered day once, the first twice; and one day not offered:
	// the same weekday a week after the last.
	var mine []portalsim.Message
	wantFree := map[string]int{}
	for i, d := range official.Next {
		require.Equal(t, d.Capacity, d.Free, "nothing booked yet")
		copies := 1
		if i == 0 {
			copies = 2
		}
		for range copies {
			m := citizenRequest(alice, "AZ-SAT", "reception-booking", "Qəbula yazılıram: "+d.Date, &routers.Reception{OfficialID: official.ID, Date: d.Date})
			mine = append(mine, m)
			s.publish(m)
			wantFree[d.Date]--
		}
		wantFree[d.Date] += d.Capacity
	}
	last, err := time.Parse(time.DateOnly, official.Next[3].Date)
	require.NoError(t, err)
	notOffered := citizenRequest(alice, "AZ-SAT", "reception-booking", "Bu gün təklif edilməyib.",
		&routers.Reception{OfficialID: official.ID, Date: last.AddDate(0, 0, 7).Format(time.DateOnly)})
	s.publish(notOffered)
	for i := range 4 {
		m := citizenRequest(alice, "AZ-SAT", "appeal", fmt.Sprintf("Küçəmizdə %d gündür işıq yoxdur — Şəki yolu, ə ğ ı İ ş ç ö ü.", i+1), nil)
		mine = append(mine, m)
		s.publish(m)
		s.publish(citizenRequest(bob, "AZ-SAT", "appeal", "Bobun müraciəti", nil))
	}

	numbers := map[string]string{} // request id → appeal number
	waitFor(t, 60*time.Second, "every request registered or refused", func() bool {
		for _, m := range mine {
			evs := s.tracker.Request(m.ID)
			if len(evs) == 0 {
				return false
			}
			numbers[m.ID] = evs[0].AppealNumber
		}
		return len(s.tracker.Request(notOffered.ID)) > 0
	})
	for _, m := range mine {
		require.Equal(t, routers.StatusRegistered, s.tracker.Request(m.ID)[0].Status, "an offered day is accepted")
	}
	refusal := s.tracker.Request(notOffered.ID)[0]
	require.Equal(t, routers.StatusInvalid, refusal.Status)
	require.Equal(t, "reception.date", refusal.Errors[0].Field)

	var after e2eOfficials
	require.Equal(t, http.StatusOK, s.apiGet("/v1/districts/AZ-SAT/officials", e2ePortalToken, "", &after))
	for _, d := range after.Officials[0].Next {
		if want, ok := wantFree[d.Date]; ok {
			require.Equal(t, want, d.Free, "places left on %s", d.Date)
		}
	}

	// The history, two a page: every appeal of alice's, newest first, once.
	var listed, times []string
	cursor := ""
	for {
		var page struct {
			Appeals []struct {
				Number       string `json:"number"`
				RegisteredAt string `json:"registered_at"`
			} `json:"appeals"`
			NextCursor string `json:"next_cursor"`
		}
		require.Equal(t, http.StatusOK, s.apiGet("/v1/citizens/me/appeals?limit=2&cursor="+url.QueryEscape(cursor), e2ePortalToken, alice, &page))
		require.LessOrEqual(t, len(page.Appeals), 2)
		for _, a := range page.Appeals {
			listed = append(listed, a.Number)
			times = append(times, a.RegisteredAt)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	want := make([]string, 0, len(mine))
	for _, m := range mine {
		want = append(want, numbers[m.ID])
	}
	require.ElementsMatch(t, want, listed)
	require.True(t, slices.IsSortedFunc(times, func(a, b string) int { return -strings.Compare(a, b) }), "newest first: %v", times)

	// Details of the last appeal, once the district has answered it.
	m := mine[len(mine)-1]
	number := numbers[m.ID]
	waitFor(t, 60*time.Second, "the appeal answered", func() bool {
		evs := s.tracker.Appeal(number)
		return len(evs) > 0 && evs[len(evs)-1].Status == routers.StatusAnswered
	})
	var details struct {
		Number   string `json:"number"`
		Status   string `json:"status"`
		Text     string `json:"text"`
		Person   *routers.Person
		Timeline []struct {
			Sequence int    `json:"sequence"`
			Status   string `json:"status"`
			At       string `json:"at"`
		} `json:"timeline"`
	}
	require.Equal(t, http.StatusOK, s.apiGet("/v1/appeals/"+number, e2ePortalToken, alice, &details))
	var sent routers.Request
	require.NoError(t, json.Unmarshal(m.Body, &sent))
	require.Equal(t, sent.Appeal.Text, details.Text)
	require.Equal(t, "answered", details.Status)
	require.NotNil(t, details.Person, "enriched from the registry")
	require.Equal(t, alice, details.Person.FIN)
	events := distinctBySequence(s.tracker.Appeal(number))
	require.Len(t, details.Timeline, len(events))
	for i, ev := range events {
		require.Equal(t, ev.Sequence, details.Timeline[i].Sequence)
		require.Equal(t, string(ev.Status), details.Timeline[i].Status)
		require.Equal(t, ev.At, details.Timeline[i].At)
	}

	// The printable appeal: the hub's number, the registry's name, the text.
	code, pdf := s.apiBytes("/v1/appeals/"+number+"/document", e2ePortalToken, alice)
	require.Equal(t, http.StatusOK, code)
	text := pdfText(t, pdf)
	require.Contains(t, text, number)
	require.Contains(t, text, details.Person.Surname+" "+details.Person.Name)
	require.Contains(t, text, sent.Appeal.Text)

	// Bob and strangers.
	require.Equal(t, http.StatusNotFound, s.apiGet("/v1/appeals/"+number, e2ePortalToken, bob, nil))
	require.Equal(t, http.StatusNotFound, s.apiGet("/v1/appeals/AZ-SAT-2026-999999", e2ePortalToken, bob, nil))
	require.Equal(t, http.StatusUnauthorized, s.apiGet("/v1/appeals/"+number, "", alice, nil))
	require.Equal(t, http.StatusForbidden, s.apiGet("/v1/appeals/"+number, callbackToken("AZ-SAT"), alice, nil), "a district reads nothing here")
	require.Equal(t, http.StatusForbidden, s.apiGet("/v1/citizens/me/appeals", e2eMonitorToken, alice, nil), "the monitors have no citizen's history")
	require.Equal(t, http.StatusOK, s.apiGet("/v1/appeals/"+number, e2eMonitorToken, "", nil), "the monitors read any appeal")
}

// pdfText is what pdftotext reads in pdf, its whitespace runs made one space.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil && os.Getenv("KORPU_REQUIRE_TOOLS") == "" {
		t.Skip("pdftotext is missing (Debian/Ubuntu: apt-get install poppler-utils)")
	}
	cmd := exec.CommandContext(t.Context(), "pdftotext", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	require.NoError(t, err, "pdftotext (scripts/tools installs poppler-utils)")
	return strings.Join(strings.Fields(string(out)), " ")
}
