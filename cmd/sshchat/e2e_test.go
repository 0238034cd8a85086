package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	"go.uber.org/goleak"
	"golang.org/x/crypto/ssh"

	"github.com/sshchat/sshchat/history"
	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/internal/vtanswers"
)

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) != "" {
		main() // a server process started by a signal test
		return
	}
	goleak.VerifyTestMain(m)
}

// wait bounds every wait for the server or a screen.
const wait = 30 * time.Second

var testLogOut io.Writer = io.Discard

// testServer is the real server, wired as main wires it, on 127.0.0.1:0.
type testServer struct {
	t    *testing.T
	cfg  config
	app  *app
	addr string
	down bool
}

func startServer(t *testing.T, data string, opts ...func(*config)) *testServer {
	t.Helper()
	return startServerLog(t, data, testLogOut, opts...)
}

// startServerLog is startServer with the server log written to logOut.
func startServerLog(t *testing.T, data string, logOut io.Writer, opts ...func(*config)) *testServer {
	t.Helper()
	cfg := config{
		Addr:            "127.0.0.1:0",
		Data:            data,
		Room:            "lobby",
		History:         1024,
		LogFormat:       "text",
		LogLevel:        "warn",
		ShutdownTimeout: 2 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	// t.TempDir makes directories others may read; the server refuses them.
	if err := os.Chmod(data, 0o700); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	a, err := start(cfg, slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	s := &testServer{t: t, cfg: cfg, app: a, addr: a.addr.String()}
	t.Cleanup(s.stop)
	return s
}

func (s *testServer) stop() {
	if s.down {
		return
	}
	s.down = true
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.app.shutdown(ctx); err != nil {
		s.t.Errorf("shutdown: %v", err)
	}
}

// events reads the server's event log.
func (s *testServer) events() []hub.Event {
	s.t.Helper()
	f, err := os.Open(filepath.Join(s.cfg.Data, "events.log"))
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	var evs []hub.Event
	for rec, err := range history.Scan(f, history.Filter{}) {
		if err != nil {
			s.t.Fatalf("log: %v", err)
		}
		evs = append(evs, rec.Event)
	}
	return evs
}

// client is a person at a terminal: an SSH session with a PTY whose output
// goes through a terminal emulator.
type client struct {
	t       *testing.T
	name    string
	conn    *ssh.Client
	sess    *ssh.Session
	stdin   io.Writer     // typed text and the emulator's answers, one write at a time
	changed chan struct{} // a token whenever the screen changed
	done    chan struct{} // closed when the output stream ended

	mu     sync.Mutex
	term   *vt.Emulator // guarded by mu
	titles []string     // guarded by mu: every title the server tried to set
}

func newKey(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

func clientConfig(user string, auth ...ssh.AuthMethod) *ssh.ClientConfig {
	return &ssh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         wait,
	}
}

// connect opens an interactive session of user with key at width×height.
func (s *testServer) connect(user string, key ssh.Signer, width, height int) *client {
	s.t.Helper()
	conn, err := ssh.Dial("tcp", s.addr, clientConfig(user, ssh.PublicKeys(key)))
	if err != nil {
		s.t.Fatalf("dial as %s: %v", user, err)
	}
	return s.open(conn, user, width, height)
}

func (s *testServer) open(conn *ssh.Client, name string, width, height int) *client {
	s.t.Helper()
	return s.openCmd(conn, name, width, height, "")
}

// openCmd opens a session with a PTY on conn that runs command, or the
// shell when command is "".
func (s *testServer) openCmd(conn *ssh.Client, name string, width, height int, command string) *client {
	t := s.t
	t.Helper()
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	if err := sess.RequestPty("xterm-256color", height, width, ssh.TerminalModes{}); err != nil {
		t.Fatalf("pty: %v", err)
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &client{
		t: t, name: name, conn: conn, sess: sess, stdin: &lockedWriter{w: stdin},
		changed: make(chan struct{}, 1),
		done:    make(chan struct{}),
		term:    vt.NewEmulator(width, height),
	}
	c.term.SetCallbacks(vt.Callbacks{Title: func(title string) { c.titles = append(c.titles, title) }})
	// The emulator answers terminal queries on its input side, as a real
	// terminal would: pass the answers on to the server.
	go vtanswers.Pass(c.stdin, c.term)
	go c.readScreen(stdout)
	if command == "" {
		err = sess.Shell()
	} else {
		err = sess.Start(command)
	}
	if err != nil {
		t.Fatalf("shell or %q: %v", command, err)
	}
	t.Cleanup(c.close)
	return c
}

func (c *client) readScreen(stdout io.Reader) {
	defer close(c.done)
	buf := make([]byte, 32<<10)
	for {
		n, err := stdout.Read(buf)
		if n > 0 {
			c.mu.Lock()
			_, _ = c.term.Write(buf[:n])
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
}

// screen is what the person sees now, as plain text.
func (c *client) screen() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.term.String()
}

// waitFor waits until the screen satisfies ok, or fails the test.
func (c *client) waitFor(what string, ok func(screen string) bool) string {
	c.t.Helper()
	deadline := time.After(wait)
	for {
		scr := c.screen()
		if ok(scr) {
			return scr
		}
		select {
		case <-c.changed:
		case <-c.done:
			if scr := c.screen(); ok(scr) {
				return scr
			}
			c.t.Fatalf("%s: output ended before %s; screen:\n%s", c.name, what, c.screen())
		case <-deadline:
			c.t.Fatalf("%s: no %s within %v; screen:\n%s", c.name, what, wait, scr)
		}
	}
}

func (c *client) waitText(text string) string {
	c.t.Helper()
	return c.waitFor(strconv.Quote(text), func(s string) bool { return strings.Contains(s, text) })
}

// waitJoined waits until every one of names is in the room as this
// screen shows it: named by an arrival line or listed as a member. Under
// load arrivals gather into one line in any order ("⇢ boss, carol and bob
// joined"), so no one wording is waited for.
func (c *client) waitJoined(names ...string) string {
	c.t.Helper()
	return c.waitFor(strings.Join(names, ", ")+" joined", func(scr string) bool {
		for _, n := range names {
			if !crowdNames(scr, "⇢ ", " joined", n) && !listed(scr, n) {
				return false
			}
		}
		return true
	})
}

// waitLeft waits until every one of names has left: named by a departure
// line and no longer listed as a member.
func (c *client) waitLeft(names ...string) string {
	c.t.Helper()
	return c.waitFor(strings.Join(names, ", ")+" left", func(scr string) bool {
		for _, n := range names {
			if !crowdNames(scr, "⇠ ", " left", n) || listed(scr, n) {
				return false
			}
		}
		return true
	})
}

// crowdNames reports whether a line of screen from arrow to verb, such as
// "⇢ ann, bob and 2 others joined", names name.
func crowdNames(screen, arrow, verb, name string) bool {
	for line := range strings.SplitSeq(screen, "\n") {
		_, rest, ok := strings.Cut(line, arrow)
		if !ok {
			continue
		}
		names, _, ok := strings.Cut(rest, verb)
		if !ok {
			continue
		}
		for n := range strings.SplitSeq(strings.ReplaceAll(names, " and ", ", "), ", ") {
			if n == name {
				return true
			}
		}
	}
	return false
}

// listed reports whether the member list at the right of screen (shown
// from 100 columns) lists name: "╎ name", maybe with " x2" or " (away)".
func listed(screen, name string) bool {
	for line := range strings.SplitSeq(screen, "\n") {
		i := strings.LastIndex(line, "╎ ")
		if i < 0 {
			continue
		}
		entry := strings.TrimSpace(line[i+len("╎ "):])
		if entry == name || strings.HasPrefix(entry, name+" (away)") {
			return true
		}
		if count, ok := strings.CutPrefix(entry, name+" x"); ok && count != "" && strings.Trim(count[:1], "0123456789") == "" {
			return true
		}
	}
	return false
}

func (c *client) typeText(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.stdin, s); err != nil {
		c.t.Fatalf("%s: type: %v", c.name, err)
	}
}

func (c *client) say(text string) { c.t.Helper(); c.typeText(text + "\r") }

func (c *client) resize(width, height int) {
	c.t.Helper()
	c.mu.Lock()
	c.term.Resize(width, height)
	c.mu.Unlock()
	if err := c.sess.WindowChange(height, width); err != nil {
		c.t.Fatalf("window change: %v", err)
	}
}

// close ends the session and the connection, like closing the terminal.
func (c *client) close() {
	_ = c.sess.Close()
	_ = c.conn.Close()
	<-c.done
	// Ends the goroutine that passes the emulator's answers on. (Closing the
	// emulator itself would race with that goroutine's Read.)
	_ = c.term.InputPipe().(io.Closer).Close()
}

func TestTwoUsersChat(t *testing.T) {
	s := startServer(t, t.TempDir())
	alice := s.connect("alice", newKey(t), 100, 30)
	alice.waitText("#lobby")
	bob := s.connect("bob", newKey(t), 100, 30)
	alice.waitJoined("bob")

	alice.say("hello bob")
	bob.waitText("alice: hello bob")
	bob.say("hi alice")
	alice.waitText("bob: hi alice")
	alice.waitText("alice: hello bob") // one's own message comes back too
}

func TestOneUserManySessions(t *testing.T) {
	s := startServer(t, t.TempDir())
	carol := s.connect("carol", newKey(t), 100, 30)
	carol.waitText("#lobby")
	key := newKey(t)
	laptop := s.connect("alice", key, 100, 30)
	carol.waitJoined("alice")
	phone := s.connect("alice", key, 80, 24)
	carol.waitText("alice +1 session")
	phone.say("from the phone")
	laptop.waitText("alice: from the phone")
	phone.close()
	carol.waitText("alice -1 session")
	laptop.close()
	carol.waitLeft("alice")

	s.stop()
	var got []string
	for _, ev := range s.events() {
		if ev.Name == "alice" && ev.Type != hub.EventTypeMessage {
			got = append(got, ev.Type)
		}
	}
	want := []string{"join", "add", "remove", "leave"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("alice's events in the log = %v, want %v", got, want)
	}
}

func TestDroppedConnection(t *testing.T) {
	s := startServer(t, t.TempDir())
	bob := s.connect("bob", newKey(t), 100, 30)
	bob.waitText("#lobby")

	// Dial through a connection the test can cut without any SSH goodbye.
	raw, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	sc, chans, reqs, err := ssh.NewClientConn(raw, s.addr, clientConfig("dave", ssh.PublicKeys(newKey(t))))
	if err != nil {
		t.Fatal(err)
	}
	dave := s.open(ssh.NewClient(sc, chans, reqs), "dave", 100, 30)
	dave.waitText("#lobby")
	bob.waitJoined("dave")
	_ = raw.Close()
	bob.waitLeft("dave")
}

func TestResizeReflows(t *testing.T) {
	s := startServer(t, t.TempDir())
	erin := s.connect("erin", newKey(t), 120, 30)
	erin.waitText("#lobby")
	long := strings.Repeat("word ", 30)
	erin.say(long + "end")
	erin.waitText("end")
	erin.resize(50, 20)
	scr := erin.waitFor("a reflowed screen", func(scr string) bool {
		return strings.Contains(scr, "end") && widest(scr) <= 50
	})
	if lines := strings.Count(scr, "word"); lines < 30 {
		t.Errorf("after resize %d words are visible, want all 30:\n%s", lines, scr)
	}
}

func widest(screen string) int {
	w := 0
	for line := range strings.SplitSeq(screen, "\n") {
		w = max(w, ansi.StringWidth(strings.TrimRight(line, " ")))
	}
	return w
}

func TestShutdownShowsCloseAndLogEndsWithIt(t *testing.T) {
	s := startServer(t, t.TempDir())
	clients := []*client{s.connect("alice", newKey(t), 100, 30), s.connect("bob", newKey(t), 80, 24)}
	for _, c := range clients {
		c.waitText("#lobby")
	}
	s.stop()
	for _, c := range clients {
		c.waitText("server is shutting down")
		select {
		case <-c.done:
		case <-time.After(wait):
			t.Fatalf("%s: connection still open after shutdown", c.name)
		}
	}
	evs := s.events()
	if last := evs[len(evs)-1]; last.Type != hub.EventTypeClose {
		t.Errorf("log ends with %+v, want close", last)
	}
}

func TestRestartKeepsHistoryAndIDs(t *testing.T) {
	data := t.TempDir()
	first := startServer(t, data)
	alice := first.connect("alice", newKey(t), 100, 30)
	alice.say("remember me")
	alice.waitText("alice: remember me")
	first.stop()
	lastBefore := first.events()[len(first.events())-1].ID

	second := startServer(t, data)
	bob := second.connect("bob", newKey(t), 100, 30)
	bob.waitText("alice: remember me")
	bob.say("new day")
	bob.waitText("bob: new day")
	second.stop()
	evs := second.events()
	for i := 1; i < len(evs); i++ {
		if evs[i].ID != evs[i-1].ID+1 {
			t.Fatalf("IDs not continuous across the restart: %d then %d", evs[i-1].ID, evs[i].ID)
		}
	}
	if evs[len(evs)-1].ID <= lastBefore {
		t.Errorf("IDs did not continue: last before %d, last after %d", lastBefore, evs[len(evs)-1].ID)
	}
}

func TestKeylessClientRefused(t *testing.T) {
	s := startServer(t, t.TempDir())
	for name, auth := range map[string][]ssh.AuthMethod{
		"none":     nil,
		"password": {ssh.Password("hunter2")},
		"keyboard": {ssh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return nil, nil })},
	} {
		conn, err := ssh.Dial("tcp", s.addr, clientConfig("mallory", auth...))
		if err == nil {
			conn.Close()
			t.Errorf("%s: a client without a key was let in", name)
		}
	}
}

// unprovenSigner offers a public key it does not hold: every signature it
// makes is garbage.
type unprovenSigner struct{ pub ssh.PublicKey }

func (u unprovenSigner) PublicKey() ssh.PublicKey { return u.pub }
func (u unprovenSigner) Sign(io.Reader, []byte) (*ssh.Signature, error) {
	return &ssh.Signature{Format: u.pub.Type(), Blob: bytes.Repeat([]byte{1}, 64)}, nil
}

func TestOfferedKeyIsNotIdentity(t *testing.T) {
	s := startServer(t, t.TempDir())
	victim := newKey(t)
	own := newKey(t)
	victimID := ssh.FingerprintSHA256(victim.PublicKey())

	// Offering the victim's key is accepted as a query; failing to sign
	// with it must not make the client the victim, whatever follows.
	if conn, err := ssh.Dial("tcp", s.addr, clientConfig("victim",
		ssh.PublicKeys(unprovenSigner{victim.PublicKey()}, own))); err == nil {
		c := s.open(conn, "mallory", 100, 30)
		c.waitText("#lobby")
		c.close()
	}
	// The same client with its own key alone is itself.
	c := s.connect("mallory", own, 100, 30)
	c.waitText("#lobby")
	c.close()

	s.stop()
	joined := false
	for _, ev := range s.events() {
		if ev.UserID == victimID {
			t.Fatalf("an event carries the offered, unproven key's identity: %+v", ev)
		}
		joined = joined || ev.Type == hub.EventTypeJoin && ev.UserID == ssh.FingerprintSHA256(own.PublicKey())
	}
	if !joined {
		t.Error("the client never joined with its own key")
	}
}

func TestPastedEscapeSequenceIsDefused(t *testing.T) {
	s := startServer(t, t.TempDir())
	alice := s.connect("alice", newKey(t), 100, 30)
	bob := s.connect("bob", newKey(t), 100, 30)
	alice.waitJoined("bob")
	// A bracketed paste, as a terminal sends it, with an OSC retitle and a
	// clear-screen inside.
	alice.typeText("\x1b[200~\x1b]0;pwned\x07hi there\x1b[2J\x1b[201~\r")
	scr := bob.waitText("hi there")
	if strings.Contains(scr, "]0;") || strings.Contains(scr, "pwned") {
		t.Errorf("the escape sequence reached bob's screen as text:\n%s", scr)
	}
	bob.mu.Lock()
	defer bob.mu.Unlock()
	for _, title := range bob.titles {
		if strings.Contains(title, "pwned") {
			t.Errorf("bob's terminal was retitled to %q", title)
		}
	}
}

func TestNoPTY(t *testing.T) {
	s := startServer(t, t.TempDir())
	_, stderr, status := s.runCmd("bot", newKey(t), "", "")
	if status != 1 {
		t.Errorf("exit status %d, want 1", status)
	}
	if !strings.Contains(stderr, "needs an interactive terminal") {
		t.Errorf("stderr = %q, want the interactive-terminal notice", stderr)
	}
}

func TestConnectCyclesLeaveNoGoroutines(t *testing.T) {
	s := startServer(t, t.TempDir(), func(c *config) { c.Server.NewConnsPerIPMin = 1 << 20 })
	watcher := s.connect("watcher", newKey(t), 100, 30)
	// The first screen is drawn before the program starts reading input
	// and running commands: a message typed, posted and shown proves the
	// watcher's goroutines are all up before the baseline is taken.
	watcher.say("watching")
	watcher.waitText("watcher: watching")
	baseline := goleak.IgnoreCurrent()
	key := newKey(t)
	for i := range 200 {
		c := s.connect("cycler", key, 80, 24)
		if i%20 == 0 {
			c.waitText("#lobby")
		}
		c.close()
	}
	// Sessions end asynchronously after the client hangs up: look again
	// until they have (Find itself retries for a moment each time).
	deadline := time.Now().Add(wait)
	for err := goleak.Find(baseline); err != nil; err = goleak.Find(baseline) {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left after 200 sessions: %v", err)
		}
	}
	watcher.say("still here")
	watcher.waitText("watcher: still here")
}

func TestPortInUseLeavesDataAlone(t *testing.T) {
	s := startServer(t, t.TempDir())
	data := t.TempDir()
	cfg := s.cfg
	cfg.Addr, cfg.Data = s.addr, data
	if _, err := start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
		t.Fatal("a second server started on a port in use")
	}
	if entries, _ := os.ReadDir(data); len(entries) != 0 {
		t.Errorf("a failed start wrote to the data directory: %v", entries)
	}
}

func TestShutdownRightAfterStart(t *testing.T) {
	// A stop that comes before the server has started accepting must not
	// race with the start (the race detector sees it when it does).
	for range 50 {
		startServer(t, t.TempDir()).stop()
	}
}

// lockedWriter makes the writes of several goroutines (the person typing,
// the emulator answering the terminal's queries) one at a time: an SSH
// channel's Write is not safe for concurrent use.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
