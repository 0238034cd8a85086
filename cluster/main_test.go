package cluster

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/sshchat/sshchat/hub"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Liveness timings of the tests: short, with the TTL six heartbeats.
const (
	testHeartbeat = 100 * time.Millisecond
	testTTL       = 600 * time.Millisecond
	waitLimit     = 20 * time.Second // generous: a busy 2-core machine
)

// recorder is an Observer that counts what it is told.
type recorder struct {
	mu          sync.Mutex
	published   int
	lags        int
	reconnected int
	beatsOK     int
	beatsFailed int
	gaps        [][2]uint64
}

func (r *recorder) Published(time.Duration) { r.mu.Lock(); r.published++; r.mu.Unlock() }
func (r *recorder) Lag(uint64)              { r.mu.Lock(); r.lags++; r.mu.Unlock() }
func (r *recorder) Reconnected()            { r.mu.Lock(); r.reconnected++; r.mu.Unlock() }
func (r *recorder) Heartbeat(ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ok {
		r.beatsOK++
	} else {
		r.beatsFailed++
	}
}
func (r *recorder) Gap(from, to uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gaps = append(r.gaps, [2]uint64{from, to})
}

func (r *recorder) get(f func(*recorder) int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return f(r)
}

func (r *recorder) okBeats() int { return r.get(func(r *recorder) int { return r.beatsOK }) }

func (r *recorder) gapList() [][2]uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][2]uint64(nil), r.gaps...)
}

// logBuffer keeps what the nodes of a test log; it is printed if the test
// fails (or always with SSHCHAT_TEST_LOG=1).
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testLogger(t *testing.T) (*slog.Logger, *logBuffer) {
	t.Helper()
	b := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("SSHCHAT_TEST_LOG") == "1" {
			t.Logf("log of the nodes:\n%s", b.String())
		}
	})
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// testNode is a node of a test with what it observed.
type testNode struct {
	*Node
	obs *recorder
	log *logBuffer
}

// connect joins node to cluster at url, closed when the test ends.
func connect(t *testing.T, url, cluster, node string, mods ...func(*Config)) *testNode {
	t.Helper()
	log, buf := testLogger(t)
	obs := &recorder{}
	cfg := Config{URL: url, Cluster: cluster, Node: node, Heartbeat: testHeartbeat, TTL: testTTL, Logger: log, Observer: obs}
	for _, m := range mods {
		m(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	n, err := Connect(ctx, cfg)
	if err != nil {
		t.Fatalf("connect %s: %v", node, err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return &testNode{Node: n, obs: obs, log: buf}
}

// rawJS is a connection of the test's own to url, closed when it ends.
func rawJS(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// waitFor polls cond until it holds, or fails the test after waitLimit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitBeats waits until n has written k more heartbeats: the test's clock
// for "nothing more happens".
func waitBeats(t *testing.T, n *testNode, k int) {
	t.Helper()
	start := n.obs.okBeats()
	waitFor(t, fmt.Sprintf("%d more heartbeats of %s", k, n.ID()), func() bool { return n.obs.okBeats() >= start+k })
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	t.Cleanup(cancel)
	return ctx
}

// message is a chat message event of the tests.
func message(room, user, text string) hub.Event {
	return hub.Event{ChatRoomID: room, Type: hub.EventTypeMessage, UserID: user, Name: user, Message: text, UnixTime: 1700000000}
}

// collector keeps the deliveries of a Consume.
type collector struct {
	mu  sync.Mutex
	got []Delivery
}

func (c *collector) add(d Delivery) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, d)
}

func (c *collector) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

func (c *collector) all() []Delivery {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Delivery(nil), c.got...)
}

// consume starts n's consumer from from into a collector.
func consume(t *testing.T, n *testNode, from uint64) *collector {
	t.Helper()
	c := &collector{}
	if err := n.Consume(testCtx(t), from, c.add); err != nil {
		t.Fatalf("consume: %v", err)
	}
	return c
}

// checkSequence fails unless got holds exactly the IDs first..last, once
// each, in order.
func checkSequence(t *testing.T, got []Delivery, first, last uint64) {
	t.Helper()
	if want := int(last - first + 1); len(got) != want {
		t.Fatalf("%d deliveries, want %d (IDs %d..%d): %v", len(got), want, first, last, ids(got))
	}
	for i, d := range got {
		if want := int(first) + i; d.Event.ID != want {
			t.Fatalf("delivery %d has ID %d, want %d: %v", i, d.Event.ID, want, ids(got))
		}
	}
}

func ids(ds []Delivery) []int {
	out := make([]int, len(ds))
	for i, d := range ds {
		out[i] = d.Event.ID
	}
	return out
}
