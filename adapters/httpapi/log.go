package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"unicode/utf8"

	"github.com/korpu-az/korpu/routers"
)

// Chains reads appeals' history chains (the ledgers' Chain).
type Chains interface {
	Chain(ctx context.Context, number string) ([]routers.ChainLink, error)
}

// registerLog adds the evidence routes of the record.
func (a *api) registerLog(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/log/verify", a.portalOrMonitor(a.verifyCopy))
}

// verifyJSON answers whether a printed copy matches the record.
type verifyJSON struct {
	Number string `json:"number"`
	// Match is current (the copy shows the record as it stands), earlier
	// (an earlier event: the record has moved on) or none.
	Match          string `json:"match"`
	Sequence       int    `json:"sequence,omitempty"`        // the event the head is the hash of
	LatestSequence int    `json:"latest_sequence,omitempty"` // the appeal's latest event, when matched
}

// verifyCopy checks the chain head a printed appeal carries (its QR code's
// head=) against the record. An unknown number and a head that matches
// nothing get the same answer, so the route tells no one which numbers
// exist.
func (a *api) verifyCopy(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	number := q.Get("number")
	var problems []routers.FieldError
	if number == "" || !utf8.ValidString(number) || utf8.RuneCountInString(number) > routers.MaxReferenceRunes {
		problems = append(problems, routers.FieldError{Field: "number", Message: routers.Bilingual(
			"Müraciətin nömrəsi lazımdır (ən çoxu 100 simvol).", "The appeal's number is required (at most 100 characters).")})
	}
	head, ok := parseHead(q.Get("head"))
	if !ok {
		problems = append(problems, routers.FieldError{Field: "head", Message: routers.Bilingual(
			"Zəncirin başı 32 baytlıq heşdir: base64url (43 simvol) və ya hex (64 simvol).",
			"The chain head is a 32-byte hash: base64url (43 characters) or hex (64 characters).")})
	}
	if len(problems) > 0 {
		badRequest(w, problems...)
		return
	}
	links, err := a.cfg.Chains.Chain(r.Context(), number)
	if err != nil {
		a.unavailableProblem(w, "verify copy", err)
		return
	}
	m := routers.MatchHead(links, head)
	out := verifyJSON{Number: number, Match: "none"}
	if m.Sequence != 0 {
		out.Match, out.Sequence, out.LatestSequence = "earlier", m.Sequence, m.Latest
		if m.Current() {
			out.Match = "current"
		}
	}
	private(w)
	writeJSON(w, http.StatusOK, out)
}

// parseHead reads a chain head as the QR code carries it (base64url
// without padding) or as hex.
func parseHead(s string) ([]byte, bool) {
	var (
		b   []byte
		err error
	)
	switch len(s) {
	case base64.RawURLEncoding.EncodedLen(routers.ChainHashSize):
		b, err = base64.RawURLEncoding.DecodeString(s)
	case hex.EncodedLen(routers.ChainHashSize):
		b, err = hex.DecodeString(s)
	default:
		return nil, false
	}
	return b, err == nil
}
