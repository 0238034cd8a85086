package sshserver

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// TestLoginTimeout (a second, long enough for a key exchange on a busy
// machine): a connection that opens no session within the login
// timeout is closed, whether it stopped before its key exchange or after
// its authentication.
func TestLoginTimeout(t *testing.T) {
	var seen counter
	ts := startTestServer(t, WithObserver(&seen), WithConfig(Config{LoginTimeout: time.Second, ConnsPerIP: 100, NewConnsPerIPMin: 100000}))

	raw, err := net.DialTimeout("tcp", ts.addr, wait)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetReadDeadline(time.Now().Add(wait))
	if _, err := io.Copy(io.Discard, raw); err != nil { // the server's version, then the end
		t.Errorf("a silent connection was not closed: %v", err)
	}

	conn := ts.dial("alice", newSigner(t))
	ended := make(chan error, 1)
	go func() { ended <- conn.Wait() }()
	select {
	case <-ended:
	case <-time.After(wait):
		t.Fatalf("a connection without a session still open after %v", wait)
	}
	seen.waitCounts(t, "refused map[handshake:1 login_timeout:2], auth failed 0")
}

// TestNewNeedsHostKey: a server without a host key is refused, rather than
// given one made up on the spot.
func TestNewNeedsHostKey(t *testing.T) {
	if _, err := New(Rooms{}, []gossh.Signer{}, nil); !errors.Is(err, ErrNoHostKey) {
		t.Errorf("New without host keys: %v, want %v", err, ErrNoHostKey)
	}
}
