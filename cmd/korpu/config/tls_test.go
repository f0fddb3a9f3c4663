package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/tlsconf"
	"github.com/korpu-az/korpu/adapters/tlsconf/tlstest"
)

// tlsFiles are real certificate files for a config, made in the test.
type tlsFiles struct {
	dir, caFile, certFile, keyFile, otherKey string
}

func newTLSFiles(t *testing.T) tlsFiles {
	t.Helper()
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "test CA")
	f := tlsFiles{dir: dir, caFile: ca.WriteCert(t, dir, "ca")}
	f.certFile, f.keyFile = ca.Server(t).Write(t, dir, "hub")
	_, f.otherKey = ca.Server(t).Write(t, dir, "other")
	return f
}

// withTLS is the example with http.tls, the registry's and AZ-SAT's tls
// maps, and AZ-SAT's callback_cert_name, over https://.
func withTLS(t *testing.T, f tlsFiles) string {
	t.Helper()
	src := example(t)
	src = edit(t, src, "  listen: 127.0.0.1:8080\n", "  listen: 127.0.0.1:8443\n  tls:\n"+
		"    cert_file: "+f.certFile+"\n    key_file: "+f.keyFile+"\n    client_ca_file: "+f.caFile+"\n")
	src = edit(t, src, "  url: http://127.0.0.1:18081\n", "  url: https://registry.example.az\n"+
		"  tls: { ca_file: "+f.caFile+", cert_file: "+f.certFile+", key_file: "+f.keyFile+" }\n")
	return edit(t, src, "    endpoint: http://127.0.0.1:18091\n", "    endpoint: https://sat.example.az/api\n"+
		"    tls: { ca_file: "+f.caFile+" }\n    callback_cert_name: sat.example.az\n")
}

func TestParseTLS(t *testing.T) {
	t.Parallel()
	f := newTLSFiles(t)
	cfg, err := Parse([]byte(withTLS(t, f)), lookup(exampleEnv()), services)
	require.NoError(t, err)
	require.Equal(t, &tlsconf.ServerFiles{CertFile: f.certFile, KeyFile: f.keyFile, ClientCAFile: f.caFile}, cfg.HTTP.TLS)
	require.Equal(t, tlsconf.ClientFiles{CAFile: f.caFile, CertFile: f.certFile, KeyFile: f.keyFile}, cfg.Registry.TLS)
	require.Equal(t, tlsconf.ClientFiles{CAFile: f.caFile}, cfg.Districts[1].TLS)
	require.Equal(t, "sat.example.az", cfg.Districts[1].CallbackCertName)
	require.True(t, cfg.Districts[0].TLS.IsZero())

	plain, err := Parse([]byte(example(t)), lookup(exampleEnv()), services)
	require.NoError(t, err)
	require.Nil(t, plain.HTTP.TLS, "no http.tls: plain HTTP")
}

func TestParseTLSProblems(t *testing.T) {
	t.Parallel()
	f := newTLSFiles(t)
	missing := filepath.Join(f.dir, "missing.crt")
	for name, tc := range map[string]struct {
		old, replacement string
		key, message     string
	}{
		"KeyNotMatchingCert": {"    key_file: " + f.keyFile + "\n", "    key_file: " + f.otherKey + "\n",
			"http.tls.key_file", f.otherKey + ": tls: private key does not match public key (certificate " + f.certFile + ")"},
		"NoKeyFile": {"    key_file: " + f.keyFile + "\n", "",
			"http.tls.key_file", "required"},
		"MissingClientCA": {"client_ca_file: " + f.caFile + "\n", "client_ca_file: " + missing + "\n",
			"http.tls.client_ca_file", missing + ": open: no such file or directory"},
		"KeyAsCA": {"  tls: { ca_file: " + f.caFile + ", cert", "  tls: { ca_file: " + f.keyFile + ", cert",
			"registry.tls.ca_file", f.keyFile + ": no PEM certificate in the file"},
		"CertWithoutKey": {", cert_file: " + f.certFile + ", key_file: " + f.keyFile + " }", ", cert_file: " + f.certFile + " }",
			"registry.tls.key_file", "required with cert_file"},
		"OverHTTP": {"    endpoint: https://sat.example.az/api\n", "    endpoint: http://127.0.0.1:18091\n",
			"districts[AZ-SAT].tls", "set, but the URL is http://: TLS needs https://"},
		"EmptyMap": {"    tls: { ca_file: " + f.caFile + " }\n", "    tls: {}\n",
			"districts[AZ-SAT].tls", "empty: set ca_file, or cert_file and key_file, or remove the key"},
		"UnknownKey": {"    tls: { ca_file: " + f.caFile + " }\n", "    tls: { ca_file: " + f.caFile + ", ca: x }\n",
			"districts[AZ-SAT].tls.ca", `unknown key "ca"`},
		"CertNameWithoutClientCA": {"    client_ca_file: " + f.caFile + "\n", "",
			"districts[AZ-SAT].callback_cert_name", "needs http.tls.client_ca_file, which verifies the certificate"},
		"CertNameOnESD": {"    poll_interval: 5s", "    callback_cert_name: bil.example.az\n    poll_interval: 5s",
			"districts[AZ-BIL].callback_cert_name", "not used by adapter esd"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src := edit(t, withTLS(t, f), tc.old, tc.replacement)
			problems := problemsOf(t, src, exampleEnv())
			require.Len(t, problems, 1, "%v", problems)
			require.Equal(t, tc.key, problems[0].Key)
			require.Equal(t, tc.message, problems[0].Message)
			require.Positive(t, problems[0].Line)
			require.False(t, strings.Contains(problems[0].Message, "PRIVATE KEY"))
		})
	}
}
