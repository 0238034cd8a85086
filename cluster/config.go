package cluster

import (
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Config says how a node reaches the cluster and how it behaves in it.
// Zero values take the defaults documented on each field; Connect never
// changes the caller's Config.
type Config struct {
	URL                    string        // one or more nats:// URLs, comma-separated
	Creds                  string        // NATS .creds file (optional)
	TLSCA, TLSCert, TLSKey string        // optional: CA to trust; client certificate and key
	Cluster                string        // default "sshchat"; [a-z0-9_-]{1,32}
	Node                   string        // this node's ID (required by Connect); [A-Za-z0-9_-]{1,64}
	Replicas               int           // stream and bucket replicas; default 1
	MaxAge                 time.Duration // stream retention, 0: forever
	MaxBytes               int64         // 0: unlimited
	Heartbeat              time.Duration // default 2s
	TTL                    time.Duration // default 10s; must be > 2*Heartbeat
	Logger                 *slog.Logger  // nil: no log
	Observer               Observer      // nil: none
}

// Observer gets the node's figures, for metrics (cmd wires Prometheus).
// Its methods are called from the node's goroutines and must not block.
type Observer interface {
	Published(d time.Duration) // one publish, from Publish to the ack (retries included)
	Lag(n uint64)              // after each delivery: messages of the stream not delivered yet
	Reconnected()
	Heartbeat(ok bool)
	Gap(from, to uint64) // sequences from..to are missing from the stream
}

// Session is one SSH session of a node in a room, as the other nodes see
// it (in the node's sessions key).
type Session struct {
	Room      string `json:"room"`
	UserID    string `json:"userId"`
	SessionID string `json:"sessionId"`
	Name      string `json:"name"`
}

// Snapshot is where a node's sessions are, as the other nodes read it at
// their start (sessions.<node>): the sessions, and the last sequence the
// node had published when it took them. Its own arrivals and departures
// up to AsOf are in Sessions; a node starting applies the stream's
// arrivals and departures after AsOf on top.
type Snapshot struct {
	AsOf     uint64    `json:"asOf"`
	Sessions []Session `json:"sessions"`
}

// Defaults and limits of Config.
const (
	defaultCluster   = "sshchat"
	defaultHeartbeat = 2 * time.Second
	defaultTTL       = 10 * time.Second
	maxReplicas      = 5 // JetStream's own limit
	duplicateWindow  = 2 * time.Minute
)

var (
	clusterName = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)
	nodeID      = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// withDefaults checks cfg and returns a copy with the defaults filled in.
// needNode: the config is a node's (Connect), not a reader's (Read).
func (cfg Config) withDefaults(needNode bool) (Config, error) {
	if strings.TrimSpace(cfg.URL) == "" {
		return cfg, fmt.Errorf("cluster: config: no NATS URL")
	}
	if cfg.Cluster == "" {
		cfg.Cluster = defaultCluster
	}
	if !clusterName.MatchString(cfg.Cluster) {
		return cfg, fmt.Errorf("cluster: config: cluster name %q: want 1 to 32 of a-z 0-9 _ -", cfg.Cluster)
	}
	if needNode || cfg.Node != "" {
		if !nodeID.MatchString(cfg.Node) {
			return cfg, fmt.Errorf("cluster: config: node ID %q: want 1 to 64 of A-Z a-z 0-9 _ -", cfg.Node)
		}
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Replicas < 1 || cfg.Replicas > maxReplicas {
		return cfg, fmt.Errorf("cluster: config: %d replicas: want 1 to %d", cfg.Replicas, maxReplicas)
	}
	if cfg.MaxAge < 0 {
		return cfg, fmt.Errorf("cluster: config: negative max age %s", cfg.MaxAge)
	}
	if cfg.MaxBytes < 0 {
		return cfg, fmt.Errorf("cluster: config: negative max bytes %d", cfg.MaxBytes)
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = defaultHeartbeat
	}
	if cfg.TTL == 0 {
		cfg.TTL = defaultTTL
	}
	if cfg.Heartbeat < 0 || cfg.TTL <= 2*cfg.Heartbeat {
		return cfg, fmt.Errorf("cluster: config: node TTL %s must be more than twice the heartbeat %s", cfg.TTL, cfg.Heartbeat)
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return cfg, fmt.Errorf("cluster: config: a TLS client certificate needs its key, and a key its certificate")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	return cfg, nil
}

// names are the NATS names of one cluster.
type names struct {
	stream  string // SSHCHAT_<C>
	prefix  string // sshchat.<C>.
	all     string // sshchat.<C>.>
	nodes   string // KV bucket sshchat_<C>_nodes
	config  string // KV bucket sshchat_<C>_config
	nodesKV string // the nodes bucket's stream: KV_sshchat_<C>_nodes
}

func namesOf(cluster string) names {
	prefix := "sshchat." + cluster + "."
	nodes := "sshchat_" + cluster + "_nodes"
	return names{
		stream:  "SSHCHAT_" + strings.ToUpper(strings.ReplaceAll(cluster, "-", "_")),
		prefix:  prefix,
		all:     prefix + ">",
		nodes:   nodes,
		config:  "sshchat_" + cluster + "_config",
		nodesKV: "KV_" + nodes,
	}
}

// reconnectWait is the pause between two attempts at a server; the client
// tries every server of the URL list in turn, forever.
const reconnectWait = 500 * time.Millisecond

// drainTimeout bounds how long Close waits for the connection to drain.
const drainTimeout = 5 * time.Second

// dial connects to NATS with the options every connection of the package
// uses: reconnect forever, buffer while reconnecting, log what happens to
// the connection. closed is closed once the connection is.
func dial(cfg Config, name string, closed chan<- struct{}) (*nats.Conn, error) {
	log := cfg.Logger
	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait),
		nats.DrainTimeout(drainTimeout),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("cluster: disconnected from NATS, reconnecting", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("cluster: reconnected to NATS", "url", nc.ConnectedUrlRedacted())
			cfg.Observer.Reconnected()
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			log.Warn("cluster: NATS error", "err", err)
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
	}
	if cfg.Creds != "" {
		opts = append(opts, nats.UserCredentials(cfg.Creds))
	}
	if cfg.TLSCA != "" {
		opts = append(opts, nats.RootCAs(cfg.TLSCA))
	}
	if cfg.TLSCert != "" {
		opts = append(opts, nats.ClientCert(cfg.TLSCert, cfg.TLSKey))
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("cluster: connect to NATS at %s: %w", redactURLs(cfg.URL), err)
	}
	return nc, nil
}

// redactURLs hides the passwords of a comma-separated URL list.
func redactURLs(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if u, err := url.Parse(p); err == nil {
			p = u.Redacted()
		}
		parts[i] = p
	}
	return strings.Join(parts, ",")
}

type nopObserver struct{}

func (nopObserver) Published(time.Duration) {}
func (nopObserver) Lag(uint64)              {}
func (nopObserver) Reconnected()            {}
func (nopObserver) Heartbeat(bool)          {}
func (nopObserver) Gap(uint64, uint64)      {}
