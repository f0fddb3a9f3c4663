package httpapi

import (
	"log/slog"
	"net/http"
)

// RequireCallbackCert wraps the API so that a district's status callback
// must come with a client certificate the TLS listener verified against the
// districts' CA (http.tls.client_ca_file); the listener lets callers without
// one in, for the portal and the monitors, and this refuses them here, on
// this route only, before the bearer token is looked at. names maps a
// district code to the name (a DNS SAN, or the common name) its certificate
// must carry; a district without one accepts any certificate of the CA, and
// its token alone says which district it is.
func RequireCallbackCert(next http.Handler, names map[string]string, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", next)
	mux.HandleFunc("POST /v1/districts/{code}/status", func(w http.ResponseWriter, r *http.Request) {
		code := r.PathValue("code")
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			logger.Warn("status callback without a verified client certificate", "district", code)
			writeError(w, http.StatusForbidden, "a client certificate of the districts' CA is required")
			return
		}
		if want, ok := names[code]; ok && want != "" {
			leaf := r.TLS.VerifiedChains[0][0]
			if leaf.VerifyHostname(want) != nil && leaf.Subject.CommonName != want {
				logger.Warn("status callback with another party's client certificate", "district", code,
					"certificate", leaf.Subject.CommonName)
				writeError(w, http.StatusForbidden, "the client certificate is not the district's")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
	return mux
}
