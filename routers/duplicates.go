package routers

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// maxDuplicateReports bounds the field errors one body's repeated keys
// yield: a body of 256 KiB could repeat thousands.
const maxDuplicateReports = 10

// smallObject is how many keys an object holds before they are looked up
// in a map rather than compared in turn: the contract's objects have fewer.
const smallObject = 16

// maxDepth is encoding/json's own bound on nesting, which Decode meets first.
const maxDepth = 10000

// DuplicateKeys returns the JSON paths ("citizen.fin", "attachments[1].name",
// "form.rooms") of keys given more than once in one object of body, at any
// depth, the first maxDuplicateReports of them. encoding/json keeps the
// last value of a repeated key, where another parser may keep the first:
// the hub would check one request and a district or the portal read
// another. Keys compare as decoded, so "\u0066in" repeats "fin".
//
// It reads the bytes itself rather than through json.Decoder's tokens,
// which tripled the intake's allocations: keys are compared where they lie
// in body, and only an escaped one or one not valid UTF-8 is decoded (by encoding/json). body
// should be JSON already checked (Decode has unmarshalled it); of anything
// else it reports what it found before the first surprise.
func DuplicateKeys(body []byte) []string {
	// Room for the contract's request (its top level, one nested object, a
	// form) in two allocations.
	s := dupScanner{body: body, keys: make([][]byte, 0, 2*smallObject), frames: make([]dupFrame, 0, 8)}
	s.value(0)
	return s.found
}

type dupScanner struct {
	body   []byte
	pos    int
	keys   [][]byte // keys of the objects being read, innermost last
	frames []dupFrame
	found  []string
}

// dupFrame is an object or array being read, for naming a path.
type dupFrame struct {
	object bool
	key    []byte // an object's key being read, decoded
	index  int    // an array's element being read
}

func (s *dupScanner) more() bool {
	return s.pos < len(s.body) && len(s.found) < maxDuplicateReports
}

func (s *dupScanner) space() {
	for s.pos < len(s.body) {
		switch s.body[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// value reads one value; false: stop (malformed, too deep, enough found).
func (s *dupScanner) value(depth int) bool {
	s.space()
	if !s.more() || depth > maxDepth {
		return false
	}
	switch s.body[s.pos] {
	case '{':
		return s.object(depth)
	case '[':
		return s.array(depth)
	case '"':
		_, ok := s.str()
		return ok
	}
	start := s.pos
	for s.pos < len(s.body) { // a number, true, false or null
		switch s.body[s.pos] {
		case ',', '}', ']', ':', ' ', '\t', '\n', '\r':
			return s.pos > start // nothing read: not JSON
		}
		s.pos++
	}
	return true
}

// str reads a string, returning its content decoded.
func (s *dupScanner) str() ([]byte, bool) {
	start := s.pos
	s.pos++
	escaped := false
	for s.pos < len(s.body) {
		switch s.body[s.pos] {
		case '\\':
			escaped = true
			s.pos += 2
			continue
		case '"':
			s.pos++
			raw := s.body[start:s.pos]
			// encoding/json reads each invalid UTF-8 byte as U+FFFD, so
			// "\xfc" repeats "\xc4" once decoded.
			if !escaped && utf8.Valid(raw) {
				return raw[1 : len(raw)-1], true
			}
			var decoded string
			if json.Unmarshal(raw, &decoded) != nil {
				return nil, false
			}
			return []byte(decoded), true
		}
		s.pos++
	}
	return nil, false
}

func (s *dupScanner) object(depth int) bool {
	s.pos++
	first := len(s.keys)
	var set map[string]struct{} // once the object outgrows smallObject
	s.frames = append(s.frames, dupFrame{object: true})
	defer func() { s.keys, s.frames = s.keys[:first], s.frames[:len(s.frames)-1] }()
	for {
		s.space()
		if !s.more() {
			return false
		}
		switch s.body[s.pos] {
		case '}':
			s.pos++
			return true
		case ',':
			s.pos++
			continue
		case '"':
		default:
			return false
		}
		key, ok := s.str()
		if !ok {
			return false
		}
		s.frames[len(s.frames)-1].key = key
		if s.seen(key, first, &set) {
			s.report()
		}
		s.space()
		if !s.more() || s.body[s.pos] != ':' {
			return false
		}
		s.pos++
		if !s.value(depth + 1) {
			return false
		}
	}
}

// seen records key in the object whose keys start at first, reporting
// whether it was there already.
func (s *dupScanner) seen(key []byte, first int, set *map[string]struct{}) bool {
	if *set != nil {
		if _, ok := (*set)[string(key)]; ok {
			return true
		}
		(*set)[string(key)] = struct{}{}
		return false
	}
	for _, k := range s.keys[first:] {
		if bytes.Equal(k, key) {
			return true
		}
	}
	s.keys = append(s.keys, key)
	if len(s.keys)-first > smallObject {
		*set = make(map[string]struct{}, 4*smallObject)
		for _, k := range s.keys[first:] {
			(*set)[string(k)] = struct{}{}
		}
	}
	return false
}

func (s *dupScanner) array(depth int) bool {
	s.pos++
	s.frames = append(s.frames, dupFrame{index: -1})
	defer func() { s.frames = s.frames[:len(s.frames)-1] }()
	for {
		s.space()
		if !s.more() {
			return false
		}
		switch s.body[s.pos] {
		case ']':
			s.pos++
			return true
		case ',':
			s.pos++
			continue
		}
		s.frames[len(s.frames)-1].index++
		if !s.value(depth + 1) {
			return false
		}
	}
}

// report adds the path of the key just read, once.
func (s *dupScanner) report() {
	segments := make([]string, len(s.frames))
	for i, f := range s.frames {
		if f.object {
			segments[i] = string(f.key)
		} else {
			segments[i] = "[" + strconv.Itoa(f.index) + "]"
		}
	}
	path := joinPath(segments)
	for _, p := range s.found {
		if p == path {
			return
		}
	}
	s.found = append(s.found, path)
}
