package cluster

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sshchat/sshchat/internal/natstest"
)

func TestConfigDefaultsAndChecks(t *testing.T) {
	base := Config{URL: "nats://127.0.0.1:4222", Node: "n1"}
	got, err := base.withDefaults(true)
	if err != nil {
		t.Fatal(err)
	}
	if got.Cluster != "sshchat" || got.Replicas != 1 || got.Heartbeat != 2*time.Second || got.TTL != 10*time.Second || got.Logger == nil || got.Observer == nil {
		t.Fatalf("defaults: %+v", got)
	}
	if base.Cluster != "" || base.Logger != nil {
		t.Fatal("withDefaults changed the caller's config")
	}

	bad := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no URL", func(c *Config) { c.URL = " " }, "no NATS URL"},
		{"cluster upper case", func(c *Config) { c.Cluster = "Chat" }, "cluster name"},
		{"cluster too long", func(c *Config) { c.Cluster = strings.Repeat("a", 33) }, "cluster name"},
		{"cluster with a dot", func(c *Config) { c.Cluster = "a.b" }, "cluster name"},
		{"no node", func(c *Config) { c.Node = "" }, "node ID"},
		{"node with a dot", func(c *Config) { c.Node = "host.example" }, "node ID"},
		{"node too long", func(c *Config) { c.Node = strings.Repeat("n", 65) }, "node ID"},
		{"replicas", func(c *Config) { c.Replicas = 6 }, "replicas"},
		{"negative replicas", func(c *Config) { c.Replicas = -1 }, "replicas"},
		{"negative age", func(c *Config) { c.MaxAge = -time.Second }, "max age"},
		{"negative bytes", func(c *Config) { c.MaxBytes = -1 }, "max bytes"},
		{"TTL too short", func(c *Config) { c.Heartbeat = time.Second; c.TTL = 2 * time.Second }, "more than twice"},
		{"cert without key", func(c *Config) { c.TLSCert = "c.pem" }, "its key"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.mod(&c)
			_, err := c.withDefaults(true)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error about %q", err, tc.want)
			}
		})
	}

	// A reader needs no node ID.
	if _, err := (Config{URL: "nats://x"}).withDefaults(false); err != nil {
		t.Fatalf("reader config: %v", err)
	}
}

func TestNames(t *testing.T) {
	nm := namesOf("my-chat_2")
	want := names{
		stream:  "SSHCHAT_MY_CHAT_2",
		prefix:  "sshchat.my-chat_2.",
		all:     "sshchat.my-chat_2.>",
		nodes:   "sshchat_my-chat_2_nodes",
		config:  "sshchat_my-chat_2_config",
		nodesKV: "KV_sshchat_my-chat_2_nodes",
	}
	if nm != want {
		t.Fatalf("got %+v, want %+v", nm, want)
	}
}

func TestSubject(t *testing.T) {
	n := &Node{names: namesOf("c")}
	for _, tc := range []struct {
		room, want string
	}{
		{"lobby", "sshchat.c.room.lobby"},
		{"go-dev_1", "sshchat.c.room.go-dev_1"},
		{"@direct", "sshchat.c.dm"},
		{"Café", "sshchat.c.room.Café"},
		{"", ""},
		{"a.b", ""},
		{"a*", ""},
		{">", ""},
		{"a b", ""},
		{"a\tb", ""},
		{"a\x00", ""},
	} {
		got, err := n.subject(tc.room)
		if tc.want == "" {
			if err == nil {
				t.Errorf("room %q: subject %q, want an error", tc.room, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("room %q: got %q, %v; want %q", tc.room, got, err, tc.want)
		}
	}
}

func TestRedactURLs(t *testing.T) {
	got := redactURLs("nats://u:secret@a:4222, nats://b:4222")
	if strings.Contains(got, "secret") || !strings.Contains(got, "nats://b:4222") {
		t.Fatalf("redacted %q", got)
	}
}

// TestConnectFailures: Connect says what is wrong and leaves nothing
// running: a bad config, an unreachable server (its password not shown),
// a credentials or CA file that cannot be read.
func TestConnectFailures(t *testing.T) {
	s := natstest.Run(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"bad config", Config{URL: s.URL(), Node: "a.b"}, "node ID"},
		{"unreachable", Config{URL: "nats://u:hunter2@127.0.0.1:1", Node: "a"}, "connect to NATS at nats://u:xxxxx@127.0.0.1:1"},
		{"creds", Config{URL: s.URL(), Node: "a", Creds: filepath.Join(dir, "missing.creds")}, "missing.creds"},
		{"CA", Config{URL: s.URL(), Node: "a", TLSCA: filepath.Join(dir, "missing-ca.pem")}, "missing-ca.pem"},
		{"client cert", Config{URL: s.URL(), Node: "a", TLSCert: filepath.Join(dir, "c.pem"), TLSKey: filepath.Join(dir, "k.pem")}, "c.pem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Connect(testCtx(t), tc.cfg)
			if err == nil {
				n.Close()
				t.Fatal("connected")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error %q, want it to say %q (and no password)", err, tc.want)
			}
		})
	}
}
