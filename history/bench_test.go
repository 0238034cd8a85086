package history

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sshchat/sshchat/hub"
)

func BenchmarkAppend(b *testing.B) {
	l := mustOpen(b, logPath(b), Options{})
	ch := l.Listener()
	e := event(1)
	b.SetBytes(int64(len(encodeLine(b, e))))
	b.ResetTimer()
	for i := range b.N {
		e.ID = i + 1
		ch <- e
	}
	close(ch)
	if err := l.Close(context.Background()); err != nil { // waits for the last write and fsync
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkOpen opens a log of SSHCHAT_BENCH_LOG_MB megabytes (default 64)
// for hubs that keep 1024 events, with 1, 100 or 1,000 rooms taking turns:
// Open reads DefaultRecentScan bytes of it, and with 1,000 rooms decodes
// every event there.
func BenchmarkOpen(b *testing.B) {
	for _, rooms := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("rooms=%d", rooms), func(b *testing.B) {
			path := benchLog(b, rooms)
			for b.Loop() {
				l, err := Open(path, Options{Keep: 1024, Logger: discard})
				if err != nil {
					b.Fatal(err)
				}
				if len(l.Recent()) != 1024 || len(l.RecentByRoom()) != rooms {
					b.Fatalf("Recent has %d events, RecentByRoom %d rooms", len(l.Recent()), len(l.RecentByRoom()))
				}
				if err := l.Close(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTail takes the last 100 joins of the benchmark log, as
// `sshchat log --type join -n 100` would.
func BenchmarkTail(b *testing.B) {
	path := benchLog(b, 1)
	f := Filter{Types: []string{hub.EventTypeJoin}}
	for b.Loop() {
		recs, err := Tail(path, 100, f)
		if err != nil {
			b.Fatal(err)
		}
		if len(recs) != 100 {
			b.Fatalf("Tail returned %d records", len(recs))
		}
	}
}

// benchLog writes a log of SSHCHAT_BENCH_LOG_MB megabytes in a temporary
// directory removed after the benchmark, its events in rooms taking turns
// (one room: lobby). Lines are a few encoded events whose IDs are
// rewritten, so generating 1 GB takes seconds.
func benchLog(b *testing.B, rooms int) string {
	b.Helper()
	mb := 64
	if s := os.Getenv("SSHCHAT_BENCH_LOG_MB"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("SSHCHAT_BENCH_LOG_MB=%q: want a positive number", s)
		}
		mb = n
	}
	// The encoding of an event starts with its ID: keep what follows it.
	var tails []string
	for id := 1; id <= 10*rooms; id++ {
		e := event(id)
		e.ID = 0
		if rooms > 1 {
			e.ChatRoomID = fmt.Sprintf("room%d", id%rooms)
		}
		tails = append(tails, strings.TrimPrefix(encodeLine(b, e), `{"id":0`))
	}
	path := filepath.Join(b.TempDir(), "events.log")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var buf []byte
	for id, size := 1, 0; size < mb<<20; id++ {
		buf = append(strconv.AppendInt(append(buf[:0], `{"id":`...), int64(id), 10), tails[id%len(tails)]...)
		w.Write(buf)
		size += len(buf)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	// Sync now so that the first Close does not pay for the generation.
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	return path
}
