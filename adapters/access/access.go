// Package access says who a caller of the hub's HTTP API is: a party of the
// operator's access list (contract §6, access:), found by its bearer token,
// with the role that bounds what it may do.
package access

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync/atomic"
)

// Role bounds what a party may do.
type Role string

// The roles of the access list.
const (
	// RolePortal is the e-gov portal: the citizen read API only.
	RolePortal Role = "portal"
	// RoleMonitor reads everything, the dashboard included.
	RoleMonitor Role = "monitor"
	// RoleOperator is a monitor who may also replay and drop dead letters.
	RoleOperator Role = "operator"
	// RoleDistrict is a district's system, named by its code, on its own
	// status callbacks; not a role of the access list.
	RoleDistrict Role = "district"
)

// Reads tells whether the role may read what monitors read.
func (r Role) Reads() bool { return r == RoleMonitor || r == RoleOperator }

// Party is one entry of the access list, as a request's caller.
type Party struct {
	Name string
	Role Role
}

type partyKey struct{}

// WithParty returns ctx carrying the authenticated caller.
func WithParty(ctx context.Context, p Party) context.Context {
	return context.WithValue(ctx, partyKey{}, p)
}

// PartyFrom returns the caller WithParty put in ctx.
func PartyFrom(ctx context.Context) (Party, bool) {
	p, ok := ctx.Value(partyKey{}).(Party)
	return p, ok
}

// Table finds a party by its token. It keeps only the tokens' hashes and
// compares every entry in constant time, so neither a token's length nor
// its content, nor which entry matched, leaks through timing.
type Table struct {
	entries []entry
	keys    map[Party][]byte
}

type entry struct {
	hash  [32]byte
	party Party
}

// keyLabel separates a party's derived key from any other use of its token.
const keyLabel = "korpu party key v1"

// NewTable builds the table; tokens must be unique (config checks it).
func NewTable(tokens map[string]Party) *Table {
	t := &Table{entries: make([]entry, 0, len(tokens)), keys: make(map[Party][]byte, len(tokens))}
	for token, p := range tokens {
		t.entries = append(t.entries, entry{hash: sha256.Sum256([]byte(token)), party: p})
		m := hmac.New(sha256.New, []byte(token))
		m.Write([]byte(keyLabel))
		t.keys[p] = m.Sum(nil)
	}
	return t
}

// Key is a secret derived from p's token, for what p signs (the
// dashboard's session cookies): hubs that share a token derive the same
// key, and a new token ends only that party's signatures.
func (t *Table) Key(p Party) ([]byte, bool) {
	if t == nil {
		return nil, false
	}
	k, ok := t.keys[p]
	return k, ok
}

// Lookup returns the party whose token this is.
func (t *Table) Lookup(token string) (Party, bool) {
	if t == nil || token == "" {
		return Party{}, false
	}
	got := sha256.Sum256([]byte(token))
	var found Party
	ok := 0
	for _, e := range t.entries {
		if subtle.ConstantTimeCompare(e.hash[:], got[:]) == 1 {
			found, ok = e.party, 1
		}
	}
	return found, ok == 1
}

// Tokens is the table in use, swapped whole when the operator's file is
// reloaded: a request sees the old table or the new one, never a mix.
type Tokens struct {
	current atomic.Pointer[Table]
}

// NewTokens returns a Tokens holding t.
func NewTokens(t *Table) *Tokens {
	s := &Tokens{}
	s.current.Store(t)
	return s
}

// Swap puts t in use for every request from now on.
func (s *Tokens) Swap(t *Table) { s.current.Store(t) }

// Lookup returns the party whose token this is, in the current table.
func (s *Tokens) Lookup(token string) (Party, bool) { return s.current.Load().Lookup(token) }

// Key returns p's derived key in the current table (Table.Key).
func (s *Tokens) Key(p Party) ([]byte, bool) { return s.current.Load().Key(p) }

// Bearer is the token of r's "Authorization: Bearer" header; found is
// false without one.
func Bearer(r *http.Request) (token string, found bool) {
	return strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
}
