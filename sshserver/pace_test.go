package sshserver

import (
	"net"
	"testing"
	"time"
)

// TestGlobalRequestsPaced: a global request is answered no, as before, and
// past a burst the answers come at the connection's pace.
func TestGlobalRequestsPaced(t *testing.T) {
	ts := startTestServer(t)
	conn := ts.dial("alice", newSigner(t))
	const extra = 3
	start := time.Now()
	for i := range globalBurst + extra {
		ok, _, err := conn.SendRequest("keepalive@openssh.com", true, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if ok {
			t.Fatalf("request %d answered yes", i)
		}
	}
	// The pace cannot be beaten: extra requests past the burst take at
	// least (extra-1)/globalRate.
	if took, least := time.Since(start), (extra-1)*time.Second/globalRate; took < least {
		t.Errorf("%d requests answered in %v, under the pace's %v", globalBurst+extra, took, least)
	}
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatalf("a session after the requests: %v", err)
	}
	_ = sess.Close()
}

// TestHeldConn: a held connection is not read until the hold ends, and
// closing it ends a held read at once.
func TestHeldConn(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	c := newHeldConn(server)
	c.hold(time.Now().Add(time.Hour))
	c.hold(time.Now()) // an earlier hold does not shorten it
	read := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		read <- err
	}()
	go func() { _, _ = client.Write([]byte("x")) }()
	select {
	case err := <-read:
		t.Fatalf("a held connection was read: %v", err)
	case <-time.After(50 * time.Millisecond): // the read must still wait: a bound, not a sync
	}
	_ = c.Close()
	select {
	case err := <-read:
		if err == nil {
			t.Error("a read after the close succeeded")
		}
	case <-time.After(wait):
		t.Fatal("closing did not end the held read")
	}
}

// TestSessionOpensPaced: past a burst, a connection's session channels
// open at its pace, and they all open.
func TestSessionOpensPaced(t *testing.T) {
	ts := startTestServer(t)
	conn := ts.dial("alice", newSigner(t))
	const extra = 5
	start := time.Now()
	for i := range openBurst + extra {
		sess, err := conn.NewSession()
		if err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
		_ = sess.Close()
	}
	// A hold set by one channel waits the read after the next: the read
	// that brings the next channel was already waiting for data. So the
	// last channel opens at least (extra-2)/openRate after the first.
	if took, least := time.Since(start), (extra-2)*time.Second/openRate; took < least {
		t.Errorf("%d sessions opened in %v, under the pace's %v", openBurst+extra, took, least)
	}
}
