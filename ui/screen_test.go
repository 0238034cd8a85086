package ui

import (
	"bytes"
	"cmp"
	"fmt"
	tea "github.com/charmbracelet/bubbletea"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	"pgregory.net/rapid"
)

// shown is a terminal's text, each line without trailing blanks, without
// trailing empty lines.
func shown(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

// frameText is the text of a frame as a terminal should show it, in the
// form of painter.text.
func frameText(f *frame) string {
	var b strings.Builder
	for i, r := range f.rows {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(r.text)
		if r.side != "" {
			b.WriteString(spaces(f.sideCol - r.width))
			b.WriteString(r.side)
		}
	}
	return shown(ansi.Strip(b.String()))
}

// painter is a terminal emulator that a Screen writes to: what the tests
// read is what a person would see. The questions about modes 2027 and 69
// are kept from the emulator: it would answer them and block until the
// answer is read (TestScreenAsksWithoutWaiting reads them).
type painter struct {
	term *vt.Emulator
	out  bytes.Buffer // what the Screen wrote since the last draw, or the test last reset it
	scr  *Screen
}

func newPainter(width, height int) *painter {
	p := &painter{term: vt.NewEmulator(max(width, 1), max(height, 1))}
	p.scr = NewScreen(p, nil)
	p.scr.Start()
	return p
}

func (p *painter) Write(b []byte) (int, error) {
	p.out.Write(b)
	b = bytes.ReplaceAll(bytes.ReplaceAll(b, []byte(askGraphemes), nil), []byte(askMargins), nil)
	if _, err := p.term.Write(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// resize changes the terminal's size, as a person resizing its window.
func (p *painter) resize(width, height int) {
	if width, height = max(width, 1), max(height, 1); p.term.Width() != width || p.term.Height() != height {
		p.term.Resize(width, height)
	}
}

// text is what the terminal shows, each row without trailing blanks,
// without the blank rows at the bottom.
func (p *painter) text() string { return shown(p.term.String()) }

func (p *painter) draw(f *frame) {
	p.resize(f.width, f.height)
	p.out.Reset()
	p.scr.draw(f)
}

// frameGen makes frames of a chat screen that change as chat screens do:
// new lines at the bottom of the transcript, scrolling back, a member
// list that changes, an input line being typed, a resize now and then.
type frameGen struct {
	width, height int
	side          bool
	header        string
	log           []row // the transcript, oldest first
	back          int   // lines scrolled back from the bottom
	members       []string
	status, input string
	lead          string // the border every side cell starts with; "│" when ""
	tellLead      bool   // the frame says so (frame.sideLead)
}

var words = []string{"ok", "hello", "漢字", "the", "deploy", "👍", "\x1b[1mbold\x1b[m", "\x1b[38;5;2mgreen\x1b[m", "x"}

func (g *frameGen) text(t *rapid.T, label string, width int) row {
	n := rapid.IntRange(0, 12).Draw(t, label+"Words")
	var b strings.Builder
	w := 0
	for range n {
		word := rapid.SampledFrom(words).Draw(t, label+"Word")
		ww := ansi.StringWidth(word)
		if w+ww+1 > width {
			break
		}
		if w > 0 {
			b.WriteByte(' ')
			w++
		}
		b.WriteString(word)
		w += ww
	}
	return row{text: b.String(), width: w}
}

func cut(s string, width int) row {
	s = ansi.Truncate(s, width, "")
	return row{text: s, width: ansi.StringWidth(s)}
}

func (g *frameGen) mainWidth() int {
	if g.side {
		return g.width - membersWidth
	}
	return g.width
}

func (g *frameGen) step(t *rapid.T) {
	switch rapid.IntRange(0, 9).Draw(t, "op") {
	case 0, 1, 2, 3:
		for range rapid.IntRange(1, 3).Draw(t, "new") {
			g.log = append(g.log, g.text(t, "line", g.mainWidth()))
		}
	case 4:
		g.back = min(g.back+rapid.IntRange(1, 5).Draw(t, "up"), len(g.log))
	case 5:
		g.back = max(g.back-rapid.IntRange(1, 5).Draw(t, "down"), 0)
	case 6:
		g.members = rapid.SliceOfN(rapid.SampledFrom([]string{"ann", "bob", "carol", "dave ×2"}), 0, g.height).Draw(t, "members")
	case 7:
		g.input = g.text(t, "input", g.width).text
		g.status = g.text(t, "status", g.width).text
	case 8:
		g.header = g.text(t, "header", g.width).text
	case 9:
		g.width = rapid.IntRange(minWidth, 70).Draw(t, "width")
		g.height = rapid.IntRange(minHeight, 16).Draw(t, "height")
		g.side = g.width >= 50 && rapid.Bool().Draw(t, "side")
		g.lead = rapid.SampledFrom([]string{"│", "\x1b[38;5;238m│\x1b[0m"}).Draw(t, "lead")
		g.tellLead = rapid.Bool().Draw(t, "tellLead")
		// Rewrap, roughly: cut what no longer fits.
		for i, r := range g.log {
			g.log[i] = cut(r.text, g.mainWidth())
		}
		g.header, g.status, g.input = cut(g.header, g.width).text, cut(g.status, g.width).text, cut(g.input, g.width).text
	}
}

func (g *frameGen) frame() *frame {
	f := &frame{width: g.width, height: g.height}
	f.rows = append(f.rows, row{text: g.header, width: ansi.StringWidth(g.header)})
	h := g.height - 3
	end := len(g.log) - g.back
	start := max(end-h, 0)
	visible := g.log[start:end]
	f.top = 1
	lead := cmp.Or(g.lead, "│")
	if g.side {
		f.sideCol = g.mainWidth()
		if g.tellLead {
			f.sideLead = lead
		}
	}
	for i := range h {
		var r row
		if j := i - (h - len(visible)); j >= 0 {
			r = visible[j]
		}
		if g.side {
			name := ""
			if i < len(g.members) {
				name = g.members[i]
			}
			r.side = lead + " " + name + spaces(membersWidth-2-ansi.StringWidth(name))
		}
		f.rows = append(f.rows, r)
	}
	f.bottom = len(f.rows)
	f.rows = append(f.rows, row{text: g.status, width: ansi.StringWidth(g.status)})
	f.rows = append(f.rows, row{text: g.input, width: ansi.StringWidth(g.input)})
	return f
}

// TestScreenShowsEveryFrame checks the Screen's whole point: after any run
// of frames, scrolls and partial redraws included, the terminal shows
// exactly the last frame.
// With margins, the terminal (x/vt, as xterm) has left and right margins,
// and the transcript scrolls beside the member list.
func TestScreenShowsEveryFrame(t *testing.T) {
	t.Run("whole rows", func(t *testing.T) { testScreenShowsEveryFrame(t, false) })
	t.Run("margins", func(t *testing.T) { testScreenShowsEveryFrame(t, true) })
}

func testScreenShowsEveryFrame(t *testing.T, margins bool) {
	betweenMargins := 0 // scrolls between margins, over all the cases
	defer func() {
		if margins && !t.Failed() && betweenMargins == 0 {
			t.Error("no frame scrolled between margins")
		}
	}()
	rapid.Check(t, func(t *rapid.T) {
		g := &frameGen{width: 60, height: 12, side: true}
		p := newPainter(g.width, g.height)
		if margins {
			p.scr.useMargins(2)
		}
		for i := range rapid.IntRange(1, 40).Draw(t, "frames") {
			g.step(t)
			f := g.frame()
			p.draw(f)
			want := frameText(f)
			if got := p.text(); got != want {
				t.Fatalf("frame %d: the terminal shows\n%s\nwant\n%s\noutput: %q", i, got, want, p.out.String())
			}
			betweenMargins += strings.Count(p.out.String(), marginsOn)
		}
	})
}

// TestScreenScrollsInsteadOfRepainting checks that a new message costs its
// own line: the transcript is scrolled by the terminal, not sent again.
func TestScreenScrollsInsteadOfRepainting(t *testing.T) {
	g := &frameGen{width: 100, height: 40, side: true, header: "#lobby", input: "> "}
	for i := range 100 {
		g.log = append(g.log, row{text: fmt.Sprintf("12:00 ann: message number %d, long enough to be a real line of chat", i), width: 67})
	}
	g.members = []string{"ann", "bob", "carol"}
	g.lead, g.tellLead = "\x1b[38;5;238m│\x1b[0m", true
	p := newPainter(g.width, g.height)
	p.draw(g.frame())
	full := p.out.Len()

	g.log = append(g.log, row{text: "12:01 bob: the newest line", width: 26})
	p.draw(g.frame())
	out := p.out.String()
	if !strings.Contains(out, "\x1b[2;38r") || !strings.Contains(out, "\x1b[1S") {
		t.Errorf("a new line was not scrolled in: %q", out)
	}
	if strings.Count(out, "message number") != 0 {
		t.Errorf("lines already on the screen were sent again: %q", out)
	}
	// The member list moved up with the rows: its names are drawn again
	// where they were, the border of every row but the new one stays.
	if n := strings.Count(out, "│"); n != 1 {
		t.Errorf("the border was drawn %d times, want once (the new row): %q", n, out)
	}
	if p.out.Len()*3 > full {
		t.Errorf("one new line cost %d bytes, the whole screen %d", p.out.Len(), full)
	}
	if got := shown(p.term.String()); !strings.Contains(got, "the newest line") || !strings.Contains(got, "message number 99") {
		t.Errorf("screen after the scroll:\n%s", got)
	}

	g.back = 5
	p.draw(g.frame())
	if out := p.out.String(); !strings.Contains(out, "\x1b[5T") {
		t.Errorf("scrolling back did not scroll the terminal: %q", out)
	}

	p.draw(g.frame())
	if p.out.Len() != 0 {
		t.Errorf("an unchanged frame wrote %q", p.out.String())
	}
}

// TestScreenScrollsBesideTheMemberList: on a terminal with left and right
// margins, a new message costs its line, and the member list stays.
func TestScreenScrollsBesideTheMemberList(t *testing.T) {
	g := &frameGen{width: 100, height: 40, side: true, header: "#lobby", input: "> "}
	for i := range 100 {
		g.log = append(g.log, row{text: fmt.Sprintf("12:00 ann: message number %d, long enough to be a real line of chat", i), width: 67})
	}
	g.members = []string{"ann", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"}
	g.lead, g.tellLead = "\x1b[38;5;238m│\x1b[0m", true
	p := newPainter(g.width, g.height)
	p.scr.useMargins(2)
	p.draw(g.frame())

	g.log = append(g.log, row{text: "12:01 bob: the newest line", width: 26})
	p.draw(g.frame())
	out := p.out.String()
	side := strconv.Itoa(g.mainWidth())
	for _, want := range []string{"\x1b[2;38r", "\x1b[?69h\x1b[1;" + side + "s", "\x1b[1S", "\x1b[s\x1b[?69l\x1b[r"} {
		if !strings.Contains(out, want) {
			t.Errorf("the new line was not scrolled in between margins (%q): %q", want, out)
		}
	}
	if strings.Contains(out, "│") {
		t.Errorf("the member list was drawn again: %q", out)
	}
	if got := shown(p.term.String()); got != frameText(g.frame()) {
		t.Errorf("screen after the scroll:\n%s\nwant\n%s", got, frameText(g.frame()))
	}
	if n := p.out.Len(); n > 100 {
		t.Errorf("one new line cost %d bytes: %q", n, out)
	}

	g.back = 5
	p.draw(g.frame())
	if out := p.out.String(); !strings.Contains(out, "\x1b[5T") || strings.Contains(out, "│") {
		t.Errorf("scrolling back did not scroll between margins: %q", out)
	}
	if got := shown(p.term.String()); got != frameText(g.frame()) {
		t.Errorf("screen after scrolling back:\n%s\nwant\n%s", got, frameText(g.frame()))
	}
}

// TestScreenWithoutMargins: a terminal that did not say it has margins is
// never sent them, whatever it answered.
func TestScreenWithoutMargins(t *testing.T) {
	for _, value := range []int{0, 4, -1} {
		g := &frameGen{width: 100, height: 20, side: true, members: []string{"ann"}}
		p := newPainter(g.width, g.height)
		p.scr.useMargins(value)
		p.draw(g.frame())
		g.log = append(g.log, row{text: "new", width: 3})
		p.draw(g.frame())
		if strings.Contains(p.out.String(), "69") {
			t.Errorf("answer %d: margins used: %q", value, p.out.String())
		}
	}
}

func BenchmarkScreenNewLine(b *testing.B) {
	g := &frameGen{width: 120, height: 40, side: true, header: "#lobby", input: "> "}
	for i := range 1000 {
		g.log = append(g.log, row{text: fmt.Sprintf("12:00 ann: message number %d", i), width: 30})
	}
	for i := range 40 {
		g.members = append(g.members, fmt.Sprintf("user%d", i))
	}
	scr := NewScreen(ioDiscard{}, nil)
	scr.draw(g.frame())
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		g.log = append(g.log[:1000], row{text: fmt.Sprintf("12:00 bob: new %d", i), width: 18})
		g.log = g.log[1:]
		scr.draw(g.frame())
	}
}

type ioDiscard struct{}

func (ioDiscard) Write(p []byte) (int, error) { return len(p), nil }

// TestModelOnScreen runs a model on its Screen through chat, joins,
// resizes, scrolling back and forth and typing: after every update the
// terminal shows the frame the model laid out, and the bell rings once
// for each mention, never again on a repaint.
func TestModelOnScreen(t *testing.T) {
	t.Run("whole rows", func(t *testing.T) { testModelOnScreen(t, false) })
	t.Run("margins", func(t *testing.T) { testModelOnScreen(t, true) })
}

func testModelOnScreen(t *testing.T, margins bool) {
	const width, height = 120, 24
	m, _ := newModel(width, height, func(c *Config) { c.Renderer = colorRenderer() })
	p := painterOf(m)
	if margins {
		p.scr.useMargins(1)
	}
	betweenMargins := 0
	g := newEvents()
	bells := 0
	check := func(step string, msgs ...tea.Msg) {
		t.Helper()
		p.out.Reset()
		send(m, msgs...)
		// End the bell's hold, so that each mention rings.
		send(m, bellDoneMsg{m.bells})
		bells += bytes.Count(p.out.Bytes(), []byte("\a"))
		betweenMargins += bytes.Count(p.out.Bytes(), []byte(marginsOn))
		w, h := p.term.Width(), p.term.Height()
		checkScreen(t, m, w, h)
	}
	check("start")
	check("resize", ResizeMsg{Width: width, Height: height})
	for i := range 30 {
		who := []testUser{bob, carol, dave}[i%3]
		check(fmt.Sprintf("message %d", i), EventsMsg{g.msg(who, fmt.Sprintf("message %d from %s, and it says something about ann", i, who.name))})
	}
	check("a batch", EventsMsg{g.join(erin), g.msg(erin, "hi all"), g.add(bob), g.msg(bob, strings.Repeat("a long line that wraps ", 12))})
	check("scroll back", tea.KeyMsg{Type: tea.KeyPgUp})
	check("a message while scrolled back", EventsMsg{g.msg(carol, "you will see this later")})
	check("scroll forward", tea.KeyMsg{Type: tea.KeyPgDown})
	check("to the bottom", tea.KeyMsg{Type: tea.KeyEnd})
	check("typing", tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("hello th")})
	check("narrow", ResizeMsg{Width: 70, Height: 20})
	check("leave", EventsMsg{g.leave(erin, ""), g.msg(dave, "bye erin")})
	check("wide again", ResizeMsg{Width: width, Height: height})
	if bells != 30 {
		// Once for each message naming ann; repaints ring no bell again.
		t.Errorf("the bell rang %d times, want 30", bells)
	}
	if margins != (betweenMargins > 0) {
		t.Errorf("margins: %v, but %d scrolls between margins", margins, betweenMargins)
	}
}

// TestCtrlLRepaints checks that Ctrl+L paints the whole screen again, for
// a terminal something else wrote on.
// A burst of Ctrl+L paints once: the next one waits for the hold's end.
func TestCtrlLRepaints(t *testing.T) {
	m, _ := newModel(80, 24)
	p := painterOf(m)
	ctrlL := tea.KeyMsg{Type: tea.KeyCtrlL}
	for i, tc := range []struct {
		msgs    []tea.Msg
		repaint bool
	}{
		{[]tea.Msg{ctrlL}, true},
		{[]tea.Msg{ctrlL, ctrlL, ctrlL}, false},
		{[]tea.Msg{redrawDoneMsg{}, ctrlL}, true},
	} {
		p.out.Reset()
		send(m, tc.msgs...)
		out := p.out.String()
		if got := strings.Contains(out, "\x1b[2J") && strings.Contains(out, "#lobby"); got != tc.repaint {
			t.Errorf("step %d: repainted %v, want %v: %q", i, got, tc.repaint, out)
		}
	}
}

func TestAppendNum(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 42, 99, 100, 500, 999, 1000, 12345, -1} {
		if got, want := string(appendNum([]byte("x"), n)), "x"+strconv.Itoa(n); got != want {
			t.Errorf("appendNum(%d) = %q, want %q", n, got, want)
		}
	}
}
