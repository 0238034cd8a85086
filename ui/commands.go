package ui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// command is one slash command. /help and tab completion are made from
// the registry: a new command is one more entry in defaultCommands.
type command struct {
	name string // without the slash
	args string // its arguments, as /help shows them: "<name>"
	help string
	run  func(m *Model, args string) tea.Cmd
}

func defaultCommands() []command {
	return []command{
		{name: "help", help: "show the commands and keys", run: (*Model).runHelp},
		{name: "quit", help: "leave the chat", run: (*Model).runQuit},
	}
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
		m.addLocal(kindError, "unknown command /"+name+": type /help for the commands")
		return nil
	}
	return c.run(m, strings.TrimSpace(args))
}

func (m *Model) runHelp(string) tea.Cmd {
	keys := m.keys.help()
	width := 0
	for _, c := range m.commands {
		width = max(width, len(usage(c)))
	}
	for _, h := range keys {
		width = max(width, len(h.Key))
	}
	m.addLocal(kindNotice, "commands:")
	for _, c := range m.commands {
		m.addLocal(kindNotice, column(usage(c), width, c.help))
	}
	m.addLocal(kindNotice, "keys:")
	for _, h := range keys {
		m.addLocal(kindNotice, column(h.Key, width, h.Desc))
	}
	m.addLocal(kindNotice, "start a message with // to send one that begins with /")
	return nil
}

// column is one line of /help: an indented term, then its description.
func column(term string, width int, desc string) string {
	return "  " + term + spaces(width-len(term)+2) + desc
}

func (m *Model) runQuit(string) tea.Cmd { return tea.Quit }

func usage(c command) string {
	if c.args == "" {
		return "/" + c.name
	}
	return "/" + c.name + " " + c.args
}

// suggestions are what Tab completes in the input line.
func suggestions(cmds []command) []string {
	s := make([]string, len(cmds))
	for i, c := range cmds {
		s[i] = "/" + c.name
	}
	return s
}
