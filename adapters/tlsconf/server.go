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
// (Use reads others) and swaps them in for the next handshakes; connections
// already open keep theirs. It is safe for concurrent use.
type Server struct {
	current atomic.Pointer[served]
}

// served is what one good read gave.
type served struct {
	files  ServerFiles
	config *tls.Config
}

// NewServer reads f; every problem is a *FileError.
func NewServer(f ServerFiles) (*Server, error) {
	s := &Server{}
	if err := s.Use(f); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload re-reads the files in use; see Use.
func (s *Server) Reload() error { return s.Use(s.current.Load().files) }

// Use reads f, such as the files of a config read again, and serves them
// from the next handshake on. On any error what is served stays as it was,
// files included, and the error says which file is at fault.
func (s *Server) Use(f ServerFiles) error {
	cfg, err := serverConfig(f)
	if err != nil {
		return err
	}
	s.current.Store(&served{files: f, config: cfg})
	return nil
}

// Certificate is the leaf certificate served now.
func (s *Server) Certificate() *x509.Certificate {
	return s.current.Load().config.Certificates[0].Leaf
}

// Config is the config to listen with. Each handshake takes the config that
// the last good Reload built, whole: GetConfigForClient swaps the
// certificate and the client CAs together, where GetCertificate alone could
// not swap the CAs that verify district certificates.
func (s *Server) Config() *tls.Config {
	return &tls.Config{
		MinVersion: MinVersion,
		NextProtos: nextProtos,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return s.current.Load().config, nil
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
