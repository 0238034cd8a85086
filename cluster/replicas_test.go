package cluster

import (
	"fmt"
	"testing"

	"github.com/sshchat/sshchat/internal/natstest"
)

// TestReplicatedStreamSurvivesAServer: with three servers and three
// replicas, the server the publisher is connected to stops halfway
// through 200 events: the publisher moves to another, and no event is
// lost or stored twice (sequences 1..200), and a node on another
// connection reads each once, in order.
func TestReplicatedStreamSurvivesAServer(t *testing.T) {
	c := natstest.RunCluster(t)
	a := connect(t, c.URL(), "r3", "a", func(cfg *Config) { cfg.Replicas = 3 })
	b := connect(t, c.URL(), "r3", "b", func(cfg *Config) { cfg.Replicas = 3 })
	info, err := a.JetStream().Stream(testCtx(t), a.names.stream)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(info.CachedInfo().Cluster.Replicas) + 1; got != 3 {
		t.Fatalf("%d copies of the stream, want 3", got)
	}
	cb := consume(t, b, 1)
	ctx := testCtx(t)
	const total = 200
	for i := 1; i <= total; i++ {
		if i == total/2+1 {
			var target *natstest.Server // the publisher's server, found before a stop makes it move
			url := a.nc.ConnectedUrl()
			for _, s := range c.Servers {
				if s.ClientURL() == url {
					target = s
				}
			}
			if target == nil {
				t.Fatalf("no server at %s", url)
			}
			target.Stop()
		}
		ev, err := a.Publish(ctx, message("lobby", "u", fmt.Sprint(i)))
		if err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		if ev.ID != i {
			t.Fatalf("event %d got ID %d: want the sequences 1..%d", i, ev.ID, total)
		}
	}
	waitFor(t, "every event delivered", func() bool { return cb.len() >= total })
	checkSequence(t, cb.all(), 1, total)
	for _, d := range cb.all() {
		if d.Event.Message != fmt.Sprint(d.Event.ID) || d.Origin != "a" {
			t.Fatalf("event %d: %q from %q", d.Event.ID, d.Event.Message, d.Origin)
		}
	}
	if last, err := b.LastSeq(ctx); err != nil || last != total {
		t.Fatalf("last sequence %d, %v; want %d", last, err, total)
	}
}
