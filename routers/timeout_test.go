package routers_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// TestDistrictTimeout: a call to a district is bounded by that district's
// own budget where it has one, longer or shorter than the hub's (10s in the
// harness), and by the hub's otherwise.
func TestDistrictTimeout(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		own      time.Duration // 0: none
		min, max time.Duration // of the budget the call saw
	}{
		{name: "Longer", own: time.Minute, min: 50 * time.Second, max: time.Minute},
		{name: "Shorter", own: 2 * time.Second, min: time.Second, max: 2 * time.Second},
		{name: "HubDefault", min: 9 * time.Second, max: 10 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts harnessOptions
			if tt.own > 0 {
				opts.districtTimeouts = map[string]time.Duration{"AZ-BIL": tt.own}
			}
			h := newHarnessWith(t, opts)
			budget := make(chan time.Duration, 1)
			h.districts["AZ-BIL"].setHook(func(ctx context.Context) error {
				deadline, ok := ctx.Deadline()
				require.True(t, ok, "every district call has a deadline")
				select {
				case budget <- time.Until(deadline):
				default:
				}
				return nil
			})
			body, id := h.body("request-appeal.json", nil)
			h.publish(body)
			h.waitEvent(id, routers.StatusDelivered)
			got := <-budget
			require.Greater(t, got, tt.min)
			require.LessOrEqual(t, got, tt.max)
		})
	}
}
