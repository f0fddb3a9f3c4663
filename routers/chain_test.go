package routers_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

// chainOf is a well-formed history of n events of number, as a ledger
// stores it.
func chainOf(t *testing.T, number string, n int) []routers.StoredEvent {
	t.Helper()
	prev := routers.ChainGenesis
	out := make([]routers.StoredEvent, n)
	for i := range out {
		raw := fmt.Appendf(nil, `{"sequence": %d, "status": "in_progress", "note": "\u00e7"}`, i+1)
		canonical, err := routers.CanonicalJSON(raw)
		require.NoError(t, err)
		prev = routers.ChainHash(number, i+1, prev, canonical)
		out[i] = routers.StoredEvent{Number: number, Sequence: i + 1, Event: raw, Hash: prev, Latest: n}
	}
	return out
}

func walk(events ...[]routers.StoredEvent) []string {
	var (
		v   routers.ChainVerifier
		out []string
	)
	for _, appeal := range events {
		for _, e := range appeal {
			for _, b := range v.Add(e) {
				out = append(out, b.String())
			}
		}
	}
	for _, b := range v.Close() {
		out = append(out, b.String())
	}
	return out
}

// TestChainVerifier names the first break of each appeal, whatever it is,
// and nothing of a chain that holds.
func TestChainVerifier(t *testing.T) {
	t.Parallel()
	const a, b = "AZ-BIL-2026-000001", "AZ-BIL-2026-000002"
	require.Empty(t, walk(chainOf(t, a, 3), chainOf(t, b, 1)))
	require.Empty(t, walk(), "an empty ledger")

	altered := chainOf(t, a, 3)
	altered[1].Event = []byte(`{"sequence": 2, "status": "answered", "note": "ç"}`)
	gap := chainOf(t, b, 3)
	gap = append(gap[:1], gap[2])
	require.Equal(t, []string{
		a + " sequence 2: altered: the hash does not match the event and the previous hash",
		b + " sequence 2: missing: the history goes on at sequence 3",
	}, trim(walk(altered, gap)), "only the first break of each appeal")

	reformatted := chainOf(t, a, 2)
	reformatted[0].Event = []byte(`{"note":"ç","status":"in_progress","sequence":1}`)
	require.Empty(t, walk(reformatted), "the same event in another form is the same event")

	rehashed := chainOf(t, a, 3) // event 2 altered and its hash made to fit: event 3's link breaks
	rehashed[1].Event = []byte(`{"sequence": 2}`)
	rehashed[1].Hash = routers.ChainHash(a, 2, rehashed[0].Hash, []byte(`{"sequence":2}`))
	require.Equal(t, []string{a + " sequence 3: altered: the hash does not match the event and the previous hash"}, trim(walk(rehashed)))

	tail := chainOf(t, a, 3)[:2]
	require.Equal(t, []string{a + " sequence 3: missing: the appeal's latest event is sequence 3"}, trim(walk(tail, chainOf(t, b, 1))))

	none := []routers.StoredEvent{{Number: a, Latest: 1}}
	require.Equal(t, []string{a + " sequence 1: missing: the appeal's latest event is sequence 1"}, trim(walk(none)))

	unsealed := chainOf(t, a, 2)
	unsealed[0].Hash = nil
	require.Equal(t, []string{a + " sequence 1: unsealed: the event has no hash"}, trim(walk(unsealed)))

	beyond := chainOf(t, a, 2)
	beyond[0].Latest, beyond[1].Latest = 1, 1
	require.Equal(t, []string{a + " sequence 2: beyond the appeal's latest event, sequence 1"}, trim(walk(beyond)))

	notJSON := chainOf(t, a, 1)
	notJSON[0].Event = []byte(`{"a":1,"a":2}`)
	require.Len(t, walk(notJSON), 1, "a duplicate key is no canonical event")
}

func trim(breaks []string) []string {
	for i, b := range breaks {
		breaks[i] = b[len("appeal "):]
	}
	return breaks
}
