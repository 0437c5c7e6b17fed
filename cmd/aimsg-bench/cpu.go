package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Where the CPU went during a load: the machine's busy time and the share of
// each part of the stack, read from /proc. On a machine whose cores are all
// busy, throughput is cores / CPU per unit of work, so CPU per turn says what
// each part costs and which one to make cheaper.

// clockTick is USER_HZ, the unit of /proc's CPU times (100 on Linux).
const clockTick = 100

// cpuSample is cumulative CPU time by part of the stack.
type cpuSample map[string]time.Duration

// cpuSample reads the CPU time so far of the stack's processes, the load
// generator (with the bare workflow's worker, which runs in it), and
// PostgreSQL's processes when it runs on this machine.
func (st *stack) cpuSample() cpuSample {
	s := cpuSample{"machine busy": machineBusy()}
	self := os.Getpid()
	s["load generator"] = processCPU(self)
	if c := st.cluster; c != nil {
		for _, p := range c.APIs {
			s["aimsg serve"] += processCPU(p.Pid())
		}
		for _, p := range c.Workers {
			s["aimsg worker"] += processCPU(p.Pid())
		}
		s["temporal server (postgresql)"] = processCPU(c.Temporal.Pid())
	} else {
		s["aimsg serve"] = processCPU(st.api.pid)
		s["aimsg worker"] = processCPU(st.worker.pid)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		comm, ppid, cpu, ok := parseStat(string(raw))
		switch {
		case !ok:
		case ppid == self && comm == "temporal":
			s["temporal dev server"] += cpu
		case comm == "postgres":
			s["postgresql"] += cpu
		}
	}
	return s
}

// perUnit is the CPU each part spent per unit of work between two samples,
// in milliseconds.
func perUnit(before, after cpuSample, units int) map[string]float64 {
	out := map[string]float64{}
	if units == 0 {
		return out
	}
	for k, v := range after {
		out[k] = round1(float64(v-before[k]) / float64(time.Millisecond) / float64(units))
	}
	return out
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

func processCPU(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	_, _, cpu, _ := parseStat(string(raw))
	return cpu
}

// parseStat reads a /proc/<pid>/stat line: the command name, the parent and
// the user plus system time of the process and its reaped children.
func parseStat(line string) (comm string, ppid int, cpu time.Duration, ok bool) {
	open, closing := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 0 || closing < open {
		return "", 0, 0, false
	}
	comm = line[open+1 : closing]
	f := strings.Fields(line[closing+1:])
	// After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
	if len(f) < 15 {
		return "", 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	var ticks int64
	for _, i := range []int{11, 12, 13, 14} {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += n
	}
	return comm, ppid, time.Duration(ticks) * time.Second / clockTick, true
}

// machineBusy is the CPU time all cores spent not idle.
func machineBusy() time.Duration {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line)
	var busy int64
	// cpu user nice system idle iowait irq softirq steal ...
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest times are already counted in user
			break
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * time.Second / clockTick
}

// withCPU runs a load and says what each part of the stack spent per
// request of it.
func (st *stack) withCPU(load func() loadResult) (loadResult, map[string]float64) {
	before := st.cpuSample()
	res := load()
	return res, perUnit(before, st.cpuSample(), res.Count)
}

// settle waits until the machine is quiet (under a tenth of its CPU busy
// for a second), at most limit: what a scenario leaves behind (the dev
// server's visibility updates, a worker's backlog) must not be counted
// against the next one.
func settle(ctx context.Context, limit time.Duration) time.Duration {
	start := time.Now()
	cores := time.Duration(runtime.NumCPU())
	for time.Since(start) < limit {
		before := machineBusy()
		select {
		case <-ctx.Done():
			return time.Since(start)
		case <-time.After(time.Second):
		}
		if machineBusy()-before < time.Second*cores/10 {
			break
		}
	}
	return time.Since(start)
}
