package history

import (
	"bufio"
	"context"
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
// for a hub that keeps 1024 events.
func BenchmarkOpen(b *testing.B) {
	path := benchLog(b)
	for b.Loop() {
		l, err := Open(path, Options{Keep: 1024, Logger: discard})
		if err != nil {
			b.Fatal(err)
		}
		if len(l.Recent()) != 1024 {
			b.Fatalf("Recent has %d events", len(l.Recent()))
		}
		if err := l.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTail takes the last 100 joins of the benchmark log, as
// `sshchat log --type join -n 100` would.
func BenchmarkTail(b *testing.B) {
	path := benchLog(b)
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
// directory removed after the benchmark. Lines are a few encoded events
// whose IDs are rewritten, so generating 1 GB takes seconds.
func benchLog(b *testing.B) string {
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
	for id := 1; id <= 10; id++ {
		e := event(id)
		e.ID = 0
		tails = append(tails, strings.TrimPrefix(encodeLine(b, e), `{"id":0`))
	}
	path := filepath.Join(b.TempDir(), "events.log")
	f, err := os.Create(path)
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
