package routers_test

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// TestHoldOff: a hold-off the hub imposes on itself (the registry's
// Retry-After, an open breaker) delays a delivery to the end of the hold-off
// and no further; it spends no attempt and does not grow the backoff, which
// here would put the next try at least five hours away.
func TestHoldOff(t *testing.T) {
	t.Parallel()
	const backoff = 10 * time.Hour // the retry policy: [5h, 10h] after any real failure

	t.Run("Registry", func(t *testing.T) {
		t.Parallel()
		h := newHarnessWith(t, harnessOptions{retryInitial: backoff, retryMax: backoff})
		h.registry.set(filer, &routers.HoldOffError{Err: errors.New("registry asked to wait"), Wait: time.Hour})
		body, _ := h.body("request-appeal.json", nil)
		h.publish(body)
		waitUntil(t, "the delivery postponed", func() bool { return !h.appeal(firstNumber).Delivery.NextAttemptAt.IsZero() })

		a := h.appeal(firstNumber)
		calls := h.registry.callTimesOf(filer)
		require.Len(t, calls, 2, "looked up at intake and before the hand-over")
		require.Zero(t, a.Delivery.Attempts, "a hold-off is no attempt")
		requireNear(t, h.clock.at(calls[1]).Add(time.Hour), a.Delivery.NextAttemptAt, "due when the hold-off ends")
		require.Contains(t, a.Delivery.LastError, "registry asked to wait")
		require.Empty(t, h.districts["AZ-BIL"].submitsOf(firstNumber))
	})

	t.Run("Breaker", func(t *testing.T) {
		t.Parallel()
		h := newHarnessWith(t, harnessOptions{retryInitial: backoff, retryMax: backoff, breakerFailures: 1, breakerCooldown: time.Hour})
		h.districts["AZ-BIL"].plan(&routers.TransientError{Err: errors.New("503")})
		first, _ := h.body("request-appeal.json", nil)
		h.publish(first)
		// The breaker opens inside the call, before the hub records the
		// call's failure: wait for both.
		waitUntil(t, "the breaker opens and the failure is recorded", func() bool {
			return testutil.ToFloat64(h.metricsOf().BreakerState.WithLabelValues("AZ-BIL")) == 2 &&
				!h.appeal(firstNumber).Delivery.NextAttemptAt.IsZero()
		})
		failed := h.appeal(firstNumber)
		require.Equal(t, 1, failed.Delivery.Attempts, "the district's 503 is a real attempt")
		opened := h.clock.at(h.districts["AZ-BIL"].submitsOf(firstNumber)[0].at)
		require.GreaterOrEqual(t, failed.Delivery.NextAttemptAt.Sub(opened), backoff/2, "the retry policy applies to it")

		second, _ := h.body("request-appeal.json", nil)
		h.publish(second)
		const secondNumber = "AZ-BIL-2026-000002"
		waitUntil(t, "the second delivery postponed", func() bool { return !h.appeal(secondNumber).Delivery.NextAttemptAt.IsZero() })
		a := h.appeal(secondNumber)
		require.Empty(t, h.districts["AZ-BIL"].submitsOf(secondNumber), "the open breaker let a call through")
		require.Zero(t, a.Delivery.Attempts, "an open breaker is no attempt")
		require.ErrorContains(t, errors.New(a.Delivery.LastError), routers.ErrBreakerOpen.Error())
		// The breaker opened (and so lets a probe through an hour later) between
		// the first call and the breaker's state change seen above.
		requireNear(t, opened.Add(time.Hour), a.Delivery.NextAttemptAt, "due when the breaker lets a probe through")
	})

	t.Run("RegistryRecovery", func(t *testing.T) {
		t.Parallel()
		h := newHarnessWith(t, harnessOptions{retryInitial: backoff, retryMax: backoff})
		h.registry.set(filer, &routers.TransientError{Err: errors.New("registry answered 503")})
		body, id := h.body("request-appeal.json", nil)
		h.publish(body)
		waitUntil(t, "a failed enrichment", func() bool { return h.appeal(firstNumber).Delivery.Attempts == 1 })
		require.GreaterOrEqual(t, h.appeal(firstNumber).Delivery.NextAttemptAt.Sub(h.clock.Now()), backoff/2-time.Minute)

		// The registry answers again (here for another request's citizen):
		// the appeal waiting for it is due at once, not hours later.
		h.registry.set(filer, nil)
		h.barrier()
		h.waitEvent(id, routers.StatusDelivered)
		require.JSONEq(t, `{"fin": "`+filer+`"}`, string(h.appeal(firstNumber).Person))
	})
}

// requireNear checks that got is want to within the scheduling slack of a
// loaded test machine.
func requireNear(t *testing.T, want, got time.Time, msg string) {
	t.Helper()
	require.WithinDuration(t, want, got, 2*time.Second, msg)
}

// TestHoldOff/RegistryRecovery relies on the fake telling recoveries.
var _ routers.RecoveryNotifier = (*fakeRegistry)(nil)
