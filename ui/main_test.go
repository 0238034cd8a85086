package ui

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
	"go.uber.org/goleak"

	"github.com/sshchat/sshchat/hub"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

type testUser struct{ id, name string }

var (
	ann   = testUser{"SHA256:ann0000000000000000000000000000000000000000", "ann"}
	bob   = testUser{"SHA256:bob0000000000000000000000000000000000000000", "Bob"}
	carol = testUser{"SHA256:carol00000000000000000000000000000000000000", "carol"}
	dave  = testUser{"SHA256:dave000000000000000000000000000000000000000", "dave"}
	erin  = testUser{"SHA256:erin000000000000000000000000000000000000000", "Erin"}
	bea   = testUser{"SHA256:bea0000000000000000000000000000000000000000", "bea"}
	admin = testUser{"SHA256:admin00000000000000000000000000000000000000", "admin"}
)

// t0 is 2023-11-14 22:13:20 UTC.
const t0 = 1_700_000_000

// events builds hub events with increasing IDs, a minute apart.
type events struct {
	id   int
	time int64
}

func newEvents() *events { return &events{time: t0} }

func (g *events) next(typ string, u testUser) hub.Event {
	g.id++
	g.time += 60
	return hub.Event{
		ID: g.id, ChatRoomID: "lobby", Type: typ, UserID: u.id, Name: u.name,
		SessionID: "s" + u.name, UnixTime: g.time,
	}
}

func (g *events) msg(u testUser, text string) hub.Event {
	ev := g.next(hub.EventTypeMessage, u)
	ev.SessionID, ev.Message = "", text
	return ev
}

func (g *events) join(u testUser) hub.Event { return g.next(hub.EventTypeJoin, u) }
func (g *events) add(u testUser) hub.Event  { return g.next(hub.EventTypeAdd, u) }

func (g *events) leave(u testUser, reason string) hub.Event {
	ev := g.next(hub.EventTypeLeave, u)
	ev.Reason = reason
	return ev
}

// said is an event of type typ in which u says text to the room.
func (g *events) said(typ string, u testUser, text string) hub.Event {
	ev := g.next(typ, u)
	ev.SessionID, ev.Message = "", text
	return ev
}

func (g *events) action(u testUser, text string) hub.Event {
	return g.said(hub.EventTypeAction, u, text)
}

func (g *events) direct(from, to testUser, text string) hub.Event {
	ev := g.said(hub.EventTypeDirect, from, text)
	ev.To, ev.ToName = to.id, to.name
	return ev
}

func (g *events) away(u testUser, why string) hub.Event { return g.said(hub.EventTypeAway, u, why) }
func (g *events) back(u testUser) hub.Event             { return g.said(hub.EventTypeBack, u, "") }
func (g *events) motd(text string) hub.Event            { return g.said(hub.EventTypeMotd, admin, text) }

func (g *events) notice(text string) hub.Event {
	return g.said(hub.EventTypeNotice, testUser{}, text)
}

// nick renames u to name; u keeps its old name in the event.
func (g *events) nick(u testUser, name string) hub.Event {
	ev := g.said(hub.EventTypeNick, u, "")
	ev.Name, ev.OldName = name, u.name
	return ev
}

// moderate is admin doing typ to u, until a Unix time (0 for good).
func (g *events) moderate(typ string, u testUser, until int64, reason string) hub.Event {
	ev := g.said(typ, admin, "")
	ev.To, ev.ToName, ev.Until, ev.Reason = u.id, u.name, until, reason
	return ev
}

func (g *events) close(reason string) hub.Event {
	ev := g.next(hub.EventTypeClose, testUser{})
	ev.SessionID, ev.Reason = "", reason
	return ev
}

// asciiRenderer renders without colour, as the golden screens are kept.
func asciiRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard, termenv.WithProfile(termenv.Ascii))
	r.SetHasDarkBackground(true)
	return r
}

func colorRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor) // io.Discard is no terminal: say what it is
	r.SetHasDarkBackground(true)
	return r
}

// poster records what the model publishes, and refuses it with err.
type poster struct {
	sent  []string
	rooms []string // the room of each
	err   error
}

func (p *poster) post(room, text string) error {
	if p.err != nil {
		return p.err
	}
	p.sent = append(p.sent, text)
	p.rooms = append(p.rooms, room)
	return nil
}

// serverCommands are the commands of a fake server, as Config.Commands.
var serverCommands = []CommandInfo{
	{"me", "TEXT", "say what you are doing, in the third person"},
	{"msg", "NAME TEXT", "send a direct message"},
	{"nick", "NEW", "change your name, for all your sessions"},
	{"away", "[REASON]", "say you are away"},
	{"back", "", "say you are back"},
	{"who", "", "who is online"},
	{"whois", "NAME", "about a user"},
}

// runner is a fake Config.Run: it records the calls and answers from
// replies and errs, by command name.
type runner struct {
	calls   []string // "name|args"
	rooms   []string // the room of each
	replies map[string]string
	errs    map[string]error
}

func (r *runner) run(room, name, args string) (string, error) {
	r.calls = append(r.calls, name+"|"+args)
	r.rooms = append(r.rooms, room)
	return r.replies[name], r.errs[name]
}

// withServer gives the session the fake server's commands, run by r.
func withServer(r *runner) func(*Config) {
	return func(c *Config) {
		c.Commands = serverCommands
		c.Run = r.run
	}
}

// fakeRoster is a server's shared list of who is online, in display
// order: the same in every room, but those of rooms.
type fakeRoster struct {
	members []Member
	rooms   map[string][]Member
	asked   []string // the rooms asked for
}

func (f *fakeRoster) Members(room string, n int) ([]Member, int) {
	f.asked = append(f.asked, room)
	ms := f.members
	if r, ok := f.rooms[room]; ok {
		ms = r
	}
	return ms[:min(n, len(ms))], len(ms)
}

func (f *fakeRoster) Complete(prefix, userID string) []string {
	var names []string
	for _, m := range f.members {
		if m.UserID != userID && strings.HasPrefix(strings.ToLower(m.Name), strings.ToLower(prefix)) {
			names = append(names, m.Name)
		}
	}
	return names
}

// online is a roster of users, one session each.
func online(users ...testUser) *fakeRoster {
	r := &fakeRoster{}
	for _, u := range users {
		r.members = append(r.members, Member{UserID: u.id, Name: u.name, Sessions: 1})
	}
	slices.SortFunc(r.members, func(a, b Member) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return r
}

// testShared is what the screens of the tests share, as the sessions of a
// server do: an event of one test with the ID of another's gets its own
// entry (see TestSharedOtherEventSameID).
var testShared = NewShared()

// newModel is ann's session at width×height, alone online, without
// colour, in UTC, drawing on a terminal emulator (see shows) as it would on
// the server, sharing with the other screens of the tests (testShared), its
// first frame drawn.
func newModel(width, height int, edit ...func(*Config)) (*Model, *poster) {
	p := &poster{}
	cfg := Config{
		Rooms:    []RoomView{{ID: "lobby"}},
		UserID:   ann.id,
		Name:     ann.name,
		Roster:   online(ann),
		Renderer: asciiRenderer(),
		Post:     p.post,
		Width:    width,
		Height:   height,
		Location: time.UTC,
		Shared:   testShared,
	}
	for _, e := range edit {
		e(&cfg)
	}
	if cfg.Screen == nil && cfg.Lines == nil {
		cfg.Screen = newPainter(width, height).scr
	}
	m := New(cfg)
	m.Init()
	return m, p
}

// painterOf is the terminal emulator m draws on, if newModel gave it one.
func painterOf(m *Model) *painter {
	if m.screen == nil {
		return nil
	}
	p, _ := m.screen.w.(*painter)
	return p
}

// shows is what the terminal of m shows: its rows as text, without
// trailing blanks.
func shows(m *Model) string {
	return painterOf(m).text()
}

// written is what m's Screen has sent to its terminal, escape sequences
// included, since it started or the test last reset painter.out.
func written(m *Model) string {
	return painterOf(m).out.String()
}

// send delivers msgs one by one and returns the last command. A new size
// reaches the terminal first, as it does a real one.
func send(m *Model, msgs ...tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	for _, msg := range msgs {
		if p := painterOf(m); p != nil {
			if r, ok := msg.(ResizeMsg); ok {
				p.resize(r.Width, r.Height)
			}
		}
		_, cmd = m.Update(msg)
	}
	return cmd
}

func typeText(m *Model, s string) {
	send(m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)})
}

// enter types line and presses Enter, then runs what that started and
// delivers its messages, as the program would.
func enter(m *Model, line string) {
	typeText(m, line)
	for _, msg := range run(press(m, tea.KeyEnter)) {
		if msg != nil {
			send(m, msg)
		}
	}
}

// paste delivers s as a bracketed paste.
func paste(m *Model, s string) tea.Cmd {
	return send(m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s), Paste: true})
}

func press(m *Model, k tea.KeyType) tea.Cmd {
	return send(m, tea.KeyMsg{Type: k})
}

// run runs cmd and the commands it batches, and returns their messages.
func run(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if batch, ok := msg.(tea.BatchMsg); ok {
		var msgs []tea.Msg
		for _, c := range batch {
			msgs = append(msgs, run(c)...)
		}
		return msgs
	}
	return []tea.Msg{msg}
}

func isQuit(cmd tea.Cmd) bool {
	for _, msg := range run(cmd) {
		if _, ok := msg.(tea.QuitMsg); ok {
			return true
		}
	}
	return false
}

// checkScreen fails t unless the frame m lays out fits (checkFrame) and
// the terminal shows it as laid out.
func checkScreen(t testing.TB, m *Model, width, height int) {
	t.Helper()
	checkFrame(t, m, width, height)
	// Row by row, the member list by its column: a row the terminal draws
	// narrower than measured (a cluster of emoji) leaves blanks before it.
	p, f := painterOf(m), m.layout()
	for y, r := range f.rows {
		end := f.width
		if r.side != "" {
			end = f.sideCol
		}
		got, want := vtRow(p.term, y, 0, end), strings.TrimRight(ansi.Strip(r.text), " ")
		if r.side != "" {
			got += "|" + vtRow(p.term, y, f.sideCol, f.width)
			want += "|" + strings.TrimRight(ansi.Strip(r.side), " ")
		}
		if got != want {
			t.Fatalf("row %d of the terminal is %q, want %q; it shows\n%s\nwant the frame\n%s", y, got, want, shows(m), frameText(f))
		}
	}
}

// checkFrame fails t unless the frame m lays out is exactly height rows
// of width cells or fewer, its member list, if any, ending at the right
// edge.
func checkFrame(t interface {
	Helper()
	Fatalf(string, ...any)
}, m *Model, width, height int) {
	t.Helper()
	f := m.layout()
	if len(f.rows) != height {
		t.Fatalf("the frame has %d rows, want %d:\n%s", len(f.rows), height, shows(m))
	}
	for i, r := range f.rows {
		w := lipgloss.Width(r.text)
		switch {
		case r.side != "" && w > f.sideCol:
			t.Fatalf("row %d is %d cells wide, more than the %d left of the member list: %q", i, w, f.sideCol, r.text)
		case r.side != "" && f.sideCol+lipgloss.Width(r.side) != width:
			t.Fatalf("row %d with its member list is %d cells wide, want %d: %q", i, f.sideCol+lipgloss.Width(r.side), width, r.side)
		case w > width:
			t.Fatalf("row %d is %d cells wide, more than %d: %q", i, w, width, r.text)
		}
	}
}

// golden compares got with testdata/name.golden, or rewrites it with
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("screen differs from %s (run go test -update to accept it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
