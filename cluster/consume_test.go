package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sshchat/sshchat/internal/natstest"
)

// TestConsumeResumesAfterServerRestart: the server stops mid-stream and
// comes back; publishes made meanwhile are retried until it is back, and
// the consumer goes on from the last delivered sequence: every sequence
// once, in order.
func TestConsumeResumesAfterServerRestart(t *testing.T) {
	s := natstest.Run(t)
	testResume(t, s.URL(), s.Stop, func() { s.Restart() })
}

// testResume: see TestConsumeResumesAfterServerRestart; stop and restart
// stop the server and start it again with its store and address.
func testResume(t *testing.T, url string, stop, restart func()) {
	a := connect(t, url, "restart", "a")
	b := connect(t, url, "restart", "b")
	cb := consume(t, b, 1)
	ctx := testCtx(t)
	publish := func(n *testNode, from, to int) error {
		for i := from; i <= to; i++ {
			ev, err := n.Publish(ctx, message("lobby", "u", fmt.Sprint(i)))
			if err != nil {
				return err
			}
			if ev.ID != i {
				return fmt.Errorf("event %d got ID %d", i, ev.ID)
			}
		}
		return nil
	}
	if err := publish(a, 1, 20); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "20 events delivered", func() bool { return cb.len() >= 20 })

	stop()
	waitFor(t, "node a sees the server gone", func() bool { return a.Healthy() != nil })
	if err := a.Healthy(); !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("Healthy while the server is down: %v", err)
	}
	during := make(chan error, 1)
	go func() { during <- publish(a, 21, 25) }() // waits for the server
	restart()
	if err := <-during; err != nil {
		t.Fatalf("publish across the restart: %v", err)
	}
	if err := publish(a, 26, 30); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "30 events delivered", func() bool { return cb.len() >= 30 })
	checkSequence(t, cb.all(), 1, 30)
	for i, d := range cb.all() {
		if d.Event.Message != fmt.Sprint(i+1) {
			t.Fatalf("event %d carries %q", d.Event.ID, d.Event.Message)
		}
	}
	if got := b.obs.get(func(r *recorder) int { return r.reconnected }); got < 1 {
		t.Fatal("the observer was not told of the reconnect")
	}
	if gaps := b.obs.gapList(); len(gaps) != 0 {
		t.Fatalf("gaps reported: %v", gaps)
	}
	checkStreamMsgs(t, a, 30)
}

// TestConsumeReportsGaps: events the stream no longer holds (purged, or
// deleted one by one) are reported once each, with their range, and
// skipped.
func TestConsumeReportsGaps(t *testing.T) {
	s := natstest.Run(t)
	testGaps(t, s.URL())
}

func testGaps(t *testing.T, url string) {
	a := connect(t, url, "gap", "a")
	ctx := testCtx(t)
	for i := range 8 {
		if _, err := a.Publish(ctx, message("lobby", "u", fmt.Sprint(i+1))); err != nil {
			t.Fatal(err)
		}
		if i == 4 { // 1..5 purged
			st, err := a.JetStream().Stream(ctx, a.names.stream)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Purge(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	st, err := a.JetStream().Stream(ctx, a.names.stream)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMsg(ctx, 7); err != nil {
		t.Fatal(err)
	}
	ca := consume(t, a, 1) // from below the first sequence (6)
	if _, err := a.Publish(ctx, message("lobby", "u", "9")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "events 6, 8 and 9 delivered", func() bool { return ca.len() >= 3 })
	if got := ids(ca.all()); !slices.Equal(got, []int{6, 8, 9}) {
		t.Fatalf("delivered %v, want [6 8 9]", got)
	}
	if got, want := a.obs.gapList(), [][2]uint64{{1, 5}, {7, 7}}; !slices.Equal(got, want) {
		t.Fatalf("gaps %v, want %v", got, want)
	}
	if log := a.log.String(); !strings.Contains(log, "events missing from the stream") || !strings.Contains(log, "from=1 to=5") {
		t.Fatalf("the gap is not logged with both ends:\n%s", log)
	}
}

// TestConsumeEndsWithContextOrClose: Consume's goroutine ends with its
// context; a second Consume on a node is refused; Close ends a consumer.
func TestConsumeEndsWithContextOrClose(t *testing.T) {
	s := natstest.Run(t)
	a := connect(t, s.URL(), "end", "a")
	ctx, cancel := context.WithCancel(context.Background())
	if err := a.Consume(ctx, 0, func(Delivery) {}); err != nil {
		t.Fatal(err)
	}
	if err := a.Consume(testCtx(t), 1, func(Delivery) {}); err == nil {
		t.Fatal("a second Consume was accepted")
	}
	cancel()
	done := make(chan struct{})
	go func() { a.consumeWG.Wait(); close(done) }()
	<-done

	b := connect(t, s.URL(), "end", "b")
	cb := consume(t, b, 0)
	if _, err := b.Publish(testCtx(t), message("lobby", "u", "x")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "one delivery", func() bool { return cb.len() == 1 })
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Consume(testCtx(t), 1, func(Delivery) {}); err == nil {
		t.Fatal("Consume after Close was accepted")
	}
	if _, err := b.Publish(testCtx(t), message("lobby", "u", "late")); err == nil || !strings.Contains(err.Error(), "shutting down") {
		t.Fatalf("Publish after Close: %v", err)
	}
}
