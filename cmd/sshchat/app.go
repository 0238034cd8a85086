package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"

	"github.com/sshchat/sshchat/history"
	"github.com/sshchat/sshchat/hostkeys"
	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/sshserver"
)

// app is a running server: host keys, log, hub and SSH server wired.
type app struct {
	log      *slog.Logger
	events   *history.Log
	server   *sshserver.Server
	addr     net.Addr
	serveErr chan error // the error Serve ended with, unless it was Shutdown
}

// start wires the server and starts listening.
func start(cfg config, logger *slog.Logger) (*app, error) {
	keys, err := hostkeys.LoadOrCreate(filepath.Join(cfg.Data, "hostkeys"))
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(cfg.Data, "events.log")
	events, err := history.Open(logPath, history.Options{Fsync: cfg.Fsync, Keep: cfg.History, Logger: logger})
	if err != nil {
		return nil, err
	}
	h := hub.New(cfg.Room, 1024, cfg.History, hub.WithHistory(events.Recent()), hub.WithLastID(events.LastID()))
	h.AttachListener(events.Listener())
	server, err := sshserver.New(h, keys.Signers(), logger, sshserver.WithConfig(cfg.Server))
	if err != nil {
		return nil, errors.Join(err, h.Close(), events.Close())
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("listen: %w", err), h.Close(), events.Close())
	}
	a := &app{log: logger, events: events, server: server, addr: ln.Addr(), serveErr: make(chan error, 1)}
	go func() {
		if err := server.Serve(ln); !errors.Is(err, sshserver.ErrServerClosed) {
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
		"restored_events", len(events.Recent()),
		"last_id", events.LastID(),
		"connect", "ssh -p "+port+" localhost")
	return a, nil
}

// shutdown stops the server gracefully (every session sees the close event),
// then flushes and fsyncs the log. It always closes the log, even when ctx
// ran out and connections had to be cut.
func (a *app) shutdown(ctx context.Context) error {
	err := a.server.Shutdown(ctx)
	if err != nil {
		a.log.Warn("shutdown was not graceful", "err", err)
	}
	if cerr := a.events.Close(); cerr != nil {
		return fmt.Errorf("close log: %w", cerr)
	}
	a.log.Info("stopped")
	return nil
}
