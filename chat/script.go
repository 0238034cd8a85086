package chat

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/sshchat/sshchat/hub"
)

// Exit statuses of the script commands.
const (
	exitOK      = 0
	exitFailed  = 1        // the command could not do what was asked (too long, throttled, server closing)
	exitUsage   = 2        // unknown command or bad arguments
	maxSayInput = 64 << 10 // bytes read from stdin by say; more is refused
)

// Script is a session that runs one command without a terminal (ssh HOST
// COMMAND): what the SSH side implements for the script commands.
type Script interface {
	Session
	Context() context.Context // ends when the client leaves
	User() string             // the SSH user name: the name a new key asks for
	Stdin() io.Reader
	Stdout() io.Writer
	Stderr() io.Writer
	// Follow is Stdout for a command that runs until the client leaves:
	// writing to it never blocks (a client that stops reading is cut), and
	// finish sends what is queued before the command returns.
	Follow() (w io.Writer, finish func())
}

// scriptCommand is one thing a script can run: ssh host NAME ARGS...
type scriptCommand struct {
	name, args, help string
	run              func(c *Core, x *scriptCall) int
}

// scriptCall is one script command being run for a user.
type scriptCall struct {
	Script
	userID string
	args   []string
}

// scriptCommands are listed in the usage text in this order.
var scriptCommands = []scriptCommand{
	{"tail", "[--room R] [--json]", "stream a room's events as they happen (you join the room while it runs)", (*Core).runTail},
	{"say", "[--room R] TEXT... (or the text on stdin)", "post a message", (*Core).runSay},
	{"who", "[--room R] [--json]", "list who is in a room", (*Core).runWho},
	{"history", "[--room R] [-n N] [--json]", "print a room's most recent events (default 20); --room @direct: your direct messages", (*Core).runHistory},
	{"rooms", "[--json]", "list the rooms, with how many are in each and their topics", (*Core).runRooms},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: ssh HOST COMMAND [ARGS]   (or ssh -t HOST for the chat)")
	fmt.Fprintf(w, "  %-8s %-42s %s\n", "help", "", "print this")
	for _, c := range scriptCommands {
		fmt.Fprintf(w, "  %-8s %-42s %s\n", c.name, c.args, c.help)
	}
	fmt.Fprintln(w, "  --room R names a room (go or #go); without it, the default room")
}

// Exec runs the command argv (its name first) for userID, who connected
// as sc, and returns its exit status.
func (c *Core) Exec(sc Script, userID string, argv []string) int {
	x := &scriptCall{Script: sc, userID: userID, args: argv[1:]}
	if argv[0] == "help" {
		usage(sc.Stdout())
		return exitOK
	}
	for _, cmd := range scriptCommands {
		if cmd.name == argv[0] {
			return cmd.run(c, x)
		}
	}
	fmt.Fprintf(sc.Stderr(), "sshchat: unknown command %q\n", argv[0])
	usage(sc.Stderr())
	return exitUsage
}

// flags parses a command's arguments; ok is false after a usage error,
// which it has reported.
func (x *scriptCall) flags(name string, define func(*flag.FlagSet)) (fs *flag.FlagSet, ok bool) {
	fs = flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(x.Stderr())
	define(fs)
	if err := fs.Parse(x.args); err != nil {
		return fs, false
	}
	return fs, true
}

// roomFlag defines --room on fs, for a command that reads a room.
func (c *Core) roomFlag(fs *flag.FlagSet, room *string) {
	fs.StringVar(room, "room", c.cfg.Lobby, "the room (go or #go)")
}

// readable is the room name names, if x's user may read it: it exists,
// and the user is not banned from it nor lacks an invitation to it.
func (c *Core) readable(x *scriptCall, name string) (*room, bool) {
	r, ok := c.find(name)
	if !ok {
		x.fail(fmt.Errorf("there is no room #%s: rooms lists them", strings.TrimPrefix(name, "#")))
		return nil, false
	}
	if err := c.mayEnter(x.userID, r, c.record(r)); err != nil {
		x.fail(err)
		return nil, false
	}
	return r, true
}

func (x *scriptCall) fail(err error) int {
	fmt.Fprintf(x.Stderr(), "sshchat: %v\n", err)
	return exitFailed
}

func (c *Core) runSay(x *scriptCall) int {
	var roomName string
	fs, ok := x.flags("say", func(fs *flag.FlagSet) { c.roomFlag(fs, &roomName) })
	if !ok {
		return exitUsage
	}
	r, ok := c.readable(x, roomName)
	if !ok {
		return exitFailed
	}
	text := strings.Join(fs.Args(), " ")
	if fs.NArg() == 0 {
		in, err := io.ReadAll(io.LimitReader(x.Stdin(), maxSayInput+1))
		if err != nil {
			return x.fail(fmt.Errorf("read the message: %w", err))
		}
		if len(in) > maxSayInput {
			return x.fail(fmt.Errorf("the message on stdin is over %d bytes", maxSayInput))
		}
		text = string(in)
	}
	text, err := c.checkOutgoing(x.userID, r, text)
	if err != nil {
		x.fail(err)
		if errors.Is(err, ErrEmpty) {
			return exitUsage
		}
		return exitFailed
	}
	// Online while it posts, so that its name is its own; it does not
	// count as a session, nor show in the member lists.
	seat, arrived, err := c.arrive(x.userID, c.scriptName(x.userID, x.User()), x, false)
	if err != nil {
		return x.fail(err)
	}
	defer seat.Leave()
	r.hub.Publish(x.userID, arrived.Name, text)
	return exitOK
}

func (c *Core) runWho(x *scriptCall) int {
	var asJSON bool
	var roomName string
	if _, ok := x.flags("who", func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "one JSON object per user")
		c.roomFlag(fs, &roomName)
	}); !ok {
		return exitUsage
	}
	r, ok := c.readable(x, roomName)
	if !ok {
		return exitFailed
	}
	users, _ := c.Members(r.id, math.MaxInt) // what /who and the member lists read
	enc := json.NewEncoder(x.Stdout())
	for _, u := range users {
		if asJSON {
			_ = enc.Encode(struct {
				UserID   string `json:"userId"`
				Name     string `json:"name"`
				Sessions int    `json:"sessions"`
			}{u.UserID, u.Name, u.Sessions})
			continue
		}
		fmt.Fprintf(x.Stdout(), "%-24s %3d  %s\n", u.Name, u.Sessions, u.UserID)
	}
	return exitOK
}

func (c *Core) runHistory(x *scriptCall) int {
	var asJSON bool
	var n int
	var roomName string
	if _, ok := x.flags("history", func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "the events as JSON lines, as in the event log")
		fs.IntVar(&n, "n", 20, "how many events")
		c.roomFlag(fs, &roomName)
	}); !ok {
		return exitUsage
	}
	if n < 0 {
		fmt.Fprintln(x.Stderr(), "sshchat: -n must not be negative")
		return exitUsage
	}
	// The direct messages are in no room: @direct reads the user's own.
	from := c.direct
	if roomName != DirectID {
		r, ok := c.readable(x, roomName)
		if !ok {
			return exitFailed
		}
		from = r.hub
	}
	evs := visibleTo(from.History(), x.userID, c.reg.Ignored(x.userID))
	evs = evs[max(0, len(evs)-n):]
	w := c.eventWriter(x.Stdout(), asJSON)
	for _, ev := range evs {
		if err := w(ev); err != nil {
			return exitFailed
		}
	}
	return exitOK
}

// runTail streams events until the client hangs up or the server stops. It
// is a session like any other: it joins, and falls out if it cannot keep up.
func (c *Core) runTail(x *scriptCall) int {
	var asJSON bool
	var roomName string
	if _, ok := x.flags("tail", func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "the events as JSON lines, as in the event log")
		c.roomFlag(fs, &roomName)
	}); !ok {
		return exitUsage
	}
	if _, ok := c.readable(x, roomName); !ok {
		return exitFailed
	}
	// A session like a screen's, but for direct messages, which a tail of
	// a room does not show.
	seat, arrived, err := c.arrive(x.userID, c.scriptName(x.userID, x.User()), x, true)
	if err != nil {
		return x.fail(err)
	}
	defer seat.Leave()
	if refusal := c.cfg.SessionLimit(arrived.Sessions); refusal != "" {
		fmt.Fprintf(x.Stderr(), "sshchat: %s\n", refusal)
		return exitFailed
	}
	sub, _, err := seat.Join(roomName, 0)
	if err != nil {
		return x.fail(err)
	}

	// Like a screen, a script that stops reading must not hold anything up.
	out, finish := x.Follow()
	defer finish()
	write := c.eventWriter(out, asJSON)
	for {
		select {
		case <-x.Context().Done():
			return exitOK
		case ev, ok := <-sub.Events():
			if ok && !hub.Visible(ev, x.userID, seat.Ignored()) {
				continue
			}
			if !ok {
				switch err := sub.Err(); {
				case errors.Is(err, hub.ErrEvicted):
					fmt.Fprintln(x.Stderr(), "sshchat: disconnected: fell too far behind the room")
					return exitFailed
				case errors.Is(err, hub.ErrDropped):
					fmt.Fprintf(x.Stderr(), "sshchat: %v\n", strings.TrimPrefix(err.Error(), hub.ErrDropped.Error()+": "))
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

func (c *Core) runRooms(x *scriptCall) int {
	var asJSON bool
	fs, ok := x.flags("rooms", func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "one JSON object per room")
	})
	if !ok {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(x.Stderr(), "sshchat: rooms takes no arguments: %q\n", fs.Args())
		return exitUsage
	}
	enc := json.NewEncoder(x.Stdout())
	enc.SetEscapeHTML(false)
	for _, ri := range c.Rooms(x.userID) {
		if asJSON {
			_ = enc.Encode(ri)
			continue
		}
		fmt.Fprintf(x.Stdout(), "#%-32s %4d %s  %s\n", ri.ID, ri.Members, roomFlags(ri), ri.Topic)
	}
	return exitOK
}

// eventWriter writes events one a line: as the log stores them, or as the
// transcript shows them.
func (c *Core) eventWriter(w io.Writer, asJSON bool) func(hub.Event) error {
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
		line := c.cfg.Line(ev)
		if line == "" {
			return nil
		}
		_, err := io.WriteString(w, line+"\n")
		return err
	}
}
