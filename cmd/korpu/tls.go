package main

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/korpu-az/korpu/adapters/tlsconf"
	"github.com/korpu-az/korpu/cmd/korpu/config"
)

// reloadTLS is the reload hook of an HTTPS hub: the listener's certificate
// and key (and client CA) of the new file, re-read even when the paths are
// the same, serve new handshakes; open connections keep theirs. A pair
// that cannot be used refuses the reload, so the old one stays served.
// Adding or removing the client CA is refused: the callbacks' certificate
// check is wired at start, and the handshake alone must not change under it.
func reloadTLS(certs *tlsconf.Server, clientCA bool, logger *slog.Logger) func(*config.Config) error {
	return func(next *config.Config) error {
		if next.HTTP.TLS == nil {
			return nil // TLS turned off: restartNeeded names http
		}
		if (next.HTTP.TLS.ClientCAFile != "") != clientCA {
			return errors.New("http.tls.client_ca_file: added or removed; that takes a restart")
		}
		if err := certs.Use(*next.HTTP.TLS); err != nil {
			return fmt.Errorf("http.tls: %w", err)
		}
		leaf := certs.Certificate()
		logger.Info("tls: certificate reloaded", "serial", leaf.SerialNumber.String(), "subject", leaf.Subject.CommonName,
			"not_after", leaf.NotAfter)
		return nil
	}
}

// callbackCertNames maps each district that names its callback certificate
// to that name.
func callbackCertNames(cfg *config.Config) map[string]string {
	names := map[string]string{}
	for _, d := range cfg.Districts {
		if d.CallbackCertName != "" {
			names[d.Code] = d.CallbackCertName
		}
	}
	return names
}
