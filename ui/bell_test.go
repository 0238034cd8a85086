package ui

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/sshchat/sshchat/hub"
)

func TestMentions(t *testing.T) {
	tests := []struct {
		text, name string
		want       []string
	}{
		{"hi ann", "ann", []string{"ann"}},
		{"Ann, ANN and ann!", "ann", []string{"Ann", "ANN", "ann"}},
		{"@ann: look", "ann", []string{"ann"}},
		{"annie joann ann_ ann2 _ann", "ann", nil},
		{"ann\nann", "ann", []string{"ann", "ann"}},
		{"anné ann\u0301", "ann", nil}, // a longer word, a cluster
		{"ann👋", "ann", []string{"ann"}},
		{"ZOË zoë", "Zoë", []string{"ZOË", "zoë"}},
		{"hi Mary Jane", "mary jane", []string{"Mary Jane"}},
		{"漢字さん", "漢字", nil},
		{"漢字 さん", "漢字", []string{"漢字"}},
		{"anything", "", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, s := range mentions(tt.text, tt.name) {
			got = append(got, tt.text[s.start:s.end])
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("mentions(%q, %q) = %q, want %q", tt.text, tt.name, got, tt.want)
		}
	}
}

// rings reports whether a View rings the bell, failing t unless it does
// so at most once and the screen still fits.
func rings(t *testing.T, m *Model) bool {
	t.Helper()
	view := m.View()
	checkScreen(t, view, m.width, m.height)
	switch n := strings.Count(view, "\a"); n {
	case 0:
		return false
	case 1:
		if !strings.HasPrefix(view, "\a") {
			t.Errorf("the BEL is not at the start of the frame: %q", view)
		}
		return true
	default:
		t.Fatalf("the frame rings %d times", n)
		return true
	}
}

// bellDone ends the hold of the bell cmd started, as its tick would.
func bellDone(t *testing.T, m *Model, cmd tea.Cmd) {
	t.Helper()
	if cmd == nil {
		t.Fatal("no command to end the bell")
	}
	start := time.Now()
	for _, msg := range run(cmd) {
		send(m, msg)
	}
	if d := time.Since(start); d < bellHold-10*time.Millisecond {
		t.Errorf("the bell ended after %v, want %v", d, bellHold)
	}
}

func TestMentionRingsOnce(t *testing.T) {
	m, _ := newModel(80, 24)
	g := newEvents()
	if cmd := send(m, EventsMsg{g.join(ann), g.join(bob), g.msg(bob, "no one in particular")}); cmd != nil || rings(t, m) {
		t.Fatal("a message without a mention rings")
	}
	cmd := send(m, EventsMsg{g.msg(bob, "ann: are you there?"), g.msg(carol, "ANN!")})
	if !rings(t, m) {
		t.Fatal("a mention does not ring")
	}
	top := strings.Split(m.View(), "\n")[0]

	// While the bell is held, the frame carries one BEL, and its first
	// line does not change: the renderer writes it once.
	if cmd2 := send(m, EventsMsg{g.join(dave), g.msg(dave, "ann, hello")}); cmd2 != nil {
		t.Error("a second bell during the hold")
	}
	if !rings(t, m) || strings.Split(m.View(), "\n")[0] != top {
		t.Errorf("the first line changed during the hold: %q, was %q", strings.Split(m.View(), "\n")[0], top)
	}

	bellDone(t, m, cmd)
	for range 3 {
		if rings(t, m) {
			t.Fatal("the bell rings again on a later frame")
		}
	}
	if !strings.Contains(m.View(), "3 online") {
		t.Error("the header is not up to date after the bell")
	}

	// And the next mention rings again.
	if send(m, EventsMsg{g.msg(bob, "ann?")}) == nil || !rings(t, m) {
		t.Error("a later mention does not ring")
	}
}

func TestBellModes(t *testing.T) {
	g := newEvents()
	plain := g.msg(bob, "hello all")
	mention := g.msg(bob, "hello ann")
	action := g.action(bob, "pokes ann")
	dm := g.direct(bob, ann, "psst")
	dmSent := g.direct(ann, bob, "psst back")
	own := g.msg(ann, "I am ann")
	tests := []struct {
		bell string
		ev   hub.Event
		want bool
	}{
		{"", plain, false},
		{"", mention, true},
		{"", action, true},
		{"", dm, true},
		{"", dmSent, false},
		{"", own, false},
		{"mentions", mention, true},
		{"on", plain, true},
		{"on", dm, true},
		{"on", own, false},
		{"on", g.join(bob), false},
		{"off", mention, false},
		{"off", dm, false},
	}
	for _, tt := range tests {
		m, _ := newModel(80, 24)
		if tt.bell != "" {
			enter(m, "/bell "+tt.bell)
		}
		cmd := send(m, EventsMsg{tt.ev})
		if got := rings(t, m); got != tt.want || (cmd != nil) != tt.want {
			t.Errorf("/bell %s, %s %q: rings %v, want %v", tt.bell, tt.ev.Type, tt.ev.Message, got, tt.want)
		}
	}
}

func TestHistoryDoesNotRing(t *testing.T) {
	g := newEvents()
	m, _ := newModel(80, 24, func(c *Config) {
		c.History = []hub.Event{g.msg(bob, "ann?"), g.direct(bob, ann, "psst")}
	})
	if rings(t, m) {
		t.Error("the history rings")
	}
}

func TestBellWhenTooSmall(t *testing.T) {
	m, _ := newModel(10, 3)
	g := newEvents()
	send(m, EventsMsg{g.msg(bob, "ann?")})
	if view, want := m.View(), "\a"+(measure{}).fit("terminal too small", 10, unicodeGlyphs.ellipsis); view != want {
		t.Errorf("view = %q, want %q", view, want)
	}
}

func TestOwnNickChange(t *testing.T) {
	m, _ := newModel(80, 24)
	g := newEvents()
	send(m, EventsMsg{g.join(ann), g.join(bob), g.nick(ann, "annie")})
	view := m.View()
	if header := strings.Split(view, "\n")[0]; !strings.HasSuffix(header, " annie ") {
		t.Errorf("header = %q, want the new name", header)
	}
	if !strings.Contains(view, "⇢ ann is now known as annie") {
		t.Errorf("no nick line:\n%s", view)
	}
	if send(m, EventsMsg{g.msg(bob, "ann?")}) != nil {
		t.Error("the old name still rings")
	}
	if send(m, EventsMsg{g.msg(bob, "Annie?")}) == nil {
		t.Error("the new name does not ring")
	}
	// Someone else's rename does not change the header.
	send(m, EventsMsg{g.nick(bob, "robert")})
	if header := strings.Split(m.View(), "\n")[0]; !strings.HasSuffix(header, " annie ") {
		t.Errorf("header = %q", header)
	}
}

func TestMentionIsHighlighted(t *testing.T) {
	g := newEvents()
	batch := EventsMsg{
		g.msg(bob, "hello ann, and hello again Ann"),
		g.action(bob, "hands ann a very long line that wraps right where the name is, ann"),
		g.msg(ann, "I am ann"), // one's own words are not highlighted
	}
	for _, width := range []int{20, 31, 40, 80} {
		c, _ := newModel(width, 24, func(c *Config) { c.Renderer = colorRenderer() })
		p, _ := newModel(width, 24)
		send(c, batch)
		send(p, batch)
		colour, plain := c.View(), p.View()
		checkScreen(t, colour, width, 24)
		if got := ansi.Strip(colour); got != plain {
			t.Errorf("width %d: colour view without its styles differs from the plain view:\n%s\nwant:\n%s", width, got, plain)
		}
		hl := c.st.mention
		if n := strings.Count(colour, hl.pre); n < 4 {
			t.Errorf("width %d: %d highlights, want at least 4:\n%q", width, n, colour)
		}
	}
	c, _ := newModel(80, 24, func(c *Config) { c.Renderer = colorRenderer() })
	send(c, batch)
	hl := c.st.mention
	if view := c.View(); !strings.Contains(view, hl.pre+"Ann"+hl.post) {
		t.Errorf("the name is not highlighted: %q", view)
	}
	if view := c.View(); strings.Contains(view, "I am "+hl.pre) {
		t.Error("one's own message is highlighted")
	}
}

func TestMentionAcrossALineBreak(t *testing.T) {
	m, _ := newModel(24, 10, func(c *Config) {
		c.Name = "mary jane"
		c.Renderer = colorRenderer()
	})
	g := newEvents()
	// At 24 columns, "22:14 Bob: " leaves 13 cells: "abcdefgh mary" fits, "jane" wraps.
	send(m, EventsMsg{g.msg(bob, "abcdefgh mary jane")})
	hl := m.st.mention
	view := m.View()
	checkScreen(t, view, 24, 10)
	if !strings.Contains(view, hl.pre+"mary"+hl.post) || !strings.Contains(view, hl.pre+"jane"+hl.post) {
		t.Errorf("both halves should be highlighted: %q", view)
	}
}

// syncBuffer is a terminal for a program: written by its renderer, read
// by the test once the program has ended.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestTerminalHearsOneBell runs the model in a real program: what its
// renderer writes holds one BEL for a mention, however the frames fall
// during the hold, and none after.
func TestTerminalHearsOneBell(t *testing.T) {
	m, _ := newModel(80, 24)
	out := &syncBuffer{}
	p := tea.NewProgram(m, tea.WithInput(nil), tea.WithOutput(out), tea.WithoutSignalHandler(),
		tea.WithAltScreen(), tea.WithFPS(20))
	done := make(chan error, 1)
	go func() {
		_, err := p.Run()
		done <- err
	}()
	g := newEvents()
	frame := 100 * time.Millisecond // two frames at 20 a second
	p.Send(EventsMsg{g.join(ann), g.join(bob)})
	time.Sleep(frame)
	if n := strings.Count(out.String(), "\a"); n != 0 {
		t.Fatalf("%d BEL before any mention", n)
	}
	p.Send(EventsMsg{g.msg(bob, "ann?")})
	time.Sleep(frame)
	// During the hold: a change to the first line, another mention.
	p.Send(EventsMsg{g.join(carol), g.msg(carol, "ann!")})
	time.Sleep(bellHold)
	p.Send(EventsMsg{g.msg(bob, "after the bell"), g.join(dave)})
	time.Sleep(frame)
	p.Quit()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	written := out.String()
	if n := strings.Count(written, "\a"); n != 1 {
		t.Errorf("the terminal got %d BEL, want 1", n)
	}
	if !strings.Contains(written, "4 online") || !strings.Contains(written, "after the bell") {
		t.Error("the frames after the bell were not drawn")
	}
}
