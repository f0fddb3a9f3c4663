package httpapi

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strings"

	"github.com/korpu-az/korpu/routers/catalogue"
)

// Open311 GeoReport v2 (wiki.open311.org/GeoReport_v2) for third parties:
// the service catalogue, public and read-only, in JSON and XML. Service
// requests are deliberately not offered: an appeal is a citizen's private
// correspondence with an authority.

// open311Changeset is when the discovery document last changed; change it
// with the endpoints or formats it lists.
const open311Changeset = "2026-12-01T00:00:00Z"

const (
	formatJSON = "json"
	formatXML  = "xml"
)

func registerOpen311(mux *http.ServeMux, cat *catalogue.Catalogue) {
	o := &open311{cat: cat}
	// A ServeMux wildcard is a whole segment, so "services.json" and
	// "{code}.json" are matched as one and split at the last dot.
	mux.HandleFunc("GET /open311/v2/{file}", o.top)
	mux.HandleFunc("GET /open311/v2/services/{file}", o.definition)
}

type open311 struct {
	cat *catalogue.Catalogue
}

// splitFormat splits "services.json" into "services" and "json"; ok is false
// for a format GeoReport v2 does not define.
func splitFormat(file string) (name, format string, ok bool) {
	i := strings.LastIndexByte(file, '.')
	if i < 0 {
		return file, "", false
	}
	name, format = file[:i], file[i+1:]
	return name, format, format == formatJSON || format == formatXML
}

// english reads ?lang: az (the default) or en.
func english(r *http.Request) (en, ok bool) {
	switch r.URL.Query().Get("lang") {
	case "", "az":
		return false, true
	case "en":
		return true, true
	default:
		return false, false
	}
}

func (o *open311) top(w http.ResponseWriter, r *http.Request) {
	name, format, ok := splitFormat(r.PathValue("file"))
	if !ok {
		writeOpen311Error(w, formatJSON, http.StatusNotFound, "Unknown resource; formats are .json and .xml.")
		return
	}
	switch name {
	case "discovery":
		writeOpen311(w, format, discovery(), discovery())
	case "services":
		en, ok := english(r)
		if !ok {
			writeOpen311Error(w, format, http.StatusBadRequest, "lang must be az or en.")
			return
		}
		list := o.services(en)
		writeOpen311(w, format, list, open311ServiceList{Services: list})
	case "requests":
		writeOpen311Error(w, format, http.StatusNotFound,
			"Service requests are not published: appeals to the authorities are private. Only the service list and definitions are offered.")
	default:
		writeOpen311Error(w, format, http.StatusNotFound, "Unknown resource.")
	}
}

func (o *open311) definition(w http.ResponseWriter, r *http.Request) {
	code, format, ok := splitFormat(r.PathValue("file"))
	if !ok {
		writeOpen311Error(w, formatJSON, http.StatusNotFound, "Unknown resource; formats are .json and .xml.")
		return
	}
	en, ok := english(r)
	if !ok {
		writeOpen311Error(w, format, http.StatusBadRequest, "lang must be az or en.")
		return
	}
	s, found := o.cat.Lookup(code)
	switch {
	case !found:
		writeOpen311Error(w, format, http.StatusNotFound, "No such service.")
	case s.Withdrawn:
		writeOpen311Error(w, format, http.StatusNotFound, "The service has been withdrawn: "+pick(en, s.WithdrawnReason, s.WithdrawnReasonEN))
	default:
		d := open311Definition{Code: s.Code, Attributes: make([]open311Attribute, len(s.Attributes))}
		for i, a := range s.Attributes {
			d.Attributes[i] = open311Attribute{
				Variable: a.Variable, Code: a.Code, Datatype: string(a.Datatype), Required: a.Required,
				DatatypeDescription: pick(en, a.DatatypeDescription, a.DatatypeDescriptionEN),
				Order:               a.Order, Description: pick(en, a.Description, a.DescriptionEN),
			}
			for _, v := range a.Values {
				d.Attributes[i].Values = append(d.Attributes[i].Values, open311Value{Key: v.Key, Name: pick(en, v.Name, v.NameEN)})
			}
		}
		writeOpen311(w, format, d, d)
	}
}

// services lists what may be asked for: withdrawn services are left out.
func (o *open311) services(en bool) []open311Service {
	list := []open311Service{}
	for _, s := range o.cat.All() {
		if s.Withdrawn {
			continue
		}
		list = append(list, open311Service{
			Code: s.Code, Name: pick(en, s.Name, s.NameEN), Description: pick(en, s.Description, s.DescriptionEN),
			Metadata: s.Metadata, Type: s.Type, Keywords: s.Keywords, Group: pick(en, s.Group, s.GroupEN),
		})
	}
	return list
}

func pick(en bool, az, english string) string {
	if en {
		return english
	}
	return az
}

func discovery() open311Discovery {
	return open311Discovery{
		Changeset: open311Changeset,
		Endpoints: []open311Endpoint{{
			Specification: "http://wiki.open311.org/GeoReport_v2",
			// Relative: the hub does not know the address it is reached by,
			// and a Host header is the client's to choose.
			URL:       "/open311/v2",
			Changeset: open311Changeset,
			Type:      "production",
			Formats:   []string{"application/json", "text/xml"},
		}},
	}
}

// The documents of GeoReport v2. JSON and XML carry the same fields; where
// they differ in shape (the service list is a bare array in JSON), the XML
// has its own wrapper type.
type (
	open311Discovery struct {
		XMLName   xml.Name          `json:"-" xml:"discovery"`
		Changeset string            `json:"changeset" xml:"changeset"`
		Endpoints []open311Endpoint `json:"endpoints" xml:"endpoints>endpoint"`
	}
	open311Endpoint struct {
		Specification string   `json:"specification" xml:"specification"`
		URL           string   `json:"url" xml:"url"`
		Changeset     string   `json:"changeset" xml:"changeset"`
		Type          string   `json:"type" xml:"type"`
		Formats       []string `json:"formats" xml:"formats>format"`
	}
	open311ServiceList struct {
		XMLName  xml.Name         `xml:"services"`
		Services []open311Service `xml:"service"`
	}
	open311Service struct {
		Code        string `json:"service_code" xml:"service_code"`
		Name        string `json:"service_name" xml:"service_name"`
		Description string `json:"description" xml:"description"`
		Metadata    bool   `json:"metadata" xml:"metadata"`
		Type        string `json:"type" xml:"type"`
		Keywords    string `json:"keywords" xml:"keywords"`
		Group       string `json:"group" xml:"group"`
	}
	open311Definition struct {
		XMLName    xml.Name           `json:"-" xml:"service_definition"`
		Code       string             `json:"service_code" xml:"service_code"`
		Attributes []open311Attribute `json:"attributes" xml:"attributes>attribute"`
	}
	open311Attribute struct {
		Variable            bool           `json:"variable" xml:"variable"`
		Code                string         `json:"code" xml:"code"`
		Datatype            string         `json:"datatype" xml:"datatype"`
		Required            bool           `json:"required" xml:"required"`
		DatatypeDescription string         `json:"datatype_description" xml:"datatype_description"`
		Order               int            `json:"order" xml:"order"`
		Description         string         `json:"description" xml:"description"`
		Values              []open311Value `json:"values,omitempty" xml:"values>value,omitempty"`
	}
	open311Value struct {
		Key  string `json:"key" xml:"key"`
		Name string `json:"name" xml:"name"`
	}
	open311ErrorList struct {
		XMLName xml.Name       `xml:"errors"`
		Errors  []open311Error `xml:"error"`
	}
	open311Error struct {
		Code        int    `json:"code" xml:"code"`
		Description string `json:"description" xml:"description"`
	}
)

// writeOpen311 answers 200 with asJSON or asXML, as format says.
func writeOpen311(w http.ResponseWriter, format string, asJSON, asXML any) {
	writeOpen311Status(w, format, http.StatusOK, asJSON, asXML)
}

// writeOpen311Error answers GeoReport v2's error list in format.
func writeOpen311Error(w http.ResponseWriter, format string, code int, description string) {
	list := []open311Error{{Code: code, Description: description}}
	writeOpen311Status(w, format, code, list, open311ErrorList{Errors: list})
}

func writeOpen311Status(w http.ResponseWriter, format string, code int, asJSON, asXML any) {
	if format == formatXML {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, xml.Header)
		_ = xml.NewEncoder(w).Encode(asXML) // a failed write means the client left: nothing to do
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(asJSON) // as above
}
