package main

import (
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDemoRunsWithoutServices runs `korpu demo` for a few seconds. It needs
// no broker or database: the config it builds names unreachable ones, so
// any use of them would fail the run.
func TestDemoRunsWithoutServices(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(korpuBinary, "demo", "--duration", "6s", "--listen", "127.0.0.1:0", "--rate", "60").CombinedOutput()
	require.NoError(t, err, "%s", out)
	m := regexp.MustCompile(`stopped: sent (\d+), registered (\d+), delivered (\d+), answered (\d+), invalid (\d+), poisoned (\d+); order violations: (\d+)`).FindSubmatch(out)
	require.NotNil(t, m, "final summary missing:\n%s", out)
	n := func(i int) int {
		v, err := strconv.Atoi(string(m[i]))
		require.NoError(t, err)
		return v
	}
	require.Greater(t, n(1), 100, "requests sent")
	require.Greater(t, n(2), 50, "registered")
	require.Greater(t, n(4), 20, "answered through the district's callbacks")
	require.Greater(t, n(5), 0, "bad requests answered invalid")
	require.Zero(t, n(7), "order violations")
	require.Regexp(t, `registered \d+ \(\+\d+/s\)`, string(out), "live progress per second")
}
