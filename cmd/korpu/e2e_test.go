package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/korpu-az/korpu/adapters/sim/portalsim"
	"github.com/korpu-az/korpu/routers"
)

// TestServeEndToEnd sends 500 requests, bad ones and repeats included,
// through the real binary, broker and database, and checks every promise.
func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	s := newStack(t, "AZ-BIL", "AZ-SAT", "AZ-SAB")
	gen := s.generator()
	// The requests wait in the queue before the hub starts, so the time to
	// drain them measures the hub, not this test's publishing.
	e := s.publishGenerated(gen, 500)
	s.startHub()
	start := time.Now()
	waitFor(t, 2*time.Minute, "every request registered or invalid", func() bool {
		c, _ := s.tracker.Counts()
		return c[routers.StatusRegistered] >= len(e.valid) && c[routers.StatusInvalid] >= len(e.invalid)
	})
	registered := time.Since(start)
	waitFor(t, 2*time.Minute, "every appeal answered", func() bool { return s.answered(e) == len(e.valid) })
	answered := time.Since(start)
	t.Logf("500 requests (%d valid, %d invalid, %d poisoned, rest repeats) drained by serve: all registered or invalid after %s (%.0f requests/s); all answered through district callbacks after %s",
		len(e.valid), len(e.invalid), e.poisoned, registered.Round(time.Millisecond), 500/registered.Seconds(), answered.Round(time.Millisecond))

	// Comments: the filer's reach the district and add an event; others' are invalid.
	numbers := map[string]portalsim.Message{}
	for id, m := range e.valid {
		numbers[s.tracker.Request(id)[0].AppealNumber] = m
		if len(numbers) == 5 {
			break
		}
	}
	comments := newExpectations()
	for number, m := range numbers {
		own := gen.Comment(number, m.FIN, true)
		other := gen.Comment(number, m.FIN, false)
		comments.add(other)
		s.publish(own)
		s.publish(own) // a repeat is one comment
		s.publish(other)
	}
	waitFor(t, time.Minute, "comments", func() bool {
		for number := range numbers {
			if len(distinctBySequence(s.tracker.Appeal(number))) < 5 {
				return false
			}
		}
		c, _ := s.tracker.Counts()
		return c[routers.StatusInvalid] >= len(e.invalid)+len(comments.invalid)
	})
	for number, m := range numbers {
		evs := distinctBySequence(s.tracker.Appeal(number))
		require.Len(t, evs, 5, number)
		require.Equal(t, routers.StatusCommented, evs[4].Status)
		require.Len(t, s.districts[m.District].Comments(number), 1, "the district got the comment once")
	}
	s.verify(e)

	// What the monitors read: per-district counters, queue depths and the backlog.
	resp, err := http.Get("http://" + s.hubAddr + "/metrics")
	require.NoError(t, err)
	metrics, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	for _, series := range []string{
		`korpu_appeals_received_total{district="AZ-BIL"}`,
		`korpu_appeals_delivered_total{district="AZ-SAT"}`,
		`korpu_queue_messages{queue="` + s.topics.Requests + `"} 0`,
		`korpu_queue_consumers{queue="` + s.topics.District("AZ-SAB") + `"} 2`,
		`korpu_appeals_open{district="AZ-BIL"} 0`,
		`korpu_deliveries_pending{district="AZ-SAB"} 0`,
		`korpu_backlog_up 1`,
		`korpu_figures_up 1`,
		`korpu_appeals_due_soon{district="AZ-BIL"} 0`,
		`korpu_handler_execution_time_seconds_count{handler_name="intake-1"`,
	} {
		require.Contains(t, string(metrics), series)
	}

	for id := range comments.invalid {
		evs := s.tracker.Request(id)
		require.Len(t, evs, 1)
		require.Equal(t, "citizen.fin", evs[0].Errors[0].Field)
	}
}

// TestServeSurvivesSIGKILL kills the hub mid-stream and restarts it:
// nothing is lost, nothing delivered twice, sequences intact.
func TestServeSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	s := newStack(t, "AZ-BIL", "AZ-SAT")
	hub := s.startHub()
	gen := s.generator()
	e := s.publishGenerated(gen, 500)
	waitFor(t, time.Minute, "some progress before the kill", func() bool {
		c, _ := s.tracker.Counts()
		return c[routers.StatusRegistered] >= 50
	})
	require.NoError(t, hub.cmd.Process.Signal(syscall.SIGKILL))
	require.Error(t, <-hub.done, "a killed hub exits with an error")
	c, _ := s.tracker.Counts()
	t.Logf("killed after %d registered, %d delivered, %d answered", c[routers.StatusRegistered], c[routers.StatusDelivered], c[routers.StatusAnswered])
	require.Less(t, c[routers.StatusAnswered], len(e.valid), "the kill came mid-stream")

	s.restartAndVerify(e, 3*time.Minute)
}

// TestServeRefusesBadConfig: a broken config stops the hub at start with
// a message naming the key, before it touches any service.
func TestServeRefusesBadConfig(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "korpu.yaml")
	require.NoError(t, os.WriteFile(path, []byte("amqp: { url: \"http://x\" }\ncolour: blue\n"), 0o600))
	out, err := exec.Command(korpuBinary, "serve", "--config", path).CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "amqp.url")
	require.Contains(t, string(out), "colour")
	require.True(t, bytes.Contains(out, []byte("districts")), "every problem is reported at once:\n%s", out)
}
