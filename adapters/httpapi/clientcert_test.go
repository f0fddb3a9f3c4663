package httpapi_test

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/httpapi"
	"github.com/korpu-az/korpu/adapters/tlsconf/tlstest"
)

// TestRequireCallbackCert serves a stub API behind RequireCallbackCert on
// a listener that verifies client certificates if given, as serve's does.
func TestRequireCallbackCert(t *testing.T) {
	t.Parallel()
	hubCA, districts := tlstest.NewCA(t, "hub CA"), tlstest.NewCA(t, "districts CA")
	through := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "through") })
	srv := httptest.NewUnstartedServer(httpapi.RequireCallbackCert(through, map[string]string{"AZ-SAT": "sat.example.az"},
		slog.New(slog.DiscardHandler)))
	srv.TLS = &tls.Config{
		MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{hubCA.Server(t).TLS(t)},
		ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: districts.Pool(),
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	call := func(t *testing.T, method, path string, cert *tls.Certificate) (int, string, error) {
		t.Helper()
		cfg := &tls.Config{RootCAs: hubCA.Pool(), MinVersion: tls.VersionTLS12}
		if cert != nil {
			// Presented whatever CAs the server asks for, as a hostile client would.
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader("{}"))
		require.NoError(t, err)
		resp, err := c.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body), nil
	}
	certOf := func(ca *tlstest.CA, name string) *tls.Certificate {
		c := ca.Client(t, name).TLS(t)
		return &c
	}
	for name, tc := range map[string]struct {
		method, path string
		cert         *tls.Certificate
		status       int
	}{
		"NoCertificate":         {http.MethodPost, "/v1/districts/AZ-SAT/status", nil, http.StatusForbidden},
		"DistrictsCertificate":  {http.MethodPost, "/v1/districts/AZ-SAT/status", certOf(districts, "sat.example.az"), http.StatusOK},
		"AnotherDistrictsName":  {http.MethodPost, "/v1/districts/AZ-SAT/status", certOf(districts, "bil.example.az"), http.StatusForbidden},
		"UnboundDistrict":       {http.MethodPost, "/v1/districts/AZ-BIL/status", certOf(districts, "bil.example.az"), http.StatusOK},
		"OtherRoutesNeedNone":   {http.MethodGet, "/healthz", nil, http.StatusOK},
		"OtherMethodsPassThere": {http.MethodGet, "/v1/districts/AZ-SAT/status", nil, http.StatusOK},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			status, body, err := call(t, tc.method, tc.path, tc.cert)
			require.NoError(t, err)
			require.Equal(t, tc.status, status, body)
			if tc.status == http.StatusOK {
				require.Equal(t, "through", body)
			}
		})
	}
	t.Run("OtherCA", func(t *testing.T) {
		t.Parallel()
		_, _, err := call(t, http.MethodPost, "/v1/districts/AZ-SAT/status", certOf(tlstest.NewCA(t, "other CA"), "sat.example.az"))
		require.Error(t, err, "the handshake refuses it (TLS 1.3: as the server's alert or a closed connection)")
	})
}
