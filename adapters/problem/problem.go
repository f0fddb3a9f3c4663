// Package problem writes the hub's HTTP error answers as RFC 9457 problem
// details (application/problem+json), one shape for the API, the
// districts' callbacks and the limiter's 429. A problem says what is wrong
// in the contract's words: never a Go identifier, a decoder's message or
// an error from inside the hub.
package problem

import (
	"encoding/json"
	"net/http"

	"github.com/korpu-az/korpu/routers"
)

// ContentType is the media type of a problem.
const ContentType = "application/problem+json"

// Details is one problem.
type Details struct {
	// Type is urn:korpu:problem: and the slug of Status (see TypeOf).
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	// Detail says what happened, in English.
	Detail string `json:"detail"`
	// Messages is Detail in Azerbaijani and English, where a person reads it
	// (the portal's read API); nil elsewhere.
	Messages map[string]string `json:"messages,omitempty"`
	// Field names the one field of the request at fault, where there is one.
	Field string `json:"field,omitempty"`
	// Errors names each bad parameter of a portal request.
	Errors []routers.FieldError `json:"errors,omitempty"`
}

// slugs are the problem types, by status.
var slugs = map[int]string{
	http.StatusBadRequest:            "bad-request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not-found",
	http.StatusConflict:              "conflict",
	http.StatusUnprocessableEntity:   "unprocessable",
	http.StatusTooManyRequests:       "too-many-requests",
	http.StatusInternalServerError:   "internal",
	http.StatusServiceUnavailable:    "unavailable",
	http.StatusRequestEntityTooLarge: "too-large",
}

// TypeOf is the problem type of an HTTP status.
func TypeOf(status int) string {
	slug, ok := slugs[status]
	if !ok {
		slug = "error"
	}
	return "urn:korpu:problem:" + slug
}

// New is the problem of status with detail, titled by its status.
func New(status int, detail string) Details {
	return Details{Type: TypeOf(status), Title: http.StatusText(status), Status: status, Detail: detail}
}

// Bilingual is the problem of status told in Azerbaijani and English.
func Bilingual(status int, az, en string) Details {
	d := New(status, en)
	d.Messages = map[string]string{"az": az, "en": en}
	return d
}

// Write answers with d, under the headers already set.
func Write(w http.ResponseWriter, d Details) {
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(d.Status)
	_ = json.NewEncoder(w).Encode(d) // a failed write means the client left: nothing to do
}
