package config

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Settings are the keys of the file's hub map, in the README's order. This
// table is the one place where a tuning key's name, default, bounds and
// meaning are written: decoding and validation, the effective-config log and
// korpu bench's --hub-tuning read it, the README's table is generated from it
// (go test ./cmd/korpu/config -update), and tests prove the README and the
// wiring into the hub agree with it.
//
// Every count must be positive, every duration positive, every name
// non-empty; an absent key takes its default.
var Settings = []Setting{
	setting("intake_consumers", 16, "handlers consuming the portal's requests queue",
		func(h *Hub) *int { return &h.IntakeConsumers }),
	setting("delivery_consumers", 2, "handlers per district delivering appeals to it",
		func(h *Hub) *int { return &h.DeliveryConsumers }),
	setting("registry_timeout", 5*time.Second, "one call to the ID-card registry",
		func(h *Hub) *time.Duration { return &h.RegistryTimeout }),
	setting("registry_concurrency", 8, "registry calls in flight at most",
		func(h *Hub) *int { return &h.RegistryConcurrency }),
	setting("registry_cache_ttl", 5*time.Minute, "how long a registry answer is reused",
		func(h *Hub) *time.Duration { return &h.RegistryCacheTTL }),
	setting("district_timeout", 10*time.Second, "one call to a district system; a district's own `timeout` overrides it",
		func(h *Hub) *time.Duration { return &h.DistrictTimeout }),
	setting("retry_initial", time.Second, "first back-off of a failed delivery",
		func(h *Hub) *time.Duration { return &h.RetryInitial }),
	setting("retry_max", 5*time.Minute, "longest back-off of a failed delivery; not shorter than `retry_initial`",
		func(h *Hub) *time.Duration { return &h.RetryMax }),
	setting("retry_max_attempts", 100, "transient failures of one delivery before it is dead-lettered",
		func(h *Hub) *int { return &h.RetryMaxAttempts }),
	setting("retry_max_age", 72*time.Hour, "a delivery still failing this long after the appeal arrived is dead-lettered",
		func(h *Hub) *time.Duration { return &h.RetryMaxAge }),
	setting("breaker_failures", 5, "consecutive transient failures that open a district's circuit breaker",
		func(h *Hub) *int { return &h.BreakerFailures }),
	setting("breaker_cooldown", 30*time.Second, "how long an open breaker waits before letting a probe through",
		func(h *Hub) *time.Duration { return &h.BreakerCooldown }),
	setting("reconcile_after", time.Hour, "an appeal unchanged this long is checked with its (ESD) district",
		func(h *Hub) *time.Duration { return &h.ReconcileAfter }),
	setting("reconcile_interval", time.Minute, "how often such appeals are looked for",
		func(h *Hub) *time.Duration { return &h.ReconcileInterval }),
	setting("poison_queue", "korpu.poison", "where messages that must not be retried go",
		func(h *Hub) *string { return &h.PoisonQueue }),
	setting("district_queue_prefix", "korpu.district.", "a district's delivery queue is this prefix and its code",
		func(h *Hub) *string { return &h.DistrictQueuePrefix }),
	setting("relay_batch", 200, "outbox rows published per relay round",
		func(h *Hub) *int { return &h.RelayBatch }),
	setting("oversight_queue", "korpu.oversight", "where each crossing of an open appeal into due soon or overdue is published, one event, for notifiers",
		func(h *Hub) *string { return &h.OversightQueue }),
	setting("oversight_interval", time.Minute, "how often each hub looks for such crossings",
		func(h *Hub) *time.Duration { return &h.OversightInterval }),
	setting("checkpoint_queue", "korpu.checkpoints", "where each signed checkpoint of the transparency log is published, for monitors to keep",
		func(h *Hub) *string { return &h.CheckpointQueue }),
	setting("checkpoint_interval", time.Minute, "how often the transparency log is signed (one checkpoint across hubs, none if the log has not grown)",
		func(h *Hub) *time.Duration { return &h.CheckpointInterval }),
	setting("auth_failure_burst", 10, "failed authentications a source (IP address, IPv6 /64) may make in a row on one route of the API or dashboard before it gets 429",
		func(h *Hub) *int { return &h.AuthFailureBurst }),
	setting("auth_failure_refill", 10*time.Second, "after each, how long until the source may fail once more",
		func(h *Hub) *time.Duration { return &h.AuthFailureRefill }),
}

// Setting is one key of the hub map; see Settings.
type Setting struct {
	// Key is the key under hub:, e.g. intake_consumers.
	Key string
	// Doc says what it tunes, in one line.
	Doc string

	def   any            // int, time.Duration or string: also the kind of the value
	field func(*Hub) any // the field of Hub it fills: *int, *time.Duration or *string
	kind  string         // what a value must be, for messages
}

// value is one of the kinds of value a setting takes.
type value interface{ int | time.Duration | string }

func setting[T value](key string, def T, doc string, field func(*Hub) *T) Setting {
	s := Setting{Key: key, Doc: doc, def: def, field: func(h *Hub) any { return field(h) }}
	switch any(def).(type) {
	case int:
		s.kind = "a positive whole number"
	case time.Duration:
		s.kind = "a positive duration like 5s or 2m"
	case string:
		s.kind = "a non-empty name"
	}
	return s
}

// Default is the default as written in the file, e.g. 16, 5m, korpu.poison.
func (s Setting) Default() string { return format(s.def) }

func deref(p any) any {
	switch p := p.(type) {
	case *int:
		return *p
	case *time.Duration:
		return *p
	case *string:
		return *p
	}
	panic(fmt.Sprintf("config: setting of type %T", p))
}

func format(v any) string {
	switch v := v.(type) {
	case int:
		return strconv.Itoa(v)
	case time.Duration:
		return formatDuration(v)
	case string:
		return v
	}
	panic(fmt.Sprintf("config: setting of type %T", v))
}

// formatDuration writes d as an operator would: 5m and 72h, not 5m0s and 72h0m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// setDefault puts the default into h.
func (s Setting) setDefault(h *Hub) {
	switch p := s.field(h).(type) {
	case *int:
		*p = s.def.(int)
	case *time.Duration:
		*p = s.def.(time.Duration)
	case *string:
		*p = s.def.(string)
	}
}

// read checks raw, the value the YAML decoder gave (an integer type, a
// string, or anything an operator may write), and stores it in h. A count
// or duration may come as a string, so that ${NAME} can set it.
func (s Setting) read(raw any, h *Hub) error {
	bad := fmt.Errorf("must be %s, not %s", s.kind, describe(raw))
	switch p := s.field(h).(type) {
	case *int:
		n, ok := wholeNumber(raw)
		if !ok {
			return bad
		}
		if n <= 0 {
			return fmt.Errorf("must be positive, not %d", n)
		}
		*p = n
	case *time.Duration:
		str, ok := raw.(string)
		if !ok {
			return bad
		}
		d, err := positiveDuration(str)
		if err != nil {
			return err
		}
		*p = d
	case *string:
		str, ok := raw.(string)
		if !ok {
			return bad
		}
		if str == "" {
			return fmt.Errorf("required: %s", s.kind)
		}
		*p = str
	}
	return nil
}

// wholeNumber reads an int from what the YAML decoder gives for 16, -1 or "16".
func wholeNumber(raw any) (int, bool) {
	switch v := raw.(type) {
	case uint64:
		if v > uint64(int(^uint(0)>>1)) {
			return 0, false
		}
		return int(v), true
	case int64:
		return int(v), true
	case int:
		return v, true
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		return n, err == nil
	}
	return 0, false
}

// describe names what the operator wrote, briefly: never a long value.
func describe(raw any) string {
	switch v := raw.(type) {
	case string:
		if len(v) > 40 {
			return "a long string"
		}
		return strconv.Quote(v)
	case bool:
		return strconv.FormatBool(v)
	case uint64:
		return strconv.FormatUint(v, 10)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T", raw)
}

// logAttr is the setting's value in h for the effective-config log.
func (s Setting) logAttr(h Hub) slog.Attr {
	switch v := deref(s.field(&h)).(type) {
	case int:
		return slog.Int(s.Key, v)
	case time.Duration:
		return slog.Duration(s.Key, v)
	default:
		return slog.String(s.Key, v.(string))
	}
}

// settingOf returns the setting of key.
func settingOf(key string) (Setting, bool) {
	for _, s := range Settings {
		if s.Key == key {
			return s, true
		}
	}
	return Setting{}, false
}

// ParseTuning reads the inside of a hub map written inline, such as
// "intake_consumers: 32, relay_batch: 500" (korpu bench's --hub-tuning), by
// the rules of the file; absent keys take their defaults. ${NAME} is not
// expanded.
func ParseTuning(body string) (Hub, error) {
	raw, ps, err := decode([]byte("hub: {"+body+"}\n"), func(string) (string, bool) { return "", false })
	if err != nil {
		return Hub{}, err
	}
	h := ps.hub(raw.Hub)
	if len(ps.list) > 0 {
		return Hub{}, &ValidationError{Problems: ps.list}
	}
	return h, nil
}
