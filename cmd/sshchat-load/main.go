// Command sshchat-load puts a local sshchat server under load with real
// SSH sessions and measures how it copes.
//
// It opens -n sessions, each with its own fresh ed25519 key and a PTY of
// -width×-height, and reads every screen. The first -senders sessions send
// messages at -rate per second in all for -duration; each message is a
// unique token (t<sender>x<seq>r<run>z) and the tool notes when each
// session first shows it. Screens are not emulated: the output is stripped
// of escape sequences and scanned for tokens as it streams in, which keeps
// a thousand sessions within one core. The first session's scanner is
// checked against a terminal emulator fed the same bytes (-verify).
//
// It reports the connect time (dial, handshake, session and first screen),
// the delivery latency from send to visible on each session, deliveries
// seen against expected (each message on every session connected when it
// was sent, the sender's own included), sessions the server cut off, and,
// with -pid, the server's CPU time and resident memory from /proc.
//
// Only loopback addresses are accepted. A run has at most 10000 sessions
// and lasts at most 600 s of sending.
//
// The server limits connections per IP address (--conns-per-ip, 16 by
// default) and messages per user (--message-rate, 1 a second): the tool
// dials from 127.1.x.y, -per-source sessions to an address, and each
// sender sends -rate/-senders messages a second, so keep that at or below
// the server's rate. A refused connection's reason (the server's auth
// banner) is in the report, and so is every sender told to slow down.
//
// Examples, with the server and the tool on separate cores:
//
//	go build -o bin/sshchat ./cmd/sshchat
//	taskset -c 0 ./bin/sshchat serve --addr 127.0.0.1:2222 --data /tmp/load &
//	taskset -c 1 go run ./cmd/sshchat-load -n 500 -senders 100 -rate 50 -duration 60s -pid $!
//
// Memory and CPU of idle sessions:
//
//	taskset -c 1 go run ./cmd/sshchat-load -n 1000 -idle -duration 30s -pid $!
//
// Graceful shutdown with every session connected (the tool sends SIGTERM
// to the server after the run and times the close of every session and
// the exit of the process):
//
//	taskset -c 1 go run ./cmd/sshchat-load -n 1000 -idle -duration 5s -pid $! -sigterm
//
// Or send the signal from outside: with -shutdown-wait 10s the tool prints
// "ready for SIGTERM" on stderr when the run is over and then waits for
// the server to close every session.
//
// Crowds: a join storm is the connect phase of any run, -connect-parallel
// sessions dialling at once; with -pid the report gives the server's CPU
// time per join over that phase and the connect latency percentiles:
//
//	taskset -c 1 go run ./cmd/sshchat-load -n 1000 -idle -duration 5s -warmup 3s -connect-parallel 128 -pid $!
//
// A mass departure: after the warm-up the last 100 sessions disconnect at
// once and the other 400 must stay for -duration (a list, -depart 100,250,
// makes waves -depart-gap apart):
//
//	taskset -c 1 go run ./cmd/sshchat-load -n 500 -idle -duration 10s -depart 100 -pid $!
//
// A burst: 1,000 messages within 2 s into 500 screens, each screen's
// messages seen against those sent while it was there:
//
//	taskset -c 1 go run ./cmd/sshchat-load -n 500 -burst 1000 -burst-window 2s -pid $!
//
// A presence burst: after the warm-up the first session writes 2,000 /nick
// commands in one write (the server's message bucket throttles /nick, so
// give it a high --message-rate and --message-burst), and the others must
// stay:
//
//	taskset -c 1 go run ./cmd/sshchat-load -n 500 -idle -duration 10s -presence 2000 -pid $!
//
// A flood of input: the first session sends Ctrl+L as fast as the server
// takes it (or, with -flood-resize, window changes; with -flood-global,
// global requests; with -flood-sessions, sessions opened and closed); the
// server's CPU over the run is what one such client costs:
//
//	taskset -c 1 go run ./cmd/sshchat-load -n 1 -idle -duration 10s -flood '\x0c' -pid $!
//
// A session the server ends before the run is over (evicted: "fell too
// far behind"; "disconnected"; "server is shutting down"; or its stream
// ended), a session that could not connect, and a message a screen never
// showed are failures: the report ends with their count and the tool
// exits with status 1. scripts/crowds.sh runs these scenarios.
//
// The tool raises its own limit of open files (RLIMIT_NOFILE) to what -n
// sessions need, up to the hard limit.
//
// With -json the figures go to stdout as one JSON object; progress notes
// always go to stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"time"
)

func main() {
	os.Exit(command(os.Args[1:], os.Stdout, os.Stderr))
}

// command is the whole command; it returns the exit status.
func command(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "sshchat-load: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, budget(cfg))
	defer cancel()

	stopProfile, err := startProfile(cfg.CPUProfile)
	if err != nil {
		fmt.Fprintf(stderr, "sshchat-load: %v\n", err)
		return 1
	}
	if limit, err := raiseFileLimit(cfg.N); err != nil {
		fmt.Fprintf(stderr, "sshchat-load: %v (open files: %d)\n", err, limit)
	}
	rep, err := execute(ctx, cfg, stderr)
	if perr := stopProfile(); perr != nil {
		err = errors.Join(err, perr)
	}
	if rep != nil {
		write := writeText
		if cfg.JSON {
			write = writeJSON
		}
		if werr := write(stdout, rep); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "sshchat-load: %v\n", err)
		return 1
	}
	if rep != nil && rep.Failures.Total > 0 {
		fmt.Fprintf(stderr, "sshchat-load: %v\n", rep.Failures)
		return 1
	}
	return 0
}

// startProfile starts the tool's CPU profile when path is set.
func startProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		return nil
	}, nil
}

// budget bounds a whole run.
func budget(c config) time.Duration {
	return connectBudget + c.Warmup + time.Duration(len(c.Depart))*c.DepartGap + c.Duration + c.Settle + c.ShutdownWait + time.Minute
}

// execute connects, runs the load (or holds idle), optionally measures the
// shutdown, and closes every session.
func execute(ctx context.Context, cfg config, progress io.Writer) (*report, error) {
	r := newRun(cfg, progress)
	rep := &report{RunID: r.id, Config: reportConfig(cfg)}
	probe := newServerProbe(cfg.PID)
	if err := probe.sample(&probe.before); err != nil {
		return nil, err
	}

	start := time.Now()
	defer func() {
		rep.Tool.CPUS, rep.Tool.MaxRSSKiB, rep.Tool.WallS = secs(selfCPU()), selfMaxRSS(), secs(time.Since(start))
	}()
	sessions, times := r.connectAll(ctx)
	connectWall := time.Since(start)
	rep.Sessions = r.sessionsReport(sessions, times, connectWall)
	if err := probe.sample(&probe.joined); err == nil && cfg.PID > 0 {
		rep.Storm = newStormReport(cfg.ConnectParallel, len(sessions), probe.joined.CPU-probe.before.CPU, connectWall)
	}
	// Cutting the connections unblocks any write or read still going when
	// the run is cancelled.
	stopCut := context.AfterFunc(ctx, func() {
		r.phase.Store(phaseClosing)
		cutAll(sessions)
	})
	defer stopCut()
	defer closeAll(r, sessions)
	if len(sessions) == 0 {
		return rep, errors.New("no session could connect")
	}
	r.notef("%d sessions up in %.1fs", len(sessions), time.Since(start).Seconds())

	sleepCtx(ctx, cfg.Warmup)
	stay := sessions
	if len(cfg.Depart) > 0 {
		var d departureReport
		stay, d = r.depart(ctx, sessions)
		rep.Departure = &d
	}
	if cfg.Presence > 0 {
		pr := presenceBurst(sessions[0], cfg.Presence)
		rep.Presence = &pr
	}
	r.measure(ctx, stay, probe, rep)
	if len(stay) < len(sessions) {
		// A session cut off before its wave left is dropped all the same.
		rep.Dropped = droppedSessions(sessions)
	}
	if cfg.ShutdownWait > 0 {
		rep.Shutdown = r.measureShutdown(ctx, stay)
	}
	closeAll(r, sessions)
	r.afterClose(sessions, rep)
	rep.Failures = failures(rep)
	return rep, ctx.Err()
}

// measure runs the load, or holds the sessions idle, and takes the figures
// of that phase.
func (r *run) measure(ctx context.Context, sessions []*session, probe *serverProbe, rep *report) {
	_ = probe.sample(&probe.connected) // an error is in the report
	start, toolStart := time.Now(), selfCPU()
	switch {
	case r.cfg.Idle && (r.cfg.Flood != "" || r.cfg.FloodResize || r.cfg.FloodGlobal || r.cfg.FloodSessions):
		fr := r.flood(ctx, sessions[0])
		rep.Flood = &fr
	case r.cfg.Idle:
		sleepCtx(ctx, r.cfg.Duration)
	default:
		r.load(ctx, sessions, rep)
	}
	wall, toolCPU := time.Since(start), selfCPU()-toolStart
	_ = probe.sample(&probe.after) // an error is in the report

	rep.Deliveries = r.deliveriesReport()
	rep.Latency = r.latencyReport()
	rep.Dropped = droppedSessions(sessions)
	rep.Server = probe.report(wall, len(sessions)-rep.Dropped.Sessions)
	rep.Tool.CPURunS, rep.Tool.RunCores = secs(toolCPU), toolCPU.Seconds()/wall.Seconds()
}

// afterClose takes the figures that need every reader to have ended.
func (r *run) afterClose(sessions []*session, rep *report) {
	if !r.cfg.Idle {
		var screens screensReport
		rep.Deliveries.Misses, screens = r.missReport(sessions)
		rep.Deliveries.Screens = &screens
	}
	if s0 := sessions[0]; s0.verify != nil {
		rep.Verify = s0.verify.report()
	}
	rep.Tool.BytesRead = bytesRead(sessions)
}

// load sends the messages and waits for them to arrive.
func (r *run) load(ctx context.Context, sessions []*session, rep *report) {
	senders := sessions[:min(r.cfg.Senders, len(sessions))]
	r.notef("sending %d messages from %d sessions over %v", r.messages, len(senders), r.cfg.Duration)
	start := time.Now()
	r.sendAll(ctx, senders, start)
	sendTime := time.Since(start)
	settled := r.settle(ctx)
	rep.Messages = messagesReport{
		Planned:    r.messages,
		Sent:       r.sent.Load(),
		SendErrors: r.sendErrors.Load(),
		MaxLagMS:   ms(time.Duration(r.maxLag.Load())),
		SendS:      secs(sendTime),
		SettleS:    secs(settled),
		Throttled:  throttled(senders),
	}
}

// throttled counts the sessions whose screen said to slow down.
func throttled(sessions []*session) int {
	n := 0
	for _, s := range sessions {
		if s.throttled.Load() {
			n++
		}
	}
	return n
}

// cutAll closes every connection at once, without waiting.
func cutAll(sessions []*session) {
	for _, s := range sessions {
		_ = s.client.Close()
	}
}

func reportConfig(c config) configReport {
	return configReport{
		Addr: c.Addr, N: c.N, Senders: c.Senders, Rate: c.Rate, DurationS: c.Duration.Seconds(),
		Width: c.Width, Height: c.Height, Idle: c.Idle, Parallel: c.ConnectParallel,
		WarmupS: c.Warmup.Seconds(), SettleS: c.Settle.Seconds(),
		Burst: c.Burst, Depart: c.Depart, Presence: c.Presence,
	}
}

func (r *run) sessionsReport(sessions []*session, times []time.Duration, all time.Duration) sessionsReport {
	q := quantiles(times, 0.5, 0.9, 0.99, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	return sessionsReport{
		Requested: r.cfg.N, Connected: len(sessions), Failed: r.failed,
		Errors:       append([]string(nil), r.connectErr...),
		ConnectP50MS: ms(q[0]), ConnectP90MS: ms(q[1]), ConnectP99MS: ms(q[2]), ConnectMaxMS: ms(q[3]),
		ConnectAllS: secs(all),
	}
}

func (r *run) deliveriesReport() deliveriesReport {
	d := deliveriesReport{
		Expected: r.expected.Load(), Seen: r.delivered.Load(),
		History: r.history.Load(), Foreign: r.foreign.Load(),
	}
	d.Lost = max(d.Expected-d.Seen, 0)
	if d.Expected > 0 {
		d.Ratio = float64(d.Seen) / float64(d.Expected)
	}
	return d
}

func (r *run) latencyReport() latencyReport {
	h := r.latency
	return latencyReport{
		Samples: h.count(),
		P50:     ms(h.quantile(0.5)), P90: ms(h.quantile(0.9)), P99: ms(h.quantile(0.99)),
		Max: ms(h.max()), Mean: ms(h.mean()),
	}
}

// droppedSessions counts the sessions the server cut off during the run.
func droppedSessions(sessions []*session) droppedReport {
	var d droppedReport
	for _, s := range sessions {
		if !s.dropped.Load() {
			continue
		}
		d.Sessions++
		if w := s.said.Load(); w != nil {
			d.ScreenSaid++
			if *w == string(wordEvicted) {
				d.Evicted++
			}
			if d.Words == nil {
				d.Words = map[string]int{}
			}
			d.Words[*w]++
		} else {
			d.StreamEnded++
		}
		if d.StderrSample == "" {
			d.StderrSample = s.stderrNote()
		}
	}
	return d
}

// bytesRead is the output read from every session whose reader ended.
func bytesRead(sessions []*session) int64 {
	var n int64
	for _, s := range sessions {
		select {
		case <-s.done:
			n += s.bytesRead
		default:
		}
	}
	return n
}
