// Command sshchat is a chat server reached with nothing but ssh.
//
//	sshchat [serve] [flags]   run the server (the default)
//	sshchat log [flags]       print or follow the event log
//
// Every serve flag can also be set by an environment variable: --fsync by
// SSHCHAT_FSYNC, --max-message by SSHCHAT_MAX_MESSAGE, and so on; log takes
// --data from SSHCHAT_DATA too. A flag given on the command line wins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go onSignals(sigs, cancel, os.Stderr, os.Exit)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}

// onSignals turns the first SIGINT or SIGTERM into a graceful stop (it
// cancels the command's context) and a second one into an exit at once,
// with the status a shell gives a process killed by that signal (130 for
// SIGINT, 143 for SIGTERM), for when the graceful stop takes too long.
func onSignals(sigs <-chan os.Signal, cancel context.CancelFunc, stderr io.Writer, exit func(code int)) {
	<-sigs
	cancel()
	sig := <-sigs
	code := 1
	if n, ok := sig.(syscall.Signal); ok {
		code = 128 + int(n)
	}
	fmt.Fprintf(stderr, "sshchat: second signal (%v) during the graceful stop: exiting at once with status %d; events not yet written to the log are lost\n", sig, code)
	exit(code)
}

// gcPercent is the garbage collector's target (GOGC) of the server when the
// environment does not set one. A chat server holds many sessions that
// mostly wait, so the heap's headroom, which the default of 100 makes as
// large as the live heap, is most of what an idle session costs. At 50,
// 1,000 sessions chatting at 20 messages a second cost 11 % more CPU and
// a quarter less memory (docs/PERFORMANCE.md).
const gcPercent = 50

// run is the whole command; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, err := parseServe(args, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if err != nil {
			fmt.Fprintf(stderr, "sshchat: %v\n", err)
			return 2
		}
		if _, set := os.LookupEnv("GOGC"); !set {
			debug.SetGCPercent(gcPercent)
		}
		if err := serve(ctx, cfg, stderr); err != nil {
			fmt.Fprintf(stderr, "sshchat: %v\n", err)
			return 1
		}
		return 0
	case "log":
		return runLog(ctx, args, stdout, stderr)
	case "help":
		fmt.Fprintln(stdout, "usage: sshchat [serve] [flags]   (sshchat serve --help lists the flags)")
		fmt.Fprintln(stdout, "       sshchat log [flags]       print or follow the event log (sshchat log --help)")
		return 0
	default:
		fmt.Fprintf(stderr, "sshchat: unknown command %q (try: sshchat serve --help)\n", cmd)
		return 2
	}
}

// serve runs the server until ctx ends, then shuts it down gracefully.
func serve(ctx context.Context, cfg config, stderr io.Writer) error {
	logger, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	a, err := start(cfg, logger)
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for running := true; running; {
		select {
		case <-ctx.Done():
			logger.Info("shutting down; a second signal stops at once", "timeout", cfg.ShutdownTimeout)
			running = false
		case err := <-a.serveErr:
			logger.Error("server stopped", "err", err)
			running = false
		case <-hup:
			if err := a.reload(); err != nil {
				logger.Error("reload: keeping the previous key lists", "err", err)
			}
		}
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	return a.shutdown(shutCtx)
}

func newLogger(cfg config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch cfg.LogFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format: %q is neither text nor json", cfg.LogFormat)
	}
}

// defaultShutdownTimeout bounds a graceful stop; past it connections are cut.
const defaultShutdownTimeout = 1500 * time.Millisecond
