package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"syscall"
	"time"
)

// clockTicks is the unit of the CPU times in /proc/PID/stat (USER_HZ). It
// is 100 on every Linux architecture Go runs on.
const clockTicks = 100

// procSample is a process's resource use at one moment.
type procSample struct {
	CPU    time.Duration // user + system time so far
	RSSKiB int64         // resident set size
}

// readProc samples process pid from /proc.
func readProc(pid int) (procSample, error) {
	cpu, _, err := readStat(pid)
	if err != nil {
		return procSample{}, err
	}
	rss, err := readRSS(pid)
	if err != nil {
		return procSample{}, err
	}
	return procSample{CPU: cpu, RSSKiB: rss}, nil
}

// readStat reads the CPU time and the state letter of pid.
func readStat(pid int) (cpu time.Duration, state byte, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read stat of pid %d: %w", pid, err)
	}
	return parseStat(b)
}

// parseStat takes the state (field 3) and utime+stime (fields 14 and 15)
// from the text of /proc/PID/stat. The command name (field 2) may hold
// spaces and parentheses, so fields are counted from its last ')'.
func parseStat(b []byte) (time.Duration, byte, error) {
	end := bytes.LastIndexByte(b, ')')
	if end < 0 {
		return 0, 0, errors.New("stat: no command name")
	}
	f := bytes.Fields(b[end+1:]) // f[0] is field 3
	if len(f) < 13 || len(f[0]) != 1 {
		return 0, 0, fmt.Errorf("stat: %d fields after the command name", len(f))
	}
	utime, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	stime, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("stat: cpu times: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, f[0][0], nil
}

// readRSS reads VmRSS of pid in KiB.
func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read status of pid %d: %w", pid, err)
	}
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest) // "12345 kB"
		if len(f) == 0 {
			break
		}
		kib, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("status of pid %d: VmRSS: %w", pid, err)
		}
		return kib, nil
	}
	return 0, fmt.Errorf("status of pid %d: no VmRSS", pid)
}

// exited reports whether pid has ended: gone, or a zombie not yet reaped.
func exited(pid int) bool {
	_, state, err := readStat(pid)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	return err == nil && (state == 'Z' || state == 'X')
}

// selfCPU is the CPU time this process has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// selfMaxRSS is this process's peak resident set size in KiB.
func selfMaxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss
}

// serverProbe samples the server process at the points of a run; with no
// pid it does nothing.
type serverProbe struct {
	pid                              int
	before, joined, connected, after procSample
	errs                             []error
}

func newServerProbe(pid int) *serverProbe { return &serverProbe{pid: pid} }

// sample reads the server's figures into dst. An error is also kept for
// the report.
func (p *serverProbe) sample(dst *procSample) error {
	if p.pid == 0 {
		return nil
	}
	s, err := readProc(p.pid)
	if err != nil {
		err = fmt.Errorf("server: %w", err)
		p.errs = append(p.errs, err)
		return err
	}
	*dst = s
	return nil
}

// report is the server's figures, or nil without a pid. sessions is the
// number of sessions still up at the last sample.
func (p *serverProbe) report(runWall time.Duration, sessions int) *serverReport {
	if p.pid == 0 {
		return nil
	}
	r := &serverReport{
		PID:             p.pid,
		RSSBeforeKiB:    p.before.RSSKiB,
		RSSConnectedKiB: p.connected.RSSKiB,
		RSSAfterKiB:     p.after.RSSKiB,
		CPUConnectS:     secs(p.connected.CPU - p.before.CPU),
		CPURunS:         secs(p.after.CPU - p.connected.CPU),
		RunWallS:        secs(runWall),
	}
	if sessions > 0 {
		r.PerSessionKiB = float64(p.after.RSSKiB-p.before.RSSKiB) / float64(sessions)
	}
	if runWall > 0 {
		r.CPURunCores = r.CPURunS / runWall.Seconds()
	}
	if err := errors.Join(p.errs...); err != nil {
		r.Error = err.Error()
	}
	return r
}
