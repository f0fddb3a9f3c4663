package esd

import (
	"bytes"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// answerOf wraps filler into a DeyisiklikCavab, repeating it as often as fits
// (or n times if n > 0) under DefaultMaxResponseBytes.
func answerOf(filler string, n int) []byte {
	const head = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><m:DeyisiklikCavab xmlns:m="urn:az:esd:muraciet:v1">`
	const tail = `<m:Davami>false</m:Davami></m:DeyisiklikCavab></soapenv:Body></soapenv:Envelope>`
	if n <= 0 {
		n = (DefaultMaxResponseBytes - len(head) - len(tail)) / len(filler)
	}
	var b bytes.Buffer
	b.WriteString(head)
	b.WriteString(strings.Repeat(filler, n))
	b.WriteString(tail)
	return b.Bytes()
}

// hostileAnswer is an answer just under DefaultMaxResponseBytes of about a
// million empty elements: small on the wire, huge as a tree.
func hostileAnswer() []byte { return answerOf("<x/>", 0) }

// TestHostileAnswerMemory parses answers as the client does and measures what
// each costs: the heap held while the answer is in use and all that parsing
// allocated. Whatever a district sends within the byte limit costs a few MiB.
func TestHostileAnswerMemory(t *testing.T) {
	// Not parallel: the heap figures are the process's.
	c, err := New(Config{Code: "AZ-BIL", Endpoint: "http://127.0.0.1:1/esd", Username: "u", Password: "p"}, nil, nil)
	require.NoError(t, err)
	ok := &http.Response{StatusCode: http.StatusOK, Header: http.Header{}}
	tests := []struct {
		name    string
		data    []byte
		refused bool
	}{
		{"MillionEmptyElements", hostileAnswer(), true},
		{"MillionAttributes", answerOf(` a="">`, 1)[:0], true}, // built below
		{"MillionComments", answerOf("<!---->", 0), true},
		{"AtTheCap", answerOf("<x/>", MaxEnvelopeNodes-10), false},
	}
	tests[1].data = bytes.Replace(answerOf("<x/>", 1), []byte("<x/>"), []byte("<x"+strings.Repeat(` a=""`, (DefaultMaxResponseBytes-300)/len(` a=""`))+"/>"), 1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.LessOrEqual(t, len(tt.data), DefaultMaxResponseBytes)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.GC()
			runtime.ReadMemStats(&before)
			answer, err := c.answer(OpChanges, ok, tt.data)
			runtime.GC()
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(answer)
			runtime.KeepAlive(tt.data) // the body is the caller's: count only what parsing adds

			held := int64(after.HeapInuse) - int64(before.HeapInuse)
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("answer of %d bytes: heap held %.1f MiB, allocated %.1f MiB", len(tt.data), float64(held)/(1<<20), float64(allocated)/(1<<20))
			if tt.refused {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
			require.Less(t, held, int64(4<<20), "heap held")
			require.Less(t, allocated, uint64(10<<20), "bytes allocated")
		})
	}
}

// BenchmarkHostileAnswer: go test -run '^$' -bench HostileAnswer -benchmem ./adapters/district/esd/
func BenchmarkHostileAnswer(b *testing.B) {
	data := hostileAnswer()
	c, err := New(Config{Code: "AZ-BIL", Endpoint: "http://127.0.0.1:1/esd", Username: "u", Password: "p"}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	ok := &http.Response{StatusCode: http.StatusOK, Header: http.Header{}}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		_, _ = c.answer(OpChanges, ok, data)
	}
}
