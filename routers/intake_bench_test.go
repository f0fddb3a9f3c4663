package routers_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// BenchmarkDecode is the intake's hot path before the database: decoding
// and validating each of the contract's examples as it arrives.
func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"request-appeal.json", "request-reception.json", "request-service.json", "comment.json"} {
		body, err := os.ReadFile("testdata/" + name)
		require.NoError(b, err)
		v := testValidator()
		b.Run(strings.TrimSuffix(name, ".json"), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				req, _, err := v.Decode(body, arrival)
				if err != nil || req.ID == "" {
					b.Fatalf("decode %s: %v", name, err)
				}
			}
		})
	}
}

// BenchmarkMarshalStatusEvent is the cost of each event the portal gets:
// the hub marshals a routers.StatusEvent with encoding/json into the outbox.
func BenchmarkMarshalStatusEvent(b *testing.B) {
	for _, name := range []string{"status-registered.json", "status-invalid.json"} {
		raw, err := os.ReadFile("testdata/" + name)
		require.NoError(b, err)
		var ev routers.StatusEvent
		require.NoError(b, json.Unmarshal(raw, &ev))
		b.Run(strings.TrimSuffix(name, ".json"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
