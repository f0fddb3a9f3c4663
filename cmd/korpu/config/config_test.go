package config

import (
	"bytes"
	"errors"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/access"
	"github.com/korpu-az/korpu/adapters/amqp"
)

const examplePath = "testdata/korpu.example.yaml"

// exampleAMQPURL is the example's amqp.url line.
const exampleAMQPURL = "  url: amqp://guest:guest@127.0.0.1:5672/   # one node; a cluster lists its nodes instead: urls: [amqp://…@rabbit-1:5672/, …] (README, Configuration)\n"

// services are the 21 codes of contract §1.
var services = []string{
	"reception-booking", "appeal", "family-composition-certificate", "marriage-age-reduction",
	"minor-property-consent", "minor-placement-dysfunctional-family", "parentless-child-placement",
	"orphanage-boarding-school-placement", "child-name-change", "minor-guardianship",
	"minor-rights-violation", "incapable-person-guardianship", "patronage", "incapable-property-consent",
	"lease-contract-change", "housing-registration", "social-rent-allocation", "dwelling-replanning",
	"dwelling-conversion", "architectural-approval", "facility-acceptance-act",
}

// exampleEnv sets every variable the example file names, each to a value
// that appears nowhere else, so a test can look for it in a log.
func exampleEnv() map[string]string {
	return map[string]string{
		"KORPU_PORTAL_KEY":      "portal-key-S3CRET1-0123456789abcdef",
		"KORPU_PORTAL_TOKEN":    "portal-token-S3CRET2-0123456789abcdef",
		"KORPU_MONITOR_TOKEN":   "monitor-token-S3CRET3-0123456789abcdef",
		"KORPU_MONITOR_TOKEN_2": "monitor-token-S3CRET10-0123456789abcdef",
		"KORPU_OPERATOR_TOKEN":  "operator-token-S3CRET11-0123456789abcdef",
		"KORPU_REGISTRY_TOKEN":  "registry-token-S3CRET4-0123456789abcdef",
		"BIL_ESD_PASSWORD":      "esd-password-S3CRET5",
		"SAT_TOKEN":             "sat-token-S3CRET6-0123456789abcdef",
		"SAT_CALLBACK_TOKEN":    "sat-callback-S3CRET7-0123456789abcdef",
		// A real note key: its secret part appears nowhere else either.
		"KORPU_CHECKPOINT_KEY": "PRIVATE+KEY+korpu.example/log+9dd5c62e+Af2mBwPOeLWHXasRaI+r6a2eA5LktcCmNMjNUpYWNOiD",
	}
}

func lookup(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

func example(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(examplePath)
	require.NoError(t, err)
	return string(data)
}

// edit replaces the one occurrence of old in src, failing if there is none,
// so that a test never passes because its edit silently missed.
func edit(t *testing.T, src, old, replacement string) string {
	t.Helper()
	require.Equal(t, 1, strings.Count(src, old), "edit target %q", old)
	return strings.Replace(src, old, replacement, 1)
}

// problemsOf parses src and returns the problems it must have.
func problemsOf(t *testing.T, src string, env map[string]string) []Problem {
	t.Helper()
	_, err := Parse([]byte(src), lookup(env), services)
	var verr *ValidationError
	require.ErrorAs(t, err, &verr)
	return verr.Problems
}

func TestLoadExample(t *testing.T) {
	t.Parallel()
	cfg, err := Load(examplePath, lookup(exampleEnv()), services)
	require.NoError(t, err)

	require.Equal(t, "amqp://guest:guest@127.0.0.1:5672/", cfg.AMQP.URL)
	require.Equal(t, QueueQuorum, cfg.AMQP.QueueType)
	require.Equal(t, DefaultDeliveryLimit, cfg.AMQP.DeliveryLimit)
	require.Equal(t, "postgres://postgres@127.0.0.1:5432/korpu?sslmode=disable", cfg.Postgres.URL)
	require.Equal(t, "127.0.0.1:8080", cfg.HTTP.Listen)
	require.Equal(t, Portal{
		RequestsQueue: "egov.portal.requests",
		StatusQueue:   "egov.portal.status",
		SigningKeys:   []SigningKey{{ID: DefaultSigningKeyID, Key: "portal-key-S3CRET1-0123456789abcdef"}},
		DetailsURL:    DefaultDetailsURL,
	}, cfg.Portal)
	require.Equal(t, []Party{
		{Name: PortalParty, Role: access.RolePortal, Token: "portal-token-S3CRET2-0123456789abcdef"},
		{Name: MonitorParty, Role: access.RoleMonitor, Token: "monitor-token-S3CRET3-0123456789abcdef"},
		{Name: "central-monitors", Role: access.RoleMonitor, Token: "monitor-token-S3CRET10-0123456789abcdef"},
		{Name: "duty-operator", Role: access.RoleOperator, Token: "operator-token-S3CRET11-0123456789abcdef"},
	}, cfg.Access)
	require.Equal(t, Registry{URL: "http://127.0.0.1:18081", Token: "registry-token-S3CRET4-0123456789abcdef", AllowInsecureHTTP: true}, cfg.Registry)
	require.Equal(t, exampleEnv()["KORPU_CHECKPOINT_KEY"], cfg.Audit.CheckpointKey)
	require.Equal(t, Hub{
		IntakeConsumers:     16,
		DeliveryConsumers:   2,
		RegistryTimeout:     5 * time.Second,
		RegistryConcurrency: 8,
		RegistryCacheTTL:    5 * time.Minute,
		DistrictTimeout:     10 * time.Second,
		RetryInitial:        time.Second,
		RetryMax:            5 * time.Minute,
		RetryMaxAttempts:    100,
		RetryMaxAge:         72 * time.Hour,
		BreakerFailures:     5,
		BreakerCooldown:     30 * time.Second,
		ReconcileAfter:      time.Hour,
		ReconcileInterval:   time.Minute,
		PoisonQueue:         "korpu.poison",
		DistrictQueuePrefix: "korpu.district.",
		RelayBatch:          200,
		OversightQueue:      "korpu.oversight",
		OversightInterval:   time.Minute,
		CheckpointQueue:     "korpu.checkpoints",
		CheckpointInterval:  time.Minute,
		AuthFailureBurst:    10,
		AuthFailureRefill:   10 * time.Second,
	}, cfg.Hub)

	require.Len(t, cfg.Districts, 2)
	require.Equal(t, District{
		Code:              "AZ-BIL",
		Name:              "Biləsuvar rayon İcra Hakimiyyəti",
		Adapter:           AdapterESD,
		Endpoint:          "http://127.0.0.1:18090/esd",
		AllowInsecureHTTP: true,
		Username:          "hub",
		Password:          "esd-password-S3CRET5",
		PollInterval:      5 * time.Second,
		AllServices:       true,
		Timeout:           10 * time.Second,
		Officials: []Official{
			{ID: "BIL-01", Name: "Əliyev Rauf Kamal oğlu", Position: "İcra hakimiyyətinin başçısı", Reception: []ReceptionHours{
				{Weekday: time.Tuesday, From: "10:00", To: "13:00", Capacity: 20},
			}},
			{ID: "BIL-02", Name: "Həsənova Aygün Tofiq qızı", Position: "Başçının müavini", Reception: []ReceptionHours{
				{Weekday: time.Monday, From: "14:00", To: "17:00", Capacity: 15},
				{Weekday: time.Thursday, From: "10:00", To: "12:00", Capacity: 10},
			}},
		},
	}, cfg.Districts[0])
	sat := cfg.Districts[1]
	require.Equal(t, AdapterREST, sat.Adapter)
	require.Equal(t, "sat-token-S3CRET6-0123456789abcdef", sat.Token)
	require.Equal(t, "sat-callback-S3CRET7-0123456789abcdef", sat.CallbackToken)
	require.False(t, sat.AllServices)
	require.Equal(t, []string{"appeal", "reception-booking", "family-composition-certificate", "housing-registration"}, sat.Services)
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"), lookup(nil), services)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestParseOptionalKeys(t *testing.T) {
	t.Parallel()
	holidays := filepath.Join(t.TempDir(), "holidays-2028.json")
	require.NoError(t, os.WriteFile(holidays, []byte(`{}`), 0o600))
	src := example(t)
	src = edit(t, src, "monitor:\n  token: ${KORPU_MONITOR_TOKEN}         # bearer token of the central monitors: read access to every district\n", "")
	src = edit(t, src, "  token: ${KORPU_PORTAL_TOKEN}", "")
	src = edit(t, src, "    name: Saatlı rayon İcra Hakimiyyəti\n", "    timeout: 30s\n")
	src += "holidays_file: " + holidays + "\nhub:\n  intake_consumers: 7\n  retry_max: 1m\n  poison_queue: q.poison\n  district_timeout: 3s\n"

	cfg, err := Parse([]byte(src), lookup(exampleEnv()), services)
	require.NoError(t, err)
	require.Empty(t, cfg.TokenOf(MonitorParty), "absent monitor section refuses the role")
	require.Empty(t, cfg.TokenOf(PortalParty), "absent portal.token refuses the portal")
	require.Equal(t, holidays, cfg.HolidaysFile)
	require.Equal(t, 7, cfg.Hub.IntakeConsumers)
	require.Equal(t, time.Minute, cfg.Hub.RetryMax)
	require.Equal(t, "q.poison", cfg.Hub.PoisonQueue)
	require.Equal(t, 2, cfg.Hub.DeliveryConsumers, "unset keys keep their default")
	require.Equal(t, 3*time.Second, cfg.Districts[0].Timeout, "hub.district_timeout applies")
	require.Equal(t, 30*time.Second, cfg.Districts[1].Timeout, "the district's own timeout wins")
	require.Equal(t, "Saatlı", cfg.Districts[1].Name, "an absent name comes from the district list")
}

func TestParseEnvironment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		value string // the value of the first district's name
		env   map[string]string
		want  string
	}{
		{name: "Variable", value: "${A}", env: map[string]string{"A": "x y"}, want: "x y"},
		{name: "Embedded", value: `"pre-${A}-${B}"`, env: map[string]string{"A": "1", "B": "2"}, want: "pre-1-2"},
		{name: "DollarEscape", value: "a$$b", want: "a$b"},
		{name: "EscapedVariable", value: "$${A}", want: "${A}"},
		{name: "LoneDollar", value: "cost $5", want: "cost $5"},
		{name: "EmptyButSet", value: "${E}", env: map[string]string{"E": ""}, want: "Biləsuvar"},
		{name: "NotReparsed", value: "${A}", env: map[string]string{"A": "a: b # c {d} ${B} $$"}, want: "a: b # c {d} ${B} $$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := edit(t, example(t), "name: Biləsuvar rayon İcra Hakimiyyəti", "name: "+tt.value)
			env := exampleEnv()
			maps.Copy(env, tt.env)
			cfg, err := Parse([]byte(src), lookup(env), services)
			require.NoError(t, err)
			require.Equal(t, tt.want, cfg.Districts[0].Name)
		})
	}
}

func TestParseEnvironmentErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		value string
		want  Problem
	}{
		{name: "Missing", value: "${SAT_TOKEN_MISSING}", want: Problem{
			Key: "districts[AZ-SAT].token", Line: 56, Message: "environment variable SAT_TOKEN_MISSING is not set"}},
		{name: "Malformed", value: "${1X}", want: Problem{
			Key: "districts[AZ-SAT].token", Line: 56, Message: "malformed variable ${1X}"}},
		{name: "Unterminated", value: "${SAT_TOKEN", want: Problem{
			Key: "districts[AZ-SAT].token", Line: 56, Message: "unterminated ${ in value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := edit(t, example(t), "token: ${SAT_TOKEN}", "token: "+tt.value)
			// The one problem: no second "required" for the same key.
			require.Equal(t, []Problem{tt.want}, problemsOf(t, src, exampleEnv()))
		})
	}
}

func TestParseMissingVariableNamesLine(t *testing.T) {
	t.Parallel()
	env := exampleEnv()
	delete(env, "KORPU_REGISTRY_TOKEN")
	_, err := Parse([]byte(example(t)), lookup(env), services)
	require.ErrorContains(t, err, "registry.token (line 26): environment variable KORPU_REGISTRY_TOKEN is not set")
}

func TestParseValidation(t *testing.T) {
	t.Parallel()
	type change struct{ old, new string }
	tests := []struct {
		name    string
		changes []change
		cut     string // the file ends before it
		append  string
		env     map[string]string // overrides exampleEnv
		key     string
		message string
		line    int // checked if set
	}{
		{name: "UnknownTopKey", append: "colour: blue\n", key: "colour", message: `unknown key "colour"`},
		{name: "UnknownDistrictKey", changes: []change{{"    poll_interval: 5s", "    poll_intervall: 5s\n    poll_interval: 5s"}},
			key: "districts[AZ-BIL].poll_intervall", message: "unknown key"},
		{name: "UnknownKeyInFlowMapping", changes: []change{{"capacity: 25 }", "capacity: 25, room: 4 }"}},
			key: "districts[AZ-SAT].officials[0].reception[0].room", message: "unknown key"},
		{name: "UnknownHubKey", append: "hub:\n  consumers: 3\n", key: "hub.consumers", message: "unknown key"},

		{name: "AMQPURLRequired", changes: []change{{exampleAMQPURL, ""}}, key: "amqp.url", message: "required"},
		{name: "PostgresURLRequired", changes: []change{{"  url: postgres://postgres@127.0.0.1:5432/korpu?sslmode=disable\n", ""}}, key: "postgres.url", message: "required"},
		{name: "ListenRequired", changes: []change{{"  listen: 127.0.0.1:8080\n", ""}}, key: "http.listen", message: "required"},
		{name: "RequestsQueueRequired", changes: []change{{"  requests_queue: egov.portal.requests\n", ""}}, key: "portal.requests_queue", message: "required"},
		{name: "StatusQueueRequired", changes: []change{{"  status_queue: egov.portal.status\n", ""}}, key: "portal.status_queue", message: "required"},
		{name: "SigningKeyRequired", env: map[string]string{"KORPU_PORTAL_KEY": ""}, key: "portal.signing_key", message: "required"},
		{name: "RegistryURLRequired", changes: []change{{"  url: http://127.0.0.1:18081\n", ""}}, key: "registry.url", message: "required"},
		{name: "RegistryTokenRequired", changes: []change{{"  token: ${KORPU_REGISTRY_TOKEN}\n", ""}}, key: "registry.token", message: "required"},
		{name: "DistrictRequired", cut: "districts:\n", key: "districts", message: "at least one district"},
		{name: "PortalTokenEmpty", env: map[string]string{"KORPU_PORTAL_TOKEN": ""}, key: "portal.token", message: "empty"},
		{name: "DetailsURLRelative", changes: []change{{"  token: ${KORPU_PORTAL_TOKEN}", "  token: ${KORPU_PORTAL_TOKEN}\n  details_url: /appeals/{number}"}},
			key: "portal.details_url", message: "not an absolute http(s) URL"},
		{name: "DetailsURLWithoutNumber", changes: []change{{"  token: ${KORPU_PORTAL_TOKEN}", "  token: ${KORPU_PORTAL_TOKEN}\n  details_url: https://portal.example/appeals"}},
			key: "portal.details_url", message: "has no {number}"},
		{name: "DetailsURLTooLong", changes: []change{{"  token: ${KORPU_PORTAL_TOKEN}", "  token: ${KORPU_PORTAL_TOKEN}\n  details_url: https://portal.example/{number}?pad=" + strings.Repeat("x", 600)}},
			key: "portal.details_url", message: "longer than 512 bytes"},
		{name: "MonitorTokenEmpty", env: map[string]string{"KORPU_MONITOR_TOKEN": ""}, key: "monitor.token", message: "empty"},
		{name: "CheckpointKeyNotANoteKey", env: map[string]string{"KORPU_CHECKPOINT_KEY": "PRIVATE+KEY+x+00000000+S3CRETNOTAKEY"}, key: "audit.checkpoint_key", message: "not a note signer key"},
		{name: "SameQueues", changes: []change{{"status_queue: egov.portal.status", "status_queue: egov.portal.requests"}},
			key: "portal.status_queue", message: "must differ"},

		{name: "AMQPURLAndURLs", changes: []change{{exampleAMQPURL, exampleAMQPURL + "  urls: [amqp://guest:guest@127.0.0.1:5701/]\n"}},
			key: "amqp.urls", message: "set together with amqp.url"},
		{name: "AMQPURLsScheme", changes: []change{{exampleAMQPURL, "  urls:\n    - amqp://guest:guest@n1:5701/\n    - http://guest:guest@n2:5702/\n"}},
			key: "amqp.urls[1]", message: "scheme must be amqp:// or amqps://"},
		{name: "AMQPURLsSameNode", changes: []change{{exampleAMQPURL, "  urls:\n    - amqp://guest:guest@n1:5701/\n    - amqp://guest:guest@n1:5701/\n"}},
			key: "amqp.urls[1]", message: "the same node as amqp.urls[0]"},
		{name: "AMQPURLsVhost", changes: []change{{exampleAMQPURL, "  urls:\n    - amqp://guest:guest@n1:5701/\n    - amqp://guest:guest@n2:5702/other\n"}},
			key: "amqp.urls", message: "node 2 (n2:5702) has another vhost than node 1 (n1:5701): the hub may reconnect to any node, so all must be reached the same way"},
		{name: "AMQPURLsCredentials", changes: []change{{exampleAMQPURL, "  urls:\n    - amqp://guest:guest@n1:5701/\n    - amqp://guest:S3CRET@n2:5702/\n"}},
			key: "amqp.urls", message: "node 2 (n2:5702) has another user or password"},
		{name: "AMQPURLsTLS", changes: []change{{exampleAMQPURL, "  urls:\n    - amqp://guest:guest@n1:5701/\n    - amqps://guest:guest@n2:5702/\n"}},
			key: "amqp.urls", message: "node 2 (n2:5702) has another scheme"},
		{name: "QueueType", changes: []change{{"url: amqp://guest:guest@127.0.0.1:5672/", "url: amqp://guest:guest@127.0.0.1:5672/\n  queue_type: stream"}},
			key: "amqp.queue_type", message: `must be quorum or classic, not "stream"`, line: 7},
		{name: "DeliveryLimitLow", changes: []change{{"url: amqp://guest:guest@127.0.0.1:5672/", "url: amqp://guest:guest@127.0.0.1:5672/\n  delivery_limit: 1"}},
			key: "amqp.delivery_limit", message: "must be at least 2, not 1", line: 7},
		{name: "DeliveryLimitHigh", changes: []change{{"url: amqp://guest:guest@127.0.0.1:5672/", "url: amqp://guest:guest@127.0.0.1:5672/\n  delivery_limit: 1000000000"}},
			key: "amqp.delivery_limit", message: "must be at most 1000 (a failing message would loop for days), not 1000000000", line: 7},
		{name: "DeliveryLimitNotANumber", changes: []change{{"url: amqp://guest:guest@127.0.0.1:5672/", "url: amqp://guest:guest@127.0.0.1:5672/\n  delivery_limit: many"}},
			key: "amqp.delivery_limit", message: `must be a whole number, not "many"`},
		{name: "AMQPScheme", changes: []change{{"url: amqp://guest", "url: http://guest"}}, key: "amqp.url", message: "scheme must be amqp:// or amqps://"},
		{name: "PostgresScheme", changes: []change{{"url: postgres://", "url: mysql://"}}, key: "postgres.url", message: "scheme must be postgres:// or postgresql://"},
		{name: "RegistryScheme", changes: []change{{"url: http://127.0.0.1:18081", "url: ftp://127.0.0.1:18081"}}, key: "registry.url", message: "scheme must be http:// or https://"},
		{name: "EndpointScheme", changes: []change{{"endpoint: http://127.0.0.1:18091", "endpoint: tcp://127.0.0.1:18091"}},
			key: "districts[AZ-SAT].endpoint", message: "scheme must be http:// or https://"},
		{name: "EndpointHost", changes: []change{{"endpoint: http://127.0.0.1:18090/esd", "endpoint: http:///esd"}},
			key: "districts[AZ-BIL].endpoint", message: "has no host"},
		{name: "EndpointRequired", changes: []change{{"    endpoint: http://127.0.0.1:18091\n", ""}}, key: "districts[AZ-SAT].endpoint", message: "required"},
		{name: "URLMalformed", changes: []change{{"url: http://127.0.0.1:18081", "url: http://127.0.0.1:port"}}, key: "registry.url", message: "not a valid URL"},
		{name: "ListenNoPort", changes: []change{{"listen: 127.0.0.1:8080", "listen: 127.0.0.1"}}, key: "http.listen", message: "not host:port"},
		{name: "ListenBadPort", changes: []change{{"listen: 127.0.0.1:8080", "listen: 127.0.0.1:99999"}}, key: "http.listen", message: "not a number"},

		{name: "DuplicateDistrict", changes: []change{{"code: AZ-SAT", "code: AZ-BIL"}}, key: "districts[AZ-BIL].code", message: "duplicate district AZ-BIL"},
		{name: "UnknownDistrict", changes: []change{{"code: AZ-SAT", "code: AZ-XYZ"}}, key: "districts[AZ-XYZ].code", message: "not an ISO 3166-2:AZ district code"},
		{name: "DistrictCodeRequired", changes: []change{{"  - code: AZ-SAT\n    name:", "  - name:"}}, key: "districts[1].code", message: "required"},
		{name: "AdapterUnknown", changes: []change{{"adapter: rest ", "adapter: grpc "}}, key: "districts[AZ-SAT].adapter", message: "neither rest nor esd"},
		{name: "AdapterRequired", changes: []change{{"    adapter: rest                       # modern system, see README section 4\n", ""}},
			key: "districts[AZ-SAT].adapter", message: "required"},
		{name: "RESTToken", changes: []change{{"    token: ${SAT_TOKEN}", "    #"}}, key: "districts[AZ-SAT].token", message: "required"},
		{name: "RESTCallbackToken", env: map[string]string{"SAT_CALLBACK_TOKEN": ""}, key: "districts[AZ-SAT].callback_token", message: "required"},
		{name: "RESTForeignKey", changes: []change{{"    token: ${SAT_TOKEN}", "    username: hub\n    token: ${SAT_TOKEN}"}},
			key: "districts[AZ-SAT].username", message: "not used by adapter rest"},
		{name: "ESDUsername", changes: []change{{"    username: hub\n", ""}}, key: "districts[AZ-BIL].username", message: "required"},
		{name: "ESDPassword", changes: []change{{"    password: ${BIL_ESD_PASSWORD}\n", ""}}, key: "districts[AZ-BIL].password", message: "required"},
		{name: "ESDPollIntervalRequired", changes: []change{{"    poll_interval: 5s                   # how often ESD is asked for changes\n", ""}},
			key: "districts[AZ-BIL].poll_interval", message: "required"},
		{name: "ESDPollIntervalZero", changes: []change{{"poll_interval: 5s", "poll_interval: 0s"}}, key: "districts[AZ-BIL].poll_interval", message: "must be positive"},
		{name: "ESDPollIntervalBad", changes: []change{{"poll_interval: 5s", "poll_interval: often"}}, key: "districts[AZ-BIL].poll_interval", message: "not a duration"},
		{name: "ESDForeignKey", changes: []change{{"    username: hub\n", "    username: hub\n    callback_token: x\n"}},
			key: "districts[AZ-BIL].callback_token", message: "not used by adapter esd"},
		{name: "DistrictTimeout", changes: []change{{"    endpoint: http://127.0.0.1:18091\n", "    endpoint: http://127.0.0.1:18091\n    timeout: -1s\n"}},
			key: "districts[AZ-SAT].timeout", message: "must be positive"},

		{name: "ServicesRequired", changes: []change{{"    services: all\n", ""}}, key: "districts[AZ-BIL].services", message: "required"},
		{name: "ServicesWord", changes: []change{{"services: all", "services: every"}}, key: "districts[AZ-BIL].services", message: `must be "all" or a list`},
		{name: "ServicesEmpty", changes: []change{{"services: all", "services: []"}}, key: "districts[AZ-BIL].services", message: "at least one service"},
		{name: "ServiceUnknown", changes: []change{{"services: [appeal,", "services: [apeal,"}}, key: "districts[AZ-SAT].services[0]", message: `unknown service "apeal"`},
		{name: "ServiceDuplicate", changes: []change{{"housing-registration]", "housing-registration, appeal]"}},
			key: "districts[AZ-SAT].services[4]", message: `duplicate service "appeal"`},
		{name: "ServiceNotString", changes: []change{{"housing-registration]", "housing-registration, [x]]"}},
			key: "districts[AZ-SAT].services[4]", message: "must be a service code"},

		{name: "OfficialIDDuplicate", changes: []change{{"id: SAT-01", "id: BIL-02"}}, key: "districts[AZ-SAT].officials[0].id", message: "duplicate official id BIL-02 (also at districts[AZ-BIL].officials[1])"},
		{name: "OfficialIDRequired", changes: []change{{"      - id: SAT-01\n        name:", "      - name:"}}, key: "districts[AZ-SAT].officials[0].id", message: "required"},
		{name: "OfficialNameRequired", changes: []change{{"name: Quliyev Elçin Rasim oğlu", `name: ""`}}, key: "districts[AZ-SAT].officials[0].name", message: "required"},
		{name: "OfficialsForBooking", cut: "    officials:\n      - id: SAT-01",
			key: "districts[AZ-SAT].officials", message: "offers reception-booking", line: 51},
		{name: "ReceptionRequired", changes: []change{{"          - { weekday: wednesday, from: \"09:00\", to: \"12:00\", capacity: 25 }", "          []"}},
			key: "districts[AZ-SAT].officials[0].reception", message: "at least one"},
		{name: "Weekday", changes: []change{{"weekday: thursday", "weekday: Thursday"}}, key: "districts[AZ-BIL].officials[1].reception[1].weekday", message: `"Thursday" is not one of monday`},
		{name: "WeekdayRequired", changes: []change{{"weekday: thursday, ", ""}}, key: "districts[AZ-BIL].officials[1].reception[1].weekday", message: "is not one of"},
		{name: "FromFormat", changes: []change{{`from: "09:00"`, `from: "9:00"`}}, key: "districts[AZ-SAT].officials[0].reception[0].from", message: `"9:00" is not a 24-hour time`},
		{name: "ToOutOfRange", changes: []change{{`to: "12:00", capacity: 25`, `to: "24:00", capacity: 25`}}, key: "districts[AZ-SAT].officials[0].reception[0].to", message: "is not a 24-hour time"},
		{name: "FromAfterTo", changes: []change{{`from: "09:00", to: "12:00"`, `from: "12:00", to: "09:00"`}}, key: "districts[AZ-SAT].officials[0].reception[0].to", message: "must be later than from"},
		{name: "FromEqualsTo", changes: []change{{`from: "09:00", to: "12:00"`, `from: "12:00", to: "12:00"`}}, key: "districts[AZ-SAT].officials[0].reception[0].to", message: "must be later than from"},
		{name: "CapacityZero", changes: []change{{"capacity: 25", "capacity: 0"}}, key: "districts[AZ-SAT].officials[0].reception[0].capacity", message: "must be positive"},
		{name: "CapacityRequired", changes: []change{{`to: "12:00", capacity: 25`, `to: "12:00"`}}, key: "districts[AZ-SAT].officials[0].reception[0].capacity", message: "required"},
		{name: "ReceptionOverlap", changes: []change{{"capacity: 25 }", "capacity: 25 }\n          - { weekday: wednesday, from: \"11:30\", to: \"13:00\", capacity: 5 }"}},
			key: "districts[AZ-SAT].officials[0].reception[1]", message: "overlaps the wednesday session 09:00–12:00"},

		{name: "HubCount", append: "hub:\n  intake_consumers: 0\n", key: "hub.intake_consumers", message: "must be positive"},
		{name: "HubDuration", append: "hub:\n  registry_timeout: fast\n", key: "hub.registry_timeout", message: "not a duration"},
		{name: "HubRetryOrder", append: "hub:\n  retry_initial: 10m\n", key: "hub.retry_max", message: "must not be shorter than hub.retry_initial"},
		{name: "HubQueueEmpty", append: "hub:\n  poison_queue: \"\"\n", key: "hub.poison_queue", message: "required"},
		{name: "HolidaysFileMissing", append: "holidays_file: /nonexistent/holidays.json\n", key: "holidays_file", message: "no such file"},
		{name: "HolidaysFileDirectory", append: "holidays_file: testdata\n", key: "holidays_file", message: "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := example(t)
			for _, c := range tt.changes {
				src = edit(t, src, c.old, c.new)
			}
			if tt.cut != "" {
				require.Equal(t, 1, strings.Count(src, tt.cut))
				src, _, _ = strings.Cut(src, tt.cut)
			}
			src += tt.append
			env := exampleEnv()
			maps.Copy(env, tt.env)

			_, err := Parse([]byte(src), lookup(env), services)
			var verr *ValidationError
			require.ErrorAs(t, err, &verr)
			require.Len(t, verr.Problems, 1, "only the broken rule is reported: %v", err)
			p := verr.Problems[0]
			require.Equal(t, tt.key, p.Key)
			require.Contains(t, p.Message, tt.message)
			if tt.line > 0 {
				require.Equal(t, tt.line, p.Line, "an absent key points at its enclosing item")
			}
			require.Contains(t, err.Error(), tt.key)
		})
	}
}

func TestParseReportsAllProblems(t *testing.T) {
	t.Parallel()
	src := example(t)
	src = edit(t, src, "url: amqp://guest", "url: http://guest")
	src = edit(t, src, "listen: 127.0.0.1:8080", "listen: nowhere")
	src = edit(t, src, "code: AZ-SAT", "code: AZ-XYZ")
	src = edit(t, src, "weekday: thursday", "weekday: Thursday")
	src = edit(t, src, "capacity: 25", "capacity: -1")
	src += "colour: blue\n"
	env := exampleEnv()
	delete(env, "SAT_TOKEN")

	got := problemsOf(t, src, env)
	var keys []string
	for _, p := range got {
		keys = append(keys, p.Key)
	}
	require.Equal(t, []string{
		// Found while reading the file, in its order.
		"districts[AZ-XYZ].token",
		"colour",
		// Found by validation, in the order of the keys.
		"amqp.url",
		"http.listen",
		"districts[AZ-BIL].officials[1].reception[1].weekday",
		"districts[AZ-XYZ].code",
		"districts[AZ-XYZ].officials[0].reception[0].capacity",
	}, keys)
	require.Equal(t, Problem{Key: "amqp.url", Line: 6, Message: `scheme must be amqp:// or amqps://, not "http"`}, got[2])
	require.Equal(t, 49, got[4].Line)
	require.Equal(t, 56, got[0].Line)
}

func TestParseYAMLErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, want string
	}{
		{name: "Syntax", src: "amqp:\n  url: [unclosed\n", want: "yaml:"},
		{name: "WrongType", src: "districts:\n  - code: AZ-BIL\n    officials:\n      - reception:\n          - capacity: many\n", want: "yaml:"},
		{name: "TwoDocuments", src: "amqp: {}\n---\namqp: {}\n", want: "more than one document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.src), lookup(nil), services)
			require.ErrorContains(t, err, tt.want)
			var verr *ValidationError
			require.False(t, errors.As(err, &verr))
		})
	}
}

func TestParseEmptyFile(t *testing.T) {
	t.Parallel()
	got := problemsOf(t, "# nothing yet\n", nil)
	var keys []string
	for _, p := range got {
		keys = append(keys, p.Key)
	}
	require.Equal(t, []string{"amqp.url", "postgres.url", "http.listen", "portal.requests_queue", "portal.status_queue",
		"portal.signing_key", "registry.url", "registry.token", "districts"}, keys)
}

func TestLogValueMasksSecrets(t *testing.T) {
	t.Parallel()
	env := exampleEnv()
	env["AMQP_PASSWORD"] = "amqp-password-S3CRET8"
	env["PG_PASSWORD"] = "pg-password-S3CRET9"
	src := example(t)
	src = edit(t, src, "url: amqp://guest:guest@", "url: amqps://guest:${AMQP_PASSWORD}@")
	src = edit(t, src, "?sslmode=disable", "?sslmode=disable&password=${PG_PASSWORD}")
	cfg, err := Parse([]byte(src), lookup(env), services)
	require.NoError(t, err)

	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("config", "config", cfg)
	// Logged by value or in parts, they stay masked.
	log.Info("parts", "config", *cfg, "portal", cfg.Portal, "district", cfg.Districts[1], "registry", cfg.Registry)
	out := buf.String()
	for name, secret := range env {
		require.NotContains(t, out, secret, "%s leaked", name)
	}
	require.NotContains(t, out, "S3CRET", "no part of a secret leaked")
	// The rest of the config is there, secrets replaced in place.
	for _, want := range []string{
		`"url":"amqps://guest:***@127.0.0.1:5672/"`,
		`"url":"postgres://postgres@127.0.0.1:5432/korpu?sslmode=disable&password=***"`,
		`"signing_keys":{"default":"***"}`,
		`"access":{"portal":{"role":"portal","token":"***"},"monitor":{"role":"monitor","token":"***"},"central-monitors":{"role":"monitor","token":"***"},"duty-operator":{"role":"operator","token":"***"}}`,
		`"AZ-BIL":{"name":"Biləsuvar rayon İcra Hakimiyyəti","adapter":"esd"`,
		`"username":"hub","password":"***","poll_interval":5000000000`,
		`"token":"***","callback_token":"***","services":["appeal","reception-booking","family-composition-certificate","housing-registration"]`,
		`"officials":["BIL-01","BIL-02"]`,
		`"poison_queue":"korpu.poison"`,
	} {
		require.Contains(t, out, want)
	}
}

func TestValidationErrorHidesSecrets(t *testing.T) {
	t.Parallel()
	env := exampleEnv()
	env["AMQP_PASSWORD"] = "amqp-password-S3CRET8"
	src := edit(t, example(t), "url: amqp://guest:guest@127.0.0.1:5672/", "url: amqp://guest:${AMQP_PASSWORD}@127.0.0.1:port/")
	_, err := Parse([]byte(src), lookup(env), services)
	require.ErrorContains(t, err, "amqp.url")
	require.NotContains(t, err.Error(), env["AMQP_PASSWORD"])
}

func TestMaskURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"amqp://guest:guest@h:5672/v", "amqp://guest:***@h:5672/v"},
		{"amqp://guest@h/", "amqp://guest@h/"},
		{"postgresql://u:p%40ss@h/db?sslmode=require&sslpassword=x&application_name=korpu", "postgresql://u:***@h/db?sslmode=require&sslpassword=***&application_name=korpu"},
		{"http://h/?access_token=abc", "http://h/?access_token=***"},
		{"http://h:1", "http://h:1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, maskURL(tt.in))
		})
	}
}

func TestOfficialCapacity(t *testing.T) {
	t.Parallel()
	two := Official{Reception: []ReceptionHours{
		{Weekday: time.Friday, From: "09:00", To: "11:00", Capacity: 4},
		{Weekday: time.Friday, From: "14:00", To: "16:00", Capacity: 6},
		{Weekday: time.Monday, From: "14:00", To: "16:00", Capacity: 3},
	}}
	require.Equal(t, map[time.Weekday]int{time.Friday: 10, time.Monday: 3}, two.Capacity(), "sessions of one day add up")
}

// TestInsecureHTTP: an http:// registry or district is refused unless its
// entry allows it, each with the key and line, the allow key named.
func TestInsecureHTTP(t *testing.T) {
	t.Parallel()
	t.Run("RefusedWithoutTheFlag", func(t *testing.T) {
		t.Parallel()
		// The operator's example as written: http:// everywhere, no flag.
		src := example(t)
		for _, line := range []string{
			"  allow_insecure_http: true             # on this machine only: http:// elsewhere sends the token in clear text\n",
			"    allow_insecure_http: true           # on this machine only: use https:// for a real district\n",
			"    allow_insecure_http: true\n",
		} {
			src = edit(t, src, line, "")
		}
		require.Equal(t, []Problem{
			{Key: "registry.url", Line: 24, Message: "http:// would send the registry token in clear text: " +
				"use https://, or set registry.allow_insecure_http: true for a trusted network"},
			{Key: "districts[AZ-BIL].endpoint", Line: 31, Message: "http:// would send the district's credentials and citizens' records " +
				"in clear text: use https://, or set districts[AZ-BIL].allow_insecure_http: true for a trusted network"},
			{Key: "districts[AZ-SAT].endpoint", Line: 52, Message: "http:// would send the district's credentials and citizens' records " +
				"in clear text: use https://, or set districts[AZ-SAT].allow_insecure_http: true for a trusted network"},
		}, problemsOf(t, src, exampleEnv()))
	})
	t.Run("HTTPSNeedsNoFlag", func(t *testing.T) {
		t.Parallel()
		src := example(t)
		src = edit(t, src, "  url: http://127.0.0.1:18081\n  allow_insecure_http: true ", "  url: https://registry.example.az\n #")
		src = edit(t, src, "    endpoint: http://127.0.0.1:18091\n    allow_insecure_http: true\n", "    endpoint: https://sat.example.az/api\n")
		cfg, err := Parse([]byte(src), lookup(exampleEnv()), services)
		require.NoError(t, err)
		require.False(t, cfg.Registry.AllowInsecureHTTP)
		require.False(t, cfg.Districts[1].AllowInsecureHTTP)
		require.True(t, cfg.Districts[0].AllowInsecureHTTP)
	})
}

// TestAMQPURLs: amqp.urls is the cluster's nodes, in the order given, as
// one broker address; the log masks every node's password and a mismatch
// never quotes one.
func TestAMQPURLs(t *testing.T) {
	t.Parallel()
	env := exampleEnv()
	env["AMQP_PASSWORD"] = "amqp-password-S3CRET8"
	nodes := "  urls:\n" +
		"    - amqp://korpu:${AMQP_PASSWORD}@rabbit-1:5672/hub\n" +
		"    - amqp://korpu:${AMQP_PASSWORD}@rabbit-2:5672/hub\n" +
		"    - amqp://korpu:${AMQP_PASSWORD}@rabbit-3:5672/hub\n"
	src := edit(t, example(t), exampleAMQPURL, nodes)
	cfg, err := Parse([]byte(src), lookup(env), services)
	require.NoError(t, err)
	want, err := amqp.JoinNodes("amqp://korpu:amqp-password-S3CRET8@rabbit-1:5672/hub",
		"amqp://korpu:amqp-password-S3CRET8@rabbit-2:5672/hub", "amqp://korpu:amqp-password-S3CRET8@rabbit-3:5672/hub")
	require.NoError(t, err)
	require.Equal(t, want, cfg.AMQP.URL)

	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", cfg)
	require.Contains(t, buf.String(), `"amqp":{"urls":["amqp://korpu:***@rabbit-1:5672/hub","amqp://korpu:***@rabbit-2:5672/hub","amqp://korpu:***@rabbit-3:5672/hub"],"queue_type"`)
	require.NotContains(t, buf.String(), "S3CRET8")

	env["AMQP_PASSWORD_2"] = "another-password-S3CRET9"
	src = edit(t, src, "korpu:${AMQP_PASSWORD}@rabbit-3", "korpu:${AMQP_PASSWORD_2}@rabbit-3")
	_, err = Parse([]byte(src), lookup(env), services)
	require.ErrorContains(t, err, "amqp.urls (line 6): node 3 (rabbit-3:5672) has another user or password than node 1 (rabbit-1:5672)")
	require.NotContains(t, err.Error(), "S3CRET")
}
