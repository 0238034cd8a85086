package ui

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

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

// rings reports whether the terminal heard the bell since the last call,
// failing t unless it did so at most once, at the start of a frame, and
// the screen still fits.
func rings(t *testing.T, m *Model) bool {
	t.Helper()
	p := painterOf(m)
	out := p.out.String()
	p.out.Reset()
	checkScreen(t, m, m.width, m.height)
	switch n := strings.Count(out, "\a"); n {
	case 0:
		return false
	case 1:
		if !strings.HasPrefix(out[strings.Index(out, "\a")-len(syncBegin):], syncBegin+"\a") {
			t.Errorf("the BEL is not at the start of a frame: %q", out)
		}
		return true
	default:
		t.Fatalf("the terminal rang %d times", n)
		return true
	}
}

// bellDone ends the hold of the bell cmd started, as its tick would; the
// bell rang after before.
func bellDone(t *testing.T, m *Model, cmd tea.Cmd, before time.Time) {
	t.Helper()
	if cmd == nil {
		t.Fatal("no command to end the bell")
	}
	for _, msg := range run(cmd) {
		send(m, msg)
	}
	if d := time.Since(before); d < bellHold {
		t.Errorf("the bell ended after %v, want %v", d, bellHold)
	}
}

func TestMentionRingsOnce(t *testing.T) {
	m, _ := newModel(80, 24)
	g := newEvents()
	if cmd := send(m, EventsMsg{g.join(ann), g.join(bob), g.msg(bob, "no one in particular")}); cmd != nil || rings(t, m) {
		t.Fatal("a message without a mention rings")
	}
	before := time.Now()
	cmd := send(m, EventsMsg{g.msg(bob, "ann: are you there?"), g.msg(carol, "ANN!")})
	if !rings(t, m) {
		t.Fatal("a mention does not ring")
	}

	// While the bell is held, a mention rings no second time.
	if cmd2 := send(m, EventsMsg{g.join(dave), g.msg(dave, "ann, hello")}); cmd2 != nil {
		t.Error("a second bell during the hold")
	}
	if rings(t, m) {
		t.Error("a mention during the hold rang again")
	}

	bellDone(t, m, cmd, before)
	for range 3 {
		if rings(t, m) {
			t.Fatal("the bell rings again on a later frame")
		}
	}
	if !strings.Contains(shows(m), "ann, hello") {
		t.Error("the screen is not up to date after the bell")
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
		c.Rooms[0].History = []hub.Event{g.msg(bob, "ann?"), g.direct(bob, ann, "psst")}
	})
	if rings(t, m) {
		t.Error("the history rings")
	}
}

func TestBellWhenTooSmall(t *testing.T) {
	m, _ := newModel(10, 3)
	g := newEvents()
	send(m, EventsMsg{g.msg(bob, "ann?")})
	if view, want := shows(m), (measure{}).fit("terminal too small", 10, unicodeGlyphs.ellipsis); view != want {
		t.Errorf("the terminal shows %q, want %q", view, want)
	}
	if n := strings.Count(written(m), "\a"); n != 1 {
		t.Errorf("the terminal rang %d times, want 1", n)
	}
}

func TestOwnNickChange(t *testing.T) {
	m, _ := newModel(80, 24)
	g := newEvents()
	send(m, EventsMsg{g.join(ann), g.join(bob), g.nick(ann, "annie")})
	view := shows(m)
	if header := strings.Split(view, "\n")[0]; !strings.HasSuffix(header, " annie") {
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
	if header := strings.Split(shows(m), "\n")[0]; !strings.HasSuffix(header, " annie") {
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
		checkScreen(t, c, width, 24)
		colour := written(c)
		if got, plain := shows(c), shows(p); got != plain {
			t.Errorf("width %d: the colour screen's text differs from the plain screen:\n%s\nwant:\n%s", width, got, plain)
		}
		hl := c.st.mention
		if n := strings.Count(colour, hl.pre); n < 4 {
			t.Errorf("width %d: %d highlights, want at least 4:\n%q", width, n, colour)
		}
	}
	c, _ := newModel(80, 24, func(c *Config) { c.Renderer = colorRenderer() })
	send(c, batch)
	hl := c.st.mention
	if out := written(c); !strings.Contains(out, hl.pre+"Ann"+hl.post) {
		t.Errorf("the name is not highlighted: %q", out)
	}
	if out := written(c); strings.Contains(out, "I am "+hl.pre) {
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
	checkScreen(t, m, 24, 10)
	view := written(m)
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

// TestTerminalHearsOneBell runs the model in a real program, as the
// server does: without Bubble Tea's renderer, drawing on its Screen. A
// burst of mentions makes one BEL; once the hold is over, a mention rings
// again. It waits for what the Screen wrote, never for a time.
func TestTerminalHearsOneBell(t *testing.T) {
	out := &syncBuffer{}
	scr := NewScreen(out, nil)
	m, _ := newModel(80, 24, func(c *Config) { c.Screen = scr })
	p := tea.NewProgram(m, tea.WithInput(nil), tea.WithOutput(out), tea.WithoutSignalHandler(), tea.WithoutRenderer())
	done := make(chan error, 1)
	go func() {
		_, err := p.Run()
		done <- err
	}()
	drawn := func(what string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(out.String(), what) {
			if time.Now().After(deadline) {
				p.Quit()
				<-done
				t.Fatalf("%q was never drawn", what)
			}
			time.Sleep(time.Millisecond) // polling the output, not synchronizing
		}
	}
	g := newEvents()
	p.Send(EventsMsg{g.join(ann), g.join(bob)})
	drawn("Bob joined")
	if n := strings.Count(out.String(), "\a"); n != 0 {
		t.Fatalf("%d BEL before any mention", n)
	}
	p.Send(EventsMsg{g.msg(bob, "ann?"), g.join(carol), g.msg(carol, "ann!")})
	drawn("carol: ann!")
	if n := strings.Count(out.String(), "\a"); n != 1 {
		t.Fatalf("a burst of mentions rang %d times, want 1", n)
	}
	// Mention after mention, each drawn before the next, until the hold is
	// over and one rings.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; strings.Count(out.String(), "\a") < 2; i++ {
		if time.Now().After(deadline) {
			p.Quit()
			<-done
			t.Fatal("the bell never rang again")
		}
		text := "ann, number " + strconv.Itoa(i)
		p.Send(EventsMsg{g.msg(bob, text)})
		drawn(text)
	}
	p.Quit()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\a"); n != 2 {
		t.Errorf("the terminal got %d BEL, want 2", n)
	}
}

// TestRosterEventTellsTheOwnName: a session that fell behind gets its own
// renames folded into a roster event, which says the current name and
// makes no line.
func TestRosterEventTellsTheOwnName(t *testing.T) {
	m, _ := newModel(80, 24)
	g := newEvents()
	send(m, EventsMsg{g.join(ann), g.join(bob)})
	before := shows(m)
	roster := g.next(hub.EventTypeRoster, ann)
	roster.Name = "annie"
	send(m, EventsMsg{roster})
	view := shows(m)
	if header := strings.Split(view, "\n")[0]; !strings.HasSuffix(header, " annie") {
		t.Errorf("header = %q, want the new name", header)
	}
	if strings.Count(view, "joined") != strings.Count(before, "joined") || strings.Contains(view, "roster") {
		t.Errorf("a roster event made a line:\n%s", view)
	}
}
