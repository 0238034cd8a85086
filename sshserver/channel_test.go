package sshserver

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// TestChannelFilter: before its shell, a session channel keeps the
// environment the chat uses, within bounds, refuses a forwarded agent or
// display, and a window change before a PTY or too short to read.
func TestChannelFilter(t *testing.T) {
	r := make(reached, 1)
	ts := startTestServer(t, withChat(r.chat))
	sess, err := ts.dial("alice", newSigner(t)).NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()

	ask := func(what, name string, payload []byte, want bool) {
		t.Helper()
		ok, err := sess.SendRequest(name, true, payload)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok != want {
			t.Errorf("%s: answered %v, want %v", what, ok, want)
		}
	}
	env := func(k, v string) []byte { return gossh.Marshal(struct{ Key, Value string }{k, v}) }
	window := func(w, h uint32) []byte {
		return gossh.Marshal(struct{ W, H, WPx, HPx uint32 }{w, h, 0, 0})
	}

	ask("TERM", "env", env("TERM", "xterm-256color"), true)
	ask("LANG", "env", env("LANG", "en_US.UTF-8"), true)
	ask("a variable the chat does not use", "env", env("LD_PRELOAD", "/tmp/x.so"), false)
	ask("a long value", "env", env("LC_ALL", strings.Repeat("x", maxEnvBytes)), false)
	for i := 2; i < maxEnv; i++ { // two kept already
		ask(fmt.Sprintf("LC_%d", i), "env", env(fmt.Sprintf("LC_%d", i), "C"), true)
	}
	ask("one variable past the bound", "env", env("LC_MORE", "C"), false)
	ask("a forwarded agent", "auth-agent-req@openssh.com", nil, false)
	ask("a forwarded display", "x11-req", nil, false)
	ask("a window change before a PTY", "window-change", window(100, 40), false)
	if err := sess.RequestPty("xterm", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	ask("a window change", "window-change", window(100, 40), true)
	ask("a window change too short to read", "window-change", []byte{0, 0, 0, 1}, false)
}

// TestWindowChangesReachTheChat: the window changes of a session's channel
// go through the middleware to the chat, the latest one at least.
func TestWindowChangesReachTheChat(t *testing.T) {
	sizes := make(chan ssh.Window, 16)
	ts := startTestServer(t, withChat(func(ssh.Handler) ssh.Handler {
		return func(sess ssh.Session) {
			fmt.Fprintln(sess, "ready")
			for w := range sess.(*session).winch { // closed with the channel
				sizes <- w
			}
		}
	}))
	sess, err := ts.dial("alice", newSigner(t)).NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	out, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(out, make([]byte, len("ready"))); err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{90, 100, 110} {
		if err := sess.WindowChange(40, w); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.After(wait)
	for {
		select {
		case w := <-sizes:
			if w.Width == 110 && w.Height == 40 {
				return
			}
		case <-deadline:
			t.Fatalf("the chat did not get the window 110×40 within %v", wait)
		}
	}
}

// counter is an Observer that counts.
type counter struct {
	mu      sync.Mutex
	refused map[string]int
	auth    int
}

func (c *counter) Refused(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refused == nil {
		c.refused = make(map[string]int)
	}
	c.refused[reason]++
}

func (c *counter) AuthFailed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.auth++
}

func (c *counter) Throttled() {}

func (c *counter) counts() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("refused %v, auth failed %d", c.refused, c.auth)
}

// waitCounts polls the counts until they are want.
func (c *counter) waitCounts(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for c.counts() != want {
		if time.Now().After(deadline) {
			t.Fatalf("counted %s, want %s", c.counts(), want)
		}
		time.Sleep(time.Millisecond) // polling a condition, with a deadline
	}
}

// TestRefusedConnectionToldWhy: a connection over the limit per address
// is told why in the auth banner and fails to authenticate, counted once
// as refused, not as a failed authentication; a client without a key is
// counted as one.
func TestRefusedConnectionToldWhy(t *testing.T) {
	var seen counter
	ts := startTestServer(t, WithObserver(&seen), WithConfig(Config{ConnsPerIP: 1, NewConnsPerIPMin: 100000}))
	alice := newSigner(t)
	first := ts.dial("alice", alice)

	var banner string
	_, err := gossh.Dial("tcp", ts.addr, &gossh.ClientConfig{
		User:            "alice",
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(alice)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		BannerCallback:  func(msg string) error { banner = msg; return nil },
		Timeout:         wait,
	})
	if err == nil || !strings.Contains(banner, "too many connections from 127.0.0.1 (the limit is 1)") {
		t.Errorf("a second connection: err %v, banner %q; want a refusal that says why", err, banner)
	}
	seen.waitCounts(t, "refused map[ip_connections:1], auth failed 0")

	first.Close()
	deadline := time.Now().Add(wait)
	for ts.srv.admit.open() > 0 { // the server sees the close after the client
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still counted after %v", ts.srv.admit.open(), wait)
		}
		time.Sleep(time.Millisecond) // polling a condition, with a deadline
	}
	_, err = gossh.Dial("tcp", ts.addr, &gossh.ClientConfig{
		User:            "alice",
		Auth:            []gossh.AuthMethod{gossh.Password("hunter2")},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		Timeout:         wait,
	})
	if err == nil {
		t.Fatal("a client with a password only was let in")
	}
	seen.waitCounts(t, "refused map[ip_connections:1], auth failed 1")
}

// open is how many connections admission counts now.
func (a *admission) open() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.total
}

// TestChannelRequestPace: past a burst of requestBurst, a channel's
// requests are taken requestRate a second, and the chat gets the latest
// window size.
func TestChannelRequestPace(t *testing.T) {
	c := newChannel(nil)
	clock := time.Unix(0, 0)
	var slept time.Duration
	c.pace.Now = func() time.Time { return clock }
	c.pace.Sleep = func(d time.Duration) { slept += d; clock = clock.Add(d) }
	reqs, out := make(chan *gossh.Request), make(chan *gossh.Request)
	done := make(chan struct{})
	go func() { defer close(done); c.filter(reqs, out) }()
	const n = requestBurst + 2*requestRate
	for i := range n {
		payload := gossh.Marshal(struct{ W, H, WPx, HPx uint32 }{uint32(80 + i), 24, 0, 0})
		if i == 0 {
			reqs <- &gossh.Request{Type: "pty-req"}
			<-out
		}
		reqs <- &gossh.Request{Type: "window-change", Payload: payload}
	}
	close(reqs)
	<-done
	// The pty-req and the first requestBurst-1 window changes at once,
	// the rest at the pace: 2 s.
	if want := 2 * time.Second; slept < want-20*time.Millisecond || slept > want+20*time.Millisecond {
		t.Errorf("%d requests waited %v, want about %v", n+1, slept, want)
	}
	if w := <-c.winch; w.Width != 80+n-1 {
		t.Errorf("the chat got width %d, want the latest, %d", w.Width, 80+n-1)
	}
}
