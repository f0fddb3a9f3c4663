// Package districttest is the conformance suite of the routers.District
// port: every district adapter, run against its simulator, must pass Run.
package districttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// Failure is a fault a harness makes its simulated district answer the next
// call with.
type Failure int

// Failures for Harness.FailNext.
const (
	// FailTransient: the district is busy or down for a moment.
	FailTransient Failure = iota + 1
	// FailPermanent: the district refuses the data for good.
	FailPermanent
	// FailCredentials: the district refuses the hub's credentials.
	FailCredentials
	// FailTimeout: the district does not answer until the caller gives up.
	FailTimeout
	// FailMalformed: the district answers success with a body that cannot be read.
	FailMalformed
)

// Harness is one district adapter wired to its simulator, fresh for each test.
type Harness interface {
	// District is the adapter under test.
	District() routers.District
	// FailNext makes the simulator answer the next call with f.
	FailNext(f Failure)
	// ErrCredentials is the adapter's sentinel for refused credentials.
	ErrCredentials() error
	// Registered is how many distinct appeals the district system holds.
	Registered() int
	// Received is how many registration calls for the appeal reached the
	// district system past the injected faults.
	Received(appealNumber string) int
	// Comments are the texts the district holds for the appeal, in order.
	Comments(appealNumber string) []string
	// Statuses are the statuses the hub can see for the appeal so far, in
	// order, as the adapter delivers them (callbacks for REST, polling for
	// ESD); the simulators move every appeal to in_progress and then answered.
	Statuses(ctx context.Context, appealNumber, reference string) ([]routers.Status, error)
}

const (
	waitFor = 10 * time.Second
	tick    = 10 * time.Millisecond
)

var seq atomic.Int64

// Submission returns a valid submission of the given service with a fresh
// appeal number; the person record has every field of contract §3.
func Submission(service string) routers.Submission {
	n := seq.Add(1)
	number := fmt.Sprintf("AZ-BIL-2026-%06d", 100000+n)
	r := routers.Request{
		Kind:        "request",
		ID:          fmt.Sprintf("00000000-0000-4000-8000-%012d", n),
		SubmittedAt: "2026-11-27T10:15:04+04:00",
		District:    "AZ-BIL",
		Service:     service,
		Citizen:     routers.Citizen{FIN: "5ZJ7K2M", Phone: "+994501234567", Email: "r@example.az", Address: "Biləsuvar şəhəri, Nizami küçəsi 14"},
		Appeal:      routers.AppealForm{Type: "complaint", SocialStatus: "employed", PrivilegeStatus: "idp", Subject: "Su", Text: "Kənddə su yoxdur."},
	}
	switch service {
	case "reception-booking":
		r.Reception = &routers.Reception{OfficialID: "BIL-01", Date: "2026-12-01"}
	case "appeal":
	default:
		r.Form = map[string]any{"purpose": "sosial yardım", "members_count": float64(4)}
	}
	return routers.Submission{
		AppealNumber: number,
		Service:      service,
		Deadline:     "2026-12-18",
		RegisteredAt: time.Date(2026, 11, 27, 6, 15, 5, 0, time.UTC),
		Request:      r,
		Person:       json.RawMessage(`{"fin":"5ZJ7K2M","surname":"Məmmədov","name":"Rəşad","patronymic":"Elçin oğlu","birth_date":"1988-04-12","gender":"male","birth_place":"Biləsuvar rayonu","registration_address":"Biləsuvar şəhəri, Nizami küçəsi 14","id_card":{"series":"AZE","number":"12345678","issued_at":"2019-05-20","expires_at":"2029-05-20","issued_by":"DİN Biləsuvar"}}`),
	}
}

// Run runs the suite; newHarness builds a fresh adapter and simulator.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Helper()

	t.Run("Submit", func(t *testing.T) {
		t.Parallel()
		for _, service := range []string{"appeal", "reception-booking", "family-composition-certificate"} {
			h := newHarness(t)
			ref, err := h.District().Submit(t.Context(), Submission(service))
			require.NoError(t, err, service)
			require.NotEmpty(t, ref, service)
			require.Equal(t, 1, h.Registered(), service)
		}
	})

	t.Run("DuplicateSubmit", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		s := Submission("appeal")
		first, err := h.District().Submit(t.Context(), s)
		require.NoError(t, err)
		again, err := h.District().Submit(t.Context(), s)
		require.NoError(t, err)
		require.Equal(t, first, again)
		require.Equal(t, 2, h.Received(s.AppealNumber))
		require.Equal(t, 1, h.Registered())
	})

	t.Run("TransientThenSuccess", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		s := Submission("appeal")
		h.FailNext(FailTransient)
		_, err := h.District().Submit(t.Context(), s)
		requireTransient(t, err)
		require.Zero(t, h.Registered())
		ref, err := h.District().Submit(t.Context(), s)
		require.NoError(t, err)
		require.NotEmpty(t, ref)
		require.Equal(t, 1, h.Registered())
	})

	t.Run("PermanentFault", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.FailNext(FailPermanent)
		_, err := h.District().Submit(t.Context(), Submission("appeal"))
		require.True(t, routers.IsPermanent(err), "%v", err)
		require.NotErrorIs(t, err, h.ErrCredentials())
		require.Zero(t, h.Registered())
	})

	t.Run("WrongCredentials", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.FailNext(FailCredentials)
		_, err := h.District().Submit(t.Context(), Submission("appeal"))
		require.True(t, routers.IsPermanent(err), "%v", err)
		require.ErrorIs(t, err, h.ErrCredentials())
		require.Zero(t, h.Registered())
	})

	t.Run("Timeout", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.FailNext(FailTimeout)
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		_, err := h.District().Submit(ctx, Submission("appeal"))
		requireTransient(t, err)
	})

	t.Run("MalformedAnswer", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.FailNext(FailMalformed)
		_, err := h.District().Submit(t.Context(), Submission("appeal"))
		requireTransient(t, err)
	})

	t.Run("Comment", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		s := Submission("appeal")
		ref, err := h.District().Submit(t.Context(), s)
		require.NoError(t, err)
		at := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
		first := routers.CommentSubmission{ID: "c-1", AppealNumber: s.AppealNumber, Reference: ref, Text: "Birinci", At: at}
		require.NoError(t, h.District().Comment(t.Context(), first))
		require.NoError(t, h.District().Comment(t.Context(), first)) // a redelivery
		second := routers.CommentSubmission{ID: "c-2", AppealNumber: s.AppealNumber, Reference: ref, Text: "İkinci", At: at.Add(time.Minute)}
		require.NoError(t, h.District().Comment(t.Context(), second))
		require.Equal(t, []string{"Birinci", "İkinci"}, h.Comments(s.AppealNumber))

		err = h.District().Comment(t.Context(), routers.CommentSubmission{ID: "c-3", AppealNumber: "AZ-BIL-2026-999999", Reference: "BIL-2026/999999", Text: "Kimə?", At: at})
		require.True(t, routers.IsPermanent(err), "%v", err)
		require.ErrorIs(t, err, routers.ErrNotFound)
	})

	t.Run("CommentTransient", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		s := Submission("appeal")
		ref, err := h.District().Submit(t.Context(), s)
		require.NoError(t, err)
		c := routers.CommentSubmission{ID: "c-1", AppealNumber: s.AppealNumber, Reference: ref, Text: "Yenə", At: time.Now()}
		h.FailNext(FailTransient)
		requireTransient(t, h.District().Comment(t.Context(), c))
		require.Empty(t, h.Comments(s.AppealNumber))
		require.NoError(t, h.District().Comment(t.Context(), c))
		require.Equal(t, []string{"Yenə"}, h.Comments(s.AppealNumber))
	})

	t.Run("StatusChanges", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		s := Submission("appeal")
		ref, err := h.District().Submit(t.Context(), s)
		require.NoError(t, err)
		want := []routers.Status{routers.StatusInProgress, routers.StatusAnswered}
		require.Eventually(t, func() bool {
			statuses, err := h.Statuses(t.Context(), s.AppealNumber, ref)
			if err != nil {
				return false
			}
			got := slices.DeleteFunc(statuses, func(st routers.Status) bool { return st == routers.StatusDelivered })
			return slices.Equal(got, want)
		}, waitFor, tick, "the district's statuses never became %v", want)
	})
}

func requireTransient(t *testing.T, err error) {
	t.Helper()
	var te *routers.TransientError
	require.True(t, errors.As(err, &te), "want a TransientError, got %v", err)
}
