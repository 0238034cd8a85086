package sshserver

import (
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/registry"
)

// newTestServer is a server without a listener, for its chat commands.
func newTestServer(t *testing.T, cfg Config, opts ...Option) *Server {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New("lobby", 64, 1024)
	t.Cleanup(func() { _ = h.Close() })
	s, err := New(h, []gossh.Signer{signer}, slog.New(slog.NewTextHandler(io.Discard, nil)), append(opts, WithConfig(cfg))...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// online brings userID online under name, with one session, and returns
// the function the UI would run its commands with.
func (s *Server) testRunner(t *testing.T, userID, name string) func(name, args string) (string, error) {
	t.Helper()
	si := newSessionInfo("s-"+name, "192.0.2.1:1", true)
	arrived, err := s.presence.acquire(userID, name, si)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.presence.release(userID, si) })
	return s.runner(arrived.user, si)
}

func TestEventCommandsThrottled(t *testing.T) {
	const burst = 3
	for _, line := range []string{"away lunch", "back", "nick ann2"} {
		s := newTestServer(t, Config{MessageBurst: burst, MessageRate: 0.001})
		run := s.testRunner(t, "SHA256:ann", "ann")
		name, args, _ := strings.Cut(line, " ")
		ran := 0
		var refusal error
		for range 100 {
			if _, err := run(name, args); err == nil {
				ran++
			} else if strings.Contains(err.Error(), "slow down") {
				refusal = err
			}
		}
		if ran > burst {
			t.Errorf("/%s ran %d times in a row; want at most the burst of %d", line, ran, burst)
		}
		if refusal == nil {
			t.Errorf("/%s: no refusal said to slow down", line)
		}
		// The same bucket as messages: the next message is refused too.
		if _, err := s.checkOutgoing("SHA256:ann", "hello"); err == nil {
			t.Errorf("a message after a burst of /%s was let through", name)
		}
	}
}

func TestModerationThrottled(t *testing.T) {
	s := newTestServer(t, Config{MessageBurst: 2, MessageRate: 0.001})
	s.SetAdmins(map[string]bool{"SHA256:root": true})
	run := s.testRunner(t, "SHA256:root", "root")
	s.testRunner(t, "SHA256:bob", "bob")
	refused := 0
	for range 20 {
		if _, err := run("motd", "hello"); err != nil && strings.Contains(err.Error(), "slow down") {
			refused++
		}
	}
	if refused != 18 {
		t.Errorf("%d of 20 /motd refused; want 18 past a burst of 2", refused)
	}
}

func TestMutedUserCannotPostEvents(t *testing.T) {
	reg, err := registry.Open("")
	if err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, Config{}, WithRegistry(reg))
	run := s.testRunner(t, "SHA256:bob", "bob")
	if err := reg.Mute("SHA256:bob", registry.Restriction{By: "SHA256:root"}); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"away x", "back", "nick bobby", "me waves", "msg bob hi"} {
		name, args, _ := strings.Cut(line, " ")
		if _, err := run(name, args); err == nil || !strings.Contains(err.Error(), "muted") {
			t.Errorf("/%s by a muted user: %v; want refused, the mute named", line, err)
		}
	}
}
