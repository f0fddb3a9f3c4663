package routers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// The examples' filer, and a FİN the registry does not know.
const (
	filer        = "5ZJ7K2M"
	unknownFiler = "6KLM2P9"
)

// startDates are the days the flow tests also start their clock on: the
// year's end (a holiday, the number's year about to turn, the deadline
// across the New Year holidays), the eve of Novruz 2025 (twelve days off,
// then a Tuesday worked in their place), and a day years after the embedded
// calendar ends (its holidays from an operator's file). Days before and
// after any day the suite runs on, so a component reading the wall clock
// instead of the hub's fails either way.
var startDates = []struct {
	name string
	at   time.Time
}{
	{"YearEnd", time.Date(2026, 12, 31, 20, 0, 0, 0, routers.Baku)},
	{"NovruzWeek", time.Date(2025, 3, 19, 11, 0, 0, 0, routers.Baku)},
	{"YearsAhead", time.Date(2031, 6, 13, 11, 0, 0, 0, routers.Baku)},
}

// flowTests are the flow tests that run with the clock started on any day.
var flowTests = []struct {
	name string
	run  func(t *testing.T, start time.Time)
}{
	{"Hub", testHub},
	{"Polling", testPolling},
	{"Reconciliation", testReconciliation},
	{"ReconciliationSkipsUnknownAppeals", testReconciliationSkipsUnknownAppeals},
	{"CircuitBreaker", testCircuitBreaker},
	{"BreakerParksTheBacklog", testBreakerParksTheBacklog},
	{"Statutory", testStatutory},
}

// TestHubOnDates runs every flow test with the clock started on each of
// startDates, so the suite passes whatever day it runs on.
func TestHubOnDates(t *testing.T) {
	t.Parallel()
	for _, d := range startDates {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			for _, f := range flowTests {
				t.Run(f.name, func(t *testing.T) {
					t.Parallel()
					f.run(t, d.at)
				})
			}
		})
	}
}

// appealNumber is the number of the seq-th appeal of AZ-BIL registered at start.
func appealNumber(start time.Time, seq int) string {
	return fmt.Sprintf("AZ-BIL-%d-%06d", start.In(routers.Baku).Year(), seq)
}

// deadlineOf is the legal deadline of an appeal registered at start: 15
// working days on (from Friday 2026-11-27, 2026-12-18: the contract's example).
func deadlineOf(t *testing.T, start time.Time) string {
	t.Helper()
	due, err := testCalendar().AddWorkingDays(start, 15)
	require.NoError(t, err)
	return due.Format(time.DateOnly)
}

func TestHub(t *testing.T) {
	t.Parallel()
	require.Equal(t, "2026-12-18", deadlineOf(t, arrival), "the contract's example")
	testHub(t, arrival)
}

func testHub(t *testing.T, start time.Time) {
	// The number the first appeal of a hub gets, its deadline, and when the
	// comments are written: before the hub's clock.
	var (
		firstNumber = appealNumber(start, 1)
		firstRef    = "REF-" + firstNumber
		firstDue    = deadlineOf(t, start)
		commentAt   = start.Add(-10 * time.Minute).Format(time.RFC3339)
	)
	newHarness := func(t *testing.T) *harness { return newHarnessWith(t, harnessOptions{start: start}) }

	t.Run("ValidRequestFlow", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		body, id := h.body("request-appeal.json", nil)
		before := h.clock.Now()
		h.publish(body)

		reg := h.waitEvent(id, routers.StatusRegistered)
		require.Equal(t, firstNumber, reg.AppealNumber)
		require.Regexp(t, fmt.Sprintf(`^AZ-BIL-%d-[0-9]{6}$`, start.In(routers.Baku).Year()), reg.AppealNumber)
		require.Equal(t, 1, reg.Sequence)
		require.Equal(t, firstDue, reg.Deadline)
		require.Equal(t, "AZ-BIL", reg.District)
		require.Equal(t, "appeal", reg.Service)
		require.Empty(t, reg.Errors)
		at, err := time.Parse(time.RFC3339, reg.At)
		require.NoError(t, err)
		require.WithinDuration(t, before, at, time.Minute)
		require.Equal(t, reg.EventID, reg.metadata.Get("message_id"))
		require.Equal(t, id, reg.metadata.Get("correlation_id"))

		del := h.waitEvent(id, routers.StatusDelivered)
		require.Equal(t, 2, del.Sequence)
		require.Equal(t, firstNumber, del.AppealNumber)
		require.Equal(t, firstDue, del.Deadline)
		require.Contains(t, del.Note, firstRef)
		require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered}, statuses(h.eventsOf(id)))

		calls := h.districts["AZ-BIL"].submitsOf(firstNumber)
		require.Len(t, calls, 1)
		s := calls[0].s
		require.JSONEq(t, `{"fin": "`+filer+`"}`, string(s.Person))
		require.Equal(t, id, s.Request.ID)
		require.Equal(t, "appeal", s.Service)
		require.Equal(t, firstDue, s.Deadline)
		require.Equal(t, "5ZJ7K2M", s.Request.Citizen.FIN)
		require.Empty(t, h.districts["AZ-SAT"].submitsOf(firstNumber))

		a := h.appeal(firstNumber)
		require.Equal(t, routers.StatusDelivered, a.Status)
		require.Equal(t, firstRef, a.DistrictRef)
		require.Equal(t, routers.DeliveryDelivered, a.Delivery.State)
		require.Equal(t, 1, a.Delivery.Attempts)
		require.JSONEq(t, string(body), string(a.Request))
	})

	t.Run("RegistryDownAtIntake", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.registry.set(filer, &routers.TransientError{Err: errors.New("registry answered 503")})
		body, id := h.body("request-appeal.json", nil)
		h.publish(body)

		reg := h.waitEvent(id, routers.StatusRegistered)
		require.Equal(t, firstNumber, reg.AppealNumber)
		require.Nil(t, h.appeal(firstNumber).Person)
		// The hand-over tried to enrich, failed, and is waiting to retry.
		require.Eventually(t, func() bool { return h.appeal(firstNumber).Delivery.Attempts >= 1 }, waitFor, 2*time.Millisecond)
		require.Empty(t, h.districts["AZ-BIL"].submitsOf(firstNumber), "an appeal went out without the person")

		h.registry.set(filer, nil)
		h.waitEvent(id, routers.StatusDelivered)
		calls := h.districts["AZ-BIL"].submitsOf(firstNumber)
		require.Len(t, calls, 1)
		require.JSONEq(t, `{"fin": "`+filer+`"}`, string(calls[0].s.Person))
		require.JSONEq(t, `{"fin": "`+filer+`"}`, string(h.appeal(firstNumber).Person))
	})

	t.Run("RegistryDownThenPersonUnknown", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.registry.set(filer, &routers.TransientError{Err: errors.New("registry timed out")})
		body, id := h.body("request-appeal.json", nil)
		h.publish(body)
		h.waitEvent(id, routers.StatusRegistered)

		h.registry.set(filer, routers.ErrPersonNotFound)
		rejected := h.waitEvent(id, routers.StatusRejected)
		require.Equal(t, 2, rejected.Sequence)
		require.Contains(t, rejected.Note, "registry")
		a := h.appeal(firstNumber)
		require.Equal(t, routers.DeliveryFailed, a.Delivery.State)
		require.Empty(t, h.districts["AZ-BIL"].submitsOf(firstNumber), "an unknown person's appeal was handed over")
	})

	t.Run("RegistryNotFound", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.registry.set(filer, routers.ErrPersonNotFound)
		body, id := h.body("request-appeal.json", nil)
		h.publish(body)
		// The barrier takes the first number only if the rejected request took none.
		require.Equal(t, firstNumber, h.barrier())

		evs := h.eventsOf(id)
		require.Len(t, evs, 1)
		require.Equal(t, routers.StatusInvalid, evs[0].Status)
		require.Equal(t, 1, evs[0].Sequence)
		require.Empty(t, evs[0].AppealNumber)
		require.Equal(t, []string{"citizen.fin"}, fields(evs[0].Errors))
		require.NotEqual(t, id, h.appeal(firstNumber).RequestID)
		require.Positive(t, h.registry.callsFor(filer))
	})

	t.Run("TransientDistrictFailure", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		const retryAfter = 200 * time.Millisecond
		h.districts["AZ-BIL"].plan(&routers.TransientError{Err: errors.New("503 busy"), RetryAfter: retryAfter})
		body, id := h.body("request-appeal.json", nil)
		h.publish(body)

		h.waitEvent(id, routers.StatusDelivered)
		calls := h.districts["AZ-BIL"].submitsOf(firstNumber)
		require.Len(t, calls, 2)
		require.GreaterOrEqual(t, calls[1].at.Sub(calls[0].at), retryAfter, "the retry came before the district's Retry-After")
		a := h.appeal(firstNumber)
		require.Equal(t, routers.DeliveryDelivered, a.Delivery.State)
		require.Equal(t, 2, a.Delivery.Attempts)

		h.barrier()
		require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered}, statuses(h.eventsOf(id)))
		require.Len(t, h.districts["AZ-BIL"].submitsOf(firstNumber), 2)
	})

	t.Run("PermanentDistrictFailure", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.districts["AZ-BIL"].plan(&routers.PermanentError{Err: errors.New("district answered 422: unknown service")})
		body, id := h.body("request-appeal.json", nil)
		h.publish(body)

		letter := h.waitDeadLetter(routers.DeadAppeal)
		require.Contains(t, letter.Error, "district answered 422: unknown service")
		require.Equal(t, topics.District("AZ-BIL"), letter.Queue)
		require.Equal(t, firstNumber, letter.AppealNumber)
		require.Equal(t, 1, letter.Attempts)
		var job routers.Job
		require.NoError(t, json.Unmarshal(letter.Body, &job))
		require.Equal(t, routers.Job{Kind: routers.JobAppeal, Key: firstNumber}, job)

		a := h.appeal(firstNumber)
		require.Equal(t, routers.DeliveryFailed, a.Delivery.State)
		require.Contains(t, a.Delivery.LastError, "unknown service")
		require.Equal(t, routers.StatusRegistered, a.Status)

		h.barrier()
		require.Equal(t, []routers.Status{routers.StatusRegistered}, statuses(h.eventsOf(id)))
		require.Len(t, h.history(firstNumber), 1)
		require.Len(t, h.districts["AZ-BIL"].submitsOf(firstNumber), 1, "a refused appeal was retried")

		// The operator fixes the cause and replays: delivered once, sequence intact.
		desk := routers.NewDeadLetterDesk(h.ledger, h.clock.Now)
		require.NoError(t, desk.Replay(t.Context(), letter.ID, deskOperator))
		h.waitEvent(id, routers.StatusDelivered)
		require.ErrorIs(t, desk.Replay(t.Context(), letter.ID, deskOperator), routers.ErrNotOpen, "a second replay")
		require.ErrorIs(t, desk.Drop(t.Context(), letter.ID, deskOperator), routers.ErrNotOpen)
		h.barrier()
		require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered}, statuses(h.eventsOf(id)))
		require.Equal(t, []int{1, 2}, sequencesOf(h.history(firstNumber)))
		require.Len(t, h.districts["AZ-BIL"].submitsOf(firstNumber), 2)
	})

	t.Run("ReplayRefusedAgain", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		refused := &routers.PermanentError{Err: errors.New("district answered 422")}
		h.districts["AZ-BIL"].plan(refused, refused)
		body, _ := h.body("request-appeal.json", nil)
		h.publish(body)
		first := h.waitDeadLetter(routers.DeadAppeal)
		desk := routers.NewDeadLetterDesk(h.ledger, h.clock.Now)
		require.NoError(t, desk.Replay(t.Context(), first.ID, deskOperator))
		waitUntil(t, "a second dead letter for the refused replay", func() bool {
			open, err := h.ledger.DeadLetters(t.Context(), routers.DeadLetterOpen, 0, 10)
			require.NoError(t, err)
			return len(open) == 1 && open[0].ID != first.ID
		})
		require.Equal(t, routers.DeliveryFailed, h.appeal(firstNumber).Delivery.State)
	})

	t.Run("RetriesSpent", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		busy := &routers.TransientError{Err: errors.New("503")}
		h.districts["AZ-BIL"].plan(busy, busy, busy)
		body, id := h.body("request-appeal.json", nil)
		h.publish(body)

		letter := h.waitDeadLetter(routers.DeadAppeal)
		require.Equal(t, harnessMaxAttempts, letter.Attempts, "the retry policy's attempts")
		require.Contains(t, letter.Error, "gave up after 3 attempts")
		require.Equal(t, routers.DeliveryFailed, h.appeal(firstNumber).Delivery.State)
		require.Len(t, h.districts["AZ-BIL"].submitsOf(firstNumber), harnessMaxAttempts)
		h.barrier()
		require.Equal(t, []routers.Status{routers.StatusRegistered}, statuses(h.eventsOf(id)))
	})

	t.Run("PoisonIsFiled", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		body, _ := h.body("request-appeal.json", nil)
		msg := message.NewMessage("poison-1", body)
		msg.Metadata.Set(routers.SignatureHeader, routers.Sign([]byte("wrong key"), body))
		h.publishMsg(msg)
		letter := h.waitDeadLetter(routers.DeadPoison)
		require.Equal(t, topics.Requests, letter.Queue)
		require.Equal(t, body, letter.Body)
		require.Contains(t, letter.Error, "x-signature")
		require.NotContains(t, letter.Headers, middleware.ReasonForPoisonedKey)

		// Replaying a bad signature poisons it again: a new letter, the old one closed.
		desk := routers.NewDeadLetterDesk(h.ledger, h.clock.Now)
		require.NoError(t, desk.Replay(t.Context(), letter.ID, deskOperator))
		shown, err := desk.Show(t.Context(), letter.ID)
		require.NoError(t, err)
		require.Equal(t, routers.DeadLetterReplayed, shown.State)
	})

	t.Run("Duplicates", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		body, id := h.body("request-appeal.json", nil)
		bad, badID := h.body("request-appeal.json", map[string]any{"appeal.type": "grievance"})
		for range 3 {
			h.publish(body)
		}
		for range 2 {
			h.publish(bad)
		}
		require.Equal(t, appealNumber(start, 2), h.barrier(), "a duplicate took an appeal number")

		h.waitEvent(id, routers.StatusDelivered) // the hand-over runs on its own
		evs := h.eventsOf(id)
		require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered}, statuses(evs))
		require.Equal(t, id, h.appeal(firstNumber).RequestID)
		require.Len(t, h.districts["AZ-BIL"].submitsOf(firstNumber), 1)
		invalid := h.eventsOf(badID)
		require.Len(t, invalid, 1)
		require.Equal(t, routers.StatusInvalid, invalid[0].Status)
		require.Equal(t, []string{"appeal.type"}, fields(invalid[0].Errors))
	})

	t.Run("Poison", func(t *testing.T) {
		t.Parallel()
		valid, _ := exampleBody(t, "request-appeal.json", nil)
		noID, _ := exampleBody(t, "request-appeal.json", map[string]any{"id": nil})
		cases := []struct {
			name      string
			body      []byte
			signature string
			reason    string
		}{
			{"BadSignature", valid, routers.Sign([]byte("another key"), valid), "x-signature does not match"},
			{"NoSignature", valid, "", "x-signature header missing"},
			{"NotJSON", []byte("kind=request"), routers.Sign(signingKey, []byte("kind=request")), "not a JSON object"},
			{"JSONArray", []byte(`[{"id":"x"}]`), routers.Sign(signingKey, []byte(`[{"id":"x"}]`)), "not a JSON object"},
			{"NoID", noID, routers.Sign(signingKey, noID), "no usable id"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t)
				msg := message.NewMessage(uuid.NewString(), tc.body)
				if tc.signature != "" {
					msg.Metadata.Set(routers.SignatureHeader, tc.signature)
				}
				h.publishMsg(msg)
				poisoned := h.waitPoisoned(msg.UUID)
				require.Contains(t, poisoned.Metadata.Get(middleware.ReasonForPoisonedKey), tc.reason)
				require.Equal(t, topics.Requests, poisoned.Metadata.Get(middleware.PoisonedTopicKey))
				require.Equal(t, string(tc.body), string(poisoned.Payload))

				require.Equal(t, firstNumber, h.barrier())
				require.Equal(t, len(h.eventsOfAppeal(firstNumber)), len(h.allEvents()), "a poisoned message produced a status event")
			})
		}
	})

	t.Run("ReportStatusRules", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		body, id := h.body("request-appeal.json", nil)
		h.publish(body)
		h.waitEvent(id, routers.StatusDelivered)

		at := h.clock.Now().Add(-time.Minute).Truncate(time.Second) // the district's clock: the hub's, give or take
		steps := []struct {
			name     string
			district string
			number   string
			status   routers.Status
			want     error
		}{
			{"another district's appeal", "AZ-SAT", firstNumber, routers.StatusInProgress, routers.ErrForeignAppeal},
			{"unknown appeal", "AZ-BIL", appealNumber(start, 999), routers.StatusInProgress, routers.ErrNotFound},
			{"status a district may not report", "AZ-BIL", firstNumber, routers.StatusRegistered, routers.ErrBadStatus},
			{"commented is not a district status", "AZ-BIL", firstNumber, routers.StatusCommented, routers.ErrBadStatus},
			{"answered", "AZ-BIL", firstNumber, routers.StatusAnswered, nil},
			{"back to in_progress", "AZ-BIL", firstNumber, routers.StatusInProgress, routers.ErrBackwardStep},
			{"answered again", "AZ-BIL", firstNumber, routers.StatusAnswered, nil},
			{"another outcome of the same rank", "AZ-BIL", firstNumber, routers.StatusRejected, routers.ErrBackwardStep},
		}
		for _, s := range steps {
			err := h.hub.ReportStatus(context.Background(), routers.StatusReport{
				District: s.district, AppealNumber: s.number, Status: s.status, Note: "cavab verildi", At: at,
			})
			if s.want == nil {
				require.NoError(t, err, s.name)
			} else {
				require.ErrorIs(t, err, s.want, s.name)
			}
		}

		hist := h.history(firstNumber)
		require.Len(t, hist, 3, "only the first answered is an event")
		require.Equal(t, routers.StatusAnswered, hist[2].Status)
		require.Equal(t, 3, hist[2].Sequence)
		require.Equal(t, routers.FormatTime(at), hist[2].At)
		require.Equal(t, "cavab verildi", hist[2].Note)
		require.Equal(t, routers.StatusAnswered, h.appeal(firstNumber).Status)
		h.barrier()
		require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered, routers.StatusAnswered}, statuses(h.eventsOf(id)))
	})

	t.Run("ReportBeforeDeliveryRecorded", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		entered, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		h.districts["AZ-BIL"].setHook(func(ctx context.Context) error {
			once.Do(func() { close(entered) })
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return &routers.TransientError{Err: ctx.Err()}
			}
		})
		body, id := h.body("request-appeal.json", nil)
		h.publish(body)
		select {
		case <-entered:
		case <-time.After(waitFor):
			t.Fatal("the district was not called")
		}

		require.NoError(t, h.hub.ReportStatus(context.Background(), routers.StatusReport{
			District: "AZ-BIL", AppealNumber: firstNumber, Status: routers.StatusInProgress, Note: "baxılır",
		}))
		hist := h.history(firstNumber)
		require.Len(t, hist, 3)
		require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered, routers.StatusInProgress},
			[]routers.Status{hist[0].Status, hist[1].Status, hist[2].Status})
		require.Equal(t, routers.DeliveryPending, h.appeal(firstNumber).Delivery.State, "a callback is no acknowledgement of receipt")

		close(release)
		require.Eventually(t, func() bool { return h.appeal(firstNumber).DistrictRef == firstRef }, waitFor, 2*time.Millisecond)
		a := h.appeal(firstNumber)
		require.Equal(t, routers.StatusInProgress, a.Status)
		require.Equal(t, 3, a.Sequence)
		require.Equal(t, routers.DeliveryDelivered, a.Delivery.State)
		require.Len(t, h.history(firstNumber), 3, "the late hand-over added an event")

		h.barrier()
		evs := h.eventsOf(id)
		require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered, routers.StatusInProgress}, statuses(evs))
		require.Equal(t, []int{1, 2, 3}, sequences(evs))
		require.Equal(t, "baxılır", evs[2].Note)
	})

	t.Run("ReportBeforeDeliveryThatFails", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		entered, release := make(chan struct{}), make(chan struct{})
		var calls atomic.Int32
		h.districts["AZ-BIL"].setHook(func(context.Context) error {
			if calls.Add(1) > 1 {
				return nil
			}
			close(entered)
			<-release
			return &routers.TransientError{Err: errors.New("503 after all")}
		})
		body, id := h.body("request-appeal.json", nil)
		h.publish(body)
		select {
		case <-entered:
		case <-time.After(waitFor):
			t.Fatal("the district was not called")
		}
		// The report overtakes a Submit in flight, which then fails: the
		// report stands, and the delivery goes on until the district takes it.
		require.NoError(t, h.hub.ReportStatus(context.Background(), routers.StatusReport{
			District: "AZ-BIL", AppealNumber: firstNumber, Status: routers.StatusInProgress,
		}))
		close(release)
		require.Eventually(t, func() bool { return h.appeal(firstNumber).Delivery.State == routers.DeliveryDelivered }, waitFor, 2*time.Millisecond)
		require.Len(t, h.districts["AZ-BIL"].submitsOf(firstNumber), 2)
		require.Equal(t, firstRef, h.appeal(firstNumber).DistrictRef)
		h.barrier()
		require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered, routers.StatusInProgress}, statuses(h.eventsOf(id)))
	})

	t.Run("ReportBeforeDeliveryRefused", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		// The Submit got 503 and waits for its retry: nothing is in flight.
		h.districts["AZ-BIL"].plan(&routers.TransientError{Err: errors.New("503 busy"), RetryAfter: time.Hour})
		body, id := h.body("request-appeal.json", nil)
		h.publish(body)
		waitUntil(t, "the delivery postponed", func() bool { return !h.appeal(firstNumber).Delivery.NextAttemptAt.IsZero() })
		before := h.appeal(firstNumber)

		for _, status := range []routers.Status{routers.StatusInProgress, routers.StatusClosed} {
			err := h.hub.ReportStatus(context.Background(), routers.StatusReport{District: "AZ-BIL", AppealNumber: firstNumber, Status: status})
			require.ErrorIs(t, err, routers.ErrNotDelivered, status)
		}
		require.Equal(t, before, h.appeal(firstNumber), "a refused report changes nothing")
		require.Len(t, h.history(firstNumber), 1)

		// The district is back (its breaker closes): the appeal is delivered after all.
		_, err := h.ledger.Expedite(t.Context(), "AZ-BIL", h.clock.Now())
		require.NoError(t, err)
		h.waitEvent(id, routers.StatusDelivered)
		require.Len(t, h.districts["AZ-BIL"].submitsOf(firstNumber), 2)
		require.NoError(t, h.hub.ReportStatus(context.Background(), routers.StatusReport{District: "AZ-BIL", AppealNumber: firstNumber, Status: routers.StatusInProgress}))
		h.barrier()
		require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered, routers.StatusInProgress}, statuses(h.eventsOf(id)))
	})

	t.Run("ReportAfterUnansweredSubmit", func(t *testing.T) {
		t.Parallel()
		h := newHarnessWith(t, harnessOptions{start: start, districtTimeout: 50 * time.Millisecond, retryInitial: time.Hour, retryMax: time.Hour})
		var calls atomic.Int32
		h.districts["AZ-BIL"].setHook(func(ctx context.Context) error {
			if calls.Add(1) > 1 {
				return nil
			}
			// The district takes the appeal but answers after the hub gave up.
			<-ctx.Done()
			return &routers.TransientError{Err: fmt.Errorf("POST /appeals: %w", ctx.Err())}
		})
		body, id := h.body("request-appeal.json", nil)
		h.publish(body)
		waitUntil(t, "the delivery postponed", func() bool { return !h.appeal(firstNumber).Delivery.NextAttemptAt.IsZero() })
		require.True(t, h.appeal(firstNumber).Delivery.Unanswered)

		// The district may hold the appeal: its report is accepted, and the
		// delivery goes on until the district acknowledges it.
		require.NoError(t, h.hub.ReportStatus(context.Background(), routers.StatusReport{
			District: "AZ-BIL", AppealNumber: firstNumber, Status: routers.StatusInProgress,
		}))
		a := h.appeal(firstNumber)
		require.Equal(t, routers.StatusInProgress, a.Status)
		require.Equal(t, routers.DeliveryPending, a.Delivery.State)
		_, err := h.ledger.Expedite(t.Context(), "AZ-BIL", h.clock.Now())
		require.NoError(t, err)
		require.Eventually(t, func() bool { return h.appeal(firstNumber).Delivery.State == routers.DeliveryDelivered }, waitFor, 2*time.Millisecond)
		require.False(t, h.appeal(firstNumber).Delivery.Unanswered)
		h.barrier()
		require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered, routers.StatusInProgress}, statuses(h.eventsOf(id)))
	})

	t.Run("Comments", func(t *testing.T) {
		t.Parallel()
		t.Run("ByFilerAfterDelivery", func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			body, id := h.body("request-appeal.json", nil)
			h.publish(body)
			h.waitEvent(id, routers.StatusDelivered)

			comment, commentID := h.body("comment.json", map[string]any{"appeal_number": firstNumber, "submitted_at": commentAt})
			h.publish(comment)
			ev := h.waitEvent(commentID, routers.StatusCommented)
			require.Equal(t, 3, ev.Sequence)
			require.Equal(t, firstNumber, ev.AppealNumber)
			require.Equal(t, "AZ-BIL", ev.District)
			require.Equal(t, commentID, ev.metadata.Get("correlation_id"))

			got := h.districts["AZ-BIL"].commentsReceived()
			require.Len(t, got, 1)
			require.Equal(t, commentID, got[0].ID)
			require.Equal(t, firstNumber, got[0].AppealNumber)
			require.Equal(t, firstRef, got[0].Reference)
			require.Equal(t, "Problem hələ də davam edir, əlavə şəkil göndərirəm.", got[0].Text)
			wantAt, err := time.Parse(time.RFC3339, commentAt)
			require.NoError(t, err)
			require.True(t, wantAt.Equal(got[0].At))
			// A comment does not change the appeal's status, only its sequence.
			a := h.appeal(firstNumber)
			require.Equal(t, routers.StatusDelivered, a.Status)
			require.Equal(t, 3, a.Sequence)
			require.Equal(t, routers.DeliveryDelivered, h.comment(commentID).Delivery.State)
		})

		invalid := []struct {
			name  string
			edits map[string]any
			field string
		}{
			{"ByAnotherFIN", map[string]any{"appeal_number": firstNumber, "submitted_at": commentAt, "citizen.fin": unknownFiler}, "citizen.fin"},
			{"OnUnknownAppeal", map[string]any{"appeal_number": appealNumber(start, 999), "submitted_at": commentAt}, "appeal_number"},
		}
		for _, tc := range invalid {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t)
				body, id := h.body("request-appeal.json", nil)
				h.publish(body)
				h.waitEvent(id, routers.StatusDelivered)

				comment, commentID := h.body("comment.json", tc.edits)
				h.publish(comment)
				h.barrier()
				evs := h.eventsOf(commentID)
				require.Len(t, evs, 1)
				require.Equal(t, routers.StatusInvalid, evs[0].Status)
				require.Equal(t, 1, evs[0].Sequence)
				require.Equal(t, []string{tc.field}, fields(evs[0].Errors))
				require.Empty(t, h.districts["AZ-BIL"].commentsReceived())
				require.Equal(t, 2, h.appeal(firstNumber).Sequence)
			})
		}

		t.Run("BeforeDelivery", func(t *testing.T) {
			t.Parallel()
			h := newHarnessWith(t, harnessOptions{start: start, maxAttempts: 100})
			var open atomic.Bool
			h.districts["AZ-BIL"].setHook(func(context.Context) error {
				if !open.Load() {
					return &routers.TransientError{Err: errors.New("district down")}
				}
				return nil
			})
			body, id := h.body("request-appeal.json", nil)
			h.publish(body)
			h.waitEvent(id, routers.StatusRegistered)

			comment, commentID := h.body("comment.json", map[string]any{"appeal_number": firstNumber, "submitted_at": commentAt})
			h.publish(comment)
			require.Eventually(t, func() bool { return strings.Contains(h.comment(commentID).Delivery.LastError, "not delivered yet") }, waitFor, 2*time.Millisecond)
			require.Equal(t, routers.DeliveryPending, h.comment(commentID).Delivery.State)
			require.Zero(t, h.comment(commentID).Delivery.Attempts, "waiting for the appeal spends no attempt")
			require.Empty(t, h.districts["AZ-BIL"].commentsReceived(), "a comment went out before its appeal")

			open.Store(true)
			h.waitEvent(commentID, routers.StatusCommented)
			got := h.districts["AZ-BIL"].commentsReceived()
			require.Len(t, got, 1)
			require.Equal(t, firstRef, got[0].Reference)
			evs := h.eventsOfAppeal(firstNumber)
			require.Equal(t, []routers.Status{routers.StatusRegistered, routers.StatusDelivered, routers.StatusCommented}, statuses(evs))
			require.Equal(t, []int{1, 2, 3}, sequences(evs))
		})
	})

	t.Run("ReceptionCapacity", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		ids := make([]string, 3)
		for i := range ids {
			var body []byte
			body, ids[i] = h.body("request-reception.json", nil)
			h.publish(body)
		}
		var registered, invalid []observed
		require.Eventually(t, func() bool {
			registered, invalid = nil, nil
			for _, id := range ids {
				for _, ev := range h.eventsOf(id) {
					switch ev.Status {
					case routers.StatusRegistered:
						registered = append(registered, ev)
					case routers.StatusInvalid:
						invalid = append(invalid, ev)
					}
				}
			}
			return len(registered)+len(invalid) >= 3
		}, waitFor, 2*time.Millisecond)
		require.Len(t, registered, 2)
		require.Len(t, invalid, 1)
		require.Equal(t, []string{"reception.date"}, fields(invalid[0].Errors))
		require.Equal(t, ids[2], invalid[0].RequestID, "the third booking of the day must be the one refused")
	})
}
