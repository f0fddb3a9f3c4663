// Package tlsconf reads the operator's TLS files (contract §6, http.tls and
// the tls maps of the registry and the districts) into crypto/tls configs:
// the hub's own HTTPS listener, whose certificate can be swapped while it
// serves, and the client side of its calls to outside systems.
//
// Every failure is a *FileError naming the key of the file at fault
// (cert_file, key_file, ca_file, client_ca_file), so that the config can
// report it at its key path. No error quotes a file's content: a key file
// holds a secret.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// The keys of the operator's file, as FileError.Key names them.
const (
	KeyCertFile     = "cert_file"
	KeyKeyFile      = "key_file"
	KeyCAFile       = "ca_file"
	KeyClientCAFile = "client_ca_file"
)

// MinVersion is the oldest TLS version the hub speaks, either side: TLS 1.0
// and 1.1 are deprecated (RFC 8996).
const MinVersion = tls.VersionTLS12

// FileError is a TLS file that cannot be used.
type FileError struct {
	Key  string // KeyCertFile …
	Path string
	Err  error
}

func (e *FileError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s: %v", e.Key, e.Err)
	}
	return fmt.Sprintf("%s %s: %v", e.Key, e.Path, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// ClientFiles are the files of the hub's calls to one outside system. The
// zero value is plain TLS with the system's roots and no client certificate.
type ClientFiles struct {
	// CAFile holds the PEM certificates of a private CA. When set, they are
	// the only roots trusted for this system, instead of the system pool: a
	// district on a private CA must not be impersonated by a certificate any
	// public CA may issue for its host name.
	CAFile string
	// CertFile and KeyFile are a client certificate the hub presents; both
	// or neither.
	CertFile, KeyFile string
}

// IsZero reports whether no file is set.
func (f ClientFiles) IsZero() bool { return f == ClientFiles{} }

// Client reads f into the TLS config of calls to one system; nil when f is
// zero, for Go's defaults.
func Client(f ClientFiles) (*tls.Config, error) {
	if f.IsZero() {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: MinVersion}
	var errs []error
	if f.CAFile != "" {
		pool, err := readPool(KeyCAFile, f.CAFile)
		errs = append(errs, err)
		cfg.RootCAs = pool
	}
	if f.CertFile != "" || f.KeyFile != "" {
		pair, err := readPair(f.CertFile, f.KeyFile)
		errs = append(errs, err)
		if pair != nil {
			cfg.Certificates = []tls.Certificate{*pair}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cfg, nil
}

// readPair reads a certificate and its private key, naming the file at
// fault: the key file when the key does not match the certificate.
func readPair(certFile, keyFile string) (*tls.Certificate, error) {
	var errs []error
	switch {
	case certFile == "":
		errs = append(errs, &FileError{Key: KeyCertFile, Err: errors.New("required with key_file")})
	case keyFile == "":
		errs = append(errs, &FileError{Key: KeyKeyFile, Err: errors.New("required with cert_file")})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	certPEM, err := readCerts(KeyCertFile, certFile)
	if err != nil {
		errs = append(errs, err)
	}
	keyPEM, err := readFile(KeyKeyFile, keyFile)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// The certificate parsed above, so the key is at fault. crypto/tls's
		// messages name no key material.
		return nil, &FileError{Key: KeyKeyFile, Path: keyFile, Err: fmt.Errorf("%w (certificate %s)", err, certFile)}
	}
	return &pair, nil
}

// readCerts reads a PEM file that must hold at least one certificate, all
// of them parseable, and returns its content.
func readCerts(key, path string) ([]byte, error) {
	data, err := readFile(key, path)
	if err != nil {
		return nil, err
	}
	n := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return nil, &FileError{Key: key, Path: path, Err: err}
		}
		n++
	}
	if n == 0 {
		return nil, &FileError{Key: key, Path: path, Err: errors.New("no PEM certificate in the file")}
	}
	return data, nil
}

// readFile reads the file of key.
func readFile(key, path string) ([]byte, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the operator's own file, named in the operator's config
	if err != nil {
		// The path is the FileError's already.
		if pe, ok := errors.AsType[*fs.PathError](err); ok {
			err = fmt.Errorf("%s: %w", pe.Op, pe.Err)
		}
		return nil, &FileError{Key: key, Path: path, Err: err}
	}
	return data, nil
}

// readPool reads a PEM file of CA certificates into a pool.
func readPool(key, path string) (*x509.CertPool, error) {
	data, err := readCerts(key, path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(data)
	return pool, nil
}
