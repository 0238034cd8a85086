package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The server refuses to start on data that others may read or write, and
// says the chmod that fixes it.
func TestStartRefusesExposedData(t *testing.T) {
	tests := []struct {
		name   string
		expose func(data string) error
		want   string
	}{
		{"data directory", func(data string) error { return os.Chmod(data, 0o755) }, "chmod 700 "},
		{"host key directory", func(data string) error { return os.Chmod(filepath.Join(data, "hostkeys"), 0o750) }, "hostkeys has mode 0750: run chmod 700 "},
		{"event log", func(data string) error { return os.Chmod(filepath.Join(data, "events.log"), 0o644) }, "chmod 600 "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			s := startServer(t, data) // a first start makes the files
			// Serving before the stop: a Shutdown that comes before Serve
			// has taken the listener does not end it.
			s.runCmd("first", newKey(t), "", "who")
			s.stop()
			if info, err := os.Stat(filepath.Join(data, "events.log")); err != nil || info.Mode().Perm() != 0o600 {
				t.Fatalf("events.log: %v, mode %v; want 0600", err, info.Mode())
			}
			if err := tt.expose(data); err != nil {
				t.Fatal(err)
			}
			a, err := start(config{Addr: "127.0.0.1:0", Data: data, Room: "lobby", History: 16, ShutdownTimeout: time.Second},
				slog.New(slog.DiscardHandler))
			if err == nil {
				a.shutdown(t.Context())
				t.Fatal("the server started")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q; want it to say %q", err, tt.want)
			}
		})
	}
}
