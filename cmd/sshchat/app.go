package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sshchat/sshchat/history"
	"github.com/sshchat/sshchat/hostkeys"
	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/metrics"
	"github.com/sshchat/sshchat/registry"
	"github.com/sshchat/sshchat/sshserver"
)

// app is a running server: host keys, log, hub and SSH server wired.
type app struct {
	cfg      config
	log      *slog.Logger
	events   *history.Log
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
	keys, err := hostkeys.LoadOrCreate(filepath.Join(cfg.Data, "hostkeys"))
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: logger, serveErr: make(chan error, 1)}
	reg, err := registry.Open(filepath.Join(cfg.Data, "registry.json"))
	if err != nil {
		return nil, err
	}
	var hooks history.Options
	if cfg.MetricsAddr != "" {
		a.metrics = metrics.New()
		hooks.OnAppend = a.metrics.Appended
	}
	logPath := filepath.Join(cfg.Data, "events.log")
	a.events, err = history.Open(logPath, history.Options{
		Fsync: cfg.Fsync, Keep: cfg.History, Logger: logger, OnAppend: hooks.OnAppend,
	})
	if err != nil {
		return nil, err
	}
	h := hub.New(cfg.Room, 1024, cfg.History, hub.WithHistory(a.events.Recent()), hub.WithLastID(a.events.LastID()),
		hub.WithMaxBehind(cfg.MaxBehind), hub.WithMaxLag(cfg.MaxLag))
	h.AttachListener(a.events.Listener())
	// From here on, a failure must close the hub, which ends the log's and
	// the metrics' listeners, before the log is closed.
	defer func() {
		if err != nil {
			a.stopSide()
			err = errors.Join(err, h.Close(), a.events.Close())
		}
	}()
	opts := []sshserver.Option{sshserver.WithConfig(cfg.Server), sshserver.WithRegistry(reg)}
	if a.metrics != nil {
		a.metrics.Watch(h)
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
	if a.server, err = sshserver.New(h, keys.Signers(), logger, opts...); err != nil {
		return nil, err
	}
	if err := a.reload(); err != nil {
		return nil, err
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
		"restored_events", len(a.events.Recent()),
		"last_id", a.events.LastID(),
		"connect", "ssh -p "+port+" localhost")
	return a, nil
}

// shutdown stops the server gracefully (every session sees the close event),
// then flushes and fsyncs the log. It always closes the log, even when ctx
// ran out and connections had to be cut.
func (a *app) shutdown(ctx context.Context) error {
	a.closing.Store(true)
	err := a.server.Shutdown(ctx)
	if err != nil {
		a.log.Warn("shutdown was not graceful", "err", err)
	}
	if a.metrics != nil {
		a.metrics.Wait()
	}
	a.stopSide()
	if cerr := a.events.Close(); cerr != nil {
		return fmt.Errorf("close log: %w", cerr)
	}
	a.log.Info("stopped")
	return nil
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

// stopSide stops the metrics and profiling endpoints.
func (a *app) stopSide() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
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
