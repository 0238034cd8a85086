package history

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

// crashEnv names the log a TestCrashChild process appends to.
const crashEnv = "SSHCHAT_HISTORY_CRASH_LOG"

// TestCrashChild is the process TestCrash kills: it appends events to the log
// named by crashEnv, continuing from its last ID, until it is killed.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("run by TestCrash")
	}
	l, err := Open(path, Options{Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	ch := l.Listener()
	// A child whose parent died stops on its own, after the parent's
	// longest wait for it.
	deadline := time.Now().Add(60 * time.Second)
	for id := l.LastID() + 1; time.Now().Before(deadline); id++ {
		ch <- bigEvent(id)
	}
	close(ch)
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestCrash kills a writing process three times on the same log: each time
// the log must open, hold contiguous IDs, and take the next writer's events.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	path := logPath(t)
	var size int64
	lastID := 0
	for round := 1; round <= 3; round++ {
		size = killWhileWriting(t, path, size+256<<10)

		l := mustOpen(t, path, Options{Keep: 10})
		rec := l.Recovery()
		t.Logf("round %d: killed at %d bytes, LastID %d, %+v", round, size, l.LastID(), rec)
		if rec.Corrupt != 0 {
			t.Errorf("round %d: %d corrupt lines", round, rec.Corrupt)
		}
		if l.LastID() <= lastID {
			t.Errorf("round %d: LastID %d, want more than %d", round, l.LastID(), lastID)
		}
		lastID = l.LastID()
		if got := ids(l.Recent()); !slices.Equal(got, seq(lastID-9, lastID)) {
			t.Errorf("round %d: Recent = %v, want %v", round, got, seq(lastID-9, lastID))
		}
		if err := l.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := ids(readAll(t, path)); !slices.Equal(got, seq(1, lastID)) {
			t.Fatalf("round %d: file holds %d events, not 1..%d in order", round, len(got), lastID)
		}
	}

	l := mustOpen(t, path, Options{})
	send(t, l, events(lastID+1, lastID+10))
	if got := ids(readAll(t, path)); !slices.Equal(got, seq(1, lastID+10)) {
		t.Fatalf("after the crashes, the file holds %d events, not 1..%d in order", len(got), lastID+10)
	}
}

// killWhileWriting starts TestCrashChild on path, waits until the file is
// larger than minSize, kills the child with SIGKILL and returns the size it
// left.
func killWhileWriting(t *testing.T, path string, minSize int64) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	deadline := time.After(30 * time.Second)
	for {
		if st, err := os.Stat(path); err == nil && st.Size() > minSize {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("child exited before it was killed: %v\n%s", err, out.Bytes())
		case <-deadline:
			cmd.Process.Kill()
			<-exited
			t.Fatalf("the log did not grow past %d bytes\n%s", minSize, out.Bytes())
		case <-time.After(time.Millisecond):
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
		t.Fatal(err)
	}
	<-exited
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
