package routers_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/calendar"
	"github.com/korpu-az/korpu/routers/catalogue"
)

// arrival is when the contract's examples reach the hub: Friday 2026-11-27.
var arrival = time.Date(2026, 11, 27, 13, 0, 0, 0, routers.Baku)

func testValidator() *routers.Validator {
	return &routers.Validator{
		Catalogue: catalogue.Default(),
		Calendar:  calendar.Default(),
		Directory: routers.Directory{Districts: map[string]routers.DistrictInfo{
			"AZ-BIL": {Code: "AZ-BIL", AllServices: true, Officials: map[string]routers.Official{
				"BIL-01": {ID: "BIL-01", Sessions: []routers.Session{{Weekday: time.Tuesday, From: "10:00", To: "13:00", Capacity: 20}}},
				"BIL-02": {ID: "BIL-02", Sessions: []routers.Session{{Weekday: time.Monday, From: "14:00", To: "17:00", Capacity: 15}, {Weekday: time.Thursday, From: "10:00", To: "12:00", Capacity: 10}}},
			}},
			"AZ-SAT": {Code: "AZ-SAT", Services: map[string]bool{"appeal": true, "reception-booking": true,
				"family-composition-certificate": true, "housing-registration": true},
				Officials: map[string]routers.Official{"SAT-01": {ID: "SAT-01", Sessions: []routers.Session{{Weekday: time.Wednesday, From: "09:00", To: "12:00", Capacity: 25}}}}},
		}},
	}
}

func example(t *testing.T, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name) // copies of shared/contracts/examples
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

func validate(t *testing.T, body map[string]any) []routers.FieldError {
	t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	var req routers.Request
	require.NoError(t, json.Unmarshal(raw, &req))
	v := testValidator()
	if req.Kind == "comment" {
		// The comment example was written a week after the requests.
		return v.ValidateComment(raw, &req, time.Date(2026, 12, 3, 10, 0, 0, 0, routers.Baku))
	}
	return v.ValidateRequest(raw, &req, arrival)
}

func fields(errs []routers.FieldError) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Field
	}
	return out
}

func TestContractExamplesAreValid(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"request-appeal.json", "request-reception.json", "request-service.json", "comment.json"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Empty(t, validate(t, example(t, name)))
		})
	}
}

func TestValidateRequest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		base   string
		mutate func(m map[string]any)
		fields []string
	}{
		{"MissingFIN", "request-appeal.json", func(m map[string]any) { delete(m["citizen"].(map[string]any), "fin") }, []string{"citizen.fin"}},
		{"FINWithLetterO", "request-appeal.json", func(m map[string]any) { m["citizen"].(map[string]any)["fin"] = "5ZJ7KOM" }, []string{"citizen.fin"}},
		{"FINLowercase", "request-appeal.json", func(m map[string]any) { m["citizen"].(map[string]any)["fin"] = "5zj7k2m" }, []string{"citizen.fin"}},
		{"FINTooShort", "request-appeal.json", func(m map[string]any) { m["citizen"].(map[string]any)["fin"] = "5ZJ7K2" }, []string{"citizen.fin"}},
		{"PhoneNotE164", "request-appeal.json", func(m map[string]any) { m["citizen"].(map[string]any)["phone"] = "0501234567" }, []string{"citizen.phone"}},
		{"PhoneForeign", "request-appeal.json", func(m map[string]any) { m["citizen"].(map[string]any)["phone"] = "+7501234567" }, []string{"citizen.phone"}},
		{"BadEmail", "request-appeal.json", func(m map[string]any) { m["citizen"].(map[string]any)["email"] = "not-an-email" }, []string{"citizen.email"}},
		{"MissingAddress", "request-appeal.json", func(m map[string]any) { delete(m["citizen"].(map[string]any), "address") }, []string{"citizen.address"}},
		{"IDNotUUID", "request-appeal.json", func(m map[string]any) { m["id"] = "portal-17" }, []string{"id"}},
		{"SubmittedAtWithoutOffset", "request-appeal.json", func(m map[string]any) { m["submitted_at"] = "2026-11-27T10:15:04" }, []string{"submitted_at"}},
		{"SubmittedInFuture", "request-appeal.json", func(m map[string]any) { m["submitted_at"] = "2026-11-28T10:15:04+04:00" }, []string{"submitted_at"}},
		{"UnknownDistrict", "request-appeal.json", func(m map[string]any) { m["district"] = "AZ-XXX" }, []string{"district"}},
		{"MissingDistrict", "request-appeal.json", func(m map[string]any) { delete(m, "district") }, []string{"district"}},
		{"UnknownService", "request-appeal.json", func(m map[string]any) { m["service"] = "passport-renewal" }, []string{"service"}},
		{"WithdrawnService", "request-appeal.json", func(m map[string]any) { m["service"] = "marriage-age-reduction" }, []string{"service"}},
		{"ServiceNotOfferedInDistrict", "request-service.json", func(m map[string]any) {
			m["service"] = "child-name-change"
			m["form"] = mustLookup("child-name-change").ExampleForm()
		}, []string{"service"}},
		{"BadAppealType", "request-appeal.json", func(m map[string]any) { m["appeal"].(map[string]any)["type"] = "petition" }, []string{"appeal.type"}},
		{"BadSocialStatus", "request-appeal.json", func(m map[string]any) { m["appeal"].(map[string]any)["social_status"] = "rich" }, []string{"appeal.social_status"}},
		{"BadPrivilege", "request-appeal.json", func(m map[string]any) { m["appeal"].(map[string]any)["privilege_status"] = "vip" }, []string{"appeal.privilege_status"}},
		{"SubjectTooLong", "request-appeal.json", func(m map[string]any) { m["appeal"].(map[string]any)["subject"] = strings.Repeat("ş", 201) }, []string{"appeal.subject"}},
		{"TextEmpty", "request-appeal.json", func(m map[string]any) { m["appeal"].(map[string]any)["text"] = "  " }, []string{"appeal.text"}},
		{"TextTooLong", "request-appeal.json", func(m map[string]any) { m["appeal"].(map[string]any)["text"] = strings.Repeat("ə", 10001) }, []string{"appeal.text"}},
		{"TextAtLimit", "request-appeal.json", func(m map[string]any) { m["appeal"].(map[string]any)["text"] = strings.Repeat("ə", 10000) }, nil},
		{"UnknownTopField", "request-appeal.json", func(m map[string]any) { m["colour"] = "blue" }, []string{"colour"}},
		{"UnknownNestedField", "request-appeal.json", func(m map[string]any) { m["citizen"].(map[string]any)["nickname"] = "R" }, []string{"citizen.nickname"}},
		{"TooManyAttachments", "request-appeal.json", func(m map[string]any) {
			a := m["attachments"].([]any)[0]
			list := make([]any, 11)
			for i := range list {
				list[i] = a
			}
			m["attachments"] = list
		}, []string{"attachments"}},
		{"AttachmentBadHash", "request-appeal.json", func(m map[string]any) { m["attachments"].([]any)[0].(map[string]any)["sha256"] = "XYZ" }, []string{"attachments[0].sha256"}},
		{"AttachmentBadURL", "request-appeal.json", func(m map[string]any) { m["attachments"].([]any)[0].(map[string]any)["url"] = "file:///etc/passwd" }, []string{"attachments[0].url"}},
		{"AttachmentZeroSize", "request-appeal.json", func(m map[string]any) { m["attachments"].([]any)[0].(map[string]any)["size"] = 0 }, []string{"attachments[0].size"}},
		{"ReceptionMissing", "request-reception.json", func(m map[string]any) { delete(m, "reception") }, []string{"reception"}},
		{"ReceptionOnOtherService", "request-appeal.json", func(m map[string]any) {
			m["reception"] = map[string]any{"official_id": "BIL-01", "date": "2026-12-01"}
		}, []string{"reception"}},
		{"ReceptionForeignOfficial", "request-reception.json", func(m map[string]any) { m["reception"].(map[string]any)["official_id"] = "SAT-01" }, []string{"reception.official_id"}},
		{"ReceptionWrongWeekday", "request-reception.json", func(m map[string]any) { m["reception"].(map[string]any)["date"] = "2026-12-02" }, []string{"reception.date"}},
		{"ReceptionFifthDay", "request-reception.json", func(m map[string]any) { m["reception"].(map[string]any)["date"] = "2026-12-29" }, []string{"reception.date"}},
		{"ReceptionFourthDay", "request-reception.json", func(m map[string]any) { m["reception"].(map[string]any)["date"] = "2026-12-22" }, nil},
		{"ReceptionToday", "request-reception.json", func(m map[string]any) { m["reception"].(map[string]any)["date"] = "2026-11-27" }, []string{"reception.date"}},
		{"ReceptionBadDate", "request-reception.json", func(m map[string]any) { m["reception"].(map[string]any)["date"] = "01.12.2026" }, []string{"reception.date"}},
		{"FormMissingRequired", "request-service.json", func(m map[string]any) { m["form"] = map[string]any{} }, nil},
		{"FormUnknownAttribute", "request-service.json", func(m map[string]any) { m["form"].(map[string]any)["favourite_colour"] = "blue" }, []string{"form.favourite_colour"}},
		{"FormOnServiceWithout", "request-appeal.json", func(m map[string]any) { m["form"] = map[string]any{"x": "y"} }, []string{"form"}},
		{"WrongJSONType", "request-appeal.json", func(m map[string]any) { m["citizen"].(map[string]any)["phone"] = 994501234567 }, []string{"citizen.phone"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := example(t, tc.base)
			tc.mutate(m)
			errs := validateLenient(t, m)
			if tc.name == "FormMissingRequired" {
				require.NotEmpty(t, errs)
				for _, e := range errs {
					require.True(t, strings.HasPrefix(e.Field, "form."), e.Field)
				}
				return
			}
			require.Equal(t, tc.fields, nilIfEmpty(fields(errs)), "%+v", errs)
			for _, e := range errs {
				az, en, ok := strings.Cut(e.Message, " / ")
				require.True(t, ok && az != "" && en != "", "message %q must be Azerbaijani / English", e.Message)
			}
		})
	}
}

// validateLenient decodes like the intake: a JSON type error is a field error.
func validateLenient(t *testing.T, body map[string]any) []routers.FieldError {
	t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	var req routers.Request
	var errs []routers.FieldError
	if err := json.Unmarshal(raw, &req); err != nil {
		var typeErr *json.UnmarshalTypeError
		require.ErrorAs(t, err, &typeErr)
		errs = append(errs, routers.FieldError{Field: typeErr.Field, Message: "type / type"})
		return errs
	}
	return testValidator().ValidateRequest(raw, &req, arrival)
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func mustLookup(code string) catalogue.Service {
	s, ok := catalogue.Default().Lookup(code)
	if !ok {
		panic(code)
	}
	return s
}

func TestValidateComment(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		mutate func(m map[string]any)
		fields []string
	}{
		{"Valid", func(map[string]any) {}, nil},
		{"EmptyText", func(m map[string]any) { m["text"] = "" }, []string{"text"}},
		{"TextTooLong", func(m map[string]any) { m["text"] = strings.Repeat("a", 5001) }, []string{"text"}},
		{"BadNumber", func(m map[string]any) { m["appeal_number"] = "AZ-BIL-26-17" }, []string{"appeal_number"}},
		// Every district's numbers, AZ-AGD-X's and Baku's AZ-BA-XTA's among them.
		{"NumberOfAZAGDX", func(m map[string]any) { m["appeal_number"] = "AZ-AGD-X-2026-000017" }, nil},
		{"NumberOfBakuDistrict", func(m map[string]any) { m["appeal_number"] = "AZ-BA-XTA-2026-000017" }, nil},
		{"BadFIN", func(m map[string]any) { m["citizen"] = map[string]any{"fin": "I"} }, []string{"citizen.fin"}},
		{"RequestFieldInComment", func(m map[string]any) { m["service"] = "appeal" }, []string{"service"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := example(t, "comment.json")
			tc.mutate(m)
			require.Equal(t, tc.fields, nilIfEmpty(fields(validate(t, m))))
		})
	}
}

// TestValidAppealNumber: the shapes FormatAppealNumber gives, no others.
func TestValidAppealNumber(t *testing.T) {
	t.Parallel()
	for _, n := range []string{routers.FormatAppealNumber("AZ-BIL", 2026, 17), "AZ-AGD-X-2026-000017", "AZ-BA-XTA-2026-999999"} {
		require.True(t, routers.ValidAppealNumber(n), n)
	}
	for _, n := range []string{"", "AZ-BIL-26-17", "az-bil-2026-000017", "AZ-BIL-2026-0000170", "AZ-BIL-2026-000017\n", "AZ-BIL-2026-000017/x"} {
		require.False(t, routers.ValidAppealNumber(n), n)
	}
}

// TestValidateRefusesControlCharacters: every free-text field, of requests
// and comments, refuses the C0 controls but TAB, LF and CR, DEL and U+2028/9,
// with the field named and a message in both languages.
func TestValidateRefusesControlCharacters(t *testing.T) {
	t.Parallel()
	set := func(path ...string) func(m map[string]any, v string) {
		return func(m map[string]any, v string) {
			obj := m
			for _, k := range path[:len(path)-1] {
				obj = obj[k].(map[string]any)
			}
			obj[path[len(path)-1]] = v
		}
	}
	fieldsOf := []struct {
		field string
		base  string
		set   func(m map[string]any, v string)
	}{
		{"appeal.text", "request-appeal.json", set("appeal", "text")},
		{"appeal.subject", "request-appeal.json", set("appeal", "subject")},
		{"citizen.address", "request-appeal.json", set("citizen", "address")},
		{"citizen.workplace", "request-appeal.json", set("citizen", "workplace")},
		{"citizen.position", "request-appeal.json", set("citizen", "position")},
		{"attachments[0].name", "request-appeal.json", func(m map[string]any, v string) {
			m["attachments"].([]any)[0].(map[string]any)["name"] = v
		}},
		{"form.purpose", "request-service.json", set("form", "purpose")},
		{"text", "comment.json", set("text")},
	}
	for _, f := range fieldsOf {
		for _, bad := range []rune{0x00, 0x01, 0x1b, 0x1f, 0x7f, 0x2028, 0x2029} {
			t.Run(fmt.Sprintf("%sU%04X", f.field, bad), func(t *testing.T) {
				t.Parallel()
				m := example(t, f.base)
				f.set(m, "Küçədə "+string(bad)+"işıq yoxdur")
				errs := validate(t, m)
				require.Equal(t, []string{f.field}, fields(errs), "%+v", errs)
				az, en, ok := strings.Cut(errs[0].Message, " / ")
				require.True(t, ok && az != "" && en != "", errs[0].Message)
				require.NotContains(t, errs[0].Message, string(bad))
			})
		}
	}
	t.Run("TabsAndNewlinesAreText", func(t *testing.T) {
		t.Parallel()
		m := example(t, "request-appeal.json")
		m["appeal"].(map[string]any)["text"] = "Birinci sətir.\r\n\tİkinci sətir.\n"
		require.Empty(t, validate(t, m))
	})
	t.Run("NULFromJSONEscape", func(t *testing.T) {
		t.Parallel()
		body := []byte(strings.Replace(string(mustRead(t, "request-appeal.json")), `"text": "`, `"text": "\u0000`, 1))
		_, errs, err := testValidator().Decode(body, arrival)
		require.NoError(t, err)
		require.Equal(t, []string{"appeal.text"}, fields(errs))
		require.Contains(t, errs[0].Message, "U+0000")
	})
	t.Run("KeyIsEscapedInTheFieldName", func(t *testing.T) {
		t.Parallel()
		m := example(t, "request-service.json")
		m["form"].(map[string]any)["a\x00b"] = "c"
		errs := validate(t, m)
		require.NotEmpty(t, errs)
		for _, e := range errs {
			require.NotContains(t, e.Field+e.Message, "\x00", "%+v", e)
		}
		require.Contains(t, fields(errs), `form.a\u0000b`)
	})
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return raw
}
