package sshserver

import (
	"testing"
	"time"
)

// TestPace: past its burst, a pace lets one more go every 1/rate.
func TestPace(t *testing.T) {
	p := newPace(10, 5)
	clock := time.Unix(0, 0)
	var slept time.Duration
	p.now = func() time.Time { return clock }
	p.sleep = func(d time.Duration) { slept += d; clock = clock.Add(d) }
	for range 5 + 20 {
		p.wait()
	}
	if want := 2 * time.Second; slept < want-time.Millisecond || slept > want+time.Millisecond {
		t.Errorf("25 at 10 a second past 5 waited %v, want %v", slept, want)
	}
}

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
