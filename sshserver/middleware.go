package sshserver

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	wishrecover "github.com/charmbracelet/wish/recover"
	gossh "golang.org/x/crypto/ssh"
)

// middleware is the chain every session goes through. wish composes a
// list from first to last, so the last one runs first: the list below is
// written from the inside out. wish's recover guards the middleware given
// to it (not the handler after it), so the whole chain is given to it.
// From the outside in:
//
//	recover        a panic ends the session, logged; not the server
//	logSessions    every session, how it began and ended
//	admitKeys      the allow-list and bans, before anything runs
//	routeCommands  a command (ssh HOST say hi) goes to the script commands
//	chat           a session without one gets the chat, and one whose
//	               command is a room's name (ssh -t HOST '#go') the chat in it
func (s *Server) middleware() wish.Middleware {
	return wishrecover.MiddlewareWithLogger(panicLog{s.log},
		s.chatStage,
		s.routeCommands,
		s.admitKeys,
		s.logSessions,
	)
}

// session is a session as the middleware sees it: the library's, and the
// window changes of its channel, which only the chat reads (see channel.go
// for why they are the session's own).
type session struct {
	ssh.Session
	winch <-chan ssh.Window
	room  string        // the room the chat opens in, when the command named one
	raw   gossh.Channel // the channel of a session on an emulated PTY, or nil: see Write
}

// Write sends p to the client. On a PTY, as the library does, a line feed
// goes out as CR LF (the client's terminal has no line discipline of the
// server's to do it); unlike the library, output without a line feed (a
// screen's frame: the cursor is placed, never moved by newlines) is not
// copied twice first, and output with one only once. The library's copies
// were nearly all the garbage of a busy server.
//
// Whether the session has a PTY is known when it starts (serveSession):
// asking the library at every write was 3 % of a busy server's CPU, a
// lock and a map lookup in its context each time.
func (s *session) Write(p []byte) (int, error) {
	if s.raw == nil {
		return s.Session.Write(p)
	}
	if bytes.IndexByte(p, '\n') < 0 {
		return s.raw.Write(p)
	}
	n, err := s.raw.Write(crlf(p))
	return min(n, len(p)), err
}

// crlf returns p with a carriage return before every line feed that has
// none: what the library's PTY writer makes of it.
func crlf(p []byte) []byte {
	out := make([]byte, 0, len(p)+bytes.Count(p, []byte{'\n'}))
	for i := bytes.IndexByte(p, '\n'); i >= 0; i = bytes.IndexByte(p, '\n') {
		out = append(out, p[:i]...)
		if i == 0 || p[i-1] != '\r' {
			out = append(out, '\r')
		}
		out = append(out, '\n')
		p = p[i+1:]
	}
	return append(out, p...)
}

// serveSession runs the middleware for one session of a session channel:
// s.ssh.Handler is the chain wish composed. Shutdown waits for it to
// return.
func (s *Server) serveSession(sess ssh.Session, ch *channel) {
	markStarted(sess.Context())
	s.sessions.add()
	defer s.sessions.done()
	s.trim.arrive()
	ws := &session{Session: sess, winch: ch.winch}
	if _, _, pty := sess.Pty(); pty && sess.EmulatedPty() {
		// The library would add a CR before each LF it sends; Write does.
		ws.raw = ch.raw
	}
	s.ssh.Handler(ws)
}

// userOf is the user of an admitted session: the fingerprint of its key.
func userOf(sess ssh.Session) string { return gossh.FingerprintSHA256(sess.PublicKey()) }

// logSessions logs every session when it opens (debug) and when it ends.
// It is ours rather than wish's logging middleware, which prints the whole
// command line (a say carries its message: the server log would copy every
// scripted message) as one formatted line, where slog keeps the user and
// the address as fields to filter by. A panic below it ends the session
// with status 1 and a word to the client; recover, above it, logs the panic.
func (s *Server) logSessions(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		start := time.Now()
		log := s.log.With("remote", sess.RemoteAddr().String())
		if key := sess.PublicKey(); key != nil {
			log = log.With("user", gossh.FingerprintSHA256(key))
		}
		command := commandName(sess.RawCommand())
		pty, _, _ := sess.Pty()
		log.Debug("session opened", "command", command, "term", pty.Term, "client", string(sess.Context().ClientVersion()))
		returned := false
		defer func() {
			if !returned { // a panic on its way to recover
				fmt.Fprintln(sess.Stderr(), "sshchat: the server failed to serve this session")
				_ = sess.Exit(exitFailed)
			}
			log.Info("session closed", "command", command, "duration", time.Since(start).Round(time.Millisecond), "panicked", !returned)
		}()
		next(sess)
		returned = true
	}
}

// commandName is the first word of a command line, bounded: what the log
// says a session ran.
func commandName(raw string) string {
	name, _, _ := strings.Cut(strings.TrimSpace(raw), " ")
	if len(name) > 16 {
		name = strings.ToValidUTF8(name[:16], "") + "…"
	}
	return name
}

// admitKeys turns away a key that is not on the allow-list or is banned,
// before it may run anything.
func (s *Server) admitKeys(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		if sess.PublicKey() == nil { // only public-key auth is offered, so this is a bug
			fmt.Fprintln(sess.Stderr(), "sshchat: a public key is required")
			_ = sess.Exit(exitFailed)
			return
		}
		if refusal := s.admission(userOf(sess)); refusal != "" {
			fmt.Fprintf(sess.Stderr(), "sshchat: %s\n", refusal)
			_ = sess.Exit(exitFailed)
			return
		}
		next(sess)
	}
}

// routeCommands runs a session's command (ssh HOST who) as a script
// command; a session without one goes on to the chat. A long command line
// is refused before it is parsed.
func (s *Server) routeCommands(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		raw := sess.RawCommand()
		if limit := s.maxCommand(); len(raw) > limit {
			s.observe.Refused("command_length")
			fmt.Fprintf(sess.Stderr(), "sshchat: the command is %d bytes long, over the limit of %d\n", len(raw), limit)
			_ = sess.Exit(exitUsage)
			return
		}
		argv, err := splitCommand(raw)
		if err != nil {
			fmt.Fprintf(sess.Stderr(), "sshchat: %v\n", err)
			_ = sess.Exit(exitUsage)
			return
		}
		if len(argv) == 0 {
			next(sess)
			return
		}
		if len(argv) == 1 && strings.HasPrefix(argv[0], "#") {
			// A room's name is no script command: it opens the chat there.
			if ws, ok := sess.(*session); ok {
				ws.room = argv[0]
			}
			next(sess)
			return
		}
		_ = sess.Exit(s.exec(sess, userOf(sess), argv))
	}
}

// maxCommand is the longest command line a script may send, in bytes:
// room for a message of the longest length, quoted. Longer ones are
// refused before they are parsed.
func (s *Server) maxCommand() int { return 2 * s.cfg.MaxMessage }

// serveChat serves the chat: the end of the chain, it calls nothing
// after it.
func (s *Server) serveChat(ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		var (
			winch <-chan ssh.Window
			room  string
		)
		if ws, ok := sess.(*session); ok {
			winch, room = ws.winch, ws.room
		}
		s.handle(sess, userOf(sess), winch, room)
	}
}

// panicLog gives wish's recover middleware the server's slog logger.
type panicLog struct{ log *slog.Logger }

func (l panicLog) Printf(format string, v ...any) {
	l.log.Error("session panicked", "panic", strings.TrimSpace(fmt.Sprintf(format, v...)))
}
