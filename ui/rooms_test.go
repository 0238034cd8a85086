package ui

import (
	"bytes"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/sshchat/sshchat/hub"
)

// in is ev in room.
func in(room string, ev hub.Event) hub.Event {
	ev.ChatRoomID = room
	return ev
}

// withRooms puts the session in rooms, the first shown.
func withRooms(rooms ...RoomView) func(*Config) {
	return func(c *Config) { c.Rooms = rooms }
}

// threeRooms is ann in #lobby (shown), #go (with a topic) and #rust.
func threeRooms(c *Config) {
	withRooms(RoomView{ID: "lobby"}, RoomView{ID: "go", Topic: "all things Go"}, RoomView{ID: "rust"})(c)
}

func alt(r rune) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: true} }

// texts are the texts of the entries of a room's transcript.
func texts(r *room) []string {
	var out []string
	for _, e := range r.t.entries {
		out = append(out, e.text)
	}
	return out
}

func roomNamed(t *testing.T, m *Model, id string) *room {
	t.Helper()
	r, _ := m.find(id)
	if r == nil {
		t.Fatalf("ann is not in #%s; rooms %v", id, roomIDs(m))
	}
	return r
}

func roomIDs(m *Model) []string {
	var ids []string
	for _, r := range m.rooms {
		ids = append(ids, r.id)
	}
	return ids
}

// TestEventsGoToTheirRoom: each event lands in the transcript of its
// room, and only there; events of a room the session is not in are
// dropped.
func TestEventsGoToTheirRoom(t *testing.T) {
	m, _ := newModel(120, 40, threeRooms)
	g := newEvents()
	send(m, EventsMsg{
		g.msg(bob, "in the lobby"),
		in("go", g.msg(bob, "in go")),
		in("rust", g.msg(carol, "in rust")),
		in("elsewhere", g.msg(carol, "in a room ann is not in")),
	})
	for id, want := range map[string][]string{"lobby": {"in the lobby"}, "go": {"in go"}, "rust": {"in rust"}} {
		if got := texts(roomNamed(t, m, id)); !slices.Equal(got, want) {
			t.Errorf("#%s holds %q, want %q", id, got, want)
		}
	}
	view := shows(m)
	if !strings.Contains(view, "in the lobby") || strings.Contains(view, "in go") || strings.Contains(view, "in rust") ||
		strings.Contains(view, "not in") {
		t.Errorf("the lobby shows what was said elsewhere:\n%s", view)
	}
	send(m, alt('2'))
	if view := shows(m); !strings.Contains(view, "in go") || strings.Contains(view, "in the lobby") {
		t.Errorf("#go shown:\n%s", view)
	}
}

// TestUnreadCounts: what others say in a room not shown counts, once per
// message, with a mark when it names the reader; arrivals and ann's own
// messages do not; showing the room clears it.
func TestUnreadCounts(t *testing.T) {
	m, _ := newModel(120, 40, threeRooms)
	g := newEvents()
	send(m, EventsMsg{
		in("go", g.join(bob)),
		in("go", g.msg(bob, "one")),
		in("go", g.action(bob, "waves")),
		in("go", g.msg(ann, "my own")),
		in("rust", g.msg(carol, "hello Ann")),
		in("rust", g.msg(carol, "annie is not ann's name... but ann is")),
	})
	for _, tt := range []struct {
		id        string
		unread    int
		mentioned bool
		row       string
	}{
		{"lobby", 0, false, ">1 #lobby"},
		{"go", 2, false, " 2 #go               2"},
		{"rust", 2, true, " 3 #rust            2@"},
	} {
		r := roomNamed(t, m, tt.id)
		if r.unread != tt.unread || r.mentioned != tt.mentioned {
			t.Errorf("#%s: unread %d, mentioned %v; want %d, %v", tt.id, r.unread, r.mentioned, tt.unread, tt.mentioned)
		}
		if view := shows(m); !strings.Contains(view, "╎ "+tt.row+"\n") {
			t.Errorf("the room list lacks %q:\n%s", tt.row, view)
		}
	}
	send(m, alt('3'))
	if r := roomNamed(t, m, "rust"); r.unread != 0 || r.mentioned {
		t.Errorf("#rust shown: unread %d, mentioned %v; want none", r.unread, r.mentioned)
	}
	send(m, EventsMsg{g.msg(bob, strings.Repeat("x", 2))})
	for range 120 {
		send(m, EventsMsg{g.msg(bob, "more")})
	}
	if view := shows(m); !regexp.MustCompile(`╎  1 #lobby +99\+\n`).MatchString(view) {
		t.Errorf("121 unread in the lobby:\n%s", view)
	}
}

// TestMentionMarkOnANarrowScreen: without room list (80×24), the status
// line says what waits in the rooms not shown.
func TestMentionMarkOnANarrowScreen(t *testing.T) {
	m, _ := newModel(80, 24, threeRooms)
	g := newEvents()
	if view := shows(m); !strings.Contains(view, "PgUp/PgDn scroll") {
		t.Errorf("nothing waits, the status line shows:\n%s", view)
	}
	send(m, EventsMsg{in("go", g.msg(bob, "ann?")), in("rust", g.msg(carol, "x")), in("rust", g.msg(carol, "y"))})
	rows := strings.Split(shows(m), "\n")
	if got, want := rows[22], "unread: #go 1@ ⋅ #rust 2"; got != want {
		t.Errorf("status line %q, want %q", got, want)
	}
	if !strings.HasPrefix(rows[0], " #lobby 1/3 ⋅ ") {
		t.Errorf("header %q, want which of the rooms", rows[0])
	}
	send(m, tea.KeyMsg{Type: tea.KeyCtrlN})
	rows = strings.Split(shows(m), "\n")
	if got, want := rows[22], "unread: #rust 2"; got != want {
		t.Errorf("#go shown: status line %q, want %q", got, want)
	}
	if !strings.HasPrefix(rows[0], " #go 2/3 ⋅ ") {
		t.Errorf("header %q, want which of the rooms", rows[0])
	}
	// A wide screen has the room list instead.
	send(m, ResizeMsg{Width: 120, Height: 40})
	if rows = strings.Split(shows(m), "\n"); !strings.HasPrefix(rows[0], " #go ⋅ ") || !strings.HasPrefix(rows[38], "PgUp/PgDn") {
		t.Errorf("wide: header %q, status %q", rows[0], rows[38])
	}
}

// TestSwitchingKeys: Alt+1…9 show the room of that number, Ctrl+N and
// Ctrl+P the next and the one before, round; keys for no room do nothing.
func TestSwitchingKeys(t *testing.T) {
	m, _ := newModel(120, 40, threeRooms)
	steps := []struct {
		key  tea.KeyMsg
		want string
	}{
		{alt('2'), "go"},
		{alt('3'), "rust"},
		{alt('9'), "rust"},
		{alt('1'), "lobby"},
		{tea.KeyMsg{Type: tea.KeyCtrlP}, "rust"},
		{tea.KeyMsg{Type: tea.KeyCtrlP}, "go"},
		{tea.KeyMsg{Type: tea.KeyCtrlN}, "rust"},
		{tea.KeyMsg{Type: tea.KeyCtrlN}, "lobby"},
		{tea.KeyMsg{Type: tea.KeyCtrlN}, "go"},
	}
	for i, s := range steps {
		send(m, s.key)
		if m.cur.id != s.want {
			t.Fatalf("step %d, %s: showing #%s, want #%s", i, s.key, m.cur.id, s.want)
		}
		if header := strings.SplitN(shows(m), "\n", 2)[0]; !strings.HasPrefix(header, " #"+s.want+" ") {
			t.Fatalf("step %d: header %q", i, header)
		}
	}
	if got := m.input.value(); got != "" {
		t.Errorf("the keys typed %q", got)
	}
}

// TestScrollbackPerRoom: every room keeps where its reader was.
func TestScrollbackPerRoom(t *testing.T) {
	m, _ := newModel(80, 24, threeRooms)
	g := newEvents()
	var batch EventsMsg
	for i := range 60 {
		batch = append(batch, g.msg(bob, "lobby "+strconv.Itoa(i)), in("go", g.msg(bob, "go "+strconv.Itoa(i))))
	}
	send(m, batch)
	press(m, tea.KeyPgUp)
	lobbyView := shows(m)
	send(m, alt('2'))
	if m.transcript.scrolled() || !strings.Contains(shows(m), "go 59") {
		t.Errorf("#go is not at its newest line:\n%s", shows(m))
	}
	send(m, EventsMsg{g.msg(bob, "lobby new")})
	send(m, alt('1'))
	view := shows(m)
	if !m.transcript.scrolled() || !strings.Contains(view, "1 new") {
		t.Errorf("the lobby lost its place:\n%s", view)
	}
	above := func(s string) string { return strings.Join(strings.Split(s, "\n")[:22], "\n") }
	if above(view) != above(lobbyView) {
		t.Errorf("the lobby shows\n%s\nwant as before\n%s", view, lobbyView)
	}
}

// TestPostAndRunInTheRoomShown: messages and server commands go to the
// room shown.
func TestPostAndRunInTheRoomShown(t *testing.T) {
	r := &runner{}
	m, p := newModel(80, 24, threeRooms, withServer(r))
	enter(m, "hello lobby")
	send(m, alt('3'))
	enter(m, "hello rust")
	run(paste(m, "two\nlines"))
	enter(m, "/nick annie")
	if want := []string{"hello lobby", "hello rust", "two\nlines"}; !slices.Equal(p.sent, want) {
		t.Errorf("posted %q, want %q", p.sent, want)
	}
	if want := []string{"lobby", "rust", "rust"}; !slices.Equal(p.rooms, want) {
		t.Errorf("posted in %q, want %q", p.rooms, want)
	}
	if !slices.Equal(r.calls, []string{"nick|annie"}) || !slices.Equal(r.rooms, []string{"rust"}) {
		t.Errorf("ran %q in %q, want nick in rust", r.calls, r.rooms)
	}
}

// TestJoinARoomTheSessionIsIn: /join shows it without the server; any
// other room is the server's.
func TestJoinARoomTheSessionIsIn(t *testing.T) {
	r := &runner{replies: map[string]string{"join": "joining"}}
	m, _ := newModel(80, 24, threeRooms, withServer(r))
	for _, tt := range []struct{ line, want string }{
		{"/join #go", "go"},
		{"/join RUST", "rust"},
		{"/join #Lobby", "lobby"},
	} {
		enter(m, tt.line)
		if m.cur.id != tt.want {
			t.Errorf("%s: showing #%s, want #%s", tt.line, m.cur.id, tt.want)
		}
	}
	if len(r.calls) != 0 {
		t.Errorf("the server was asked %q", r.calls)
	}
	send(m, alt('2'))
	enter(m, "/join #haskell")
	if !slices.Equal(r.calls, []string{"join|#haskell"}) || !slices.Equal(r.rooms, []string{"go"}) {
		t.Errorf("ran %q in %q, want join #haskell from go", r.calls, r.rooms)
	}
	if m.cur.id != "go" || lastLine(m) != "joining" {
		t.Errorf("showing #%s, last line %q", m.cur.id, lastLine(m))
	}
	enter(m, "/join")
	if lastLine(m) != "usage: /join #ROOM" {
		t.Errorf("/join alone: %q", lastLine(m))
	}
}

// TestJoinedAndParted: a room joined is added and shown, with its history
// and topic; a room left goes, the room before it shown, and with none
// left the screen says how to join one.
func TestJoinedAndParted(t *testing.T) {
	m, p := newModel(120, 40, withRooms(RoomView{ID: "lobby"}))
	g := newEvents()
	if view := shows(m); strings.Contains(view, "#lobby\n") || strings.Contains(view, ">1") {
		t.Errorf("a room list for one room:\n%s", view)
	}
	send(m, JoinedMsg{Room: RoomView{ID: "go", Topic: "gophers", History: []hub.Event{in("go", g.msg(bob, "earlier in go"))}}})
	view := shows(m)
	for _, want := range []string{" #go ⋅ 1 online ⋅ gophers ", "earlier in go", "╎  1 #lobby", "╎ >2 #go"} {
		if !strings.Contains(view, want) {
			t.Errorf("after JoinedMsg the screen lacks %q:\n%s", want, view)
		}
	}
	send(m, alt('1'), JoinedMsg{Room: RoomView{ID: "go", History: []hub.Event{in("go", g.msg(bob, "again"))}}})
	if r := roomNamed(t, m, "go"); m.cur != r || len(m.rooms) != 2 || slices.Contains(texts(r), "again") || r.topic != "gophers" {
		t.Errorf("JoinedMsg of a room ann is in: showing #%s, rooms %v, #go %q topic %q", m.cur.id, roomIDs(m), texts(r), r.topic)
	}
	send(m, JoinedMsg{Room: RoomView{ID: "go", Topic: "gophers, again"}})
	if h := strings.SplitN(shows(m), "\n", 2)[0]; !strings.Contains(h, "gophers, again") {
		t.Errorf("JoinedMsg with a new topic of the room shown: header %q", h)
	}
	send(m, JoinedMsg{Room: RoomView{ID: "rust"}}, JoinedMsg{Room: RoomView{ID: "\x1b[2J"}}, alt('2'))
	if !slices.Equal(roomIDs(m), []string{"lobby", "go", "rust"}) {
		t.Errorf("rooms %v after a JoinedMsg of no room", roomIDs(m))
	}

	send(m, PartedMsg{Room: "go", Reason: "kicked by admin: spam"})
	if m.cur.id != "lobby" || !slices.Equal(roomIDs(m), []string{"lobby", "rust"}) {
		t.Errorf("after parting #go: showing #%s of %v", m.cur.id, roomIDs(m))
	}
	if lastLine(m) != "you left #go (kicked by admin: spam)" {
		t.Errorf("last line %q", lastLine(m))
	}
	send(m, PartedMsg{Room: "rust"}, PartedMsg{Room: "nowhere"})
	if m.cur.id != "lobby" || lastLine(m) != "you left #rust" {
		t.Errorf("after parting #rust: showing #%s, last line %q", m.cur.id, lastLine(m))
	}
	send(m, EventsMsg{in("go", g.msg(bob, "after ann left"))})
	send(m, PartedMsg{Room: "lobby"})
	view = shows(m)
	for _, want := range []string{" no room ", "you left #lobby", noRoomText} {
		if !strings.Contains(view, want) {
			t.Errorf("in no room the screen lacks %q:\n%s", want, view)
		}
	}
	enter(m, "anyone?")
	if len(p.sent) != 0 || !strings.Contains(lastLine(m), noRoomText) {
		t.Errorf("in no room: posted %q, last line %q", p.sent, lastLine(m))
	}
	send(m, EventsMsg{in(DirectRoom, g.direct(bob, ann, "still there?"))})
	if !strings.Contains(shows(m), "still there?") {
		t.Errorf("a direct message in no room is not shown:\n%s", shows(m))
	}
	send(m, alt('1'), tea.KeyMsg{Type: tea.KeyCtrlN}, JoinedMsg{Room: RoomView{ID: "lobby"}})
	if m.cur.id != "lobby" || len(m.rooms) != 1 || !strings.HasPrefix(shows(m), " #lobby ") {
		t.Errorf("joined again: showing #%s of %v\n%s", m.cur.id, roomIDs(m), shows(m))
	}
}

// TestNoRoomsAtTheStart: a session may start in no room.
func TestNoRoomsAtTheStart(t *testing.T) {
	r := &runner{}
	m, _ := newModel(80, 24, withRooms(), withServer(r))
	if view := shows(m); !strings.Contains(view, noRoomText) || !strings.HasPrefix(view, " no room") {
		t.Errorf("no room:\n%s", view)
	}
	enter(m, "/join #go")
	if !slices.Equal(r.calls, []string{"join|#go"}) || !slices.Equal(r.rooms, []string{""}) {
		t.Errorf("ran %q in %q", r.calls, r.rooms)
	}
}

// TestDirectMessagesAcrossRooms: a direct message shows in the room the
// session views, whichever it is, rings, and is answered by /reply from
// any room.
func TestDirectMessagesAcrossRooms(t *testing.T) {
	r := &runner{}
	m, _ := newModel(80, 24, threeRooms, withServer(r))
	g := newEvents()
	send(m, alt('3'))
	cmd := send(m, EventsMsg{in(DirectRoom, g.direct(bob, ann, "psst"))})
	if cmd == nil {
		t.Error("a direct message to ann did not ring")
	}
	if got := texts(roomNamed(t, m, "rust")); !slices.Equal(got, []string{"psst"}) {
		t.Errorf("#rust holds %q, want the direct message", got)
	}
	for _, id := range []string{"lobby", "go"} {
		if got := texts(roomNamed(t, m, id)); len(got) != 0 {
			t.Errorf("#%s holds %q", id, got)
		}
	}
	if !strings.Contains(shows(m), "[dm] Bob ⇢ ann: psst") {
		t.Errorf("the direct message is not shown:\n%s", shows(m))
	}
	send(m, alt('1'))
	enter(m, "/reply hi")
	if !slices.Equal(r.calls, []string{"msg|Bob hi"}) || !slices.Equal(r.rooms, []string{"lobby"}) {
		t.Errorf("ran %q in %q", r.calls, r.rooms)
	}
	// Scrolled up in the room shown, the direct message waits below.
	for range 40 {
		send(m, EventsMsg{g.msg(bob, "filler")})
	}
	press(m, tea.KeyPgUp)
	send(m, EventsMsg{in(DirectRoom, g.direct(carol, ann, "up there?"))})
	if !strings.Contains(shows(m), "1 new") {
		t.Errorf("scrolled up, the direct message is not counted:\n%s", shows(m))
	}
}

// TestMentionInAnotherRoomRings: a mention rings wherever it is.
func TestMentionInAnotherRoomRings(t *testing.T) {
	m, _ := newModel(80, 24, threeRooms)
	g := newEvents()
	if cmd := send(m, EventsMsg{in("go", g.msg(bob, "nobody named"))}); cmd != nil {
		t.Error("a message naming no one rang")
	}
	if cmd := send(m, EventsMsg{in("go", g.msg(bob, "ann: look"))}); cmd == nil {
		t.Error("a mention in #go did not ring")
	}
}

// TestTopic: the header shows the topic of the room shown, from its
// RoomView and then from topic events, of that room only.
func TestTopic(t *testing.T) {
	m, _ := newModel(80, 24, threeRooms)
	g := newEvents()
	header := func() string { return strings.SplitN(shows(m), "\n", 2)[0] }
	if h := header(); strings.Contains(h, "things") {
		t.Errorf("the lobby shows the topic of #go: %q", h)
	}
	topic := func(room, text string) hub.Event {
		ev := in(room, g.said(hub.EventTypeTopic, bob, text))
		return ev
	}
	send(m, EventsMsg{topic("lobby", "welcome \x1b[31mall"), topic("go", "generics")})
	if h := header(); !strings.HasPrefix(h, " #lobby 1/3 ⋅ 1 online ⋅ welcome all ") {
		t.Errorf("header %q", h)
	}
	send(m, alt('2'))
	if h := header(); !strings.HasPrefix(h, " #go 2/3 ⋅ 1 online ⋅ generics ") {
		t.Errorf("header %q", h)
	}
	send(m, EventsMsg{topic("go", "")})
	if h := header(); !strings.HasPrefix(h, " #go 2/3 ⋅ 1 online ") || strings.Contains(h, "generics") {
		t.Errorf("topic cleared: header %q", h)
	}
	if got := lastLine(m); got != "Bob cleared the topic" {
		t.Errorf("last line %q", got)
	}
	// A topic longer than the header is cut, the name kept.
	send(m, EventsMsg{topic("go", strings.Repeat("long ", 40))})
	if h := header(); !strings.HasSuffix(strings.TrimRight(h, " "), "⋯") {
		t.Errorf("long topic: header %q", h)
	}
}

// TestMembersOfTheRoomShown: the member list and the count online are of
// the room shown.
func TestMembersOfTheRoomShown(t *testing.T) {
	roster := online(ann, bob)
	roster.rooms = map[string][]Member{"go": online(ann, carol, dave).members}
	m, _ := newModel(120, 40, threeRooms, func(c *Config) { c.Roster = roster })
	if view := shows(m); !strings.Contains(view, "2 online") || !strings.Contains(view, "╎ Bob") {
		t.Errorf("lobby:\n%s", view)
	}
	send(m, alt('2'))
	if view := shows(m); !strings.Contains(view, "3 online") || !strings.Contains(view, "╎ carol") || strings.Contains(view, "Bob") {
		t.Errorf("#go:\n%s", view)
	}
	roster.asked = nil
	send(m, EventsMsg{in("lobby", newEvents().join(erin))})
	if len(roster.asked) != 0 {
		t.Errorf("an arrival in the lobby read the roster while #go is shown: %q", roster.asked)
	}
	send(m, EventsMsg{in("go", newEvents().join(erin))})
	if !slices.Equal(roster.asked, []string{"go", "go"}) {
		t.Errorf("an arrival in #go read the roster of %q, want #go's, for the count and the list", roster.asked)
	}
}

// TestRoomCompletion: Tab after '#' offers the rooms the session is in.
func TestRoomCompletion(t *testing.T) {
	m, _ := newModel(80, 24, withRooms(RoomView{ID: "lobby"}, RoomView{ID: "go"}, RoomView{ID: "golang"}))
	typeText(m, "/join #g")
	press(m, tea.KeyTab)
	if got := m.input.value(); got != "/join #go" {
		t.Errorf("after Tab: %q", got)
	}
	press(m, tea.KeyTab)
	if got := m.input.value(); got != "/join #golang" {
		t.Errorf("after Tab Tab: %q", got)
	}
}

// TestRoomListOverflow: on a short screen the list keeps half the side,
// the rest as "+N more", and the member list the other half.
func TestRoomListOverflow(t *testing.T) {
	var rooms []RoomView
	for i := range 12 {
		rooms = append(rooms, RoomView{ID: "room" + strconv.Itoa(i)})
	}
	m, _ := newModel(120, 16, withRooms(rooms...), func(c *Config) { c.Roster = online(ann, bob, carol) })
	checkScreen(t, m, 120, 16)
	view := shows(m)
	for _, want := range []string{">1 #room0", " 4 #room3", "  +8 more", "╎ ann", "╎ Bob", "╎ carol"} {
		if !strings.Contains(view, want) {
			t.Errorf("the screen lacks %q:\n%s", want, view)
		}
	}
	if strings.Contains(view, "#room4") {
		t.Errorf("more rooms than fit:\n%s", view)
	}
	// Rooms beyond 9 have no number: no key shows them but Ctrl+N/P.
	send(m, alt('9'), tea.KeyMsg{Type: tea.KeyCtrlN}, tea.KeyMsg{Type: tea.KeyCtrlN})
	if m.cur.id != "room10" {
		t.Errorf("showing #%s, want #room10", m.cur.id)
	}
}

// TestOtherRoomCostsOnlyItsCounter: a batch of messages in a room not
// shown changes one row of the terminal: the counter of the room list on
// a wide screen, the status line on a narrow one.
func TestOtherRoomCostsOnlyItsCounter(t *testing.T) {
	for _, size := range [][2]int{{120, 40}, {80, 24}} {
		m, _ := newModel(size[0], size[1], threeRooms)
		g := newEvents()
		send(m, EventsMsg{g.join(ann), g.msg(bob, "in the lobby")})
		send(m, EventsMsg{in("go", g.msg(bob, "first"))})
		painterOf(m).out.Reset()
		var batch EventsMsg
		for i := range 50 {
			batch = append(batch, in("go", g.msg(bob, "go "+strconv.Itoa(i))), in("rust", g.join(carol)))
		}
		send(m, batch)
		out := written(m)
		moves := regexp.MustCompile(`\x1b\[(\d+)(;(\d+))?H`).FindAllStringSubmatch(out, -1)
		if len(moves) != 1 {
			t.Fatalf("%dx%d: the frame placed the cursor %d times, want once: %q", size[0], size[1], len(moves), out)
		}
		row, _ := strconv.Atoi(moves[0][1])
		col := moves[0][3]
		switch size[0] {
		case 120:
			// The row's border stays: it is drawn from the column after.
			if row != 3 || col != strconv.Itoa(m.layout().sideCol+2) {
				t.Errorf("120x40: wrote at row %d column %s, want the row of #go in the room list: %q", row, col, out)
			}
		case 80:
			if row != 23 || col != "" {
				t.Errorf("80x24: wrote at row %d column %s, want the status line: %q", row, col, out)
			}
		}
		if strings.Contains(out, "go 49") || len(out) > 200 {
			t.Errorf("%dx%d: wrote %d bytes: %q", size[0], size[1], len(out), out)
		}
		if r := roomNamed(t, m, "go"); r.t.laidFrom <= r.t.lastSeq() {
			for _, e := range r.t.entries {
				if e.lines != nil {
					t.Fatalf("an entry of #go, not shown, was laid out")
				}
			}
		}
	}
}

// TestRoomNotShownHoldsNoLines: a room left keeps its entries but lets go
// of their lines and of its window.
func TestRoomNotShownHoldsNoLines(t *testing.T) {
	m, _ := newModel(80, 24, threeRooms)
	g := newEvents()
	for i := range 30 {
		send(m, EventsMsg{g.msg(bob, "lobby "+strconv.Itoa(i))})
	}
	lobby := roomNamed(t, m, "lobby")
	send(m, alt('2'))
	for _, e := range lobby.t.entries {
		if e.lines != nil {
			t.Fatal("an entry of the lobby, not shown, keeps its lines")
		}
	}
	if lobby.t.rows != nil || lobby.t.scratch != nil {
		t.Error("the lobby, not shown, keeps its window")
	}
	send(m, alt('1'))
	if !strings.Contains(shows(m), "lobby 29") {
		t.Errorf("the lobby again:\n%s", shows(m))
	}
}

// TestTimestampsInEveryRoom: /timestamp is of the session, not of a room.
func TestTimestampsInEveryRoom(t *testing.T) {
	m, _ := newModel(80, 24, threeRooms)
	g := newEvents()
	send(m, EventsMsg{in("go", g.msg(bob, "in go"))})
	enter(m, "/timestamp off")
	send(m, alt('2'))
	if view := shows(m); !strings.Contains(view, "\nBob: in go") {
		t.Errorf("#go shows the time:\n%s", view)
	}
}

// TestLineModeRooms: a line-mode chat writes every room's lines as they
// come, those of a room not shown after its name in brackets, and says
// which room is shown when it changes.
func TestLineModeRooms(t *testing.T) {
	var out bytes.Buffer
	g := newEvents()
	m, p := newModel(80, 24, func(c *Config) {
		c.Lines = NewLines(&out)
		c.Rooms = []RoomView{
			{ID: "lobby", History: []hub.Event{g.msg(bob, "lobby before")}},
			{ID: "go", Topic: "gophers", History: []hub.Event{in("go", g.msg(bob, "go before"))}},
		}
	})
	send(m, EventsMsg{g.msg(bob, "lobby now"), in("go", g.msg(carol, "go now")), in(DirectRoom, g.direct(bob, ann, "psst"))})
	enter(m, "/join #go")
	send(m, EventsMsg{g.msg(bob, "lobby later"), in("go", g.msg(carol, "go later"))})
	send(m, JoinedMsg{Room: RoomView{ID: "rust", History: []hub.Event{in("rust", g.msg(dave, "rust before"))}}})
	send(m, PartedMsg{Room: "rust", Reason: "dropped"})
	enter(m, "hi")
	send(m, PartedMsg{Room: "lobby"}, PartedMsg{Room: "go"}, JoinedMsg{Room: RoomView{ID: "go"}})
	if !slices.Equal(p.rooms, []string{"go"}) {
		t.Errorf("posted in %q, want go", p.rooms)
	}
	var shown []string
	for _, l := range strings.Split(out.String(), "\r\n") {
		if i := strings.LastIndexByte(l, '\r'); i >= 0 {
			l = l[i+1:]
		}
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, ">") {
			shown = append(shown, l)
		}
	}
	want := []string{
		"22:14 Bob: lobby before",
		"╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌",
		"22:16 Bob: lobby now",
		"[#go] 22:17 carol: go now",
		"22:18 [dm] Bob ⇢ ann: psst",
		"now in #go: gophers",
		"[#lobby] 22:19 Bob: lobby later",
		"22:20 carol: go later",
		"22:21 dave: rust before",
		"╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌",
		"now in #rust",
		"now in #go: gophers",
		"you left #rust (dropped)",
		"you left #lobby",
		"you left #go",
		noRoomText,
		"now in #go",
	}
	if !slices.Equal(shown, want) {
		t.Errorf("line mode wrote\n%s\nwant\n%s", strings.Join(shown, "\n"), strings.Join(want, "\n"))
	}
}

// TestEmptyRoomCost: a room the session is in, empty and not shown,
// costs a small fixed amount (about 300 bytes measured; the bound leaves
// room for the collector's noise).
func TestEmptyRoomCost(t *testing.T) {
	const bound = 1024
	if got := emptyRoomBytes(); got > bound {
		t.Errorf("an empty room not shown holds %.0f bytes, want at most %d", got, bound)
	}
}

// TestRoomListInASCII: on a terminal that is not UTF-8 the room list and
// the status line are ASCII too.
func TestRoomListInASCII(t *testing.T) {
	for _, width := range []int{120, 80} {
		var out bytes.Buffer
		m, _ := newModel(width, 24, threeRooms, func(c *Config) {
			c.Screen = NewScreen(&out, nil)
			c.Locale = Locale{ASCII: true}
		})
		m.Init()
		g := newEvents()
		m.Update(EventsMsg{in("go", g.msg(bob, "ann?")), in("rust", g.msg(carol, "café"))})
		for i, c := range out.Bytes() {
			if c >= 0x80 {
				t.Fatalf("width %d: byte %d of the output is %#x, not ASCII: %q", width, i, c, out.String())
			}
		}
		want := "| >1 #lobby"
		if width == 80 {
			want = "unread: #go 1@ | #rust 1"
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("width %d: the screen lacks %q: %q", width, want, out.String())
		}
	}
}
