package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/sshchat/sshchat/hub"
)

// session dials the server as user with key and opens a session; the
// connection is closed when the test ends, if it was not before.
func (s *testServer) session(user string, key ssh.Signer) (*ssh.Client, *ssh.Session) {
	s.t.Helper()
	conn, err := ssh.Dial("tcp", s.addr, clientConfig(user, ssh.PublicKeys(key)))
	if err != nil {
		s.t.Fatalf("dial as %s: %v", user, err)
	}
	s.t.Cleanup(func() { conn.Close() })
	sess, err := conn.NewSession()
	if err != nil {
		s.t.Fatal(err)
	}
	return conn, sess
}

// runCmd runs a command over SSH without a terminal, as a script would.
func (s *testServer) runCmd(user string, key ssh.Signer, stdin, cmd string) (stdout, stderr string, status int) {
	s.t.Helper()
	conn, sess := s.session(user, key)
	defer conn.Close() // a script hangs up when done: don't hold one of the IP's connections
	var out, errOut bytes.Buffer
	sess.Stdout, sess.Stderr, sess.Stdin = &out, &errOut, strings.NewReader(stdin)
	err := sess.Run(cmd)
	var exit *ssh.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		status = exit.ExitStatus()
	default:
		s.t.Fatalf("run %q: %v", cmd, err)
	}
	return out.String(), errOut.String(), status
}

func TestScriptSayWhoHistory(t *testing.T) {
	s := startServer(t, t.TempDir())
	watcher := s.connect("watcher", newKey(t), 100, 30)
	watcher.waitText("#lobby")
	bot := newKey(t)

	if _, stderr, status := s.runCmd("robot", bot, "", "say hello from a script"); status != 0 {
		t.Fatalf("say: status %d, stderr %q", status, stderr)
	}
	watcher.waitText("robot: hello from a script")
	if _, stderr, status := s.runCmd("robot", bot, "piped\nin two lines\n", "say"); status != 0 {
		t.Fatalf("say from stdin: status %d, stderr %q", status, stderr)
	}
	watcher.waitText("robot: piped")

	stdout, _, status := s.runCmd("robot", bot, "", "who")
	if status != 0 || !strings.Contains(stdout, "watcher") {
		t.Errorf("who: status %d, output %q; want watcher listed", status, stdout)
	}
	stdout, _, _ = s.runCmd("robot", bot, "", "who --json")
	var u struct {
		UserID   string `json:"userId"`
		Name     string `json:"name"`
		Sessions int    `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &u); err != nil || u.Name != "watcher" || u.Sessions != 1 {
		t.Errorf("who --json = %q (%v), want watcher with one session", stdout, err)
	}

	stdout, _, status = s.runCmd("robot", bot, "", "history -n 2 --json")
	var evs []hub.Event
	for line := range strings.Lines(stdout) {
		var ev hub.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("history --json line %q: %v", line, err)
		}
		evs = append(evs, ev)
	}
	if status != 0 || len(evs) != 2 || evs[1].Message != "piped\nin two lines" || evs[1].UserID != ssh.FingerprintSHA256(bot.PublicKey()) {
		t.Errorf("history -n 2 --json = %+v, want the two messages of the bot", evs)
	}
	stdout, _, _ = s.runCmd("robot", bot, "", "history -n 1")
	if !strings.Contains(stdout, "robot: piped") {
		t.Errorf("history -n 1 = %q", stdout)
	}
}

func TestScriptErrors(t *testing.T) {
	s := startServer(t, t.TempDir())
	key := newKey(t)
	tests := []struct {
		cmd, stdin string
		status     int
		stderr     string
	}{
		{"dance", "", 2, "unknown command"},
		{"who --bogus", "", 2, "flag provided but not defined"},
		{"say", "", 2, "empty"},
		{"say " + strings.Repeat("x", 5000), "", 1, "over the limit of 4096"},
		{"history -n -1", "", 2, "negative"},
	}
	for _, tt := range tests {
		_, stderr, status := s.runCmd("bot", key, tt.stdin, tt.cmd)
		if status != tt.status || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%.20s: status %d, stderr %q; want %d and %q", tt.cmd, status, stderr, tt.status, tt.stderr)
		}
	}
	stdout, _, status := s.runCmd("bot", key, "", "help")
	if status != 0 || !strings.Contains(stdout, "tail") || !strings.Contains(stdout, "say") {
		t.Errorf("help: status %d, %q", status, stdout)
	}
}

func TestScriptTail(t *testing.T) {
	s := startServer(t, t.TempDir())
	alice := s.connect("alice", newKey(t), 100, 30)
	alice.waitText("#lobby")

	conn, sess := s.session("tailer", newKey(t))
	stdout, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Start("tail --json"); err != nil {
		t.Fatal(err)
	}
	lines := make(chan hub.Event)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev hub.Event
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				lines <- ev
			}
		}
	}()
	alice.waitJoined("tailer") // a tail is a session like any other
	alice.say("for the tail")
	for ev := range lines {
		if ev.Type == hub.EventTypeMessage {
			if ev.Message != "for the tail" || ev.Name != "alice" {
				t.Errorf("tail got %+v", ev)
			}
			break
		}
	}
	_ = sess.Close()
	_ = conn.Close()
	alice.waitLeft("tailer")
	for range lines { // the reader ends with the connection
	}
	_, _ = io.Copy(io.Discard, stdout)
}
