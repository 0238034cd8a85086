package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sshchat/sshchat/bus"
	"github.com/sshchat/sshchat/history"
	"github.com/sshchat/sshchat/hostkeys"
	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/metrics"
	"github.com/sshchat/sshchat/registry"
	"github.com/sshchat/sshchat/sshserver"
)

// app is a running server: host keys, log, bus, rooms and SSH server
// wired.
type app struct {
	cfg      config
	log      *slog.Logger
	events   *history.Log
	bus      *bus.Local  // a single node's; nil with several
	cluster  *clusterBus // with several nodes (--nats); nil for one
	rooms    *rooms      // the hubs of the rooms, for the metrics
	server   *sshserver.Server
	addr     net.Addr
	serveErr chan error // the error Serve ended with, unless it was Shutdown
	closing  atomic.Bool
	metrics  *metrics.Metrics // nil without --metrics-addr
	side     []*httpServer    // metrics and pprof endpoints
}

// start wires the server and starts listening.
func start(cfg config, logger *slog.Logger) (_ *app, err error) {
	// Listen first: a port in use must not touch the data directory (a
	// start that fails later still writes its close event to the log).
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	defer func() {
		if err != nil {
			ln.Close()
		}
	}()
	if err := privateData(cfg.Data); err != nil {
		return nil, err
	}
	keys, err := hostkeys.LoadOrCreate(filepath.Join(cfg.Data, "hostkeys"))
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: logger, serveErr: make(chan error, 1)}
	reg, err := openRegistry(filepath.Join(cfg.Data, "registry.json"), cfg.RegistryReset, logger)
	if err != nil {
		return nil, err
	}
	var hooks history.Options
	if cfg.MetricsAddr != "" {
		a.metrics = metrics.New()
		hooks.OnAppend = a.metrics.Appended
	}
	if cfg.Cluster.URL != "" {
		if a.cluster, err = a.joinCluster(keys.Signers()[0].PublicKey(), reg); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil && a.events == nil {
				_ = a.cluster.close()
			}
		}()
	}
	logPath := filepath.Join(cfg.Data, "events.log")
	a.events, err = history.Open(logPath, history.Options{
		Fsync: cfg.Fsync, Keep: cfg.History, Logger: logger, OnAppend: hooks.OnAppend,
	})
	if err != nil {
		return nil, err
	}
	// Every room's hub numbers its events through one bus, which hands
	// them to the log in that order: one sequence of IDs for the data
	// directory, and a log in ID order across rooms.
	var out chan<- hub.Event = a.events.Listener()
	a.rooms = newRooms(cfg, a.events.RecentByRoom())
	if a.metrics != nil {
		out = a.rooms.tee(out)
	}
	store := a.events.Healthy
	if a.cluster != nil {
		// The stream numbers the events, and its consumer writes them to
		// the log, in the stream's order, whichever node made them.
		a.cluster.out = out
		a.rooms.stamp = a.cluster.publish
		store = func() error { return errors.Join(a.events.Healthy(), a.cluster.healthy()) }
	} else {
		a.bus = bus.NewLocal(a.events.LastID(), out)
		a.rooms.stamp = a.bus.Stamp
	}
	// From here on, a failure must close the rooms and the bus, which end
	// the log's and the metrics' listeners, before the log is closed.
	defer func() {
		if err != nil {
			ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
			defer cancel()
			a.stopSide(ctx)
			if a.server != nil {
				err = errors.Join(err, a.server.Close())
			}
			a.rooms.closeAll()
			err = errors.Join(err, a.closeLog(ctx))
		}
	}()
	// While the log cannot write (a full disk), messages are refused
	// rather than shown to the room and lost.
	opts := []sshserver.Option{sshserver.WithConfig(cfg.Server), sshserver.WithRegistry(reg), sshserver.WithStore(store)}
	if a.metrics != nil {
		a.metrics.Watch(a.rooms)
		a.metrics.WatchLog(a.events)
		opts = append(opts, sshserver.WithObserver(a.metrics))
		side, err := serveHTTP("metrics", cfg.MetricsAddr, a.metrics.Handler(a.healthy), logger)
		if err != nil {
			return nil, err
		}
		a.side = append(a.side, side)
	}
	if cfg.PprofAddr != "" {
		side, err := serveHTTP("pprof", cfg.PprofAddr, pprofHandler(), logger)
		if err != nil {
			return nil, err
		}
		a.side = append(a.side, side)
	}
	if a.server, err = sshserver.New(sshserver.Rooms{Lobby: cfg.Room, Open: a.rooms.open}, keys.Signers(), logger, opts...); err != nil {
		return nil, err
	}
	if err := a.reload(); err != nil {
		return nil, err
	}
	if a.cluster != nil {
		core := a.server.Chat()
		gone := func(node string) { logger.Warn("a node of the cluster is gone: its sessions left", "node", node) }
		fenced := func(why string) {
			logger.Error("cut off from the cluster: ending every session", "node", a.cluster.node.ID())
			core.EndAll(why)
		}
		if err := a.cluster.start(core, a.events.LastID(), gone, fenced); err != nil {
			return nil, err
		}
	}
	a.addr = ln.Addr()
	go func() {
		if err := a.server.Serve(ln); !errors.Is(err, sshserver.ErrServerClosed) {
			a.serveErr <- err
		}
	}()

	port := "2222"
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok {
		port = strconv.Itoa(tcp.Port)
	}
	logger.Info("sshchat is listening",
		"addr", ln.Addr().String(),
		"room", cfg.Room,
		"host_key", keys.String(),
		"log", logPath,
		"restored_rooms", a.rooms.restored,
		"last_id", a.events.LastID(),
		"connect", "ssh -p "+port+" localhost")
	return a, nil
}

// shutdown stops the server gracefully (every session sees the close event),
// then flushes and fsyncs the log, all within ctx. The server gets three
// quarters of the time, so that the log has the rest even when sessions
// were slow to end. A log that still cannot write when ctx ends (a full
// disk) is given up on: the error counts the events lost.
func (a *app) shutdown(ctx context.Context) error {
	a.closing.Store(true)
	srvCtx, cancel := withReserve(ctx, 4)
	defer cancel()
	if err := a.server.Shutdown(srvCtx); err != nil {
		a.log.Warn("shutdown was not graceful", "err", err)
	}
	err := a.closeLog(ctx)
	if a.metrics != nil {
		_ = a.metrics.Wait(ctx)
	}
	a.stopSide(ctx)
	if err != nil {
		return err
	}
	a.log.Info("stopped")
	return nil
}

// closeLog closes the bus, which tells the log that no event follows,
// and the log, within ctx. The rooms have closed by then, their close
// events handed to the log; a room still closing (a log that cannot
// write holds it up) holds the bus until the log gives up waiting and
// drops what is sent to it.
func (a *app) closeLog(ctx context.Context) error {
	busClosed := make(chan struct{})
	go func() {
		defer close(busClosed)
		if a.cluster == nil {
			a.bus.Close()
			return
		}
		// This node's last events (departures, the rooms' close) come
		// back through the stream to its log before it leaves; the log
		// keeps a quarter of the time to write them.
		drainCtx, cancel := withReserve(ctx, 4)
		defer cancel()
		if err := a.cluster.drain(drainCtx); err != nil {
			a.log.Warn("left the cluster before its last events were back in the log", "err", err)
		}
		if err := a.cluster.close(); err != nil {
			a.log.Warn("leave the cluster", "err", err)
		}
	}()
	err := a.events.Close(ctx)
	<-busClosed
	return err
}

// withReserve is ctx with its deadline brought forward by a 1/part of the
// time left, kept for what comes after.
func withReserve(ctx context.Context, part int) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, deadline.Add(-time.Until(deadline)/time.Duration(part)))
}

// openRegistry opens the registry file. An unreadable one (truncated,
// empty) keeps the server down with an error that says how to recover,
// unless reset is set: then it is moved aside, never deleted, and the
// server starts with an empty registry.
func openRegistry(path string, reset bool, logger *slog.Logger) (*registry.Registry, error) {
	reg, err := registry.Open(path)
	if !errors.Is(err, registry.ErrCorrupt) {
		return reg, err
	}
	if !reset {
		return nil, fmt.Errorf("%w; or start with --registry-reset to move it aside and begin with an empty registry (names, ignores, bans and mutes are forgotten)", err)
	}
	moved, merr := registry.MoveAside(path)
	if merr != nil {
		return nil, errors.Join(err, merr)
	}
	logger.Warn("registry: the file was unreadable; moved it aside and started with an empty registry",
		"moved_to", moved, "err", err)
	return registry.Open(path)
}

// reload reads the admins and allow-list files again. On an error the
// server keeps the lists it had.
func (a *app) reload() error {
	admins, allow := map[string]bool{}, map[string]bool(nil)
	var err error
	if a.cfg.Admins != "" {
		if admins, err = registry.ReadKeys(a.cfg.Admins); err != nil {
			return fmt.Errorf("--admins: %w", err)
		}
	}
	if a.cfg.Allowlist != "" {
		if allow, err = registry.ReadKeys(a.cfg.Allowlist); err != nil {
			return fmt.Errorf("--allowlist: %w", err)
		}
	}
	a.server.SetAdmins(admins)
	a.server.SetAllowlist(allow)
	a.log.Info("key lists loaded", "admins", len(admins), "allowlist", a.cfg.Allowlist != "", "allowed", len(allow))
	return nil
}

// stopSide stops the metrics and profiling endpoints, within ctx and a
// second at most.
func (a *app) stopSide(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	for _, s := range a.side {
		s.shutdown(ctx)
	}
}

// healthy is what /healthz reports: serving, or stopping.
func (a *app) healthy() error {
	if a.closing.Load() {
		return errors.New("shutting down")
	}
	return nil
}

// errInsecureData is a data directory that group or others may read or
// write: it holds the event log, direct messages among it.
var errInsecureData = errors.New("data directory accessible by others")

// privateData refuses a data directory group or others may read or
// write. A missing one is fine: it is made with mode 0700.
func privateData(dir string) error {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("data directory: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o066 != 0 {
		return fmt.Errorf("%w: %s has mode %04o: run chmod 700 %s", errInsecureData, dir, uint32(perm), dir)
	}
	return nil
}
