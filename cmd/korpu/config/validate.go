package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/korpu-az/korpu/adapters/amqp"
	"github.com/korpu-az/korpu/adapters/document"
	"github.com/korpu-az/korpu/routers/tlog"
	"github.com/korpu-az/korpu/schemas"
)

// knownDistricts maps every ISO 3166-2:AZ code of the embedded district list
// to its Azerbaijani name.
var knownDistricts = sync.OnceValues(func() (map[string]string, error) {
	var list []struct {
		Code   string `json:"code"`
		NameAz string `json:"name_az"`
	}
	if err := json.Unmarshal(schemas.Districts, &list); err != nil {
		return nil, fmt.Errorf("embedded district list: %w", err)
	}
	known := make(map[string]string, len(list))
	for _, d := range list {
		known[d.Code] = d.NameAz
	}
	return known, nil
})

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// clock is a 24-hour "HH:MM"; zero-padded, so that strings compare as times.
var clock = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// convert validates raw and builds the effective Config, defaults applied,
// adding every problem to ps.
func (ps *problems) convert(raw *file, known map[string]string, services []string) *Config {
	cfg := &Config{
		AMQP:         AMQP{URL: ps.amqp(raw.AMQP.URL, raw.AMQP.URLs)},
		Postgres:     Postgres{URL: raw.Postgres.URL},
		HTTP:         HTTP{Listen: raw.HTTP.Listen},
		Registry:     Registry{URL: raw.Registry.URL, Token: raw.Registry.Token, AllowInsecureHTTP: raw.Registry.AllowInsecureHTTP},
		HolidaysFile: raw.HolidaysFile,
	}
	cfg.AMQP.QueueType, cfg.AMQP.DeliveryLimit = ps.queues(raw.AMQP.QueueType, raw.AMQP.DeliveryLimit)
	ps.postgresURL("postgres.url", raw.Postgres.URL)
	ps.listen("http.listen", raw.HTTP.Listen)
	cfg.HTTP.TLS = ps.serverTLS("http.tls", raw.HTTP.TLS)

	cfg.Portal = Portal{
		RequestsQueue: raw.Portal.RequestsQueue,
		StatusQueue:   raw.Portal.StatusQueue,
	}
	cfg.Portal.DetailsURL = ps.detailsURL("portal.details_url", raw.Portal.DetailsURL)
	ps.required("portal.requests_queue", raw.Portal.RequestsQueue)
	ps.required("portal.status_queue", raw.Portal.StatusQueue)
	if raw.Portal.RequestsQueue != "" && raw.Portal.RequestsQueue == raw.Portal.StatusQueue {
		ps.add("portal.status_queue", "must differ from portal.requests_queue")
	}
	cfg.Portal.SigningKeys = ps.signingKeys(raw.Portal.SigningKey, raw.Portal.SigningKeys)
	cfg.Access = ps.access(raw)
	if raw.Audit.CheckpointKey != nil {
		cfg.Audit.CheckpointKey = *raw.Audit.CheckpointKey
		if cfg.Audit.CheckpointKey == "" {
			ps.add("audit.checkpoint_key", "empty; remove the key to run without the log's checkpoints")
		}
	}
	if cfg.Audit.CheckpointKey != "" {
		ps.secret("audit.checkpoint_key", cfg.Audit.CheckpointKey)
		if _, err := tlog.NewSigner(cfg.Audit.CheckpointKey); err != nil {
			ps.add("audit.checkpoint_key", "%v", err) // the error never quotes the key
		}
	}

	ps.endpoint("registry.url", raw.Registry.URL, raw.Registry.AllowInsecureHTTP, "the registry token")
	ps.required("registry.token", raw.Registry.Token)
	cfg.Registry.TLS = ps.clientTLS("registry.tls", raw.Registry.TLS, raw.Registry.URL)
	ps.secret("registry.token", raw.Registry.Token)

	if raw.HolidaysFile != "" {
		if info, err := os.Stat(raw.HolidaysFile); err != nil { //nolint:gosec // G703: the operator's own file, named in the operator's config
			ps.add("holidays_file", "%v", err)
		} else if !info.Mode().IsRegular() {
			ps.add("holidays_file", "%s is not a regular file", raw.HolidaysFile)
		}
	}

	if raw.PopulationFile != "" {
		cfg.PopulationFile, cfg.Population = raw.PopulationFile, ps.population(raw.PopulationFile, known)
	}

	cfg.Hub = ps.hub(raw.Hub)

	if len(raw.Districts) == 0 {
		ps.add("districts", "at least one district is required")
	}
	codes := map[string]string{}     // district code → its path
	officials := map[string]string{} // official id → its path
	for i, rd := range raw.Districts {
		path := districtPath(i, rd.Code)
		d := ps.district(path, rd, known, services, officials)
		if d.Timeout == 0 {
			d.Timeout = cfg.Hub.DistrictTimeout
		}
		if d.Code != "" {
			if first, dup := codes[d.Code]; dup {
				ps.add(path+".code", "duplicate district %s (also at %s)", d.Code, first)
			} else {
				codes[d.Code] = path
			}
		}
		cfg.Districts = append(cfg.Districts, d)
	}
	ps.callbackCertNames(cfg)
	ps.checkSecrets()
	return cfg
}

// districtPath names district i in key paths, by its code if it has one.
func districtPath(i int, code string) string {
	if code == "" {
		return "districts[" + strconv.Itoa(i) + "]"
	}
	return "districts[" + code + "]"
}

// hub reads the hub map through Settings, defaults first.
func (ps *problems) hub(raw fileHub) Hub {
	var h Hub
	for _, s := range Settings {
		s.setDefault(&h)
		if v, ok := raw[s.Key]; ok && v != nil {
			if err := s.read(v, &h); err != nil {
				ps.add("hub."+s.Key, "%v", err)
			}
		}
	}
	// Compared with defaults applied: retry_initial: 10m alone is a mistake too.
	if h.RetryInitial > h.RetryMax {
		ps.add("hub.retry_max", "must not be shorter than hub.retry_initial (%s)", formatDuration(h.RetryInitial))
	}
	return h
}

func (ps *problems) district(path string, rd fileDistrict, known map[string]string, services []string, officials map[string]string) District {
	d := District{
		Code:              rd.Code,
		Name:              rd.Name,
		Adapter:           rd.Adapter,
		Endpoint:          rd.Endpoint,
		AllowInsecureHTTP: rd.AllowInsecureHTTP,
		Timeout:           ps.duration(path+".timeout", rd.Timeout),
	}
	switch name, ok := known[rd.Code]; {
	case rd.Code == "":
		ps.add(path+".code", "required")
	case !ok:
		ps.add(path+".code", "%q is not an ISO 3166-2:AZ district code of the embedded district list", rd.Code)
	case d.Name == "":
		d.Name = name
	}
	ps.endpoint(path+".endpoint", rd.Endpoint, rd.AllowInsecureHTTP, "the district's credentials and citizens' records")
	d.TLS = ps.clientTLS(path+".tls", rd.TLS, rd.Endpoint)

	// Keys of the other adapter are refused: they would be silently ignored.
	esdKeys := []optionalKey{{"username", rd.Username != nil}, {"password", rd.Password != nil}, {"poll_interval", rd.PollInterval != nil}}
	restKeys := []optionalKey{{"token", rd.Token != nil}, {"callback_token", rd.CallbackToken != nil}, {"callback_cert_name", rd.CallbackCertName != nil}}
	switch rd.Adapter {
	case AdapterESD:
		d.Username = ps.requiredPtr(path+".username", rd.Username)
		d.Password = ps.requiredPtr(path+".password", rd.Password)
		// The vendor's system sets the password's form: no length is
		// asked of it, but it must be no one else's secret.
		ps.secrets = append(ps.secrets, secret{path: path + ".password", value: d.Password, short: true})
		if rd.PollInterval == nil {
			ps.add(path+".poll_interval", "required")
		} else {
			d.PollInterval = ps.duration(path+".poll_interval", *rd.PollInterval)
		}
		ps.foreign(path, restKeys, AdapterESD)
	case AdapterREST:
		d.Token = ps.requiredPtr(path+".token", rd.Token)
		d.CallbackToken = ps.requiredPtr(path+".callback_token", rd.CallbackToken)
		if rd.CallbackCertName != nil {
			d.CallbackCertName = ps.requiredPtr(path+".callback_cert_name", rd.CallbackCertName)
		}
		ps.secret(path+".token", d.Token)
		ps.secret(path+".callback_token", d.CallbackToken)
		ps.foreign(path, esdKeys, AdapterREST)
	case "":
		ps.add(path+".adapter", "required: %s or %s", AdapterREST, AdapterESD)
	default:
		ps.add(path+".adapter", "%q is neither %s nor %s", rd.Adapter, AdapterREST, AdapterESD)
	}

	d.Services, d.AllServices = ps.services(path+".services", rd.Services, services)

	for i, ro := range rd.Officials {
		opath := fmt.Sprintf("%s.officials[%d]", path, i)
		o := Official{ID: ro.ID, Name: ro.Name, Position: ro.Position}
		switch first, dup := officials[ro.ID]; {
		case ro.ID == "":
			ps.add(opath+".id", "required")
		case dup:
			ps.add(opath+".id", "duplicate official id %s (also at %s)", ro.ID, first)
		default:
			officials[ro.ID] = opath
		}
		ps.required(opath+".name", ro.Name)
		o.Reception = ps.reception(opath+".reception", ro.Reception)
		d.Officials = append(d.Officials, o)
	}
	// Bookings name an official of the district: without one, every
	// reception-booking request there would be refused.
	if len(rd.Officials) == 0 && (d.AllServices || slices.Contains(d.Services, "reception-booking")) &&
		slices.Contains(services, "reception-booking") {
		ps.add(path+".officials", "required: the district offers reception-booking")
	}
	return d
}

// optionalKey is a key only one adapter uses, and whether the file sets it.
type optionalKey struct {
	name string
	set  bool
}

// foreign reports the keys set in the file that belong to another adapter.
func (ps *problems) foreign(path string, keys []optionalKey, adapter string) {
	for _, k := range keys {
		if k.set {
			ps.add(path+"."+k.name, "not used by adapter %s", adapter)
		}
	}
}

// services reads a district's services: the string "all" or a list of codes.
func (ps *problems) services(path string, raw any, valid []string) (codes []string, all bool) {
	switch v := raw.(type) {
	case nil:
		ps.add(path, `required: "all" or a list of service codes`)
	case string:
		if v != "all" {
			ps.add(path, `must be "all" or a list of service codes, not %q`, v)
		}
		return nil, v == "all"
	case []any:
		if len(v) == 0 {
			ps.add(path, "at least one service is required")
		}
		seen := map[string]bool{}
		for i, item := range v {
			ipath := fmt.Sprintf("%s[%d]", path, i)
			code, ok := item.(string)
			switch {
			case !ok:
				ps.add(ipath, "must be a service code")
			case !slices.Contains(valid, code):
				ps.add(ipath, "unknown service %q", code)
			case seen[code]:
				ps.add(ipath, "duplicate service %q", code)
			default:
				seen[code] = true
				codes = append(codes, code)
			}
		}
	default:
		ps.add(path, `must be "all" or a list of service codes`)
	}
	return codes, false
}

func (ps *problems) reception(path string, raw []fileReception) []ReceptionHours {
	if len(raw) == 0 {
		ps.add(path, "at least one reception session is required")
		return nil
	}
	var out []ReceptionHours
	for i, rr := range raw {
		rpath := fmt.Sprintf("%s[%d]", path, i)
		ok := true
		wd, known := weekdays[rr.Weekday]
		if !known {
			ps.add(rpath+".weekday", "%q is not one of monday … sunday (lowercase)", rr.Weekday)
			ok = false
		}
		for _, t := range []struct{ key, value string }{{"from", rr.From}, {"to", rr.To}} {
			if !clock.MatchString(t.value) {
				ps.add(rpath+"."+t.key, `%q is not a 24-hour time "HH:MM"`, t.value)
				ok = false
			}
		}
		if ok && rr.From >= rr.To {
			ps.add(rpath+".to", "must be later than from (%s)", rr.From)
			ok = false
		}
		switch {
		case rr.Capacity == nil:
			ps.add(rpath+".capacity", "required")
			ok = false
		case *rr.Capacity <= 0:
			ps.add(rpath+".capacity", "must be positive, not %d", *rr.Capacity)
			ok = false
		}
		if !ok {
			continue
		}
		r := ReceptionHours{Weekday: wd, From: rr.From, To: rr.To, Capacity: *rr.Capacity}
		for _, prev := range out {
			if prev.Weekday == r.Weekday && r.From < prev.To && prev.From < r.To {
				ps.add(rpath, "overlaps the %s session %s–%s", rr.Weekday, prev.From, prev.To)
			}
		}
		out = append(out, r)
	}
	return out
}

func (ps *problems) required(path, value string) {
	if value == "" {
		ps.add(path, "required")
	}
}

func (ps *problems) requiredPtr(path string, value *string) string {
	if value == nil || *value == "" {
		ps.add(path, "required")
		return ""
	}
	return *value
}

// detailsURL reads the portal's link to one appeal: absent takes
// DefaultDetailsURL; else what the printed appeal's QR code can carry.
func (ps *problems) detailsURL(path, value string) string {
	if value == "" {
		return DefaultDetailsURL
	}
	if err := document.CheckDetailsURL(value); err != nil {
		ps.add(path, "%v", err)
	}
	return value
}

// duration reads an optional Go duration; absent leaves 0.
func (ps *problems) duration(path, value string) time.Duration {
	if value == "" {
		return 0
	}
	d, err := positiveDuration(value)
	if err != nil {
		ps.add(path, "%s", err)
	}
	return d
}

// positiveDuration parses a duration of the operator's file, which must be
// more than zero.
func positiveDuration(value string) (time.Duration, error) {
	d, err := time.ParseDuration(value)
	switch {
	case err != nil:
		return d, fmt.Errorf("%q is not a duration like 5s or 2m", value)
	case d <= 0:
		return d, fmt.Errorf("must be positive, not %s", value)
	}
	return d, nil
}

// url checks that value is an absolute URL with one of the schemes and a
// host, and reports whether it is. Messages never quote the URL: it may
// carry a password.
func (ps *problems) url(path, value string, schemes ...string) bool {
	if value == "" {
		ps.add(path, "required")
		return false
	}
	u, err := url.Parse(value)
	if err != nil {
		// url.Error repeats the whole URL; its inner error does not.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		ps.add(path, "not a valid URL: %v", err)
		return false
	}
	ok := true
	if !slices.Contains(schemes, u.Scheme) {
		ps.add(path, "scheme must be %s://, not %q", strings.Join(schemes, ":// or "), u.Scheme)
		ok = false
	}
	if u.Host == "" {
		ps.add(path, "has no host")
		ok = false
	}
	return ok
}

// amqp checks amqp.url, or amqp.urls, and returns the broker's address.
func (ps *problems) amqp(one string, nodes []string) string {
	if len(nodes) == 0 {
		ps.url("amqp.url", one, "amqp", "amqps")
		return one
	}
	if one != "" {
		ps.add("amqp.urls", "set together with amqp.url: list every node in amqp.urls, or give one node as amqp.url alone")
		return ""
	}
	ok := true
	seen := map[string]string{} // host:port → its path
	for i, u := range nodes {
		path := fmt.Sprintf("amqp.urls[%d]", i)
		if !ps.url(path, u, "amqp", "amqps") {
			ok = false
			continue
		}
		parsed, _ := url.Parse(u)
		if first, dup := seen[parsed.Host]; dup {
			ps.add(path, "the same node as %s", first)
			ok = false
		}
		seen[parsed.Host] = path
	}
	if !ok {
		return ""
	}
	joined, err := amqp.JoinNodes(nodes...)
	if err != nil {
		// It names nodes by position and host, never their credentials.
		ps.add("amqp.urls", "%s", strings.TrimPrefix(err.Error(), "amqp: "))
		return ""
	}
	return joined
}

// endpoint checks the URL of a party the hub sends secrets to: https://, or
// http:// only where the operator consents with allow_insecure_http, so that
// no secret crosses the network in clear text by mistake. what names the
// secrets, for the message.
func (ps *problems) endpoint(path, value string, allowInsecure bool, what string) {
	if !ps.url(path, value, "http", "https") || allowInsecure {
		return
	}
	if u, _ := url.Parse(value); u.Scheme == "http" {
		allow := strings.TrimSuffix(path, ".url")
		allow = strings.TrimSuffix(allow, ".endpoint") + ".allow_insecure_http"
		ps.add(path, "http:// would send %s in clear text: use https://, or set %s: true for a trusted network", what, allow)
	}
}

// listen checks a host:port to listen on; the host may be empty (all
// interfaces) and the port 0 (any free one).
func (ps *problems) listen(path, value string) {
	if value == "" {
		ps.add(path, "required")
		return
	}
	_, port, err := net.SplitHostPort(value)
	if err != nil {
		ps.add(path, "%q is not host:port: %v", value, err)
		return
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		ps.add(path, "port %q is not a number 0–65535", port)
	}
}
