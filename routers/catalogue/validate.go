package catalogue

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Problem is one thing wrong with a request's form: the field it concerns
// ("form" for the form as a whole, "form.<attribute code>" otherwise) and why,
// in Azerbaijani and English, for the portal to show the citizen.
type Problem struct {
	Field, AZ, EN string
}

// maxUnknownReported bounds the per-code problems for unknown attributes, so
// a form stuffed with junk keys cannot blow up the portal's error list.
const maxUnknownReported = 10

// maxNumberLen bounds a number written as a string; no attribute needs more.
const maxNumberLen = 32

var (
	problemFormMissing = Problem{
		Field: "form",
		AZ:    "Bu xidmət üçün forma doldurulmalıdır, lakin forma göndərilməyib.",
		EN:    "This service needs a form, but none was sent.",
	}
	problemFormNotAllowed = Problem{
		Field: "form",
		AZ:    "Bu xidmətin forması yoxdur; müraciətdə forma sahələri olmamalıdır.",
		EN:    "This service has no form; the request must not carry form fields.",
	}
)

// ValidateForm checks a request's form, as decoded from JSON, against the
// service's attributes and returns every problem, in a stable order: one at
// most per attribute, in attribute order, then unknown codes sorted. A clean
// form yields nil without allocating. Strings are accepted for every datatype
// (the portal sends "4" for numbers); JSON numbers for numbers too.
// Withdrawal is not checked here: it concerns the service, not the form.
func (s Service) ValidateForm(form map[string]any) []Problem {
	if !s.HasForm() {
		if len(form) > 0 {
			return []Problem{problemFormNotAllowed}
		}
		return nil
	}
	if form == nil && slices.ContainsFunc(s.Attributes, func(a Attribute) bool { return a.Required }) {
		return []Problem{problemFormMissing}
	}
	var problems []Problem
	known := 0
	for i := range s.Attributes {
		a := &s.Attributes[i]
		v, present := form[a.Code]
		if present {
			known++
		}
		if isEmpty(v) {
			if a.Required {
				problems = append(problems, a.problem(
					"doldurulmalıdır.",
					"is required."))
			}
			continue
		}
		if p, bad := a.checkValue(v); bad {
			problems = append(problems, p)
		}
	}
	if known < len(form) {
		problems = append(problems, s.unknownProblems(form)...)
	}
	return problems
}

// ExampleForm returns a realistic, valid form for the service, every attribute
// filled with its example, as the portal would send it (values are strings or
// []any of keys); nil for a service without a form. Each call returns a new map.
func (s Service) ExampleForm() map[string]any {
	if !s.HasForm() {
		return nil
	}
	form := make(map[string]any, len(s.Attributes))
	for _, a := range s.Attributes {
		if keys, ok := a.Example.([]any); ok {
			form[a.Code] = slices.Clone(keys)
			continue
		}
		form[a.Code] = a.Example
	}
	return form
}

// unknownProblems names the form's codes that are not attributes of s.
func (s Service) unknownProblems(form map[string]any) []Problem {
	var unknown []string
	for code := range form {
		if !slices.ContainsFunc(s.Attributes, func(a Attribute) bool { return a.Code == code }) {
			unknown = append(unknown, code)
		}
	}
	slices.Sort(unknown)
	problems := make([]Problem, 0, min(len(unknown), maxUnknownReported+1))
	for i, code := range unknown {
		if i == maxUnknownReported {
			rest := len(unknown) - maxUnknownReported
			problems = append(problems, Problem{
				Field: "form",
				AZ:    fmt.Sprintf("Formada daha %d naməlum sahə var.", rest),
				EN:    fmt.Sprintf("The form has %d more unknown attributes.", rest),
			})
			break
		}
		shown := clip(code)
		problems = append(problems, Problem{
			Field: "form." + shown,
			AZ:    fmt.Sprintf("Bu xidmətin formasında “%s” adlı sahə yoxdur.", shown),
			EN:    fmt.Sprintf("Unknown attribute “%s”: this service's form has no such field.", shown),
		})
	}
	return problems
}

// isEmpty reports whether a value counts as not filled in: absent, null, blank
// text or an empty list.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []any:
		return len(x) == 0
	}
	return false
}

// checkValue checks a filled-in value against the attribute; it allocates only
// to describe a problem.
func (a *Attribute) checkValue(v any) (Problem, bool) {
	switch a.Datatype {
	case DatatypeString, DatatypeText:
		return a.checkText(v)
	case DatatypeNumber:
		return a.checkNumber(v)
	case DatatypeDatetime:
		if s, ok := v.(string); ok && isDate(s) {
			return Problem{}, false
		}
		return a.problem(
			"tarix olmalıdır: İİİİ-AA-GG (məsələn, 2026-03-15) və ya RFC 3339.",
			"must be a date: YYYY-MM-DD (e.g. 2026-03-15) or RFC 3339."), true
	case DatatypeSingleValueList:
		if s, ok := v.(string); ok && a.hasKey(s) {
			return Problem{}, false
		}
		return a.notAnOption(v), true
	case DatatypeMultiValueList:
		return a.checkKeys(v)
	}
	return a.problem("üçün məlumat növü naməlumdur.", "has an unknown datatype."), true
}

func (a *Attribute) checkText(v any) (Problem, bool) {
	s, ok := v.(string)
	if !ok {
		return a.problem("mətn kimi göndərilməlidir.", "must be sent as text."), true
	}
	limit := a.MaxLength
	if limit == 0 {
		limit = defaultStringMax
		if a.Datatype == DatatypeText {
			limit = defaultTextMax
		}
	}
	if n := utf8.RuneCountInString(s); n > limit {
		return a.problem(
			"ən çoxu "+strconv.Itoa(limit)+" simvol ola bilər ("+strconv.Itoa(n)+" simvol göndərilib).",
			"must be at most "+strconv.Itoa(limit)+" characters ("+strconv.Itoa(n)+" sent)."), true
	}
	multiline := a.Datatype == DatatypeText
	for _, r := range s {
		if r == 0x7f || r < 0x20 && (!multiline || r != '\n' && r != '\r' && r != '\t') {
			if multiline {
				return a.problem(
					"idarəedici simvollar ehtiva edə bilməz.",
					"must not contain control characters."), true
			}
			return a.problem(
				"bir sətirdə yazılmalı və idarəedici simvollar ehtiva etməməlidir.",
				"must be a single line without control characters."), true
		}
	}
	return Problem{}, false
}

func (a *Attribute) checkNumber(v any) (Problem, bool) {
	f, ok := number(v)
	if !ok {
		return a.problem(
			"rəqəmlərlə yazılmış ədəd olmalıdır (məsələn, 4 və ya 45.5; onluq hissə nöqtə ilə).",
			"must be a number written in digits (e.g. 4 or 45.5, with a decimal point)."), true
	}
	if a.Integer && f != math.Trunc(f) {
		return a.problem("tam ədəd olmalıdır.", "must be a whole number."), true
	}
	if a.Min != nil && f < *a.Min {
		bound := formatNumber(*a.Min)
		return a.problem("ən azı "+bound+" olmalıdır.", "must be at least "+bound+"."), true
	}
	if a.Max != nil && f > *a.Max {
		bound := formatNumber(*a.Max)
		return a.problem("ən çoxu "+bound+" ola bilər.", "must be at most "+bound+"."), true
	}
	return Problem{}, false
}

// checkKeys checks a multivaluelist: a JSON array of distinct keys, or one key.
func (a *Attribute) checkKeys(v any) (Problem, bool) {
	switch x := v.(type) {
	case string:
		if a.hasKey(x) {
			return Problem{}, false
		}
		return a.notAnOption(x), true
	case []any:
		for i, e := range x {
			s, ok := e.(string)
			if !ok || !a.hasKey(s) {
				return a.notAnOption(e), true
			}
			if slices.Contains(x[:i], e) {
				shown := clip(s)
				return a.problem(
					"siyahısında “"+shown+"” dəyəri təkrarlanır.",
					"lists “"+shown+"” more than once."), true
			}
		}
		return Problem{}, false
	}
	return a.problem(
		"siyahıdan seçilmiş dəyərlərin massivi olmalıdır; mümkün dəyərlər: "+a.keyList()+".",
		"must be an array of options; allowed: "+a.keyList()+"."), true
}

// notAnOption describes a value that is not one of the attribute's keys.
func (a *Attribute) notAnOption(v any) Problem {
	s, ok := v.(string)
	if !ok {
		return a.problem(
			"siyahıdakı dəyərlərdən biri olmalıdır: "+a.keyList()+".",
			"must be one of: "+a.keyList()+".")
	}
	shown := clip(s)
	return a.problem(
		"üçün “"+shown+"” dəyəri yoxdur; mümkün dəyərlər: "+a.keyList()+".",
		"has no option “"+shown+"”; allowed: "+a.keyList()+".")
}

// problem builds a Problem for the attribute: its quoted name followed by az
// or en. The text is concatenated, never used as a format, because it may
// quote the citizen's own value.
func (a *Attribute) problem(az, en string) Problem {
	return Problem{
		Field: "form." + a.Code,
		AZ:    "“" + a.Description + "” " + az,
		EN:    "“" + a.DescriptionEN + "” " + en,
	}
}

func (a *Attribute) hasKey(key string) bool {
	return slices.ContainsFunc(a.Values, func(v Value) bool { return v.Key == key })
}

func (a *Attribute) keyList() string {
	keys := make([]string, len(a.Values))
	for i, v := range a.Values {
		keys[i] = v.Key
	}
	return strings.Join(keys, ", ")
}

// number reads a finite number from a JSON number (float64, or json.Number
// when the decoder uses UseNumber), a Go integer, or a decimal string.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	case string:
		return parseDecimal(strings.TrimSpace(x))
	}
	return 0, false
}

// parseDecimal accepts only plain decimals, -?digits(.digits)?: ParseFloat
// alone would also take "Inf", "NaN", "1e9" and hexadecimal, which no citizen
// means and no district system expects.
func parseDecimal(s string) (float64, bool) {
	if len(s) == 0 || len(s) > maxNumberLen {
		return 0, false
	}
	digits := strings.TrimPrefix(s, "-")
	whole, frac, hasPoint := strings.Cut(digits, ".")
	if !allDigits(whole) || hasPoint && !allDigits(frac) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isDate accepts a calendar date (YYYY-MM-DD) or an RFC 3339 timestamp.
func isDate(s string) bool {
	layout := time.RFC3339
	if len(s) == len(time.DateOnly) {
		layout = time.DateOnly
	}
	_, err := time.Parse(layout, s)
	return err == nil
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// clip shortens a citizen's value quoted back in a message or field name.
func clip(s string) string {
	const maxRunes = 40
	if utf8.RuneCountInString(s) <= maxRunes {
		return s
	}
	runes := []rune(s)
	return string(runes[:maxRunes]) + "…"
}
