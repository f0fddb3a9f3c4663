package config

import (
	"errors"
	"net/url"

	"github.com/korpu-az/korpu/adapters/tlsconf"
)

// fileServerTLS is http.tls.
type fileServerTLS struct {
	CertFile     string `yaml:"cert_file"`
	KeyFile      string `yaml:"key_file"`
	ClientCAFile string `yaml:"client_ca_file"`
}

// fileClientTLS is the tls map of the registry and of a district.
type fileClientTLS struct {
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// serverTLS reads http.tls and checks its files as the listener will read
// them; nil when absent.
func (ps *problems) serverTLS(path string, raw *fileServerTLS) *tlsconf.ServerFiles {
	if raw == nil {
		return nil
	}
	files := &tlsconf.ServerFiles{CertFile: raw.CertFile, KeyFile: raw.KeyFile, ClientCAFile: raw.ClientCAFile}
	ps.required(path+"."+tlsconf.KeyCertFile, raw.CertFile)
	ps.required(path+"."+tlsconf.KeyKeyFile, raw.KeyFile)
	if raw.CertFile != "" && raw.KeyFile != "" {
		_, err := tlsconf.NewServer(*files)
		ps.tlsFiles(path, err)
	}
	return files
}

// clientTLS reads the tls map of a party the hub calls at endpoint and
// checks its files as the client will read them.
func (ps *problems) clientTLS(path string, raw *fileClientTLS, endpoint string) tlsconf.ClientFiles {
	if raw == nil {
		return tlsconf.ClientFiles{}
	}
	files := tlsconf.ClientFiles{CAFile: raw.CAFile, CertFile: raw.CertFile, KeyFile: raw.KeyFile}
	if files.IsZero() {
		ps.add(path, "empty: set ca_file, or cert_file and key_file, or remove the key")
		return files
	}
	if u, err := url.Parse(endpoint); err == nil && u.Scheme == "http" {
		ps.add(path, "set, but the URL is http://: TLS needs https://")
	}
	_, err := tlsconf.Client(files)
	ps.tlsFiles(path, err)
	return files
}

// tlsFiles adds each file error in err at the key of its file under path.
func (ps *problems) tlsFiles(path string, err error) {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			ps.tlsFiles(path, e)
		}
		return
	}
	if fe, ok := errors.AsType[*tlsconf.FileError](err); ok {
		if fe.Path == "" {
			ps.add(path+"."+fe.Key, "%v", fe.Err)
		} else {
			ps.add(path+"."+fe.Key, "%s: %v", fe.Path, fe.Err)
		}
	} else if err != nil {
		ps.add(path, "%v", err)
	}
}

// callbackCertNames checks that a district's callback_cert_name can be
// verified: only a client CA makes the hub verify callers' certificates.
func (ps *problems) callbackCertNames(cfg *Config) {
	if cfg.HTTP.TLS != nil && cfg.HTTP.TLS.ClientCAFile != "" {
		return
	}
	for i, d := range cfg.Districts {
		if d.CallbackCertName != "" {
			ps.add(districtPath(i, d.Code)+".callback_cert_name", "needs http.tls.client_ca_file, which verifies the certificate")
		}
	}
}
