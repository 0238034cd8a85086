package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Errors of the package.
var (
	// ErrHostKeyMismatch: this node's SSH host key is not the cluster's.
	ErrHostKeyMismatch = errors.New("cluster: host key differs from the cluster's")
	// ErrUnavailable: NATS cannot be reached now, or the node is closed.
	ErrUnavailable = errors.New("cluster: unavailable")
	// ErrFenced: the node lost its place in the cluster (its heartbeat
	// failed for the TTL, or another node declared it gone); it stays
	// fenced until it is closed.
	ErrFenced = errors.New("cluster: fenced")
)

// Headers of the events in the stream.
const (
	// OriginHeader names the node that published an event.
	OriginHeader = "Sshchat-Origin"
)

// Node is this server's membership of the cluster: one NATS connection,
// the stream, the buckets, the consumer and the liveness goroutines. Its
// methods are safe for concurrent use.
type Node struct {
	cfg    Config
	names  names
	log    *slog.Logger
	obs    Observer
	nc     *nats.Conn
	js     jetstream.JetStream
	nodes  jetstream.KeyValue // sshchat_<C>_nodes: hb.<node>, sessions.<node>
	config jetstream.KeyValue // sshchat_<C>_config: hostkey
	nodesS jetstream.Stream   // the nodes bucket's stream, to read a key's last message headers

	// publishMsg is js.PublishMsg; tests replace it to lose acks.
	publishMsg func(ctx context.Context, m *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error)
	// attemptTimeout bounds one attempt of Publish.
	attemptTimeout time.Duration

	// msgs is the counter of Nats-Msg-Id. It starts at the start time in
	// microseconds, not 0: a node restarted with the same ID within the
	// stream's duplicate window (2 min) must not reuse an ID, or its
	// event would be taken for a duplicate and dropped.
	msgs       atomic.Uint64
	connClosed chan struct{} // closed when the NATS connection is

	ctx    context.Context // ends when Close starts
	cancel context.CancelFunc

	fenced    chan struct{} // closed when the node is fenced
	fenceOnce sync.Once

	// firstBeat is the revision of this node's first heartbeat (0 before
	// it): a deletion of the key older than that is a former run's.
	firstBeat atomic.Uint64
	// abrupt makes Close leave the keys behind, as a crash does (tests).
	abrupt atomic.Bool

	wg        sync.WaitGroup // liveness goroutines
	consumeWG sync.WaitGroup // the consumer's goroutine

	mu        sync.Mutex
	consuming bool      // guarded by mu: Consume was called
	live      *liveness // guarded by mu: nil until StartLiveness
	closeErr  error     // guarded by mu
	closeOnce sync.Once
}

// Connect checks cfg, connects to NATS (reconnecting forever when the
// connection drops, buffering publishes meanwhile) and makes sure the
// stream and the nodes and config buckets exist with cfg's settings.
func Connect(ctx context.Context, cfg Config) (*Node, error) {
	cfg, err := cfg.withDefaults(true)
	if err != nil {
		return nil, err
	}
	n := &Node{
		cfg:            cfg,
		names:          namesOf(cfg.Cluster),
		log:            cfg.Logger.With("node", cfg.Node),
		obs:            cfg.Observer,
		connClosed:     make(chan struct{}),
		fenced:         make(chan struct{}),
		attemptTimeout: 5 * time.Second,
	}
	n.cfg.Logger = n.log
	n.msgs.Store(uint64(time.Now().UnixMicro()))
	n.nc, err = dial(n.cfg, "sshchat "+cfg.Node, n.connClosed)
	if err != nil {
		return nil, err
	}
	if err := n.setup(ctx); err != nil {
		n.nc.Close()
		return nil, err
	}
	n.publishMsg = n.js.PublishMsg
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.log.Info("cluster: connected", "url", n.nc.ConnectedUrlRedacted(), "cluster", cfg.Cluster, "stream", n.names.stream)
	return n, nil
}

// setup makes the JetStream handle, the stream and the buckets.
func (n *Node) setup(ctx context.Context) error {
	js, err := jetstream.New(n.nc)
	if err != nil {
		return fmt.Errorf("cluster: jetstream: %w", err)
	}
	n.js = js
	if _, err := js.CreateOrUpdateStream(ctx, streamConfig(n.cfg, n.names)); err != nil {
		return fmt.Errorf("cluster: stream %s: %w", n.names.stream, err)
	}
	bucket := func(name string) (jetstream.KeyValue, error) {
		kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:   name,
			History:  1,
			Storage:  jetstream.FileStorage,
			Replicas: n.cfg.Replicas,
		})
		if err != nil {
			return nil, fmt.Errorf("cluster: bucket %s: %w", name, err)
		}
		return kv, nil
	}
	if n.nodes, err = bucket(n.names.nodes); err != nil {
		return err
	}
	if n.config, err = bucket(n.names.config); err != nil {
		return err
	}
	if n.nodesS, err = js.Stream(ctx, n.names.nodesKV); err != nil {
		return fmt.Errorf("cluster: stream of bucket %s: %w", n.names.nodes, err)
	}
	return nil
}

// streamConfig is the events stream: file storage, limits retention, and
// nothing a 2.9 server does not know.
func streamConfig(cfg Config, nm names) jetstream.StreamConfig {
	maxBytes := cfg.MaxBytes
	if maxBytes == 0 {
		maxBytes = -1
	}
	dups := duplicateWindow
	if cfg.MaxAge > 0 && cfg.MaxAge < dups {
		dups = cfg.MaxAge // the server wants the window within the age
	}
	return jetstream.StreamConfig{
		Name:       nm.stream,
		Subjects:   []string{nm.all},
		Storage:    jetstream.FileStorage,
		Retention:  jetstream.LimitsPolicy,
		Discard:    jetstream.DiscardOld,
		MaxAge:     cfg.MaxAge,
		MaxBytes:   maxBytes,
		MaxMsgs:    -1,
		Replicas:   cfg.Replicas,
		Duplicates: dups,
	}
}

// ID returns this node's ID.
func (n *Node) ID() string { return n.cfg.Node }

// JetStream returns the node's JetStream handle (for the registry's
// bucket).
func (n *Node) JetStream() jetstream.JetStream { return n.js }

// personError is an error whose text is for a person, which still
// matches its sentinel with errors.Is.
type personError struct {
	msg string
	err error
}

func (e *personError) Error() string { return e.msg }
func (e *personError) Unwrap() error { return e.err }

var (
	errUnreachable = &personError{"the chat cluster is unreachable: messages are refused until it is back", ErrUnavailable}
	errNodeClosed  = &personError{"this server is shutting down: messages are refused", ErrUnavailable}
	errNodeFenced  = &personError{"this server lost its place in the chat cluster: reconnect to reach another server", ErrFenced}
)

// Healthy returns nil while the node is connected and not fenced; else an
// error, for a person, that wraps ErrFenced or ErrUnavailable. Once
// fenced, a node stays fenced.
func (n *Node) Healthy() error {
	if n.isFenced() {
		return errNodeFenced
	}
	if n.ctx.Err() != nil {
		return errNodeClosed
	}
	if !n.nc.IsConnected() {
		return errUnreachable
	}
	return nil
}

func (n *Node) isFenced() bool {
	select {
	case <-n.fenced:
		return true
	default:
		return false
	}
}

// LastSeq returns the stream's last sequence: the last event ID.
func (n *Node) LastSeq(ctx context.Context) (uint64, error) {
	st, err := n.js.Stream(ctx, n.names.stream)
	if err != nil {
		return 0, fmt.Errorf("cluster: stream %s: %w", n.names.stream, err)
	}
	return st.CachedInfo().State.LastSeq, nil
}

// Close stops the node: heartbeats (its heartbeat and sessions keys are
// deleted, so that a clean stop is not taken for a death; its sessions
// have left by then), the consumer, and the connection, drained. Publish
// calls still waiting return. A second call returns what the first did.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.cancel()
		n.wg.Wait()
		n.mu.Lock()
		live := n.live != nil
		n.mu.Unlock()
		var errs []error
		if live && !n.isFenced() && !n.abrupt.Load() {
			errs = append(errs, n.leave())
		}
		if err := n.nc.Drain(); err != nil {
			n.nc.Close()
		}
		select {
		case <-n.connClosed:
		case <-time.After(drainTimeout + time.Second):
			n.nc.Close()
			<-n.connClosed
		}
		n.consumeWG.Wait()
		n.mu.Lock()
		n.closeErr = errors.Join(errs...)
		n.mu.Unlock()
		n.log.Info("cluster: closed")
	})
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.closeErr
}
