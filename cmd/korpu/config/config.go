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
//	population_file: /etc/korpu/population.yaml  # residents per district: AZ-BIL: 104300 (or JSON); see population.go
//	hub:                           # tuning: every key, its default and meaning in Settings
//	  intake_consumers: 16
//	portal:
//	  signing_keys:                # in place of signing_key: every key accepted, counted by id
//	    - { id: "2026-01", key: "${KORPU_PORTAL_KEY}" }
//	registry:
//	  allow_insecure_http: true    # accept an http:// url (the token then travels in clear text)
//	districts:
//	  - code: AZ-SAT
//	    timeout: 30s               # overrides hub.district_timeout for this district
//	    allow_insecure_http: true  # accept an http:// endpoint
//
// TLS (README "TLS"; every file is read and checked at start):
//
//	http:
//	  tls:                         # serve HTTPS; cert_file and key_file re-read on SIGHUP
//	    cert_file: /etc/korpu/tls/hub.crt   # PEM chain, leaf first
//	    key_file: /etc/korpu/tls/hub.key
//	    client_ca_file: /etc/korpu/tls/districts-ca.crt  # district callbacks must present a certificate it signed
//	registry:
//	  tls: { ca_file: …, cert_file: …, key_file: … }    # all optional; cert and key both or neither
//	districts:
//	  - code: AZ-SAT
//	    tls: { ca_file: …, cert_file: …, key_file: … }  # ca_file replaces the system's roots for this district
//	    callback_cert_name: sat.example.az  # REST: the callback certificate's DNS name or common name
//
// Every token and key has at least MinSecretLength characters, and no token,
// key or password is used twice (access.go): one party must not be able to
// act as another.
//
// An http:// registry url or district endpoint is refused unless its entry
// sets allow_insecure_http: true: tokens, passwords and citizens' records
// must not cross the network in clear text by default. Simulators on the
// same machine, the demo and the tests set it.
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
	"time"

	"github.com/korpu-az/korpu/adapters/access"
	"github.com/korpu-az/korpu/adapters/tlsconf"
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
	// Access are the parties of the HTTP API: the access list, with
	// portal.token and monitor.token as the entries named portal and
	// monitor. Names and tokens are unique.
	Access   []Party
	Registry Registry
	Audit    Audit
	Hub      Hub
	// HolidaysFile is the operator's holidays JSON that adds years to the
	// embedded calendar; empty means the embedded one only.
	HolidaysFile string
	// PopulationFile is the operator's table of residents per district;
	// empty means none. Population is what it says, read and checked at
	// start: known district codes, positive whole numbers.
	PopulationFile string
	Population     map[string]int
	// Districts are in file order; there is at least one.
	Districts []District
}

// AMQP is the RabbitMQ broker shared with the portal.
type AMQP struct {
	// URL is the broker's address as adapters/amqp takes it: amqp.url (one
	// node, amqp:// or amqps://), or amqp.urls, a cluster's nodes, joined
	// by amqp.JoinNodes. Every connection the hub makes dials it.
	URL string
	// QueueType is the kind of every queue the hub declares
	// (amqp.queue_type): QueueQuorum (default) or QueueClassic.
	QueueType string
	// DeliveryLimit is the quorum queues' x-delivery-limit
	// (amqp.delivery_limit, default DefaultDeliveryLimit, at least 2).
	DeliveryLimit int
}

// Postgres is the hub's ledger database.
type Postgres struct {
	URL string // postgres:// or postgresql://
}

// HTTP is the hub's own HTTP API (district callbacks, monitors, metrics).
type HTTP struct {
	Listen string // host:port
	// TLS, if set, makes the API HTTPS; nil is plain HTTP.
	TLS *tlsconf.ServerFiles
}

// Portal holds the queues and secrets shared with the e-gov portal.
type Portal struct {
	RequestsQueue string
	StatusQueue   string
	// SigningKeys are the current HMAC-SHA256 keys of the x-signature
	// header, at least one: portal.signing_keys, or portal.signing_key as
	// the one key DefaultSigningKeyID. A message signed with any is
	// accepted, so a new key can be added before the portal uses it and
	// the old one removed once nothing is signed with it.
	SigningKeys []SigningKey
	// DetailsURL is the portal's page of one appeal, with {number} where
	// the appeal number goes; the printed appeal's QR code carries it.
	DetailsURL string
}

// DefaultDetailsURL is portal.details_url when the file does not set it.
const DefaultDetailsURL = "https://www.e-gov.az/appeals/{number}"

// NewestKey is the key listed last, which the simulated portal (korpu sim,
// demo) signs with: a rotation adds the new key at the end.
func (p Portal) NewestKey() string {
	if len(p.SigningKeys) == 0 {
		return ""
	}
	return p.SigningKeys[len(p.SigningKeys)-1].Key
}

// DefaultSigningKeyID names the key of portal.signing_key.
const DefaultSigningKeyID = "default"

// SigningKey is one of the portal's keys; ID names it in the metrics.
type SigningKey struct {
	ID  string
	Key string
}

// Party is one entry of the access list.
type Party struct {
	Name  string
	Role  access.Role
	Token string
}

// Shorthand entries of the access list: portal.token and monitor.token.
const (
	PortalParty  = "portal"
	MonitorParty = "monitor"
)

// MinSecretLength is the fewest characters of every token and key (ESD
// passwords, which the district's vendor sets, excepted).
const MinSecretLength = 32

// TokenOf returns the token of the party named name, empty if there is none.
func (c *Config) TokenOf(name string) string {
	for _, p := range c.Access {
		if p.Name == name {
			return p.Token
		}
	}
	return ""
}

// Registry is the ID-card registry (contract §3).
type Registry struct {
	URL   string // https://, or http:// with AllowInsecureHTTP
	Token string
	// AllowInsecureHTTP is the operator's consent to an http:// URL.
	AllowInsecureHTTP bool
	// TLS are the files of calls to the registry; zero: the system's roots.
	TLS tlsconf.ClientFiles
}

// Hub tunes the hub's own work. Each field is the value of one of Settings,
// which says its key, default and meaning; every field is set.
type Hub struct {
	IntakeConsumers     int
	DeliveryConsumers   int // per district
	RegistryTimeout     time.Duration
	RegistryConcurrency int
	RegistryCacheTTL    time.Duration
	DistrictTimeout     time.Duration // District.Timeout overrides it
	RetryInitial        time.Duration
	RetryMax            time.Duration
	RetryMaxAttempts    int
	RetryMaxAge         time.Duration
	BreakerFailures     int
	BreakerCooldown     time.Duration
	ReconcileAfter      time.Duration
	ReconcileInterval   time.Duration
	PoisonQueue         string
	DistrictQueuePrefix string
	RelayBatch          int
	OversightQueue      string
	OversightInterval   time.Duration
	CheckpointQueue     string
	CheckpointInterval  time.Duration
	AuthFailureBurst    int
	AuthFailureRefill   time.Duration
}

// Audit is the transparency log's signing (issue 11).
type Audit struct {
	// CheckpointKey is the note signer key (PRIVATE+KEY+origin+hash+key,
	// Ed25519) that signs checkpoints, checked at start; empty means the
	// key is absent: the hub keeps queueing events for the log but neither
	// sequences nor signs it.
	CheckpointKey string
}

// District is one local executive authority and its system.
type District struct {
	Code     string // ISO 3166-2:AZ, e.g. AZ-BIL
	Name     string // from the file, else the Azerbaijani name of the district list
	Adapter  string // AdapterREST or AdapterESD
	Endpoint string // https://, or http:// with AllowInsecureHTTP
	// AllowInsecureHTTP is the operator's consent to an http:// endpoint.
	AllowInsecureHTTP bool

	// ESD only.
	Username     string
	Password     string
	PollInterval time.Duration

	// REST only.
	Token         string // the hub presents it to the district
	CallbackToken string // the district presents it on status callbacks
	// CallbackCertName, if set, is the name (DNS SAN or common name) the
	// district's client certificate must carry on status callbacks; only
	// with http.tls.client_ca_file.
	CallbackCertName string

	// TLS are the files of calls to the district; zero: the system's roots.
	TLS tlsconf.ClientFiles

	// Services are the codes offered; nil when AllServices.
	Services    []string
	AllServices bool
	// Timeout bounds one call to the district: its own timeout key, else
	// hub.district_timeout.
	Timeout   time.Duration
	Officials []Official
}

// Official is a person citizens may book a reception with.
type Official struct {
	ID        string // unique across all districts
	Name      string
	Position  string
	Reception []ReceptionHours // at least one, no two overlapping on a weekday
}

// Capacity is the number of citizens the official receives on each weekday
// he receives any: the sum over that weekday's sessions.
func (o Official) Capacity() map[time.Weekday]int {
	capacity := make(map[time.Weekday]int, len(o.Reception))
	for _, r := range o.Reception {
		capacity[r.Weekday] += r.Capacity
	}
	return capacity
}

// ReceptionHours is one weekly reception session.
type ReceptionHours struct {
	Weekday  time.Weekday
	From, To string // "HH:MM", 24-hour, From < To
	Capacity int    // > 0
}

// Load reads and parses the file at path; see Parse.
func Load(path string, getenv func(string) (string, bool), services []string) (*Config, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the operator names the file, on the command line
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
