package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/crypto/ssh"
)

// dial opens an SSH connection of user with a new key, closed at the end
// of the test.
func (s *testServer) dial(user string) *ssh.Client {
	s.t.Helper()
	conn, err := ssh.Dial("tcp", s.addr, clientConfig(user, ssh.PublicKeys(newKey(s.t))))
	if err != nil {
		s.t.Fatalf("dial as %s: %v", user, err)
	}
	s.t.Cleanup(func() { conn.Close() })
	return conn
}

func TestSessionsPerConnection(t *testing.T) {
	s := startServer(t, t.TempDir(), func(c *config) { c.Server.SessionsPerUser = 3 })
	conn := s.dial("mux")
	var open []*ssh.Session
	for i := range 3 {
		sess, err := conn.NewSession()
		if err != nil {
			t.Fatalf("session %d of 3 refused: %v", i+1, err)
		}
		open = append(open, sess)
	}
	_, err := conn.NewSession()
	var refused *ssh.OpenChannelError
	if !errors.As(err, &refused) || refused.Reason != ssh.ResourceShortage || !strings.Contains(refused.Message, "the limit is 3") {
		t.Fatalf("fourth session: %v; want refused with the limit named", err)
	}
	// A session that ends frees its place.
	open[0].Close()
	deadline := time.Now().Add(wait)
	for {
		sess, err := conn.NewSession()
		if err == nil {
			sess.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no session opens after one closed: %v", err)
		}
	}
}

func TestUnreadInputBounded(t *testing.T) {
	const perConn = 8
	s := startServer(t, t.TempDir(), func(c *config) { c.Server.SessionsPerUser = perConn })
	conn := s.dial("hoarder")
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// Each session takes what its window allows (2 MiB in x/crypto/ssh)
	// and nobody on the server reads it: no shell was asked for.
	chunk := make([]byte, 2<<20)
	opened := 0
	for range 50 {
		sess, err := conn.NewSession()
		if err != nil {
			continue
		}
		opened++
		stdin, err := sess.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stdin.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if opened != perConn {
		t.Errorf("%d sessions opened on one connection; want %d", opened, perConn)
	}
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d sessions with a full window: the heap grew by %.1f MiB", opened, float64(grown)/(1<<20))
	// A window's data is 2 MiB; the packets carrying it cost about a
	// quarter more (20.5 MiB measured for 8).
	const ceiling = perConn*(3<<20) + 8<<20
	if grown > ceiling {
		t.Errorf("the heap grew by %d MiB for one connection's unread input; the ceiling is %d MiB", grown>>20, ceiling>>20)
	}
}

func TestEnvBounded(t *testing.T) {
	s := startServer(t, t.TempDir())
	sess, err := s.dial("env").NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Setenv("LANG", "C.UTF-8"); err != nil {
		t.Errorf("LANG refused: %v", err)
	}
	if err := sess.Setenv("LC_CTYPE", "en_US.UTF-8"); err != nil {
		t.Errorf("LC_CTYPE refused: %v", err)
	}
	if err := sess.Setenv("PATH", "/bin"); err == nil {
		t.Error("PATH kept: the chat does not use it")
	}
	if err := sess.Setenv("LANG", strings.Repeat("x", 200<<10)); err == nil {
		t.Error("a 200 KB LANG kept")
	}
	kept := 2
	for range 100 {
		if sess.Setenv("LC_ALL", "C") == nil {
			kept++
		}
	}
	if kept > 16 {
		t.Errorf("%d environment variables kept; want at most 16", kept)
	}
}

func TestWindowChangeBeforeShellLeavesNoGoroutine(t *testing.T) {
	s := startServer(t, t.TempDir(), func(c *config) { c.Server.NewConnsPerIPMin = 1 << 20 })
	baseline := goleak.IgnoreCurrent()
	for range 50 {
		conn, err := ssh.Dial("tcp", s.addr, clientConfig("resizer", ssh.PublicKeys(newKey(t))))
		if err != nil {
			t.Fatal(err)
		}
		sess, err := conn.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if err := sess.RequestPty("xterm", 24, 80, nil); err != nil {
			t.Fatal(err)
		}
		// No shell yet: the SSH library would block on these for good.
		for i := range 3 {
			if err := sess.WindowChange(30+i, 100); err != nil {
				t.Fatal(err)
			}
		}
		// The client waits for an answer to this one: the window changes
		// before it have reached the server.
		if _, err := sess.SendRequest("nonsense@sshchat", true, nil); err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}
	deadline := time.Now().Add(wait)
	for err := goleak.Find(baseline); err != nil; err = goleak.Find(baseline) {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines outlived their connections: %v", err)
		}
	}
}

func TestLongCommandRefusedBeforeParsing(t *testing.T) {
	s := startServer(t, t.TempDir())
	key := newKey(t)
	_, stderr, status := s.runCmd("bot", key, "", "say "+strings.Repeat("x", 240<<10))
	if status != 2 || !strings.Contains(stderr, "over the limit of 8192") {
		t.Errorf("a 240 KB command: status %d, stderr %q; want 2 and the limit named", status, stderr)
	}
	_, stderr, status = s.runCmd("bot", key, "", `say "unclosed`)
	if status != 2 || !strings.Contains(stderr, "quote") {
		t.Errorf("an unclosed quote: status %d, stderr %q; want 2 and the quote named", status, stderr)
	}
	stdout, _, status := s.runCmd("bot", key, "", `say 'one two' three`)
	if status != 0 {
		t.Errorf("a quoted say: status %d, stdout %q", status, stdout)
	}
	if out, _, _ := s.runCmd("bot", key, "", "history -n 1"); !strings.Contains(out, "one two three") {
		t.Errorf("history = %q; want the quoted message", out)
	}
}

func TestUnusedRequestsRefused(t *testing.T) {
	s := startServer(t, t.TempDir())
	conn := s.dial("forwarder")
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []string{"auth-agent-req@openssh.com", "x11-req", "subsystem"} {
		if ok, err := sess.SendRequest(req, true, nil); ok || err != nil {
			t.Errorf("%s: ok %v, err %v; want refused", req, ok, err)
		}
	}
	if _, err := conn.Dial("tcp", "127.0.0.1:9"); err == nil {
		t.Error("a direct-tcpip channel opened")
	}
	if _, err := conn.Listen("tcp", "127.0.0.1:0"); err == nil {
		t.Error("a remote forwarding accepted")
	}
}

func TestOverLimitCutBeforeKeyExchange(t *testing.T) {
	s := startServer(t, t.TempDir(), func(c *config) {
		c.Server.ConnsPerIP = 2
		c.Server.NewConnsPerIPMin = 1 << 20 // this test is about concurrent connections
	})
	key := newKey(t)
	for range 2 {
		c, _, err := dialFrom(s.addr, "127.0.0.3", key)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	handshakes, told := 0, 0
	for range 100 {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 3)}, Timeout: wait}
		raw, err := d.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close() // held open: each one still counts
		_ = raw.SetReadDeadline(time.Now().Add(wait))
		line, err := bufio.NewReader(raw).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		switch {
		case strings.HasPrefix(line, "SSH-2.0-"):
			handshakes++
		case strings.Contains(line, "too many connections from 127.0.0.3"):
			told++
		default:
			t.Errorf("first line %q; want the server's version or the reason", line)
		}
	}
	if handshakes > 3 {
		t.Errorf("%d of 100 connections over the limit got to the key exchange; want at most 3", handshakes)
	}
	if told == 0 {
		t.Error("no connection cut before the key exchange was told why")
	}
}

func TestHugePasteCut(t *testing.T) {
	s := startServer(t, t.TempDir())
	c := s.connect("paster", newKey(t), 100, 30)
	c.waitText("#lobby")
	c.typeText("\x1b[200~" + strings.Repeat("spam\n", 2<<20) + "\x1b[201~")
	c.waitText("paste cut: the 10469376 bytes after its first 16384 were discarded")
	c.say("after")
	c.waitText("paster: after")
}
