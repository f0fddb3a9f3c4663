package httpapi_test

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/routers"
)

type verifyBody struct {
	Number         string `json:"number"`
	Match          string `json:"match"`
	Sequence       int    `json:"sequence"`
	LatestSequence int    `json:"latest_sequence"`
}

// TestVerifyPrintedCopy: the head a printed appeal carries matches the
// record as it stands, an earlier event of it, or nothing; an unknown
// number answers like a head that matches nothing.
func TestVerifyPrintedCopy(t *testing.T) {
	t.Parallel()
	w := newPortalWorld(t)
	a := w.register(t, alice, "AZ-BIL", "appeal", nil)
	require.NoError(t, w.ledger.UpdateAppeal(t.Context(), a.Number, func(a *routers.Appeal) (routers.Effects, error) {
		a.Sequence++
		return routers.Effects{Events: []routers.StatusEvent{{EventID: "e2", RequestID: a.RequestID, AppealNumber: a.Number,
			Status: routers.StatusDelivered, Sequence: 2, At: routers.FormatTime(w.now)}}}, nil
	}))
	links, err := w.ledger.Chain(t.Context(), a.Number)
	require.NoError(t, err)
	require.Len(t, links, 2)

	verify := func(token, number, head string) verifyBody {
		t.Helper()
		rec := get(w.handler, "/v1/log/verify?"+url.Values{"number": {number}, "head": {head}}.Encode(), token, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Equal(t, "private, no-store", rec.Header().Get("Cache-Control"))
		var out verifyBody
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
		return out
	}
	b64 := base64.RawURLEncoding.EncodeToString
	require.Equal(t, verifyBody{Number: a.Number, Match: "current", Sequence: 2, LatestSequence: 2}, verify(portalToken, a.Number, b64(links[1].Hash)))
	require.Equal(t, verifyBody{Number: a.Number, Match: "earlier", Sequence: 1, LatestSequence: 2},
		verify(monitorToken, a.Number, hex.EncodeToString(links[0].Hash)), "hex too; the record has moved on")
	other := make([]byte, routers.ChainHashSize)
	require.Equal(t, verifyBody{Number: a.Number, Match: "none"}, verify(portalToken, a.Number, b64(other)))
	require.Equal(t, verifyBody{Number: "AZ-BIL-2026-000099", Match: "none"}, verify(portalToken, "AZ-BIL-2026-000099", b64(links[1].Hash)),
		"an unknown number is no different from a wrong head")
	require.Equal(t, verifyBody{Number: a.Number, Match: "none"}, verify(portalToken, a.Number, b64(links[1].Hash[:31])+"A"),
		"a head one byte off matches nothing")

	for name, query := range map[string]string{
		"NoNumber":   "head=" + b64(links[1].Hash),
		"LongNumber": "number=" + strings.Repeat("A", 101) + "&head=" + b64(links[1].Hash),
		"ShortHead":  "number=" + a.Number + "&head=" + b64(links[1].Hash[:16]),
		"NotBase64":  "number=" + a.Number + "&head=" + strings.Repeat("*", 43),
	} {
		rec := get(w.handler, "/v1/log/verify?"+query, portalToken, "")
		require.Equal(t, http.StatusBadRequest, rec.Code, name)
	}
	rec := get(w.handler, "/v1/log/verify?number="+a.Number+"&head="+b64(links[1].Hash), "", "")
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	rec = get(w.handler, "/v1/log/verify?number="+a.Number+"&head="+b64(links[1].Hash), "Bearer bil-secret", "")
	require.Equal(t, http.StatusForbidden, rec.Code, "a district's token is not the portal's")
}
