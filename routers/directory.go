package routers

import (
	"slices"
	"time"
)

// Directory is what the hub knows of the districts it serves: their names,
// the services each offers and its officials' reception days. cmd/korpu
// builds it from the operator's config.
type Directory struct {
	Districts map[string]DistrictInfo
}

// Codes lists the districts' codes in order.
func (d Directory) Codes() []string {
	codes := make([]string, 0, len(d.Districts))
	for code := range d.Districts {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	return codes
}

// DistrictInfo is one district's offer.
type DistrictInfo struct {
	Code        string
	Name        string // the authority's name, as printed on an appeal
	AllServices bool
	Services    map[string]bool // when not AllServices
	Officials   map[string]Official
}

// Offers reports whether the district accepts requests for service.
func (d DistrictInfo) Offers(service string) bool { return d.AllServices || d.Services[service] }

// OfficialIDs lists the district's officials' ids in order.
func (d DistrictInfo) OfficialIDs() []string {
	ids := make([]string, 0, len(d.Officials))
	for id := range d.Officials {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Official is a person citizens may book a reception with.
type Official struct {
	ID       string
	Name     string
	Position string
	Sessions []Session // weekly reception sessions
}

// Session is one weekly reception session of an official.
type Session struct {
	Weekday  time.Weekday
	From, To string // "HH:MM", Baku time
	Capacity int    // citizens received in it
}

// CapacityOn is the number of citizens the official receives on weekday w,
// over all his sessions that day.
func (o Official) CapacityOn(w time.Weekday) int {
	n := 0
	for _, s := range o.Sessions {
		if s.Weekday == w {
			n += s.Capacity
		}
	}
	return n
}

// SessionsOn are the official's sessions on weekday w.
func (o Official) SessionsOn(w time.Weekday) []Session {
	var out []Session
	for _, s := range o.Sessions {
		if s.Weekday == w {
			out = append(out, s)
		}
	}
	return out
}

// receives reports whether the official holds reception on w.
func (o Official) receives(w time.Weekday) bool { return o.CapacityOn(w) > 0 }
