// Package natstest runs NATS servers with JetStream inside a test process:
// one server, or a cluster of three, each with its own store in a
// temporary directory, listening on loopback ports chosen by the system.
package natstest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// readyTimeout bounds how long a server may take to accept clients.
const readyTimeout = 20 * time.Second

// Server is one NATS server with JetStream, shut down when its test ends.
type Server struct {
	*server.Server
	t    testing.TB
	opts *server.Options
}

// Run starts a single NATS server with JetStream, its store in a
// directory of its own.
func Run(t testing.TB) *Server {
	t.Helper()
	opts := options(t, "single")
	return start(t, opts)
}

// URL is the server's client URL.
func (s *Server) URL() string { return s.ClientURL() }

// Stop shuts the server down and waits for it; stopping twice is fine.
func (s *Server) Stop() {
	s.Shutdown()
	s.WaitForShutdown()
}

// Restart starts a server again with the same store, address and
// cluster routes: what it stored is back.
func (s *Server) Restart() *Server {
	s.t.Helper()
	s.Stop()
	return start(s.t, s.opts)
}

// Cluster is three NATS servers with JetStream routed to each other:
// streams and buckets made with three replicas survive one of them.
type Cluster struct {
	Servers []*Server
}

// RunCluster starts a JetStream cluster of three servers and waits until
// it has a meta leader.
func RunCluster(t testing.TB) *Cluster {
	t.Helper()
	const n = 3
	opts := make([]*server.Options, n)
	var routes []string
	for i := range n {
		o := options(t, fmt.Sprintf("n%d", i+1))
		o.Cluster = server.ClusterOpts{Name: "sshchat-test", Host: "127.0.0.1", Port: freeRoutePort(t)}
		opts[i] = o
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", o.Cluster.Port))
	}
	c := &Cluster{}
	for _, o := range opts {
		for _, r := range routes {
			u, err := url.Parse(r)
			if err != nil {
				t.Fatal(err)
			}
			o.Routes = append(o.Routes, u)
		}
		c.Servers = append(c.Servers, start(t, o))
	}
	deadline := time.Now().Add(readyTimeout)
	for {
		leader, current := false, true
		for _, s := range c.Servers {
			leader = leader || s.JetStreamIsLeader()
			current = current && s.JetStreamIsCurrent()
		}
		if leader && current && c.placesReplicas() {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatal("natstest: the JetStream cluster has no meta leader")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// placesReplicas reports whether the cluster can place a stream of three
// replicas yet: its meta leader may be elected before it knows every peer.
func (c *Cluster) placesReplicas() bool {
	nc, err := nats.Connect(c.URL(), nats.Timeout(time.Second))
	if err != nil {
		return false
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	const probe = "NATSTEST_READY"
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: probe, Subjects: []string{"natstest.ready"}, Replicas: 3}); err != nil {
		return false
	}
	return js.DeleteStream(ctx, probe) == nil
}

// URL is every server's client URL, comma-separated, as nats.Connect
// takes them.
func (c *Cluster) URL() string {
	urls := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		urls[i] = s.ClientURL()
	}
	return strings.Join(urls, ",")
}

// freeRoutePort is a loopback port free now, for a cluster route: the
// routes of the three servers must be known before any starts.
func freeRoutePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func options(t testing.TB, name string) *server.Options {
	return &server.Options{
		ServerName: name,
		Host:       "127.0.0.1",
		Port:       -1,
		JetStream:  true,
		StoreDir:   t.TempDir(), // never empty: an empty StoreDir is shared by every server
		NoLog:      true,
		NoSigs:     true,
	}
}

func start(t testing.TB, opts *server.Options) *Server {
	t.Helper()
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(readyTimeout) {
		s.Shutdown()
		t.Fatalf("natstest: server %s not ready in %s", opts.ServerName, readyTimeout)
	}
	// A restart must come back on the same port.
	if opts.Port == -1 {
		opts.Port = s.Addr().(*net.TCPAddr).Port
	}
	srv := &Server{Server: s, t: t, opts: opts}
	t.Cleanup(srv.Stop)
	return srv
}
