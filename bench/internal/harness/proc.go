package harness

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It
// is 100 on every Linux architecture Go supports; sysconf would need cgo.
const clockTicks = 100

// cpuTime returns the CPU time (user + system) a process has used so far.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces and parentheses; the
	// fields after its closing parenthesis are plain.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("proc: bad stat of %d", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("proc: short stat of %d", pid)
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("proc: bad stat of %d", pid)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// memory returns a process's resident set size now and its peak (VmHWM),
// in bytes.
func memory(pid int) (rss, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if k == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	return rss, peak, nil
}

// resetPeak sets a process's VmHWM back to its current RSS (Linux 4.0+),
// so that the peak read after a run is that run's.
func resetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// findPID returns the process running the executable at path. The harness
// builds into a fresh directory, so the path names exactly one process.
func findPID(path string) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err == nil && exe == path {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("proc: no process runs %s", path)
}

// Usage is what one process used during a measured interval.
type Usage struct {
	CPUSeconds float64 `json:"cpu_s"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
}

// monitor measures the CPU time and peak RSS of a set of processes over an
// interval. The peak comes from VmHWM after a reset where the kernel allows
// it, and from sampling VmRSS otherwise (or in addition).
type monitor struct {
	pids  map[string]int
	reset map[string]bool // VmHWM was reset, so it is this interval's
	cpu0  map[string]time.Duration
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	peaks map[string]int64
}

func startMonitor(pids map[string]int) *monitor {
	m := &monitor{pids: pids, reset: map[string]bool{}, cpu0: map[string]time.Duration{}, peaks: map[string]int64{},
		stop: make(chan struct{}), done: make(chan struct{})}
	for name, pid := range pids {
		m.reset[name] = resetPeak(pid) == nil
		if c, err := cpuTime(pid); err == nil {
			m.cpu0[name] = c
		}
	}
	go func() {
		defer close(m.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			m.sample()
			select {
			case <-m.stop:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

func (m *monitor) sample() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, pid := range m.pids {
		if rss, _, err := memory(pid); err == nil && rss > m.peaks[name] {
			m.peaks[name] = rss
		}
	}
}

// finish ends the interval and returns each process's usage.
func (m *monitor) finish() map[string]Usage {
	close(m.stop)
	<-m.done
	m.sample()
	out := map[string]Usage{}
	for name, pid := range m.pids {
		var u Usage
		if c, err := cpuTime(pid); err == nil {
			u.CPUSeconds = (c - m.cpu0[name]).Seconds()
		}
		peak := m.peaks[name]
		if _, hwm, err := memory(pid); err == nil && m.reset[name] && hwm > peak {
			peak = hwm
		}
		u.PeakRSSMiB = float64(peak) / (1 << 20)
		out[name] = u
	}
	return out
}
