package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/postgres"
	"github.com/korpu-az/korpu/adapters/sim/portalsim"
	"github.com/korpu-az/korpu/routers"
)

// TestServeGracefulShutdown sends SIGTERM mid-stream while districts are
// slow: the hub stops intake, finishes or returns its in-flight work, flushes
// the outbox, exits 0 and dead-letters nothing; restarted, it completes
// every appeal exactly once.
func TestServeGracefulShutdown(t *testing.T) {
	t.Parallel()
	slow := func(_ string, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(150 * time.Millisecond)
			next.ServeHTTP(w, r)
		})
	}
	s := newStackWith(t, stackOptions{codes: []string{"AZ-BIL", "AZ-SAT"}, wrap: slow})
	hub := s.startHub()
	gen := s.generator()
	e := s.publishGenerated(gen, 300)
	waitFor(t, time.Minute, "deliveries under way", func() bool {
		c, _ := s.tracker.Counts()
		return c[routers.StatusDelivered] >= 10
	})
	require.NoError(t, hub.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-hub.done:
		require.NoError(t, err, "a graceful stop exits 0")
	case <-time.After(40 * time.Second):
		t.Fatal("the hub did not stop within 40 s of SIGTERM")
	}
	log, err := os.ReadFile(hub.log)
	require.NoError(t, err)
	require.Contains(t, string(log), `"msg":"stopped"`)
	c, _ := s.tracker.Counts()
	require.Less(t, c[routers.StatusDelivered], len(e.valid), "the stop came mid-stream")
	require.Empty(t, s.deadLetters(routers.DeadAppeal), "a stop dead-letters nothing")
	require.Empty(t, s.deadLetters(routers.DeadComment))

	s.restartAndVerify(e, 2*time.Minute)
}

// TestServeStopRepeatsNoDistrictCall stops a hub while its district calls
// are under way and another hub stands idle: the stopping hub finishes the
// calls before their messages go back to the queue, so the idle hub does
// not take them and call the district again.
func TestServeStopRepeatsNoDistrictCall(t *testing.T) {
	t.Parallel()
	calls := &callsInFlight{latency: 3 * time.Second}
	s := newStackWith(t, stackOptions{codes: []string{"AZ-BIL", "AZ-SAT"}, hubs: 2, wrap: calls.wrap})
	stopping := s.startHubAt(0)
	e := s.publishGenerated(s.generatorWith(7, 0, 0), 4)
	waitFor(t, 30*time.Second, "deliveries under way", func() bool { return calls.n.Load() >= 2 })
	s.startHubAt(1) // idle: the first hub holds every message
	require.NoError(t, stopping.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-stopping.done:
		require.NoError(t, err, "a graceful stop exits 0")
	case <-time.After(shutdownBudget + 5*time.Second):
		t.Fatal("the hub did not stop within its shutdown budget")
	}
	require.Positive(t, finishedAfterStop(t, stopping.log)["appeal delivered"], "the stop came while deliveries were under way")

	s.restartAndVerify(e, time.Minute)
	for code, sim := range s.districts {
		for number, n := range sim.Received() {
			require.Equal(t, 1, n, "%s posted to %s %d times", number, code, n)
		}
	}
}

// TestDLQCommand lists, shows, replays and drops dead letters with the
// real binary, against the database a hub filled.
func TestDLQCommand(t *testing.T) {
	t.Parallel()
	s := newStack(t, "AZ-BIL")
	gen := s.generator()
	for range 3 {
		m := gen.Next()
		s.publish(portalsimBadSignature(m))
	}
	s.startHub()
	waitFor(t, 30*time.Second, "three dead letters", func() bool { return len(s.deadLetters(routers.DeadPoison)) == 3 })

	dlq := func(args ...string) (string, error) {
		cmd := exec.Command(korpuBinary, append([]string{"dlq"}, args...)...)
		cmd.Env = append(os.Environ(), "KORPU_PORTAL_KEY="+portalKey, "KORPU_REGISTRY_TOKEN="+registryToken, "KORPU_LOG_LEVEL=error")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := dlq("list", "--config", s.config)
	require.NoError(t, err, out)
	letters := s.deadLetters(routers.DeadPoison)
	for _, dl := range letters {
		require.Contains(t, out, strconv.FormatInt(dl.ID, 10)+" ")
	}
	require.Contains(t, out, "x-signature does not match")
	first := strconv.FormatInt(letters[0].ID, 10)

	out, err = dlq("show", "--config", s.config, first)
	require.NoError(t, err, out)
	require.Contains(t, out, `"queue": "`+s.topics.Requests+`"`)
	require.Contains(t, out, `"x-signature"`)

	out, err = dlq("drop", "--config", s.config, "--as", "Aysel Məmmədova", first)
	require.NoError(t, err, out)
	require.Contains(t, out, "dropped by cli:Aysel Məmmədova")
	out, err = dlq("replay", "--config", s.config, first)
	require.Error(t, err, "a dropped letter cannot be replayed")
	require.Contains(t, out, "no longer open")
	out, err = dlq("drop", "--config", s.config, "--as", "two\nlines", first)
	require.Error(t, err, "a name the record cannot show as given")
	require.Contains(t, out, "--as")

	second := strconv.FormatInt(letters[1].ID, 10)
	out, err = dlq("replay", "--config", s.config, second)
	require.NoError(t, err, out)
	// The replayed message still fails its signature: the hub files it again
	// as a new letter, and the replayed one stays closed.
	waitFor(t, 30*time.Second, "the replayed message poisoned again", func() bool { return len(s.deadLetters(routers.DeadPoison)) == 4 })
	out, err = dlq("list", "--config", s.config, "--state", "dead")
	require.NoError(t, err, out)
	require.Equal(t, 2, strings.Count(out, "x-signature does not match"), out)

	// The API's replay, by an operator of the access list, goes in the
	// same record under the party's name; a monitor may not replay.
	third := strconv.FormatInt(letters[2].ID, 10)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+s.hubAddr+"/v1/dead-letters/"+third+"/replay", nil)
	require.NoError(t, err)
	for token, want := range map[string]int{e2eMonitorToken: http.StatusForbidden, e2eOperatorToken: http.StatusOK} {
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, want, resp.StatusCode)
	}

	// Who did what, newest first: the command line's user by default.
	me := "cli:" + currentUser(t)
	pool, err := postgres.Open(t.Context(), s.dbURL)
	require.NoError(t, err)
	defer pool.Close()
	actions, err := postgres.NewLedger(pool, time.Now).OperatorActions(t.Context(), 0, 10)
	require.NoError(t, err)
	type row struct {
		Who     string
		How     routers.Channel
		What    routers.ActionKind
		Letter  int64
		Outcome routers.Outcome
	}
	var rows []row
	for _, a := range actions {
		rows = append(rows, row{a.Operator.Name, a.Operator.Channel, a.Action, a.DeadLetterID, a.Outcome})
		require.WithinDuration(t, time.Now(), a.At, time.Minute)
	}
	require.Equal(t, []row{
		{"duty-operator", routers.ChannelAPI, routers.ActionReplay, letters[2].ID, routers.OutcomeDone},
		{me, routers.ChannelCLI, routers.ActionReplay, letters[1].ID, routers.OutcomeDone},
		{me, routers.ChannelCLI, routers.ActionReplay, letters[0].ID, routers.OutcomeNotOpen},
		{"cli:Aysel Məmmədova", routers.ChannelCLI, routers.ActionDrop, letters[0].ID, routers.OutcomeDone},
	}, rows, "the refused names recorded nothing")
	out, err = dlq("actions", "--config", s.config, "--limit", "2")
	require.NoError(t, err, out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	require.Regexp(t, `^`+strconv.FormatInt(actions[0].ID, 10)+` +\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} +duty-operator +operator +api +dead_letter.replay +`+third+` +done$`, lines[1])
	require.Contains(t, lines[2], me)
}

// currentUser is the name korpu dlq records by default after "cli:".
func currentUser(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	require.NoError(t, err)
	return u.Username
}

// portalsimBadSignature signs m with a key that is not the portal's.
func portalsimBadSignature(m portalsim.Message) portalsim.Message {
	m.Signature = routers.Sign([]byte("not the portal's key"), m.Body)
	return m
}

// callsInFlight delays every district call by latency and counts those
// being answered.
type callsInFlight struct {
	latency time.Duration
	n       atomic.Int64
}

func (c *callsInFlight) wrap(_ string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.n.Add(1)
		defer c.n.Add(-1)
		time.Sleep(c.latency) // the district thinking; the caller waits it out
		next.ServeHTTP(w, r)
	})
}

// finishedAfterStop counts, by message, the lines hub log wrote between its
// SIGTERM ("stopping: …") and "stopped": the work it had in flight and
// finished rather than abandoned.
func finishedAfterStop(t *testing.T, path string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	out := map[string]int{}
	stopping := false
	lines := bufio.NewScanner(f)
	lines.Buffer(nil, 1<<20)
	for lines.Scan() {
		var line struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal(lines.Bytes(), &line) != nil {
			continue
		}
		switch {
		case strings.HasPrefix(line.Msg, "stopping"):
			stopping = true
		case line.Msg == "stopped":
			return out
		case stopping:
			out[line.Msg]++
		}
	}
	require.NoError(t, lines.Err())
	return out
}
