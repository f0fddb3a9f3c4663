package routers_test

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// TestDuplicateKeysAreInvalid: a key given twice, at any depth, makes the
// message invalid and names the field, rather than the last value winning.
func TestDuplicateKeysAreInvalid(t *testing.T) {
	t.Parallel()
	read := func(name string) []byte {
		raw, err := os.ReadFile("testdata/" + name)
		require.NoError(t, err)
		return raw
	}
	insert := func(body []byte, after, extra string) []byte {
		t.Helper()
		require.True(t, bytes.Contains(body, []byte(after)), "no %q in the example", after)
		return bytes.Replace(body, []byte(after), []byte(after+extra), 1)
	}
	cases := []struct {
		name  string
		body  []byte
		field string
	}{
		{"TopLevel", insert(read("request-appeal.json"), "{", `"district":"AZ-SAT",`), "district"},
		{"Citizen", insert(read("request-appeal.json"), `"citizen": {`, `"fin":"4TRW8XY",`), "citizen.fin"},
		{"CitizenEscaped", insert(read("request-appeal.json"), `"citizen": {`, `"\u0066in":"4TRW8XY",`), "citizen.fin"},
		{"Appeal", insert(read("request-appeal.json"), `"appeal": {`, `"text":"başqa mətn",`), "appeal.text"},
		{"Form", insert(read("request-service.json"), `"form": {`, ` "members_count": "9",`), "form.members_count"},
		{"Attachment", insert(read("request-appeal.json"), "\"attachments\": [\n    {", `"url":"https://evil.example/x",`), "attachments[0].url"},
		{"Reception", insert(read("request-reception.json"), `"reception": {`, `"date":"2026-12-01",`), "reception.date"},
		{"Comment", insert(read("comment.json"), `"text": "`, `x", "text": "`), "text"},
	}
	v := testValidator()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := arrival
			if strings.Contains(string(tc.body), `"comment"`) {
				now = time.Date(2026, 12, 3, 10, 0, 0, 0, routers.Baku)
			}
			_, errs, err := v.Decode(tc.body, now)
			require.NoError(t, err)
			require.Equal(t, []string{tc.field}, fields(errs))
			require.Contains(t, errs[0].Message, "more than once")
		})
	}
}

func TestDuplicateKeys(t *testing.T) {
	t.Parallel()
	require.Empty(t, routers.DuplicateKeys([]byte(`{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}],"d":[[{"x":1}],{"x":2}]}`)),
		"the same key in different objects is no repeat")
	require.Equal(t, []string{"c[1].a", "d[1].x"},
		routers.DuplicateKeys([]byte(`{"c":[{"a":1},{"a":2,"a":3}],"d":[[{"x":1}],{"x":2,"y":[],"x":{}}]}`)))
	require.Equal(t, []string{"b"}, routers.DuplicateKeys([]byte(`{"b":1,"b":2,"b":3}`)), "each path once")

	var big strings.Builder
	big.WriteString(`{"form":{`)
	for i := range 1000 {
		big.WriteString(`"k` + strconv.Itoa(i) + `":1,`)
	}
	big.WriteString(`"k999":2}}`)
	require.Equal(t, []string{"form.k999"}, routers.DuplicateKeys([]byte(big.String())), "a large object too")

	var many strings.Builder
	many.WriteString(`{`)
	for i := range 50 {
		many.WriteString(`"k` + strconv.Itoa(i) + `":1,"k` + strconv.Itoa(i) + `":2,`)
	}
	many.WriteString(`"z":0}`)
	require.Len(t, routers.DuplicateKeys([]byte(many.String())), 10, "reports are bounded")
}

// FuzzDuplicateKeys holds the byte scanner to what encoding/json's own
// tokens say of any valid JSON text.
func FuzzDuplicateKeys(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"a":2,"a":[1,{"c":"\"","c":null}]},"\u0062":true}`))
	f.Add([]byte(`[{"x":1,"y":2,"x":3},[],"s",{"":1,"":2}]`))
	f.Add([]byte(`{"k1":1,"k2":1,"k3":1,"k4":1,"k5":1,"k6":1,"k7":1,"k8":1,"k9":1,"k10":1,"k11":1,"k12":1,"k13":1,"k14":1,"k15":1,"k16":1,"k17":1,"k1":2}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got := routers.DuplicateKeys(body)
		if !json.Valid(body) {
			return
		}
		require.Equal(t, referenceDuplicates(body), got, "%q", body)
	})
}

// referenceDuplicates is DuplicateKeys by json.Decoder's tokens.
func referenceDuplicates(body []byte) []string {
	type frame struct {
		object    bool
		wantValue bool
		key       string
		keys      map[string]bool
		index     int
	}
	var (
		stack []*frame
		found []string
	)
	path := func() string {
		var b strings.Builder
		for i, f := range stack {
			switch {
			case !f.object:
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			case i > 0:
				b.WriteString("." + f.key)
			default:
				b.WriteString(f.key)
			}
		}
		return b.String()
	}
	startValue := func() {
		if len(stack) == 0 {
			return
		}
		if top := stack[len(stack)-1]; top.object {
			top.wantValue = false
		} else {
			top.index++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for len(found) < 10 {
		tok, err := dec.Token()
		if err != nil {
			return found
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			startValue()
			stack = append(stack, &frame{object: tok == json.Delim('{'), index: -1, keys: map[string]bool{}})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			continue
		}
		if key, ok := tok.(string); ok && len(stack) > 0 && stack[len(stack)-1].object && !stack[len(stack)-1].wantValue {
			top := stack[len(stack)-1]
			top.key, top.wantValue = key, true
			if top.keys[key] {
				if p := path(); !slices.Contains(found, p) {
					found = append(found, p)
				}
			}
			top.keys[key] = true
			continue
		}
		startValue()
	}
	return found
}

// TestTypeErrorsSpeakJSON: a value of the wrong type is named in JSON's
// words, not by the Go type the hub decodes it into.
func TestTypeErrorsSpeakJSON(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/request-appeal.json")
	require.NoError(t, err)
	body := bytes.Replace(raw, []byte(`"citizen": {`), []byte(`"citizen": 7, "x": {`), 1)
	_, errs, err := testValidator().Decode(body, arrival)
	require.NoError(t, err)
	require.NotEmpty(t, errs)
	require.Equal(t, "citizen", errs[0].Field)
	require.Contains(t, errs[0].Message, "number given, an object expected")
	require.NotContains(t, errs[0].Message, "routers.")
}
