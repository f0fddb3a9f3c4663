package calendar_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers/calendar"
	"github.com/korpu-az/korpu/schemas"
)

// minimal is a small valid file to put a broken extra file after.
const minimal = `{"non_working_holidays_by_year": {"2026": [{"date": "2026-01-01", "weekday": "Thu"}]}}`

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		embedded string
		extra    []string
		wantErr  []string // substrings the error must contain
	}{
		{"MalformedJSON", `{"non_working_holidays_by_year": [`, nil,
			[]string{"embedded file", "decode"}},
		{"NeitherKey", `{"description": "no lists"}`, nil,
			[]string{"embedded file", "neither"}},
		{"MalformedDate", `{"non_working_holidays_by_year": {"2026": [{"date": "2026-13-01", "weekday": "Thu"}]}}`, nil,
			[]string{`non_working_holidays_by_year["2026"][0]`, `"2026-13-01"`}},
		{"NonPaddedDate", `{"non_working_holidays_by_year": {"2026": [{"date": "2026-3-9", "weekday": "Mon"}]}}`, nil,
			[]string{`"2026-3-9"`}},
		{"WeekdayDisagrees", `{"non_working_holidays_by_year": {"2026": [
				{"date": "2026-01-01", "weekday": "Thu"}, {"date": "2026-03-09", "weekday": "Sun"}]}}`, nil,
			[]string{`non_working_holidays_by_year["2026"][1]`, "2026-03-09", `"Sun"`, "Monday"}},
		{"WeekdayMissing", `{"non_working_holidays_by_year": {"2026": [{"date": "2026-01-01"}]}}`, nil,
			[]string{`non_working_holidays_by_year["2026"][0]`, "2026-01-01", "weekday"}},
		{"WeekdayUnknownName", `{"non_working_holidays_by_year": {"2026": [{"date": "2026-01-01", "weekday": "Per"}]}}`, nil,
			[]string{"2026-01-01", `"Per"`}},
		{"HolidayUnderWrongYear", `{"non_working_holidays_by_year": {"2026": [{"date": "2027-01-01", "weekday": "Fri"}]}}`, nil,
			[]string{`non_working_holidays_by_year["2026"][0]`, "2027-01-01", "year 2026"}},
		{"YearKeyNotAYear", `{"non_working_holidays_by_year": {"2O26": [{"date": "2026-01-01", "weekday": "Thu"}]}}`, nil,
			[]string{`["2O26"]`, "not a year"}},
		{"EmptyYear", `{"non_working_holidays_by_year": {"2026": []}}`, nil,
			[]string{`["2026"]`, "no days"}},
		{"DuplicateDay", `{"non_working_holidays_by_year": {"2026": [
				{"date": "2026-01-01", "weekday": "Thu"}, {"date": "2026-01-01", "weekday": "Thu"}]}}`, nil,
			[]string{`non_working_holidays_by_year["2026"][1]`, "2026-01-01", "twice"}},
		{"TransferredMalformedDate", `{"transferred_working_days": [{"date": "2025-06-31", "weekday": "Tue"}]}`, nil,
			[]string{"transferred_working_days[0]", `"2025-06-31"`}},
		{"TransferredWeekdayDisagrees", `{"transferred_working_days": [{"date": "2025-06-21", "weekday": "Sun"}]}`, nil,
			[]string{"transferred_working_days[0]", "2025-06-21", "Saturday"}},
		{"BothOffAndWorked", `{"non_working_holidays_by_year": {"2026": [{"date": "2026-01-01", "weekday": "Thu"}]},
			"transferred_working_days": [{"date": "2026-01-01", "weekday": "Thu"}]}`, nil,
			[]string{"2026-01-01", "both"}},
		{"ExtraFileNamed", minimal, []string{`{"non_working_holidays_by_year": {}}`, `{"non_working_holidays_by_year": {"2028": [{"date": "2028-01-01", "weekday": "Fri"}]}}`},
			[]string{"extra file 2", `["2028"][0]`, "2028-01-01", "Saturday"}},
		{"ExtraFileEmptyObject", minimal, []string{`{}`},
			[]string{"extra file 1", "neither"}},
		{"ExtraTransfersEmbeddedHoliday", string(schemas.Holidays), []string{`{"transferred_working_days": [{"date": "2026-03-24", "weekday": "Tue"}]}`},
			[]string{"2026-03-24", "both"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			extra := make([][]byte, len(tt.extra))
			for i, e := range tt.extra {
				extra[i] = []byte(e)
			}
			c, err := calendar.Load([]byte(tt.embedded), extra...)
			require.Error(t, err)
			require.Nil(t, c)
			for _, want := range tt.wantErr {
				require.ErrorContains(t, err, want)
			}
		})
	}
}

func TestLoadExtra(t *testing.T) {
	t.Parallel()
	// The Cabinet's December 2026 decision differs from the estimate: Ramazan
	// on 10–11 March, no observed New Year day, and Saturday 13 March worked.
	const fix2027 = `{
	  "description": "ignored",
	  "non_working_holidays_by_year": {"2027": [
	    {"date": "2027-01-01", "weekday": "Fri"},
	    {"date": "2027-03-10", "weekday": "Wed"},
	    {"date": "2027-03-11", "weekday": "Thu"}
	  ]},
	  "transferred_working_days": [{"date": "2027-03-13", "weekday": "Saturday"}]
	}`
	const second2028 = `{"non_working_holidays_by_year": {"2028": [{"date": "2028-01-03", "weekday": "Mon"}]}}`

	tests := []struct {
		name      string
		extra     []string
		wantYears []int
		days      map[time.Time]bool // day → working
	}{
		{"EmbeddedOnly", nil, []int{2025, 2026, 2027}, map[time.Time]bool{
			calendar.Date(2027, 1, 4):  false,
			calendar.Date(2027, 3, 9):  false,
			calendar.Date(2027, 3, 11): true,
			calendar.Date(2027, 3, 13): false,
		}},
		{"AddsYear", []string{extra2028}, []int{2025, 2026, 2027, 2028}, map[time.Time]bool{
			calendar.Date(2028, 1, 3):  false,
			calendar.Date(2028, 1, 5):  true,
			calendar.Date(2028, 1, 20): false,
			calendar.Date(2027, 3, 9):  false, // 2027 untouched
		}},
		{"ReplacesYearAndMergesTransferred", []string{fix2027}, []int{2025, 2026, 2027}, map[time.Time]bool{
			calendar.Date(2027, 1, 4):  true,  // gone from the replacement
			calendar.Date(2027, 3, 9):  true,  // estimate superseded
			calendar.Date(2027, 3, 11): false, // new day
			calendar.Date(2027, 3, 13): true,  // worked Saturday from the extra file
			calendar.Date(2025, 6, 21): true,  // worked Saturday from the embedded file kept
			calendar.Date(2026, 3, 24): false, // 2026 untouched
		}},
		{"LaterExtraWins", []string{extra2028, second2028}, []int{2025, 2026, 2027, 2028}, map[time.Time]bool{
			calendar.Date(2028, 1, 3):  false,
			calendar.Date(2028, 1, 4):  true, // listed only by the first extra file
			calendar.Date(2028, 1, 20): true,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			extra := make([][]byte, len(tt.extra))
			for i, e := range tt.extra {
				extra[i] = []byte(e)
			}
			c, err := calendar.Load(schemas.Holidays, extra...)
			require.NoError(t, err)
			require.Equal(t, tt.wantYears, c.Years())
			for day, want := range tt.days {
				got, err := c.IsWorkingDay(day)
				require.NoError(t, err)
				require.Equal(t, want, got, "IsWorkingDay(%s)", day.Format(time.DateOnly))
			}
		})
	}
}

// FuzzLoad feeds Load arbitrary extra files: it must never panic, and a
// calendar it accepts must answer for every year it claims to know.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(extra2028))
	f.Add([]byte(minimal))
	f.Add([]byte(`{"transferred_working_days": [{"date": "2027-03-13", "weekday": "Sat"}]}`))
	f.Add([]byte(`{"non_working_holidays_by_year": {"-1": [{"date": "0000-01-01", "weekday": "Sat"}]}}`))
	f.Fuzz(func(t *testing.T, extra []byte) {
		c, err := calendar.Load(schemas.Holidays, extra)
		if err != nil {
			return
		}
		for _, y := range c.Years() {
			_, err := c.IsWorkingDay(calendar.Date(y, time.December, 31))
			require.NoError(t, err)
			_, err = c.AddWorkingDays(calendar.Date(y, time.January, 1), 1)
			if err != nil {
				require.ErrorIs(t, err, calendar.ErrUnknownYear)
			}
		}
	})
}
