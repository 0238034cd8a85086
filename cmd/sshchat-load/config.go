package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Hard limits of one run.
const (
	maxSessions = 10000
	maxDuration = 600 * time.Second
	maxRate     = 10000 // messages per second, all senders together
	maxParallel = 1000
	maxWidth    = 500
	maxHeight   = 200
	maxPresence = 100000 // /nick commands in one write: about 1.5 MB
	maxRooms    = 1000   // the server's default cap on rooms
	// maxSeenBits bounds the memory for "has this session seen this
	// message yet": one bit per session and message (256 MiB).
	maxSeenBits = 1 << 31
)

// config is one run's settings.
type config struct {
	Addr            string
	N               int
	Senders         int
	Rate            float64
	Duration        time.Duration
	ConnectParallel int
	ConnectTimeout  time.Duration
	Width, Height   int
	Warmup          time.Duration
	Settle          time.Duration
	JSON            bool
	PID             int
	Idle            bool
	Verify          bool
	ShutdownWait    time.Duration
	SIGTERM         bool
	CPUProfile      string
	PerSource       int
	// Burst, when above 0, is how many messages to send within
	// BurstWindow: it sets Rate and Duration.
	Burst       int
	BurstWindow time.Duration
	// Depart is the waves of a mass departure: after the warm-up, the
	// last Depart[0] sessions disconnect at once, DepartGap later the
	// Depart[1] before them, and so on; the rest stay for the run.
	Depart    departWaves
	DepartGap time.Duration
	// Presence, when above 0, is how many /nick commands the first
	// session writes at once after the warm-up: a burst of presence
	// changes from one user.
	Presence int
	// Rooms, when above 0, spreads the sessions over that many rooms:
	// session i opens the chat in #r<i mod Rooms>, and a message is due
	// only to the sessions of its sender's room.
	Rooms int
	// Flood, with Idle, is what the first session writes over and over
	// for Duration, as fast as the server takes it: the others hold.
	Flood string
	// FloodResize, with Idle, has the first session send window changes,
	// between two widths, over and over for Duration.
	FloodResize bool
	// FloodGlobal, with Idle, has the first session's connection send
	// global requests (keepalive@openssh.com, each answered) for Duration.
	FloodGlobal bool
	// FloodSessions, with Idle, has the first session's connection open
	// chat sessions (a PTY and a shell) and close them, for Duration.
	FloodSessions bool
	// AnswerModes has every session answer the server's questions about
	// terminal modes as xterm does; otherwise they go unanswered, as
	// from a terminal that knows none of them.
	AnswerModes bool
}

// departWaves is the flag value of -depart: counts separated by commas.
type departWaves []int

func (d *departWaves) String() string {
	parts := make([]string, len(*d))
	for i, n := range *d {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}

func (d *departWaves) Set(v string) error {
	var waves departWaves
	for part := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a count of sessions", part)
		}
		waves = append(waves, n)
	}
	*d = waves
	return nil
}

// departing is how many sessions leave in all the waves.
func (c config) departing() int {
	n := 0
	for _, w := range c.Depart {
		n += w
	}
	return n
}

// parseFlags reads the command line.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("sshchat-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:2222", "server address (loopback only); several, comma-separated, for nodes of one chat: session i dials the (i mod count)th")
	fs.IntVar(&c.N, "n", 100, "sessions to open (at most 10000)")
	fs.IntVar(&c.Senders, "senders", 10, "sessions that send messages (the first ones)")
	fs.Float64Var(&c.Rate, "rate", 10, "messages per second, all senders together")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "how long to send (or, with -idle, to hold the sessions); at most 600s")
	fs.IntVar(&c.ConnectParallel, "connect-parallel", 32, "connections being opened at once")
	fs.DurationVar(&c.ConnectTimeout, "connect-timeout", 30*time.Second, "longest time for one session to show its first screen")
	fs.IntVar(&c.Width, "width", 120, "terminal columns of every session")
	fs.IntVar(&c.Height, "height", 40, "terminal rows of every session")
	fs.DurationVar(&c.Warmup, "warmup", 2*time.Second, "pause between the last session's first screen and the first message")
	fs.DurationVar(&c.Settle, "settle", 5*time.Second, "longest wait for deliveries after the last message")
	fs.BoolVar(&c.JSON, "json", false, "print the figures as one JSON object on stdout")
	fs.IntVar(&c.PID, "pid", 0, "server process to measure CPU and memory of (from /proc)")
	fs.BoolVar(&c.Idle, "idle", false, "connect the sessions and hold them for -duration without sending")
	fs.BoolVar(&c.Verify, "verify", true, "check the stream scanner of the first session against a terminal emulator fed the same bytes")
	fs.DurationVar(&c.ShutdownWait, "shutdown-wait", 0, "after the run, wait this long for the server to close every session (send it SIGTERM, or use -sigterm)")
	fs.BoolVar(&c.SIGTERM, "sigterm", false, "after the run, send SIGTERM to -pid and time the shutdown (needs -pid; -shutdown-wait defaults to 10s)")
	fs.IntVar(&c.PerSource, "per-source", 16, "sessions per loopback source address (127.1.x.y), to stay within the server's connections per IP; 0: all from one")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write the tool's own CPU profile to this file")
	fs.IntVar(&c.Burst, "burst", 0, "send this many messages within -burst-window (sets -rate and -duration; -senders defaults to min(-n, -burst))")
	fs.DurationVar(&c.BurstWindow, "burst-window", 2*time.Second, "the time -burst is sent in")
	fs.Var(&c.Depart, "depart", "mass departure: after the warm-up this many of the last sessions disconnect at once, then hold for -duration; a list (100,250) makes waves -depart-gap apart")
	fs.DurationVar(&c.DepartGap, "depart-gap", time.Second, "time between two waves of -depart")
	fs.IntVar(&c.Presence, "presence", 0, "presence burst: after the warm-up the first session writes this many /nick commands in one write, then the run holds for -duration (the server's --message-rate and --message-burst must allow them)")
	fs.Func("flood", "with -idle: the first session writes these bytes (Go escapes: '\\x0c' is Ctrl+L) over and over for -duration, as fast as the server takes them; at most 64 bytes", func(v string) error {
		seq, err := strconv.Unquote(`"` + strings.ReplaceAll(v, `"`, `\"`) + `"`)
		if err != nil {
			return fmt.Errorf("not a Go string: %w", err)
		}
		c.Flood = seq
		return nil
	})
	fs.BoolVar(&c.FloodResize, "flood-resize", false, "with -idle: the first session sends window changes, between two widths, over and over for -duration, as fast as the server takes them")
	fs.BoolVar(&c.FloodGlobal, "flood-global", false, "with -idle: the first session's connection sends global requests (keepalive@openssh.com, each answered) over and over for -duration, as fast as the server answers them")
	fs.BoolVar(&c.FloodSessions, "flood-sessions", false, "with -idle: the first session's connection opens chat sessions (a PTY and a shell) and closes them, over and over for -duration, as fast as the server opens them")
	fs.BoolVar(&c.AnswerModes, "answer-modes", false, "answer the server's questions about modes 2027 and 69 as xterm does (2027 unknown, 69 left and right margins, off): the server then scrolls the transcript beside the member list")
	fs.IntVar(&c.Rooms, "rooms", 0, "spread the sessions over this many rooms: session i opens '#r<i mod rooms>' (0: all in the default room)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: sshchat-load [flags]\n\nOpens many SSH chat sessions against a local sshchat server, sends messages and reports delivery latency.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.Burst > 0 {
		if set["rate"] || set["duration"] || c.Idle {
			return c, errors.New("-burst sets -rate and -duration; it goes with neither, nor with -idle")
		}
		if c.BurstWindow <= 0 || c.BurstWindow > maxDuration {
			return c, fmt.Errorf("-burst-window must be above 0 and at most %v", maxDuration)
		}
		c.Rate = float64(c.Burst) / c.BurstWindow.Seconds()
		c.Duration = c.BurstWindow
		if !set["senders"] {
			c.Senders = min(c.N, c.Burst)
		}
	}
	if c.SIGTERM && c.ShutdownWait == 0 {
		c.ShutdownWait = 10 * time.Second
	}
	if c.Idle {
		c.Senders, c.Rate = 0, 0
	}
	return c, c.validate()
}

// messages is how many messages the run sends in all.
func (c config) messages() int {
	if c.Idle || c.Senders == 0 {
		return 0
	}
	if c.Burst > 0 {
		return c.Burst
	}
	return int(c.Rate * c.Duration.Seconds())
}

func (c config) validate() error {
	for _, addr := range c.addrs() {
		if err := checkLoopback(addr); err != nil {
			return err
		}
	}
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.N >= 1 && c.N <= maxSessions, "-n must be 1..%d", maxSessions)
	check(c.Duration > 0 && c.Duration <= maxDuration, "-duration must be above 0 and at most %v", maxDuration)
	check(c.ConnectParallel >= 1 && c.ConnectParallel <= maxParallel, "-connect-parallel must be 1..%d", maxParallel)
	check(c.ConnectTimeout > 0 && c.ConnectTimeout <= 2*time.Minute, "-connect-timeout must be above 0 and at most 2m")
	check(c.Width >= 20 && c.Width <= maxWidth && c.Height >= 5 && c.Height <= maxHeight, "-width must be 20..%d and -height 5..%d", maxWidth, maxHeight)
	check(c.Warmup >= 0 && c.Warmup <= time.Minute, "-warmup must be 0..1m")
	check(c.Settle >= 0 && c.Settle <= 2*time.Minute, "-settle must be 0..2m")
	check(c.ShutdownWait >= 0 && c.ShutdownWait <= 2*time.Minute, "-shutdown-wait must be 0..2m")
	check(c.PID >= 0, "-pid must not be negative")
	check(c.PerSource >= 0, "-per-source must not be negative")
	check(!c.SIGTERM || c.PID > 0, "-sigterm needs -pid")
	check(c.Burst >= 0, "-burst must not be negative")
	check(c.departing() < c.N, "-depart must leave at least one of -n sessions")
	check(c.departing() == 0 || c.N-c.departing() >= c.Senders, "-depart must leave the -senders sessions")
	check(c.DepartGap >= 0 && c.DepartGap <= time.Minute, "-depart-gap must be 0..1m")
	check(c.Presence >= 0 && c.Presence <= maxPresence, "-presence must be 0..%d", maxPresence)
	check(c.Rooms >= 0 && c.Rooms <= maxRooms, "-rooms must be 0..%d", maxRooms)
	check(len(c.Flood) <= 64, "-flood must be at most 64 bytes")
	check(c.Flood == "" || c.Idle, "-flood needs -idle")
	floods := 0
	for _, on := range []bool{c.Flood != "", c.FloodResize, c.FloodGlobal, c.FloodSessions} {
		if on {
			floods++
		}
	}
	check(floods == 0 || c.Idle, "the -flood options need -idle")
	check(floods <= 1, "the -flood options are one flood each")
	if !c.Idle {
		check(c.Senders >= 1 && c.Senders <= c.N, "-senders must be 1..-n")
		check(c.Rate > 0 && c.Rate <= maxRate, "-rate must be above 0 and at most %d", maxRate)
		check(c.messages() >= 1, "-rate × -duration must be at least one message")
		check(int64(c.N)*int64(c.messages()) <= maxSeenBits, "-n × messages must be at most %d", maxSeenBits)
	}
	return errors.Join(errs...)
}

// room is the room session i is in: 0 for all without -rooms.
func (c config) room(i int) int {
	if c.Rooms == 0 {
		return 0
	}
	return i % c.Rooms
}

// addrs is the servers of -addr.
func (c config) addrs() []string { return strings.Split(c.Addr, ",") }

// addr is the server session i dials: with several nodes, they take the
// sessions in turn.
func (c config) addr(i int) string {
	addrs := c.addrs()
	return addrs[i%len(addrs)]
}

// sourceAddr is the local address session i dials from: with -per-source,
// sessions are spread over 127.1.x.y, -per-source to an address; nil lets
// the system choose. Every address in 127.0.0.0/8 is loopback.
func (c config) sourceAddr(i int) net.Addr {
	host, _, err := net.SplitHostPort(c.addr(i))
	if c.PerSource == 0 || err != nil || net.ParseIP(host).To4() == nil {
		return nil
	}
	k := i / c.PerSource
	return &net.TCPAddr{IP: net.IPv4(127, 1, byte(k/250), byte(k%250+1))}
}

// checkLoopback refuses any address but a loopback IP with a port.
func checkLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if port == "" {
		return fmt.Errorf("-addr %q: no port", addr)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %q: only loopback IP addresses (such as 127.0.0.1) are allowed", addr)
	}
	return nil
}
