package history

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sshchat/sshchat/hub"
)

// logBuffer collects a server log written from several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// TestWriteErrorRetried fails writes (after writing half their bytes) and a
// sync: every event must still land exactly once, in order, and each run of
// failures is one error line when it starts and one info line when it ends.
func TestWriteErrorRetried(t *testing.T) {
	path := logPath(t)
	var logs logBuffer
	l := mustOpen(t, path, Options{Fsync: FsyncAlways, Logger: logs.logger()})
	ff := fake(l)
	ff.failWrites, ff.failSyncs = 3, 1
	send(t, l, events(1, 300))

	if got := ids(readAll(t, path)); !slices.Equal(got, seq(1, 300)) {
		t.Fatalf("file IDs = %v, want 1..300", got)
	}
	if got := l.Stats(); got.Errors != 4 || got.Events != 300 {
		t.Errorf("Stats = %+v, want 4 errors and 300 events", got)
	}
	if got := l.WriteErrors(); got != 4 {
		t.Errorf("WriteErrors = %d, want 4", got)
	}
	out := logs.String()
	if got := strings.Count(out, "level=ERROR"); got != 2 {
		t.Errorf("logged %d errors, want 2 (the write, the fsync):\n%s", got, out)
	}
	if got := strings.Count(out, "level=INFO"); got != 2 {
		t.Errorf("logged %d recoveries, want 2:\n%s", got, out)
	}
	if !strings.Contains(out, "path="+path) || !strings.Contains(out, errInjected.Error()) {
		t.Errorf("error logs lack path or cause:\n%s", out)
	}
	if err := l.Healthy(); err != nil {
		t.Errorf("Healthy after recovery = %v", err)
	}
}

// TestFullDiskKeepsTakingEvents fills the disk while the hub sends: the
// listener must take every event at once (the hub never waits), report the
// failure, and write everything, in order, once there is space again.
func TestFullDiskKeepsTakingEvents(t *testing.T) {
	path := logPath(t)
	var logs logBuffer
	l := mustOpen(t, path, Options{Logger: logs.logger()})
	ff := fake(l)
	ff.failErr = syscall.ENOSPC
	if err := l.Healthy(); err != nil {
		t.Fatalf("Healthy before any write = %v", err)
	}
	ff.setFailAll(true)
	ch := l.Listener()
	n := 5 * listenerBuffer // far more than the channel holds
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for _, e := range events(1, n) {
			ch <- e // blocks for good if the listener stopped reading
		}
	}()
	eventually(t, "every event taken", func() bool {
		select {
		case <-sent:
			return l.Pending() == n
		default:
			return false
		}
	})
	err := l.Healthy()
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Healthy on a full disk = %v, want ErrUnavailable and ENOSPC", err)
	}
	if l.WriteErrors() == 0 {
		t.Error("no write error counted")
	}
	if out := logs.String(); strings.Count(out, "level=ERROR") != 1 || !strings.Contains(out, "no space left on device") {
		t.Errorf("want one error line naming the cause, got:\n%s", out)
	}

	ff.setFailAll(false)
	eventually(t, "the queue written", func() bool { return l.Pending() == 0 && l.Healthy() == nil })
	if out := logs.String(); !strings.Contains(out, "level=INFO msg=\"event log: write works again") {
		t.Errorf("no recovery line:\n%s", out)
	}
	for _, e := range events(n+1, n+10) {
		ch <- e
	}
	close(ch)
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := ids(readAll(t, path)); !slices.Equal(got, seq(1, n+10)) {
		t.Fatalf("file holds %d events, not 1..%d once each in order", len(got), n+10)
	}
}

// TestMaxPendingBounds: what waits in memory is bounded; past the bound the
// hub waits (backpressure) rather than an event being lost.
func TestMaxPendingBounds(t *testing.T) {
	path := logPath(t)
	const maxPending = 8 << 10
	l := mustOpen(t, path, Options{MaxPending: maxPending})
	ff := fake(l)
	ff.setFailAll(true)
	ch := l.Listener()
	n := 4 * listenerBuffer
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for _, e := range events(1, n) {
			ch <- e
		}
	}()
	eventually(t, "a full listener channel", func() bool { return len(ch) == cap(ch) })
	select {
	case <-sent:
		t.Fatal("every event was accepted past MaxPending")
	default:
	}
	line := len(encodeLine(t, event(1))) + 8
	if got := l.Stats().Bytes; got != 0 {
		t.Errorf("%d bytes written on a failing disk", got)
	}
	// The intake holds at most maxPending and a line, the writer one batch.
	if got, limit := l.pendingBytes.Load(), int64(2*(maxPending+line)); got > limit {
		t.Errorf("%d bytes pending, want at most %d", got, limit)
	}
	ff.setFailAll(false)
	<-sent
	close(ch)
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := ids(readAll(t, path)); !slices.Equal(got, seq(1, n)) {
		t.Fatalf("file holds %d events, not 1..%d once each in order", len(got), n)
	}
}

// TestCloseGivesUpAtDeadline: a disk that never recovers must not hang
// Close past its context; it says how many events were not written.
func TestCloseGivesUpAtDeadline(t *testing.T) {
	var logs logBuffer
	l := mustOpen(t, logPath(t), Options{Logger: logs.logger()})
	ff := fake(l)
	ff.setFailAll(true)
	ch := l.Listener()
	for _, e := range events(1, 10) {
		ch <- e
	}
	close(ch)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := l.Close(ctx)
	if !errors.Is(err, ErrUnwritten) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want ErrUnwritten and the deadline", err)
	}
	if !strings.Contains(err.Error(), ": 10:") {
		t.Errorf("Close = %v, want it to count 10 events", err)
	}
	<-l.done // the writer ends: goleak checks the rest
	if out := logs.String(); !strings.Contains(out, "stopped before every event was written") {
		t.Errorf("no line about the unwritten events:\n%s", out)
	}
	if err := l.Close(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

// TestCloseWithHungWriteAndOpenHub: a write that never returns, and a hub
// that has not closed the channel yet: Close returns when its context ends,
// and from then on the hub's sends do not block, so it can finish closing.
func TestCloseWithHungWriteAndOpenHub(t *testing.T) {
	const maxPending = 4 << 10
	l := mustOpen(t, logPath(t), Options{MaxPending: maxPending})
	ff := fake(l)
	release := ff.block()
	defer release()
	ch := l.Listener()
	i := 1
	for ; l.Healthy() == nil; i++ {
		ch <- event(i) // a slow disk makes the log unhealthy past half of MaxPending
	}
	if err := l.Healthy(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Healthy = %v, want ErrUnavailable", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Close(ctx); !errors.Is(err, ErrUnwritten) {
		t.Fatalf("Close = %v, want ErrUnwritten", err)
	}
	for range 3 * listenerBuffer { // more than the channel and MaxPending hold
		ch <- event(i)
		i++
	}
	close(ch)
	release() // the hung write returns; goleak checks that everything ends
	<-l.done
}

// TestHubDoesNotFreezeOnFullDisk attaches the log to a real hub on a full
// disk: the room goes on (far more events than any buffer), and once the
// disk has space the file holds every event the hub emitted, in order.
func TestHubDoesNotFreezeOnFullDisk(t *testing.T) {
	path := logPath(t)
	l := mustOpen(t, path, Options{})
	ff := fake(l)
	ff.failErr = syscall.ENOSPC
	ff.setFailAll(true)
	h := hub.New("lobby", 16, 16)
	h.AttachListener(l.Listener())
	n := 4 * listenerBuffer
	for i := range n {
		h.Message(testUsers[i%2].id, "hello")
	}
	if got := h.History(); len(got) == 0 || got[len(got)-1].ID != n {
		t.Fatalf("the hub is at %v, want event %d", ids(got), n)
	}
	if err := l.Healthy(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Healthy = %v, want ENOSPC", err)
	}
	ff.setFailAll(false)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, path)
	if !slices.Equal(ids(got), seq(1, n+1)) || got[n].Type != hub.EventTypeClose {
		t.Fatalf("file holds %d events, want 1..%d ending with close", len(got), n+1)
	}
}
