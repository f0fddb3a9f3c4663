package retryafter_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/retryafter"
)

func TestParse(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		h    string
		want time.Duration
	}{
		{name: "Empty", h: "", want: 0},
		{name: "Seconds", h: "120", want: 2 * time.Minute},
		{name: "Spaces", h: " 5 ", want: 5 * time.Second},
		{name: "Zero", h: "0", want: 0},
		{name: "CappedSeconds", h: "3600", want: 10 * time.Minute},
		{name: "HugeSeconds", h: "99999999999999999999999", want: 10 * time.Minute},
		{name: "Negative", h: "-5", want: 0},
		{name: "Date", h: now.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second},
		{name: "PastDate", h: now.Add(-time.Hour).Format(http.TimeFormat), want: 0},
		{name: "CappedDate", h: now.Add(24 * time.Hour).Format(http.TimeFormat), want: 10 * time.Minute},
		{name: "Garbage", h: "soon", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, retryafter.Parse(tt.h, now, 10*time.Minute))
		})
	}
}
