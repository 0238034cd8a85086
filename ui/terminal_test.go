package ui

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	"github.com/hinshun/vt10x"
	"github.com/mattn/go-runewidth"
	"pgregory.net/rapid"

	"github.com/sshchat/sshchat/hub"
)

// Two independent emulators check what a Screen sends: x/vt draws a
// grapheme cluster whole; vt10x gives every code point a cell of its own.
// A terminal that counts code points as wcwidth does (xterm) is checked by
// measuring: every row, so counted, must fit.

// wcwidth is the width of s, plain text, as a terminal that draws code
// point by code point shows it.
func wcwidth(s string, wideAmbiguous bool) int {
	c := &runewidth.Condition{EastAsianWidth: wideAmbiguous}
	w := 0
	for _, r := range s {
		w += c.RuneWidth(r)
	}
	return w
}

// rowsOf is each row of a frame as plain text, the side cells in place.
func rowsOf(f *frame) []string {
	rows := make([]string, len(f.rows))
	for i, r := range f.rows {
		text := r.text
		if r.side != "" {
			text += spaces(f.sideCol-r.width) + r.side
		}
		rows[i] = ansi.Strip(text)
	}
	return rows
}

// vtRow is the text of row y of x/vt from column from to column to,
// trailing blanks dropped.
func vtRow(term *vt.Emulator, y, from, to int) string {
	var b strings.Builder
	for x := from; x < to; x++ {
		c := term.CellAt(x, y)
		if c == nil {
			break
		}
		switch {
		case c.Content != "":
			b.WriteString(c.Content)
		case c.Width != 0:
			b.WriteByte(' ')
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// vt10xRow is the same of vt10x.
func vt10xRow(term vt10x.Terminal, y, from, to int) string {
	var b strings.Builder
	for x := from; x < to; x++ {
		c := term.Cell(x, y).Char
		if c == 0 {
			c = ' '
		}
		b.WriteRune(c)
	}
	return strings.TrimRight(b.String(), " ")
}

// twoTerminals feeds the same bytes to both emulators.
type twoTerminals struct {
	p     *painter
	other vt10x.Terminal
}

func newTwoTerminals(width, height int) *twoTerminals {
	return &twoTerminals{p: newPainter(width, height), other: vt10x.New(vt10x.WithSize(width, height))}
}

func (tt *twoTerminals) resize(width, height int) {
	tt.p.term.Resize(width, height)
	tt.other.Resize(width, height)
}

// flush hands what the screen wrote to the second terminal too: the
// painter has fed its own as it was written.
func (tt *twoTerminals) flush(t interface{ Fatal(...any) }) []byte {
	out := bytes.Clone(tt.p.out.Bytes())
	tt.p.out.Reset()
	if _, err := tt.other.Write(out); err != nil {
		t.Fatal(err)
	}
	return out
}

// joiners are dropped from what is compared: an emulator keeps a joiner
// that starts a row (the input line scrolled in the middle of a cluster)
// with the cell before it, or not at all.
var joiners = strings.NewReplacer("\u200d", "", "\ufe0f", "")

// check compares both terminals with the frame, row by row: the text left
// of the member list and the member list, each trimmed. vt10x is compared
// only when countVT10x is set: it counts a cell for a combining mark or a
// joiner, which no terminal draws, and a row of them overflows there.
func (tt *twoTerminals) check(t interface {
	Fatalf(string, ...any)
}, step string, f *frame, countVT10x bool) {
	for y, r := range f.rows {
		end := f.width
		if f.sideCol > 0 && r.side != "" {
			end = f.sideCol
		}
		want := joiners.Replace(strings.TrimRight(ansi.Strip(r.text), " "))
		if got := joiners.Replace(vtRow(tt.p.term, y, 0, end)); got != want {
			t.Fatalf("%s: x/vt row %d is %q, want %q", step, y, got, want)
		}
		if countVT10x {
			if got := joiners.Replace(vt10xRow(tt.other, y, 0, end)); got != want {
				t.Fatalf("%s: vt10x row %d is %q, want %q", step, y, got, want)
			}
		}
		if r.side == "" {
			continue
		}
		want = joiners.Replace(strings.TrimRight(ansi.Strip(r.side), " "))
		if got := joiners.Replace(vtRow(tt.p.term, y, f.sideCol, f.width)); got != want {
			t.Fatalf("%s: x/vt side of row %d is %q, want %q", step, y, got, want)
		}
		if countVT10x {
			if got := joiners.Replace(vt10xRow(tt.other, y, f.sideCol, f.width)); got != want {
				t.Fatalf("%s: vt10x side of row %d is %q, want %q", step, y, got, want)
			}
		}
	}
}

// hardText is what users send that is hard to measure.
var hardText = []string{
	"hello", "the deploy", "漢字", "한국어", "👍", "👨‍👩‍👧", "👩‍💻", "❤️‍🔥", "🇫🇷", "1️⃣", "👋🏽",
	"e\u0301", "a\u0308\u0304", "☺️", "…", "→", "×", "ｆｕｌｌ", "ﷺ", "\u0e01\u0e33",
}

// narrowText has no code point a terminal draws zero cells wide, for
// vt10x.
var narrowText = []string{"hello", "the deploy", "漢字", "한국어", "👍", "…", "→", "ｆｕｌｌ", "x"}

func sentence(t *rapid.T, label string, pieces []string) string {
	return strings.Join(rapid.SliceOfN(rapid.SampledFrom(pieces), 1, 30).Draw(t, label), " ")
}

// TestNoRowWiderThanTheTerminal is the property at the heart of it: in
// any locale, whatever users write, at any size, no row is wider than the
// terminal as a code-point terminal counts it, nor as a grapheme terminal
// draws it (x/vt, which also shows every frame right), and a terminal that
// gives every code point its own cell (vt10x) shows it right too.
func TestNoRowWiderThanTheTerminal(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cjk := rapid.Bool().Draw(t, "cjk")
		narrow := rapid.Bool().Draw(t, "narrow")
		pieces := hardText
		if narrow {
			pieces = narrowText
		}
		width := rapid.IntRange(minWidth, 130).Draw(t, "width")
		height := rapid.IntRange(minHeight, 20).Draw(t, "height")
		tt := newTwoTerminals(width, height)
		m, _ := newModel(width, height, func(c *Config) {
			c.Screen = tt.p.scr
			c.Renderer = colorRenderer()
			c.Locale = Locale{WideAmbiguous: cjk}
			c.Name = sentence(t, "name", pieces)
		})
		m.Init()
		g := newEvents()
		who := []testUser{bob, {"SHA256:wide", sentence(t, "wideName", pieces)}, carol}
		for i := range rapid.IntRange(1, 25).Draw(t, "steps") {
			var msg tea.Msg
			switch rapid.IntRange(0, 6).Draw(t, "op") {
			case 0, 1, 2:
				u := who[rapid.IntRange(0, len(who)-1).Draw(t, "who")]
				msg = EventsMsg{g.msg(u, sentence(t, "text", pieces))}
			case 3:
				msg = EventsMsg{g.join(who[1]), g.add(who[1]), g.direct(who[1], ann, sentence(t, "dm", pieces))}
			case 4:
				width = rapid.IntRange(minWidth, 130).Draw(t, "newWidth")
				height = rapid.IntRange(minHeight, 20).Draw(t, "newHeight")
				tt.resize(width, height)
				msg = ResizeMsg{Width: width, Height: height}
			case 5:
				msg = tea.KeyMsg{Type: tea.KeyPgUp}
			case 6:
				msg = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(sentence(t, "typed", pieces)), Paste: true}
			}
			m.Update(msg)
			tt.flush(t)
			f := m.layout()
			for y, row := range rowsOf(f) {
				if w := wcwidth(row, cjk); w > width {
					t.Fatalf("step %d: row %d is %d cells wide counted by code point, the terminal %d: %q", i, y, w, width, row)
				}
				if w := ansi.StringWidth(row); w > width {
					t.Fatalf("step %d: row %d is %d cells wide counted by cluster, the terminal %d: %q", i, y, w, width, row)
				}
			}
			tt.check(t, fmt.Sprintf("step %d", i), f, narrow)
		}
	})
}

// TestGraphemesWhenTheTerminalSaysSo: a terminal that answers that it
// knows mode 2027 has it set and gets a family of emoji as two cells; one
// that does not know it, or never answers, keeps the code-point widths.
func TestGraphemesWhenTheTerminalSaysSo(t *testing.T) {
	family := strings.Repeat("👨‍👩‍👧", 10)
	for _, tc := range []struct {
		name   string
		answer []byte // nil: no answer
		wide   bool
	}{
		{"no answer", nil, false},
		{"not recognized", []byte("\x1b[?2027;0$y"), false},
		{"permanently reset", []byte("\x1b[?2027;4$y"), false},
		{"reset", []byte("\x1b[?2027;2$y"), true},
		{"set", []byte("\x1b[?2027;1$y"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			scr := NewScreen(&out, nil)
			scr.Start()
			if !strings.Contains(out.String(), "\x1b[?2027$p") {
				t.Fatalf("the screen did not ask about mode 2027: %q", out.String())
			}
			in := NewInputReader(bytes.NewReader(tc.answer), 1<<10)
			m, _ := newModel(60, 15, func(c *Config) { c.Screen = scr; c.Input = in })
			m.Init()
			m.Update(EventsMsg{newEvents().msg(bob, family)})
			if tc.answer != nil {
				// Bubble Tea reads the answer through the InputReader,
				// then hands it over as an unknown sequence.
				if _, err := io.ReadAll(in); err != nil {
					t.Fatal(err)
				}
				out.Reset()
				m.Update(reportMsg(tc.answer))
				if set := strings.Contains(out.String(), "\x1b[?2027h"); set != tc.wide {
					t.Errorf("mode 2027 set: %v, want %v (%q)", set, tc.wide, out.String())
				}
			}
			lines := 0
			for _, r := range m.layout().rows {
				if strings.Contains(r.text, "👨") {
					lines++
				}
			}
			// 10 families after "22:14 Bob: " (11 cells) in 60: 20 cells
			// as clusters, one line; 60 as code points, two.
			if want := map[bool]int{true: 1, false: 2}[tc.wide]; lines != want {
				t.Errorf("the message takes %d lines, want %d", lines, want)
			}
		})
	}
}

// TestModeReports: the answers about modes 2027 and 69 are read wherever
// the reads split them, among other input; other answers and malformed
// ones are not taken for them.
func TestModeReports(t *testing.T) {
	input := "hello\x1b[?1;2$y\x1b[?2027;1$y typed \x1b[?69;2$y\x1b[?69;x$y\x1b[?62;22c"
	for cut := range len(input) + 1 {
		var mr modeReports
		mr.watch([]byte(input[:cut]))
		mr.watch([]byte(input[cut:]))
		if v, ok := mr.graphemes(); !ok || v != 1 {
			t.Errorf("cut at %d: mode 2027 %d, %v; want 1", cut, v, ok)
		}
		if v, ok := mr.margins(); !ok || v != 2 {
			t.Errorf("cut at %d: mode 69 %d, %v; want 2", cut, v, ok)
		}
	}
	for _, junk := range []string{"\x1b[?69;$y", "\x1b[?69;1y", "\x1b[?69;1000$y", "\x1b[?69:1$y", "\x1b[?690;1$y", "\x1b[?2027"} {
		var mr modeReports
		mr.watch([]byte(junk))
		if v, ok := mr.margins(); ok {
			t.Errorf("%q read as an answer about mode 69: %d", junk, v)
		}
		if v, ok := mr.graphemes(); ok {
			t.Errorf("%q read as an answer about mode 2027: %d", junk, v)
		}
	}
}

// TestMarginsWhenTheTerminalSaysSo: the member list stays put as messages
// come once the terminal said it has margins, and only then.
func TestMarginsWhenTheTerminalSaysSo(t *testing.T) {
	for _, tc := range []struct {
		answer  string
		margins bool
	}{
		{"", false},
		{"\x1b[?69;0$y", false},
		{"\x1b[?69;4$y", false},
		{"\x1b[?69;2$y", true},
		{"\x1b[?69;1$y", true},
		{"\x1b[?69;3$y", true},
	} {
		var out bytes.Buffer
		scr := NewScreen(&out, nil)
		scr.Start()
		if !strings.Contains(out.String(), "\x1b[?69$p") {
			t.Fatalf("the screen did not ask about mode 69: %q", out.String())
		}
		in := NewInputReader(strings.NewReader(tc.answer), 1<<10)
		if _, err := io.ReadAll(in); err != nil {
			t.Fatal(err)
		}
		g := newEvents()
		m, _ := newModel(120, 30, func(c *Config) {
			c.Screen, c.Input = scr, in
			c.Roster = &fakeRoster{members: []Member{{UserID: ann.id, Name: ann.name, Sessions: 1}, {UserID: bob.id, Name: bob.name, Sessions: 1}}}
		})
		m.Init()
		m.Update(EventsMsg{g.msg(bob, "first")})
		if tc.answer != "" {
			m.Update(reportMsg(tc.answer))
		}
		out.Reset()
		m.Update(EventsMsg{g.msg(bob, "second")})
		if got := strings.Contains(out.String(), "\x1b[?69h"); got != tc.margins {
			t.Errorf("answer %q: margins used %v, want %v: %q", tc.answer, got, tc.margins, out.String())
		}
	}
}

// reportMsg is a terminal's answer as Bubble Tea hands it over: bytes of
// a type of their own.
type reportMsg []byte

// TestScreenAsksWithoutWaiting: with x/vt as the terminal, the questions
// are answered through the input while the chat goes on.
func TestScreenAsksWithoutWaiting(t *testing.T) {
	term := vt.NewEmulator(80, 24)
	answers := make(chan []byte)
	go func() {
		defer close(answers)
		buf := make([]byte, 256)
		for {
			n, err := term.Read(buf)
			if n > 0 {
				answers <- bytes.Clone(buf[:n])
			}
			if err != nil || bytes.HasSuffix(buf[:n], []byte("0n")) {
				return
			}
		}
	}()
	var out bytes.Buffer
	scr := NewScreen(&out, nil)
	scr.Start()
	m, _ := newModel(80, 24, func(c *Config) { c.Screen = scr })
	m.Init()
	m.Update(EventsMsg{newEvents().msg(bob, "drawn before any answer")})
	if !strings.Contains(out.String(), "drawn before any answer") {
		t.Fatal("the screen waited")
	}
	written := make(chan error, 1)
	go func() {
		_, err := term.Write(out.Bytes())
		written <- err
	}()
	var answer []byte // the two answers, as they come
	for !bytes.Contains(answer, []byte("\x1b[?69;")) || !bytes.Contains(answer, []byte("\x1b[?2027;")) {
		answer = append(answer, <-answers...)
	}
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	// Split in two reads, as a slow link may deliver it.
	in := NewInputReader(io.MultiReader(bytes.NewReader(answer[:5]), bytes.NewReader(answer[5:])), 1<<10)
	if _, err := io.ReadAll(in); err != nil {
		t.Fatal(err)
	}
	if _, ok := in.reports.graphemes(); !ok {
		t.Fatalf("the answer %q was not read as one about mode 2027", answer)
	}
	// x/vt has left and right margins, off until set.
	if value, ok := in.reports.margins(); !ok || value != 2 {
		t.Fatalf("the answer %q about mode 69: %d, %v; want 2 (reset)", answer, value, ok)
	}
	// The reader ends with the answer to a status report.
	go func() { _, _ = term.Write([]byte("\x1b[5n")) }()
	for range answers {
	}
}

// TestChromeHasNoAmbiguousWidth: no character of the chrome is of
// ambiguous width, in any state of the screen; users' text is theirs.
func TestChromeHasNoAmbiguousWidth(t *testing.T) {
	g := newEvents()
	m, _ := newModel(120, 30, func(c *Config) {
		c.Roster = &fakeRoster{members: []Member{{UserID: ann.id, Name: ann.name, Sessions: 2}, {UserID: bob.id, Name: bob.name, Sessions: 1}}}
		c.Rooms[0].History = []hub.Event{g.msg(bob, "before")}
	})
	m.Update(EventsMsg{
		g.join(carol), g.join(dave), g.leave(dave, ""), g.leave(carol, "evicted"), g.add(bob), g.next(hub.EventTypeRemove, bob),
		g.nick(bob, "Bobby"), g.direct(bob, ann, "psst"), g.msg(erin, strings.Repeat("long ", 40)),
	})
	for range 20 {
		m.Update(EventsMsg{g.msg(bob, "filler")})
	}
	m.Update(tea.KeyMsg{Type: tea.KeyPgUp})
	m.Update(EventsMsg{g.msg(bob, "below")})
	enter(m, "/help")
	m.Update(tea.KeyMsg{Type: tea.KeyPgUp})
	view := shows(m)
	for _, r := range view {
		if runewidth.IsAmbiguousWidth(r) {
			t.Errorf("the screen shows %q (U+%04X), of ambiguous width:\n%s", r, r, view)
		}
	}
	for _, gl := range []glyphs{unicodeGlyphs, asciiGlyphs} {
		for _, s := range []string{gl.rule, gl.border, gl.dot, gl.arrived, gl.left, gl.to, gl.times, gl.minus, gl.ellipsis, gl.down} {
			for _, r := range s {
				if runewidth.IsAmbiguousWidth(r) || runewidth.RuneWidth(r) != 1 {
					t.Errorf("glyph %q is not one cell wide in every terminal", s)
				}
			}
		}
	}
}

// TestWideAmbiguousInCJKLocales: where the locale is Chinese, Japanese or
// Korean, ambiguous characters users send count two cells.
func TestWideAmbiguousInCJKLocales(t *testing.T) {
	text := strings.Repeat("…", 30) // 30 cells, or 60
	for _, cjk := range []bool{false, true} {
		m, _ := newModel(60, 10, func(c *Config) { c.Locale = Locale{WideAmbiguous: cjk} })
		m.Update(EventsMsg{newEvents().msg(bob, text)})
		for y, row := range rowsOf(m.layout()) {
			if w := wcwidth(row, true); cjk && w > 60 {
				t.Errorf("CJK: row %d is %d cells wide: %q", y, w, row)
			}
		}
		if got := strings.Count(shows(m), "…"); got != 30 {
			t.Errorf("cjk %v: %d of the 30 characters shown", cjk, got)
		}
	}
}

func TestLocaleFrom(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want Locale
	}{
		{nil, Locale{}},
		{map[string]string{"LANG": "en_US.UTF-8"}, Locale{}},
		{map[string]string{"LANG": "en_US.utf8"}, Locale{}},
		{map[string]string{"LANG": "C.UTF-8"}, Locale{}},
		{map[string]string{"LANG": "C"}, Locale{ASCII: true}},
		{map[string]string{"LANG": "POSIX"}, Locale{ASCII: true}},
		{map[string]string{"LANG": "en_US"}, Locale{ASCII: true}},
		{map[string]string{"LANG": "de_DE.ISO-8859-1"}, Locale{ASCII: true}},
		{map[string]string{"LANG": "ja_JP.UTF-8"}, Locale{WideAmbiguous: true}},
		{map[string]string{"LANG": "zh_CN.UTF-8"}, Locale{WideAmbiguous: true}},
		{map[string]string{"LANG": "ko_KR.UTF-8@euro"}, Locale{WideAmbiguous: true}},
		{map[string]string{"LANG": "ja_JP.UTF-8", "LC_CTYPE": "en_US.UTF-8"}, Locale{}},
		{map[string]string{"LANG": "en_US.UTF-8", "LC_CTYPE": "ja_JP.UTF-8", "LC_ALL": "C"}, Locale{ASCII: true}},
		{map[string]string{"LANG": "C", "LC_ALL": "zh_TW.UTF-8"}, Locale{WideAmbiguous: true}},
	}
	for _, tt := range tests {
		if got := LocaleFrom(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("LocaleFrom(%v) = %+v, want %+v", tt.env, got, tt.want)
		}
	}
}

// TestASCIILocale: a terminal whose charset is not UTF-8 gets nothing but
// ASCII; what it cannot show is a visible '?'.
func TestASCIILocale(t *testing.T) {
	var out bytes.Buffer
	scr := NewScreen(&out, nil)
	g := newEvents()
	m, _ := newModel(120, 20, func(c *Config) {
		c.Screen = scr
		c.Locale = Locale{ASCII: true}
		c.Roster = &fakeRoster{members: []Member{{UserID: ann.id, Name: ann.name, Sessions: 2}, {UserID: "SHA256:jo", Name: "José", Sessions: 1}}}
		c.Rooms[0].History = []hub.Event{g.msg(bob, "before")}
		c.Notices = []string{"message of the day: ¡hola!"}
	})
	m.Init()
	m.Update(EventsMsg{g.join(carol), g.leave(carol, ""), g.msg(testUser{"SHA256:jo", "José"}, "café 漢字 👨‍👩‍👧 e\u0301"),
		g.direct(bob, ann, "psst…")})
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("naïve"), Paste: true})
	for i, c := range out.Bytes() {
		if c >= utf8.RuneSelf {
			t.Fatalf("byte %d of the output is %#x, not ASCII: %q", i, c, out.String())
		}
	}
	view := ansi.Strip(out.String())
	for _, want := range []string{"Jos?: caf? ?? ? ?|", "-> carol joined", "<- carol left", "[dm] Bob -> ann: psst?", "> na?ve", "| Jos?", "| ann x2", "?hola!"} {
		if !strings.Contains(view, want) {
			t.Errorf("the screen lacks %q:\n%s", want, view)
		}
	}
}

// FuzzModeReports: whatever the input and wherever a read ends, the
// answers found are those found in the input read whole.
func FuzzModeReports(f *testing.F) {
	f.Add([]byte("\x1b[?2027;1$y\x1b[?69;2$y"), uint(7))
	f.Add([]byte("typed\x1b[?69;2$y\x1b[?69;0$y"), uint(12))
	f.Add([]byte("\x1b[?\x1b[?2027;\x1b[?2027;3$y"), uint(3))
	f.Fuzz(func(t *testing.T, in []byte, cut uint) {
		at := int(cut % uint(len(in)+1))
		var whole, split modeReports
		whole.watch(in)
		split.watch(in[:at])
		split.watch(in[at:])
		wg, wok := whole.graphemes()
		sg, sok := split.graphemes()
		wm, wmok := whole.margins()
		sm, smok := split.margins()
		if wg != sg || wok != sok || wm != sm || wmok != smok {
			t.Errorf("%q cut at %d: whole (%d %v, %d %v), split (%d %v, %d %v)", in, at, wg, wok, wm, wmok, sg, sok, sm, smok)
		}
	})
}
