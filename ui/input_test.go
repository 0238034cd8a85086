package ui

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// inRoom is ann's session with bea, Bob and carol online, and the fake
// server's commands.
func inRoom() *Model {
	m, _ := newModel(80, 24, withServer(&runner{}), func(c *Config) {
		c.Roster = online(ann, bea, bob, carol)
	})
	return m
}

// cursorLine is the input's value with a '|' at the cursor.
func cursorLine(m *Model) string {
	v := []rune(m.input.value())
	pos := m.input.ti.Position()
	return string(v[:pos]) + "|" + string(v[pos:])
}

func TestTabCompletion(t *testing.T) {
	tests := []struct {
		name  string
		typed string
		left  int      // cursor moves left before the first Tab
		want  []string // the line after each Tab, '|' at the cursor
	}{
		{"one command", "/qu", 0, []string{"/quit |", "/quit |"}},
		{"commands cycle", "/b", 0, []string{"/back|", "/bell|", "/back|"}},
		{"every command", "/", 0, []string{"/away|", "/back|", "/bell|", "/help|"}},
		{"upper case", "/WH", 0, []string{"/who|", "/whois|", "/who|"}},
		{"not a command after the start", "see /he", 0, []string{"see /he|"}},
		{"names cycle", "hi b", 0, []string{"hi bea|", "hi Bob|", "hi bea|"}},
		{"one name", "hi CA", 0, []string{"hi carol |"}},
		{"at the start", "car", 0, []string{"carol |"}},
		{"with an at sign", "@bo", 0, []string{"@Bob |"}},
		{"mid-line", "hi ca how are you", len(" how are you"), []string{"hi carol |how are you"}},
		{"inside a word", "hi cxyz", len("xyz"), []string{"hi carol |"}},
		{"not oneself", "hi an", 0, []string{"hi an|"}},
		{"no match", "hi zz", 0, []string{"hi zz|"}},
		{"empty word", "hi ", 0, []string{"hi |"}},
		{"a command's argument", "/whois b", 0, []string{"/whois bea|", "/whois Bob|"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := inRoom()
			typeText(m, tt.typed)
			for range tt.left {
				press(m, tea.KeyLeft)
			}
			for i, want := range tt.want {
				press(m, tea.KeyTab)
				if got := cursorLine(m); got != want {
					t.Fatalf("after Tab %d: %q, want %q", i+1, got, want)
				}
			}
		})
	}
}

func TestTypingEndsTheCycle(t *testing.T) {
	m := inRoom()
	typeText(m, "b")
	press(m, tea.KeyTab) // bea
	typeText(m, " and b")
	press(m, tea.KeyTab)
	if got, want := cursorLine(m), "bea and bea|"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	press(m, tea.KeyTab)
	if got, want := cursorLine(m), "bea and Bob|"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCompletionFollowsTheMemberList(t *testing.T) {
	m := inRoom()
	g := newEvents()
	r := m.members.roster.(*fakeRoster)
	*r = *online(ann, dave, testUser{bob.id, "dan"}, carol)
	send(m, EventsMsg{g.join(dave), g.nick(bob, "dan"), g.leave(bea, "")})
	typeText(m, "d")
	var got []string
	for range 3 {
		press(m, tea.KeyTab)
		got = append(got, m.input.value())
	}
	if want := []string{"dan", "dave", "dan"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLineEditing(t *testing.T) {
	alt := func(r rune) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: true} }
	key := func(k tea.KeyType) tea.KeyMsg { return tea.KeyMsg{Type: k} }
	tests := []struct {
		name string
		keys []tea.KeyMsg
		want string
	}{
		{"Ctrl+A", []tea.KeyMsg{key(tea.KeyCtrlA)}, "|one two three"},
		{"Home", []tea.KeyMsg{key(tea.KeyHome)}, "|one two three"},
		{"Ctrl+E", []tea.KeyMsg{key(tea.KeyHome), key(tea.KeyCtrlE)}, "one two three|"},
		{"End", []tea.KeyMsg{key(tea.KeyHome), key(tea.KeyEnd)}, "one two three|"},
		{"Alt+B", []tea.KeyMsg{alt('b')}, "one two |three"},
		{"Alt+B twice", []tea.KeyMsg{alt('b'), alt('b')}, "one |two three"},
		{"Alt+F", []tea.KeyMsg{key(tea.KeyHome), alt('f')}, "one| two three"},
		{"Ctrl+W", []tea.KeyMsg{key(tea.KeyCtrlW)}, "one two |"},
		{"Ctrl+W twice", []tea.KeyMsg{key(tea.KeyCtrlW), key(tea.KeyCtrlW)}, "one |"},
		{"Ctrl+U", []tea.KeyMsg{alt('b'), key(tea.KeyCtrlU)}, "|three"},
		{"Ctrl+K", []tea.KeyMsg{alt('b'), key(tea.KeyCtrlK)}, "one two |"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newModel(80, 24)
			typeText(m, "one two three")
			for _, k := range tt.keys {
				send(m, k)
			}
			if got := cursorLine(m); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEndScrollsDownBeforeItMovesTheCursor(t *testing.T) {
	m, _ := newModel(80, 24)
	g := newEvents()
	var batch EventsMsg
	for i := range 50 {
		batch = append(batch, g.msg(bob, "line "+strconv.Itoa(i)))
	}
	send(m, batch)
	typeText(m, "draft")
	press(m, tea.KeyHome)
	press(m, tea.KeyPgUp)
	press(m, tea.KeyEnd)
	if m.transcript.scrolled() {
		t.Error("End does not go back to the bottom")
	}
	if got := cursorLine(m); got != "|draft" {
		t.Errorf("End moved the cursor while scrolled: %q", got)
	}
	press(m, tea.KeyEnd)
	if got := cursorLine(m); got != "draft|" {
		t.Errorf("End at the bottom does not move the cursor: %q", got)
	}
}

func TestMultiLinePasteIsOneMessage(t *testing.T) {
	m, p := newModel(80, 24)
	typeText(m, "draft")
	cmd := paste(m, "\r\n\x1b[31mfirst line\r\n  second\tline\r\n\r\n/not a command\n \n\n")
	if len(p.sent) != 0 {
		t.Fatal("posted during Update")
	}
	run(cmd)
	if want := []string{"first line\n  second line\n\n/not a command"}; !slices.Equal(p.sent, want) {
		t.Errorf("posted %q, want %q", p.sent, want)
	}
	if got := m.input.value(); got != "draft" {
		t.Errorf("input = %q, want the draft untouched", got)
	}
}

func TestPasteOfOneLineGoesToTheInput(t *testing.T) {
	m, p := newModel(80, 24)
	if cmd := paste(m, "just one line\n\n"); cmd != nil {
		run(cmd)
	}
	if len(p.sent) != 0 {
		t.Errorf("posted %q", p.sent)
	}
	if got := m.input.value(); got != "just one line  " {
		t.Errorf("input = %q", got)
	}
}

func TestOverlongPasteIsRefused(t *testing.T) {
	tests := []struct {
		name  string
		max   int
		paste string
		want  string
	}{
		{"lines", 0, strings.Repeat("x\n", maxPasteLines) + "x",
			"paste not sent: it is 101 lines and 201 bytes long, the limits are 100 lines and 4096 bytes"},
		{"bytes", 20, "0123456789\n0123456789",
			"paste not sent: it is 2 lines and 21 bytes long, the limits are 100 lines and 20 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, p := newModel(80, 24, func(c *Config) { c.MaxMessage = tt.max })
			if cmd := paste(m, tt.paste); cmd != nil {
				run(cmd)
			}
			if len(p.sent) != 0 {
				t.Errorf("posted %q", p.sent)
			}
			if got := lastLine(m); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if got := m.input.value(); got != "" {
				t.Errorf("the paste went into the input: %q", got)
			}
		})
	}
	// Just within the limits, it goes.
	m, p := newModel(80, 24)
	run(paste(m, strings.Repeat("x\n", maxPasteLines-1)+"x"))
	if len(p.sent) != 1 {
		t.Errorf("a paste of %d lines was not sent", maxPasteLines)
	}
}

func TestRefusedPasteDoesNotFillTheInput(t *testing.T) {
	m, p := newModel(80, 24)
	p.err = errors.New("slow down")
	for _, msg := range run(paste(m, "one\ntwo")) {
		send(m, msg)
	}
	if got := lastLine(m); got != "message not sent: slow down" {
		t.Errorf("got %q", got)
	}
	if got := m.input.value(); got != "" {
		t.Errorf("input = %q, want it empty", got)
	}
}
