package esd

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"
)

// Defaults of Config.
const (
	// DefaultTimeout bounds one call when Config.Timeout is zero.
	DefaultTimeout = 15 * time.Second
	// DefaultMaxConcurrent is Config.MaxConcurrent when it is zero: old ESD
	// installations answer slowly and fall over under parallel load.
	DefaultMaxConcurrent = 4
	// DefaultMaxResponseBytes is Config.MaxResponseBytes when it is zero.
	DefaultMaxResponseBytes = 4 << 20
)

// Config is the connection to one district's ESD.
type Config struct {
	// Code is the district's code, e.g. AZ-BIL; it names the district in
	// logs and errors.
	Code string
	// Endpoint is the URL of the SOAP service, e.g. http://10.0.0.5/esd.
	Endpoint string
	// Username is the WS-Security user name of the hub.
	Username string
	// Password is sent as PasswordText. Secret: never logged.
	Password string
	// Timeout bounds one call, from waiting for a free slot to reading the
	// last byte of the answer. Default DefaultTimeout (15s).
	Timeout time.Duration
	// MaxConcurrent is how many calls may run at once against this
	// district. Default DefaultMaxConcurrent (4).
	MaxConcurrent int
	// MaxResponseBytes caps the answer read; a longer one is an error.
	// Default DefaultMaxResponseBytes (4 MiB).
	MaxResponseBytes int64
	// Now is the hub's clock: a Retry-After given as a date is read against
	// it. Default time.Now.
	Now func() time.Time
	// TLS, if set, is the client side of TLS to ESD: a private CA,
	// the hub's client certificate (tlsconf.Client). Nil: the system's
	// roots. Used only by the client New builds.
	TLS *tls.Config
}

func (c *Config) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = DefaultMaxConcurrent
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
}

// Validate reports every missing or malformed field at once.
func (c Config) Validate() error {
	var errs []error
	if c.Code == "" {
		errs = append(errs, errors.New("code is empty"))
	}
	if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("endpoint %q is not an http(s) URL", c.Endpoint))
	}
	if c.Username == "" {
		errs = append(errs, errors.New("username is empty"))
	}
	if c.Password == "" {
		errs = append(errs, errors.New("password is empty"))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %s is negative", c.Timeout))
	}
	if c.MaxConcurrent < 0 {
		errs = append(errs, fmt.Errorf("max concurrent %d is negative", c.MaxConcurrent))
	}
	if c.MaxResponseBytes < 0 {
		errs = append(errs, fmt.Errorf("max response bytes %d is negative", c.MaxResponseBytes))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("esd district %q: %w", c.Code, err)
	}
	return nil
}

// LogValue renders the configuration for logs with the password masked.
func (c Config) LogValue() slog.Value {
	password := ""
	if c.Password != "" {
		password = "***"
	}
	return slog.GroupValue(
		slog.String("code", c.Code),
		slog.String("endpoint", c.Endpoint),
		slog.String("username", c.Username),
		slog.String("password", password),
		slog.Duration("timeout", c.Timeout),
		slog.Int("max_concurrent", c.MaxConcurrent),
		slog.Int64("max_response_bytes", c.MaxResponseBytes),
	)
}
