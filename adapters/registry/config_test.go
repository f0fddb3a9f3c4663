package registry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := Config{URL: "http://registry.test/", Token: "t"}
	c.setDefaults()
	require.NoError(t, c.Validate())
	require.NotNil(t, c.Now, "the clock defaults to the machine's")
	c.Now = nil // funcs do not compare
	require.Equal(t, Config{
		URL:           "http://registry.test",
		Token:         "t",
		Timeout:       5 * time.Second,
		MaxConcurrent: 8,
		CacheTTL:      5 * time.Minute,
		NotFoundTTL:   time.Minute,
		CacheSize:     10000,
	}, c)

	short := Config{URL: "http://registry.test", Token: "t", CacheTTL: 10 * time.Second}
	short.setDefaults()
	require.Equal(t, 10*time.Second, short.NotFoundTTL, "a 404 is never remembered longer than a record")
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"MissingURL", func(c *Config) { c.URL = "" }, "url is required"},
		{"RelativeURL", func(c *Config) { c.URL = "registry.test/v1" }, "absolute http(s) URL"},
		{"FTPURL", func(c *Config) { c.URL = "ftp://registry.test" }, "absolute http(s) URL"},
		{"MissingToken", func(c *Config) { c.Token = "" }, "token is required"},
		{"NegativeTimeout", func(c *Config) { c.Timeout = -time.Second }, "timeout"},
		{"NegativeConcurrency", func(c *Config) { c.MaxConcurrent = -1 }, "max_concurrent"},
		{"NegativeTTL", func(c *Config) { c.CacheTTL = -time.Second }, "cache_ttl"},
		{"NotFoundOutlivesRecords", func(c *Config) { c.NotFoundTTL = time.Hour }, "not_found_ttl"},
		{"NegativeSize", func(c *Config) { c.CacheSize = -1 }, "cache_size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Config{URL: "https://registry.test", Token: "t"}
			c.setDefaults()
			tt.change(&c)
			require.ErrorContains(t, c.Validate(), tt.want)
		})
	}
}
