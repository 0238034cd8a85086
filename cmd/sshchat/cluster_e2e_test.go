package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/internal/natstest"
)

// Several nodes: each test runs NATS with JetStream in the test process
// and two sshchat nodes on it, as a load balancer would have them: the
// same host key, a data directory each.

// testHeartbeat and testTTL make a node gone within about a second.
const (
	testHeartbeat = 100 * time.Millisecond
	testTTL       = time.Second
)

// inCluster makes a server a node of the chat on the NATS server at url.
func inCluster(url string) func(*config) {
	return func(c *config) {
		c.Cluster = clusterConfig{URL: url, Name: "test", Replicas: 1, Heartbeat: testHeartbeat, TTL: testTTL}
	}
}

// shareHostKey copies the host keys of the data directory from into the
// data directory to, as an operator gives every node the cluster's key.
func shareHostKey(t *testing.T, from, to string) {
	t.Helper()
	src, dst := filepath.Join(from, "hostkeys"), filepath.Join(to, "hostkeys")
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// twoNodes starts nodes a and b of one chat on the NATS server at url.
func twoNodes(t *testing.T, url string, opts ...func(*config)) (a, b *testServer, dataA, dataB string) {
	t.Helper()
	dataA, dataB = t.TempDir(), t.TempDir()
	a = startServer(t, dataA, append(opts, inCluster(url))...)
	shareHostKey(t, dataA, dataB)
	b = startServer(t, dataB, append(opts, inCluster(url))...)
	return a, b, dataA, dataB
}

// samePrefix checks that the log of the node that stopped first is the
// start of the other's: the same events, with the same IDs, in the same
// order.
func samePrefix(t *testing.T, first, second []hub.Event) {
	t.Helper()
	if len(first) == 0 || len(first) > len(second) {
		t.Fatalf("logs of %d and %d events: want the first node's shorter and not empty", len(first), len(second))
	}
	for i := range first {
		if !reflect.DeepEqual(first[i], second[i]) {
			t.Fatalf("the logs differ at line %d:\n%+v\n%+v", i+1, first[i], second[i])
		}
		if first[i].ID != i+1 {
			t.Fatalf("line %d has ID %d: the stream's sequence has a hole", i+1, first[i].ID)
		}
	}
}

// TestClusterChatAcrossNodes: people on two nodes chat as in one room;
// a user's sessions on both nodes are one user (join, add, remove,
// leave); both nodes' logs hold the same events with the same IDs.
func TestClusterChatAcrossNodes(t *testing.T) {
	testChatAcrossNodes(t, natstest.Run(t).URL())
}

// TestClusterOnDebianNATSServer: the same, with the NATS server users
// run as a process of its own: Debian's nats-server 2.9.10 (CI installs
// it).
func TestClusterOnDebianNATSServer(t *testing.T) {
	testChatAcrossNodes(t, natstest.RunProcess(t).URL())
}

func testChatAcrossNodes(t *testing.T, url string) {
	a, b, _, _ := twoNodes(t, url)
	aliceKey := newKey(t)
	alice := a.connect("alice", aliceKey, 100, 30)
	alice.waitText("#lobby")
	bob := b.connect("bob", newKey(t), 100, 30)
	alice.waitJoined("bob")
	bob.waitFor("alice listed", func(screen string) bool { return listed(screen, "alice") })

	alice.say("hello from node a")
	bob.waitText("alice: hello from node a")
	bob.say("hi from node b")
	alice.waitText("bob: hi from node b")

	phone := b.connect("alice", aliceKey, 80, 24)
	bob.waitText("alice +1 session")
	phone.say("from the phone")
	alice.waitText("alice: from the phone")
	phone.close()
	bob.waitText("alice -1 session")
	alice.close()
	bob.waitLeft("alice")

	a.stop()
	b.stop()
	evA, evB := a.events(), b.events()
	samePrefix(t, evA, evB)
	var got []string
	for _, ev := range evB {
		if ev.Name == "alice" && ev.ChatRoomID == "lobby" && ev.Type != hub.EventTypeMessage {
			got = append(got, ev.Type)
		}
	}
	if want := "join add remove leave"; strings.Join(got, " ") != want {
		t.Errorf("alice's arrivals and departures = %v, want %s across both nodes", got, want)
	}
}

// TestClusterRestartCatchesUp: a node that was down reads what it missed
// from the stream: its screens show it and its log has it, with the IDs
// the other node gave.
func TestClusterRestartCatchesUp(t *testing.T) {
	ns := natstest.Run(t)
	a, b, _, dataB := twoNodes(t, ns.URL())
	alice := a.connect("alice", newKey(t), 100, 30)
	alice.waitText("#lobby")
	b.stop()
	for _, m := range []string{"one", "two", "three"} {
		alice.say("while b was down: " + m)
	}
	alice.waitText("while b was down: three")
	b = startServer(t, dataB, inCluster(ns.URL()))
	carol := b.connect("carol", newKey(t), 100, 30)
	carol.waitText("alice: while b was down: three")
	carol.waitFor("alice listed", func(screen string) bool { return listed(screen, "alice") })
	b.stop()
	a.stop()
	samePrefix(t, b.events(), a.events())
}

// TestClusterBanReachesEveryNode: a ban made on node a puts the user's
// session on node b out, and node b refuses the key from then on.
func TestClusterBanReachesEveryNode(t *testing.T) {
	ns := natstest.Run(t)
	adminKey, bobKey := newKey(t), newKey(t)
	a, b, _, _ := twoNodes(t, ns.URL(), withAdmins(t, adminKey))
	admin := a.connect("boss", adminKey, 120, 40)
	bob := b.connect("bob", bobKey, 100, 30)
	admin.waitJoined("bob")
	admin.say("/ban bob 2h spam")
	bob.waitText("banned by boss")
	admin.waitLeft("bob")
	deadline := time.Now().Add(wait)
	for {
		_, stderr, status := b.runCmd("bob", bobKey, "", "who")
		if status == 1 && strings.Contains(stderr, "banned until") && strings.Contains(stderr, "spam") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node b still lets bob in: status %d, stderr %q", status, stderr)
		}
		time.Sleep(100 * time.Millisecond) // polling: each try is a connection
	}
}

// TestClusterHostKeyMustMatch: a node whose host key is not the
// cluster's does not start, and says how to fix it.
func TestClusterHostKeyMustMatch(t *testing.T) {
	ns := natstest.Run(t)
	startServer(t, t.TempDir(), inCluster(ns.URL()))
	data := t.TempDir()
	if err := os.Chmod(data, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := config{Addr: "127.0.0.1:0", Data: data, Room: "lobby", History: 16, MaxBehind: hub.DefaultMaxBehind,
		MaxLag: hub.DefaultMaxLag, ShutdownTimeout: 2 * time.Second}
	inCluster(ns.URL())(&cfg)
	a, err := start(cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		_ = a.shutdown(t.Context())
		t.Fatal("a node with its own host key joined the cluster")
	}
	if !strings.Contains(err.Error(), "hostkeys") {
		t.Fatalf("error %q does not say to copy the cluster's host keys", err)
	}
}

// TestClusterNodeKilled: the sessions of a node killed leave the others'
// rooms within the node TTL, each departure announced once.
func TestClusterNodeKilled(t *testing.T) {
	ns := natstest.Run(t)
	dataA, dataB := t.TempDir(), t.TempDir()
	a := startServer(t, dataA, inCluster(ns.URL()))
	shareHostKey(t, dataA, dataB)
	if err := os.Chmod(dataB, 0o700); err != nil {
		t.Fatal(err)
	}
	p := startProcess(t, "--data", dataB, "--nats", ns.URL(), "--cluster", "test",
		"--heartbeat", testHeartbeat.String(), "--node-ttl", testTTL.String())
	addr := p.waitLine(t, `msg="sshchat is listening" addr=(\S+)`)[1]
	b := &testServer{t: t, addr: addr}
	alice := a.connect("alice", newKey(t), 100, 30)
	bobKey := newKey(t)
	bob := b.connect("bob", bobKey, 100, 30)
	b.connect("bob", bobKey, 100, 30) // a second session: bob's departures are a remove and a leave
	alice.waitJoined("bob")
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.wait(t)
	<-bob.done
	alice.waitLeft("bob")
	a.stop()
	bobID := ssh.FingerprintSHA256(bobKey.PublicKey())
	var departures []string
	for _, ev := range a.events() {
		if ev.UserID == bobID && (ev.Type == hub.EventTypeRemove || ev.Type == hub.EventTypeLeave) {
			departures = append(departures, ev.Type)
		}
	}
	if got := strings.Join(departures, " "); got != "remove leave" {
		t.Fatalf("bob's departures in the log: %q, want one remove and one leave", got)
	}
}

// TestClusterBusDownRefusesMessages: while NATS is unreachable, a node
// keeps its sessions and refuses new messages with a line that says so;
// when NATS is back, messages flow again.
func TestClusterBusDownRefusesMessages(t *testing.T) {
	ns := natstest.Run(t)
	a := startServer(t, t.TempDir(), func(c *config) {
		c.Cluster = clusterConfig{URL: ns.URL(), Name: "test", Replicas: 1, Heartbeat: 500 * time.Millisecond, TTL: time.Minute}
	})
	alice := a.connect("alice", newKey(t), 100, 30)
	alice.waitText("#lobby")
	alice.say("before")
	alice.waitText("alice: before")
	ns.Stop()
	waitHealth(t, a, false)
	alice.say("while it is down")
	alice.waitText("cannot save messages right now")
	if strings.Contains(alice.screen(), "alice: while it is down") {
		t.Fatal("a message refused was shown as sent")
	}
	ns.Restart()
	waitHealth(t, a, true)
	alice.typeText("\r") // the refused text waits in the input line: send it again
	alice.waitText("alice: while it is down")
	a.stop()
	var sent []string
	for _, ev := range a.events() {
		if ev.Type == hub.EventTypeMessage {
			sent = append(sent, ev.Message)
		}
	}
	if got := strings.Join(sent, "|"); got != "before|while it is down" {
		t.Fatalf("messages in the log: %q, want each once", got)
	}
}

// waitHealth waits until the node's bus is healthy, or not.
func waitHealth(t *testing.T, s *testServer, healthy bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for (s.app.cluster.healthy() == nil) != healthy {
		if time.Now().After(deadline) {
			t.Fatalf("the bus never became healthy=%v", healthy)
		}
		time.Sleep(10 * time.Millisecond) // polling the connection's state
	}
}

// TestClusterLogFromTheStream: sshchat log --nats prints what the nodes'
// logs hold, read from the stream; --json gives the same lines as a
// node's events.log, filters apply, and -n keeps the last events.
func TestClusterLogFromTheStream(t *testing.T) {
	ns := natstest.Run(t)
	a, b, dataA, _ := twoNodes(t, ns.URL())
	alice := a.connect("alice", newKey(t), 100, 30)
	bob := b.connect("bob", newKey(t), 100, 30)
	alice.waitJoined("bob")
	alice.say("first")
	bob.waitText("alice: first") // in that order in the stream
	bob.say("second")
	alice.waitText("bob: second")
	a.stop()
	b.stop()
	fromFile, stderr, code := runLogArgs("--data", dataA, "--json")
	if code != 0 {
		t.Fatalf("sshchat log: exit %d: %s", code, stderr)
	}
	fromStream, stderr, code := runLogArgs("--nats", ns.URL(), "--cluster", "test", "--json")
	if code != 0 {
		t.Fatalf("sshchat log --nats: exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(fromStream, fromFile) {
		t.Fatalf("the stream does not start with node a's log:\nstream:\n%s\nlog:\n%s", fromStream, fromFile)
	}
	last, _, _ := runLogArgs("--nats", ns.URL(), "--cluster", "test", "--type", "message", "-n", "1")
	if !strings.Contains(last, "bob: second") || strings.Contains(last, "first") {
		t.Fatalf("--type message -n 1 printed:\n%s", last)
	}
	if _, stderr, code := runLogArgs("--nats", ns.URL(), "--cluster", "nosuch"); code != 1 || !strings.Contains(stderr, "nosuch") {
		t.Fatalf("an unknown cluster: exit %d, stderr %q", code, stderr)
	}
}

// TestClusterThreeNodesOnThreeNATSServers: three nodes on a NATS cluster
// of three servers, with three replicas: one NATS server stops in the
// middle of the chat, and no message is lost; every node's log holds the
// same events.
func TestClusterThreeNodesOnThreeNATSServers(t *testing.T) {
	nc := natstest.RunCluster(t)
	url := nc.URL()
	var nodes []*testServer
	first := t.TempDir()
	for i := range 3 {
		data := first
		if i > 0 {
			data = t.TempDir()
			shareHostKey(t, first, data)
		}
		nodes = append(nodes, startServer(t, data, inCluster(url), func(c *config) {
			c.Cluster.Replicas = 3
			c.MetricsAddr = "127.0.0.1:0"
		}))
	}
	var people []*client
	for i, s := range nodes {
		people = append(people, s.connect(fmt.Sprintf("p%d", i), newKey(t), 100, 30))
	}
	people[0].waitJoined("p1", "p2")
	for round := range 2 {
		if round == 1 {
			nc.Servers[0].Stop()
		}
		for i, p := range people {
			p.say(fmt.Sprintf("round %d from p%d", round, i))
		}
		for _, p := range people {
			for i := range people {
				p.waitText(fmt.Sprintf("p%d: round %d from p%d", i, round, i))
			}
		}
	}
	metrics := scrapeMetrics(t, nodes[0])
	for _, m := range []string{"sshchat_bus_publish_seconds_count", "sshchat_bus_heartbeats_total{result=\"ok\"}", "sshchat_bus_consumer_lag"} {
		if !strings.Contains(metrics, m) {
			t.Errorf("no %s in node 0's /metrics", m)
		}
	}
	for _, s := range nodes {
		s.stop()
	}
	logs := make([][]hub.Event, len(nodes))
	for i, s := range nodes {
		logs[i] = s.events()
	}
	samePrefix(t, logs[0], logs[2])
	samePrefix(t, logs[1], logs[2])
	var messages int
	for _, ev := range logs[2] {
		if ev.Type == hub.EventTypeMessage {
			messages++
		}
	}
	if messages != 6 {
		t.Fatalf("%d messages in the last node's log, want 6", messages)
	}
}

func scrapeMetrics(t *testing.T, s *testServer) string {
	t.Helper()
	resp, err := http.Get("http://" + s.app.side[0].addr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}
