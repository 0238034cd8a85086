package ui

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
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

func (g *events) join(u testUser) hub.Event   { return g.next(hub.EventTypeJoin, u) }
func (g *events) add(u testUser) hub.Event    { return g.next(hub.EventTypeAdd, u) }
func (g *events) remove(u testUser) hub.Event { return g.next(hub.EventTypeRemove, u) }

func (g *events) leave(u testUser, reason string) hub.Event {
	ev := g.next(hub.EventTypeLeave, u)
	ev.Reason = reason
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
	sent []string
	err  error
}

func (p *poster) post(text string) error {
	if p.err != nil {
		return p.err
	}
	p.sent = append(p.sent, text)
	return nil
}

// newModel is ann's session at width×height, without colour, in UTC.
func newModel(width, height int, edit ...func(*Config)) (*Model, *poster) {
	p := &poster{}
	cfg := Config{
		Room:     "lobby",
		UserID:   ann.id,
		Name:     ann.name,
		Users:    []hub.User{{UserID: ann.id, Name: ann.name, Sessions: 1}},
		Renderer: asciiRenderer(),
		Post:     p.post,
		Width:    width,
		Height:   height,
		Location: time.UTC,
	}
	for _, e := range edit {
		e(&cfg)
	}
	return New(cfg), p
}

// send delivers msgs one by one and returns the last command.
func send(m *Model, msgs ...tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	for _, msg := range msgs {
		_, cmd = m.Update(msg)
	}
	return cmd
}

func typeText(m *Model, s string) {
	send(m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)})
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

// checkScreen fails t unless view is exactly height lines, none wider
// than width.
func checkScreen(t testing.TB, view string, width, height int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != height {
		t.Fatalf("view has %d lines, want %d:\n%s", len(lines), height, view)
	}
	for i, l := range lines {
		if w := lipgloss.Width(l); w > width {
			t.Fatalf("line %d is %d cells wide, more than %d: %q", i, w, width, l)
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
