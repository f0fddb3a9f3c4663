// Package catalogue is the hub's service catalogue: the services of contract §1
// defined in the style of Open311 GeoReport v2 (service and attribute
// definitions, names in Azerbaijani and English), and the check of a request's
// form against its service's attributes. The catalogue is data
// (schemas.Services); this package loads it strictly, so a broken definition
// fails at start-up rather than on a citizen's request.
package catalogue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sync"

	"github.com/korpu-az/korpu/schemas"
)

// Datatype is the kind of value an attribute takes (Open311 GeoReport v2).
type Datatype string

// The Open311 datatypes.
const (
	DatatypeString          Datatype = "string"          // one line, at most 200 characters unless max_length says otherwise
	DatatypeNumber          Datatype = "number"          // a finite decimal, as a JSON number or a string of digits
	DatatypeDatetime        Datatype = "datetime"        // YYYY-MM-DD or RFC 3339
	DatatypeText            Datatype = "text"            // several lines, at most 5,000 characters unless max_length says otherwise
	DatatypeSingleValueList Datatype = "singlevaluelist" // one key of Values
	DatatypeMultiValueList  Datatype = "multivaluelist"  // a JSON array of keys of Values, or one key
)

// Default lengths of free-text attributes, in characters, when max_length is unset.
const (
	defaultStringMax = 200
	defaultTextMax   = 5000
)

// Service is one service's definition: an Open311 service-list entry merged
// with its service definition (the attributes), plus the hub's extensions: an
// English twin of every human-readable field (suffix _en), whether requests
// carry a form at all, and whether the service has been withdrawn.
type Service struct {
	Code          string `json:"service_code"`
	Name          string `json:"service_name"`
	NameEN        string `json:"service_name_en"`
	Description   string `json:"description"`
	DescriptionEN string `json:"description_en"`
	// Metadata is Open311's flag: true when the service has attributes.
	Metadata bool `json:"metadata"`
	// Type is Open311's realtime, batch or blackbox; the hub numbers every
	// appeal on arrival, so the catalogue's services are realtime.
	Type string `json:"type"`
	// Keywords is Open311's comma-separated list, Azerbaijani and English words together.
	Keywords string `json:"keywords"`
	Group    string `json:"group"`
	GroupEN  string `json:"group_en"`
	// Form tells whether requests for the service carry a "form" object
	// (contract §1: all but reception-booking and appeal).
	Form bool `json:"form"`
	// Withdrawn services stay defined so that a request for one is refused
	// with WithdrawnReason rather than as an unknown service.
	Withdrawn         bool        `json:"withdrawn,omitempty"`
	WithdrawnReason   string      `json:"withdrawn_reason,omitempty"`
	WithdrawnReasonEN string      `json:"withdrawn_reason_en,omitempty"`
	Attributes        []Attribute `json:"attributes"`
}

// Attribute is one field of a service's form (an Open311 attribute). Min, Max,
// Integer and MaxLength are the hub's extensions; Example is a realistic valid
// value, used by ExampleForm.
type Attribute struct {
	// Variable is Open311's flag for a field the citizen fills in; every
	// attribute of the catalogue is one.
	Variable              bool     `json:"variable"`
	Code                  string   `json:"code"`
	Datatype              Datatype `json:"datatype"`
	Required              bool     `json:"required"`
	DatatypeDescription   string   `json:"datatype_description"`
	DatatypeDescriptionEN string   `json:"datatype_description_en"`
	// Order is the field's position on the form; attributes are listed in
	// strictly increasing order.
	Order         int     `json:"order"`
	Description   string  `json:"description"`
	DescriptionEN string  `json:"description_en"`
	Values        []Value `json:"values,omitempty"`
	// Min and Max bound a number (inclusive); nil means unbounded.
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// Integer restricts a number to whole numbers.
	Integer bool `json:"integer,omitempty"`
	// MaxLength bounds a string or text in characters; 0 means the default (200 or 5,000).
	MaxLength int `json:"max_length,omitempty"`
	// Example is a valid value as the portal sends it: a string, or an array
	// of keys for a multivaluelist.
	Example any `json:"example"`
}

// Value is one choice of a list attribute: the key the portal sends and its names.
type Value struct {
	Key    string `json:"key"`
	Name   string `json:"name"`
	NameEN string `json:"name_en"`
}

// Catalogue is a loaded, checked set of services. It is immutable and safe
// for concurrent use; the slices inside the Services it returns are shared and
// must not be modified.
type Catalogue struct {
	services []Service // in file order, which is contract order
	index    map[string]int
	codes    []string // sorted
}

// Load parses and checks a catalogue file: a JSON array of services. It
// rejects unknown fields, duplicate service or attribute codes, unknown
// datatypes, lists without values, inconsistent flags and examples that do not
// validate, reporting every problem it finds.
func Load(data []byte) (*Catalogue, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var services []Service
	if err := dec.Decode(&services); err != nil {
		return nil, fmt.Errorf("catalogue: decode: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("catalogue: decode: data after the array of services")
	}
	if len(services) == 0 {
		return nil, errors.New("catalogue: no services")
	}
	c := &Catalogue{services: services, index: make(map[string]int, len(services))}
	var errs []error
	for i := range services {
		s := &services[i]
		if err := s.check(); err != nil {
			errs = append(errs, fmt.Errorf("service %d %q: %w", i, s.Code, err))
		}
		if _, dup := c.index[s.Code]; dup {
			errs = append(errs, fmt.Errorf("service %d %q: duplicate service_code", i, s.Code))
			continue
		}
		c.index[s.Code] = i
		c.codes = append(c.codes, s.Code)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("catalogue: %w", err)
	}
	slices.Sort(c.codes)
	return c, nil
}

// defaultCatalogue loads the embedded file once, on first use.
var defaultCatalogue = sync.OnceValue(func() *Catalogue {
	c, err := Load(schemas.Services)
	if err != nil {
		panic(fmt.Sprintf("embedded services.json is broken: %v", err)) // a build defect, caught by the tests
	}
	return c
})

// Default returns the catalogue embedded in the binary (schemas.Services). It
// panics only if that file is broken, which the package's tests rule out.
func Default() *Catalogue { return defaultCatalogue() }

// Lookup returns the service with the given code.
func (c *Catalogue) Lookup(code string) (Service, bool) {
	i, ok := c.index[code]
	if !ok {
		return Service{}, false
	}
	return c.services[i], true
}

// Codes returns every service code, sorted.
func (c *Catalogue) Codes() []string { return slices.Clone(c.codes) }

// All returns every service in the file's order (for the embedded catalogue,
// the order of contract §1).
func (c *Catalogue) All() []Service { return slices.Clone(c.services) }

// HasForm reports whether requests for the service carry a form.
func (s Service) HasForm() bool { return s.Form }

var (
	serviceCodeRE   = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	attributeCodeRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	valueKeyRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9_]*$`)
)

// maxCodeLen bounds codes and keys: they travel in ESD's FormSaheleri and in
// the portal's error fields.
const maxCodeLen = 64

// Open311's service types.
var serviceTypes = map[string]bool{"realtime": true, "batch": true, "blackbox": true}

// check reports everything wrong with one service definition.
func (s *Service) check() error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(s.Code) > maxCodeLen || !serviceCodeRE.MatchString(s.Code) {
		fail("service_code must be lowercase words joined by hyphens")
	}
	for _, f := range [...]struct{ name, value string }{
		{"service_name", s.Name}, {"service_name_en", s.NameEN},
		{"description", s.Description}, {"description_en", s.DescriptionEN},
		{"group", s.Group}, {"group_en", s.GroupEN},
	} {
		if f.value == "" {
			fail("%s is empty", f.name)
		}
	}
	if !serviceTypes[s.Type] {
		fail("type %q is not realtime, batch or blackbox", s.Type)
	}
	hasAttributes := len(s.Attributes) > 0
	if s.Metadata != hasAttributes {
		fail("metadata is %t but the service has %d attributes", s.Metadata, len(s.Attributes))
	}
	if s.Form != hasAttributes {
		fail("form is %t but the service has %d attributes", s.Form, len(s.Attributes))
	}
	if s.Withdrawn != (s.WithdrawnReason != "") || s.Withdrawn != (s.WithdrawnReasonEN != "") {
		fail("withdrawn, withdrawn_reason and withdrawn_reason_en must be set together")
	}
	seen := make(map[string]bool, len(s.Attributes))
	for i := range s.Attributes {
		a := &s.Attributes[i]
		if err := a.check(); err != nil {
			fail("attribute %q: %w", a.Code, err)
		}
		if seen[a.Code] {
			fail("attribute %q: duplicate code", a.Code)
		}
		seen[a.Code] = true
		if i > 0 && a.Order <= s.Attributes[i-1].Order {
			fail("attribute %q: order %d does not follow %d", a.Code, a.Order, s.Attributes[i-1].Order)
		}
	}
	return errors.Join(errs...)
}

// check reports everything wrong with one attribute definition.
func (a *Attribute) check() error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !a.Variable {
		fail("variable must be true: every attribute is a field of the form")
	}
	if len(a.Code) > maxCodeLen || !attributeCodeRE.MatchString(a.Code) {
		fail("code must be lowercase letters, digits and underscores")
	}
	if a.Description == "" || a.DescriptionEN == "" {
		fail("description and description_en must not be empty")
	}
	if a.Order < 1 {
		fail("order must be positive")
	}
	isList := a.Datatype == DatatypeSingleValueList || a.Datatype == DatatypeMultiValueList
	switch a.Datatype {
	case DatatypeString, DatatypeText, DatatypeNumber, DatatypeDatetime, DatatypeSingleValueList, DatatypeMultiValueList:
	default:
		fail("unknown datatype %q", a.Datatype)
	}
	switch {
	case isList && len(a.Values) == 0:
		fail("%s without values", a.Datatype)
	case !isList && len(a.Values) > 0:
		fail("values on a %s attribute", a.Datatype)
	}
	keys := make(map[string]bool, len(a.Values))
	for _, v := range a.Values {
		if len(v.Key) > maxCodeLen || !valueKeyRE.MatchString(v.Key) {
			fail("value key %q must be lowercase letters, digits and underscores", v.Key)
		}
		if keys[v.Key] {
			fail("duplicate value key %q", v.Key)
		}
		keys[v.Key] = true
		if v.Name == "" || v.NameEN == "" {
			fail("value %q: name and name_en must not be empty", v.Key)
		}
	}
	if a.Datatype != DatatypeNumber && (a.Min != nil || a.Max != nil || a.Integer) {
		fail("min, max and integer apply to numbers only")
	}
	for _, bound := range []*float64{a.Min, a.Max} {
		if bound != nil && (math.IsNaN(*bound) || math.IsInf(*bound, 0)) {
			fail("min and max must be finite")
		}
	}
	if a.Min != nil && a.Max != nil && *a.Min > *a.Max {
		fail("min %v is above max %v", *a.Min, *a.Max)
	}
	switch {
	case a.MaxLength < 0:
		fail("max_length must not be negative")
	case a.MaxLength > 0 && a.Datatype != DatatypeString && a.Datatype != DatatypeText:
		fail("max_length applies to string and text only")
	}
	if len(errs) > 0 {
		return errors.Join(errs...) // the example cannot be judged against a broken definition
	}
	if isEmpty(a.Example) {
		fail("example is missing or empty")
	} else if p, bad := a.checkValue(a.Example); bad {
		fail("example is invalid: %s", p.EN)
	}
	return errors.Join(errs...)
}
