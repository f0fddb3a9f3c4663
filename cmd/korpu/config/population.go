package config

import (
	"io"
	"os"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// The operator's population_file: the residents of each district, for the
// monitors' appeals per 1,000 residents. A YAML mapping of district codes
// to whole numbers; JSON, being YAML, is read as well:
//
//	AZ-BIL: 104300   # or {"AZ-BIL": 104300, "AZ-SAT": 100900}
//	AZ-SAT: 100900
//
// A district left out is shown without a rate.
const (
	// MaxPopulationFile bounds the file: every district of the country
	// takes under 2 KiB.
	MaxPopulationFile = 64 << 10
	// MaxResidents bounds one district's residents: Baku, the largest
	// authority, has about 2.3 million.
	MaxResidents = 20_000_000
)

// population reads and checks the file at path, adding every problem to
// ps under population_file, each naming the file's line; known are the
// ISO 3166-2:AZ codes.
func (ps *problems) population(path string, known map[string]string) map[string]int {
	const key = "population_file"
	f, err := os.Open(path) //nolint:gosec // G304: the operator's own file, named in the operator's config
	if err != nil {
		ps.add(key, "%v", err)
		return nil
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		ps.add(key, "%s is not a regular file", path)
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxPopulationFile+1))
	if err != nil {
		ps.add(key, "%v", err)
		return nil
	}
	if len(data) > MaxPopulationFile {
		ps.add(key, "%s is larger than %d KiB", path, MaxPopulationFile>>10)
		return nil
	}
	doc, err := parser.ParseBytes(data, 0)
	if err != nil {
		ps.add(key, "%s: %s", path, yaml.FormatError(err, false, false))
		return nil
	}
	out := map[string]int{}
	if len(doc.Docs) == 0 || doc.Docs[0].Body == nil {
		return out
	}
	if len(doc.Docs) > 1 {
		ps.add(key, "%s: more than one document", path)
		return nil
	}
	var entries []*ast.MappingValueNode
	switch n := doc.Docs[0].Body.(type) {
	case *ast.MappingNode:
		entries = n.Values
	case *ast.MappingValueNode:
		entries = []*ast.MappingValueNode{n}
	default:
		ps.add(key, "%s: must map district codes to residents", path)
		return nil
	}
	for _, e := range entries { // the parser refuses a key twice

		line := e.Key.GetToken().Position.Line
		code, ok := e.Key.(*ast.StringNode)
		switch {
		case !ok:
			ps.add(key, "%s line %d: a key must be a district code", path, line)
			continue
		case known[code.Value] == "":
			ps.add(key, "%s line %d: %q is not an ISO 3166-2:AZ district code", path, line, code.Value)
			continue
		}
		n, ok := e.Value.(*ast.IntegerNode)
		var v int64
		if ok {
			switch i := n.Value.(type) {
			case int64:
				v = i
			case uint64:
				v = int64(min(i, MaxResidents+1))
			default:
				ok = false // beyond 64 bits
			}
		}
		switch {
		case !ok:
			ps.add(key, "%s line %d: %s: residents must be a whole number", path, line, code.Value)
		case v > MaxResidents:
			ps.add(key, "%s line %d: %s: more than %d residents", path, line, code.Value, MaxResidents)
		case v <= 0:
			ps.add(key, "%s line %d: %s: residents must be positive", path, line, code.Value)
		default:
			out[code.Value] = int(v)
		}
	}
	return out
}
