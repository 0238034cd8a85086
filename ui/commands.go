package ui

import (
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/sshchat/sshchat/sanitize"
)

// CommandInfo describes one of the server's commands, for /help and Tab:
// {Name: "nick", Args: "NEW", Help: "change your name, for all your sessions"}.
type CommandInfo struct{ Name, Args, Help string }

// command is one slash command. /help and Tab completion are made from
// the registry: the session's own commands and the server's, in one list.
type command struct {
	name string // lower case, without the slash
	args string // its arguments, as /help shows them: "on|off"
	help string
	run  func(m *Model, args string) tea.Cmd
}

// localCommands are the commands the session runs itself.
func localCommands() []command {
	return []command{
		{name: "join", args: "#ROOM", help: "show a room you are in, or join one", run: (*Model).runJoin},
		{name: "help", args: "[COMMAND]", help: "show the commands and keys, or one command", run: (*Model).runHelp},
		{name: "quit", help: "leave the chat", run: (*Model).runQuit},
		{name: "reply", args: "TEXT", help: "answer the last direct message sent to you", run: (*Model).runReply},
		{name: "timestamp", args: "on|off", help: "show or hide the time of each line", run: (*Model).runTimestamp},
		{name: "bell", args: "on|off|mentions", help: "ring for every message, never, or mentions", run: (*Model).runBell},
	}
}

// newRegistry is the local commands and the server's, sorted by name. A
// local command hides a server command of the same name.
func newRegistry(server []CommandInfo) []command {
	cmds := localCommands()
	for _, c := range server {
		name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(sanitize.Line(c.Name)), "/"))
		if name == "" || strings.Contains(name, " ") || lookup(cmds, name) != nil {
			continue
		}
		cmds = append(cmds, command{
			name: name,
			args: strings.TrimSpace(sanitize.Line(c.Args)),
			help: strings.TrimSpace(sanitize.Line(c.Help)),
			run:  serverCommand(name),
		})
	}
	slices.SortFunc(cmds, func(a, b command) int { return strings.Compare(a.name, b.name) })
	return cmds
}

// lookup returns the command called name, or nil.
func lookup(cmds []command, name string) *command {
	for i := range cmds {
		if cmds[i].name == name {
			return &cmds[i]
		}
	}
	return nil
}

// runCommand runs the line "/name args".
func (m *Model) runCommand(line string) tea.Cmd {
	name, args, _ := strings.Cut(line[1:], " ")
	c := lookup(m.commands, strings.ToLower(name))
	if c == nil {
		m.unknownCommand(name)
		return nil
	}
	return c.run(m, strings.TrimSpace(args))
}

func (m *Model) unknownCommand(name string) {
	m.addLocal(kindError, "unknown command /"+name+": type /help for the commands")
}

// usageError shows how to use the command called name.
func (m *Model) usageError(name string) tea.Cmd {
	if c := lookup(m.commands, name); c != nil {
		m.addLocal(kindError, "usage: "+usage(*c))
	}
	return nil
}

func usage(c command) string {
	if c.args == "" {
		return "/" + c.name
	}
	return "/" + c.name + " " + c.args
}

// serverCommand runs the server's command called name.
func serverCommand(name string) func(*Model, string) tea.Cmd {
	return func(m *Model, args string) tea.Cmd { return m.runServer(name, args) }
}

func (m *Model) runServer(name, args string) tea.Cmd {
	if m.run == nil {
		m.addLocal(kindError, "/"+name+" is not available on this server")
		return nil
	}
	return runCmd(m.run, m.cur.id, name, args)
}

// runCmd calls Config.Run away from Update, in the context of room; the
// reply comes back as a commandDoneMsg.
func runCmd(run func(room, name, args string) (string, error), room, name, args string) tea.Cmd {
	return func() tea.Msg {
		reply, err := run(room, name, args)
		return commandDoneMsg{reply: reply, err: err}
	}
}

// commandDoneMsg is the outcome of a server command: its reply, shown a
// line at a time as the server laid it out, or an error, on one line.
type commandDoneMsg struct {
	reply string
	err   error
}

func (m *Model) handleCommandDone(msg commandDoneMsg) {
	if msg.err != nil {
		m.addLocal(kindError, sanitize.Line(msg.err.Error()))
	} else if reply := strings.TrimRight(sanitize.Text(msg.reply), " \n"); reply != "" {
		for l := range strings.SplitSeq(reply, "\n") {
			m.addLocal(kindNotice, l)
		}
	}
	m.refreshStatus()
}

func (m *Model) runHelp(args string) tea.Cmd {
	if args != "" {
		return m.helpOne(args)
	}
	keys := m.keys.help()
	width := 0
	for _, c := range m.commands {
		width = max(width, m.st.width(usage(c)))
	}
	for _, h := range keys {
		width = max(width, m.st.width(h.Key))
	}
	// A description that wraps goes on under itself.
	hang := len("  ") + width + len("  ")
	m.addLocal(kindNotice, "commands:")
	for _, c := range m.commands {
		m.transcript.add(&entry{kind: kindNotice, text: column(m.st, usage(c), width, c.help), hang: hang})
	}
	m.addLocal(kindNotice, "keys:")
	for _, h := range keys {
		m.transcript.add(&entry{kind: kindNotice, text: column(m.st, h.Key, width, h.Desc), hang: hang})
	}
	m.addLocal(kindNotice, "start a message with // to send one that begins with /")
	return nil
}

// helpOne is /help COMMAND: the usage of one command.
func (m *Model) helpOne(name string) tea.Cmd {
	if strings.Contains(name, " ") {
		return m.usageError("help")
	}
	name = strings.TrimPrefix(name, "/")
	c := lookup(m.commands, strings.ToLower(name))
	if c == nil {
		m.unknownCommand(name)
		return nil
	}
	m.addLocal(kindNotice, "usage: "+usage(*c))
	if c.help != "" {
		m.addLocal(kindNotice, "  "+c.help)
	}
	return nil
}

// column is one line of /help: an indented term, then its description.
func column(st *styles, term string, width int, desc string) string {
	return "  " + term + spaces(width-st.width(term)+2) + desc
}

// runJoin shows a room the session is in, without asking the server;
// any other room is the server's to join.
func (m *Model) runJoin(args string) tea.Cmd {
	if args == "" {
		return m.usageError("join")
	}
	if name, _, _ := strings.Cut(args, " "); name != "" {
		if r, _ := m.find(roomID(name)); r != nil {
			m.show(r)
			m.resizeSide()
			return nil
		}
	}
	return m.runServer("join", args)
}

func (m *Model) runQuit(args string) tea.Cmd {
	if args != "" {
		return m.usageError("quit")
	}
	return tea.Quit
}

// runReply sends TEXT to the last user who sent a direct message to this
// one, through the server's msg command.
func (m *Model) runReply(text string) tea.Cmd {
	if text == "" {
		return m.usageError("reply")
	}
	if m.peer.userID == "" {
		m.addLocal(kindError, "nobody has sent you a direct message yet")
		return nil
	}
	return m.runServer("msg", m.peer.name+" "+text)
}

func (m *Model) runTimestamp(args string) tea.Cmd {
	switch strings.ToLower(args) {
	case "on":
		m.setClock(true)
		m.addLocal(kindNotice, "timestamps on")
	case "off":
		m.setClock(false)
		m.addLocal(kindNotice, "timestamps off")
	default:
		return m.usageError("timestamp")
	}
	return nil
}

// setClock shows or hides the time of day in every room: the room
// shown now, the others when they are shown.
func (m *Model) setClock(on bool) {
	m.clock = on
	m.transcript.setClock(on)
}

func (m *Model) runBell(args string) tea.Cmd {
	switch strings.ToLower(args) {
	case "on":
		m.bell = bellOn
		m.addLocal(kindNotice, "the bell rings for every message from someone else")
	case "off":
		m.bell = bellOff
		m.addLocal(kindNotice, "the bell is off")
	case "mentions":
		m.bell = bellMentions
		m.addLocal(kindNotice, "the bell rings when someone names you or sends you a direct message")
	default:
		return m.usageError("bell")
	}
	return nil
}
