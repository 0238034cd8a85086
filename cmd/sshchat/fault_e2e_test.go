package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sshchat/sshchat/history"
	"github.com/sshchat/sshchat/hub"
)

const cannotSave = "the server cannot save messages right now"

// mountTmpfs mounts a tmpfs of size bytes on dir until the test ends, or
// says why it cannot.
func mountTmpfs(t *testing.T, dir string, size int) error {
	t.Helper()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(size)); err != nil {
		return err
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return nil
}

// fill writes a file in dir until the filesystem is full, and returns it.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			return path
		}
	}
}

// scrapeUntil polls the metrics endpoint until it holds want.
func scrapeUntil(t *testing.T, base, want string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in /metrics:\n%s", want, body)
		}
		time.Sleep(20 * time.Millisecond) // polling an HTTP endpoint, not synchronizing
	}
}

// TestFullDiskRefusesMessagesAndRecovers fills the data directory's disk
// (a small tmpfs) under a running server: sessions stay, new messages are
// refused with a line saying why, the metrics say so, and once there is
// space again everything the server accepted is in the log, in order.
func TestFullDiskRefusesMessagesAndRecovers(t *testing.T) {
	data := t.TempDir()
	if err := mountTmpfs(t, data, 256<<10); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root): %v; TestUnwritableLogStopsInTime and the history package's injected-failure tests cover the point", err)
	}
	s := startServer(t, data, func(c *config) {
		c.MetricsAddr = "127.0.0.1:0"
		c.Server.MessageRate, c.Server.MessageBurst = 1000, 1000
	})
	base := "http://" + s.app.side[0].addr.String()
	alice := s.connect("alice", newKey(t), 120, 30)
	alice.waitText("#lobby")
	alice.say("before the disk filled")
	alice.waitText("alice: before the disk filled")
	scrapeUntil(t, base, "sshchat_log_healthy 1")
	// The robot and carol have been here before: their names are saved, so
	// they need not write the registry on a full disk to come back.
	bot, carolKey := newKey(t), newKey(t)
	if _, stderr, status := s.runCmd("robot", bot, "", "say first script line"); status != 0 {
		t.Fatalf("say: status %d, stderr %q", status, stderr)
	}
	carol := s.connect("carol", carolKey, 80, 24)
	carol.waitText("#lobby")
	carol.close()
	alice.waitLeft("carol")

	filler := fill(t, data)
	// The log's last page may still take a few lines: post until a write
	// needs a new page and fails. What was accepted waits in memory.
	accepted := []string{"first script line"}
	newest := "robot: first script line" // how the last accepted one starts on a screen
	for i := 0; ; i++ {
		if i > 200 {
			t.Fatal("the log never failed on a full disk")
		}
		text := "script line " + strconv.Itoa(i) + " " + strings.Repeat("x", 2000)
		_, stderr, status := s.runCmd("robot", bot, "", "say "+text)
		if status == 0 {
			accepted = append(accepted, text)
			newest = "robot: script line " + strconv.Itoa(i)
			continue
		}
		if !strings.Contains(stderr, cannotSave) {
			t.Fatalf("say refused with %q, want %q", stderr, cannotSave)
		}
		break
	}
	scrapeUntil(t, base, "sshchat_log_healthy 0")
	// What the room accepted reaches alice's screen in its own time: a
	// message that arrived after her refusal could push the refusal out
	// of view (each takes most of the screen).
	alice.waitText(newest)

	alice.say("said on a full disk")
	alice.waitText(cannotSave)
	if strings.Contains(alice.screen(), "alice: said on a full disk") {
		t.Error("a refused message was shown to the room")
	}
	// The room goes on: arrivals and departures are kept in memory.
	carol = s.connect("carol", carolKey, 80, 24)
	carol.waitText("#lobby")
	alice.waitJoined("carol")

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	scrapeUntil(t, base, "sshchat_log_healthy 1")
	scrapeUntil(t, base, "sshchat_log_pending_events 0")
	alice.typeText("\x15") // the refused text came back to the input line
	alice.say("after the disk had space")
	alice.waitText("alice: after the disk had space")
	s.stop()

	evs := s.events()
	var messages []string
	carolJoins := 0
	for i, ev := range evs {
		if i > 0 && ev.ID != evs[i-1].ID+1 {
			t.Fatalf("IDs not contiguous: %d then %d", evs[i-1].ID, ev.ID)
		}
		if ev.Type == hub.EventTypeMessage {
			messages = append(messages, ev.Message)
		}
		if ev.Type == hub.EventTypeJoin && ev.Name == "carol" {
			carolJoins++
		}
	}
	want := append(append([]string{"before the disk filled"}, accepted...), "after the disk had space")
	if !slices.Equal(messages, want) {
		t.Errorf("messages in the log:\n%q\nwant:\n%q", messages, want)
	}
	if carolJoins != 2 {
		t.Errorf("carol joined %d times in the log, want 2 (once during the outage)", carolJoins)
	}
	if last := evs[len(evs)-1]; last.Type != hub.EventTypeClose {
		t.Errorf("log ends with %+v, want close", last)
	}
}

// devFull links DATA/events.log to /dev/full, where every write fails with
// ENOSPC and no root is needed, or says why it cannot.
func devFull(t *testing.T, data string) {
	t.Helper()
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full on this system (%v): TestFullDiskRefusesMessagesAndRecovers and the history package's injected-failure tests cover the point", err)
	}
	_, err = f.Write([]byte("x"))
	f.Close()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Skipf("/dev/full does not fail with ENOSPC here (%v)", err)
	}
	if err := os.Symlink("/dev/full", filepath.Join(data, "events.log")); err != nil {
		t.Fatal(err)
	}
}

// TestUnwritableLogStopsInTime: with a log that cannot take a byte, the
// server still refuses messages with a reason and stops within its
// shutdown timeout, saying what it could not write; goleak checks that
// nothing is left running.
func TestUnwritableLogStopsInTime(t *testing.T) {
	data := t.TempDir()
	devFull(t, data)
	s := startServer(t, data, func(c *config) { c.ShutdownTimeout = time.Second })
	alice := s.connect("alice", newKey(t), 120, 30)
	alice.waitText("#lobby")
	// The first write fails (alice's arrival): from then on the log is
	// unhealthy until it can write again.
	deadline := time.Now().Add(wait)
	for s.app.events.Healthy() == nil {
		if time.Now().After(deadline) {
			t.Fatal("the log never reported the failing writes")
		}
		time.Sleep(time.Millisecond) // polling a state, not synchronizing
	}
	alice.say("nowhere to go")
	alice.waitText(cannotSave)
	if _, stderr, status := s.runCmd("robot", newKey(t), "", "say hello"); status == 0 || !strings.Contains(stderr, cannotSave) {
		t.Errorf("say on a full disk: status %d, stderr %q; want a refusal", status, stderr)
	}

	s.down = true
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	start := time.Now()
	err := s.app.shutdown(ctx)
	took := time.Since(start)
	t.Logf("shutdown with the log full took %v (timeout %v): %v", took, s.cfg.ShutdownTimeout, err)
	if !errors.Is(err, history.ErrUnwritten) {
		t.Errorf("shutdown = %v, want it to report unwritten events", err)
	}
	if ctx.Err() == nil {
		t.Errorf("shutdown returned before its deadline with the log still failing")
	}
	alice.waitText("server is shutting down")
}

// TestRegistryDamaged: a truncated registry keeps the server down with an
// error that names the backup and the flag; the flag moves it aside.
func TestRegistryDamaged(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	s.connect("ann", newKey(t), 80, 24).waitText("#lobby")
	s.stop()
	path := filepath.Join(data, "registry.json")
	if err := os.WriteFile(path, []byte(`{"owners": {"ann"`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config{Addr: "127.0.0.1:0", Data: data, Room: "lobby", ShutdownTimeout: 2 * time.Second}
	_, err := start(cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("the server started on a truncated registry")
	}
	for _, want := range []string{"registry.json", "--registry-reset"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	t.Logf("start on a truncated registry: %v", err)

	s = startServer(t, data, func(c *config) { c.RegistryReset = true })
	s.connect("bob", newKey(t), 80, 24).waitText("#lobby")
	moved, _ := filepath.Glob(path + ".broken-*")
	if len(moved) != 1 {
		t.Fatalf("moved aside: %v, want one file", moved)
	}
	if got, _ := os.ReadFile(moved[0]); string(got) != `{"owners": {"ann"` {
		t.Errorf("the moved file holds %q, want the damaged content", got)
	}
}

// TestSessionEndReasonInServerLog: why a session ended (here a kick; an
// eviction goes the same way) is in the server log, not only on the
// screen and in events.log.
func TestSessionEndReasonInServerLog(t *testing.T) {
	var logs lockedBuffer
	boss := newKey(t)
	s := startServerLog(t, t.TempDir(), &logs, withAdmins(t, boss))
	admin := s.connect("boss", boss, 100, 30)
	bob := s.connect("bob", newKey(t), 100, 30)
	admin.waitJoined("bob")
	admin.say("/kick bob flooding")
	bob.waitText("kicked by boss: flooding")
	ended := regexp.MustCompile(`msg="session ended" .*reason="disconnected: kicked by boss: flooding"`)
	deadline := time.Now().Add(wait)
	for !ended.MatchString(logs.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no session end with its reason in the server log:\n%s", logs.String())
		}
		time.Sleep(time.Millisecond) // polling a log, not synchronizing
	}
}
