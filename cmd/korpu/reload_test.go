package main

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/tlsconf"
	"github.com/korpu-az/korpu/cmd/korpu/config"
	"github.com/korpu-az/korpu/routers"
	"github.com/korpu-az/korpu/routers/catalogue"
)

// nextPortalKey is the portal's key after the rotation.
const nextPortalKey = "e2e-portal-key-next-0123456789abcdefghij"

// TestRotationWithTrafficFlowing rotates the portal's signing key of a
// running `korpu serve` while the portal publishes: the new key is added
// (korpu reload), the portal signs with it, the old key is removed once
// nothing signed with it waits (SIGHUP). Nothing is poisoned or invalid,
// every request is answered, and the metric counts each key's messages.
// A reload with an invalid file changes nothing.
func TestRotationWithTrafficFlowing(t *testing.T) {
	t.Parallel()
	s := newStackWith(t, stackOptions{codes: []string{"AZ-SAT"}})
	h := s.startHub()
	gen := s.generatorWith(7, -1, -1) // no bad messages, no repeats: each one is answered
	e := newExpectations()

	// The portal: publishes until stopped, signing with key.
	var key atomic.Pointer[string]
	first := portalKey
	key.Store(&first)
	var sent struct {
		sync.Mutex
		byKey map[string][]string // request ids by the key that signed them
	}
	sent.byKey = map[string][]string{}
	stop := make(chan struct{})
	published := make(chan struct{})
	go func() {
		defer close(published)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			m := gen.Next()
			k := *key.Load()
			m.Signature = routers.Sign([]byte(k), m.Body)
			e.add(m)
			sent.Lock()
			sent.byKey[k] = append(sent.byKey[k], m.ID)
			sent.Unlock()
			if err := s.publisher.Publish(s.topics.Requests, portalMessage(m)); err != nil {
				return // the test has ended
			}
		}
	}()
	stopPortal := sync.OnceFunc(func() { close(stop); <-published })
	t.Cleanup(stopPortal)
	// taken counts the messages signed with k the hub has answered, of how many.
	taken := func(k string) (int, int) {
		sent.Lock()
		ids := append([]string(nil), sent.byKey[k]...)
		sent.Unlock()
		n := 0
		for _, id := range ids {
			if len(s.tracker.Request(id)) > 0 {
				n++
			}
		}
		return n, len(ids)
	}
	flowing := func(k string) func() bool {
		return func() bool { n, _ := taken(k); return n >= 20 }
	}
	reloads := func() int { return strings.Count(readFile(t, h.log), `"msg":"reloaded"`) }
	original := readFile(t, s.config)
	const oneKey = "  signing_key: ${KORPU_PORTAL_KEY}\n"
	require.Contains(t, original, oneKey)

	// 1. Add the next key, by korpu reload; "default" keeps the old key's count.
	waitFor(t, 30*time.Second, "traffic under the old key", flowing(portalKey))
	writeFile(t, s.config, strings.Replace(original, oneKey,
		"  signing_keys:\n    - { id: default, key: \"${KORPU_PORTAL_KEY}\" }\n    - { id: next, key: "+nextPortalKey+" }\n", 1))
	out, err := exec.Command(korpuBinary, "reload", "--pid-file", s.pidFile(0)).CombinedOutput()
	require.NoError(t, err, string(out))
	waitFor(t, 10*time.Second, "the first reload", func() bool { return reloads() == 1 })
	require.Contains(t, signatures(t, s.hubAddr), "next", "the new key shows before it signs anything")

	// 2. The portal signs with the next key; the old one's messages drain.
	k := nextPortalKey
	key.Store(&k)
	waitFor(t, 30*time.Second, "traffic under the next key", flowing(nextPortalKey))
	waitFor(t, 30*time.Second, "every message of the old key taken", func() bool { n, of := taken(portalKey); return n == of })

	// 3. Remove the old key, by SIGHUP.
	writeFile(t, s.config, strings.Replace(original, oneKey, "  signing_keys: [{ id: next, key: "+nextPortalKey+" }]\n", 1))
	require.NoError(t, h.cmd.Process.Signal(syscall.SIGHUP))
	waitFor(t, 10*time.Second, "the second reload", func() bool { return reloads() == 2 })
	retired := signatures(t, s.hubAddr)["default"]
	sent.Lock()
	before := len(sent.byKey[nextPortalKey])
	sent.Unlock()
	waitFor(t, 30*time.Second, "more traffic after the old key left", func() bool {
		sent.Lock()
		defer sent.Unlock()
		return len(sent.byKey[nextPortalKey]) > before+20
	})

	// 4. A file that fails validation changes nothing: the monitors' token
	// it would change still is the old one, and traffic flows on.
	invalid := strings.Replace(readFile(t, s.config), "monitor: { token: "+e2eMonitorToken+" }", "monitor: { token: tooShort7x }", 1)
	require.NotEqual(t, readFile(t, s.config), invalid)
	writeFile(t, s.config, invalid)
	require.NoError(t, h.cmd.Process.Signal(syscall.SIGHUP))
	waitFor(t, 10*time.Second, "the refused reload logged", func() bool {
		return strings.Contains(readFile(t, h.log), `"msg":"reload refused: nothing changed"`)
	})
	require.NotContains(t, readFile(t, h.log), "tooShort7x", "the log names the key, never the value")
	require.Contains(t, readFile(t, h.log), "monitor.token")
	require.Equal(t, http.StatusOK, s.apiGet("/v1/dead-letters", e2eMonitorToken, "", nil), "the old token still opens the API")
	stopPortal()

	waitFor(t, 2*time.Minute, "every appeal answered", func() bool { return s.answered(e) == len(e.valid) })
	s.verify(e) // no poisoned message, each appeal created once in its district
	counts, _ := s.tracker.Counts()
	require.Equal(t, len(e.invalid), counts[routers.StatusInvalid], "invalid only what the portal sent invalid")
	got := signatures(t, s.hubAddr)
	sent.Lock()
	defer sent.Unlock()
	// Each message once (a redelivery would count again); the retired key
	// counted nothing more once it was gone.
	require.GreaterOrEqual(t, got["default"], float64(len(sent.byKey[portalKey])))
	require.GreaterOrEqual(t, got["next"], float64(len(sent.byKey[nextPortalKey])))
	require.Equal(t, retired, got["default"], "the old key stopped at its count")
	require.Len(t, got, 2)
	require.Equal(t, 2, reloads())
}

// TestReloadNeedsPIDFile: korpu reload says what it needs, and sends
// nothing for a file that fails validation.
func TestReloadNeedsPIDFile(t *testing.T) {
	t.Parallel()
	err := run(t.Context(), []string{"reload"}, io.Discard, func(string) (string, bool) { return "", false })
	require.ErrorContains(t, err, "--pid-file is required")
	dir := t.TempDir()
	writeFile(t, dir+"/korpu.pid", "1234567\n")
	writeFile(t, dir+"/korpu.yaml", "amqp: { url: x }\n")
	err = run(t.Context(), []string{"reload", "--pid-file", dir + "/korpu.pid", "--config", dir + "/korpu.yaml"}, io.Discard,
		func(string) (string, bool) { return "", false })
	require.ErrorContains(t, err, "nothing sent")
}

// signatures reads korpu_portal_signatures_total by key from a hub.
func signatures(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	dec := expfmt.NewDecoder(strings.NewReader(scrapeMetrics(t, addr)), expfmt.NewFormat(expfmt.TypeTextPlain))
	out := map[string]float64{}
	for {
		var mf dto.MetricFamily
		err := dec.Decode(&mf)
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		if mf.GetName() != "korpu_portal_signatures_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "key" {
					out[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path) //nolint:gosec // G304: the test's own files
	require.NoError(t, err)
	return string(data)
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(data), 0o600))
}

// TestRestartNeeded: a reload names what changed beyond the secrets it
// swaps, and nothing when only secrets changed.
func TestRestartNeeded(t *testing.T) {
	t.Parallel()
	src := readFile(t, "../../deploy/korpu.compose.yaml")
	// parse reads src with every secret's value starting with prefix.
	parse := func(src, prefix, database string) *config.Config {
		cfg, err := config.Parse([]byte(src), func(name string) (string, bool) {
			if name == "POSTGRES_PASSWORD" {
				return database, true
			}
			return prefix + "-0123456789abcdef0123456789-" + name, true
		}, catalogue.Default().Codes())
		require.NoError(t, err)
		return cfg
	}
	old := parse(src, "before", "pg")
	require.Empty(t, restartNeeded(old, parse(src, "after", "pg")), "the hub's tokens, keys and passwords change live")
	require.Equal(t, []string{"Postgres"}, restartNeeded(old, parse(src, "before", "pg2")), "the pool connected with the old one")
	moved := strings.Replace(src, "requests_queue: egov.portal.requests", "requests_queue: egov.portal.requests.v2", 1)
	require.NotEqual(t, src, moved)
	require.Equal(t, []string{"Portal"}, restartNeeded(old, parse(moved, "before", "pg")))

	// After a reload, what runs is the new secrets and the old rest: the
	// next reload still names the queue as waiting for a restart.
	after := parse(src, "after", "pg")
	require.Equal(t, after, withSecretsOf(old, after))
	running := withSecretsOf(old, parse(moved, "after", "pg"))
	require.Equal(t, old.Portal.RequestsQueue, running.Portal.RequestsQueue)
	require.Equal(t, after.Access, running.Access)
	require.Equal(t, []string{"Portal"}, restartNeeded(running, parse(moved, "after", "pg")))
}

// TestReloadTLSKeepsTheClientCA: the callbacks' certificate check is wired
// at start, so a reload that adds or removes http.tls.client_ca_file is
// refused before anything is swapped (restartNeeded names it), while a new
// CA file in place of the old one is no restart.
func TestReloadTLSKeepsTheClientCA(t *testing.T) {
	t.Parallel()
	files := func(clientCA string) *config.Config {
		return &config.Config{HTTP: config.HTTP{TLS: &tlsconf.ServerFiles{CertFile: "hub.crt", KeyFile: "hub.key", ClientCAFile: clientCA}}}
	}
	logger := slog.New(slog.DiscardHandler)
	require.ErrorContains(t, reloadTLS(nil, false, logger)(files("ca.crt")), "client_ca_file: added or removed")
	require.ErrorContains(t, reloadTLS(nil, true, logger)(files("")), "client_ca_file: added or removed")
	require.Equal(t, []string{"HTTP"}, restartNeeded(files(""), files("ca.crt")))
	require.Empty(t, restartNeeded(files("ca.crt"), files("other-ca.crt")))
}
