package cluster

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sshchat/sshchat/internal/natstest"
)

// liveRec records what liveness tells one node.
type liveRec struct {
	mu       sync.Mutex
	sessions []Session
	gone     []string
	fenced   int
}

func (r *liveRec) setSessions(s []Session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sessions = s
}

func (r *liveRec) goneList() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.gone...)
}

func (r *liveRec) fencedCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fenced
}

// startLive starts n's liveness with a recorder and the given sessions.
func startLive(n *testNode, sessions ...Session) *liveRec {
	r := &liveRec{sessions: sessions}
	n.StartLiveness(
		func() Snapshot {
			r.mu.Lock()
			defer r.mu.Unlock()
			return Snapshot{AsOf: 7, Sessions: append([]Session(nil), r.sessions...)}
		},
		func(node string) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.gone = append(r.gone, node)
		},
		func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.fenced++
		},
	)
	return r
}

// crash stops n as a crash would: heartbeats stop, its keys stay.
func crash(t *testing.T, n *testNode) {
	t.Helper()
	n.abrupt.Store(true)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
}

func nodesKV(t *testing.T, url, cluster string) jetstream.KeyValue {
	t.Helper()
	kv, err := rawJS(t, url).KeyValue(testCtx(t), namesOf(cluster).nodes)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

// keyGone reports whether key is absent from kv.
func keyGone(kv jetstream.KeyValue, key string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	_, err := kv.Get(ctx, key)
	return errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted)
}

func TestLivenessCrashedNodeGoneOnce(t *testing.T) {
	s := natstest.Run(t)
	testCrashGoneOnce(t, s.URL())
}

// testCrashGoneOnce: B's sessions are seen by A; B crashes; A declares
// it gone once, and its keys are deleted.
func testCrashGoneOnce(t *testing.T, url string) {
	a := connect(t, url, "crash", "a")
	b := connect(t, url, "crash", "b")
	ra := startLive(a)
	bSessions := []Session{{Room: "lobby", UserID: "SHA256:u1", SessionID: "s1", Name: "ann"}, {Room: "go", UserID: "SHA256:u2", SessionID: "s2", Name: "bob"}}
	startLive(b, bSessions...)
	waitFor(t, "a sees b's sessions", func() bool {
		peers, err := a.Peers(testCtx(t))
		return err == nil && slices.Equal(peers["b"].Sessions, bSessions) && peers["b"].AsOf == 7
	})
	crash(t, b)
	waitFor(t, "a declares b gone", func() bool { return len(ra.goneList()) > 0 })
	kv := nodesKV(t, url, "crash")
	waitFor(t, "b's keys deleted", func() bool { return keyGone(kv, "hb.b") && keyGone(kv, "sessions.b") })
	waitBeats(t, a, int(2*testTTL/testHeartbeat))
	if got := ra.goneList(); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("gone called with %v, want [b] once", got)
	}
	if ra.fencedCount() != 0 || a.Healthy() != nil {
		t.Fatalf("a fenced %d times, healthy: %v", ra.fencedCount(), a.Healthy())
	}
	peers, err := a.Peers(testCtx(t))
	if err != nil || len(peers) != 0 {
		t.Fatalf("peers after b's death: %v, %v", peers, err)
	}
}

// TestLivenessThreeNodesGoneOnceInTotal: A and C both watch B; when B
// crashes, exactly one of them declares it gone.
func TestLivenessThreeNodesGoneOnceInTotal(t *testing.T) {
	s := natstest.Run(t)
	a := connect(t, s.URL(), "three", "a")
	b := connect(t, s.URL(), "three", "b")
	c := connect(t, s.URL(), "three", "c")
	ra, rc := startLive(a), startLive(c)
	startLive(b, Session{Room: "lobby", UserID: "u", SessionID: "s", Name: "n"})
	waitFor(t, "a and c see b", func() bool {
		pa, erra := a.Peers(testCtx(t))
		pc, errc := c.Peers(testCtx(t))
		return erra == nil && errc == nil && len(pa["b"].Sessions) == 1 && len(pc["b"].Sessions) == 1
	})
	crash(t, b)
	waitFor(t, "b declared gone", func() bool { return len(ra.goneList())+len(rc.goneList()) > 0 })
	waitBeats(t, a, int(2*testTTL/testHeartbeat))
	waitBeats(t, c, 2)
	all := append(ra.goneList(), rc.goneList()...)
	if !slices.Equal(all, []string{"b"}) {
		t.Fatalf("gone calls in total: %v (a: %v, c: %v); want [b] once", all, ra.goneList(), rc.goneList())
	}
}

// TestLivenessCleanCloseNotGone: a node that closes cleanly deletes its
// keys and is never declared gone.
func TestLivenessCleanCloseNotGone(t *testing.T) {
	s := natstest.Run(t)
	a := connect(t, s.URL(), "clean", "a")
	b := connect(t, s.URL(), "clean", "b")
	ra := startLive(a)
	startLive(b, Session{Room: "lobby", UserID: "u", SessionID: "s", Name: "n"})
	kv := nodesKV(t, s.URL(), "clean")
	waitFor(t, "b's heartbeat and sessions written", func() bool { return !keyGone(kv, "hb.b") && !keyGone(kv, "sessions.b") })
	if err := b.Close(); err != nil {
		t.Fatalf("clean close: %v", err)
	}
	if !keyGone(kv, "hb.b") || !keyGone(kv, "sessions.b") {
		t.Fatal("b's keys are left after a clean close")
	}
	waitBeats(t, a, int(2*testTTL/testHeartbeat))
	if got := ra.goneList(); len(got) != 0 {
		t.Fatalf("a cleanly closed node was declared gone: %v", got)
	}
}

// TestLivenessFencedWhenKeyDeleted: a node whose heartbeat key is deleted
// by someone else is fenced, once, for good.
func TestLivenessFencedWhenKeyDeleted(t *testing.T) {
	s := natstest.Run(t)
	testFencedWhenKeyDeleted(t, s.URL())
}

func testFencedWhenKeyDeleted(t *testing.T, url string) {
	a := connect(t, url, "fence", "a")
	b := connect(t, url, "fence", "b")
	ra := startLive(a)
	rb := startLive(b)
	kv := nodesKV(t, url, "fence")
	waitFor(t, "a's heartbeat written", func() bool { return !keyGone(kv, "hb.a") })
	if err := kv.Delete(testCtx(t), "hb.a"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a fenced", func() bool { return ra.fencedCount() > 0 })
	err := a.Healthy()
	if !errors.Is(err, ErrFenced) || !strings.Contains(err.Error(), "lost its place in the chat cluster") {
		t.Fatalf("Healthy of a fenced node: %v", err)
	}
	if _, err := a.Publish(testCtx(t), message("lobby", "u", "x")); !errors.Is(err, ErrFenced) {
		t.Fatalf("Publish of a fenced node: %v", err)
	}
	waitBeats(t, b, int(2*testTTL/testHeartbeat))
	if ra.fencedCount() != 1 || !errors.Is(a.Healthy(), ErrFenced) {
		t.Fatalf("fenced %d times, Healthy %v: want once, for good", ra.fencedCount(), a.Healthy())
	}
	if !keyGone(kv, "hb.a") {
		t.Fatal("a fenced node wrote its heartbeat again")
	}
	if got := rb.goneList(); len(got) != 0 {
		t.Fatalf("b declared %v gone: the key was deleted by someone else", got)
	}
	if rb.fencedCount() != 0 {
		t.Fatal("b fenced")
	}
}

// TestLivenessFencedWhenHeartbeatFails: a node that cannot write its
// heartbeat for the TTL is fenced.
func TestLivenessFencedWhenHeartbeatFails(t *testing.T) {
	s := natstest.Run(t)
	a := connect(t, s.URL(), "cut", "a")
	ra := startLive(a)
	waitBeats(t, a, 1)
	s.Stop()
	waitFor(t, "a fenced", func() bool { return ra.fencedCount() > 0 })
	if !errors.Is(a.Healthy(), ErrFenced) {
		t.Fatalf("Healthy: %v", a.Healthy())
	}
	if got := a.obs.get(func(r *recorder) int { return r.beatsFailed }); got == 0 {
		t.Fatal("no failed heartbeat observed")
	}
}

// TestLivenessLostAcks: a heartbeat and a delete of a silent node stored
// though their acks were lost are recognized as this node's own: no false
// fencing, and the gone node is still declared gone once.
func TestLivenessLostAcks(t *testing.T) {
	s := natstest.Run(t)
	a := connect(t, s.URL(), "lost", "a")
	b := connect(t, s.URL(), "lost", "b")
	var mu sync.Mutex
	lost := map[string]int{} // kind → acks lost
	real := a.publishMsg
	a.publishMsg = func(ctx context.Context, m *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
		ack, err := real(ctx, m, opts...)
		kind := ""
		switch {
		case m.Subject == a.kvSubject("hb.a") && m.Header.Get(jetstream.ExpectedLastSubjSeqHeader) != "":
			kind = "beat"
		case m.Subject == a.kvSubject("hb.b"):
			kind = "reap"
		}
		mu.Lock()
		defer mu.Unlock()
		if err == nil && kind != "" && lost[kind] < 2 {
			lost[kind]++
			return nil, errors.New("test: ack lost")
		}
		return ack, err
	}
	ra := startLive(a)
	startLive(b)
	waitFor(t, "two heartbeat acks lost", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return lost["beat"] == 2
	})
	waitBeats(t, a, 3)
	crash(t, b)
	waitFor(t, "b declared gone", func() bool { return len(ra.goneList()) > 0 })
	waitBeats(t, a, int(2*testTTL/testHeartbeat))
	mu.Lock()
	reapsLost := lost["reap"]
	mu.Unlock()
	if reapsLost == 0 {
		t.Fatal("no reap ack was lost: the test did not test")
	}
	if got := ra.goneList(); !slices.Equal(got, []string{"b"}) || ra.fencedCount() != 0 {
		t.Fatalf("gone %v, fenced %d: want [b], 0", got, ra.fencedCount())
	}
}

// TestSessionsChanged: a node's new sessions reach the others.
func TestSessionsChanged(t *testing.T) {
	s := natstest.Run(t)
	a := connect(t, s.URL(), "sess", "a")
	b := connect(t, s.URL(), "sess", "b")
	startLive(a)
	b.SessionsChanged() // before StartLiveness: nothing to do
	rb := startLive(b)
	waitFor(t, "a sees b with no sessions", func() bool {
		peers, err := a.Peers(testCtx(t))
		_, ok := peers["b"]
		return err == nil && ok && len(peers["b"].Sessions) == 0
	})
	want := []Session{{Room: "lobby", UserID: "u", SessionID: "s9", Name: "zed"}}
	rb.setSessions(want)
	for range 5 {
		b.SessionsChanged()
	}
	waitFor(t, "a sees b's new session", func() bool {
		peers, err := a.Peers(testCtx(t))
		return err == nil && slices.Equal(peers["b"].Sessions, want)
	})
	peers, err := b.Peers(testCtx(t))
	if _, self := peers["b"]; err != nil || self || len(peers) != 1 {
		t.Fatalf("b's peers: %v, %v; want a only", peers, err)
	}
}
