package ui

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"pgregory.net/rapid"

	"github.com/sshchat/sshchat/hub"
)

// The terminfo entries named here are those of ncurses-base, on every
// Debian system (CI installs ncurses-term for the rest).
func TestCapsFor(t *testing.T) {
	tests := []struct {
		term string
		want Caps
		ok   bool
	}{
		{"xterm-256color", FullCaps, true},
		{"tmux-256color", FullCaps, true},
		{"screen-256color", FullCaps, true},
		{"vt100", Caps{}, true},
		{"vt220", Caps{}, true},
		{"linux", Caps{Mouse: true}, true},
		{"xterm-no-such-variant", FullCaps, true}, // the family's entry
		{"dumb", Caps{}, false},
		{"", Caps{}, false},
		{"no-such-terminal", Caps{}, false},
		{"../../../etc/passwd", Caps{}, false},
		{".hidden", Caps{}, false},
		{strings.Repeat("x", 100), Caps{}, false},
	}
	for _, tt := range tests {
		got, ok := CapsFor(tt.term)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CapsFor(%q) = %+v, %v; want %+v, %v", tt.term, got, ok, tt.want, tt.ok)
		}
	}
}

// scrolls and modes are the sequences a Screen may send only where the
// terminal has the capability.
var (
	scrolls = regexp.MustCompile(`\x1b\[[0-9;]*[STr]`)
	modes   = regexp.MustCompile(`\x1b\[\?(1049|1002|1006|2004|2026|2027)[hl$]`)
)

// TestScreenWithoutScrollRegion: on a terminal without a scroll region
// (vt100) the Screen draws again the rows that changed, never scrolls,
// and sets no mode the terminal lacks; both emulators show every frame.
func TestScreenWithoutScrollRegion(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		g := &frameGen{width: 60, height: 12, side: true}
		tt := newTwoTerminals(g.width, g.height)
		tt.p.out.Reset()
		tt.p.scr = NewScreen(tt.p, nil)
		tt.p.scr.SetCaps(Caps{})
		tt.p.scr.Start()
		for i := range rapid.IntRange(1, 40).Draw(t, "frames") {
			g.step(t)
			f := g.frame()
			if tt.p.term.Width() != f.width || tt.p.term.Height() != f.height {
				tt.resize(f.width, f.height)
			}
			tt.p.scr.draw(f)
			out := tt.flush(t)
			if m := scrolls.Find(out); m != nil {
				t.Fatalf("frame %d: the screen scrolled (%q) without a scroll region", i, m)
			}
			if m := modes.Find(out); m != nil {
				t.Fatalf("frame %d: the screen set a mode the terminal lacks: %q", i, m)
			}
			tt.check(t, fmt.Sprintf("frame %d", i), f, true)
		}
		tt.p.out.Reset()
		tt.p.scr.Close()
		if m := modes.Find(tt.p.out.Bytes()); m != nil {
			t.Fatalf("closing reset a mode never set: %q", m)
		}
	})
}

// TestScreenFollowsCaps: each mode is set, and reset at the end, only
// where the caps have it.
func TestScreenFollowsCaps(t *testing.T) {
	for _, tc := range []struct {
		caps      Caps
		want, not []string
	}{
		{FullCaps, []string{"\x1b[?1049h", "\x1b[?1002h", "\x1b[?2004h", "\x1b[?2026h", "\x1b[?2027$p", "\x1b[2;10r", "\x1b[1S"}, nil},
		{Caps{Scroll: true}, []string{"\x1b[2;10r"}, []string{"1049", "1002", "2004", "2026", "2027"}},
		{Caps{}, []string{"\x1b[12H\r\n"}, []string{"1049", "1002", "2004", "2026", "2027", "r\x1b"}},
	} {
		var out bytes.Buffer
		scr := NewScreen(&out, nil)
		scr.SetCaps(tc.caps)
		scr.Start()
		g := &frameGen{width: 40, height: 12, header: "#lobby", input: "> "}
		for i := range 20 {
			g.log = append(g.log, row{text: fmt.Sprintf("line %d", i), width: 6})
		}
		scr.draw(g.frame())
		g.log = append(g.log, row{text: "new", width: 3})
		scr.draw(g.frame())
		scr.Close()
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%+v: no %q in %q", tc.caps, w, out.String())
			}
		}
		for _, n := range tc.not {
			if strings.Contains(out.String(), n) {
				t.Errorf("%+v: %q in %q", tc.caps, n, out.String())
			}
		}
	}
}

// TestLineMode: TERM=dumb gets one line per event and a prompt echoing
// what is typed, and not one escape sequence, whatever happens.
func TestLineMode(t *testing.T) {
	var out bytes.Buffer
	g := newEvents()
	lines := NewLines(&out)
	m, p := newModel(40, 10, func(c *Config) {
		c.Lines = lines
		c.Renderer = colorRenderer()
		c.Rooms[0].History = []hub.Event{g.msg(bob, "before you came")}
	})
	m.Init()
	m.Update(EventsMsg{g.join(carol), g.join(dave), g.msg(carol, "hi \x1b[31mred\x1b[m 漢字 👨‍👩‍👧"), g.direct(bob, ann, "psst"), g.leave(dave, "")})
	typeText(m, "hello")
	press(m, tea.KeyBackspace)
	press(m, tea.KeyBackspace)
	m.Update(EventsMsg{g.msg(bob, "while you type")})
	typeText(m, "p!")
	press(m, tea.KeyCtrlL)
	enter(m, "")
	m.Update(ResizeMsg{Width: 20, Height: 5})
	enter(m, "/help")
	typeText(m, "a long line that is much wider than the terminal")
	for range 60 {
		press(m, tea.KeyBackspace)
	}
	m.Update(EndMsg{Reason: "the server is shutting down"})

	got := out.String()
	if i := strings.IndexByte(got, 0x1b); i >= 0 {
		t.Fatalf("line mode sent an escape sequence at %d: %q", i, got)
	}
	if len(p.sent) != 1 || p.sent[0] != "help!" {
		t.Errorf("sent %q, want [help!]", p.sent)
	}
	// What the terminal shows: every line ends with CR LF; the prompt is
	// wiped with spaces (and BS) before a line comes.
	var shown []string
	for _, l := range strings.Split(got, "\r\n") {
		if i := strings.LastIndexByte(l, '\r'); i >= 0 {
			l = l[i+1:]
		}
		shown = append(shown, strings.TrimSpace(l))
	}
	want := []string{
		"22:14 Bob: before you came",
		"", // the separator
		"22:15 ⇢ carol joined",
		"22:16 ⇢ dave joined",
		"22:17 carol: hi red 漢字 👨‍👩‍👧",
		"22:18 [dm] Bob ⇢ ann: psst",
		"22:19 ⇠ dave left",
		"22:20 Bob: while you type",
		"commands:",
	}
	for _, w := range want {
		found := false
		for len(shown) > 0 && !found {
			found = w == "" && strings.HasPrefix(shown[0], "╌") || shown[0] == w
			shown = shown[1:]
		}
		if !found {
			t.Fatalf("the line %q is not where it belongs in:\n%s", w, strings.Join(strings.Split(got, "\r\n"), "\n"))
		}
	}
	if !strings.Contains(got, "> hello\b \b\b \b") {
		t.Errorf("backspace did not wipe a character: %q", got)
	}
	if !strings.Contains(got, "the server is shutting down\r\n") {
		t.Errorf("no reason at the end: %q", got)
	}
	for _, l := range strings.Split(got, "\r\n") {
		for _, part := range strings.Split(l, "\r") {
			part, _, _ = strings.Cut(part, "\b")
			if strings.HasPrefix(part, "> ") && ansi.StringWidth(part) > 19 {
				t.Errorf("the prompt %q is wider than the terminal", part)
			}
		}
	}
}
