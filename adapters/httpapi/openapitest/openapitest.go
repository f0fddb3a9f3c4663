// Package openapitest checks tests' HTTP exchanges against the hub's OpenAPI
// document (schemas/openapi.yaml): every request a test sends through Wrap,
// Transport or Client, and every answer it gets, so
// the document and the code cannot drift apart. A mismatch fails the test
// with the validator's messages:
//
//   - an answer whose status, content type, headers or body the document
//     does not describe for that operation;
//   - a route the document does not list, answered other than 404 (or
//     ServeMux's own 405);
//   - a request the document calls invalid that the handler accepted
//     (answered other than 4xx): the document is stricter than the code.
//
// A test may still send invalid requests on purpose: refused with a 4xx,
// they are what the document promises.
package openapitest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/korpu-az/korpu/schemas"
)

// shared is built once per test binary: parsing the document and compiling
// its schemas takes far longer than checking one exchange.
var shared = sync.OnceValues(func() (validator.Validator, error) {
	return newValidator(schemas.OpenAPI)
})

func newValidator(spec []byte) (validator.Validator, error) {
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		return nil, fmt.Errorf("parse the OpenAPI document: %w", err)
	}
	// Formats (date, date-time, uri) are assertions here, not annotations:
	// the document promises them.
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
	if len(errs) > 0 {
		return nil, fmt.Errorf("build the OpenAPI validator: %w", joinErrors(errs))
	}
	return v, nil
}

func joinErrors(errs []error) error {
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}

// Validator returns the validator of schemas/openapi.yaml, failing t if the
// document cannot be built.
func Validator(t testing.TB) validator.Validator {
	t.Helper()
	v, err := shared()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Wrap returns h with every request it serves, and its answer, checked
// against the document; mismatches are t.Errorf.
func Wrap(t testing.TB, h http.Handler) http.Handler {
	t.Helper()
	v := Validator(t)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readAll(r.Body)
		if err != nil {
			t.Errorf("openapitest: read the request body of %s %s: %v", r.Method, r.URL.Path, err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.status == 0 { // the handler wrote nothing: net/http answers 200
			rec.WriteHeader(http.StatusOK)
		}
		report(t, check(v, r, body, rec.status, rec.header, rec.body.Bytes()))
	})
}

// Transport returns a RoundTripper that sends through base (a new
// http.Transport when nil) and checks every exchange against the document;
// mismatches are t.Errorf. The answer's body is read whole and given back
// unread.
func Transport(t testing.TB, base http.RoundTripper) http.RoundTripper {
	t.Helper()
	if base == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		t.Cleanup(tr.CloseIdleConnections)
		base = tr
	}
	return &transport{t: t, v: Validator(t), base: base}
}

// Client returns an http.Client whose exchanges are checked against the
// document, never following redirects: the document describes each answer
// as sent.
func Client(t testing.TB) *http.Client {
	t.Helper()
	return &http.Client{
		Transport:     Transport(t, nil),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type transport struct {
	t    testing.TB
	v    validator.Validator
	base http.RoundTripper
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		body, err = readAll(req.Body)
		if err != nil {
			return nil, fmt.Errorf("openapitest: read the request body: %w", err)
		}
		// A RoundTripper must not change the caller's request.
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := tr.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := readAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("openapitest: read the answer to %s %s: %w", req.Method, req.URL.Path, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	report(tr.t, check(tr.v, req, body, resp.StatusCode, resp.Header, respBody))
	return resp, nil
}

// readAll reads and closes body (nil: none).
func readAll(body io.ReadCloser) ([]byte, error) {
	if body == nil {
		return nil, nil
	}
	defer body.Close()
	return io.ReadAll(body)
}

func report(t testing.TB, problems []string) {
	for _, p := range problems {
		t.Errorf("openapitest: %s", p)
	}
}

// check returns what is wrong with one exchange by the document.
func check(v validator.Validator, req *http.Request, reqBody []byte, status int, header http.Header, respBody []byte) []string {
	what := fmt.Sprintf("%s %s → %d", req.Method, req.URL.RequestURI(), status)
	if unserved(status, header, respBody) {
		// ServeMux's own answer: the handler does not serve this route (a
		// documented one may be left out, as dead letters are without a
		// desk), so there is no exchange to judge.
		return nil
	}
	// The validator reads the bodies; each check gets fresh copies.
	reqCopy := req.Clone(req.Context())
	reqCopy.Body = io.NopCloser(bytes.NewReader(reqBody))
	reqOK, reqErrs := v.ValidateHttpRequestSync(reqCopy)
	for _, e := range reqErrs {
		if e.IsPathMissingError() || e.IsOperationMissingError() {
			if status == http.StatusNotFound {
				return nil // not found, and not documented: as it should be
			}
			return []string{what + ": the route is not in the document"}
		}
	}
	var problems []string
	if !reqOK && status/100 != 4 {
		problems = append(problems, fmt.Sprintf("%s: the document refuses the request, the handler did not:\n%s", what, describe(reqErrs)))
	}
	reqCopy = req.Clone(req.Context())
	reqCopy.Body = io.NopCloser(bytes.NewReader(reqBody))
	resp := &http.Response{
		StatusCode: status, Header: header, Request: reqCopy,
		Body: io.NopCloser(bytes.NewReader(respBody)), ContentLength: int64(len(respBody)),
	}
	if ok, errs := v.ValidateHttpResponse(reqCopy, resp); !ok {
		problems = append(problems, fmt.Sprintf("%s: the answer is not as documented:\n%s\nbody: %s", what, describe(errs), excerpt(respBody)))
	}
	return problems
}

func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "  - %s", e.Message)
		if e.Reason != "" && e.Reason != e.Message {
			fmt.Fprintf(&b, ": %s", e.Reason)
		}
		b.WriteByte('\n')
		for _, s := range schemaFailures(e.SchemaValidationErrors) {
			fmt.Fprintf(&b, "      %s", s.Reason)
			if s.FieldPath != "" {
				fmt.Fprintf(&b, " at %s", s.FieldPath)
			}
			b.WriteByte('\n')
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// unserved reports whether an answer is ServeMux's to a request no
// pattern matched (http.NotFound, or the 405 of a path served for other
// methods).
func unserved(status int, header http.Header, body []byte) bool {
	if !strings.HasPrefix(header.Get("Content-Type"), "text/plain") {
		return false
	}
	switch status {
	case http.StatusNotFound:
		return string(body) == "404 page not found\n"
	case http.StatusMethodNotAllowed:
		return string(body) == http.StatusText(http.StatusMethodNotAllowed)+"\n"
	}
	return false
}

// schemaFailures drops the "false schema" echoes of unevaluatedProperties
// (every property of an object that failed elsewhere) when a real reason
// is there to read.
func schemaFailures(all []*verrors.SchemaValidationFailure) []*verrors.SchemaValidationFailure {
	var real []*verrors.SchemaValidationFailure
	for _, s := range all {
		if s.Reason != "false schema" {
			real = append(real, s)
		}
	}
	if len(real) == 0 {
		return all
	}
	return real
}

// excerpt is the start of a body, enough to see what was sent.
func excerpt(body []byte) string {
	const most = 2 << 10
	if len(body) > most {
		return string(body[:most]) + "…"
	}
	return string(body)
}

// recorder passes an answer through and keeps a copy of it.
type recorder struct {
	http.ResponseWriter
	status int
	header http.Header // as at WriteHeader
	body   bytes.Buffer
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
		w.header = w.ResponseWriter.Header().Clone()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
