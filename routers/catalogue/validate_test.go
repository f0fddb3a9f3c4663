package catalogue_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers/catalogue"
)

func setup(t testing.TB) (form, noForm catalogue.Service) {
	t.Helper()
	c, err := catalogue.Load([]byte(testCatalogue))
	require.NoError(t, err)
	form, ok := c.Lookup("test-form")
	require.True(t, ok)
	noForm, ok = c.Lookup("test-no-form")
	require.True(t, ok)
	return form, noForm
}

// valid returns the smallest valid form of test-form with extra merged in.
func valid(extra map[string]any) map[string]any {
	form := map[string]any{"title": "Ev", "count": "3"}
	for k, v := range extra {
		if v == nil {
			delete(form, k)
			continue
		}
		form[k] = v
	}
	return form
}

func TestValidateForm(t *testing.T) {
	t.Parallel()
	withForm, _ := setup(t)
	unknown12 := valid(nil)
	for i := range 12 {
		unknown12["extra_"+strconv.Itoa(i+10)] = "x"
	}
	tests := []struct {
		name   string
		form   map[string]any
		fields []string // the problems' fields, in order; nil for a clean form
		en     string   // part of the first problem's English message
		az     string   // part of the first problem's Azerbaijani message
	}{
		{name: "Minimal", form: valid(nil)},
		{name: "Full", form: valid(map[string]any{
			"short": "abcde", "note": "bir\r\niki\tüç", "area": "0", "born": "2026-03-15T10:00:00+04:00",
			"kind": "b", "tags": []any{"x", "z"},
		})},
		{name: "NilForm", form: nil, fields: []string{"form"}, en: "needs a form", az: "forma göndərilməyib"},
		{name: "EmptyForm", form: map[string]any{}, fields: []string{"form.title", "form.count"}, en: "“Title” is required.", az: "“Başlıq” doldurulmalıdır."},
		{name: "RequiredMissing", form: valid(map[string]any{"title": nil}), fields: []string{"form.title"}, en: "is required"},
		{name: "RequiredNull", form: map[string]any{"title": nil, "count": "3"}, fields: []string{"form.title"}, en: "is required"},
		{name: "RequiredBlank", form: valid(map[string]any{"title": " \t "}), fields: []string{"form.title"}, en: "is required"},
		{name: "RequiredEmptyNumber", form: valid(map[string]any{"count": ""}), fields: []string{"form.count"}, en: "is required"},
		{name: "OptionalEmptyIsFine", form: valid(map[string]any{"short": "", "tags": []any{}, "kind": nil})},

		{name: "StringNotText", form: valid(map[string]any{"title": 5.0}), fields: []string{"form.title"}, en: "must be sent as text", az: "mətn kimi"},
		{name: "StringAtDefaultLimit", form: valid(map[string]any{"title": strings.Repeat("ə", 200)})},
		{name: "StringOverDefaultLimit", form: valid(map[string]any{"title": strings.Repeat("ə", 201)}), fields: []string{"form.title"}, en: "at most 200 characters (201 sent)", az: "ən çoxu 200 simvol"},
		{name: "StringOverMaxLength", form: valid(map[string]any{"short": "abcdef"}), fields: []string{"form.short"}, en: "at most 5 characters"},
		{name: "StringNewline", form: valid(map[string]any{"title": "a\nb"}), fields: []string{"form.title"}, en: "single line"},
		{name: "StringDelete", form: valid(map[string]any{"title": "a\x7fb"}), fields: []string{"form.title"}, en: "control characters"},
		{name: "TextAtLimit", form: valid(map[string]any{"note": strings.Repeat("ş", 5000)})},
		{name: "TextOverLimit", form: valid(map[string]any{"note": strings.Repeat("ş", 5001)}), fields: []string{"form.note"}, en: "at most 5000 characters"},
		{name: "TextNUL", form: valid(map[string]any{"note": "a\x00b"}), fields: []string{"form.note"}, en: "control characters"},

		{name: "NumberAsJSONNumber", form: valid(map[string]any{"count": 4.0})},
		{name: "NumberAsUseNumber", form: valid(map[string]any{"count": json.Number("4")})},
		{name: "NumberAsInt", form: valid(map[string]any{"count": 4})},
		{name: "NumberPadded", form: valid(map[string]any{"count": " 4 "})},
		{name: "NumberDecimal", form: valid(map[string]any{"area": "45.25"})},
		{name: "NumberWord", form: valid(map[string]any{"count": "dörd"}), fields: []string{"form.count"}, en: "number written in digits", az: "rəqəmlərlə"},
		{name: "NumberComma", form: valid(map[string]any{"area": "45,5"}), fields: []string{"form.area"}, en: "decimal point"},
		{name: "NumberExponent", form: valid(map[string]any{"area": "1e3"}), fields: []string{"form.area"}, en: "number"},
		{name: "NumberInf", form: valid(map[string]any{"area": "Inf"}), fields: []string{"form.area"}, en: "number"},
		{name: "NumberNaN", form: valid(map[string]any{"area": "NaN"}), fields: []string{"form.area"}, en: "number"},
		{name: "NumberHex", form: valid(map[string]any{"area": "0x10"}), fields: []string{"form.area"}, en: "number"},
		{name: "NumberUnderscore", form: valid(map[string]any{"area": "1_000"}), fields: []string{"form.area"}, en: "number"},
		{name: "NumberLeadingPoint", form: valid(map[string]any{"area": ".5"}), fields: []string{"form.area"}, en: "number"},
		{name: "NumberTrailingPoint", form: valid(map[string]any{"area": "5."}), fields: []string{"form.area"}, en: "number"},
		{name: "NumberPlus", form: valid(map[string]any{"area": "+5"}), fields: []string{"form.area"}, en: "number"},
		{name: "NumberTooLong", form: valid(map[string]any{"area": strings.Repeat("1", 33)}), fields: []string{"form.area"}, en: "number"},
		{name: "NumberBool", form: valid(map[string]any{"count": true}), fields: []string{"form.count"}, en: "number"},
		{name: "NumberNotWhole", form: valid(map[string]any{"count": "4.5"}), fields: []string{"form.count"}, en: "whole number", az: "tam ədəd"},
		{name: "NumberNotWholeJSON", form: valid(map[string]any{"count": 4.5}), fields: []string{"form.count"}, en: "whole number"},
		{name: "NumberWholeWithPoint", form: valid(map[string]any{"count": "4.0"})},
		{name: "NumberBelowMin", form: valid(map[string]any{"count": "0"}), fields: []string{"form.count"}, en: "“Count” must be at least 1.", az: "ən azı 1"},
		{name: "NumberNegative", form: valid(map[string]any{"area": "-0.5"}), fields: []string{"form.area"}, en: "at least 0"},
		{name: "NumberAboveMax", form: valid(map[string]any{"count": "11"}), fields: []string{"form.count"}, en: "“Count” must be at most 10.", az: "ən çoxu 10"},
		{name: "NumberAtBounds", form: valid(map[string]any{"count": "10", "area": "0.0"})},

		{name: "DateOnly", form: valid(map[string]any{"born": "2024-02-29"})},
		{name: "DateImpossible", form: valid(map[string]any{"born": "2026-02-30"}), fields: []string{"form.born"}, en: "YYYY-MM-DD", az: "İİİİ-AA-GG"},
		{name: "DateLocalFormat", form: valid(map[string]any{"born": "15.03.2026"}), fields: []string{"form.born"}, en: "must be a date"},
		{name: "DateWithoutOffset", form: valid(map[string]any{"born": "2026-03-15T10:00:00"}), fields: []string{"form.born"}, en: "must be a date"},
		{name: "DateUTC", form: valid(map[string]any{"born": "2026-03-15T06:00:00.5Z"})},
		{name: "DateAsNumber", form: valid(map[string]any{"born": 20260315.0}), fields: []string{"form.born"}, en: "must be a date"},

		{name: "SingleNotAKey", form: valid(map[string]any{"kind": "c"}), fields: []string{"form.kind"}, en: "“Kind” has no option “c”; allowed: a, b.", az: "“c” dəyəri yoxdur"},
		{name: "SingleNotString", form: valid(map[string]any{"kind": 1.0}), fields: []string{"form.kind"}, en: "must be one of: a, b."},
		{name: "SingleArray", form: valid(map[string]any{"kind": []any{"a"}}), fields: []string{"form.kind"}, en: "must be one of"},
		{name: "SingleCaseMatters", form: valid(map[string]any{"kind": "A"}), fields: []string{"form.kind"}, en: "no option “A”"},
		{name: "SingleLongValueClipped", form: valid(map[string]any{"kind": strings.Repeat("q", 100)}), fields: []string{"form.kind"}, en: strings.Repeat("q", 40) + "…”"},

		{name: "MultiOneKeyString", form: valid(map[string]any{"tags": "y"})},
		{name: "MultiBadKeyString", form: valid(map[string]any{"tags": "w"}), fields: []string{"form.tags"}, en: "no option “w”; allowed: x, y, z."},
		{name: "MultiBadKey", form: valid(map[string]any{"tags": []any{"x", "w"}}), fields: []string{"form.tags"}, en: "no option “w”"},
		{name: "MultiNotStrings", form: valid(map[string]any{"tags": []any{"x", 2.0}}), fields: []string{"form.tags"}, en: "must be one of"},
		{name: "MultiRepeated", form: valid(map[string]any{"tags": []any{"x", "y", "x"}}), fields: []string{"form.tags"}, en: "lists “x” more than once", az: "təkrarlanır"},
		{name: "MultiObject", form: valid(map[string]any{"tags": map[string]any{"x": true}}), fields: []string{"form.tags"}, en: "must be an array of options"},

		{name: "UnknownSorted", form: valid(map[string]any{"zeta": "1", "alpha": 2.0}), fields: []string{"form.alpha", "form.zeta"}, en: "Unknown attribute “alpha”", az: "“alpha” adlı sahə yoxdur"},
		{name: "UnknownNull", form: map[string]any{"title": "Ev", "count": "3", "zeta": nil}, fields: []string{"form.zeta"}, en: "Unknown attribute"},
		{name: "StableOrder", form: map[string]any{"b": "1", "count": "x", "a": "1", "kind": "c"},
			fields: []string{"form.title", "form.count", "form.kind", "form.a", "form.b"}, en: "is required"},
		{name: "UnknownCapped", form: unknown12,
			fields: []string{"form.extra_10", "form.extra_11", "form.extra_12", "form.extra_13", "form.extra_14",
				"form.extra_15", "form.extra_16", "form.extra_17", "form.extra_18", "form.extra_19", "form"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			problems := withForm.ValidateForm(tt.form)
			var fields []string
			for _, p := range problems {
				fields = append(fields, p.Field)
				require.NotEmpty(t, p.AZ)
				require.NotEmpty(t, p.EN)
				require.NotEqual(t, p.AZ, p.EN)
			}
			require.Equal(t, tt.fields, fields, "%+v", problems)
			if tt.en != "" {
				require.Contains(t, problems[0].EN, tt.en)
			}
			if tt.az != "" {
				require.Contains(t, problems[0].AZ, tt.az)
			}
		})
	}
}

func TestValidateFormUnknownCapSummary(t *testing.T) {
	t.Parallel()
	withForm, _ := setup(t)
	form := valid(nil)
	for i := range 15 {
		form["extra_"+strconv.Itoa(i+10)] = "x"
	}
	problems := withForm.ValidateForm(form)
	require.Len(t, problems, 11)
	require.Equal(t, "The form has 5 more unknown attributes.", problems[10].EN)
	require.Equal(t, "Formada daha 5 naməlum sahə var.", problems[10].AZ)
}

func TestValidateFormWithoutForm(t *testing.T) {
	t.Parallel()
	_, noForm := setup(t)
	require.False(t, noForm.HasForm())
	require.Empty(t, noForm.ValidateForm(nil))
	require.Empty(t, noForm.ValidateForm(map[string]any{}))
	problems := noForm.ValidateForm(map[string]any{"purpose": "x"})
	require.Len(t, problems, 1)
	require.Equal(t, "form", problems[0].Field)
	require.Contains(t, problems[0].EN, "has no form")
	require.Nil(t, noForm.ExampleForm())
}

// TestExampleForms proves every service of the embedded catalogue can be
// satisfied: its example form is clean, covers every required attribute, and
// dropping any one required attribute is reported against that attribute.
func TestExampleForms(t *testing.T) {
	t.Parallel()
	for _, s := range catalogue.Default().All() {
		t.Run(s.Code, func(t *testing.T) {
			t.Parallel()
			form := s.ExampleForm()
			if !s.HasForm() {
				require.Nil(t, form)
				require.Empty(t, s.ValidateForm(nil))
				return
			}
			require.Len(t, form, len(s.Attributes))
			require.Empty(t, s.ValidateForm(form))

			// The form survives the portal's JSON round trip.
			body, err := json.Marshal(form)
			require.NoError(t, err)
			var decoded map[string]any
			require.NoError(t, json.Unmarshal(body, &decoded))
			require.Empty(t, s.ValidateForm(decoded))

			for _, a := range s.Attributes {
				if !a.Required {
					continue
				}
				without := s.ExampleForm()
				delete(without, a.Code)
				problems := s.ValidateForm(without)
				require.Len(t, problems, 1, a.Code)
				require.Equal(t, "form."+a.Code, problems[0].Field)
			}
		})
	}
}

func TestExampleFormIsFresh(t *testing.T) {
	t.Parallel()
	withForm, _ := setup(t)
	first := withForm.ExampleForm()
	first["tags"].([]any)[0] = "w"
	first["title"] = ""
	require.Empty(t, withForm.ValidateForm(withForm.ExampleForm()), "changing one example form must not change the next")
}

// TestValidateFormDoesNotAllocate holds ValidateForm to its per-request budget:
// a clean form costs no allocation. Not parallel: AllocsPerRun refuses to run
// beside other tests, whose allocations it would count.
func TestValidateFormDoesNotAllocate(t *testing.T) {
	for _, s := range catalogue.Default().All() {
		form := s.ExampleForm()
		allocs := testing.AllocsPerRun(50, func() { _ = s.ValidateForm(form) })
		require.Zero(t, allocs, s.Code)
	}
}

func BenchmarkValidateForm(b *testing.B) {
	s, ok := catalogue.Default().Lookup("housing-registration")
	require.True(b, ok)
	form := s.ExampleForm()
	b.ReportAllocs()
	for b.Loop() {
		if problems := s.ValidateForm(form); problems != nil {
			b.Fatal(problems)
		}
	}
}

func FuzzValidateForm(f *testing.F) {
	f.Add("family-composition-certificate", []byte(`{"purpose": "sosial yardım üçün", "members_count": "4"}`))
	f.Add("housing-registration", []byte(`{"family_members_count": 4.5, "priority_category": ["idp", "idp"], "x": null}`))
	f.Add("appeal", []byte(`{"a": 1}`))
	f.Add("dwelling-conversion", []byte(`{"floor": "-1", "area": "1e999", "works_type": {}}`))
	c := catalogue.Default()
	f.Fuzz(func(t *testing.T, code string, body []byte) {
		s, ok := c.Lookup(code)
		if !ok {
			return
		}
		var form map[string]any
		if json.Unmarshal(body, &form) != nil {
			return
		}
		for _, p := range s.ValidateForm(form) {
			if !strings.HasPrefix(p.Field, "form") || p.AZ == "" || p.EN == "" {
				t.Fatalf("malformed problem %+v", p)
			}
		}
	})
}
