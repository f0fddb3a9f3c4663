package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/korpu-az/korpu/routers"
)

// reportFields are the keys of a status report (contract §4 and 1.1).
var reportFields = fieldsOf(statusBody{})

// quotable is a key the hub may name back to its sender: a name, not
// whatever bytes were sent.
var quotable = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// fieldsOf lists the JSON names of a struct's fields.
func fieldsOf(v any) map[string]bool {
	t := reflect.TypeOf(v)
	names := make(map[string]bool, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names[name] = true
	}
	return names
}

// readReport decodes a district's status report, answering the request
// itself when it cannot. What is wrong is said in the contract's terms (the
// field, what it must be), never in the decoder's, which names Go types.
// Keys are matched exactly, once each: encoding/json alone would take
// "Status" for "status", and the last of two.
func readReport(w http.ResponseWriter, r *http.Request) (statusBody, bool) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBytes))
	if err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			writeError(w, http.StatusBadRequest, "malformed JSON body: over "+strconv.Itoa(maxCallbackBytes>>10)+" KiB")
		} else {
			writeError(w, http.StatusBadRequest, "the body could not be read")
		}
		return statusBody{}, false
	}
	var keys map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&keys); err != nil {
		detail := "malformed JSON body"
		if _, notObject := errors.AsType[*json.UnmarshalTypeError](err); notObject || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			detail = "malformed JSON body: not a JSON object"
		}
		writeError(w, http.StatusBadRequest, detail)
		return statusBody{}, false
	}
	if keys == nil {
		writeError(w, http.StatusBadRequest, "malformed JSON body: not a JSON object")
		return statusBody{}, false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "malformed JSON body: more than one value")
		return statusBody{}, false
	}
	if dups := routers.DuplicateKeys(raw); len(dups) > 0 {
		writeFieldError(w, http.StatusBadRequest, dups[0], dups[0]+" is given more than once")
		return statusBody{}, false
	}
	if key, ok := unknownKey(keys); ok {
		if quotable.MatchString(key) {
			writeFieldError(w, http.StatusBadRequest, key, "the contract has no field "+key)
		} else {
			writeError(w, http.StatusBadRequest, "the body has a field the contract does not define")
		}
		return statusBody{}, false
	}
	var body statusBody
	if err := json.Unmarshal(raw, &body); err != nil {
		if e, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && reportFields[e.Field] {
			writeFieldError(w, http.StatusBadRequest, e.Field, e.Field+" must be "+routers.JSONKind(e.Type))
		} else {
			writeError(w, http.StatusBadRequest, "malformed JSON body")
		}
		return statusBody{}, false
	}
	return body, true
}

// unknownKey returns the first key, in order, that a report does not have.
func unknownKey(keys map[string]json.RawMessage) (string, bool) {
	var unknown []string
	for k := range keys {
		if !reportFields[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return "", false
	}
	sort.Strings(unknown)
	return unknown[0], true
}
