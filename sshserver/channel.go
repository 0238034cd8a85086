package sshserver

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/sshchat/sshchat/internal/pace"
)

// Bounds of what one session channel may ask before its shell or command.
const (
	// maxEnv is how many environment variables a session keeps.
	maxEnv = 16
	// maxEnvBytes is the longest name and value kept, together.
	maxEnvBytes = 256
	// requestRate is how many requests a second a session channel's are
	// taken at, past bursts of requestBurst. A person dragging a window's
	// edge sends a few dozen window changes a second; a client sending
	// them as fast as it can had the screen painted whole for each, a
	// core's worth. While the pace holds them, the connection is not read
	// (its requests wait in the SSH library, and then in TCP): only the
	// client that sends them waits.
	requestRate  = 100
	requestBurst = 50
)

// channel is one session channel as the server sees it, before the SSH
// library does: its requests pass through filter first.
type channel struct {
	gossh.NewChannel
	// winch carries the window changes, the latest one only. It is the
	// session's own: the library would block its request loop on a window
	// change that arrives before the shell, for as long as the connection
	// lives, and after the session for as long as nobody takes it.
	winch chan ssh.Window
	// raw is the accepted channel, set before any request reaches the
	// library: the session writes its output to it (see session.Write).
	raw gossh.Channel

	pace *pace.Pace // of the requests (requestRate)
}

func newChannel(nc gossh.NewChannel) *channel {
	return &channel{NewChannel: nc, winch: make(chan ssh.Window, 1), pace: pace.New(requestRate, requestBurst)}
}

// sessionChannel opens a session channel, or refuses it when the
// connection has as many open as a key may hold sessions. It returns when
// the channel's requests end.
func (s *Server) sessionChannel(_ *ssh.Server, conn *gossh.ServerConn, newChan gossh.NewChannel, ctx ssh.Context) {
	st := stateOf(ctx)
	// Past its pace, the connection is held: its next channel, and all
	// else it sends, is read later. A refused channel counts too.
	if st.opens != nil && st.conn != nil {
		if d := st.opens.Reserve(); d > 0 {
			st.conn.hold(time.Now().Add(d))
		}
	}
	if n := st.open.Add(1); int(n) > s.cfg.SessionsPerUser {
		st.open.Add(-1)
		s.observe.Refused("conn_channels")
		_ = newChan.Reject(gossh.ResourceShortage,
			fmt.Sprintf("sshchat: too many sessions on one connection (the limit is %d): close one first", s.cfg.SessionsPerUser))
		return
	}
	defer st.open.Add(-1)
	ch := newChannel(newChan)
	// The library reads its handlers from the server it is given: give it
	// one for this channel alone, whose handler knows the channel.
	per := &ssh.Server{
		Handler:     func(sess ssh.Session) { s.serveSession(sess, ch) },
		PtyCallback: func(ssh.Context, ssh.Pty) bool { return true },
	}
	_ = ssh.EmulatePty()(per)
	ssh.DefaultSessionHandler(per, conn, ch, ctx)
}

// Accept accepts the channel and puts filter between its requests and the
// library.
func (c *channel) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, reqs, err := c.NewChannel.Accept()
	if err != nil {
		return nil, nil, fmt.Errorf("accept channel: %w", err)
	}
	c.raw = ch
	out := make(chan *gossh.Request)
	go c.filter(reqs, out)
	return ch, out, nil
}

// filter passes on the requests the chat uses, within bounds, answers
// window changes itself and refuses the rest. It ends, closing out and
// winch, when the channel's requests end: when the channel or its
// connection closes.
func (c *channel) filter(reqs <-chan *gossh.Request, out chan<- *gossh.Request) {
	defer close(c.winch)
	defer close(out)
	var started, pty bool
	env := 0
	for req := range reqs {
		c.pace.Wait()
		switch req.Type {
		case "shell", "exec":
			started = true
		case "pty-req":
			pty = true
		case "env":
			if !started {
				if !keepEnv(req.Payload) || env >= maxEnv {
					_ = req.Reply(false, nil)
					continue
				}
				env++
			}
		case "window-change":
			w, ok := parseWindow(req.Payload)
			ok = ok && pty
			_ = req.Reply(ok, nil)
			if ok {
				latest(c.winch, w)
			}
			continue
		case "auth-agent-req@openssh.com", "x11-req":
			// Nothing in the chat would use a forwarded agent or display.
			_ = req.Reply(false, nil)
			continue
		}
		out <- req
	}
}

// keepEnv reports whether an environment variable is one the chat uses
// (the terminal's type and locale), and short enough.
func keepEnv(payload []byte) bool {
	var kv struct{ Key, Value string }
	if err := gossh.Unmarshal(payload, &kv); err != nil || len(kv.Key)+len(kv.Value) > maxEnvBytes {
		return false
	}
	return kv.Key == "TERM" || kv.Key == "LANG" || strings.HasPrefix(kv.Key, "LC_")
}

// parseWindow reads the size in a window-change request (RFC 4254 6.7).
func parseWindow(p []byte) (ssh.Window, bool) {
	if len(p) < 16 {
		return ssh.Window{}, false
	}
	return ssh.Window{
		Width:        int(binary.BigEndian.Uint32(p)),
		Height:       int(binary.BigEndian.Uint32(p[4:])),
		WidthPixels:  int(binary.BigEndian.Uint32(p[8:])),
		HeightPixels: int(binary.BigEndian.Uint32(p[12:])),
	}, true
}

// latest puts w on c, replacing what is waiting there: only the last size
// matters. The caller is c's only sender.
func latest(c chan ssh.Window, w ssh.Window) {
	for {
		select {
		case c <- w:
			return
		default:
		}
		select {
		case <-c:
		default:
		}
	}
}
