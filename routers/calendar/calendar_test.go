package calendar_test

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers/calendar"
	"github.com/korpu-az/korpu/schemas"
)

// extra2028 is what operators would supply in December 2027: 2028's New Year
// falls on a weekend, so Monday 3 and Tuesday 4 January are observed.
const extra2028 = `{
  "non_working_holidays_by_year": {
    "2028": [
      {"date": "2028-01-01", "weekday": "Sat", "name_en": "New Year's Day"},
      {"date": "2028-01-02", "weekday": "Sun", "name_en": "New Year's Day"},
      {"date": "2028-01-03", "weekday": "Mon", "name_en": "New Year's Day (observed)"},
      {"date": "2028-01-04", "weekday": "Tue", "name_en": "New Year's Day (observed)"},
      {"date": "2028-01-20", "weekday": "Thu", "name_en": "Martyrs' Day"}
    ]
  }
}`

func TestDefault(t *testing.T) {
	t.Parallel()
	c := calendar.Default()
	require.Equal(t, []int{2025, 2026, 2027}, c.Years())
	require.Same(t, c, calendar.Default(), "Default builds the calendar once")
}

func TestDateAndDay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"BakuMidnightUnchanged", calendar.Date(2026, 3, 20), calendar.Date(2026, 3, 20)},
		{"UTCEveningIsNextBakuDay", time.Date(2026, 3, 19, 22, 0, 0, 0, time.UTC), calendar.Date(2026, 3, 20)},
		{"UTCBeforeBakuMidnightSameDay", time.Date(2026, 3, 19, 19, 59, 0, 0, time.UTC), calendar.Date(2026, 3, 19)},
		{"BakuAfternoonTruncated", time.Date(2026, 12, 31, 15, 4, 5, 6, calendar.Location()), calendar.Date(2026, 12, 31)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := calendar.Day(tt.in)
			require.True(t, tt.want.Equal(got), "got %s", got)
			require.Equal(t, "Asia/Baku", got.Location().String())
			h, m, s := got.Clock()
			require.Zero(t, h+m+s+got.Nanosecond())
		})
	}
}

func TestIsWorkingDay(t *testing.T) {
	t.Parallel()
	c := calendar.Default()
	tests := []struct {
		name string
		day  time.Time
		want bool
	}{
		{"OrdinaryThursday", calendar.Date(2026, 3, 19), true},
		{"OrdinarySaturday", calendar.Date(2026, 3, 14), false},
		{"NovruzRamazanFriday", calendar.Date(2026, 3, 20), false},
		{"NovruzTuesday", calendar.Date(2026, 3, 24), false},
		{"RamazanObservedMonday", calendar.Date(2026, 3, 30), false},
		{"AfterNovruzTuesday", calendar.Date(2026, 3, 31), true},
		{"WomensDayOnSunday", calendar.Date(2026, 3, 8), false},
		{"WomensDayObservedMonday", calendar.Date(2026, 3, 9), false},
		{"VictoryOverFascismOnSaturday", calendar.Date(2026, 5, 9), false},
		{"VictoryOverFascismObservedMonday", calendar.Date(2026, 5, 11), false},
		{"WorkedSaturday", calendar.Date(2025, 6, 21), true},
		{"RestDayForWorkedSaturday", calendar.Date(2025, 6, 27), false},
		{"CabinetWorkedMonday", calendar.Date(2025, 3, 10), true},
		{"MartyrsDay", calendar.Date(2026, 1, 20), false},
		{"NewYearsEve", calendar.Date(2025, 12, 31), false},
		{"UTCInstantOfBakuHoliday", time.Date(2026, 3, 8, 21, 0, 0, 0, time.UTC), false},   // 01:00 on 9 March in Baku
		{"UTCInstantOfBakuWorkingDay", time.Date(2026, 3, 9, 20, 0, 0, 0, time.UTC), true}, // 00:00 on 10 March in Baku
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.IsWorkingDay(tt.day)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestIsWorkingDayUnknownYear(t *testing.T) {
	t.Parallel()
	for _, day := range []time.Time{calendar.Date(2028, 1, 5), calendar.Date(2024, 12, 30)} {
		_, err := calendar.Default().IsWorkingDay(day)
		require.ErrorIs(t, err, calendar.ErrUnknownYear)
		require.ErrorContains(t, err, strconv.Itoa(day.Year()))
	}
}

func TestAddWorkingDays(t *testing.T) {
	t.Parallel()
	def := calendar.Default()
	with2028, err := calendar.Load(schemas.Holidays, []byte(extra2028))
	require.NoError(t, err)

	tests := []struct {
		name    string
		cal     *calendar.Calendar
		from    time.Time
		n       int
		want    time.Time
		wantErr error
	}{
		{"BriefCheck", def, calendar.Date(2026, 11, 27), 15, calendar.Date(2026, 12, 18), nil},
		{"FromIsBakuDayNotUTCDay", def, time.Date(2026, 11, 26, 21, 0, 0, 0, time.UTC), 15, calendar.Date(2026, 12, 18), nil},
		{"FromWeekendDoesNotCount", def, calendar.Date(2026, 11, 28), 1, calendar.Date(2026, 11, 30), nil},
		{"NovruzRamazanWeekSkipped", def, calendar.Date(2026, 3, 19), 1, calendar.Date(2026, 3, 31), nil},
		{"NovruzRamazanWeekDeadline", def, calendar.Date(2026, 3, 19), 15, calendar.Date(2026, 4, 20), nil},
		{"FromInsideHolidays", def, calendar.Date(2026, 3, 24), 1, calendar.Date(2026, 3, 31), nil},
		{"SundayHolidayMovedToMonday", def, calendar.Date(2026, 3, 6), 1, calendar.Date(2026, 3, 10), nil},
		{"SaturdayHolidayMovedToMonday", def, calendar.Date(2026, 5, 8), 1, calendar.Date(2026, 5, 12), nil},
		{"WorkedSaturdayCounts", def, calendar.Date(2025, 6, 20), 1, calendar.Date(2025, 6, 21), nil},
		{"WorkedSaturdayThenArmedForcesAndRestDay", def, calendar.Date(2025, 6, 20), 5, calendar.Date(2025, 6, 30), nil},
		{"NewYearCrossingNextDay", def, calendar.Date(2025, 12, 30), 1, calendar.Date(2026, 1, 5), nil},
		{"NewYearCrossingDeadline", def, calendar.Date(2025, 12, 24), 15, calendar.Date(2026, 1, 19), nil},
		{"NewYearCrossingSkipsMartyrsDay", def, calendar.Date(2025, 12, 24), 16, calendar.Date(2026, 1, 21), nil},
		{"FromUnknownYearIntoKnown", def, calendar.Date(2024, 12, 31), 1, calendar.Date(2025, 1, 6), nil},
		{"LastDayBeforeUnknownYear", def, calendar.Date(2027, 12, 29), 1, calendar.Date(2027, 12, 30), nil},
		{"CrossingIntoUnknownYear", def, calendar.Date(2027, 12, 29), 2, time.Time{}, calendar.ErrUnknownYear},
		{"FromUnknownYear", def, calendar.Date(2028, 3, 1), 1, time.Time{}, calendar.ErrUnknownYear},
		{"ExtraYearNextDay", with2028, calendar.Date(2027, 12, 30), 1, calendar.Date(2028, 1, 5), nil},
		{"ExtraYearDeadline", with2028, calendar.Date(2027, 12, 20), 15, calendar.Date(2028, 1, 13), nil},
		{"ExtraYearSkipsMartyrsDay", with2028, calendar.Date(2028, 1, 19), 1, calendar.Date(2028, 1, 21), nil},
		{"ExtraYearEndsAtUnknown2029", with2028, calendar.Date(2028, 12, 28), 3, time.Time{}, calendar.ErrUnknownYear},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.cal.AddWorkingDays(tt.from, tt.n)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.True(t, tt.want.Equal(got), "got %s, want %s", got, tt.want)
			require.Equal(t, calendar.Location(), got.Location())
		})
	}
}

func TestAddWorkingDaysUnknownYearNamesYear(t *testing.T) {
	t.Parallel()
	_, err := calendar.Default().AddWorkingDays(calendar.Date(2027, 12, 29), 2)
	require.ErrorIs(t, err, calendar.ErrUnknownYear)
	require.ErrorContains(t, err, "2028")
}

func TestInvalidCount(t *testing.T) {
	t.Parallel()
	c := calendar.Default()
	for _, n := range []int{0, -1} {
		_, err := c.AddWorkingDays(calendar.Date(2026, 1, 5), n)
		require.Error(t, err)
		_, err = c.NextWorkingDays(calendar.Date(2026, 1, 5), n, nil)
		require.Error(t, err)
	}
}

func TestNextWorkingDays(t *testing.T) {
	t.Parallel()
	is := func(days ...time.Weekday) func(time.Weekday) bool {
		return func(wd time.Weekday) bool {
			for _, d := range days {
				if wd == d {
					return true
				}
			}
			return false
		}
	}
	d := calendar.Date
	tests := []struct {
		name    string
		from    time.Time
		n       int
		match   func(time.Weekday) bool
		want    []time.Time
		wantErr error
	}{
		{"TuesdaysSkipNovruzTuesday", d(2026, 3, 16), 4, is(time.Tuesday),
			[]time.Time{d(2026, 3, 17), d(2026, 3, 31), d(2026, 4, 7), d(2026, 4, 14)}, nil},
		{"FromReceptionDayExcluded", d(2026, 3, 17), 4, is(time.Tuesday, time.Thursday),
			[]time.Time{d(2026, 3, 19), d(2026, 3, 31), d(2026, 4, 2), d(2026, 4, 7)}, nil},
		{"MondaysSkipObservedMonday", d(2026, 3, 1), 2, is(time.Monday),
			[]time.Time{d(2026, 3, 2), d(2026, 3, 16)}, nil},
		{"NilMatchIsEveryWorkingDay", d(2026, 3, 19), 2, nil,
			[]time.Time{d(2026, 3, 31), d(2026, 4, 1)}, nil},
		{"WorkedSaturday", d(2025, 6, 14), 1, is(time.Saturday),
			[]time.Time{d(2025, 6, 21)}, nil},
		{"NoMoreWorkedSaturdaysEndsAtUnknownYear", d(2025, 6, 14), 2, is(time.Saturday), nil, calendar.ErrUnknownYear},
		{"AcrossNewYear", d(2025, 12, 25), 3, is(time.Friday),
			[]time.Time{d(2025, 12, 26), d(2026, 1, 9), d(2026, 1, 16)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := calendar.Default().NextWorkingDays(tt.from, tt.n, tt.match)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Len(t, got, len(tt.want))
			for i := range tt.want {
				require.True(t, tt.want[i].Equal(got[i]), "day %d: got %s, want %s", i, got[i], tt.want[i])
			}
		})
	}
}

// TestAgainstNaiveReference checks the bitset arithmetic against a
// day-by-day count written straight from the rules, reading the JSON itself.
func TestAgainstNaiveReference(t *testing.T) {
	t.Parallel()
	var f struct {
		NonWorking  map[string][]struct{ Date string } `json:"non_working_holidays_by_year"`
		Transferred []struct{ Date string }            `json:"transferred_working_days"`
	}
	require.NoError(t, json.Unmarshal(schemas.Holidays, &f))
	off := map[string]bool{}
	for _, list := range f.NonWorking {
		for _, e := range list {
			off[e.Date] = true
		}
	}
	worked := map[string]bool{}
	for _, e := range f.Transferred {
		worked[e.Date] = true
	}
	working := func(d time.Time) bool {
		s := d.Format(time.DateOnly)
		if worked[s] {
			return true
		}
		return !off[s] && d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
	}
	c := calendar.Default()
	end := calendar.Date(2028, 1, 1)
	for from := calendar.Date(2025, 1, 1); from.Before(end); from = from.AddDate(0, 0, 1) {
		ok, err := c.IsWorkingDay(from)
		require.NoError(t, err)
		require.Equal(t, working(from), ok, "IsWorkingDay(%s)", from.Format(time.DateOnly))
		for _, n := range []int{1, 3, 15, 30} {
			want, left := from, n
			for left > 0 && want.Before(end) {
				want = want.AddDate(0, 0, 1)
				if want.Before(end) && working(want) {
					left--
				}
			}
			got, err := c.AddWorkingDays(from, n)
			if left > 0 {
				require.ErrorIs(t, err, calendar.ErrUnknownYear, "from %s + %d", from.Format(time.DateOnly), n)
				continue
			}
			require.NoError(t, err)
			require.True(t, want.Equal(got), "from %s + %d: got %s, want %s", from.Format(time.DateOnly), n, got, want)
		}
	}
}

func BenchmarkAddWorkingDays(b *testing.B) {
	c := calendar.Default()
	from := time.Date(2026, 3, 19, 9, 30, 0, 0, time.UTC)
	for b.Loop() {
		if _, err := c.AddWorkingDays(from, 15); err != nil {
			b.Fatal(err)
		}
	}
}
