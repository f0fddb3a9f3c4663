package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// The file* types mirror the YAML as written. Scalars the hub interprets
// (durations, weekdays, services) stay strings or any so that a bad value
// becomes one problem among others instead of stopping the decoder; pointers
// tell an absent key from an empty one.
type file struct {
	AMQP struct {
		URL           string   `yaml:"url"`
		URLs          []string `yaml:"urls"`
		QueueType     string   `yaml:"queue_type"`
		DeliveryLimit any      `yaml:"delivery_limit"`
	} `yaml:"amqp"`
	Postgres struct {
		URL string `yaml:"url"`
	} `yaml:"postgres"`
	HTTP struct {
		Listen string         `yaml:"listen"`
		TLS    *fileServerTLS `yaml:"tls"`
	} `yaml:"http"`
	Portal struct {
		RequestsQueue string           `yaml:"requests_queue"`
		StatusQueue   string           `yaml:"status_queue"`
		SigningKey    *string          `yaml:"signing_key"`
		SigningKeys   []fileSigningKey `yaml:"signing_keys"`
		Token         *string          `yaml:"token"`
		DetailsURL    string           `yaml:"details_url"`
	} `yaml:"portal"`
	Monitor struct {
		Token *string `yaml:"token"`
	} `yaml:"monitor"`
	Access   []fileParty `yaml:"access"`
	Registry struct {
		URL               string         `yaml:"url"`
		Token             string         `yaml:"token"`
		AllowInsecureHTTP bool           `yaml:"allow_insecure_http"`
		TLS               *fileClientTLS `yaml:"tls"`
	} `yaml:"registry"`
	Audit struct {
		CheckpointKey *string `yaml:"checkpoint_key"`
	} `yaml:"audit"`
	HolidaysFile   string         `yaml:"holidays_file"`
	PopulationFile string         `yaml:"population_file"`
	Hub            fileHub        `yaml:"hub"`
	Districts      []fileDistrict `yaml:"districts"`
}

// fileHub is the hub map: its keys are those of Settings, each value as the
// decoder gives it (an integer, a string …) for its Setting to read.
type fileHub map[string]any

type fileSigningKey struct {
	ID  string `yaml:"id"`
	Key string `yaml:"key"`
}

type fileParty struct {
	Name  string `yaml:"name"`
	Role  string `yaml:"role"`
	Token string `yaml:"token"`
}

type fileDistrict struct {
	Code              string         `yaml:"code"`
	Name              string         `yaml:"name"`
	Adapter           string         `yaml:"adapter"`
	Endpoint          string         `yaml:"endpoint"`
	AllowInsecureHTTP bool           `yaml:"allow_insecure_http"`
	Username          *string        `yaml:"username"`
	Password          *string        `yaml:"password"`
	PollInterval      *string        `yaml:"poll_interval"`
	Token             *string        `yaml:"token"`
	CallbackToken     *string        `yaml:"callback_token"`
	CallbackCertName  *string        `yaml:"callback_cert_name"`
	TLS               *fileClientTLS `yaml:"tls"`
	Services          any            `yaml:"services"`
	Timeout           string         `yaml:"timeout"`
	Officials         []fileOfficial `yaml:"officials"`
}

type fileOfficial struct {
	ID        string          `yaml:"id"`
	Name      string          `yaml:"name"`
	Position  string          `yaml:"position"`
	Reception []fileReception `yaml:"reception"`
}

type fileReception struct {
	Weekday  string `yaml:"weekday"`
	From     string `yaml:"from"`
	To       string `yaml:"to"`
	Capacity *int   `yaml:"capacity"`
}

// ValidationError lists every problem found in a config file.
type ValidationError struct {
	Problems []Problem
}

// Error lists the problems, one per line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	if len(e.Problems) == 1 {
		b.WriteString("1 problem:")
	} else {
		fmt.Fprintf(&b, "%d problems:", len(e.Problems))
	}
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Problem is one mistake in a config file. Its message never holds the value
// of a secret.
type Problem struct {
	Key     string // path of the key, e.g. districts[AZ-SAT].officials[0].name; empty for the whole file
	Line    int    // 1-based line of the key or of its nearest enclosing key; 0 if unknown
	Message string
}

// String renders the problem as "key (line N): message".
func (p Problem) String() string {
	key := p.Key
	if key == "" {
		key = "(file)"
	}
	if p.Line > 0 {
		return fmt.Sprintf("%s (line %d): %s", key, p.Line, p.Message)
	}
	return key + ": " + p.Message
}

// problems collects the problems of one file.
type problems struct {
	list  []Problem
	lines map[string]int // key path → line, filled while walking the YAML
	// envFailed are keys whose ${NAME} could not be expanded; further
	// complaints about their value would only repeat that one.
	envFailed map[string]bool
	// secrets are every token, key and password read, for checkSecrets.
	secrets []secret
}

func (ps *problems) add(key, format string, args ...any) {
	if ps.envFailed[key] {
		return
	}
	ps.list = append(ps.list, Problem{Key: key, Line: ps.line(key), Message: fmt.Sprintf(format, args...)})
}

// line is the line of key, or of its nearest enclosing key when key itself
// is absent from the file.
func (ps *problems) line(key string) int {
	for key != "" {
		if l, ok := ps.lines[key]; ok {
			return l
		}
		cut := max(strings.LastIndexByte(key, '.'), strings.LastIndexByte(key, '['))
		if cut < 0 {
			return 0
		}
		key = key[:cut]
	}
	return 0
}

// decode parses the YAML, expands ${NAME} in its values, reports unknown keys
// and decodes it into a file. A YAML syntax error is returned as err; every
// other problem is collected.
func decode(data []byte, getenv func(string) (string, bool)) (*file, *problems, error) {
	ps := &problems{lines: map[string]int{}, envFailed: map[string]bool{}}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("yaml: %s", yaml.FormatError(err, false, false))
	}
	var raw file
	if len(f.Docs) > 1 {
		return nil, nil, errors.New("yaml: more than one document")
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return &raw, ps, nil
	}
	body := f.Docs[0].Body
	w := walker{ps: ps, getenv: getenv}
	w.walk(body, reflect.TypeFor[file](), "")
	// Unknown keys are reported by the walker with their full path (all of
	// them, in file order), so the decoder itself need not be strict:
	// yaml.Strict() would stop at the first one and hide every other problem.
	if err := nodeToValue(body, &raw); err != nil {
		return nil, nil, err
	}
	return &raw, ps, nil
}

// nodeToValue decodes the tree into raw. goccy/go-yaml v1.19.2 panics on
// some malformed trees (a bare "!" tag, found by FuzzParse): an operator's
// typo must be an error, not a crash.
func nodeToValue(body ast.Node, raw *file) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the file cannot be decoded (%v)", r)
		}
	}()
	if err := yaml.NodeToValue(body, raw); err != nil {
		// Without the source lines: they may hold a secret written literally.
		return fmt.Errorf("yaml: %s", yaml.FormatError(err, false, false))
	}
	return nil
}

// walker visits the YAML tree along the Go type it decodes into.
type walker struct {
	ps     *problems
	getenv func(string) (string, bool)
}

// walk visits node, which decodes into a value of type typ (nil: anything)
// at key path.
func (w walker) walk(node ast.Node, typ reflect.Type, path string) {
	for typ != nil && typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch n := node.(type) {
	case *ast.AnchorNode:
		w.walk(n.Value, typ, path)
	case *ast.TagNode:
		w.walk(n.Value, typ, path)
	case *ast.LiteralNode:
		w.walk(n.Value, typ, path)
	case *ast.StringNode:
		n.Value = w.expand(n.Value, path, n.GetToken().Position.Line)
	case *ast.SequenceNode:
		var elem reflect.Type
		if typ != nil && typ.Kind() == reflect.Slice {
			elem = typ.Elem()
		}
		for i, v := range n.Values {
			item := fmt.Sprintf("%s[%s]", path, itemName(v, i))
			w.ps.lines[item] = v.GetToken().Position.Line
			w.walk(v, elem, item)
		}
	case *ast.MappingNode:
		for _, mv := range n.Values {
			w.walkEntry(mv, typ, path)
		}
	case *ast.MappingValueNode:
		w.walkEntry(n, typ, path)
	}
}

func (w walker) walkEntry(mv *ast.MappingValueNode, typ reflect.Type, path string) {
	if _, merge := mv.Key.(*ast.MergeKeyNode); merge {
		w.walk(mv.Value, typ, path)
		return
	}
	key := mv.Key.GetToken().Value
	child := key
	if path != "" {
		child = path + "." + key
	}
	if _, seen := w.ps.lines[child]; !seen {
		w.ps.lines[child] = mv.Key.GetToken().Position.Line
	}
	var fieldType reflect.Type
	if typ == reflect.TypeFor[fileHub]() {
		if _, ok := settingOf(key); !ok {
			w.ps.add(child, "unknown key %q", key)
			return
		}
	} else if typ != nil && typ.Kind() == reflect.Struct {
		field, ok := fieldByTag(typ, key)
		if !ok {
			w.ps.add(child, "unknown key %q", key)
			return
		}
		fieldType = field.Type
	}
	w.walk(mv.Value, fieldType, child)
}

func fieldByTag(typ reflect.Type, key string) (reflect.StructField, bool) {
	for i := range typ.NumField() {
		f := typ.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// itemName names a sequence item in key paths: a district by its code, so
// that problems read districts[AZ-SAT].token, anything else by its index.
// codeName in convert must name districts the same way.
func itemName(node ast.Node, index int) string {
	if m, ok := node.(*ast.MappingNode); ok {
		for _, mv := range m.Values {
			if mv.Key.GetToken().Value != "code" {
				continue
			}
			if s, ok := mv.Value.(*ast.StringNode); ok && s.Value != "" && !strings.Contains(s.Value, "$") {
				return s.Value
			}
		}
	}
	return strconv.Itoa(index)
}

// expand replaces ${NAME} by the environment variable NAME and $$ by $.
// Any other $ is kept as written.
func (w walker) expand(s, path string, line int) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i == len(s)-1 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			s = s[i+2:]
		case '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				w.envProblem(path, line, "unterminated ${ in value")
				return b.String() + s[i:]
			}
			name := s[i+2 : i+end]
			if !validEnvName(name) {
				w.envProblem(path, line, fmt.Sprintf("malformed variable ${%s}", name))
			} else if v, ok := w.getenv(name); ok {
				b.WriteString(v)
			} else {
				w.envProblem(path, line, fmt.Sprintf("environment variable %s is not set", name))
			}
			s = s[i+end+1:]
		default:
			b.WriteByte('$')
			s = s[i+1:]
		}
	}
}

func (w walker) envProblem(path string, line int, msg string) {
	w.ps.list = append(w.ps.list, Problem{Key: path, Line: line, Message: msg})
	w.ps.envFailed[path] = true
}

// validEnvName reports whether name is a POSIX shell variable name.
func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		letter := r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}
