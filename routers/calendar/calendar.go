// Package calendar is the working-day calendar of Azerbaijan that the hub's
// legal deadlines are counted on: the answer to an appeal is due in 15 working
// days, a reception is booked on one of an official's next reception days.
//
// A day is a working day unless it is a Saturday or Sunday or a listed
// non-working day (public holidays, their observed days, election days and the
// days the Cabinet moves); a listed transferred working day is worked even on a
// weekend. The lists come from holidays.json (embedded in package schemas) and,
// for the years the Cabinet announces each December, from extra files in the
// same shape that operators supply without a release (see [Load]).
//
// Days are time.Time values at midnight in Asia/Baku; every method first turns
// its argument into its Baku calendar day, so any instant may be passed.
package calendar

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
	_ "time/tzdata" // Asia/Baku must resolve on hosts without a zoneinfo database.

	"github.com/korpu-az/korpu/schemas"
)

// ErrUnknownYear is returned, wrapped with the year, when a day falls in a
// year the calendar has no holiday list for: counting through it would
// silently miss its holidays.
var ErrUnknownYear = errors.New("calendar: unknown year")

var baku = mustLoadBaku()

func mustLoadBaku() *time.Location {
	loc, err := time.LoadLocation("Asia/Baku")
	if err != nil {
		// Unreachable: time/tzdata embeds the zone.
		panic(fmt.Sprintf("calendar: load Asia/Baku: %v", err))
	}
	return loc
}

// Location returns the Asia/Baku location all calendar days are in.
func Location() *time.Location { return baku }

// Date returns midnight of the given day in Asia/Baku. Like time.Date it
// normalises out-of-range values (Date(2026, 3, 32) is 1 April).
func Date(year int, month time.Month, day int) time.Time {
	return time.Date(year, month, day, 0, 0, 0, 0, baku)
}

// Day returns the Baku calendar day of instant t, as midnight in Asia/Baku.
func Day(t time.Time) time.Time {
	y, m, d := t.In(baku).Date()
	return Date(y, m, d)
}

// Calendar answers working-day questions for its known years. It is
// immutable once loaded and safe for concurrent use.
type Calendar struct {
	years map[int]*year
}

// year is one known year as a bitset of its working days, so a day costs a
// map lookup per year crossed and a shift.
type year struct {
	working [6]uint64    // bit d is set when day d (0 = 1 January) is worked
	jan1    time.Weekday // weekday of 1 January
}

func (y *year) isWorking(yd int) bool { return y.working[yd>>6]&(1<<(yd&63)) != 0 }

func (y *year) weekday(yd int) time.Weekday { return (y.jan1 + time.Weekday(yd%7)) % 7 }

var defaultCalendar = sync.OnceValue(func() *Calendar {
	c, err := Load(schemas.Holidays)
	if err != nil {
		panic(fmt.Sprintf("calendar: embedded holidays.json: %v", err))
	}
	return c
})

// Default returns the calendar of the embedded holidays.json alone, built
// once and shared. It panics only if the embedded file is broken, which the
// package's tests rule out.
func Default() *Calendar { return defaultCalendar() }

// Years returns the known years in ascending order.
func (c *Calendar) Years() []int {
	return slices.Sorted(maps.Keys(c.years))
}

// IsWorkingDay reports whether day's Baku calendar day is a working day. It
// returns an error wrapping ErrUnknownYear when that year is not known.
func (c *Calendar) IsWorkingDay(day time.Time) (bool, error) {
	t := day.In(baku)
	y, ok := c.years[t.Year()]
	if !ok {
		return false, fmt.Errorf("%w: %d", ErrUnknownYear, t.Year())
	}
	return y.isWorking(t.YearDay() - 1), nil
}

// AddWorkingDays returns the n-th working day after from's Baku day; from's
// day itself does not count, whether worked or not (an appeal registered on
// Friday 2026-11-27 is due in 15 working days, on 2026-12-18). n must be at
// least 1. It returns an error wrapping ErrUnknownYear when the count reaches
// a year that is not known.
func (c *Calendar) AddWorkingDays(from time.Time, n int) (time.Time, error) {
	if n < 1 {
		return time.Time{}, fmt.Errorf("calendar: add %d working days: n must be at least 1", n)
	}
	var due time.Time
	err := c.walk(from, func(y, yd int, _ time.Weekday) bool {
		n--
		if n > 0 {
			return true
		}
		due = Date(y, time.January, yd+1)
		return false
	})
	if err != nil {
		return time.Time{}, err
	}
	return due, nil
}

// NextWorkingDays returns the first n working days strictly after from's Baku
// day whose weekday satisfies match, in order; a nil match accepts every
// weekday. n must be at least 1. It returns an error wrapping ErrUnknownYear
// when the search reaches a year that is not known before n days are found.
func (c *Calendar) NextWorkingDays(from time.Time, n int, match func(time.Weekday) bool) ([]time.Time, error) {
	if n < 1 {
		return nil, fmt.Errorf("calendar: next %d working days: n must be at least 1", n)
	}
	days := make([]time.Time, 0, n)
	err := c.walk(from, func(y, yd int, wd time.Weekday) bool {
		if match == nil || match(wd) {
			days = append(days, Date(y, time.January, yd+1))
		}
		return len(days) < n
	})
	if err != nil {
		return nil, err
	}
	return days, nil
}

// walk calls visit with each working day strictly after from's Baku day, in
// order, until visit returns false. from's own year need not be known, since
// its day is never examined.
func (c *Calendar) walk(from time.Time, visit func(y, yd int, wd time.Weekday) bool) error {
	t := from.In(baku)
	y, yd := t.Year(), t.YearDay()-1
	days := daysIn(y)
	cal := c.years[y]
	for {
		yd++
		if yd == days {
			y, yd = y+1, 0
			days = daysIn(y)
			cal = c.years[y]
		}
		if cal == nil {
			return fmt.Errorf("%w: %d", ErrUnknownYear, y)
		}
		if cal.isWorking(yd) && !visit(y, yd, cal.weekday(yd)) {
			return nil
		}
	}
}

// daysIn returns the number of days of year y.
func daysIn(y int) int {
	if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		return 366
	}
	return 365
}
