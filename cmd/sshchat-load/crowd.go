package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// The crowd scenarios: a storm is the connect phase of any run
// (-connect-parallel sessions dialling at once); a mass departure
// (-depart) has many sessions disconnect at once while the others stay;
// a burst (-burst) sends many messages within a short window. In every
// one, a session the server ends before the run is over is a failure,
// and so is a message a screen never showed.

// departureReport is how a mass departure went.
type departureReport struct {
	Waves     []int `json:"waves"`
	Departed  int   `json:"departed"`  // sessions the tool disconnected
	Remaining int   `json:"remaining"` // sessions that were to stay
}

// depart disconnects the waves of -depart: the last sessions first, each
// wave at once, -depart-gap apart. The senders and the checked session
// (the first ones) stay. It returns the sessions that remain.
func (r *run) depart(ctx context.Context, sessions []*session) ([]*session, departureReport) {
	rep := departureReport{Waves: r.cfg.Depart}
	rest := sessions
	for i, n := range r.cfg.Depart {
		if i > 0 && !sleepCtx(ctx, r.cfg.DepartGap) {
			break
		}
		wave := leaving(rest, n)
		rest = rest[:len(rest)-len(wave)]
		for _, s := range wave {
			s.departed.Store(true)
		}
		for _, s := range wave {
			_ = s.client.Close()
		}
		rep.Departed += len(wave)
		r.notef("departure: %d sessions disconnected at once, %d stay", len(wave), len(rest))
	}
	rep.Remaining = len(rest)
	return rest, rep
}

// leaving is the last n of sessions, always leaving one.
func leaving(sessions []*session, n int) []*session {
	n = min(n, len(sessions)-1)
	if n <= 0 {
		return nil
	}
	return sessions[len(sessions)-n:]
}

// presenceReport is how a presence burst went.
type presenceReport struct {
	Commands int     `json:"commands"`
	Bytes    int     `json:"bytes"`
	WriteMS  float64 `json:"write_ms"`
	Error    string  `json:"error,omitempty"`
}

// presenceBurst has s change its name n times in one write, between its
// own name and another; with n even it ends with its own.
func presenceBurst(s *session, n int) presenceReport {
	b := nickCommands(s.name, n)
	start := time.Now()
	_, err := s.stdin.Write(b)
	rep := presenceReport{Commands: n, Bytes: len(b), WriteMS: ms(time.Since(start))}
	if err != nil {
		rep.Error = err.Error()
	}
	s.r.notef("presence: %d /nick commands written at once", n)
	return rep
}

// nickCommands is n /nick commands, each ended by Enter, alternating
// between name+"x" and name.
func nickCommands(name string, n int) []byte {
	var b []byte
	for i := range n {
		b = append(b, "/nick "...)
		b = append(b, name...)
		if i%2 == 0 {
			b = append(b, 'x')
		}
		b = append(b, '\r')
	}
	return b
}

// failuresReport counts what went wrong in a run. Any of it fails the
// run: the tool then exits with status 1.
type failuresReport struct {
	ConnectFailed int   `json:"connect_failed"` // sessions that never showed a first screen
	Evicted       int   `json:"evicted"`        // the screen said the session fell too far behind
	Disconnected  int   `json:"disconnected"`   // any other end before the run was over
	Lost          int64 `json:"lost"`           // deliveries due but never on the screen
	Total         int64 `json:"total"`
}

// failures sums up a run's failures from its report.
func failures(rep *report) failuresReport {
	f := failuresReport{
		ConnectFailed: rep.Sessions.Failed,
		Evicted:       rep.Dropped.Evicted,
		Disconnected:  rep.Dropped.Sessions - rep.Dropped.Evicted,
		Lost:          rep.Deliveries.Lost,
	}
	f.Total = int64(f.ConnectFailed+f.Evicted+f.Disconnected) + f.Lost
	return f
}

func (f failuresReport) String() string {
	if f.Total == 0 {
		return "PASS: every session stayed, every message was seen"
	}
	return fmt.Sprintf("FAIL: %d failures: %d sessions could not connect, %d evicted, %d disconnected, %d deliveries lost",
		f.Total, f.ConnectFailed, f.Evicted, f.Disconnected, f.Lost)
}

// screensReport is, over the screens that had messages due (sent while
// they were there), how many of those messages each showed.
type screensReport struct {
	Screens  int     `json:"screens"`
	Complete int     `json:"complete"` // showed every message due
	Due      int     `json:"due_max"`  // messages due to a screen, at most
	SeenMin  int     `json:"seen_min"`
	SeenP50  int     `json:"seen_p50"`
	SeenMean float64 `json:"seen_mean"`
}

// summarizeScreens takes, per screen, the messages due to it and those of
// them it showed.
func summarizeScreens(due, seen []int) screensReport {
	var r screensReport
	var all []int
	total := 0
	for i := range due {
		if due[i] == 0 {
			continue
		}
		r.Screens++
		r.Due = max(r.Due, due[i])
		if seen[i] >= due[i] {
			r.Complete++
		}
		all = append(all, seen[i])
		total += seen[i]
	}
	if len(all) == 0 {
		return r
	}
	slices.Sort(all)
	r.SeenMin = all[0]
	r.SeenP50 = all[nearestRank(0.5, len(all))-1]
	r.SeenMean = float64(total) / float64(len(all))
	return r
}

// stormReport is what a storm cost: the server's CPU per session that
// joined, over the connect phase alone.
type stormReport struct {
	Parallel    int     `json:"connect_parallel"`
	Joined      int     `json:"joined"`
	ServerCPUS  float64 `json:"server_cpu_s"`
	CPUPerJoin  float64 `json:"server_cpu_per_join_ms"`
	ConnectAllS float64 `json:"connect_all_s"`
}

func newStormReport(parallel, joined int, cpu, wall time.Duration) *stormReport {
	s := &stormReport{Parallel: parallel, Joined: joined, ServerCPUS: secs(cpu), ConnectAllS: secs(wall)}
	if joined > 0 {
		s.CPUPerJoin = ms(cpu / time.Duration(joined))
	}
	return s
}

// raiseFileLimit lifts the soft limit of open files to what n sessions
// need, up to the hard limit; each session holds a socket. It returns the
// soft limit now in force.
func raiseFileLimit(n int) (uint64, error) {
	want := uint64(n) + 256 // and the tool's own files
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("open files limit: %w", err)
	}
	if lim.Cur >= want {
		return lim.Cur, nil
	}
	lim.Cur = min(want, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("raise open files limit to %d: %w", lim.Cur, err)
	}
	if lim.Cur < want {
		return lim.Cur, fmt.Errorf("open files: the hard limit %d is below the %d that %d sessions need", lim.Max, want, n)
	}
	return lim.Cur, nil
}

// floodReport is how a flood of input went.
type floodReport struct {
	Sequence string  `json:"sequence,omitempty"`
	Bytes    int64   `json:"bytes,omitempty"`
	Resizes  int64   `json:"resizes,omitempty"`
	Requests int64   `json:"requests,omitempty"`
	Sessions int64   `json:"sessions,omitempty"`
	Seconds  float64 `json:"seconds"`
	Error    string  `json:"error,omitempty"`
}

// flood has s write the -flood bytes, or send window changes
// (-flood-resize), over and over for -duration, as fast as the server
// takes them (it reads no faster than its pace: the writes wait). A write
// still waiting at the end waits until the sessions close.
func (r *run) flood(ctx context.Context, s *session) floodReport {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Duration)
	defer cancel()
	seq := r.cfg.Flood
	send := func(i int) (int, error) { return 0, s.sess.WindowChange(r.cfg.Height, r.cfg.Width-i%2) }
	if r.cfg.FloodSessions {
		send = func(int) (int, error) {
			sess, err := s.client.NewSession()
			if err != nil {
				return 0, err
			}
			defer sess.Close()
			if err := sess.RequestPty("xterm-256color", r.cfg.Height, r.cfg.Width, ssh.TerminalModes{}); err != nil {
				return 0, err
			}
			return 0, sess.Shell()
		}
	}
	if r.cfg.FloodGlobal {
		send = func(int) (int, error) {
			_, _, err := s.client.SendRequest("keepalive@openssh.com", true, nil)
			return 0, err
		}
	}
	if seq != "" {
		chunk := bytes.Repeat([]byte(seq), max(1, 4096/len(seq)))
		send = func(int) (int, error) { return s.stdin.Write(chunk) }
	}
	var sent, count atomic.Int64
	failed := make(chan error, 1) // the sender ends when a send fails, or after the flood
	start := time.Now()
	go func() {
		for i := 0; ctx.Err() == nil; i++ {
			n, err := send(i)
			if err != nil {
				failed <- err
				return
			}
			sent.Add(int64(n))
			count.Add(1)
		}
	}()
	rep := floodReport{Sequence: seq}
	select {
	case <-ctx.Done():
	case err := <-failed:
		rep.Error = err.Error()
	}
	rep.Seconds = time.Since(start).Seconds()
	if seq != "" {
		rep.Bytes = sent.Load()
		r.notef("flood: %d bytes of %q written in %.1fs", rep.Bytes, seq, rep.Seconds)
	} else if r.cfg.FloodGlobal {
		rep.Requests = count.Load()
		r.notef("flood: %d global requests answered in %.1fs", rep.Requests, rep.Seconds)
	} else if r.cfg.FloodSessions {
		rep.Sessions = count.Load()
		r.notef("flood: %d sessions opened and closed in %.1fs", rep.Sessions, rep.Seconds)
	} else {
		rep.Resizes = count.Load()
		r.notef("flood: %d window changes sent in %.1fs", rep.Resizes, rep.Seconds)
	}
	return rep
}
