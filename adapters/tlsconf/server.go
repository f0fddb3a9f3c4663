package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"sync/atomic"
)

// ServerFiles are the files of the hub's HTTPS listener (http.tls).
type ServerFiles struct {
	// CertFile and KeyFile are the hub's certificate (its chain, leaf
	// first) and private key; both are required.
	CertFile, KeyFile string
	// ClientCAFile, if set, holds the CA certificates that district
	// callbacks' client certificates must chain to.
	ClientCAFile string
}

// Server is the TLS side of the hub's listener. Reload re-reads its files
// and swaps them in for the next handshakes; connections already open keep
// theirs. It is safe for concurrent use.
type Server struct {
	files   ServerFiles
	current atomic.Pointer[tls.Config]
}

// NewServer reads f; every problem is a *FileError.
func NewServer(f ServerFiles) (*Server, error) {
	s := &Server{files: f}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload re-reads the files. On any error the config in use stays as it
// was, and the error says which file is at fault.
func (s *Server) Reload() error {
	cfg, err := serverConfig(s.files)
	if err != nil {
		return err
	}
	s.current.Store(cfg)
	return nil
}

// Certificate is the leaf certificate served now.
func (s *Server) Certificate() *x509.Certificate { return s.current.Load().Certificates[0].Leaf }

// Config is the config to listen with. Each handshake takes the config that
// the last good Reload built, whole: GetConfigForClient swaps the
// certificate and the client CAs together, where GetCertificate alone could
// not swap the CAs that verify district certificates.
func (s *Server) Config() *tls.Config {
	return &tls.Config{
		MinVersion: MinVersion,
		NextProtos: nextProtos,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return s.current.Load(), nil
		},
	}
}

// nextProtos offers HTTP/2 and HTTP/1.1, as http.Server.ServeTLS would.
var nextProtos = []string{"h2", "http/1.1"}

func serverConfig(f ServerFiles) (*tls.Config, error) {
	var errs []error
	pair, err := readPair(f.CertFile, f.KeyFile)
	errs = append(errs, err)
	var pool *x509.CertPool
	if f.ClientCAFile != "" {
		pool, err = readPool(KeyClientCAFile, f.ClientCAFile)
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		MinVersion:   MinVersion,
		NextProtos:   nextProtos,
		Certificates: []tls.Certificate{*pair},
	}
	if pool != nil {
		// Given, a certificate must chain to the CA or the handshake fails;
		// not given is fine at this layer, for the portal and the monitors,
		// and the callback route refuses it (httpapi.RequireCallbackCert).
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
		cfg.ClientCAs = pool
	}
	return cfg, nil
}
