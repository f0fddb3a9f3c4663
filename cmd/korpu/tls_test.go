package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/sim/esdsim"
	"github.com/korpu-az/korpu/adapters/sim/registrysim"
	"github.com/korpu-az/korpu/adapters/tlsconf"
	"github.com/korpu-az/korpu/adapters/tlsconf/tlstest"
	"github.com/korpu-az/korpu/cmd/korpu/config"
	"github.com/korpu-az/korpu/routers"
)

// TestServeTLS runs korpu serve with http.tls and a client CA: it speaks
// HTTPS only; a district callback needs a certificate of the districts' CA
// besides its token; SIGHUP swaps the served certificate for new
// handshakes, and a bad new pair keeps the old one.
func TestServeTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hubCA, districtCA := tlstest.NewCA(t, "hub CA"), tlstest.NewCA(t, "districts CA")
	first := hubCA.Server(t)
	certFile, keyFile := first.Write(t, dir, "hub")
	clientCA := districtCA.WriteCert(t, dir, "districts")
	// A new connection per request, so that each sees the certificate served now.
	client := func(cert *tls.Certificate) *http.Client {
		cfg := &tls.Config{RootCAs: hubCA.Pool(), MinVersion: tls.VersionTLS12}
		if cert != nil {
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}, Timeout: 10 * time.Second}
	}
	s := newStackWith(t, stackOptions{codes: []string{"AZ-SAT"}, https: client(nil),
		httpTLS: fmt.Sprintf("{ cert_file: %q, key_file: %q, client_ca_file: %q }", certFile, keyFile, clientCA)})
	hub := s.startHub()
	base := "https://" + hub.addr

	if resp, err := http.Get("http://" + hub.addr + "/healthz"); err == nil {
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "plain HTTP is not served")
	}

	callback := func(c *http.Client) (int, error) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/v1/districts/AZ-SAT/status",
			strings.NewReader(`{"appeal_number":"AZ-SAT-2026-999999","status":"in_progress"}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+callbackToken("AZ-SAT"))
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	status, err := callback(client(nil))
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, status, "no client certificate")
	district := districtCA.Client(t, "sat.example.az").TLS(t)
	status, err = callback(client(&district))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, status, "past the certificate and the token: no such appeal")
	stranger := tlstest.NewCA(t, "other CA").Client(t, "sat.example.az").TLS(t)
	_, err = callback(client(&stranger))
	require.Error(t, err, "another CA's certificate fails the handshake (TLS 1.3: as the server's alert or a closed connection)")

	served := func() string {
		resp, err := client(nil).Get(base + "/healthz")
		require.NoError(t, err)
		resp.Body.Close()
		return resp.TLS.PeerCertificates[0].SerialNumber.String()
	}
	require.Equal(t, first.Cert.SerialNumber.String(), served())
	hubCAFile := hubCA.WriteCert(t, dir, "hub-ca")
	require.NoError(t, run(t.Context(), []string{"probe", "--ca", hubCAFile, base + "/readyz"}, io.Discard, os.LookupEnv))
	require.ErrorContains(t, run(t.Context(), []string{"probe", base + "/readyz"}, io.Discard, os.LookupEnv),
		"certificate", "the system's roots do not know the hub's CA")

	second := hubCA.Server(t)
	second.Write(t, dir, "hub")
	require.NoError(t, hub.cmd.Process.Signal(syscall.SIGHUP))
	waitFor(t, 10*time.Second, "the new certificate served", func() bool { return served() == second.Cert.SerialNumber.String() })

	// A certificate that does not match the key on disk.
	require.NoError(t, os.WriteFile(certFile, hubCA.Server(t).CertPEM, 0o600))
	require.NoError(t, hub.cmd.Process.Signal(syscall.SIGHUP))
	waitFor(t, 10*time.Second, "the bad pair logged", func() bool {
		log, err := os.ReadFile(hub.log)
		return err == nil && strings.Contains(string(log), "reload refused") &&
			strings.Contains(string(log), filepath.Base(keyFile))
	})
	require.Equal(t, second.Cert.SerialNumber.String(), served(), "the old certificate is still served")
	status, err = callback(client(&district))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, status, "and the hub still answers")
}

// TestOutboundTLSWiring builds the registry and district clients from a
// config with tls maps: each reaches its system on a private CA that
// requires the hub's client certificate, and without the map it does not.
func TestOutboundTLSWiring(t *testing.T) {
	t.Parallel()
	ca := tlstest.NewCA(t, "private CA")
	files := ca.ClientFiles(t, t.TempDir())
	registrySrv := ca.MutualServer(t, registrysim.New(registrysim.Options{Token: registryToken}))
	restSrv := ca.MutualServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"reference":"SAT-1"}`)
	}))
	esdSrv := ca.MutualServer(t, esdsim.New(esdsim.Options{Code: "AZ-BIL", Username: "hub", Password: esdPassword("AZ-BIL")}))
	logger := slog.New(slog.DiscardHandler)

	for name, tc := range map[string]struct {
		files tlsconf.ClientFiles
		ok    bool
	}{"WithTLS": {files, true}, "Without": {tlsconf.ClientFiles{}, false}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := &config.Config{
				Registry: config.Registry{URL: registrySrv.URL, Token: registryToken, TLS: tc.files},
				Districts: []config.District{
					{Code: "AZ-SAT", Adapter: config.AdapterREST, Endpoint: restSrv.URL, Token: "t", Timeout: 5 * time.Second, TLS: tc.files},
					{Code: "AZ-BIL", Adapter: config.AdapterESD, Endpoint: esdSrv.URL + "/esd", Username: "hub", Password: esdPassword("AZ-BIL"),
						Timeout: 5 * time.Second, PollInterval: time.Second, TLS: tc.files},
				},
			}
			reg, err := newRegistryClient(cfg, time.Now, logger)
			require.NoError(t, err)
			_, regErr := reg.Person(t.Context(), "5ZJ7K2M")
			districts, polled, err := districtAdapters(cfg, time.Now, logger)
			require.NoError(t, err)
			_, restErr := districts["AZ-SAT"].Submit(t.Context(), routers.Submission{AppealNumber: "AZ-SAT-2026-000001"})
			_, esdErr := polled["AZ-BIL"].Poller.Changes(t.Context(), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 10)
			for what, err := range map[string]error{"registry": regErr, "rest": restErr, "esd": esdErr} {
				if tc.ok {
					require.NoError(t, err, what)
				} else {
					require.ErrorContains(t, err, "certificate", what)
				}
			}
		})
	}
}
