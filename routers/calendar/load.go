package calendar

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// file is the part of holidays.json the calendar reads; every other key
// (rules, sources, fixed and variable holidays) documents the lists for people.
type file struct {
	NonWorking  map[string][]entry `json:"non_working_holidays_by_year"`
	Transferred []entry            `json:"transferred_working_days"`
}

// entry is one listed day. The weekday is required: it is the check that
// catches a mistyped date in a hand-written operator file.
type entry struct {
	Date    string `json:"date"`
	Weekday string `json:"weekday"`
}

// parsed is one file after validation.
type parsed struct {
	holidays    map[int][]time.Time // year → its non-working days (UTC midnights)
	transferred []time.Time
}

// weekdays accepts both the abbreviations holidays.json uses and full names.
var weekdays = func() map[string]time.Weekday {
	m := make(map[string]time.Weekday, 14)
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		m[wd.String()] = wd
		m[wd.String()[:3]] = wd
	}
	return m
}()

// Load builds a calendar from the embedded holidays.json and the operators'
// extra files, applied in order. An extra file has the same shape and needs
// only non_working_holidays_by_year and/or transferred_working_days: a year it
// lists replaces that year's list from the files before it (the Cabinet's
// December decision supersedes an estimate), and its transferred working days
// are added to the others.
//
// Load is strict, because a wrong day silently moves every legal deadline
// across it: it fails, naming the file and entry, on malformed JSON or dates,
// a missing or disagreeing weekday, a holiday listed under another year, a
// duplicate or empty year list, a day that is both non-working and a
// transferred working day, and a file with neither key.
func Load(embedded []byte, extra ...[]byte) (*Calendar, error) {
	holidays := make(map[int][]time.Time)
	transferred := make(map[time.Time]bool)
	for i, data := range append([][]byte{embedded}, extra...) {
		name := "embedded file"
		if i > 0 {
			name = fmt.Sprintf("extra file %d", i)
		}
		p, err := parse(data)
		if err != nil {
			return nil, fmt.Errorf("calendar: %s: %w", name, err)
		}
		maps.Copy(holidays, p.holidays)
		for _, d := range p.transferred {
			transferred[d] = true
		}
	}
	return build(holidays, transferred)
}

// parse decodes and validates one file on its own.
func parse(data []byte) (parsed, error) {
	var f file
	if err := json.Unmarshal(data, &f); err != nil {
		return parsed{}, fmt.Errorf("decode: %w", err)
	}
	if f.NonWorking == nil && f.Transferred == nil {
		return parsed{}, errors.New("has neither non_working_holidays_by_year nor transferred_working_days")
	}
	p := parsed{holidays: make(map[int][]time.Time, len(f.NonWorking))}
	for _, key := range slices.Sorted(maps.Keys(f.NonWorking)) {
		y, err := strconv.Atoi(key)
		if err != nil || strconv.Itoa(y) != key {
			return parsed{}, fmt.Errorf("non_working_holidays_by_year[%q]: not a year", key)
		}
		entries := f.NonWorking[key]
		if len(entries) == 0 {
			// Every year has at least New Year; an empty list is a mistake
			// that would make all its weekdays working days.
			return parsed{}, fmt.Errorf("non_working_holidays_by_year[%q]: lists no days", key)
		}
		days := make([]time.Time, 0, len(entries))
		seen := make(map[time.Time]bool, len(entries))
		for i, e := range entries {
			where := fmt.Sprintf("non_working_holidays_by_year[%q][%d]", key, i)
			d, err := e.day()
			if err != nil {
				return parsed{}, fmt.Errorf("%s: %w", where, err)
			}
			if d.Year() != y {
				return parsed{}, fmt.Errorf("%s: %s is listed under year %d", where, e.Date, y)
			}
			if seen[d] {
				return parsed{}, fmt.Errorf("%s: %s is listed twice", where, e.Date)
			}
			seen[d] = true
			days = append(days, d)
		}
		p.holidays[y] = days
	}
	for i, e := range f.Transferred {
		d, err := e.day()
		if err != nil {
			return parsed{}, fmt.Errorf("transferred_working_days[%d]: %w", i, err)
		}
		p.transferred = append(p.transferred, d)
	}
	return p, nil
}

// day parses the entry's date and checks it against its weekday.
func (e entry) day() (time.Time, error) {
	d, err := time.Parse(time.DateOnly, e.Date)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: %w", e.Date, err)
	}
	wd, ok := weekdays[e.Weekday]
	if !ok {
		return time.Time{}, fmt.Errorf("%s: weekday %q is not one of Mon…Sun", e.Date, e.Weekday)
	}
	if wd != d.Weekday() {
		return time.Time{}, fmt.Errorf("%s: listed as %q but is a %s", e.Date, e.Weekday, d.Weekday())
	}
	return d, nil
}

// build turns the merged lists into one bitset per known year.
func build(holidays map[int][]time.Time, transferred map[time.Time]bool) (*Calendar, error) {
	c := &Calendar{years: make(map[int]*year, len(holidays))}
	for _, y := range slices.Sorted(maps.Keys(holidays)) {
		jan1 := time.Date(y, time.January, 1, 0, 0, 0, 0, time.UTC)
		cal := &year{jan1: jan1.Weekday()}
		for yd := range daysIn(y) {
			if wd := cal.weekday(yd); wd != time.Saturday && wd != time.Sunday {
				cal.working[yd>>6] |= 1 << (yd & 63)
			}
		}
		for _, d := range holidays[y] {
			if transferred[d] {
				return nil, fmt.Errorf("calendar: %s is both a non-working day and a transferred working day", d.Format(time.DateOnly))
			}
			yd := d.YearDay() - 1
			cal.working[yd>>6] &^= 1 << (yd & 63)
		}
		c.years[y] = cal
	}
	for d := range transferred {
		if cal, ok := c.years[d.Year()]; ok {
			yd := d.YearDay() - 1
			cal.working[yd>>6] |= 1 << (yd & 63)
		}
	}
	return c, nil
}
