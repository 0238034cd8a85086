package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// session is one simulated person: an SSH connection with a PTY whose
// screen is scanned for message tokens.
type session struct {
	r      *run
	idx    int
	name   string
	client *ssh.Client
	sess   *ssh.Session // set before the session is shared
	stdin  io.Writer
	ready  chan struct{} // closed when the first screen arrived
	done   chan struct{} // closed when the output stream ended
	verify *verifier     // nil but for the checked session
	// reading is set, before the session is shared, once its reader runs.
	reading bool

	readyAt    atomic.Int64           // run clock: the first screen; 0 before
	endAt      atomic.Int64           // run clock: the stream ended; 0 before
	shutdownAt atomic.Int64           // run clock: "shutting down" first seen; 0 before
	dropped    atomic.Bool            // ended, or said it ended, while the run was on
	departed   atomic.Bool            // the tool disconnected it in a mass departure
	said       atomic.Pointer[string] // the words on the screen that said so
	throttled  atomic.Bool            // the screen said to slow down

	// Owned by the reader goroutine until done is closed.
	seen      []uint64 // bit i: message i was seen
	now       int64    // run clock of the read being scanned
	delivered int64
	bytesRead int64
	onToken   func(token)

	stderrMu sync.Mutex
	stderr   []byte // what the server wrote on stderr, the first bytes
}

// maxStderr bounds how much of a session's stderr is kept.
const maxStderr = 256

func newSession(r *run, idx int) *session {
	s := &session{
		r: r, idx: idx,
		name:  fmt.Sprintf("load%05d", idx),
		ready: make(chan struct{}),
		done:  make(chan struct{}),
		seen:  make([]uint64, (r.messages+63)/64),
	}
	s.onToken = s.token
	return s
}

// newSigner makes a fresh ed25519 identity.
func newSigner() (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	return signer, nil
}

// open dials the server, starts the interactive session and waits for the
// first screen. On an error everything it opened is closed again.
func (s *session) open(ctx context.Context) error {
	cfg := s.r.cfg
	deadline := time.Now().Add(cfg.ConnectTimeout)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	signer, err := newSigner()
	if err != nil {
		return err
	}
	var banner string
	d := net.Dialer{LocalAddr: cfg.sourceAddr(s.idx)}
	addr := cfg.addr(s.idx)
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	_ = conn.SetDeadline(deadline) // bounds the handshake
	cc, chans, reqs, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{
		User:            s.name,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), // a local test server
		BannerCallback:  func(msg string) error { banner = msg; return nil },
		Timeout:         cfg.ConnectTimeout,
	})
	if err != nil {
		_ = conn.Close()
		if banner != "" { // a refused connection says why in the banner
			return fmt.Errorf("ssh handshake: %w (banner: %q)", err, strings.TrimSpace(banner))
		}
		return fmt.Errorf("ssh handshake: %w", err)
	}
	s.client = ssh.NewClient(cc, chans, reqs)
	if err := s.start(ctx); err != nil {
		s.close()
		return err
	}
	_ = conn.SetDeadline(time.Time{})
	return nil
}

// start opens the session with a PTY and the shell, starts reading the
// screen and waits for its first text.
func (s *session) start(ctx context.Context) error {
	cfg := s.r.cfg
	sess, err := s.client.NewSession()
	if err != nil {
		return fmt.Errorf("new session: %w", err)
	}
	if err := sess.RequestPty("xterm-256color", cfg.Height, cfg.Width, ssh.TerminalModes{}); err != nil {
		return fmt.Errorf("request pty: %w", err)
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		return fmt.Errorf("stdin: %w", err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		return fmt.Errorf("stdout: %w", err)
	}
	sess.Stderr = stderrWriter{s}
	s.sess, s.stdin = sess, stdin
	s.r.open.Add(1)
	s.reading = true
	go s.read(stdout)
	if cfg.Rooms > 0 {
		// With a PTY, a room's name as the command opens the chat there.
		if err := sess.Start(fmt.Sprintf("#r%d", cfg.room(s.idx))); err != nil {
			return fmt.Errorf("start in a room: %w", err)
		}
	} else if err := sess.Shell(); err != nil {
		return fmt.Errorf("shell: %w", err)
	}
	select {
	case <-s.ready:
		return nil
	case <-s.done:
		return fmt.Errorf("output ended before the first screen%s", s.stderrNote())
	case <-ctx.Done():
		return fmt.Errorf("no first screen: %w", ctx.Err())
	}
}

// close cuts the connection and waits, a bounded time, for the reader.
func (s *session) close() {
	if s.client != nil {
		_ = s.client.Close()
	}
	if !s.reading {
		return
	}
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
}

// xtermAnswers is what xterm answers to the server's questions about
// modes: it does not know mode 2027, and has left and right margins
// (mode 69), off.
const (
	modeQuestion = "\x1b[?69$p"
	xtermAnswers = "\x1b[?2027;0$y\x1b[?69;2$y"
)

// read scans the screen until the stream ends.
func (s *session) read(stdout io.Reader) {
	defer s.end()
	sc := newScreenScanner()
	buf := make([]byte, 8<<10)
	due := s.r.cfg.AnswerModes // the answers about modes
	for {
		n, err := stdout.Read(buf)
		if due && s.answerModes(buf[:n]) {
			due = false
		}
		if n > 0 {
			s.scan(sc, buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// answerModes answers the question about modes if p, output read, holds
// it, and reports whether it did. The question comes with the first
// screen, before anything else writes to stdin.
func (s *session) answerModes(p []byte) bool {
	if !bytes.Contains(p, []byte(modeQuestion)) {
		return false
	}
	if _, err := io.WriteString(s.stdin, xtermAnswers); err != nil {
		s.r.notef("session %d: answer the modes: %v", s.idx, err)
	}
	return true
}

// scan takes one read of the screen.
func (s *session) scan(sc *screenScanner, p []byte) {
	s.now = s.r.clock()
	s.bytesRead += int64(len(p))
	if s.verify != nil {
		s.verify.write(p)
	}
	res := sc.scan(p, s.onToken)
	if res.text && s.readyAt.Load() == 0 {
		s.readyAt.Store(s.now)
		s.r.alive.Add(1)
		s.r.aliveIn[s.r.cfg.room(s.idx)].Add(1)
		close(s.ready)
	}
	if res.shutdown {
		s.shutdownAt.CompareAndSwap(0, s.now)
		s.r.sawShutdown(s.now)
	}
	if res.throttled {
		s.throttled.Store(true)
	}
	if res.shutdown && res.ended == "" {
		res.ended = string(wordShutdown) // before the run is over, an end like any other
	}
	if res.ended != "" && s.r.phase.Load() == phaseRun && !s.departed.Load() {
		// An eviction may say "disconnected" a read before it says why.
		if !s.dropped.Load() || res.ended == string(wordEvicted) {
			s.said.Store(&res.ended)
		}
		s.dropped.Store(true)
	}
	if s.verify != nil {
		s.verify.check(s)
	}
}

// token records one sighting of a message token.
func (s *session) token(t token) {
	r := s.r
	i, ok := r.messageIndex(t)
	if !ok {
		r.foreign.Add(1)
		return
	}
	word, bit := i/64, uint64(1)<<(i%64)
	if s.seen[word]&bit != 0 {
		return // a repaint of a line already seen
	}
	sentAt := r.sendAt[i].Load()
	if sentAt == 0 {
		return // cannot be: the send time is stored before the write
	}
	s.seen[word] |= bit
	if s.verify != nil {
		s.verify.found(t)
	}
	if ready := s.readyAt.Load(); ready == 0 || ready > sentAt {
		r.history.Add(1) // sent before this session was there
		return
	}
	s.delivered++
	r.delivered.Add(1)
	r.latency.add(time.Duration(s.now - sentAt))
}

// hasSeen reports whether the session saw message t. Only the reader
// goroutine may call it while the session is open.
func (s *session) hasSeen(t token) bool {
	i, ok := s.r.messageIndex(t)
	return ok && s.seen[i/64]&(uint64(1)<<(i%64)) != 0
}

// end is the end of the output stream. Like an ssh client whose only
// session ended, it closes the connection.
func (s *session) end() {
	now := s.r.clock()
	s.endAt.Store(now)
	_ = s.client.Close()
	if s.readyAt.Load() != 0 {
		s.r.alive.Add(-1)
		s.r.aliveIn[s.r.cfg.room(s.idx)].Add(-1)
	}
	if s.r.phase.Load() == phaseRun && s.readyAt.Load() != 0 && !s.departed.Load() {
		s.dropped.Store(true)
	}
	s.r.open.Add(-1)
	close(s.done)
}

// stderrWriter keeps the first bytes the server writes to stderr.
type stderrWriter struct{ s *session }

func (w stderrWriter) Write(p []byte) (int, error) {
	w.s.stderrMu.Lock()
	defer w.s.stderrMu.Unlock()
	if room := maxStderr - len(w.s.stderr); room > 0 {
		w.s.stderr = append(w.s.stderr, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (s *session) stderrNote() string {
	s.stderrMu.Lock()
	defer s.stderrMu.Unlock()
	if len(s.stderr) == 0 {
		return ""
	}
	return fmt.Sprintf(" (stderr: %q)", s.stderr)
}
