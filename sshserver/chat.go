package sshserver

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/charmbracelet/ssh"

	"github.com/sshchat/sshchat/chat"
	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/ui"
)

const (
	// timeLayout is the time of day on each line the script commands print.
	timeLayout = "15:04:05"
	// Exit statuses, as the script commands' own (chat.Core.Exec):
	// exitFailed for a session refused or failed, exitUsage for a command
	// line that could not be read.
	exitFailed = 1
	exitUsage  = 2
)

// chatSession is an interactive session as the chat core sees it.
type chatSession struct {
	id, remote string
	end        chan string // capacity 1: why the session is to end (/detach); the pump reads it
	streams    *streams    // where the rooms it enters go; the pump reads them
}

func newChatSession(id, remote string, st *streams) *chatSession {
	return &chatSession{id: id, remote: remote, end: make(chan string, 1), streams: st}
}

func (c *chatSession) ID() string     { return c.id }
func (c *chatSession) Remote() string { return c.remote }

func (c *chatSession) End(reason string) {
	select {
	case c.end <- reason:
	default: // already ending
	}
}

// Enter hands the pump the stream of a room a command put the session in.
func (c *chatSession) Enter(room chat.RoomInfo, sub *hub.Subscription) { c.streams.enter(room, sub) }

// roster is the chat's presence as the member lists read it (ui.Roster).
type roster struct{ c *chat.Core }

func (r roster) Members(room string, n int) ([]ui.Member, int) {
	top, total := r.c.Members(room, n)
	members := make([]ui.Member, len(top))
	for i, m := range top {
		members[i] = ui.Member{UserID: m.UserID, Name: m.Name, Sessions: m.Sessions, Away: m.Away}
	}
	return members, total
}

func (r roster) Complete(prefix, userID string) []string { return r.c.Complete(prefix, userID) }

// uiCommands is the chat's slash commands as the UI lists them.
func uiCommands(cmds []chat.CommandInfo) []ui.CommandInfo {
	out := make([]ui.CommandInfo, len(cmds))
	for i, c := range cmds {
		out[i] = ui.CommandInfo{Name: c.Name, Args: c.Args, Help: c.Help}
	}
	return out
}

// plainLine is an event as the script commands print it.
func plainLine(ev hub.Event) string { return ui.PlainLine(ev, time.Local, timeLayout) }

// scriptSession is a session running a command without a terminal.
type scriptSession struct {
	ssh.Session
	s  *Server
	id func() string
}

func (x *scriptSession) ID() string     { return x.id() }
func (x *scriptSession) Remote() string { return x.RemoteAddr().String() }
func (x *scriptSession) End(string)     { closeConn(x.Session.Context()) }

// Enter is never called for a script: no script command runs a slash
// command. Were one to, its stream would be left to the room, which
// takes it out when the script's session leaves.
func (x *scriptSession) Enter(chat.RoomInfo, *hub.Subscription) {}
func (x *scriptSession) Context() context.Context               { return x.Session.Context() }
func (x *scriptSession) Stdin() io.Reader                       { return x.Session }
func (x *scriptSession) Stdout() io.Writer                      { return x.Session }
func (x *scriptSession) Stderr() io.Writer                      { return x.Session.Stderr() }

// Follow queues the output in an outbox, as a screen's is: a script that
// stops reading is cut, and holds nothing up.
func (x *scriptSession) Follow() (io.Writer, func()) {
	ctx := x.Session.Context()
	out := newOutbox(x.Session, x.s.cfg.OutputLimit, x.s.outBufs, func() { closeConn(ctx) })
	return out, func() { out.Finish(flushTimeout, func() { closeConn(ctx) }) }
}

// exec runs the command a session asked for and returns its exit status.
func (s *Server) exec(sess ssh.Session, userID string, argv []string) int {
	// The session is named only when it joins (say, tail): the name counts
	// the connection's sessions.
	id := sync.OnceValue(func() string { return channelID(sess.Context()) })
	return s.chat.Exec(&scriptSession{Session: sess, s: s, id: id}, userID, argv)
}
