package sshserver

import (
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// quietClient is an interactive session whose output is read and thrown
// away: a client that costs the test's heap nothing as the screen changes.
func (s *testServer) quietClient(user string) io.Writer {
	s.t.Helper()
	conn := s.dial(user, newSigner(s.t))
	sess, err := conn.NewSession()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", 40, 120, gossh.TerminalModes{}); err != nil {
		s.t.Fatal(err)
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	sess.Stdout = io.Discard
	if err := sess.Shell(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { _ = sess.Close() })
	return stdin
}

// waitSubscribers waits until room id has n sessions subscribed.
func (s *testServer) waitSubscribers(id string, n int) {
	s.t.Helper()
	deadline := time.Now().Add(wait)
	for s.room(id).Stats().Subscribers != n {
		if time.Now().After(deadline) {
			s.t.Fatalf("#%s has %d sessions, want %d", id, s.room(id).Stats().Subscribers, n)
		}
		time.Sleep(time.Millisecond) // polling a condition, with a deadline
	}
}

// TestSessionInManyRoomsCost measures, over SSH, what a chat session
// holds on the server for each room it is in past its first: its
// subscription in the room's hub (the stream's channel, most of it), its
// place in the core, its entry among the pump's streams and the room in
// its program. The rooms exist before: their hubs are not counted.
func TestSessionInManyRoomsCost(t *testing.T) {
	const sessions, rooms = 20, 20
	ts := startTestServer(t, WithConfig(Config{MessageBurst: 1000, MessageRate: 1000, ConnsPerIP: 1000,
		NewConnsPerIPMin: 100000, RoomsPerUser: rooms, RoomsPerSession: rooms}))
	owner := ts.connect("owner", newSigner(t))
	owner.waitText("#lobby")
	for r := 1; r < rooms; r++ {
		if _, err := ts.chat("owner", "join", fmt.Sprintf("#r%02d", r)); err != nil {
			t.Fatal(err)
		}
	}
	keyboards := make([]io.Writer, sessions)
	for i := range keyboards {
		keyboards[i] = ts.quietClient(fmt.Sprint("u", i))
	}
	ts.waitSubscribers("lobby", sessions+1)
	before := heapInUse()
	for _, kb := range keyboards {
		for r := 1; r < rooms; r++ {
			if _, err := fmt.Fprintf(kb, "/join #r%02d\r", r); err != nil {
				t.Fatal(err)
			}
		}
	}
	for r := 1; r < rooms; r++ {
		ts.waitSubscribers(fmt.Sprintf("r%02d", r), sessions)
	}
	// What a session holds once its screens are written: on a busy
	// machine the clients may still be reading the repaints of the joins,
	// which wait in the outboxes meanwhile.
	const bound = 20 << 10
	deadline := time.Now().Add(wait)
	cost := float64(heapInUse()-before) / float64(sessions*(rooms-1))
	for cost > bound && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling a condition, with a deadline
		cost = float64(heapInUse()-before) / float64(sessions*(rooms-1))
	}
	t.Logf("a session holds %.0f bytes for each room past its first", cost)
	if cost > bound {
		t.Errorf("a session holds %.0f bytes for each room past its first, over %d", cost, bound)
	}
}

func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
