package bench

import (
	"github.com/prometheus/procfs"
)

// userHZ is the unit of /proc's per-process CPU times, clock ticks a second:
// 100 on every Linux architecture Go supports, which procfs assumes too
// (ProcStat.CPUTime, Stat's CPU seconds).
const userHZ = 100

// procReader reads CPU times and memory from a /proc through procfs.
type procReader struct {
	fs procfs.FS
	ok bool // false without a /proc: every figure reads 0
}

// newProcReader reads the machine's /proc.
func newProcReader() procReader {
	fs, err := procfs.NewDefaultFS()
	return procReader{fs: fs, ok: err == nil}
}

// cpuSeconds is a process's CPU time: its own (utime+stime) and that of its
// children it has waited for (cutime+cstime). Counting both keeps the CPU of
// PostgreSQL backends that exit during a run: the postmaster collects it in
// cutime once it reaps them.
func cpuSeconds(p procfs.Proc) (float64, error) {
	st, err := p.Stat()
	if err != nil {
		return 0, err
	}
	return st.CPUTime() + float64(st.CUTime+st.CSTime)/userHZ, nil
}

// groupSeconds adds the CPU time of every process to the sum its comm
// names, in one walk of /proc; processes gone by now are absent (their time
// lives on in their parent's cutime).
func (r procReader) groupSeconds(sums map[string]*float64) {
	procs, err := r.fs.AllProcs()
	if err != nil {
		return
	}
	for _, p := range procs {
		comm, err := p.Comm()
		if err != nil {
			continue // gone already
		}
		if sum, ok := sums[comm]; ok {
			if s, err := cpuSeconds(p); err == nil {
				*sum += s
			}
		}
	}
}

// machineTimes is every CPU's time, in seconds: busy is everything but idle
// and iowait.
type machineTimes struct{ busy, total float64 }

func (r procReader) machine() machineTimes {
	st, err := r.fs.Stat()
	if err != nil {
		return machineTimes{}
	}
	c := st.CPUTotal
	// Guest and GuestNice are already inside User and Nice.
	busy := c.User + c.Nice + c.System + c.IRQ + c.SoftIRQ + c.Steal
	return machineTimes{busy: busy, total: busy + c.Idle + c.Iowait}
}

// memory is a process's resident memory now and at its peak (VmRSS and
// VmHWM), in KiB.
func (r procReader) memory(pid int) (rss, peak int64) {
	if !r.ok {
		return 0, 0
	}
	p, err := r.fs.Proc(pid)
	if err != nil {
		return 0, 0
	}
	st, err := p.NewStatus()
	if err != nil {
		return 0, 0
	}
	return int64(st.VmRSS / 1024), int64(st.VmHWM / 1024)
}

// cpuSnapshot is the CPU time, in seconds, of every group the report
// splits, at one moment.
type cpuSnapshot struct {
	hub, broker, database, bench float64
	machine                      machineTimes
}

// snapshot reads every group now; hubPIDs are the hub processes the bench
// started.
func (r procReader) snapshot(hubPIDs []int) cpuSnapshot {
	var s cpuSnapshot
	if !r.ok {
		return s // no /proc: the report shows 0
	}
	for _, pid := range hubPIDs {
		if p, err := r.fs.Proc(pid); err == nil {
			if sec, err := cpuSeconds(p); err == nil {
				s.hub += sec
			}
		}
	}
	r.groupSeconds(map[string]*float64{"beam.smp": &s.broker, "postgres": &s.database})
	if p, err := r.fs.Self(); err == nil {
		s.bench, _ = cpuSeconds(p)
	}
	s.machine = r.machine()
	return s
}
