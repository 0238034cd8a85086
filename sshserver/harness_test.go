package sshserver

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"

	"github.com/sshchat/sshchat/chat"
	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/internal/vtanswers"
	"github.com/sshchat/sshchat/registry"
)

// wait bounds every wait for the server or a screen.
const wait = 10 * time.Second

// testServer is a Server with its rooms in memory on 127.0.0.1:0, for
// tests that go through SSH.
type testServer struct {
	t      *testing.T
	srv    *Server
	hub    *hub.Hub // the lobby's
	direct *hub.Hub // the direct messages'
	reg    *registry.Registry
	addr   string

	mu   sync.Mutex
	hubs map[string]*hub.Hub // guarded by mu: every room's, by ID
}

func startTestServer(t *testing.T, opts ...Option) *testServer {
	t.Helper()
	reg, err := registry.Open("")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{t: t, reg: reg, hubs: map[string]*hub.Hub{}}
	open := func(id string) (chat.Room, error) {
		var h *hub.Hub
		// The streams the server gives sessions (cmd/sshchat does the same).
		if id == chat.DirectID {
			h = hub.New(id, 64, 256, hub.WithoutPresence(), hub.WithSubscriberBuffer(chat.DirectBuffer))
		} else {
			h = hub.New(id, 64, 256, hub.WithSubscriberBuffer(chat.RoomBuffer))
		}
		ts.mu.Lock()
		defer ts.mu.Unlock()
		ts.hubs[id] = h
		return h, nil
	}
	opts = append([]Option{WithRegistry(reg), WithConfig(Config{MessageBurst: 1000, MessageRate: 1000, ConnsPerIP: 1000, NewConnsPerIPMin: 100000})}, opts...)
	srv, err := New(Rooms{Lobby: "lobby", Open: open}, []gossh.Signer{newSigner(t)}, slog.New(slog.DiscardHandler), opts...)
	if err != nil {
		t.Fatal(err)
	}
	ts.srv, ts.hub, ts.direct = srv, ts.room("lobby"), ts.room(chat.DirectID)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	ts.addr = ln.Addr().String()
	return ts
}

// room is the hub of room id, or nil.
func (s *testServer) room(id string) *hub.Hub {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hubs[id]
}

func newSigner(t *testing.T) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

func fingerprint(key gossh.Signer) string { return gossh.FingerprintSHA256(key.PublicKey()) }

func (s *testServer) dial(user string, key gossh.Signer) *gossh.Client {
	s.t.Helper()
	conn, err := gossh.Dial("tcp", s.addr, &gossh.ClientConfig{
		User:            user,
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(key)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		Timeout:         wait,
	})
	if err != nil {
		s.t.Fatalf("dial as %s: %v", user, err)
	}
	s.t.Cleanup(func() { conn.Close() })
	return conn
}

// run runs a command as a script would, and returns what it printed.
func (s *testServer) run(user string, key gossh.Signer, cmd string) (stdout, stderr string, status int) {
	s.t.Helper()
	return s.session(user, key, cmd, false)
}

// session opens a session on a connection of its own, runs cmd in it (a
// shell when cmd is ""), with a PTY or without, and returns what it
// printed and its exit status.
func (s *testServer) session(user string, key gossh.Signer, cmd string, pty bool) (stdout, stderr string, status int) {
	s.t.Helper()
	conn := s.dial(user, key)
	defer conn.Close()
	sess, err := conn.NewSession()
	if err != nil {
		s.t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	sess.Stdout, sess.Stderr = &out, &errOut
	if pty {
		if err := sess.RequestPty("xterm", 24, 80, gossh.TerminalModes{}); err != nil {
			s.t.Fatal(err)
		}
	}
	if cmd == "" {
		err = sess.Shell()
		if err == nil {
			err = sess.Wait()
		}
	} else {
		err = sess.Run(cmd)
	}
	var exit *gossh.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		status = exit.ExitStatus()
	default:
		s.t.Fatalf("session of %s running %q: %v", user, cmd, err)
	}
	return out.String(), errOut.String(), status
}

// stream is a command whose output goes on (tail): lines as they come.
type stream struct {
	t     *testing.T
	conn  *gossh.Client
	lines chan string
	all   strings.Builder // guarded by the reader until lines closes
}

func (s *testServer) start(user string, key gossh.Signer, cmd string) *stream {
	s.t.Helper()
	conn := s.dial(user, key)
	sess, err := conn.NewSession()
	if err != nil {
		s.t.Fatal(err)
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := sess.Start(cmd); err != nil {
		s.t.Fatal(err)
	}
	st := &stream{t: s.t, conn: conn, lines: make(chan string, 1024)}
	go func() {
		defer close(st.lines)
		buf := make([]byte, 0, 4096)
		chunk := make([]byte, 4096)
		for {
			n, err := out.Read(chunk)
			buf = append(buf, chunk[:n]...)
			for {
				i := bytes.IndexByte(buf, '\n')
				if i < 0 {
					break
				}
				st.lines <- string(buf[:i])
				buf = buf[i+1:]
			}
			if err != nil {
				return
			}
		}
	}()
	s.t.Cleanup(func() { conn.Close() })
	return st
}

// until reads lines until one contains text, and returns all read so far.
func (st *stream) until(text string) string {
	st.t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case line, ok := <-st.lines:
			if !ok {
				st.t.Fatalf("output ended before %q; got:\n%s", text, st.all.String())
			}
			st.all.WriteString(line + "\n")
			if strings.Contains(line, text) {
				return st.all.String()
			}
		case <-deadline:
			st.t.Fatalf("no %q within %v; got:\n%s", text, wait, st.all.String())
		}
	}
}

// screen is an interactive session seen through a terminal emulator. It
// also keeps every byte received, so that a line that scrolled away is
// still searched.
type screen struct {
	t       *testing.T
	name    string
	conn    *gossh.Client
	sess    *gossh.Session
	stdin   io.WriteCloser
	changed chan struct{}
	done    chan struct{}

	mu   sync.Mutex
	term *vt.Emulator // guarded by mu
	raw  bytes.Buffer // guarded by mu
}

func (s *testServer) connect(user string, key gossh.Signer) *screen {
	s.t.Helper()
	const width, height = 120, 60
	conn := s.dial(user, key)
	sess, err := conn.NewSession()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", height, width, gossh.TerminalModes{}); err != nil {
		s.t.Fatal(err)
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	c := &screen{t: s.t, name: user, conn: conn, sess: sess, stdin: stdin,
		changed: make(chan struct{}, 1), done: make(chan struct{}), term: vt.NewEmulator(width, height)}
	go vtanswers.Pass(stdin, c.term)
	go func() {
		defer close(c.done)
		buf := make([]byte, 32<<10)
		for {
			n, err := stdout.Read(buf)
			if n > 0 {
				c.mu.Lock()
				_, _ = c.term.Write(buf[:n])
				c.raw.Write(buf[:n])
				c.mu.Unlock()
				select {
				case c.changed <- struct{}{}:
				default:
				}
			}
			if err != nil {
				return
			}
		}
	}()
	if err := sess.Shell(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(c.close)
	return c
}

// text is the screen now, and every byte received so far.
func (c *screen) text() (now, raw string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.term.String(), c.raw.String()
}

func (c *screen) waitText(text string) string {
	c.t.Helper()
	deadline := time.After(wait)
	for {
		scr, _ := c.text()
		if strings.Contains(scr, text) {
			return scr
		}
		select {
		case <-c.changed:
		case <-c.done:
			c.t.Fatalf("%s: output ended before %q; screen:\n%s", c.name, text, scr)
		case <-deadline:
			c.t.Fatalf("%s: no %s within %v; screen:\n%s", c.name, strconv.Quote(text), wait, scr)
		}
	}
}

func (c *screen) close() {
	_ = c.sess.Close()
	_ = c.conn.Close()
	<-c.done
	_ = c.term.InputPipe().(io.Closer).Close()
}

// online is the key of the user online under name.
func (s *testServer) online(name string) (userID string, ok bool) {
	all, _ := s.srv.chat.Members(s.srv.chat.Lobby(), math.MaxInt)
	for _, m := range all {
		if strings.EqualFold(m.Name, name) {
			return m.UserID, true
		}
	}
	return "", false
}

// chat runs a slash command as name, who has a screen open, from a
// session of its own that ends with the command.
func (s *testServer) chat(name, command, args string) (string, error) {
	s.t.Helper()
	userID, ok := s.online(name)
	if !ok {
		s.t.Fatalf("%s is not online", name)
	}
	seat, _, err := s.srv.chat.Arrive(userID, name, newChatSession("harness-"+name, "192.0.2.1:1", newStreams(userID, nil)))
	if err != nil {
		s.t.Fatal(err)
	}
	defer seat.Leave()
	return seat.Run(s.srv.chat.Lobby(), command, args)
}

// waitOffline waits until nobody online goes by name.
func (s *testServer) waitOffline(name string) {
	s.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		if _, ok := s.online(name); !ok {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s still online after %v", name, wait)
		}
		time.Sleep(time.Millisecond) // polling a condition, with a deadline
	}
}
