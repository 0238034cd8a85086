package main

import (
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestClusterFlags: the flags of several nodes, from the command line or
// SSHCHAT_*, and the combinations refused with a line that says why.
func TestClusterFlags(t *testing.T) {
	t.Setenv("SSHCHAT_NATS", "nats://n1:4222,nats://n2:4222")
	t.Setenv("SSHCHAT_NATS_REPLICAS", "3")
	cfg, err := parseServe([]string{"--cluster", "chat-2", "--node", "web1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Cluster
	if c.URL != "nats://n1:4222,nats://n2:4222" || c.Replicas != 3 || c.Name != "chat-2" || c.Node != "web1" {
		t.Fatalf("cluster config %+v", c)
	}
	if c.Heartbeat != 2*time.Second || c.TTL != 8*time.Second {
		t.Fatalf("heartbeat %v, TTL %v; want the defaults 2s and 8s", c.Heartbeat, c.TTL)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--cluster", "Chat"}, "--cluster"},
		{[]string{"--nats-replicas", "0"}, "--nats-replicas"},
		{[]string{"--heartbeat", "5s", "--node-ttl", "10s"}, "--node-ttl"},
		{[]string{"--nats-tls-cert", "c.pem"}, "--nats-tls-key"},
	} {
		if _, err := parseServe(tc.args, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one naming %s", tc.args, err, tc.want)
		}
	}
	t.Setenv("SSHCHAT_NATS", "")
	if _, err := parseServe([]string{"--cluster", "Not Checked"}, io.Discard); err != nil {
		t.Errorf("without --nats the cluster flags are not checked: %v", err)
	}
}

// TestNodeID: a node without --node is named after its host, with a
// suffix new at every start; the ID is one NATS takes.
func TestNodeID(t *testing.T) {
	var c clusterConfig
	a, b := c.nodeID(), c.nodeID()
	valid := regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	if a == b || !valid.MatchString(a) || !valid.MatchString(b) {
		t.Fatalf("node IDs %q and %q: want two different IDs of A-Z a-z 0-9 _ -", a, b)
	}
	c.Node = "web1"
	if got := c.nodeID(); got != "web1" {
		t.Fatalf("--node web1 gave %q", got)
	}
}
