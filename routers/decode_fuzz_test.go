package routers_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/korpu-az/korpu/routers"
)

// FuzzDecode feeds the intake's decoder arbitrary bodies: it must never
// panic, and whatever it accepts must carry a usable id and bilingual errors
// that hold no control character.
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		body, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Add([]byte(`{"id":"x","kind":"request","form":{"a":[1,{"b":null}]},"attachments":[{}]}`))
	f.Add([]byte(`{"id":"2f8d6a4e-6c1b-4f5e-9a57-0d3c8e1b7a21","kind":"comment","citizen":7}`))
	f.Add([]byte(`{"id":"x","kind":"request","appeal":{"te\u0000xt":"\u2028"},"form":{"\u0001":["\u007f"]}}`))
	v := testValidator()
	f.Fuzz(func(t *testing.T, body []byte) {
		req, errs, err := v.Decode(body, arrival)
		if err != nil {
			if !routers.IsPermanent(err) {
				t.Fatalf("a refusal must be permanent (poison), got %v", err)
			}
			return
		}
		if req.ID == "" {
			t.Fatal("accepted a body without an id")
		}
		for _, e := range errs {
			if e.Field == "" || !strings.Contains(e.Message, " / ") {
				t.Fatalf("field error without field or bilingual message: %+v", e)
			}
			if strings.ContainsFunc(e.Field+e.Message, controlCharacter) {
				t.Fatalf("field error passes a control character on to the portal: %q", e)
			}
		}
	})
}

// controlCharacter is what no field error may hold: the C0 controls but
// TAB, LF and CR, DEL and U+2028/2029.
func controlCharacter(r rune) bool {
	return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f || r == 0x2028 || r == 0x2029
}
