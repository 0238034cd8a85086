package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/sshchat/sshchat/chat"
	"github.com/sshchat/sshchat/history"
	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/sshserver"
)

// config is everything serve needs, loaded defaults → environment → flags.
type config struct {
	Addr            string
	Data            string
	Room            string
	History         int
	MaxBehind       int           // messages a session may fall behind the room before it is evicted
	MaxLag          time.Duration // how long the oldest of them may wait
	Fsync           history.Fsync
	LogFormat       string
	LogLevel        string
	ShutdownTimeout time.Duration
	RegistryReset   bool   // move an unreadable registry.json aside and start with an empty one
	Admins          string // authorized_keys file of the admins
	Allowlist       string // authorized_keys file of the keys let in; empty lets everyone in
	MetricsAddr     string
	PprofAddr       string
	Server          sshserver.Config
	Cluster         clusterConfig // with several nodes: --nats and the rest
}

// parseServe reads the serve flags; each flag's default comes from its
// SSHCHAT_* environment variable when that is set.
func parseServe(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("sshchat serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", ":2222", "address to listen on")
	fs.StringVar(&cfg.Data, "data", "./data", "data directory (events.log, hostkeys/)")
	fs.StringVar(&cfg.Room, "room", "lobby", "the default room: where a session opens unless it names one (ssh -t HOST '#go'), and the script commands' room")
	fs.IntVar(&cfg.History, "history", 1024, "events of each room kept in memory and restored at start")
	fs.IntVar(&cfg.MaxBehind, "max-behind", hub.DefaultMaxBehind, "messages a session may fall behind the room before it is evicted (arrivals and departures do not count)")
	fs.DurationVar(&cfg.MaxLag, "max-lag", hub.DefaultMaxLag, "evict a session whose oldest undelivered message waited this long")
	fs.Var(&cfg.Fsync, "fsync", "log durability: always, batch (at most ~100ms at risk) or never")
	fs.StringVar(&cfg.LogFormat, "log-format", "text", "server log format: text or json")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "server log level: debug, info, warn or error")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", defaultShutdownTimeout, "longest graceful stop before connections are cut")
	fs.BoolVar(&cfg.RegistryReset, "registry-reset", false, "if DATA/registry.json is unreadable, move it aside (registry.json.broken-TIME) and start with an empty registry")
	fs.StringVar(&cfg.Admins, "admins", "", "authorized_keys file of the admins (re-read on SIGHUP)")
	fs.StringVar(&cfg.Allowlist, "allowlist", "", "authorized_keys file of the only keys let in (re-read on SIGHUP; empty: everyone)")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", "", "serve Prometheus /metrics and /healthz on this address, e.g. 127.0.0.1:9222 (off when empty)")
	fs.StringVar(&cfg.PprofAddr, "pprof-addr", "", "serve /debug/pprof on this loopback address, e.g. 127.0.0.1:6060 (off when empty)")
	fs.IntVar(&cfg.Server.MaxMessage, "max-message", 4096, "longest message in bytes")
	fs.IntVar(&cfg.Server.Backlog, "backlog", 100, "events of history shown on connect")
	fs.DurationVar(&cfg.Server.LoginTimeout, "login-timeout", 20*time.Second, "time from connect to an open session")
	fs.DurationVar(&cfg.Server.IdleTimeout, "idle-timeout", 0, "close connections without any traffic for this long (0: never)")
	fs.IntVar(&cfg.Server.FPS, "fps", 15, "most frames per second drawn to one screen")
	fs.IntVar(&cfg.Server.FrameBudget, "frame-budget", 12000, "frames per second for all screens together: past fps x sessions, each screen gets a share")
	fs.DurationVar(&cfg.Server.Keepalive, "keepalive", 30*time.Second, "ask quiet clients if they are alive this often; cut them after as long without an answer")
	fs.Float64Var(&cfg.Server.MessageRate, "message-rate", 1, "messages per second per user, all sessions together")
	fs.IntVar(&cfg.Server.MessageBurst, "message-burst", 5, "messages a user may send at once before the rate applies")
	fs.IntVar(&cfg.Server.SessionsPerUser, "sessions-per-user", 8, "sessions one key may hold at once")
	fs.IntVar(&cfg.Server.MaxSessions, "max-sessions", 10000, "sessions in all")
	fs.IntVar(&cfg.Server.MaxConnections, "max-connections", 12000, "TCP connections in all")
	fs.IntVar(&cfg.Server.ConnsPerIP, "conns-per-ip", 16, "connections from one IP address at once")
	fs.IntVar(&cfg.Server.NewConnsPerIPMin, "new-conns-per-ip", 60, "new connections from one IP address per minute")
	fs.IntVar(&cfg.Server.MaxRooms, "max-rooms", chat.DefaultMaxRooms, "rooms the server keeps, the default room included")
	fs.IntVar(&cfg.Server.RoomsPerUser, "rooms-per-user", chat.DefaultMaxRoomsPerUser, "rooms one user may create")
	fs.IntVar(&cfg.Server.RoomsPerSession, "rooms-per-session", chat.DefaultMaxRoomsPerSession, "rooms one session may be in at once")
	cfg.Cluster.flags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: sshchat [serve] [flags]\n\nEvery flag can also be set with SSHCHAT_<FLAG> (e.g. SSHCHAT_ADDR, SSHCHAT_MAX_MESSAGE); a flag wins.\n\n")
		fs.PrintDefaults()
	}

	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "SSHCHAT_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s=%q: %w", name, v, err)
			}
		}
	})
	if envErr != nil {
		return cfg, envErr
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return cfg, cfg.validate()
}

func (c config) validate() error {
	if err := c.Cluster.validate(); err != nil {
		return err
	}
	switch {
	case c.Room == "":
		return fmt.Errorf("--room must not be empty")
	case roomErr(c.Room) != nil:
		return fmt.Errorf("--room: %w", roomErr(c.Room))
	case c.History < 0:
		return fmt.Errorf("--history must not be negative")
	case c.MaxBehind < 1 || c.MaxLag <= 0:
		return fmt.Errorf("--max-behind and --max-lag must be positive")
	case c.Server.MaxMessage < 1:
		return fmt.Errorf("--max-message must be positive")
	case c.Server.MessageRate <= 0 || c.Server.MessageBurst < 1 || c.Server.SessionsPerUser < 1 ||
		c.Server.MaxSessions < 1 || c.Server.MaxConnections < 1 || c.Server.ConnsPerIP < 1 || c.Server.NewConnsPerIPMin < 1 ||
		c.Server.FPS < 1 || c.Server.FPS > 120 || c.Server.FrameBudget < 1 ||
		c.Server.MaxRooms < 1 || c.Server.RoomsPerUser < 1 || c.Server.RoomsPerSession < 1:
		return fmt.Errorf("the rate, burst, session, connection and room limits must be positive, and --fps from 1 to 120")
	case c.PprofAddr != "" && !loopback(c.PprofAddr):
		return fmt.Errorf("--pprof-addr %q: profiling is served on loopback addresses only", c.PprofAddr)
	}
	return nil
}

// loopback reports whether addr names a loopback host (not an empty or
// wildcard one, which would listen on every interface).
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// roomErr says why name cannot be the default room.
func roomErr(name string) error {
	_, err := chat.RoomID(name)
	return err
}
