package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sshchat/sshchat/chat"
	"github.com/sshchat/sshchat/cluster"
	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/registry"
)

// clusterConfig is the flags of several nodes: without --nats the server
// is one node, with its own log.
type clusterConfig struct {
	URL       string
	Creds     string
	TLSCA     string
	TLSCert   string
	TLSKey    string
	Name      string
	Node      string
	Replicas  int
	MaxAge    time.Duration
	Heartbeat time.Duration
	TTL       time.Duration
}

func (c *clusterConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.URL, "nats", "", "NATS server URLs, comma-separated (nats://host:4222): run as one node of several sharing the chat over JetStream; empty: a single node")
	fs.StringVar(&c.Creds, "nats-creds", "", "NATS credentials file (.creds)")
	fs.StringVar(&c.TLSCA, "nats-tls-ca", "", "CA certificate file to trust for NATS over TLS")
	fs.StringVar(&c.TLSCert, "nats-tls-cert", "", "client certificate file for NATS over TLS")
	fs.StringVar(&c.TLSKey, "nats-tls-key", "", "client key file for NATS over TLS")
	fs.StringVar(&c.Name, "cluster", "sshchat", "name of the chat shared over NATS: its stream and buckets (a-z 0-9 _ -); nodes with the same name share one chat")
	fs.StringVar(&c.Node, "node", "", "this node's ID among the nodes (A-Z a-z 0-9 _ -; default: host name and a random suffix, new at every start)")
	fs.IntVar(&c.Replicas, "nats-replicas", 1, "copies of the stream and buckets in the NATS cluster (3 survives one NATS server down)")
	fs.DurationVar(&c.MaxAge, "nats-max-age", 0, "drop events older than this from the stream (0: keep them all); each node keeps its events.log")
	fs.DurationVar(&c.Heartbeat, "heartbeat", 2*time.Second, "how often a node tells the others it is up")
	fs.DurationVar(&c.TTL, "node-ttl", 8*time.Second, "a node silent this long is gone: its sessions leave, announced once by another node (within about a heartbeat more)")
}

var (
	clusterName = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)
	notNodeChar = regexp.MustCompile(`[^A-Za-z0-9_-]+`)
)

func (c clusterConfig) validate() error {
	switch {
	case c.URL == "":
		return nil
	case !clusterName.MatchString(c.Name):
		return fmt.Errorf("--cluster %q: 1 to 32 of a-z 0-9 _ -", c.Name)
	case c.Replicas < 1 || c.Replicas > 5:
		return fmt.Errorf("--nats-replicas must be 1 to 5")
	case c.Heartbeat <= 0 || c.TTL <= 2*c.Heartbeat:
		return fmt.Errorf("--node-ttl must be more than twice --heartbeat")
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return fmt.Errorf("--nats-tls-cert and --nats-tls-key go together")
	}
	return nil
}

// nodeID is --node, or the host name with a random suffix: a node that
// restarts is a new node, and the one before it is gone.
func (c clusterConfig) nodeID() string {
	if c.Node != "" {
		return c.Node
	}
	host, _ := os.Hostname()
	host = notNodeChar.ReplaceAllString(host, "-")
	if len(host) > 40 {
		host = host[:40]
	}
	if host == "" {
		host = "node"
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return host + "-" + hex.EncodeToString(b[:])
}

// cluster is the configuration of the cluster package for node; a is the
// server's app, nil for sshchat log.
func (c clusterConfig) cluster(node string, a *app) cluster.Config {
	cfg := cluster.Config{
		URL: c.URL, Creds: c.Creds, TLSCA: c.TLSCA, TLSCert: c.TLSCert, TLSKey: c.TLSKey,
		Cluster: c.Name, Node: node, Replicas: c.Replicas, MaxAge: c.MaxAge,
		Heartbeat: c.Heartbeat, TTL: c.TTL, Logger: slog.New(slog.DiscardHandler),
	}
	if a != nil {
		cfg.Logger = a.log
		if a.metrics != nil {
			cfg.Observer = a.metrics.WatchBus()
		}
	}
	return cfg
}

// joinTimeout bounds joining the cluster at start: connecting, checking
// the host key, loading the shared registry.
const joinTimeout = 30 * time.Second

// clusterBus is this node's part of the chat shared over NATS. Its events
// are numbered by the stream (publish), and the stream's events, its own
// and the others', come back through one consumer (deliver): written to
// events.log in the stream's order, the others' handed to the chat core.
type clusterBus struct {
	node      *cluster.Node
	readCfg   cluster.Config  // for a reader of its own (seed)
	ctx       context.Context // ends when the bus is closed: a publish still retrying gives up
	cancel    context.CancelFunc
	out       chan<- hub.Event // the log's listener (through the metrics' tee)
	core      atomic.Pointer[chat.Core]
	published atomic.Uint64 // the last sequence this node published
	delivered atomic.Uint64 // the last sequence the consumer handed on
	stopReg   func()
	outClosed bool
}

// joinCluster connects to NATS, checks that this node's host key is the
// cluster's and shares the registry.
func (a *app) joinCluster(hostKey gossh.PublicKey, reg *registry.Registry) (*clusterBus, error) {
	ctx, cancel := context.WithTimeout(context.Background(), joinTimeout)
	defer cancel()
	id := a.cfg.Cluster.nodeID()
	cfg := a.cfg.Cluster.cluster(id, a)
	node, err := cluster.Connect(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("join the cluster: %w", err)
	}
	cfg.Observer = nil
	b := &clusterBus{node: node, readCfg: cfg}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	if err := node.CheckHostKey(ctx, strings.TrimSpace(string(gossh.MarshalAuthorizedKey(hostKey)))); err != nil {
		return nil, errors.Join(err, b.close())
	}
	stop, err := cluster.SyncRegistry(ctx, node.JetStream(), "sshchat_"+a.cfg.Cluster.Name+"_registry", id, a.cfg.Cluster.Replicas, reg, a.log)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("share the registry: %w", err), b.close())
	}
	b.stopReg = stop
	a.log.Info("joined the cluster", "node", id, "cluster", a.cfg.Cluster.Name) // not the URLs: they may hold a password
	return b, nil
}

// publish is the hubs' stamp: the event is in the stream, numbered, when
// it returns, and says which node made it.
func (b *clusterBus) publish(ev hub.Event) (hub.Event, error) {
	if ev.Node == "" { // a departure reaped for a node gone names that node
		ev.Node = b.node.ID()
	}
	ev, err := b.node.Publish(b.ctx, ev)
	if err != nil {
		return ev, err
	}
	for {
		last := b.published.Load()
		if uint64(ev.ID) <= last || b.published.CompareAndSwap(last, uint64(ev.ID)) {
			return ev, nil
		}
	}
}

// start feeds the core from the stream, from the first event the log does
// not have, and returns once this node has read what the stream held: a
// session then sees the same history on every node. Other nodes' sessions
// are counted in first.
func (b *clusterBus) start(core *chat.Core, logLast int, gone, fenced func(string)) error {
	b.core.Store(core)
	ctx, cancel := context.WithTimeout(b.ctx, joinTimeout)
	defer cancel()
	last, err := b.node.LastSeq(ctx)
	if err != nil {
		return fmt.Errorf("read the stream: %w", err)
	}
	if uint64(logLast) > last {
		return fmt.Errorf("this node's events.log goes to ID %d, past the cluster's stream (%d): "+
			"start the node with an empty data directory, or keep it a single node", logLast, last)
	}
	if err := b.seed(ctx, core, uint64(logLast)); err != nil {
		return err
	}
	b.delivered.Store(uint64(logLast))
	if err := b.node.Consume(b.ctx, uint64(logLast)+1, b.deliver); err != nil {
		return fmt.Errorf("read the stream: %w", err)
	}
	if err := b.caughtUp(ctx, last); err != nil {
		return fmt.Errorf("catch up with the stream (at %d of %d): %w", b.delivered.Load(), last, err)
	}
	b.node.StartLiveness(b.sessions, func(node string) {
		core.NodeGone(node, "node "+node+" stopped answering")
		gone(node)
	}, func() {
		fenced("this node lost the chat cluster: reconnect")
	})
	return nil
}

// seed counts in the sessions the other nodes have: each node's snapshot,
// then the arrivals and departures after it that this node's log already
// has (the consumer applies those after the log's last event).
func (b *clusterBus) seed(ctx context.Context, core *chat.Core, logLast uint64) error {
	peers, err := b.node.Peers(ctx)
	if err != nil {
		return fmt.Errorf("read the other nodes' sessions: %w", err)
	}
	from := logLast + 1
	for node, snap := range peers {
		placed := make([]chat.Placement, len(snap.Sessions))
		for i, s := range snap.Sessions {
			placed[i] = chat.Placement{Room: s.Room, UserID: s.UserID, SessionID: s.SessionID, Name: s.Name}
		}
		core.SeedRemote(node, placed)
		from = min(from, snap.AsOf+1)
	}
	if from > logLast {
		return nil
	}
	errDone := errors.New("caught up")
	err = cluster.Read(ctx, b.readCfg, from, false, func(ev hub.Event) error {
		if uint64(ev.ID) > logLast {
			return errDone
		}
		core.RemotePresence(ev)
		return nil
	})
	if err != nil && !errors.Is(err, errDone) {
		return fmt.Errorf("read the arrivals and departures since the other nodes' snapshots: %w", err)
	}
	return nil
}

// deliver writes one event of the stream to the log and, when another
// node made it, hands it to the core.
func (b *clusterBus) deliver(d cluster.Delivery) {
	b.out <- d.Event
	b.delivered.Store(uint64(d.Event.ID))
	if d.Origin != b.node.ID() {
		b.core.Load().Remote(d.Event)
		return
	}
	switch d.Event.Type {
	case hub.EventTypeJoin, hub.EventTypeAdd, hub.EventTypeRemove, hub.EventTypeLeave:
		b.node.SessionsChanged()
	}
}

// caughtUp waits until the consumer has handed on the event seq.
func (b *clusterBus) caughtUp(ctx context.Context, seq uint64) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for b.delivered.Load() < seq {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// sessions is where this node's sessions are, for the other nodes, as of
// the last event it published: read first, so that every arrival and
// departure up to it is in the placements.
func (b *clusterBus) sessions() cluster.Snapshot {
	snap := cluster.Snapshot{AsOf: b.published.Load()}
	core := b.core.Load()
	if core == nil {
		return snap
	}
	for _, p := range core.Placements() {
		snap.Sessions = append(snap.Sessions, cluster.Session{Room: p.Room, UserID: p.UserID, SessionID: p.SessionID, Name: p.Name})
	}
	return snap
}

// healthy is nil while the cluster takes new events.
func (b *clusterBus) healthy() error { return b.node.Healthy() }

// drain waits, within ctx, until this node's own events (the sessions'
// departures, the rooms' close) are back from the stream and in its log.
func (b *clusterBus) drain(ctx context.Context) error {
	return b.caughtUp(ctx, b.published.Load())
}

// close stops reading the stream and leaves the cluster; then the log's
// listener is closed: no event follows.
func (b *clusterBus) close() error {
	b.cancel()
	if b.stopReg != nil {
		b.stopReg()
	}
	err := b.node.Close()
	if b.out != nil && !b.outClosed {
		b.outClosed = true
		close(b.out)
	}
	return err
}
