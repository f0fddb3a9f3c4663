package registry

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Config configures a Client. The zero value of every optional field means its default.
type Config struct {
	// URL is the registry's base URL, e.g. "https://registry.example.az"; required.
	URL string
	// Token is the bearer token the registry issued to the hub; required.
	Token string
	// Timeout bounds one HTTP request to the registry. Default 5s.
	Timeout time.Duration
	// MaxConcurrent is the most requests in flight to the registry at once. Default 8.
	MaxConcurrent int
	// CacheTTL is how long a person's record is served from memory. Default 5m.
	CacheTTL time.Duration
	// NotFoundTTL is how long a 404 is remembered; it is shorter than
	// CacheTTL because a newly issued FİN must become visible soon. Default 1m,
	// and never longer than CacheTTL.
	NotFoundTTL time.Duration
	// CacheSize is the most answers (records and 404s) kept. Default 10000.
	CacheSize int
	// Now is the hub's clock: the registry's hold-off, a Retry-After date
	// and a remembered 404 are measured on it. Default time.Now.
	Now func() time.Time
	// TLS, if set, is the client side of TLS to the registry: a private CA,
	// the hub's client certificate (tlsconf.Client). Nil: the system's
	// roots. Used only by the client New builds.
	TLS *tls.Config
}

// Defaults of Config.
const (
	DefaultTimeout       = 5 * time.Second
	DefaultMaxConcurrent = 8
	DefaultCacheTTL      = 5 * time.Minute
	DefaultNotFoundTTL   = time.Minute
	DefaultCacheSize     = 10000
)

func (c *Config) setDefaults() {
	c.URL = strings.TrimRight(c.URL, "/")
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = DefaultMaxConcurrent
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = DefaultCacheTTL
	}
	if c.NotFoundTTL == 0 {
		c.NotFoundTTL = min(DefaultNotFoundTTL, c.CacheTTL)
	}
	if c.CacheSize == 0 {
		c.CacheSize = DefaultCacheSize
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports every problem of a Config whose defaults are set.
func (c Config) Validate() error {
	var errs []error
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		errs = append(errs, errors.New("registry url is required"))
	case err != nil:
		errs = append(errs, fmt.Errorf("registry url: %w", err))
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		errs = append(errs, fmt.Errorf("registry url %q must be an absolute http(s) URL", c.URL))
	}
	if c.Token == "" {
		errs = append(errs, errors.New("registry token is required"))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("registry timeout %s must be positive", c.Timeout))
	}
	if c.MaxConcurrent < 0 {
		errs = append(errs, fmt.Errorf("registry max_concurrent %d must be positive", c.MaxConcurrent))
	}
	if c.CacheTTL < 0 {
		errs = append(errs, fmt.Errorf("registry cache_ttl %s must be positive", c.CacheTTL))
	}
	if c.NotFoundTTL < 0 || c.NotFoundTTL > c.CacheTTL {
		errs = append(errs, fmt.Errorf("registry not_found_ttl %s must be positive and at most cache_ttl %s", c.NotFoundTTL, c.CacheTTL))
	}
	if c.CacheSize < 0 {
		errs = append(errs, fmt.Errorf("registry cache_size %d must be positive", c.CacheSize))
	}
	return errors.Join(errs...)
}
