package sshserver

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	gossh "golang.org/x/crypto/ssh"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/registry"
)

// withChat puts chat at the end of the chain, where the chat is.
func withChat(chat wish.Middleware) Option { return func(s *Server) { s.chatStage = chat } }

// withLog sets the server's log.
func withLog(log *slog.Logger) Option { return func(s *Server) { s.log = log } }

// reached stands for the chat: it records every session that gets there.
type reached chan string

func (r reached) chat(ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		_, _, pty := sess.Pty()
		r <- fmt.Sprintf("command=%q pty=%v", sess.RawCommand(), pty)
		fmt.Fprintln(sess, "in the chat")
	}
}

// took returns what reached the chat since the last call.
func (r reached) took() []string {
	var got []string
	for {
		select {
		case s := <-r:
			got = append(got, s)
		default:
			return got
		}
	}
}

// logBuffer is a server log written from several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// waitFor polls the log until it has every one of want.
func (l *logBuffer) waitFor(t *testing.T, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		got := l.String()
		missing := ""
		for _, w := range want {
			if !strings.Contains(got, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log within %v; log:\n%s", missing, wait, got)
		}
		time.Sleep(time.Millisecond) // polling a condition, with a deadline
	}
}

// shell opens a session without a command, with a PTY or without, and
// returns what it printed and its exit status.
func (s *testServer) shell(user string, key gossh.Signer, pty bool) (stdout, stderr string, status int) {
	s.t.Helper()
	return s.session(user, key, "", pty)
}

// TestChainRoutes: a session with a command goes to the script commands and
// never reaches the chat; one without goes to the chat, with a PTY or not
// (the chat says a terminal is needed).
func TestChainRoutes(t *testing.T) {
	r := make(reached, 8)
	ts := startTestServer(t, withChat(r.chat))
	alice := newSigner(t)

	stdout, stderr, status := ts.run("alice", alice, "help")
	if status != 0 || !strings.Contains(stdout, "usage: ssh HOST COMMAND") {
		t.Errorf("help: status %d, stdout %q, stderr %q; want the usage from the script commands", status, stdout, stderr)
	}
	if _, _, status := ts.run("alice", alice, "who --json"); status != 0 {
		t.Errorf("who: status %d, want %d", status, 0)
	}
	if _, stderr, status := ts.run("alice", alice, "dance"); status != exitUsage || !strings.Contains(stderr, `unknown command "dance"`) {
		t.Errorf("an unknown command: status %d, stderr %q; want the router's refusal", status, stderr)
	}
	if got := r.took(); len(got) > 0 {
		t.Errorf("commands reached the chat: %q", got)
	}

	stdout, _, status = ts.shell("alice", alice, true)
	if status != 0 || !strings.Contains(stdout, "in the chat") {
		t.Errorf("a PTY session: status %d, stdout %q; want the chat", status, stdout)
	}
	if got, want := r.took(), []string{`command="" pty=true`}; !equal(got, want) {
		t.Errorf("a PTY session reached the chat as %q, want %q", got, want)
	}
	ts.shell("alice", alice, false)
	if got, want := r.took(), []string{`command="" pty=false`}; !equal(got, want) {
		t.Errorf("a session without PTY nor command reached the chat as %q, want %q", got, want)
	}
}

func equal(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }

// TestChainAdmitsBeforeRouting: a banned key or one off the allow-list is
// turned away before the script commands and the chat: its say posts
// nothing and its terminal gets no chat.
func TestChainAdmitsBeforeRouting(t *testing.T) {
	r := make(reached, 8)
	ts := startTestServer(t, withChat(r.chat))
	alice, bob, carol := newSigner(t), newSigner(t), newSigner(t)
	if err := ts.reg.Ban(fingerprint(bob), registry.Restriction{Reason: "spam", By: "test", At: time.Now().Unix()}); err != nil {
		t.Fatal(err)
	}

	if _, stderr, status := ts.run("bob", bob, "say bob-was-here"); status != exitFailed || !strings.Contains(stderr, "this key is banned") {
		t.Errorf("a banned say: status %d, stderr %q; want a refusal", status, stderr)
	}
	if _, stderr, status := ts.shell("bob", bob, true); status != exitFailed || !strings.Contains(stderr, "this key is banned") {
		t.Errorf("a banned terminal: status %d, stderr %q; want a refusal", status, stderr)
	}
	if _, _, status := ts.run("alice", alice, "say alice-was-here"); status != 0 {
		t.Errorf("alice's say: status %d, want %d", status, 0)
	}
	ts.srv.SetAllowlist(map[string]bool{fingerprint(alice): true, fingerprint(bob): true})
	if _, stderr, status := ts.run("carol", carol, "say carol-was-here"); status != exitFailed || !strings.Contains(stderr, "admits listed keys only") {
		t.Errorf("a say off the allow-list: status %d, stderr %q; want a refusal", status, stderr)
	}

	var said []string
	for _, ev := range ts.hub.History() {
		if ev.Type == hub.EventTypeMessage {
			said = append(said, ev.Message)
		}
	}
	if want := []string{"alice-was-here"}; !equal(said, want) {
		t.Errorf("the room heard %q, want %q: a refused key reached the script commands", said, want)
	}
	if got := r.took(); len(got) > 0 {
		t.Errorf("a refused key reached the chat: %q", got)
	}
}

// TestChainRecoversPanic: a panic in the chat ends that session with
// status 1 and a word, is logged with its value, and the server goes on.
func TestChainRecoversPanic(t *testing.T) {
	var logs logBuffer
	ts := startTestServer(t, withLog(logs.logger()), withChat(func(ssh.Handler) ssh.Handler {
		return func(ssh.Session) { panic("the chat fell over") }
	}))
	alice := newSigner(t)

	_, stderr, status := ts.shell("alice", alice, true)
	if status != exitFailed || !strings.Contains(stderr, "the server failed to serve this session") {
		t.Errorf("a session whose chat panicked: status %d, stderr %q; want status %d and a word", status, stderr, exitFailed)
	}
	logs.waitFor(t, `level=ERROR msg="session panicked" panic="panic: the chat fell over`, `msg="session closed" remote=`, "panicked=true")

	if stdout, _, status := ts.run("alice", alice, "help"); status != 0 || !strings.Contains(stdout, "usage:") {
		t.Errorf("after the panic, help: status %d, stdout %q; want the server still serving", status, stdout)
	}
}

// TestLogSessions: every session is logged when it ends, with the key and
// the command's name, but not the command line: a say's message stays out
// of the server log.
func TestLogSessions(t *testing.T) {
	var logs logBuffer
	ts := startTestServer(t, withLog(logs.logger()))
	alice, bob := newSigner(t), newSigner(t)
	if err := ts.reg.Ban(fingerprint(bob), registry.Restriction{By: "test", At: time.Now().Unix()}); err != nil {
		t.Fatal(err)
	}

	if _, _, status := ts.run("alice", alice, "say a-secret-between-us"); status != 0 {
		t.Fatalf("say: status %d", status)
	}
	ts.run("bob", bob, "who")
	got := logs.waitFor(t,
		`msg="session closed" remote=127.0.0.1:`,
		"user="+fingerprint(alice)+" command=say duration=",
		"user="+fingerprint(bob)+" command=who duration=",
		"panicked=false")
	if strings.Contains(got, "a-secret-between-us") {
		t.Errorf("the server log has a say's message:\n%s", got)
	}
}

func TestCommandName(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"", ""},
		{"say hello there", "say"},
		{"  who --json", "who"},
		{"history", "history"},
		{strings.Repeat("x", 40), strings.Repeat("x", 16) + "…"},
		{strings.Repeat("é", 10), strings.Repeat("é", 8) + "…"},
		{"x" + strings.Repeat("é", 10), "x" + strings.Repeat("é", 7) + "…"}, // not half a rune
	} {
		if got := commandName(tc.raw); got != tc.want {
			t.Errorf("commandName(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}

// TestChatThroughTheChain: the chain ends in the chat. A terminal joins
// the room and sees what is said; a session without one is told it needs
// one; a closed terminal leaves the room.
func TestChatThroughTheChain(t *testing.T) {
	ts := startTestServer(t)
	alice, bob := newSigner(t), newSigner(t)
	screen := ts.connect("alice", alice)
	screen.waitText("#lobby")
	if _, _, status := ts.run("bob", bob, "say hello alice"); status != 0 {
		t.Fatalf("say: status %d", status)
	}
	screen.waitText("hello alice")

	_, stderr, status := ts.shell("bob", bob, false)
	if status != exitFailed || !strings.Contains(stderr, "sshchat needs an interactive terminal") {
		t.Errorf("a session without a terminal: status %d, stderr %q; want the chat's refusal", status, stderr)
	}

	screen.close()
	ts.waitOffline("alice")
}
