package sshserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	gossh "golang.org/x/crypto/ssh"

	"github.com/sshchat/sshchat/chat"
	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/internal/pace"
	"github.com/sshchat/sshchat/registry"
	"github.com/sshchat/sshchat/ui"
)

// Errors returned by the server.
var (
	ErrServerClosed = errors.New("sshserver: server closed")
	ErrNoHostKey    = errors.New("sshserver: no host key")
)

// Config holds the server's limits. The zero value of a field means its
// default, given beside it.
type Config struct {
	MaxMessage       int           // bytes in one message; default 4096
	Backlog          int           // events of history shown on connect; default 100
	MaxWidth         int           // terminal columns honoured; default 500
	MaxHeight        int           // terminal rows honoured; default 200
	LoginTimeout     time.Duration // from TCP connect to an open session; default 20s
	IdleTimeout      time.Duration // a connection with no traffic at all is closed; default none
	Keepalive        time.Duration // how often a quiet client is asked if it is alive; default 30s
	OutputLimit      int           // bytes of output queued for a client before it is too slow; default 1 MiB
	FPS              int           // frames per second a screen is redrawn at most; default 15
	FrameBudget      int           // frames per second for all screens together; with more sessions each gets fewer; default 12000
	MessageRate      float64       // messages per second per user, all sessions together; default 1
	MessageBurst     int           // messages a user may send at once before the rate applies; default 5
	SessionsPerUser  int           // sessions one key may hold at once; default 8
	MaxSessions      int           // sessions in all; default 10000
	MaxConnections   int           // TCP connections in all; default 12000
	ConnsPerIP       int           // connections from one IP at once; default 16
	NewConnsPerIPMin int           // new connections from one IP per minute; default 60
	MaxRooms         int           // rooms the server keeps, the lobby included; default 1000
	RoomsPerUser     int           // rooms one user may create; default 10
	RoomsPerSession  int           // rooms one session may be in at once; default 20
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxMessage, 4096)
	def(&c.Backlog, 100)
	def(&c.MaxWidth, 500)
	def(&c.MaxHeight, 200)
	def(&c.OutputLimit, 1<<20)
	def(&c.FPS, 15)
	def(&c.FrameBudget, 12000)
	def(&c.MessageBurst, 5)
	def(&c.SessionsPerUser, 8)
	def(&c.MaxSessions, 10000)
	def(&c.MaxConnections, 12000)
	def(&c.ConnsPerIP, 16)
	def(&c.NewConnsPerIPMin, 60)
	if c.MessageRate <= 0 {
		c.MessageRate = 1
	}
	if c.LoginTimeout <= 0 {
		c.LoginTimeout = 20 * time.Second
	}
	if c.Keepalive <= 0 {
		c.Keepalive = 30 * time.Second
	}
	return c
}

// Option configures a Server.
type Option func(*Server)

// Observer is told what happens to connections, for metrics. Its methods
// must be quick and safe for concurrent use.
type Observer interface {
	Refused(reason string) // a connection or session turned away: "login_timeout", "too_slow", ...
	AuthFailed()           // a handshake that failed authentication
	Throttled()            // a message refused by a rate limit
}

// WithRegistry sets where names, ignores, bans, mutes and the message of
// the day are kept. Without it they last until the server stops.
func WithRegistry(reg *registry.Registry) Option {
	return func(s *Server) { s.reg = reg }
}

// Chat is the server's chat core: with several nodes, the bus hands it
// the other nodes' events.
func (s *Server) Chat() *chat.Core { return s.chat }

// SetAdmins sets the keys (fingerprints) that may moderate; it may be
// called at any time (e.g. on SIGHUP).
func (s *Server) SetAdmins(keys map[string]bool) { s.chat.SetAdmins(keys) }

// SetAllowlist limits who may connect to the keys given; nil lets anyone
// with a key in. It may be called at any time.
func (s *Server) SetAllowlist(keys map[string]bool) {
	if keys == nil {
		s.allow.Store(nil)
		return
	}
	s.allow.Store(&keys)
}

func (s *Server) allowed(userID string) bool {
	allow := s.allow.Load()
	return allow == nil || (*allow)[userID]
}

// WithObserver sets who is told what happens to connections.
func WithObserver(o Observer) Option {
	return func(s *Server) { s.observe = o }
}

type nopObserver struct{}

func (nopObserver) Refused(string) {}
func (nopObserver) AuthFailed()    {}
func (nopObserver) Throttled()     {}

// WithConfig sets the server's limits.
func WithConfig(c Config) Option {
	return func(s *Server) { s.cfg = c.withDefaults() }
}

// Rooms is how the server gets its rooms.
type Rooms struct {
	// Lobby is the default room's ID (default "lobby"): where a session
	// opens without a room asked for, and the script commands' room.
	Lobby string
	// Open makes the hub of a room (chat.Config.OpenRoom); nil: hubs in
	// memory, for the life of the server.
	Open func(id string) (chat.Room, error)
}

// Server serves the chat's rooms over SSH.
type Server struct {
	log       *slog.Logger
	cfg       Config
	ssh       *ssh.Server
	chat      *chat.Core
	reg       *registry.Registry
	observe   Observer
	store     func() error                    // nil while new messages can be saved; see WithStore
	allow     atomic.Pointer[map[string]bool] // fingerprints let in; nil lets everyone in
	admit     *admission
	outBufs   *sync.Pool      // output buffers, shared by the sessions' outboxes
	screens   *ui.Shared      // what the sessions' screens make once for all
	batches   *batchPool      // the pumps' batches of events
	chatStage wish.Middleware // the innermost stage of the chain: the chat (see middleware.go)

	refusedConns sync.Map // remote address → its *connState: connections being turned away

	sessions tracker    // the handlers of open sessions
	trim     *crowdTrim // returns the memory of a crowd of arrivals once it passed
	closing  atomic.Bool

	life   sync.Mutex
	shut   bool              // guarded by life: Shutdown was called
	served []*servedListener // guarded by life: the listeners given to Serve
}

// New makes a server for rooms, with the given host keys: it opens the
// lobby and every room the registry keeps. It does not listen until Serve.
func New(rooms Rooms, hostKeys []gossh.Signer, log *slog.Logger, opts ...Option) (*Server, error) {
	if len(hostKeys) == 0 {
		return nil, ErrNoHostKey
	}
	s := &Server{log: log, cfg: Config{}.withDefaults(), observe: nopObserver{}, trim: newCrowdTrim()}
	s.chatStage = s.serveChat
	for _, o := range opts {
		o(s)
	}
	if s.reg == nil {
		s.reg, _ = registry.Open("") // in memory: cannot fail
	}
	core, err := chat.New(s.reg, log, chat.Config{
		MaxMessage:         s.cfg.MaxMessage,
		MessageRate:        s.cfg.MessageRate,
		MessageBurst:       s.cfg.MessageBurst,
		Lobby:              rooms.Lobby,
		OpenRoom:           rooms.Open,
		MaxRooms:           s.cfg.MaxRooms,
		MaxRoomsPerUser:    s.cfg.RoomsPerUser,
		MaxRoomsPerSession: s.cfg.RoomsPerSession,
		Backlog:            s.cfg.Backlog,
		Store:              s.store,
		Throttled:          s.observe.Throttled,
		SessionLimit:       s.sessionLimit,
		Line:               plainLine,
	})
	if err != nil {
		return nil, fmt.Errorf("open the rooms: %w", err)
	}
	s.chat = core
	s.outBufs = newBufferPool()
	s.screens = ui.NewShared()
	s.batches = newBatchPool()
	s.admit = newAdmission(s.cfg.MaxConnections, s.cfg.ConnsPerIP, s.cfg.NewConnsPerIPMin)
	srv, err := wish.NewServer(s.options(hostKeys)...)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("ssh server: %w", err), core.Close())
	}
	s.ssh = srv
	return s, nil
}

// options build the SSH server with wish: its own options where it has
// one, plain ssh.Options for the rest. The host keys are never empty
// here: without one, wish would write a new key to the working directory.
func (s *Server) options(hostKeys []gossh.Signer) []ssh.Option {
	opts := []ssh.Option{
		func(srv *ssh.Server) error {
			for _, k := range hostKeys {
				srv.AddHostKey(k)
			}
			return nil
		},
		wish.WithVersion("sshchat"),
		wish.WithIdleTimeout(s.cfg.IdleTimeout),
	}
	opts = append(opts, s.auth()...)
	return append(opts,
		// Connection limits, before the key exchange (see accept).
		ssh.WrapConn(s.accept),
		func(srv *ssh.Server) error {
			srv.ConnectionFailedCallback = s.connectionFailed
			// Session channels go through the server's own handler, which
			// filters their requests and runs the middleware below for
			// each session (see channel.go).
			srv.ChannelHandlers = map[string]ssh.ChannelHandler{"session": s.sessionChannel}
			// Every global request, of every type, goes to refuseGlobal.
			srv.RequestHandlers = map[string]ssh.RequestHandler{"default": refuseGlobal}
			return nil
		},
		wish.WithMiddleware(s.middleware()),
	)
}

// Serve accepts connections on l until Shutdown or Close. It returns
// ErrServerClosed after those.
func (s *Server) Serve(l net.Listener) error {
	sl := &servedListener{Listener: l, accepting: make(chan struct{})}
	defer sl.start()
	s.life.Lock()
	if s.shut {
		s.life.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.served = append(s.served, sl)
	s.life.Unlock()
	err := s.ssh.Serve(sl)
	if errors.Is(err, ssh.ErrServerClosed) || s.closing.Load() {
		return ErrServerClosed
	}
	return fmt.Errorf("serve ssh: %w", err)
}

// Shutdown stops accepting connections, closes every room (every session
// sees the close event and ends) and waits for the sessions to end. When
// ctx ends first, the remaining connections are cut and ctx's error
// returned; it does not wait then for rooms that have not closed (the log
// may hold them up): the goroutine closing them ends when they have.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	defer s.trim.stop()
	s.life.Lock()
	s.shut = true
	served := s.served
	s.life.Unlock()
	// The SSH library tracks a listener only once its Serve runs: shutting
	// down before that would race with it and leave the listener open.
	for _, sl := range served {
		select {
		case <-sl.accepting:
		case <-ctx.Done():
		}
	}
	stopped := make(chan error, 1)
	go func() { stopped <- s.ssh.Shutdown(ctx) }()
	hubClosed := make(chan error, 1)
	go func() { hubClosed <- s.chat.Close() }()
	closed := false
	select {
	case err := <-hubClosed:
		if err != nil && !errors.Is(err, hub.ErrClosed) {
			_ = s.ssh.Close()
			<-stopped
			return fmt.Errorf("close the rooms: %w", err)
		}
		closed = true
		select {
		case <-s.sessions.idle():
			// Sessions are over; a well-behaved client now closes its connection.
			select {
			case err := <-stopped:
				return err
			case <-ctx.Done():
			}
		case <-ctx.Done():
		}
	case <-ctx.Done():
		s.log.Warn("the rooms did not close in time: cutting connections")
	}
	_ = s.ssh.Close()
	<-stopped
	if closed {
		// The connections are cut and the hub is closed: the handlers end
		// at once.
		<-s.sessions.idle()
	}
	return ctx.Err()
}

// servedListener tells when the SSH library has started accepting on it.
type servedListener struct {
	net.Listener
	once      sync.Once
	accepting chan struct{} // closed at the first Accept, or when Serve returns
}

func (l *servedListener) start() { l.once.Do(func() { close(l.accepting) }) }

func (l *servedListener) Accept() (net.Conn, error) {
	l.start()
	return l.Listener.Accept()
}

// Close cuts every connection at once and closes the rooms.
func (s *Server) Close() error {
	s.closing.Store(true)
	return errors.Join(s.ssh.Close(), s.chat.Close())
}

// accept admits a new connection, or refuses it: through the auth banner
// (so the person reads why) and a failed authentication while that is
// cheap, else at once, before the key exchange. It also closes a
// connection that has not opened a session within the login timeout.
func (s *Server) accept(ctx ssh.Context, conn net.Conn) net.Conn {
	release, refused := s.admit.admit(conn.RemoteAddr())
	st := &connState{globals: pace.New(globalRate, globalBurst), opens: pace.New(openRate, openBurst)}
	if refused != nil {
		s.observe.Refused(refused.reason)
		s.log.Info("connection refused", "remote", conn.RemoteAddr(), "reason", refused.reason, "before_handshake", refused.hard)
		if refused.hard {
			// Before its version, a server may send lines of text (RFC
			// 4253 4.2): clients show them when verbose. It costs nothing.
			_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = io.WriteString(conn, "sshchat: "+refused.message+"\r\n")
			return nil // the SSH library closes it
		}
		st.refused = refused.message
		key := conn.RemoteAddr().String()
		s.refusedConns.Store(key, st)
		// connectionFailed takes it out. The library may end ctx before it
		// calls that (a read error cancels it), so ctx's end only makes
		// sure, a while later, that it goes.
		context.AfterFunc(ctx, func() {
			time.AfterFunc(refusedGrace, func() { s.refusedConns.CompareAndDelete(key, st) })
		})
	}
	context.AfterFunc(ctx, release)
	ctx.SetValue(startedKey{}, st)
	timer := time.AfterFunc(s.cfg.LoginTimeout, func() {
		if !st.started.Load() {
			s.log.Info("login timeout", "remote", conn.RemoteAddr())
			s.observe.Refused("login_timeout")
			_ = conn.Close()
		}
	})
	context.AfterFunc(ctx, func() { timer.Stop() })
	st.conn = newHeldConn(&quietDeadlines{Conn: conn})
	return st.conn
}

// auth is how clients authenticate: all of it is here, with publicKey
// and banner below it.
func (s *Server) auth() []ssh.Option {
	return []ssh.Option{
		// Public keys only: the key is the identity. Keyboard-interactive
		// only tells a client without a key how to make one, and refuses it.
		wish.WithPublicKeyAuth(s.publicKey),
		wish.WithKeyboardInteractiveAuth(s.keyless),
		// A refused connection is told why before its authentication fails.
		wish.WithBannerHandler(s.banner),
		// Which signatures a key may be proven with (wish has no option
		// for it).
		func(srv *ssh.Server) error {
			srv.ServerConfigCallback = s.serverConfig
			return nil
		},
	}
}

// publicKey accepts any key the client proves it holds, unless the
// connection was refused: the key is the identity, not a credential.
func (s *Server) publicKey(ctx ssh.Context, _ ssh.PublicKey) bool {
	return stateOf(ctx).refused == ""
}

// keyboard-interactive is offered only to tell a client that came without
// a key what one is and how to make one: one instruction, no question, and
// the answer is always no. Keys stay the only way in.
const keylessNote = `sshchat knows people by their SSH key, and your client offered none.
An SSH key is a pair of files: a private one that stays on your computer,
and a public one that proves who you are without a password. Make one with

    ssh-keygen -t ed25519

(press Enter to accept the defaults), then connect again the same way.`

// keyless tells a client without a key, once per connection, how to
// make one; it never lets it in.
func (s *Server) keyless(ctx ssh.Context, challenge gossh.KeyboardInteractiveChallenge) bool {
	if st := stateOf(ctx); st.refused == "" && st.toldKeyless.CompareAndSwap(false, true) {
		s.log.Info("client without a key told how to make one", "remote", ctx.RemoteAddr())
		_, _ = challenge("", keylessNote, nil, nil)
	}
	return false
}

// keyAlgorithms are the signatures a key may be proven with: Ed25519,
// ECDSA (and their security-key forms) and RSA with SHA-2. Not ssh-rsa:
// its signatures use SHA-1, which OpenSSH itself refuses by default.
func keyAlgorithms() []string {
	return []string{
		gossh.KeyAlgoED25519, gossh.KeyAlgoSKED25519,
		gossh.KeyAlgoECDSA256, gossh.KeyAlgoECDSA384, gossh.KeyAlgoECDSA521, gossh.KeyAlgoSKECDSA256,
		gossh.KeyAlgoRSASHA512, gossh.KeyAlgoRSASHA256,
	}
}

// serverConfig is the SSH configuration of a connection, before the
// library adds its handlers.
func (s *Server) serverConfig(ssh.Context) *gossh.ServerConfig {
	return &gossh.ServerConfig{PublicKeyAuthAlgorithms: keyAlgorithms(), AuthLogCallback: s.authLog}
}

// authLog says in the server log why a key signed with ssh-rsa was refused:
// the client only hears that the key did not do.
func (s *Server) authLog(conn gossh.ConnMetadata, method string, err error) {
	if method == "publickey" && err != nil && strings.Contains(err.Error(), strconv.Quote(gossh.KeyAlgoRSA)) {
		s.log.Info("key refused", "remote", conn.RemoteAddr(), "user", conn.User(),
			"reason", "ssh-rsa signatures (SHA-1) are not accepted: sign with rsa-sha2-256 or rsa-sha2-512 (OpenSSH 7.2 and later do), or use an ed25519 key")
	}
}

// banner tells a refused client why, before its authentication fails.
func (s *Server) banner(ctx ssh.Context) string {
	if r := stateOf(ctx).refused; r != "" {
		return "sshchat: " + r + "\n"
	}
	return ""
}

func stateOf(ctx ssh.Context) *connState {
	if st, ok := ctx.Value(startedKey{}).(*connState); ok {
		return st
	}
	return &connState{}
}

// connectionFailed counts a handshake that did not complete.
func (s *Server) connectionFailed(conn net.Conn, err error) {
	if _, refused := s.refusedConns.LoadAndDelete(conn.RemoteAddr().String()); refused {
		return // counted when it was refused
	}
	var authErr *gossh.ServerAuthError
	if errors.As(err, &authErr) {
		s.observe.AuthFailed()
	} else {
		s.observe.Refused("handshake")
	}
	s.log.Debug("connection failed", "remote", conn.RemoteAddr(), "err", err)
}

// refusedGrace is how long a refused connection is remembered after it
// ended, for connectionFailed to find it.
const refusedGrace = 10 * time.Second

type startedKey struct{}

// connState is what the server keeps about one connection.
type connState struct {
	refused     string       // why the connection is turned away; set before the handshake
	toldKeyless atomic.Bool  // a client without a key has been told how to make one
	started     atomic.Bool  // a session has been opened
	channels    atomic.Int32 // sessions opened so far
	open        atomic.Int32 // session channels open now
	globals     *pace.Pace   // of the global requests: see refuseGlobal
	opens       *pace.Pace   // of the session channels opened: see sessionChannel
	conn        *heldConn    // nil until accepted
}

// Session channels are opened at openRate a second per connection, past
// bursts of openBurst: a script running a command a second over one
// connection (OpenSSH's ControlMaster) is far below it. Each one starts a
// session, about a quarter of a millisecond of the server's CPU: a client
// that opened and closed them as fast as it could kept the core busy.
const (
	openRate  = 10
	openBurst = 20
)

// Global requests (of no channel: keepalive@openssh.com, tcpip-forward,
// …) are taken at globalRate a second per connection, past bursts of
// globalBurst. A client asks one every keepalive interval; one that sent
// them as fast as it could kept the core busy answering them.
const (
	globalRate  = 10
	globalBurst = 20
)

// refuseGlobal answers a global request no, as the library does when
// nothing handles it (the chat forwards no ports), but at the
// connection's pace: the library's loop calls it for one request after
// the other, and while it waits the connection is not read.
func refuseGlobal(ctx ssh.Context, _ *ssh.Server, _ *gossh.Request) (bool, []byte) {
	if p := stateOf(ctx).globals; p != nil {
		p.Wait()
	}
	return false, nil
}

// tracker counts open sessions; unlike a WaitGroup it may be waited on
// while sessions still start.
type tracker struct {
	mu    sync.Mutex
	n     int
	zero  chan struct{} // closed when n drops to 0; nil while nobody waits
	count atomic.Int64  // n, read without the lock: every pump reads it for every frame
}

func (t *tracker) add() {
	t.mu.Lock()
	t.n++
	t.count.Store(int64(t.n))
	t.mu.Unlock()
}

func (t *tracker) done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n--
	t.count.Store(int64(t.n))
	if t.n == 0 && t.zero != nil {
		close(t.zero)
		t.zero = nil
	}
}

// idle returns a channel closed when no session is open.
func (t *tracker) idle() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	if t.zero == nil {
		t.zero = make(chan struct{})
	}
	return t.zero
}

// markStarted tells accept that the connection has opened a session.
func markStarted(ctx ssh.Context) { stateOf(ctx).started.Store(true) }
