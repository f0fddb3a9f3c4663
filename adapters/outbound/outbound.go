// Package outbound is what the hub's clients of outside systems (the
// registry, the REST and the ESD districts) share about HTTP: one Transport,
// with the system's TLS settings, and none of them ever follows a redirect.
//
// Following one would send the request again, with its bearer token or its
// WS-Security password and the citizen's data, to wherever the Location
// points, and take that host's answer for the real one. A client built with
// NoRedirects gets the 3xx answer itself and fails the call.
//
// That failure is transient, not permanent: the request reached no one, a
// retry is safe (deliveries carry an idempotency key, lookups only read),
// and redirects come mostly from maintenance pages and proxies in front of a
// system, which go away; the caller's retries are bounded, so a redirect
// that stays ends in a dead letter all the same. Each client logs it at error
// level with the host the redirect points to, never the whole Location,
// which may carry a secret in its query.
package outbound

import (
	"crypto/tls"
	"net/http"
)

// Transport is the transport of a client of one outside system: Go's
// defaults (100 idle connections, 90 s idle timeout, HTTP/2 where offered),
// perHost idle connections kept per host so that calls in flight reuse
// theirs (Go's 2 would close connections whenever calls overlap), and
// tlsConfig for the system's private CA and the hub's client certificate
// (nil: the system's roots, no certificate). Timeouts come from each call's
// context, which also covers reading the body.
func Transport(perHost int, tlsConfig *tls.Config) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = perHost
	t.TLSClientConfig = tlsConfig
	return t
}

// NoRedirects returns a copy of c that hands a redirect to its caller
// instead of following it. c itself is left as it was.
func NoRedirects(c *http.Client) *http.Client {
	cp := *c
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// IsRedirect reports whether an answer of this status is a redirect.
func IsRedirect(status int) bool { return status >= 300 && status <= 399 }

// LocationHost returns the host a redirect points to (resolved against the
// request's URL), or "" if it names none.
func LocationHost(resp *http.Response) string {
	u, err := resp.Location()
	if err != nil {
		return ""
	}
	return u.Host
}
