package httpapi_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers/catalogue"
	"github.com/korpu-az/korpu/schemas"
)

// The GeoReport v2 documents as its wiki writes them, declared here apart
// from the handler's types so that a test decodes what the standard says.
type (
	geoDiscovery struct {
		XMLName   xml.Name      `json:"-" xml:"discovery"`
		Changeset string        `json:"changeset" xml:"changeset"`
		Endpoints []geoEndpoint `json:"endpoints" xml:"endpoints>endpoint"`
	}
	geoEndpoint struct {
		Specification string   `json:"specification" xml:"specification"`
		URL           string   `json:"url" xml:"url"`
		Changeset     string   `json:"changeset" xml:"changeset"`
		Type          string   `json:"type" xml:"type"`
		Formats       []string `json:"formats" xml:"formats>format"`
	}
	geoServices struct {
		XMLName  xml.Name     `xml:"services"`
		Services []geoService `xml:"service"`
	}
	geoService struct {
		ServiceCode string `json:"service_code" xml:"service_code"`
		ServiceName string `json:"service_name" xml:"service_name"`
		Description string `json:"description" xml:"description"`
		Metadata    bool   `json:"metadata" xml:"metadata"`
		Type        string `json:"type" xml:"type"`
		Keywords    string `json:"keywords" xml:"keywords"`
		Group       string `json:"group" xml:"group"`
	}
	geoDefinition struct {
		XMLName     xml.Name       `json:"-" xml:"service_definition"`
		ServiceCode string         `json:"service_code" xml:"service_code"`
		Attributes  []geoAttribute `json:"attributes" xml:"attributes>attribute"`
	}
	geoAttribute struct {
		Variable            bool       `json:"variable" xml:"variable"`
		Code                string     `json:"code" xml:"code"`
		Datatype            string     `json:"datatype" xml:"datatype"`
		Required            bool       `json:"required" xml:"required"`
		DatatypeDescription string     `json:"datatype_description" xml:"datatype_description"`
		Order               int        `json:"order" xml:"order"`
		Description         string     `json:"description" xml:"description"`
		Values              []geoValue `json:"values,omitempty" xml:"values>value,omitempty"`
	}
	geoValue struct {
		Key  string `json:"key" xml:"key"`
		Name string `json:"name" xml:"name"`
	}
	geoErrors struct {
		XMLName xml.Name   `xml:"errors"`
		Errors  []geoError `xml:"error"`
	}
	geoError struct {
		Code        int    `json:"code" xml:"code"`
		Description string `json:"description" xml:"description"`
	}
)

// getPublic asks the hub's API, checked against the OpenAPI document.
func getPublic(t *testing.T, path string) *httptest.ResponseRecorder {
	t.Helper()
	return serve(newAPI(t, &fakeReporter{}, nil), http.MethodGet, path, "", "")
}

// decodeJSON decodes an Open311 JSON answer strictly: no field the
// standard lacks, nothing after the document.
func decodeJSON(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(v), rec.Body.String())
	require.False(t, dec.More(), "data after the document")
}

// decodeXML decodes an Open311 XML answer strictly: well-formed, the
// declaration first, the right root, and no element or text the standard's
// shape lacks (encoding/xml skips unknown elements, so the document must be
// exactly what the decoded value marshals back to).
func decodeXML(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	require.Equal(t, "text/xml; charset=utf-8", rec.Header().Get("Content-Type"))
	body := rec.Body.Bytes()
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = true
	require.NoError(t, dec.Decode(v), rec.Body.String())
	again, err := xml.Marshal(v)
	require.NoError(t, err)
	require.Equal(t, xml.Header+string(again), string(body), "the XML holds exactly the standard's elements")
}

// openServices are the catalogue's services a third party may use.
func openServices() []catalogue.Service {
	var out []catalogue.Service
	for _, s := range catalogue.Default().All() {
		if !s.Withdrawn {
			out = append(out, s)
		}
	}
	return out
}

func TestOpen311Discovery(t *testing.T) {
	t.Parallel()
	want := geoDiscovery{Changeset: "2026-12-01T00:00:00Z", Endpoints: []geoEndpoint{{
		Specification: "http://wiki.open311.org/GeoReport_v2", URL: "/open311/v2", Changeset: "2026-12-01T00:00:00Z",
		Type: "production", Formats: []string{"application/json", "text/xml"},
	}}}
	var fromJSON, fromXML geoDiscovery
	rec := getPublic(t, "/open311/v2/discovery.json")
	require.Equal(t, http.StatusOK, rec.Code)
	decodeJSON(t, rec, &fromJSON)
	require.Equal(t, want, fromJSON)

	rec = getPublic(t, "/open311/v2/discovery.xml")
	require.Equal(t, http.StatusOK, rec.Code)
	decodeXML(t, rec, &fromXML)
	fromXML.XMLName = xml.Name{}
	require.Equal(t, want, fromXML)
}

func TestOpen311Services(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		query string
		name_ func(catalogue.Service) (name, description, group string)
	}{
		{"Azerbaijani by default", "", func(s catalogue.Service) (string, string, string) { return s.Name, s.Description, s.Group }},
		{"Azerbaijani", "?lang=az", func(s catalogue.Service) (string, string, string) { return s.Name, s.Description, s.Group }},
		{"English", "?lang=en", func(s catalogue.Service) (string, string, string) { return s.NameEN, s.DescriptionEN, s.GroupEN }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var want []geoService
			for _, s := range openServices() {
				name, description, group := tc.name_(s)
				want = append(want, geoService{
					ServiceCode: s.Code, ServiceName: name, Description: description,
					Metadata: s.Metadata, Type: s.Type, Keywords: s.Keywords, Group: group,
				})
			}
			require.Len(t, want, len(catalogue.Default().All())-1, "marriage-age-reduction is withdrawn, the others listed")

			var fromJSON []geoService
			rec := getPublic(t, "/open311/v2/services.json"+tc.query)
			require.Equal(t, http.StatusOK, rec.Code)
			decodeJSON(t, rec, &fromJSON)
			require.Equal(t, want, fromJSON)

			var fromXML geoServices
			rec = getPublic(t, "/open311/v2/services.xml"+tc.query)
			require.Equal(t, http.StatusOK, rec.Code)
			decodeXML(t, rec, &fromXML)
			require.Equal(t, want, fromXML.Services)
		})
	}
}

func TestOpen311ServiceDefinition(t *testing.T) {
	t.Parallel()
	for _, s := range openServices() {
		for _, lang := range []string{"az", "en"} {
			t.Run(s.Code+"/"+lang, func(t *testing.T) {
				t.Parallel()
				en := lang == "en"
				text := func(az, english string) string {
					if en {
						return english
					}
					return az
				}
				want := geoDefinition{ServiceCode: s.Code, Attributes: []geoAttribute{}}
				for _, a := range s.Attributes {
					ga := geoAttribute{
						Variable: a.Variable, Code: a.Code, Datatype: string(a.Datatype), Required: a.Required,
						DatatypeDescription: text(a.DatatypeDescription, a.DatatypeDescriptionEN), Order: a.Order,
						Description: text(a.Description, a.DescriptionEN),
					}
					for _, v := range a.Values {
						ga.Values = append(ga.Values, geoValue{Key: v.Key, Name: text(v.Name, v.NameEN)})
					}
					want.Attributes = append(want.Attributes, ga)
				}

				var fromJSON geoDefinition
				rec := getPublic(t, "/open311/v2/services/"+s.Code+".json?lang="+lang)
				require.Equal(t, http.StatusOK, rec.Code)
				decodeJSON(t, rec, &fromJSON)
				require.Equal(t, want, fromJSON)

				var fromXML geoDefinition
				rec = getPublic(t, "/open311/v2/services/"+s.Code+".xml?lang="+lang)
				require.Equal(t, http.StatusOK, rec.Code)
				decodeXML(t, rec, &fromXML)
				fromXML.XMLName = xml.Name{}
				if len(want.Attributes) == 0 {
					require.Empty(t, fromXML.Attributes, "no <attributes> for a service without a form")
					fromXML.Attributes = want.Attributes
				}
				require.Equal(t, want, fromXML)
			})
		}
	}
}

// TestOpen311Refusals: what is not offered is 404 and a wrong parameter
// 400, each as GeoReport v2's error list in the format asked for.
func TestOpen311Refusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		path     string
		wantCode int
		wantXML  bool
		want     string // the error's description
	}{
		{name: "unknown service", path: "/open311/v2/services/no-such-service.json", wantCode: http.StatusNotFound, want: "No such service."},
		{name: "unknown service in XML", path: "/open311/v2/services/no-such-service.xml", wantCode: http.StatusNotFound, wantXML: true, want: "No such service."},
		{name: "withdrawn service", path: "/open311/v2/services/marriage-age-reduction.json?lang=en", wantCode: http.StatusNotFound,
			want: "The service has been withdrawn: " + mustLookup(t, "marriage-age-reduction").WithdrawnReasonEN},
		{name: "requests are not offered", path: "/open311/v2/requests.json", wantCode: http.StatusNotFound,
			want: "Service requests are not published: appeals to the authorities are private. Only the service list and definitions are offered."},
		{name: "requests are not offered in XML", path: "/open311/v2/requests.xml", wantCode: http.StatusNotFound, wantXML: true,
			want: "Service requests are not published: appeals to the authorities are private. Only the service list and definitions are offered."},
		{name: "unknown format", path: "/open311/v2/services.csv", wantCode: http.StatusNotFound, want: "Unknown resource; formats are .json and .xml."},
		{name: "no format", path: "/open311/v2/services", wantCode: http.StatusNotFound, want: "Unknown resource; formats are .json and .xml."},
		{name: "unknown format of a definition", path: "/open311/v2/services/appeal.html", wantCode: http.StatusNotFound, want: "Unknown resource; formats are .json and .xml."},
		{name: "unknown resource", path: "/open311/v2/tokens.json", wantCode: http.StatusNotFound, want: "Unknown resource."},
		{name: "unknown language", path: "/open311/v2/services.json?lang=ru", wantCode: http.StatusBadRequest, want: "lang must be az or en."},
		{name: "unknown language in XML", path: "/open311/v2/services/appeal.xml?lang=ru", wantCode: http.StatusBadRequest, wantXML: true, want: "lang must be az or en."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := getPublic(t, tc.path)
			require.Equal(t, tc.wantCode, rec.Code, rec.Body.String())
			want := []geoError{{Code: tc.wantCode, Description: tc.want}}
			if tc.wantXML {
				var got geoErrors
				decodeXML(t, rec, &got)
				require.Equal(t, want, got.Errors)
				return
			}
			var got []geoError
			decodeJSON(t, rec, &got)
			require.Equal(t, want, got)
		})
	}
}

func mustLookup(t *testing.T, code string) catalogue.Service {
	t.Helper()
	s, ok := catalogue.Default().Lookup(code)
	require.True(t, ok, code)
	return s
}

// TestOpenAPIDocumentServed: GET /openapi.yaml is the embedded document,
// byte for byte, without a token.
func TestOpenAPIDocumentServed(t *testing.T) {
	t.Parallel()
	rec := getPublic(t, "/openapi.yaml")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "application/yaml", rec.Header().Get("Content-Type"))
	require.Equal(t, string(schemas.OpenAPI), rec.Body.String())
}
