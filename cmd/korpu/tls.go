package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/korpu-az/korpu/adapters/tlsconf"
	"github.com/korpu-az/korpu/cmd/korpu/config"
)

// reloadTLSOnHangup re-reads the listener's certificate and key (and client
// CA) on every SIGHUP until the returned stop is called: new handshakes get
// the new pair, open connections keep theirs. A pair that cannot be used
// keeps the one served and is logged.
func reloadTLSOnHangup(ctx context.Context, certs *tlsconf.Server, logger *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := certs.Reload(); err != nil {
					logger.Error("tls: new certificate refused; serving the old one", "error", err)
					continue
				}
				leaf := certs.Certificate()
				logger.Info("tls: certificate reloaded", "serial", leaf.SerialNumber.String(), "subject", leaf.Subject.CommonName,
					"not_after", leaf.NotAfter)
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		cancel()
		<-done
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
