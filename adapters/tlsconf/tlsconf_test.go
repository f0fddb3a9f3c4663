package tlsconf_test

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/tlsconf"
	"github.com/korpu-az/korpu/adapters/tlsconf/tlstest"
)

// serve serves ok over src's TLS on a loopback port and returns its address.
func serve(t *testing.T, src *tlsconf.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
			_, _ = io.WriteString(w, "verified "+r.TLS.VerifiedChains[0][0].Subject.CommonName)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}), ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = srv.Serve(tls.NewListener(ln, src.Config())) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// client trusts ca and presents certs.
func client(ca *tlstest.CA, certs ...tls.Certificate) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), Certificates: certs, MinVersion: tls.VersionTLS12}}
	tr.DisableKeepAlives = true // every request a new handshake, to see what it negotiates
	tr.ForceAttemptHTTP2 = true
	return &http.Client{Transport: tr}
}

// fetch returns the answer's body and the TLS state it came over.
func fetch(c *http.Client, url string) (string, *tls.ConnectionState, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), resp.TLS, err
}

// get is fetch that must succeed.
func get(t *testing.T, c *http.Client, url string) (*tls.ConnectionState, string) {
	t.Helper()
	body, state, err := fetch(c, url)
	require.NoError(t, err)
	return state, body
}

func TestServerServesHTTPS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "hub CA")
	certFile, keyFile := ca.Server(t).Write(t, dir, "hub")
	src, err := tlsconf.NewServer(tlsconf.ServerFiles{CertFile: certFile, KeyFile: keyFile})
	require.NoError(t, err)
	addr := serve(t, src)

	state, body := get(t, client(ca), "https://"+addr+"/")
	require.Equal(t, "ok", body)
	require.GreaterOrEqual(t, state.Version, uint16(tls.VersionTLS12))
	require.Equal(t, "h2", state.NegotiatedProtocol)

	plain, err := http.Get("http://" + addr + "/")
	if err == nil {
		plain.Body.Close()
		require.Equal(t, http.StatusBadRequest, plain.StatusCode, "plain HTTP to the TLS port is refused")
	}

	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: ca.Pool(), MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}}} //nolint:gosec // G402: the test proves the server refuses it
	_, _, err = fetch(old, "https://"+addr+"/")
	require.Error(t, err, "TLS 1.1 is refused")
}

func TestServerReloadSwapsCertificate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "hub CA")
	first := ca.Server(t)
	certFile, keyFile := first.Write(t, dir, "hub")
	src, err := tlsconf.NewServer(tlsconf.ServerFiles{CertFile: certFile, KeyFile: keyFile})
	require.NoError(t, err)
	addr := serve(t, src)
	c := client(ca)
	serial := func() string {
		state, _ := get(t, c, "https://"+addr+"/")
		return state.PeerCertificates[0].SerialNumber.String()
	}
	require.Equal(t, first.Cert.SerialNumber.String(), serial())

	second := ca.Server(t)
	second.Write(t, dir, "hub")
	require.NoError(t, src.Reload())
	require.Equal(t, second.Cert.SerialNumber.String(), serial(), "the next handshake gets the new certificate")

	// A new certificate with the old key: the pair does not match.
	require.NoError(t, os.WriteFile(certFile, ca.Server(t).CertPEM, 0o600))
	err = src.Reload()
	var fe *tlsconf.FileError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, tlsconf.KeyKeyFile, fe.Key)
	require.Equal(t, keyFile, fe.Path)
	require.Equal(t, second.Cert.SerialNumber.String(), serial(), "a bad pair keeps the old one")
	require.Equal(t, second.Cert.SerialNumber, src.Certificate().SerialNumber)

	require.NoError(t, os.Remove(keyFile))
	require.ErrorContains(t, src.Reload(), "key_file")
	require.Equal(t, second.Cert.SerialNumber.String(), serial())

	// Files named anew, as by a config read again: bad ones change nothing,
	// not even the files Reload reads; good ones are served and kept.
	third := ca.Server(t)
	thirdCert, thirdKey := third.Write(t, dir, "third")
	require.ErrorContains(t, src.Use(tlsconf.ServerFiles{CertFile: thirdCert, KeyFile: keyFile}), "key_file")
	require.Equal(t, second.Cert.SerialNumber.String(), serial())
	require.NoError(t, src.Use(tlsconf.ServerFiles{CertFile: thirdCert, KeyFile: thirdKey}))
	require.Equal(t, third.Cert.SerialNumber.String(), serial())
	fourth := ca.Server(t)
	fourth.Write(t, dir, "third")
	require.NoError(t, src.Reload())
	require.Equal(t, fourth.Cert.SerialNumber.String(), serial(), "Reload reads the files last used")
}

func TestServerClientCA(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "hub CA")
	districts := tlstest.NewCA(t, "districts CA")
	certFile, keyFile := ca.Server(t).Write(t, dir, "hub")
	src, err := tlsconf.NewServer(tlsconf.ServerFiles{CertFile: certFile, KeyFile: keyFile,
		ClientCAFile: districts.WriteCert(t, dir, "districts")})
	require.NoError(t, err)
	addr := serve(t, src)

	_, body := get(t, client(ca), "https://"+addr+"/")
	require.Equal(t, "ok", body, "no certificate: the handshake succeeds")
	_, body = get(t, client(ca, districts.Client(t, "sat.example").TLS(t)), "https://"+addr+"/")
	require.Equal(t, "verified sat.example", body)
	// Presented even though the server asks for the districts' CA, as a
	// hostile client would: Go's client would otherwise send none.
	other := tlstest.NewCA(t, "other CA").Client(t, "sat.example").TLS(t)
	forced := client(ca)
	forced.Transport.(*http.Transport).TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &other, nil
	}
	_, _, err = fetch(forced, "https://"+addr+"/")
	// TLS 1.3 finishes the client's side of the handshake before the
	// server judges its certificate: the client may see the server's alert
	// or only a connection that closed (h2: "could not be established").
	require.Error(t, err, "a certificate of another CA fails the handshake")
}

func TestServerFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "hub CA")
	certFile, keyFile := ca.Server(t).Write(t, dir, "hub")
	garbage := filepath.Join(dir, "garbage.pem")
	require.NoError(t, os.WriteFile(garbage, []byte("not PEM"), 0o600))
	for name, tc := range map[string]struct {
		files tlsconf.ServerFiles
		keys  []string
	}{
		"MissingCert":   {tlsconf.ServerFiles{CertFile: filepath.Join(dir, "none.crt"), KeyFile: keyFile}, []string{tlsconf.KeyCertFile}},
		"GarbageCert":   {tlsconf.ServerFiles{CertFile: garbage, KeyFile: keyFile}, []string{tlsconf.KeyCertFile}},
		"KeyIsCert":     {tlsconf.ServerFiles{CertFile: certFile, KeyFile: certFile}, []string{tlsconf.KeyKeyFile}},
		"NoKey":         {tlsconf.ServerFiles{CertFile: certFile}, []string{tlsconf.KeyKeyFile}},
		"GarbageCA":     {tlsconf.ServerFiles{CertFile: certFile, KeyFile: keyFile, ClientCAFile: garbage}, []string{tlsconf.KeyClientCAFile}},
		"BothAtOnce":    {tlsconf.ServerFiles{CertFile: garbage, KeyFile: keyFile, ClientCAFile: garbage}, []string{tlsconf.KeyCertFile, tlsconf.KeyClientCAFile}},
		"KeyNotMatched": {tlsconf.ServerFiles{CertFile: certFile, KeyFile: writeKey(t, dir, ca)}, []string{tlsconf.KeyKeyFile}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := tlsconf.NewServer(tc.files)
			require.Error(t, err)
			require.Equal(t, tc.keys, fileKeys(err))
			require.NotContains(t, err.Error(), "PRIVATE KEY", "no key material in the message")
		})
	}
}

// writeKey writes the key of a fresh certificate and returns its path.
func writeKey(t *testing.T, dir string, ca *tlstest.CA) string {
	t.Helper()
	_, key := ca.Server(t).Write(t, dir, "other")
	return key
}

// fileKeys are the keys the FileErrors in err name, in order.
func fileKeys(err error) []string {
	var keys []string
	var walk func(error)
	walk = func(err error) {
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range joined.Unwrap() {
				walk(e)
			}
			return
		}
		if fe, ok := errors.AsType[*tlsconf.FileError](err); ok {
			keys = append(keys, fe.Key)
		}
	}
	walk(err)
	return keys
}

func TestClientTrustsPrivateCAAndPresentsCertificate(t *testing.T) {
	t.Parallel()
	ca := tlstest.NewCA(t, "district CA")
	srv := ca.MutualServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	files := ca.ClientFiles(t, t.TempDir())

	cfg, err := tlsconf.Client(files)
	require.NoError(t, err)
	_, body := get(t, &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}, srv.URL)
	require.Equal(t, "ok", body)

	noCert, err := tlsconf.Client(tlsconf.ClientFiles{CAFile: files.CAFile})
	require.NoError(t, err)
	_, _, err = fetch(&http.Client{Transport: &http.Transport{TLSClientConfig: noCert}}, srv.URL)
	require.Error(t, err, "the server requires a client certificate")

	_, _, err = fetch(http.DefaultClient, srv.URL)
	require.Error(t, err, "the system pool does not trust the private CA")

	none, err := tlsconf.Client(tlsconf.ClientFiles{})
	require.NoError(t, err)
	require.Nil(t, none)
}

func TestClientFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := tlstest.NewCA(t, "CA").ClientFiles(t, dir)
	_, err := tlsconf.Client(tlsconf.ClientFiles{CAFile: files.KeyFile, CertFile: files.CertFile})
	require.Equal(t, []string{tlsconf.KeyCAFile, tlsconf.KeyKeyFile}, fileKeys(err))
	_, err = tlsconf.Client(tlsconf.ClientFiles{KeyFile: files.KeyFile})
	require.Equal(t, []string{tlsconf.KeyCertFile}, fileKeys(err))
}
