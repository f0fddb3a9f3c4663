package routers

import "time"

// Directory is what the hub knows of the districts it serves: the services
// each offers and its officials' reception days. cmd/korpu builds it from the
// operator's config.
type Directory struct {
	Districts map[string]DistrictInfo
}

// DistrictInfo is one district's offer.
type DistrictInfo struct {
	Code        string
	AllServices bool
	Services    map[string]bool // when not AllServices
	Officials   map[string]Official
}

// Offers reports whether the district accepts requests for service.
func (d DistrictInfo) Offers(service string) bool { return d.AllServices || d.Services[service] }

// Official is a person citizens may book a reception with.
type Official struct {
	ID string
	// Capacity is the number of citizens received on each reception weekday.
	Capacity map[time.Weekday]int
}

// receives reports whether the official holds reception on w.
func (o Official) receives(w time.Weekday) bool { return o.Capacity[w] > 0 }
