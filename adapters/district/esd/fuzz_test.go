package esd

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParseResponse feeds any bytes to the answer parser of every operation,
// as a success and as a fault: it must never panic, and a success must carry
// what the operation promises.
func FuzzParseResponse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "responses", "*.xml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed corpus: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	c, err := New(Config{Code: "AZ-BIL", Endpoint: "http://127.0.0.1:1/esd", Username: "u", Password: "p"}, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, status := range []int{http.StatusOK, http.StatusInternalServerError} {
			resp := &http.Response{StatusCode: status, Header: http.Header{}}
			answer, err := c.answer(OpRegister, resp, data)
			if err != nil {
				continue
			}
			if ref, err := c.readRegistered(answer); err == nil && ref == "" {
				t.Fatal("empty reference accepted")
			}
			if st, err := readState(answer); err == nil && (st.Veziyyet < 1 || st.Veziyyet > 6) {
				t.Fatalf("Veziyyet %d accepted", st.Veziyyet)
			}
			if page, err := readChanges(answer, time.Time{}); err == nil {
				for _, ch := range page.Changes {
					if ch.Status == "" || ch.AppealNumber == "" {
						t.Fatalf("incomplete change accepted: %+v", ch)
					}
				}
			}
		}
	})
}

// FuzzReadFault checks the fault reader alone on any envelope.
func FuzzReadFault(f *testing.F) {
	for _, name := range []string{"fault-TEKRAR.xml", "fault-SISTEM_MESGUL.xml", "fault-plain.xml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "responses", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := ReadEnvelope(data)
		if err != nil {
			return
		}
		if fault := readFault(env.Payload); fault != nil {
			_ = fault.Error()
		}
	})
}
