package history

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sshchat/sshchat/hub"
)

func TestRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "events.log")

	l := mustOpen(t, path, Options{Keep: 3})
	if got := l.LastID(); got != 0 {
		t.Fatalf("new log: LastID = %d, want 0", got)
	}
	if got := l.Recent(); len(got) != 0 {
		t.Fatalf("new log: Recent = %v, want none", got)
	}
	send(t, l, events(1, 10))
	if got := l.Stats(); got.Events != 10 || got.Syncs == 0 {
		t.Errorf("Stats = %+v, want 10 events and a sync", got)
	}

	for _, tc := range []struct {
		path string
		want os.FileMode
	}{{dir, 0o700 | os.ModeDir}, {path, 0o600}} {
		st, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != tc.want {
			t.Errorf("%s: mode %v, want %v", tc.path, st.Mode(), tc.want)
		}
	}

	for _, tc := range []struct {
		keep int
		want []hub.Event
	}{
		{0, nil},
		{3, events(8, 10)},
		{100, events(1, 10)},
	} {
		l := mustOpen(t, path, Options{Keep: tc.keep})
		if got := l.LastID(); got != 10 {
			t.Errorf("keep %d: LastID = %d, want 10", tc.keep, got)
		}
		if got := l.Recent(); !slices.Equal(got, tc.want) {
			t.Errorf("keep %d: Recent IDs = %v, want %v", tc.keep, ids(got), ids(tc.want))
		}
		if got := l.Recovery(); got != (Recovery{}) {
			t.Errorf("keep %d: Recovery = %+v, want none", tc.keep, got)
		}
		if err := l.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}

	l = mustOpen(t, path, Options{})
	send(t, l, events(l.LastID()+1, 15))
	if got, want := readAll(t, path), events(1, 15); !slices.Equal(got, want) {
		t.Errorf("file IDs = %v, want %v", ids(got), ids(want))
	}
}

func TestCloseWithoutListener(t *testing.T) {
	l := mustOpen(t, logPath(t), Options{})
	if err := l.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := l.Close(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if ch := l.Listener(); ch != nil {
		t.Errorf("Listener after Close = %v, want nil", ch)
	}
}

func TestListenerOnce(t *testing.T) {
	l := mustOpen(t, logPath(t), Options{})
	a, b := l.Listener(), l.Listener()
	if a != b {
		t.Error("second Listener returned a different channel")
	}
	close(a)
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

func TestOpenInvalidOptions(t *testing.T) {
	for _, opts := range []Options{{Keep: -1}, {Interval: -time.Second}, {Fsync: Fsync(7)}} {
		if _, err := Open(logPath(t), opts); !errors.Is(err, ErrOptions) {
			t.Errorf("Open(%+v) = %v, want ErrOptions", opts, err)
		}
	}
}

// TestTornTail cuts the last line at every byte: Open must cut exactly the
// fragment, keep the events before it, and leave a file that takes appends.
func TestTornTail(t *testing.T) {
	head := encodeLine(t, event(1)) + encodeLine(t, event(2))
	last := encodeLine(t, event(3))
	for k := 0; k < len(last); k++ { // k bytes of the last line survive; k == len-1 lacks only '\n'
		path := logPath(t)
		writeFile(t, path, head, last[:k])

		l := mustOpen(t, path, Options{Keep: 10})
		if got := l.Recovery(); got != (Recovery{TornBytes: int64(k)}) {
			t.Fatalf("k=%d: Recovery = %+v, want TornBytes %d", k, got, k)
		}
		if got := l.LastID(); got != 2 {
			t.Fatalf("k=%d: LastID = %d, want 2", k, got)
		}
		if got := ids(l.Recent()); !slices.Equal(got, []int{1, 2}) {
			t.Fatalf("k=%d: Recent = %v, want [1 2]", k, got)
		}
		if st, err := os.Stat(path); err != nil || st.Size() != int64(len(head)) {
			t.Fatalf("k=%d: size after Open = %d (%v), want %d", k, st.Size(), err, len(head))
		}
		send(t, l, []hub.Event{event(3)})
		if got, err := os.ReadFile(path); err != nil || string(got) != head+last {
			t.Fatalf("k=%d: file after append = %q (%v), want %q", k, got, err, head+last)
		}
	}
}

func TestTornOnlyLine(t *testing.T) {
	path := logPath(t)
	writeFile(t, path, `{"id":1,"type":"mess`)
	l := mustOpen(t, path, Options{Keep: 10})
	if got := l.Recovery(); got.TornBytes != 20 {
		t.Errorf("TornBytes = %d, want 20", got.TornBytes)
	}
	if l.LastID() != 0 || len(l.Recent()) != 0 {
		t.Errorf("LastID %d, Recent %v: want an empty log", l.LastID(), l.Recent())
	}
	send(t, l, events(1, 2))
	if got := ids(readAll(t, path)); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("file IDs = %v, want [1 2]", got)
	}
}

func TestCorruptLines(t *testing.T) {
	path := logPath(t)
	writeFile(t, path,
		encodeLine(t, event(1)),
		encodeLine(t, event(2)),
		"garbage\n",
		`{"id":3}`+"\n", // no type
		"\n",
		strings.Repeat("x", MaxLine+1)+"\n",
		encodeLine(t, event(4)),
		`{"id":0,"type":"message"}`+"\n",
		encodeLine(t, event(5)),
		`{"id":6,"type":"message"`+"\n", // complete line, broken JSON
	)
	var logs bytes.Buffer
	l := mustOpen(t, path, Options{Keep: 10, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if got, want := l.Recovery(), (Recovery{Corrupt: 6}); got != want {
		t.Errorf("Recovery = %+v, want %+v", got, want)
	}
	if got := ids(l.Recent()); !slices.Equal(got, []int{1, 2, 4, 5}) {
		t.Errorf("Recent = %v, want [1 2 4 5]", got)
	}
	if l.LastID() != 5 {
		t.Errorf("LastID = %d, want 5", l.LastID())
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(logs.String(), "level=WARN msg=\"event log: skipped a corrupt line\""); got != 6 {
		t.Errorf("logged %d corrupt-line warnings, want 6:\n%s", got, logs.String())
	}
	if !strings.Contains(logs.String(), "offset=") || !strings.Contains(logs.String(), "path="+path) {
		t.Errorf("warnings lack offset or path:\n%s", logs.String())
	}

	// Only the tail is read: with Keep 1 and no more bytes to scan for
	// the rooms, the corrupt lines before event 5 are never met.
	l = mustOpen(t, path, Options{Keep: 1, RecentScan: 1})
	defer l.Close(context.Background())
	if got, want := l.Recovery(), (Recovery{Corrupt: 1}); got != want {
		t.Errorf("Keep 1: Recovery = %+v, want %+v", got, want)
	}
	if got := ids(l.Recent()); !slices.Equal(got, []int{5}) {
		t.Errorf("Keep 1: Recent = %v, want [5]", got)
	}
}

func TestFsyncModes(t *testing.T) {
	for _, mode := range []Fsync{FsyncBatch, FsyncAlways, FsyncNever} {
		t.Run(mode.String(), func(t *testing.T) {
			path := logPath(t)
			l := mustOpen(t, path, Options{Fsync: mode})
			ff := fake(l)
			send(t, l, events(1, 500))

			if got := ids(readAll(t, path)); !slices.Equal(got, seq(1, 500)) {
				t.Fatalf("file IDs = %v, want 1..500", got)
			}
			if got := ff.last(); got != "sync" {
				t.Errorf("last operation = %q, want the sync of Close", got)
			}
			writes, syncs := ff.count("write"), ff.count("sync")
			switch mode {
			case FsyncAlways:
				if syncs != writes {
					t.Errorf("%d writes, %d syncs: want one sync per write", writes, syncs)
				}
			case FsyncNever:
				if syncs != 1 {
					t.Errorf("%d syncs, want only the one of Close", syncs)
				}
			}
		})
	}
}

// TestFsyncBatchIdle checks that a lone event is synced within the interval
// without waiting for another event or Close.
func TestFsyncBatchIdle(t *testing.T) {
	l := mustOpen(t, logPath(t), Options{Interval: 5 * time.Millisecond})
	ff := fake(l)
	ch := l.Listener()
	ch <- event(1)
	eventually(t, "the idle sync", func() bool { return ff.count("sync") == 1 })
	close(ch)
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := ff.count("sync"); got != 1 {
		t.Errorf("%d syncs, want 1: Close has nothing left to sync", got)
	}
}

// TestFsyncBatchWaitsForTheDelivery checks that a sync due already when an
// event is written waits syncDelay after the write, and then comes.
func TestFsyncBatchWaitsForTheDelivery(t *testing.T) {
	const interval = 2 * syncDelay
	l := mustOpen(t, logPath(t), Options{Interval: interval})
	ff := fake(l)
	ch := l.Listener()
	<-time.After(2 * interval) // the writer started an interval ago: a sync is due
	ch <- event(1)
	eventually(t, "the sync", func() bool { return ff.count("sync") == 1 })
	if gap := ff.first("sync").Sub(ff.first("write")); gap < syncDelay {
		t.Errorf("the sync came %v after the write, want %v or more", gap, syncDelay)
	}
	close(ch)
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestParseFsync(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Fsync
		wantErr bool
	}{
		{"batch", FsyncBatch, false},
		{"always", FsyncAlways, false},
		{"never", FsyncNever, false},
		{"Always", FsyncAlways, false},
		{"", 0, true},
		{"sometimes", 0, true},
		{" always", 0, true},
	} {
		got, err := ParseFsync(tc.in)
		if tc.wantErr {
			if !errors.Is(err, ErrFsyncMode) {
				t.Errorf("ParseFsync(%q) = %v, %v; want ErrFsyncMode", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseFsync(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if back, _ := ParseFsync(got.String()); back != got {
			t.Errorf("ParseFsync(%v.String()) = %v", got, back)
		}
	}
	if got := Fsync(9).String(); got != "Fsync(9)" {
		t.Errorf("Fsync(9).String() = %q", got)
	}

	var mode Fsync
	fs := flag.NewFlagSet("sshchat", flag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	fs.Var(&mode, "fsync", "always|batch|never")
	if err := fs.Parse([]string{"-fsync=never"}); err != nil || mode != FsyncNever {
		t.Errorf("flag -fsync=never: mode %v, err %v", mode, err)
	}
	if err := fs.Parse([]string{"-fsync=maybe"}); err == nil {
		t.Error("flag -fsync=maybe: no error")
	}
}

func TestOpenRefusesLogOthersMayRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "events.log")
	l := mustOpen(t, path, Options{})
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("a new log: %v, mode %v; want 0600", err, info.Mode().Perm())
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o620, 0o602} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path, Options{})
		if !errors.Is(err, ErrInsecure) || !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Errorf("mode %v: Open = %v, want ErrInsecure saying chmod 600 %s", mode, err, path)
		}
	}
}
