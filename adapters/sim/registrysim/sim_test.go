package registrysim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/registry"
	"github.com/korpu-az/korpu/adapters/sim/registrysim"
	"github.com/korpu-az/korpu/routers"
)

const token = "sim-token"

// get asks the Sim for fin with a bearer token.
func get(t *testing.T, s http.Handler, fin, bearer string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/v1/persons/"+fin, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

func TestAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       registrysim.Options
		down       bool
		fin, token string
		status     int
		retryAfter string
	}{
		{"Found", registrysim.Options{Token: token}, false, "5ZJ7K2M", token, 200, ""},
		{"WrongToken", registrysim.Options{Token: token}, false, "5ZJ7K2M", "nope", 401, ""},
		{"NoToken", registrysim.Options{Token: token}, false, "5ZJ7K2M", "", 401, ""},
		{"AnyTokenWhenNoneSet", registrysim.Options{}, false, "5ZJ7K2M", "whatever", 200, ""},
		{"UnknownByDefault", registrysim.Options{Token: token}, false, "0ZJ7K2M", token, 404, ""},
		{"CustomNotFound", registrysim.Options{Token: token, NotFound: func(f string) bool { return f == "5ZJ7K2M" }}, false, "5ZJ7K2M", token, 404, ""},
		{"CustomNotFoundKnowsOthers", registrysim.Options{Token: token, NotFound: func(f string) bool { return f == "5ZJ7K2M" }}, false, "0ZJ7K2M", token, 200, ""},
		{"Down", registrysim.Options{Token: token}, true, "5ZJ7K2M", token, 503, "1"},
		{"AlwaysFailing", registrysim.Options{Token: token, FailRate: 1}, false, "5ZJ7K2M", token, 503, "1"},
		{"TokenCheckedFirst", registrysim.Options{Token: token}, true, "5ZJ7K2M", "nope", 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := registrysim.New(tt.opts)
			s.SetDown(tt.down)
			rec := get(t, s, tt.fin, tt.token)
			require.Equal(t, tt.status, rec.Code)
			require.Equal(t, tt.retryAfter, rec.Header().Get("Retry-After"))
			require.True(t, json.Valid(rec.Body.Bytes()), rec.Body.String())
			require.Equal(t, 1, s.CallsFor(tt.fin))
		})
	}
}

func TestSetDownEnds(t *testing.T) {
	t.Parallel()
	s := registrysim.New(registrysim.Options{Token: token})
	s.SetDown(true)
	require.Equal(t, 503, get(t, s, "5ZJ7K2M", token).Code)
	s.SetDown(false)
	require.Equal(t, 200, get(t, s, "5ZJ7K2M", token).Code)
}

func TestFailRate(t *testing.T) {
	t.Parallel()
	s := registrysim.New(registrysim.Options{Token: token, FailRate: 0.5})
	failed := 0
	for i := range 1000 {
		if get(t, s, fmt.Sprintf("A%06d", i), token).Code == http.StatusServiceUnavailable {
			failed++
		}
	}
	// Binomial(1000, 0.5) lies outside 350..650 with probability below 1e-20.
	require.InDelta(t, 500, failed, 150)
}

func TestCalls(t *testing.T) {
	t.Parallel()
	s := registrysim.New(registrysim.Options{Token: token})
	get(t, s, "5ZJ7K2M", token)
	get(t, s, "5ZJ7K2M", "bad")
	get(t, s, "0AB1234", token)
	require.Equal(t, 3, s.Calls())
	require.Equal(t, 2, s.CallsFor("5ZJ7K2M"))
	require.Equal(t, 1, s.CallsFor("0AB1234"))
	require.Equal(t, 0, s.CallsFor("9XY8W7V"))

	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/v1/other", nil)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.Equal(t, 3, s.Calls(), "only lookups count")
}

func TestLatency(t *testing.T) {
	t.Parallel()
	const latency = 50 * time.Millisecond
	s := registrysim.New(registrysim.Options{Token: token, Latency: latency})
	start := time.Now()
	require.Equal(t, 200, get(t, s, "5ZJ7K2M", token).Code)
	require.GreaterOrEqual(t, time.Since(start), latency)

	// A caller that hangs up is not kept waiting.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	slow := registrysim.New(registrysim.Options{Latency: time.Hour})
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/v1/persons/5ZJ7K2M", nil)
	slow.ServeHTTP(httptest.NewRecorder(), req)
	require.Equal(t, 1, slow.Calls())
}

var (
	date    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	aze     = regexp.MustCompile(`^\d{8}$`)
	aa      = regexp.MustCompile(`^\d{7}$`)
	letters = "ABCDEFGHJKLMNPQRSTUVWXYZ" // a FİN has no I or O
)

func TestRecords(t *testing.T) {
	t.Parallel()
	s := registrysim.New(registrysim.Options{Token: token})
	seen := map[string]bool{}
	series := map[string]int{}
	genders := map[string]int{}
	for i := range 500 {
		fin := fmt.Sprintf("%c%06d", letters[i%len(letters)], i*7919%1_000_000) // never "0…": unknown
		rec := get(t, s, fin, token)
		require.Equal(t, 200, rec.Code)

		// Exactly the contract's fields, no more.
		dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
		dec.DisallowUnknownFields()
		var p registrysim.Person
		require.NoError(t, dec.Decode(&p))
		var raw map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &raw))
		require.Len(t, raw, 9)
		require.Len(t, raw["id_card"], 5)

		require.Equal(t, fin, p.FIN)
		require.Equal(t, registrysim.Record(fin), p, "deterministic")
		for _, v := range []string{p.Surname, p.Name, p.Patronymic, p.BirthPlace, p.RegistrationAddress, p.IDCard.IssuedBy} {
			require.NotEmpty(t, v)
		}
		switch p.Gender {
		case "male":
			require.True(t, strings.HasSuffix(p.Patronymic, " oğlu"), p.Patronymic)
			require.False(t, strings.HasSuffix(p.Surname, "a"), p.Surname)
		case "female":
			require.True(t, strings.HasSuffix(p.Patronymic, " qızı"), p.Patronymic)
			require.True(t, strings.HasSuffix(p.Surname, "ova") || strings.HasSuffix(p.Surname, "eva"), p.Surname)
		default:
			t.Fatalf("gender %q", p.Gender)
		}
		genders[p.Gender]++

		for _, d := range []string{p.BirthDate, p.IDCard.IssuedAt, p.IDCard.ExpiresAt} {
			require.Regexp(t, date, d)
		}
		birth, _ := time.Parse(time.DateOnly, p.BirthDate)
		issued, _ := time.Parse(time.DateOnly, p.IDCard.IssuedAt)
		expires, _ := time.Parse(time.DateOnly, p.IDCard.ExpiresAt)
		require.False(t, issued.Before(birth.AddDate(16, 0, 0)), "a card is issued from 16")
		require.Equal(t, issued.AddDate(10, 0, 0), expires)
		switch p.IDCard.Series {
		case "AZE":
			require.Regexp(t, aze, p.IDCard.Number)
		case "AA":
			require.Regexp(t, aa, p.IDCard.Number)
		default:
			t.Fatalf("series %q", p.IDCard.Series)
		}
		series[p.IDCard.Series]++
		require.True(t, strings.HasPrefix(p.IDCard.IssuedBy, "ASAN xidmət"), p.IDCard.IssuedBy)
		seen[p.Surname+" "+p.Name+" "+p.Patronymic+" "+p.BirthDate] = true
	}
	require.Greater(t, len(seen), 450, "different FİNs are different people")
	require.Positive(t, series["AA"])
	require.Positive(t, series["AZE"])
	require.Positive(t, genders["male"])
	require.Positive(t, genders["female"])
}

// TestRegistryClient runs the hub's registry client against the Sim.
func TestRegistryClient(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T, clientToken string) (*registry.Client, *registrysim.Sim) {
		t.Helper()
		s := registrysim.New(registrysim.Options{Token: token, Latency: 5 * time.Millisecond})
		srv := httptest.NewServer(s)
		t.Cleanup(srv.Close)
		c, err := registry.New(registry.Config{URL: srv.URL, Token: clientToken}, nil, nil)
		require.NoError(t, err)
		return c, s
	}
	t.Run("Found", func(t *testing.T) {
		t.Parallel()
		c, s := setup(t, token)
		for range 3 {
			rec, err := c.Person(t.Context(), "5ZJ7K2M")
			require.NoError(t, err)
			var p registrysim.Person
			require.NoError(t, json.Unmarshal(rec, &p))
			require.Equal(t, registrysim.Record("5ZJ7K2M"), p)
		}
		require.Equal(t, 1, s.CallsFor("5ZJ7K2M"), "the client caches")
	})
	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t, token)
		_, err := c.Person(t.Context(), "0ZJ7K2M")
		require.ErrorIs(t, err, routers.ErrPersonNotFound)
	})
	t.Run("WrongToken", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t, "stale")
		_, err := c.Person(t.Context(), "5ZJ7K2M")
		require.ErrorIs(t, err, registry.ErrUnauthorized)
	})
	t.Run("Outage", func(t *testing.T) {
		t.Parallel()
		c, s := setup(t, token)
		s.SetDown(true)
		_, err := c.Person(t.Context(), "5ZJ7K2M")
		var te *routers.TransientError
		require.ErrorAs(t, err, &te)
		require.Equal(t, time.Second, te.RetryAfter)
		_, err = c.Person(t.Context(), "7AB3C4D")
		require.ErrorAs(t, err, new(*routers.HoldOffError), "the client waits as asked")
		require.Equal(t, 1, s.Calls())

		s.SetDown(false)
		require.Eventually(t, func() bool {
			_, err := c.Person(t.Context(), "5ZJ7K2M")
			return err == nil
		}, 5*time.Second, 20*time.Millisecond)
		require.Equal(t, 2, s.Calls())
	})
}
