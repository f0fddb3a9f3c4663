package outbound

import "sync/atomic"

// Secret is a client's credential (a bearer token, a password) that the
// operator may replace while calls use it: a reload of the hub's file sets
// the new one, and each call reads whichever is current when it starts.
type Secret struct {
	v atomic.Pointer[string]
}

// NewSecret returns a Secret holding s.
func NewSecret(s string) *Secret {
	secret := &Secret{}
	secret.Set(s)
	return secret
}

// Get returns the current value.
func (s *Secret) Get() string { return *s.v.Load() }

// Set replaces the value for every call from now on.
func (s *Secret) Set(v string) { s.v.Store(&v) }
