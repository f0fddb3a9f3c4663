// Package config reads the operator's YAML file that configures one hub
// process (contract §6, korpu.example.yaml): broker, database, HTTP listener,
// portal keys and tokens, registry, tuning of the hub, and the table of
// districts with their officials and reception hours.
//
// Parse expands ${NAME} in values from the environment, decodes the file, and
// validates it as a whole: every problem (unknown key, missing or malformed
// value, unknown district or service, clashing officials …) is collected and
// returned together in one *ValidationError, each naming its key path, e.g.
// districts[AZ-SAT].officials[0].reception[1].weekday, and its line.
//
// # Optional keys beyond the example
//
//	holidays_file: /etc/korpu/holidays.json  # operator's holidays JSON that adds years; must exist if set
//	hub:
//	  intake_consumers: 16           # handlers consuming the portal's requests queue
//	  delivery_consumers: 2          # handlers per district delivering appeals to it
//	  registry_timeout: 5s           # one call to the ID-card registry
//	  registry_concurrency: 8        # registry calls in flight at most
//	  registry_cache_ttl: 5m         # how long a registry answer is reused
//	  district_timeout: 10s          # one call to a district system
//	  retry_initial: 1s              # first back-off of a failed delivery
//	  retry_max: 5m                  # longest back-off of a failed delivery
//	  retry_max_attempts: 100        # transient failures of one delivery before it is dead-lettered
//	  retry_max_age: 72h             # a delivery still failing this long after the appeal arrived is dead-lettered
//	  breaker_failures: 5            # consecutive transient failures that open a district's circuit breaker
//	  breaker_cooldown: 30s          # how long an open breaker waits before letting a probe through
//	  reconcile_after: 1h            # an appeal unchanged this long is checked with its (ESD) district
//	  reconcile_interval: 1m         # how often such appeals are looked for
//	  poison_queue: korpu.poison     # where messages that must not be retried go
//	  district_queue_prefix: korpu.district.  # + district code = its delivery queue
//	  relay_batch: 200               # outbox rows published per relay round
//	districts:
//	  - code: AZ-SAT
//	    timeout: 30s                 # overrides hub.district_timeout for this district
//
// # Environment variables
//
// ${NAME} is replaced by the variable NAME in every scalar value (never in keys
// or comments); a variable that is not set is an error naming it and its line,
// one set to the empty string is allowed. $$ stands for a literal $. A value is
// substituted after the YAML is parsed, so a secret needs no quoting whatever
// characters it holds; inside a flow mapping ({ … }) write "${NAME}" quoted,
// since YAML reads a bare brace there as the end of the mapping.
package config

import (
	"fmt"
	"os"
	"slices"
	"time"
)

// Adapters a district may use.
const (
	// AdapterREST is a modern district system (contract §4).
	AdapterREST = "rest"
	// AdapterESD is the legacy SOAP system ESD (contract §5).
	AdapterESD = "esd"
)

// Config is the validated, effective configuration of one hub process.
type Config struct {
	AMQP     AMQP
	Postgres Postgres
	HTTP     HTTP
	Portal   Portal
	Monitor  Monitor
	Registry Registry
	Hub      Hub
	// HolidaysFile is the operator's holidays JSON that adds years to the
	// embedded calendar; empty means the embedded one only.
	HolidaysFile string
	// Districts are in file order; there is at least one.
	Districts []District
}

// AMQP is the RabbitMQ broker shared with the portal.
type AMQP struct {
	URL string // amqp:// or amqps://
}

// Postgres is the hub's ledger database.
type Postgres struct {
	URL string // postgres:// or postgresql://
}

// HTTP is the hub's own HTTP API (district callbacks, monitors, metrics).
type HTTP struct {
	Listen string // host:port
}

// Portal holds the queues and secrets shared with the e-gov portal.
type Portal struct {
	RequestsQueue string
	StatusQueue   string
	// SigningKey is the HMAC-SHA256 key of the x-signature header.
	SigningKey string
	// Token is the portal's bearer token on the HTTP API; empty means the
	// key is absent and the API refuses the portal role.
	Token string
}

// Monitor holds the central monitors' access to the HTTP API.
type Monitor struct {
	// Token is the monitors' bearer token; empty means the key is absent and
	// the API refuses the monitor role.
	Token string
}

// Registry is the ID-card registry (contract §3).
type Registry struct {
	URL   string // http:// or https://
	Token string
}

// Hub tunes the hub's own work; every field has a default (see setDefaults).
type Hub struct {
	IntakeConsumers     int           // default 16
	DeliveryConsumers   int           // per district; default 2
	RegistryTimeout     time.Duration // default 5s
	RegistryConcurrency int           // default 8
	RegistryCacheTTL    time.Duration // default 5m
	DistrictTimeout     time.Duration // default 10s; District.Timeout overrides it
	RetryInitial        time.Duration // default 1s
	RetryMax            time.Duration // default 5m
	RetryMaxAttempts    int           // default 100
	RetryMaxAge         time.Duration // default 72h
	BreakerFailures     int           // default 5
	BreakerCooldown     time.Duration // default 30s
	ReconcileAfter      time.Duration // default 1h
	ReconcileInterval   time.Duration // default 1m
	PoisonQueue         string        // default "korpu.poison"
	DistrictQueuePrefix string        // default "korpu.district."
	RelayBatch          int           // default 200
}

// setDefaults fills every field left unset (zero) in the file.
func (h *Hub) setDefaults() {
	setDefault(&h.IntakeConsumers, 16)
	setDefault(&h.DeliveryConsumers, 2)
	setDefault(&h.RegistryTimeout, 5*time.Second)
	setDefault(&h.RegistryConcurrency, 8)
	setDefault(&h.RegistryCacheTTL, 5*time.Minute)
	setDefault(&h.DistrictTimeout, 10*time.Second)
	setDefault(&h.RetryInitial, time.Second)
	setDefault(&h.RetryMax, 5*time.Minute)
	setDefault(&h.RetryMaxAttempts, 100)
	setDefault(&h.RetryMaxAge, 72*time.Hour)
	setDefault(&h.BreakerFailures, 5)
	setDefault(&h.BreakerCooldown, 30*time.Second)
	setDefault(&h.ReconcileAfter, time.Hour)
	setDefault(&h.ReconcileInterval, time.Minute)
	setDefault(&h.PoisonQueue, "korpu.poison")
	setDefault(&h.DistrictQueuePrefix, "korpu.district.")
	setDefault(&h.RelayBatch, 200)
}

func setDefault[T comparable](field *T, value T) {
	var zero T
	if *field == zero {
		*field = value
	}
}

// District is one local executive authority and its system.
type District struct {
	Code     string // ISO 3166-2:AZ, e.g. AZ-BIL
	Name     string // from the file, else the Azerbaijani name of the district list
	Adapter  string // AdapterREST or AdapterESD
	Endpoint string // http:// or https://

	// ESD only.
	Username     string
	Password     string
	PollInterval time.Duration

	// REST only.
	Token         string // the hub presents it to the district
	CallbackToken string // the district presents it on status callbacks

	// Services are the codes offered; nil when AllServices.
	Services    []string
	AllServices bool
	// Timeout bounds one call to the district: its own timeout key, else
	// hub.district_timeout.
	Timeout   time.Duration
	Officials []Official
}

// Offers reports whether the district offers the service.
func (d District) Offers(service string) bool {
	return d.AllServices || slices.Contains(d.Services, service)
}

// Official is a person citizens may book a reception with.
type Official struct {
	ID        string // unique across all districts
	Name      string
	Position  string
	Reception []ReceptionHours // at least one, no two overlapping on a weekday
}

// CapacityOn is the number of citizens the official receives on a weekday:
// the sum over that weekday's sessions, 0 when he receives none.
func (o Official) CapacityOn(w time.Weekday) int {
	total := 0
	for _, r := range o.Reception {
		if r.Weekday == w {
			total += r.Capacity
		}
	}
	return total
}

// ReceptionHours is one weekly reception session.
type ReceptionHours struct {
	Weekday  time.Weekday
	From, To string // "HH:MM", 24-hour, From < To
	Capacity int    // > 0
}

// District returns the district with the code.
func (c *Config) District(code string) (District, bool) {
	for _, d := range c.Districts {
		if d.Code == code {
			return d, true
		}
	}
	return District{}, false
}

// Official returns the official with the id and his district.
func (c *Config) Official(id string) (Official, District, bool) {
	for _, d := range c.Districts {
		for _, o := range d.Officials {
			if o.ID == id {
				return o, d, true
			}
		}
	}
	return Official{}, District{}, false
}

// Load reads and parses the file at path; see Parse.
func Load(path string, getenv func(string) (string, bool), services []string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := Parse(data, getenv, services)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse expands, decodes and validates a config file. getenv looks up
// ${NAME} (os.LookupEnv in production); services are the service codes a
// district may offer. The error is a *ValidationError listing every problem,
// or a plain error when the YAML itself cannot be parsed.
func Parse(data []byte, getenv func(string) (string, bool), services []string) (*Config, error) {
	raw, problems, err := decode(data, getenv)
	if err != nil {
		return nil, err
	}
	known, err := knownDistricts()
	if err != nil {
		return nil, err
	}
	cfg := problems.convert(raw, known, services)
	if len(problems.list) > 0 {
		return nil, &ValidationError{Problems: problems.list}
	}
	return cfg, nil
}
