package ui

import (
	"errors"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/sshchat/sshchat/hub"
)

// notices are the lines of the transcript that only this session sees.
func notices(m *Model) []string {
	var out []string
	for _, e := range m.transcript.entries {
		if e.kind == kindNotice || e.kind == kindError {
			out = append(out, e.text)
		}
	}
	return out
}

// lastLine is the text of the newest transcript entry.
func lastLine(m *Model) string {
	return m.transcript.entries[len(m.transcript.entries)-1].text
}

func TestServerCommandsRunInACmd(t *testing.T) {
	r := &runner{}
	m, p := newModel(80, 24, withServer(r))
	typeText(m, "/NICK annie")
	cmd := press(m, tea.KeyEnter)
	if len(r.calls) != 0 {
		t.Fatalf("Run called during Update: %q", r.calls)
	}
	for _, msg := range run(cmd) {
		send(m, msg)
	}
	if want := []string{"nick|annie"}; !slices.Equal(r.calls, want) {
		t.Errorf("calls %q, want %q", r.calls, want)
	}
	if len(p.sent) != 0 {
		t.Errorf("a command was posted as a message: %q", p.sent)
	}
	if got := notices(m); len(got) != 0 {
		t.Errorf("an empty reply showed %q", got)
	}
}

func TestServerCommands(t *testing.T) {
	tests := []struct {
		line      string
		replies   map[string]string
		errs      map[string]error
		wantCalls []string
		want      []string // the lines the session shows
	}{
		{
			line:      "/whois Bob",
			replies:   map[string]string{"whois": "Bob\n  idle 12s\n\n"},
			wantCalls: []string{"whois|Bob"},
			want:      []string{"Bob", "  idle 12s"},
		},
		{
			line:      "/msg   Bob   see you  ",
			wantCalls: []string{"msg|Bob   see you"},
		},
		{
			line:      "/nick annie",
			errs:      map[string]error{"nick": errors.New("usage: /nick NEW\nsecond line")},
			wantCalls: []string{"nick|annie"},
			want:      []string{"usage: /nick NEW second line"},
		},
		{
			line:      "/who",
			replies:   map[string]string{"who": "\x1b[2Jonline: 1\r\n  ann\x07"},
			wantCalls: []string{"who|"},
			want:      []string{"online: 1", "  ann"},
		},
		{
			line: "/kick Bob", // not one of this user's commands
			want: []string{"unknown command /kick: type /help for the commands"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			r := &runner{replies: tt.replies, errs: tt.errs}
			m, _ := newModel(80, 24, withServer(r))
			enter(m, tt.line)
			if !slices.Equal(r.calls, tt.wantCalls) {
				t.Errorf("calls %q, want %q", r.calls, tt.wantCalls)
			}
			if got := notices(m); !slices.Equal(got, tt.want) {
				t.Errorf("shown %q, want %q", got, tt.want)
			}
		})
	}
}

func TestServerCommandWithoutRun(t *testing.T) {
	m, _ := newModel(80, 24, func(c *Config) { c.Commands = serverCommands })
	enter(m, "/who")
	if got, want := lastLine(m), "/who is not available on this server"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLocalCommandsHideTheServers(t *testing.T) {
	r := &runner{}
	m, _ := newModel(80, 40, func(c *Config) {
		c.Commands = append([]CommandInfo{{"help", "", "the server's help"}, {"/Quit", "", ""}, {"", "", ""}}, serverCommands...)
		c.Run = r.run
	})
	var names []string
	for _, c := range m.commands {
		names = append(names, c.name)
	}
	want := []string{"away", "back", "bell", "help", "join", "me", "msg", "nick", "quit", "reply", "timestamp", "who", "whois"}
	if !slices.Equal(names, want) {
		t.Errorf("commands %q, want %q", names, want)
	}
	enter(m, "/help")
	if len(r.calls) != 0 || strings.Contains(shows(m), "the server's help") {
		t.Errorf("the server's /help ran or is listed: calls %q", r.calls)
	}
}

func TestHelp(t *testing.T) {
	m, _ := newModel(80, 40, withServer(&runner{}))
	enter(m, "/help")
	got := notices(m)
	for _, want := range []string{
		"commands:",
		"  /bell on|off|mentions  ring for every message, never, or mentions",
		"  /help [COMMAND]        show the commands and keys, or one command",
		"  /msg NAME TEXT         send a direct message",
		"  /nick NEW              change your name, for all your sessions",
		"keys:",
		"  Tab                    complete a command or a name",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("/help lacks %q:\n%s", want, strings.Join(got, "\n"))
		}
	}
}

func TestHelpWrapsUnderTheDescriptions(t *testing.T) {
	m, _ := newModel(60, 70, withServer(&runner{}), func(c *Config) {
		c.Commands = append(c.Commands, CommandInfo{"ban", "NAME [DURATION] [REASON]",
			"refuse NAME's key, for DURATION (e.g. 2h) or for good"})
	})
	enter(m, "/help")
	checkScreen(t, m, 60, 70)
	view := shows(m)
	want := "  /ban NAME [DURATION] [REASON]  refuse NAME's key, for\n" +
		"                                 DURATION (e.g. 2h) or for\n" +
		"                                 good\n"
	if !strings.Contains(view, want) {
		t.Errorf("no hanging indent:\n%s", view)
	}
	// Too narrow for it: the usual indent.
	send(m, ResizeMsg{Width: 40, Height: 70})
	checkScreen(t, m, 40, 70)
	view = shows(m)
	if strings.Contains(view, "\n"+spaces(33)) || !strings.Contains(view, "\n  for good\n") {
		t.Errorf("not the usual indent at 40 columns:\n%s", view)
	}
}

func TestHelpOneCommand(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{"/help nick", []string{"usage: /nick NEW", "  change your name, for all your sessions"}},
		{"/help /BELL", []string{"usage: /bell on|off|mentions", "  ring for every message, never, or mentions"}},
		{"/help back", []string{"usage: /back", "  say you are back"}},
		{"/help nope", []string{"unknown command /nope: type /help for the commands"}},
		{"/help nick me", []string{"usage: /help [COMMAND]"}},
	}
	for _, tt := range tests {
		m, _ := newModel(80, 24, withServer(&runner{}))
		enter(m, tt.line)
		if got := notices(m); !slices.Equal(got, tt.want) {
			t.Errorf("%s: shown %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestLocalCommandUsage(t *testing.T) {
	tests := []struct{ line, want string }{
		{"/bell", "usage: /bell on|off|mentions"},
		{"/bell loud", "usage: /bell on|off|mentions"},
		{"/timestamp", "usage: /timestamp on|off"},
		{"/timestamp sometimes", "usage: /timestamp on|off"},
		{"/reply", "usage: /reply TEXT"},
		{"/quit now", "usage: /quit"},
	}
	for _, tt := range tests {
		r := &runner{}
		m, _ := newModel(80, 24, withServer(r))
		typeText(m, tt.line)
		cmd := press(m, tea.KeyEnter)
		if isQuit(cmd) || len(r.calls) != 0 {
			t.Errorf("%s: quit or ran %q", tt.line, r.calls)
		}
		if got := notices(m); !slices.Equal(got, []string{tt.want}) {
			t.Errorf("%s: shown %q, want %q", tt.line, got, tt.want)
		}
		if e := m.transcript.entries[len(m.transcript.entries)-1]; e.kind != kindError {
			t.Errorf("%s: the usage is not an error line", tt.line)
		}
	}
}

func TestReply(t *testing.T) {
	r := &runner{}
	m, _ := newModel(80, 24, withServer(r))
	g := newEvents()
	send(m, EventsMsg{g.join(ann), g.join(bob)})

	enter(m, "/reply hello?")
	if got, want := lastLine(m), "nobody has sent you a direct message yet"; got != want || len(r.calls) != 0 {
		t.Fatalf("without a direct message: %q and calls %q", got, r.calls)
	}

	send(m, EventsMsg{g.direct(bob, ann, "psst"), g.direct(ann, carol, "not this one")})
	enter(m, "/reply  hi there ")
	send(m, EventsMsg{g.nick(bob, "Bobby")})
	enter(m, "/reply again")
	if want := []string{"msg|Bob hi there", "msg|Bobby again"}; !slices.Equal(r.calls, want) {
		t.Errorf("calls %q, want %q", r.calls, want)
	}
}

func TestReplyToADirectMessageInTheHistory(t *testing.T) {
	r := &runner{}
	g := newEvents()
	m, _ := newModel(80, 24, withServer(r), func(c *Config) {
		c.Rooms[0].History = []hub.Event{g.direct(carol, ann, "before you came back")}
	})
	enter(m, "/reply thanks")
	if want := []string{"msg|carol thanks"}; !slices.Equal(r.calls, want) {
		t.Errorf("calls %q, want %q", r.calls, want)
	}
}

func TestTimestampOff(t *testing.T) {
	m, _ := newModel(40, 12)
	g := newEvents()
	send(m, EventsMsg{g.join(ann), g.msg(bob, "a message long enough to wrap at forty columns")})
	enter(m, "/timestamp off")
	rows := transcriptRows(shows(m))
	want := []string{
		"⇢ ann joined",
		"Bob: a message long enough to wrap at",
		"     forty columns",
		"timestamps off",
	}
	if got := rows[len(rows)-len(want):]; !slices.Equal(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
	enter(m, "/timestamp on")
	rows = transcriptRows(shows(m))
	if got := rows[len(rows)-4]; got != "22:15 Bob: a message long enough to wrap" {
		t.Errorf("with timestamps again: %q", got)
	}
	checkScreen(t, m, 40, 12)
}

// TestHelpListsEveryKey: /help names every key the chat and its input
// line answer to.
func TestHelpListsEveryKey(t *testing.T) {
	m, _ := newModel(100, 80)
	enter(m, "/help")
	view := shows(m)
	for _, k := range []string{"Enter", "Tab", "Up/Down", "PgUp/PgDn", "End", "Ctrl+L", "Ctrl+C", "mouse wheel",
		"Left/Right", "Alt+B", "Alt+F", "Ctrl+A", "Home", "Ctrl+E", "Ctrl+W", "Alt+D", "Ctrl+U", "Ctrl+K", "Backspace"} {
		if !strings.Contains(view, k) {
			t.Errorf("/help does not list %s:\n%s", k, view)
		}
	}
}
