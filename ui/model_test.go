package ui

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/sshchat/sshchat/hub"
)

func TestEnterPostsTrimmedText(t *testing.T) {
	m, p := newModel(80, 24)
	typeText(m, "  hello world  ")
	cmd := press(m, tea.KeyEnter)
	if len(p.sent) != 0 {
		t.Fatalf("Post called during Update: %q", p.sent)
	}
	run(cmd)
	if want := []string{"hello world"}; !slices.Equal(p.sent, want) {
		t.Errorf("posted %q, want %q", p.sent, want)
	}
	if got := m.input.value(); got != "" {
		t.Errorf("input after Enter = %q, want it cleared", got)
	}
	if strings.Contains(shows(m), "hello world") {
		t.Error("the message is echoed locally; it must come back from the hub")
	}
}

func TestEnterIgnoresEmptyInput(t *testing.T) {
	for _, in := range []string{"", "   "} {
		m, p := newModel(80, 24)
		typeText(m, in)
		if cmd := press(m, tea.KeyEnter); cmd != nil {
			run(cmd)
		}
		if len(p.sent) != 0 {
			t.Errorf("input %q: posted %q, want nothing", in, p.sent)
		}
	}
}

func TestDoubleSlashSendsALeadingSlash(t *testing.T) {
	m, p := newModel(80, 24)
	typeText(m, "//etc/hosts is a file")
	run(press(m, tea.KeyEnter))
	if want := []string{"/etc/hosts is a file"}; !slices.Equal(p.sent, want) {
		t.Errorf("posted %q, want %q", p.sent, want)
	}
}

func TestOverlongMessageIsRefused(t *testing.T) {
	m, p := newModel(80, 24, func(c *Config) { c.MaxMessage = 10 })
	typeText(m, "éééééééé") // 8 characters, 16 bytes
	run(press(m, tea.KeyEnter))
	if len(p.sent) != 0 {
		t.Fatalf("posted %q, want nothing", p.sent)
	}
	if view := shows(m); !strings.Contains(view, "message not sent: it is 16 bytes long, the limit is 10") {
		t.Errorf("no notice about the length:\n%s", view)
	}
	if got := m.input.value(); got != "éééééééé" {
		t.Errorf("input = %q, want it kept for editing", got)
	}

	// The input itself stops at MaxMessage characters.
	m, _ = newModel(80, 24, func(c *Config) { c.MaxMessage = 10 })
	typeText(m, strings.Repeat("a", 20))
	if got := m.input.value(); got != strings.Repeat("a", 10) {
		t.Errorf("input = %q, want 10 characters", got)
	}
}

func TestQuit(t *testing.T) {
	m, _ := newModel(80, 24)
	if !isQuit(press(m, tea.KeyCtrlC)) {
		t.Error("Ctrl+C does not quit")
	}
	m, p := newModel(80, 24)
	typeText(m, "/quit")
	if !isQuit(press(m, tea.KeyEnter)) {
		t.Error("/quit does not quit")
	}
	if len(p.sent) != 0 {
		t.Errorf("/quit posted %q", p.sent)
	}
}

func TestUnknownCommand(t *testing.T) {
	m, p := newModel(80, 24)
	typeText(m, "/frobnicate now")
	cmd := press(m, tea.KeyEnter)
	if isQuit(cmd) || len(p.sent) != 0 {
		t.Fatalf("unknown command quit or posted %q", p.sent)
	}
	if view := shows(m); !strings.Contains(view, "unknown command /frobnicate: type /help for the commands") {
		t.Errorf("no error line:\n%s", view)
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	m, _ := newModel(80, 40)
	typeText(m, "/HELP")
	press(m, tea.KeyEnter)
	view := shows(m)
	for _, c := range m.commands {
		if !strings.Contains(view, usage(c)+" ") || !strings.Contains(view, c.help) {
			t.Errorf("/help does not show %s: %s", usage(c), c.help)
		}
	}
}

func TestEndShowsReasonAndQuits(t *testing.T) {
	m, _ := newModel(80, 24)
	_, cmd := m.Update(EndMsg{Reason: "the server is restarting\x1b[2J"})
	if !isQuit(cmd) {
		t.Error("EndMsg does not quit")
	}
	view := shows(m)
	if !strings.Contains(view, "the server is restarting") || strings.Contains(view, "[2J") {
		t.Errorf("reason missing or unsanitized:\n%s", view)
	}
}

func TestCloseEvent(t *testing.T) {
	m, _ := newModel(80, 24)
	g := newEvents()
	send(m, EventsMsg{g.join(ann), g.close("")})
	if view := shows(m); !strings.Contains(view, "server is shutting down") {
		t.Errorf("no close line:\n%s", view)
	}
	send(m, EventsMsg{g.close("maintenance, back at 10")})
	if view := shows(m); !strings.Contains(view, "22:16 maintenance, back at 10") {
		t.Errorf("no close reason:\n%s", view)
	}
}

func TestHostileTextIsSanitized(t *testing.T) {
	const hostile = "\x1b]0;pwned\x07hi\x1b[2J"
	g := newEvents()
	evil := testUser{"SHA256:evil", "\x1b[31mmallory\u202e"}
	batch := EventsMsg{g.join(ann), g.join(evil), g.msg(evil, hostile), g.leave(evil, "\x1b]52;c;Zm9v\x07bye")}

	m, _ := newModel(120, 24)
	send(m, batch)
	view := shows(m)
	for _, bad := range []string{"\x1b", "]0;", "[2J", "]52;", "\u202e"} {
		if strings.Contains(view, bad) {
			t.Errorf("view contains %q:\n%s", bad, view)
		}
	}
	if !strings.Contains(view, "mallory: hi") || !strings.Contains(view, "mallory left (bye)") {
		t.Errorf("sanitized text missing:\n%s", view)
	}

	// In colour, the only escape sequences are the styles' and the
	// Screen's own.
	c, _ := newModel(120, 24, func(c *Config) { c.Renderer = colorRenderer() })
	send(c, batch)
	for _, bad := range []string{"]0;", "hi\x1b[2J", "]52;", "\u202e", "\x07"} {
		if strings.Contains(written(c), bad) {
			t.Errorf("the colour screen sent %q", bad)
		}
	}
	if got := shows(c); got != view {
		t.Errorf("the colour screen's text differs from the plain screen's:\n%s\nwant:\n%s", got, view)
	}
}

// sgr matches a style other than the reset (ESC [ m) the Screen sends
// with a scroll or a clear.
var sgr = regexp.MustCompile(`\x1b\[[0-9;:]+m`)

func TestStylesComeFromTheSessionRenderer(t *testing.T) {
	// Were any style taken from the global renderer, it would colour this
	// screen.
	global := lipgloss.DefaultRenderer()
	saved := global.ColorProfile()
	global.SetColorProfile(termenv.TrueColor)
	t.Cleanup(func() { global.SetColorProfile(saved) })

	history, live := lobby()
	m, _ := newModel(120, 30, func(c *Config) { c.Rooms[0].History = history })
	send(m, EventsMsg(live))
	typeText(m, "/he") // the cursor has a style too
	if out := written(m); sgr.MatchString(out) {
		t.Errorf("a style in a screen rendered without colour: %q", sgr.FindString(out))
	}

	c, _ := newModel(120, 30, func(c *Config) { c.Renderer = colorRenderer() })
	send(c, EventsMsg(live))
	if !sgr.MatchString(written(c)) {
		t.Error("no colour with a TrueColor renderer")
	}
}

func TestResizeReflows(t *testing.T) {
	history, live := lobby()
	m, _ := newModel(120, 30, func(c *Config) { c.Rooms[0].History = history })
	send(m, EventsMsg(live))
	checkScreen(t, m, 120, 30)
	for _, size := range [][2]int{{30, 12}, {20, 6}, {99, 40}, {100, 40}, {500, 200}, {45, 9}} {
		send(m, ResizeMsg{Width: size[0], Height: size[1]})
		checkScreen(t, m, size[0], size[1])
	}
	send(m, ResizeMsg{Width: 40, Height: 20})
	view := shows(m)
	if !strings.Contains(view, "22:23 dave: 漢字もテストします:") {
		t.Errorf("not reflowed to 40 columns:\n%s", view)
	}
}

func TestTooSmall(t *testing.T) {
	for _, size := range [][2]int{{19, 24}, {80, 5}, {5, 2}, {0, 0}} {
		m, _ := newModel(size[0], size[1])
		want := ansi.Truncate("terminal too small", size[0], "⋯")
		if got := shows(m); got != want {
			t.Errorf("%dx%d: view = %q, want %q", size[0], size[1], got, want)
		}
	}
	m, _ := newModel(20, 6)
	history, live := lobby()
	send(m, EventsMsg(history), EventsMsg(live))
	checkScreen(t, m, 20, 6)
}

func TestMemberListIsCached(t *testing.T) {
	m, _ := newModel(120, 24)
	g := newEvents()
	send(m, EventsMsg{g.join(ann), g.join(bob)})
	shows(m)
	rows := m.members.lines()
	send(m, EventsMsg{g.msg(bob, "no change in membership")})
	shows(m)
	if got := m.members.lines(); &got[0] != &rows[0] || m.members.dirty {
		t.Error("member list rebuilt without a membership change")
	}
}

func TestScrollingKeepsPosition(t *testing.T) {
	m, _ := newModel(80, 24)
	g := newEvents()
	batch := EventsMsg{g.join(ann)}
	for i := 1; i <= 100; i++ {
		batch = append(batch, g.msg(bob, "line "+strconv.Itoa(i)))
	}
	send(m, batch)
	press(m, tea.KeyPgUp)
	before := transcriptRows(shows(m))
	if strings.Contains(shows(m), "new ⇣") {
		t.Error("counter shown before anything new arrived")
	}

	send(m, EventsMsg{g.msg(carol, "one"), g.join(dave), g.msg(dave, "two")})
	view := shows(m)
	if after := transcriptRows(view); !slices.Equal(after, before) {
		t.Errorf("new events moved the window:\nbefore %q\nafter  %q", before, after)
	}
	if !strings.Contains(view, "2 new ⇣") {
		t.Errorf("no counter of new messages:\n%s", view)
	}

	// Scrolling back down past them follows again.
	press(m, tea.KeyPgDown)
	press(m, tea.KeyPgDown)
	view = shows(m)
	if strings.Contains(view, "new ⇣") || !strings.Contains(view, "dave: two") {
		t.Errorf("not back at the bottom:\n%s", view)
	}
	send(m, EventsMsg{g.msg(bob, "three")})
	if !strings.Contains(shows(m), "Bob: three") {
		t.Error("not following after scrolling back to the bottom")
	}

	// End follows at once.
	press(m, tea.KeyPgUp)
	press(m, tea.KeyPgUp)
	send(m, EventsMsg{g.msg(bob, "four")})
	press(m, tea.KeyEnd)
	if view := shows(m); !strings.Contains(view, "Bob: four") || strings.Contains(view, "new ⇣") {
		t.Errorf("End does not follow:\n%s", view)
	}
}

func TestScrollStopsAtTheTop(t *testing.T) {
	m, _ := newModel(80, 24)
	g := newEvents()
	batch := EventsMsg{}
	for i := 1; i <= 30; i++ {
		batch = append(batch, g.msg(bob, "line "+strconv.Itoa(i)))
	}
	send(m, batch)
	for range 5 {
		press(m, tea.KeyPgUp)
	}
	rows := transcriptRows(shows(m))
	if rows[0] != "22:14 Bob: line 1" || rows[len(rows)-1] != "22:34 Bob: line 21" {
		t.Errorf("window at the top = %q", rows)
	}

	// A transcript shorter than the window does not scroll.
	m, _ = newModel(80, 24)
	send(m, EventsMsg{g.msg(bob, "alone")})
	press(m, tea.KeyPgUp)
	if m.transcript.scrolled() {
		t.Error("scrolled a transcript that fits")
	}
}

func TestMouseWheelScrollsThreeLines(t *testing.T) {
	m, _ := newModel(80, 24)
	g := newEvents()
	batch := EventsMsg{}
	for i := 1; i <= 50; i++ {
		batch = append(batch, g.msg(bob, "line "+strconv.Itoa(i)))
	}
	send(m, batch)
	wheel := func(b tea.MouseButton) {
		send(m, tea.MouseMsg{Button: b, Action: tea.MouseActionPress})
	}
	wheel(tea.MouseButtonWheelUp)
	rows := transcriptRows(shows(m))
	if last := rows[len(rows)-1]; !strings.HasSuffix(last, "line 47") {
		t.Errorf("bottom line after one wheel step = %q, want line 47", last)
	}
	wheel(tea.MouseButtonWheelDown)
	if m.transcript.scrolled() {
		t.Error("wheel down back to the bottom does not follow")
	}
}

// transcriptRows is the transcript part of an 80-column screen.
func transcriptRows(view string) []string {
	lines := strings.Split(view, "\n")
	return lines[1 : len(lines)-2]
}

func TestCtrlZDoesNotSuspend(t *testing.T) {
	m, _ := newModel(80, 24)
	typeText(m, "draft")
	for _, msg := range run(press(m, tea.KeyCtrlZ)) {
		if _, ok := msg.(tea.SuspendMsg); ok {
			t.Fatal("Ctrl+Z suspends")
		}
	}
	if got := m.input.value(); got != "draft" {
		t.Errorf("Ctrl+Z changed the input to %q", got)
	}
	if Filter(m, tea.SuspendMsg{}) != nil {
		t.Error("Filter lets tea.SuspendMsg through")
	}
	if msg := (EventsMsg{}); Filter(m, msg) == nil {
		t.Error("Filter drops other messages")
	}
}

func TestCtrlVDoesNotReadTheClipboard(t *testing.T) {
	m, _ := newModel(80, 24)
	if cmd := press(m, tea.KeyCtrlV); cmd != nil {
		t.Error("Ctrl+V returns a command: it would read the server's clipboard")
	}
}

func TestInputHistory(t *testing.T) {
	m, _ := newModel(80, 24)
	for _, s := range []string{"one", "two"} {
		typeText(m, s)
		run(press(m, tea.KeyEnter))
	}
	typeText(m, "dra")
	steps := []struct {
		key  tea.KeyType
		want string
	}{
		{tea.KeyUp, "two"}, {tea.KeyUp, "one"}, {tea.KeyUp, "one"},
		{tea.KeyDown, "two"}, {tea.KeyDown, "dra"}, {tea.KeyDown, "dra"},
	}
	for i, s := range steps {
		press(m, s.key)
		if got := m.input.value(); got != s.want {
			t.Fatalf("step %d: input = %q, want %q", i, got, s.want)
		}
	}
}

func TestInputIsSanitized(t *testing.T) {
	m, p := newModel(80, 24)
	typeText(m, "a\u202eb\u200bc\x1b[2J")
	if got := m.input.value(); got != "abc[2J" {
		t.Errorf("input = %q", got)
	}
	run(press(m, tea.KeyEnter))
	if want := []string{"abc[2J"}; !slices.Equal(p.sent, want) {
		t.Errorf("posted %q, want %q", p.sent, want)
	}
}

func TestTranscriptIsBounded(t *testing.T) {
	m, _ := newModel(80, 24)
	g := newEvents()
	for i := range 3000 {
		send(m, EventsMsg{g.msg(bob, "message "+strconv.Itoa(i))})
		if n := len(m.transcript.entries); n > maxEntries+maxEntries/4 {
			t.Fatalf("%d entries kept", n)
		}
	}
	checkScreen(t, m, 80, 24)
	view := shows(m)
	if !strings.Contains(view, "message 2999") {
		t.Errorf("last message not shown:\n%s", view)
	}
	// Scrolled to the very top, the oldest kept entry shows.
	for range 200 {
		press(m, tea.KeyPgUp)
	}
	if rows := transcriptRows(shows(m)); !strings.Contains(rows[0], "message "+strconv.Itoa(3000-len(m.transcript.entries))) {
		t.Errorf("top row %q", rows[0])
	}
}

func TestScrolledAnchorSurvivesTrimming(t *testing.T) {
	m, _ := newModel(80, 24)
	g := newEvents()
	for i := range maxEntries {
		send(m, EventsMsg{g.msg(bob, "old "+strconv.Itoa(i))})
	}
	for range 100 {
		press(m, tea.KeyPgUp)
	}
	for i := range maxEntries {
		send(m, EventsMsg{g.msg(bob, "new "+strconv.Itoa(i))})
		checkScreen(t, m, 80, 24)
	}
	if !m.transcript.scrolled() {
		t.Error("trimming the transcript made it follow")
	}
}

func TestNamesWithoutNameUseTheFingerprint(t *testing.T) {
	m, _ := newModel(80, 24)
	g := newEvents()
	send(m, EventsMsg{g.msg(testUser{"SHA256:abcdefghijkl", ""}, "hi")})
	if view := shows(m); !strings.Contains(view, "abcdefgh: hi") {
		t.Errorf("no fingerprint name:\n%s", view)
	}
}

func TestPaintRendersAsLipgloss(t *testing.T) {
	for _, p := range []termenv.Profile{termenv.Ascii, termenv.ANSI, termenv.ANSI256, termenv.TrueColor} {
		r := colorRenderer()
		r.SetColorProfile(p)
		for _, s := range []lipgloss.Style{
			r.NewStyle(),
			r.NewStyle().Foreground(lipgloss.Color("203")),
			r.NewStyle().Bold(true).Foreground(lipgloss.Color("252")).Background(lipgloss.Color("236")),
		} {
			for _, text := range []string{"ann", "two words", " x ", "漢字 👩‍💻"} {
				if got, want := newPaint(s).render(text), s.Render(text); got != want {
					t.Errorf("profile %v: paint %q, lipgloss %q", p, got, want)
				}
			}
		}
	}
}

func TestOnlyEntriesNearTheWindowKeepTheirLines(t *testing.T) {
	m, _ := newModel(80, 24)
	g := newEvents()
	for i := range 500 {
		send(m, EventsMsg{g.msg(bob, "message "+strconv.Itoa(i))})
		shows(m)
	}
	laid := 0
	for _, e := range m.transcript.entries {
		if e.lines != nil {
			laid++
		}
	}
	if limit := 2*m.transcript.height + 1; laid > limit {
		t.Errorf("%d entries hold lines, want at most %d", laid, limit)
	}
	// Scrolling up lays them out again.
	for range 10 {
		press(m, tea.KeyPgUp)
	}
	if rows := transcriptRows(shows(m)); !strings.HasSuffix(rows[len(rows)-1], "message 299") {
		t.Errorf("bottom row after 10 pages up: %q", rows[len(rows)-1])
	}
}

func TestMemberListOverflow(t *testing.T) {
	var users []testUser
	for i := range 10 {
		users = append(users, testUser{"SHA256:u" + strconv.Itoa(i), "user" + strconv.Itoa(i)})
	}
	m, _ := newModel(100, 6, func(c *Config) { c.Roster = online(users...) })
	checkScreen(t, m, 100, 6)
	rows := m.members.lines()
	if len(rows) != 3 || !strings.Contains(rows[0], "user0") || !strings.Contains(rows[2], "+8 more") {
		t.Errorf("member rows = %q", rows)
	}
	for _, r := range rows {
		if w := lipgloss.Width(r); w != membersWidth {
			t.Errorf("member row %q is %d cells wide, want %d", r, w, membersWidth)
		}
	}
}

func TestTypedWordsAreNotKeys(t *testing.T) {
	for _, word := range []string{"end", "up", "down", "enter", "pgup", "ctrl+c", "home", "tab"} {
		var posted []string
		m := New(Config{Rooms: []RoomView{{ID: "lobby"}}, UserID: "SHA256:me", Name: "me", Width: 80, Height: 24,
			Post: func(_, s string) error { posted = append(posted, s); return nil }})
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("say ")})
		if _, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(word)}); cmd != nil {
			t.Errorf("%q read in one piece acted as a key", word)
		}
		if got, want := m.input.value(), "say "+word; got != want {
			t.Errorf("after typing %q the input is %q, want %q", word, got, want)
		}
	}
}

func TestPasteIsSanitizedWhole(t *testing.T) {
	m := New(Config{Rooms: []RoomView{{ID: "lobby"}}, UserID: "SHA256:me", Name: "me", Width: 80, Height: 24, Post: func(string, string) error { return nil }})
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Paste: true, Runes: []rune("\x1b]0;pwned\x07hi\x1b[2J there")})
	if got, want := m.input.value(), "hi there"; got != want {
		t.Errorf("pasted input = %q, want %q", got, want)
	}
}

func TestRefusedMessageGoesBackToTheInput(t *testing.T) {
	m, p := newModel(80, 24)
	p.err = errors.New("slow down: 5 messages in a burst, then 1 a second")
	typeText(m, "keep me")
	for _, msg := range run(press(m, tea.KeyEnter)) {
		send(m, msg)
	}
	if got := m.input.value(); got != "keep me" {
		t.Errorf("input after a refused message = %q, want it back", got)
	}
	if !strings.Contains(shows(m), "slow down") {
		t.Errorf("the refusal is not shown:\n%s", shows(m))
	}
}

func TestMemberListFromARoster(t *testing.T) {
	r := &fakeRoster{members: []Member{{UserID: ann.id, Name: "ann", Sessions: 1}}}
	m, _ := newModel(120, 12, func(c *Config) { c.Roster = r })
	for i := range 20 {
		r.members = append(r.members, Member{UserID: fmt.Sprint("u", i), Name: fmt.Sprintf("user%02d", i), Sessions: 1 + i%2, Away: i == 0})
	}
	send(m, EventsMsg{newEvents().join(bob)}) // any arrival makes the list read the roster again
	view := shows(m)
	for _, want := range []string{"21 online", "user00 (away)", "user01 x2", "+"} {
		if !strings.Contains(view, want) {
			t.Errorf("view lacks %q:\n%s", want, view)
		}
	}
	if got := m.members.complete("user1", ann.id); len(got) != 10 {
		t.Errorf("completion from the roster = %v", got)
	}
}

func TestRosterEventRefreshesTheMemberList(t *testing.T) {
	r := &fakeRoster{members: []Member{{UserID: ann.id, Name: "ann", Sessions: 1}}}
	m, _ := newModel(120, 12, func(c *Config) { c.Roster = r })
	shows(m)
	r.members = append(r.members, Member{UserID: "u1", Name: "zed", Sessions: 1})
	send(m, EventsMsg{newEvents().next(hub.EventTypeRoster, ann)})
	if view := shows(m); !strings.Contains(view, "2 online") || !strings.Contains(view, "zed") {
		t.Errorf("the member list did not follow the roster event:\n%s", view)
	}
}

// TestRecycle: the model gives each batch back once it has drawn it, and
// keeps nothing of it: the sender may fill it again at once.
func TestRecycle(t *testing.T) {
	var back []EventsMsg
	m, _ := newModel(80, 24, func(c *Config) { c.Recycle = func(evs EventsMsg) { back = append(back, evs) } })
	g := newEvents()
	batch := EventsMsg{g.msg(bob, "first"), g.msg(bob, "second")}
	send(m, batch)
	if len(back) != 1 || &back[0][0] != &batch[0] {
		t.Fatalf("given back %d batches, want the one sent", len(back))
	}
	clear(batch)
	batch[0] = g.msg(carol, "overwritten")
	press(m, tea.KeyCtrlL) // repaints from what the model holds
	if got := shows(m); !strings.Contains(got, "Bob: first") || !strings.Contains(got, "Bob: second") || strings.Contains(got, "overwritten") {
		t.Fatalf("after the batch was filled again the screen shows\n%s", got)
	}
}
