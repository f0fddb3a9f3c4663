package config

import (
	"log/slog"
	"net/url"
	"strings"

	"github.com/korpu-az/korpu/adapters/tlsconf"
)

// masked replaces every secret in the log.
const masked = "***"

// LogValue renders the effective config for the log with every secret
// masked: keys, tokens, passwords, and passwords in URLs. An absent optional
// token is logged empty, so the log shows which roles the HTTP API refuses.
// Its value receiver (like those of the parts below) keeps a Config logged by
// value masked too.
func (c Config) LogValue() slog.Value {
	parties := make([]slog.Attr, 0, len(c.Access))
	for _, p := range c.Access {
		parties = append(parties, slog.Any(p.Name, p))
	}
	districts := make([]slog.Attr, 0, len(c.Districts))
	for _, d := range c.Districts {
		districts = append(districts, slog.Any(d.Code, d))
	}
	return slog.GroupValue(
		slog.Any("amqp", c.AMQP),
		slog.Any("postgres", c.Postgres),
		slog.String("http_listen", c.HTTP.Listen),
		serverTLSAttr(c.HTTP.TLS),
		slog.Any("portal", c.Portal),
		slog.Attr{Key: "access", Value: slog.GroupValue(parties...)},
		slog.Any("registry", c.Registry),
		slog.Any("audit", c.Audit),
		slog.String("holidays_file", c.HolidaysFile),
		slog.String("population_file", c.PopulationFile),
		slog.Int("population_districts", len(c.Population)),
		slog.Any("hub", c.Hub),
		slog.Attr{Key: "districts", Value: slog.GroupValue(districts...)},
	)
}

// LogValue renders the broker's URL, or its nodes' URLs, with the
// passwords masked.
func (a AMQP) LogValue() slog.Value {
	nodes := strings.Fields(a.URL)
	broker := slog.String("url", maskURL(a.URL))
	if len(nodes) > 1 {
		for i, u := range nodes {
			nodes[i] = maskURL(u)
		}
		broker = slog.Any("urls", nodes)
	}
	return slog.GroupValue(broker,
		slog.String("queue_type", a.QueueType),
		slog.Int("delivery_limit", a.DeliveryLimit),
	)
}

// LogValue renders the database's URL with its password masked.
func (p Postgres) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", maskURL(p.URL)))
}

// LogValue renders the portal's settings with the keys masked, by id.
func (p Portal) LogValue() slog.Value {
	keys := make([]slog.Attr, 0, len(p.SigningKeys))
	for _, k := range p.SigningKeys {
		keys = append(keys, slog.String(k.ID, mask(k.Key)))
	}
	return slog.GroupValue(
		slog.String("requests_queue", p.RequestsQueue),
		slog.String("status_queue", p.StatusQueue),
		slog.String("details_url", p.DetailsURL),
		slog.Attr{Key: "signing_keys", Value: slog.GroupValue(keys...)})
}

// LogValue renders a party of the access list with its token masked.
func (p Party) LogValue() slog.Value {
	return slog.GroupValue(slog.String("role", string(p.Role)), slog.String("token", mask(p.Token)))
}

// LogValue renders the log's signing with the key masked.
func (a Audit) LogValue() slog.Value {
	return slog.GroupValue(slog.String("checkpoint_key", mask(a.CheckpointKey)))
}

// LogValue renders the registry's settings with the token masked.
func (r Registry) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", maskURL(r.URL)),
		slog.Bool("allow_insecure_http", r.AllowInsecureHTTP),
		slog.String("token", mask(r.Token)),
		clientTLSAttr(r.TLS))
}

// LogValue renders the hub's tuning, every key of Settings.
func (h Hub) LogValue() slog.Value {
	attrs := make([]slog.Attr, len(Settings))
	for i, s := range Settings {
		attrs[i] = s.logAttr(h)
	}
	return slog.GroupValue(attrs...)
}

// LogValue renders a district with its password and tokens masked and its
// officials by id.
func (d District) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("name", d.Name),
		slog.String("adapter", d.Adapter),
		slog.String("endpoint", maskURL(d.Endpoint)),
		slog.Bool("allow_insecure_http", d.AllowInsecureHTTP),
		slog.Duration("timeout", d.Timeout),
	}
	switch d.Adapter {
	case AdapterESD:
		attrs = append(attrs,
			slog.String("username", d.Username),
			slog.String("password", mask(d.Password)),
			slog.Duration("poll_interval", d.PollInterval))
	case AdapterREST:
		attrs = append(attrs,
			slog.String("token", mask(d.Token)),
			slog.String("callback_token", mask(d.CallbackToken)))
		if d.CallbackCertName != "" {
			attrs = append(attrs, slog.String("callback_cert_name", d.CallbackCertName))
		}
	}
	if !d.TLS.IsZero() {
		attrs = append(attrs, clientTLSAttr(d.TLS))
	}
	if d.AllServices {
		attrs = append(attrs, slog.String("services", "all"))
	} else {
		attrs = append(attrs, slog.Any("services", d.Services))
	}
	officials := make([]string, 0, len(d.Officials))
	for _, o := range d.Officials {
		officials = append(officials, o.ID)
	}
	return slog.GroupValue(append(attrs, slog.Any("officials", officials))...)
}

// serverTLSAttr is http.tls: the files' paths, which are no secret; an
// empty group, which slog leaves out, when absent.
func serverTLSAttr(f *tlsconf.ServerFiles) slog.Attr {
	if f == nil {
		return slog.Attr{Key: "http_tls", Value: slog.GroupValue()}
	}
	return slog.Attr{Key: "http_tls", Value: slog.GroupValue(slog.String("cert_file", f.CertFile),
		slog.String("key_file", f.KeyFile), slog.String("client_ca_file", f.ClientCAFile))}
}

// clientTLSAttr is a tls map of the registry or a district.
func clientTLSAttr(f tlsconf.ClientFiles) slog.Attr {
	return slog.Attr{Key: "tls", Value: slog.GroupValue(slog.String("ca_file", f.CAFile),
		slog.String("cert_file", f.CertFile), slog.String("key_file", f.KeyFile))}
}

// mask hides a secret; an empty one stays empty.
func mask(secret string) string {
	if secret == "" {
		return ""
	}
	return masked
}

// maskURL hides the password of a URL's userinfo and the values of query
// parameters that carry secrets (libpq's password=, for one).
func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return mask(raw)
	}
	if u.RawQuery != "" {
		params := strings.Split(u.RawQuery, "&")
		for i, p := range params {
			if name, _, _ := strings.Cut(p, "="); secretParam(name) {
				params[i] = name + "=" + masked
			}
		}
		u.RawQuery = strings.Join(params, "&")
	}
	if u.User == nil {
		return u.String()
	}
	// Built by hand: url.UserPassword would escape the mask to %2A%2A%2A.
	user := url.User(u.User.Username()).String()
	if _, ok := u.User.Password(); ok {
		user += ":" + masked
	}
	u.User = nil
	return u.Scheme + "://" + user + "@" + strings.TrimPrefix(u.String(), u.Scheme+"://")
}

// secretParam reports whether a URL query parameter carries a secret.
func secretParam(name string) bool {
	name = strings.ToLower(name)
	for _, s := range []string{"pass", "secret", "token"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}
