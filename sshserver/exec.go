package sshserver

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/ssh"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/ui"
)

// Exit statuses of the commands run over SSH without a terminal.
const (
	exitOK      = 0
	exitFailed  = 1 // the command could not do what was asked (too long, throttled, server closing)
	exitUsage   = 2 // unknown command or bad arguments
	timeLayout  = "15:04:05"
	maxSayInput = 64 << 10 // bytes read from stdin by say; more is refused
)

// command is one thing a script can run: ssh host NAME ARGS...
type command struct {
	name, args, help string
	run              func(s *Server, c *call) int
}

// call is one command being run for a user.
type call struct {
	sess   ssh.Session
	userID string
	args   []string
	stdout io.Writer
	stderr io.Writer
}

// commands are listed in the usage text in this order.
var commands = []command{
	{"tail", "[--json]", "stream the room's events as they happen (you join the room while it runs)", (*Server).runTail},
	{"say", "TEXT... (or the text on stdin)", "post a message", (*Server).runSay},
	{"who", "[--json]", "list who is online", (*Server).runWho},
	{"history", "[-n N] [--json]", "print the most recent events (default 20)", (*Server).runHistory},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: ssh HOST COMMAND [ARGS]   (or ssh -t HOST for the chat)")
	fmt.Fprintf(w, "  %-8s %-32s %s\n", "help", "", "print this")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %-32s %s\n", c.name, c.args, c.help)
	}
}

// exec runs the command a session asked for and returns its exit status.
func (s *Server) exec(sess ssh.Session, userID string, argv []string) int {
	c := &call{sess: sess, userID: userID, args: argv[1:], stdout: sess, stderr: sess.Stderr()}
	if argv[0] == "help" {
		usage(c.stdout)
		return exitOK
	}
	for _, cmd := range commands {
		if cmd.name == argv[0] {
			return cmd.run(s, c)
		}
	}
	fmt.Fprintf(c.stderr, "sshchat: unknown command %q\n", argv[0])
	usage(c.stderr)
	return exitUsage
}

// flags parses a command's arguments; ok is false after a usage error,
// which it has reported.
func (c *call) flags(name string, define func(*flag.FlagSet)) (fs *flag.FlagSet, ok bool) {
	fs = flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	define(fs)
	if err := fs.Parse(c.args); err != nil {
		return fs, false
	}
	return fs, true
}

func (s *Server) runSay(c *call) int {
	fs, ok := c.flags("say", func(*flag.FlagSet) {})
	if !ok {
		return exitUsage
	}
	text := strings.Join(fs.Args(), " ")
	if fs.NArg() == 0 {
		in, err := io.ReadAll(io.LimitReader(c.sess, maxSayInput+1))
		if err != nil {
			fmt.Fprintf(c.stderr, "sshchat: read the message: %v\n", err)
			return exitFailed
		}
		if len(in) > maxSayInput {
			fmt.Fprintf(c.stderr, "sshchat: the message on stdin is over %d bytes\n", maxSayInput)
			return exitFailed
		}
		text = string(in)
	}
	text, err := s.checkOutgoing(c.userID, text)
	if err != nil {
		fmt.Fprintf(c.stderr, "sshchat: %v\n", err)
		if errors.Is(err, errEmpty) {
			return exitUsage
		}
		return exitFailed
	}
	si := newSessionInfo(channelID(c.sess.Context()), c.sess.RemoteAddr().String(), false)
	arrived, err := s.presence.acquire(c.userID, s.scriptName(c.userID, c.sess.User()), si)
	if err != nil {
		fmt.Fprintf(c.stderr, "sshchat: %v\n", err)
		return exitFailed
	}
	defer s.presence.release(c.userID, si)
	s.hub.Publish(c.userID, arrived.name, text)
	return exitOK
}

func (s *Server) runWho(c *call) int {
	var asJSON bool
	if _, ok := c.flags("who", func(fs *flag.FlagSet) { fs.BoolVar(&asJSON, "json", false, "one JSON object per user") }); !ok {
		return exitUsage
	}
	users := s.hub.Users()
	slices.SortFunc(users, func(a, b hub.User) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.UserID, b.UserID))
	})
	enc := json.NewEncoder(c.stdout)
	for _, u := range users {
		if asJSON {
			_ = enc.Encode(struct {
				UserID   string `json:"userId"`
				Name     string `json:"name"`
				Sessions int    `json:"sessions"`
			}{u.UserID, u.Name, u.Sessions})
			continue
		}
		fmt.Fprintf(c.stdout, "%-24s %3d  %s\n", u.Name, u.Sessions, u.UserID)
	}
	return exitOK
}

func (s *Server) runHistory(c *call) int {
	var asJSON bool
	var n int
	if _, ok := c.flags("history", func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "the events as JSON lines, as in the event log")
		fs.IntVar(&n, "n", 20, "how many events")
	}); !ok {
		return exitUsage
	}
	if n < 0 {
		fmt.Fprintln(c.stderr, "sshchat: -n must not be negative")
		return exitUsage
	}
	evs := visibleTo(s.hub.History(), c.userID, s.reg.Ignored(c.userID))
	evs = evs[max(0, len(evs)-n):]
	w := eventWriter(c.stdout, asJSON)
	for _, ev := range evs {
		if err := w(ev); err != nil {
			return exitFailed
		}
	}
	return exitOK
}

// runTail streams events until the client hangs up or the server stops. It
// is a session like any other: it joins, and falls out if it cannot keep up.
func (s *Server) runTail(c *call) int {
	var asJSON bool
	if _, ok := c.flags("tail", func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "the events as JSON lines, as in the event log")
	}); !ok {
		return exitUsage
	}
	ctx := c.sess.Context()
	sessionID := channelID(ctx)
	si := newSessionInfo(sessionID, c.sess.RemoteAddr().String(), true)
	arrived, err := s.presence.acquire(c.userID, s.scriptName(c.userID, c.sess.User()), si)
	if err != nil {
		fmt.Fprintf(c.stderr, "sshchat: %v\n", err)
		return exitFailed
	}
	defer s.presence.release(c.userID, si)
	name := arrived.name
	if refusal := s.sessionLimit(arrived.sessions); refusal != "" {
		fmt.Fprintf(c.stderr, "sshchat: %s\n", refusal)
		return exitFailed
	}
	sub, err := s.hub.Subscribe(hub.Member{UserID: c.userID, SessionID: sessionID, Name: name}, 0)
	if err != nil {
		fmt.Fprintf(c.stderr, "sshchat: %v\n", err)
		return exitFailed
	}
	defer func() {
		s.presence.release(c.userID, si) // before the departure: see handle
		_ = s.hub.Remove(c.userID, sessionID)
	}()

	// Like a screen, a script that stops reading must not hold anything up.
	out := newOutbox(c.stdout, s.cfg.OutputLimit, s.outBufs, func() { closeConn(ctx) })
	defer out.Finish(flushTimeout, func() { closeConn(ctx) })
	write := eventWriter(out, asJSON)
	for {
		select {
		case <-ctx.Done():
			return exitOK
		case ev, ok := <-sub.Events():
			if ok && !hub.Visible(ev, c.userID, *arrived.user.ignored.Load()) {
				continue
			}
			if !ok {
				if errors.Is(sub.Err(), hub.ErrEvicted) {
					fmt.Fprintln(c.stderr, "sshchat: disconnected: fell too far behind the room")
					return exitFailed
				}
				return exitOK
			}
			if err := write(ev); err != nil {
				return exitFailed
			}
		}
	}
}

// eventWriter writes events one a line: as the log stores them, or as the
// transcript shows them.
func eventWriter(w io.Writer, asJSON bool) func(hub.Event) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return func(ev hub.Event) error {
			if ev.Type == hub.EventTypeRoster { // not an event of the room: see hub.EventTypeRoster
				return nil
			}
			return enc.Encode(ev)
		}
	}
	return func(ev hub.Event) error {
		line := ui.PlainLine(ev, time.Local, timeLayout)
		if line == "" {
			return nil
		}
		_, err := io.WriteString(w, line+"\n")
		return err
	}
}

// visibleTo keeps the events userID may see (hub.Visible), who ignores
// the users in ignored.
func visibleTo(evs []hub.Event, userID string, ignored map[string]bool) []hub.Event {
	out := make([]hub.Event, 0, len(evs))
	for _, ev := range evs {
		if hub.Visible(ev, userID, ignored) {
			out = append(out, ev)
		}
	}
	return out
}
