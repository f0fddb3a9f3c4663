package catalogue_test

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers/catalogue"
)

// contractServices is the table of contract §1, in its order.
var contractServices = []string{
	"reception-booking",
	"appeal",
	"family-composition-certificate",
	"marriage-age-reduction",
	"minor-property-consent",
	"minor-placement-dysfunctional-family",
	"parentless-child-placement",
	"orphanage-boarding-school-placement",
	"child-name-change",
	"minor-guardianship",
	"minor-rights-violation",
	"incapable-person-guardianship",
	"patronage",
	"incapable-property-consent",
	"lease-contract-change",
	"housing-registration",
	"social-rent-allocation",
	"dwelling-replanning",
	"dwelling-conversion",
	"architectural-approval",
	"facility-acceptance-act",
}

func TestDefaultCoversContract(t *testing.T) {
	t.Parallel()
	c := catalogue.Default()

	var inOrder []string
	for _, s := range c.All() {
		inOrder = append(inOrder, s.Code)
	}
	require.Equal(t, contractServices, inOrder, "All must list exactly the contract's services in its order")

	sorted := slices.Sorted(slices.Values(contractServices))
	require.Equal(t, sorted, c.Codes())

	for _, code := range contractServices {
		s, ok := c.Lookup(code)
		require.True(t, ok, code)
		require.Equal(t, code, s.Code)
		noForm := code == "reception-booking" || code == "appeal"
		require.Equal(t, !noForm, s.HasForm(), "%s: only reception-booking and appeal have no form", code)
		require.Equal(t, !noForm, s.Metadata, code)
		if code == "marriage-age-reduction" {
			require.True(t, s.Withdrawn)
			require.Contains(t, s.WithdrawnReason, "18")
			require.Contains(t, s.WithdrawnReasonEN, "18")
			require.NotEmpty(t, s.Attributes, "a withdrawn service keeps its definition")
			continue
		}
		require.False(t, s.Withdrawn, code)
	}
	_, ok := c.Lookup("marriage-registration")
	require.False(t, ok)
}

func TestDefaultDefinitionsAreComplete(t *testing.T) {
	t.Parallel()
	for _, s := range catalogue.Default().All() {
		t.Run(s.Code, func(t *testing.T) {
			t.Parallel()
			require.NotEmpty(t, s.Name)
			require.NotEmpty(t, s.NameEN)
			require.NotEqual(t, s.Name, s.NameEN, "names must be translated")
			require.NotEmpty(t, s.Keywords)
			for _, a := range s.Attributes {
				require.NotEqual(t, a.Description, a.DescriptionEN, "%s: description must be translated", a.Code)
				for _, v := range a.Values {
					require.NotEmpty(t, v.NameEN, "%s.%s", a.Code, v.Key)
				}
			}
		})
	}
}

func TestDefaultIsShared(t *testing.T) {
	t.Parallel()
	require.Same(t, catalogue.Default(), catalogue.Default())
}

func TestContractExampleFormIsValid(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/request-service.json")
	require.NoError(t, err)
	var req struct {
		Service string         `json:"service"`
		Form    map[string]any `json:"form"`
	}
	require.NoError(t, json.Unmarshal(raw, &req))
	s, ok := catalogue.Default().Lookup(req.Service)
	require.True(t, ok)
	require.Empty(t, s.ValidateForm(req.Form))
}

// testCatalogue has one service per kind of form: every datatype and
// extension, and a service without a form.
const testCatalogue = `[
{"service_code": "test-form", "service_name": "Sınaq", "service_name_en": "Test",
 "description": "Sınaq xidməti", "description_en": "Test service", "metadata": true,
 "type": "realtime", "keywords": "sınaq, test", "group": "Sınaq", "group_en": "Test", "form": true,
 "attributes": [
  {"variable": true, "code": "title", "datatype": "string", "required": true, "order": 1,
   "description": "Başlıq", "description_en": "Title", "example": "Ev"},
  {"variable": true, "code": "short", "datatype": "string", "required": false, "order": 2, "max_length": 5,
   "description": "Qısa", "description_en": "Short", "example": "abc"},
  {"variable": true, "code": "note", "datatype": "text", "required": false, "order": 3,
   "description": "Qeyd", "description_en": "Note", "example": "bir\niki"},
  {"variable": true, "code": "count", "datatype": "number", "required": true, "order": 4,
   "min": 1, "max": 10, "integer": true,
   "description": "Say", "description_en": "Count", "example": "3"},
  {"variable": true, "code": "area", "datatype": "number", "required": false, "order": 5, "min": 0,
   "description": "Sahə", "description_en": "Area", "example": "45.5"},
  {"variable": true, "code": "born", "datatype": "datetime", "required": false, "order": 6,
   "description": "Doğum tarixi", "description_en": "Date of birth", "example": "2015-04-12"},
  {"variable": true, "code": "kind", "datatype": "singlevaluelist", "required": false, "order": 7,
   "description": "Növ", "description_en": "Kind", "example": "a",
   "values": [{"key": "a", "name": "A", "name_en": "A"}, {"key": "b", "name": "B", "name_en": "B"}]},
  {"variable": true, "code": "tags", "datatype": "multivaluelist", "required": false, "order": 8,
   "description": "Etiketlər", "description_en": "Tags", "example": ["x", "y"],
   "values": [{"key": "x", "name": "X", "name_en": "X"}, {"key": "y", "name": "Y", "name_en": "Y"},
              {"key": "z", "name": "Z", "name_en": "Z"}]}
 ]},
{"service_code": "test-no-form", "service_name": "Formasız", "service_name_en": "No form",
 "description": "Formasız xidmət", "description_en": "Service without a form", "metadata": false,
 "type": "realtime", "keywords": "", "group": "Sınaq", "group_en": "Test", "form": false, "attributes": []}
]`

func TestLoadValid(t *testing.T) {
	t.Parallel()
	c, err := catalogue.Load([]byte(testCatalogue))
	require.NoError(t, err)
	require.Equal(t, []string{"test-form", "test-no-form"}, c.Codes())

	all := c.All()
	require.Len(t, all, 2)
	require.Equal(t, "test-form", all[0].Code)
	all[0] = catalogue.Service{}
	s, ok := c.Lookup("test-form")
	require.True(t, ok, "All must return a copy")
	require.Len(t, s.Attributes, 8)
	require.Equal(t, c.All()[0].Code, "test-form")

	codes := c.Codes()
	codes[0] = "changed"
	require.Equal(t, "test-form", c.Codes()[0], "Codes must return a copy")
}

func TestLoadRejects(t *testing.T) {
	t.Parallel()
	type svc = map[string]any
	attr := func(s svc, i int) svc { return s["attributes"].([]any)[i].(svc) }
	tests := []struct {
		name   string
		raw    string                 // used as is when set
		mutate func(list []svc) []svc // otherwise applied to testCatalogue
		want   string
	}{
		{name: "NotJSON", raw: `{`, want: "decode"},
		{name: "NotAnArray", raw: `{"services": []}`, want: "decode"},
		{name: "TrailingData", raw: testCatalogue + `[]`, want: "data after"},
		{name: "Empty", raw: `[]`, want: "no services"},
		{name: "UnknownField", mutate: func(l []svc) []svc { l[0]["colour"] = "red"; return l }, want: "unknown field"},
		{name: "DuplicateServiceCode", mutate: func(l []svc) []svc { l[1]["service_code"] = "test-form"; return l }, want: "duplicate service_code"},
		{name: "BadServiceCode", mutate: func(l []svc) []svc { l[0]["service_code"] = "Test_Form"; return l }, want: "service_code must be"},
		{name: "MissingEnglishName", mutate: func(l []svc) []svc { delete(l[0], "service_name_en"); return l }, want: "service_name_en is empty"},
		{name: "BadType", mutate: func(l []svc) []svc { l[0]["type"] = "instant"; return l }, want: "not realtime"},
		{name: "MetadataMismatch", mutate: func(l []svc) []svc { l[1]["metadata"] = true; return l }, want: "metadata is true"},
		{name: "FormMismatch", mutate: func(l []svc) []svc { l[0]["form"] = false; return l }, want: "form is false"},
		{name: "WithdrawnWithoutReason", mutate: func(l []svc) []svc { l[0]["withdrawn"] = true; return l }, want: "withdrawn"},
		{name: "ReasonWithoutWithdrawn", mutate: func(l []svc) []svc {
			l[0]["withdrawn_reason"], l[0]["withdrawn_reason_en"] = "səbəb", "reason"
			return l
		}, want: "withdrawn"},
		{name: "UnknownDatatype", mutate: func(l []svc) []svc { attr(l[0], 0)["datatype"] = "boolean"; return l }, want: `unknown datatype "boolean"`},
		{name: "ListWithoutValues", mutate: func(l []svc) []svc { delete(attr(l[0], 6), "values"); return l }, want: "singlevaluelist without values"},
		{name: "MultiListWithoutValues", mutate: func(l []svc) []svc { attr(l[0], 7)["values"] = []any{}; return l }, want: "multivaluelist without values"},
		{name: "ValuesOnString", mutate: func(l []svc) []svc {
			attr(l[0], 0)["values"] = attr(l[0], 6)["values"]
			return l
		}, want: "values on a string"},
		{name: "DuplicateKey", mutate: func(l []svc) []svc {
			v := attr(l[0], 6)["values"].([]any)
			v[1].(svc)["key"] = "a"
			return l
		}, want: `duplicate value key "a"`},
		{name: "ValueWithoutEnglishName", mutate: func(l []svc) []svc {
			delete(attr(l[0], 6)["values"].([]any)[0].(svc), "name_en")
			return l
		}, want: "name_en must not be empty"},
		{name: "DuplicateAttributeCode", mutate: func(l []svc) []svc { attr(l[0], 1)["code"] = "title"; return l }, want: `"title": duplicate code`},
		{name: "BadAttributeCode", mutate: func(l []svc) []svc { attr(l[0], 1)["code"] = "Short-Name"; return l }, want: "code must be lowercase"},
		{name: "OrderNotIncreasing", mutate: func(l []svc) []svc { attr(l[0], 2)["order"] = 2; return l }, want: "order 2 does not follow 2"},
		{name: "NotVariable", mutate: func(l []svc) []svc { attr(l[0], 0)["variable"] = false; return l }, want: "variable must be true"},
		{name: "MinOnString", mutate: func(l []svc) []svc { attr(l[0], 0)["min"] = 1; return l }, want: "numbers only"},
		{name: "MinAboveMax", mutate: func(l []svc) []svc { attr(l[0], 3)["min"] = 20; return l }, want: "above max"},
		{name: "MaxLengthOnNumber", mutate: func(l []svc) []svc { attr(l[0], 3)["max_length"] = 3; return l }, want: "string and text only"},
		{name: "MissingExample", mutate: func(l []svc) []svc { delete(attr(l[0], 0), "example"); return l }, want: "example is missing"},
		{name: "InvalidExample", mutate: func(l []svc) []svc { attr(l[0], 3)["example"] = "11"; return l }, want: "example is invalid"},
		{name: "ExampleNotAKey", mutate: func(l []svc) []svc { attr(l[0], 7)["example"] = []any{"w"}; return l }, want: "example is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.raw)
			if tt.mutate != nil {
				var list []svc
				require.NoError(t, json.Unmarshal([]byte(testCatalogue), &list))
				var err error
				data, err = json.Marshal(tt.mutate(list))
				require.NoError(t, err)
			}
			c, err := catalogue.Load(data)
			require.ErrorContains(t, err, tt.want)
			require.Nil(t, c)
		})
	}
}
