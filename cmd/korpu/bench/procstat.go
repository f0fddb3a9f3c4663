package bench

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// defaultClockTicks is USER_HZ, the unit of /proc's CPU times, when the
// kernel's auxiliary vector does not say: 100 on every Linux architecture Go
// supports.
const defaultClockTicks = 100

// atClkTck is AT_CLKTCK, the auxiliary vector entry that holds USER_HZ: what
// sysconf(_SC_CLK_TCK) returns, read without cgo.
const atClkTck = 17

// clockTicks returns the clock ticks per second of /proc's CPU times, from
// /proc/self/auxv, or defaultClockTicks if it cannot be read.
func clockTicks() int64 {
	raw, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return defaultClockTicks
	}
	if hz, ok := clkTckFromAuxv(raw); ok {
		return hz
	}
	return defaultClockTicks
}

// clkTckFromAuxv finds AT_CLKTCK in a 64-bit little-endian auxiliary vector.
func clkTckFromAuxv(raw []byte) (int64, bool) {
	for i := 0; i+16 <= len(raw); i += 16 {
		key, val := binary.LittleEndian.Uint64(raw[i:]), binary.LittleEndian.Uint64(raw[i+8:])
		if key == 0 {
			break
		}
		if key == atClkTck && val > 0 && val < 1_000_000 {
			return int64(val), true
		}
	}
	return 0, false
}

// procTimes is a process's CPU time in clock ticks: its own (utime+stime)
// and that of its children it has waited for (cutime+cstime). Counting both
// keeps the CPU of PostgreSQL backends that exit during a run: the
// postmaster collects it in cutime once it reaps them.
type procTimes struct{ self, children int64 }

func (t procTimes) total() int64 { return t.self + t.children }

// parseStat reads the CPU times from the contents of /proc/<pid>/stat. The
// command name in parentheses may hold spaces and parentheses, so the
// fields are counted from the last ')'.
func parseStat(raw []byte) (procTimes, error) {
	end := bytes.LastIndexByte(raw, ')')
	if end < 0 {
		return procTimes{}, errors.New("no command name")
	}
	// After ')': state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17).
	fields := strings.Fields(string(raw[end+1:]))
	if len(fields) < 15 {
		return procTimes{}, fmt.Errorf("%d fields after the command name", len(fields))
	}
	var v [4]int64
	for i := range v {
		n, err := strconv.ParseInt(fields[11+i], 10, 64)
		if err != nil {
			return procTimes{}, fmt.Errorf("field %d: %w", 14+i, err)
		}
		v[i] = n
	}
	return procTimes{self: v[0] + v[1], children: v[2] + v[3]}, nil
}

// readProcTimes reads /proc/<pid>/stat ("self" for this process).
func readProcTimes(pid string) (procTimes, error) {
	raw, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return procTimes{}, err
	}
	return parseStat(raw)
}

// pidsByComm lists the processes whose /proc/<pid>/comm is one of names.
func pidsByComm(names ...string) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err != nil {
			continue // gone already
		}
		c := strings.TrimSpace(string(comm))
		for _, n := range names {
			if c == n {
				pids = append(pids, e.Name())
				break
			}
		}
	}
	return pids
}

// groupTicks is the CPU time of a group of processes; processes that are
// gone by now are absent (their time lives on in their parent's cutime).
func groupTicks(pids []string) int64 {
	var sum int64
	for _, pid := range pids {
		if t, err := readProcTimes(pid); err == nil {
			sum += t.total()
		}
	}
	return sum
}

// machineTimes is the first line of /proc/stat: busy and all ticks of every CPU.
type machineTimes struct{ busy, total int64 }

// parseMachineStat reads the "cpu" line of /proc/stat: busy is everything
// but idle and iowait.
func parseMachineStat(raw []byte) (machineTimes, error) {
	line, _, _ := bytes.Cut(raw, []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) < 5 || fields[0] != "cpu" {
		return machineTimes{}, errors.New("no cpu line")
	}
	var m machineTimes
	for i, f := range fields[1:] {
		if i >= 8 { // guest and guest_nice are already in user and nice
			break
		}
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return machineTimes{}, fmt.Errorf("cpu field %d: %w", i+1, err)
		}
		m.total += n
		if i != 3 && i != 4 { // idle, iowait
			m.busy += n
		}
	}
	return m, nil
}

func readMachineTimes() (machineTimes, error) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineTimes{}, err
	}
	return parseMachineStat(raw)
}

// memoryKiB reads a "VmRSS"/"VmHWM"-style line of /proc/<pid>/status, in KiB.
func memoryKiB(pid int, key string) (int64, error) {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	return parseStatusKiB(raw, key)
}

func parseStatusKiB(raw []byte, key string) (int64, error) {
	for line := range strings.SplitSeq(string(raw), "\n") {
		rest, ok := strings.CutPrefix(line, key+":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			break
		}
		return strconv.ParseInt(fields[0], 10, 64)
	}
	return 0, fmt.Errorf("no %s in status", key)
}

// cpuSnapshot is the CPU time of every group the report splits, at one moment.
type cpuSnapshot struct {
	hub, broker, database, bench int64
	machine                      machineTimes
}

// takeCPUSnapshot reads every group now; hubPIDs are the hub processes the
// bench started.
func takeCPUSnapshot(hubPIDs []int) cpuSnapshot {
	var s cpuSnapshot
	for _, pid := range hubPIDs {
		if t, err := readProcTimes(strconv.Itoa(pid)); err == nil {
			s.hub += t.total()
		}
	}
	s.broker = groupTicks(pidsByComm("beam.smp"))
	s.database = groupTicks(pidsByComm("postgres"))
	if t, err := readProcTimes("self"); err == nil {
		s.bench = t.total()
	}
	s.machine, _ = readMachineTimes() // zero on a machine without /proc: the report shows 0
	return s
}
