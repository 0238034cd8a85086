package ui

import (
	"strconv"
	"strings"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/sanitize"
)

// RoomView is a room as a session enters it: at the start (Config.Rooms)
// or later (JoinedMsg).
type RoomView struct {
	ID      string      // the room's ID, as events carry it: "go", without '#'
	Topic   string      // the room's topic, "" for none
	History []hub.Event // recent events of the room, oldest first, already filtered for this user
}

// JoinedMsg tells the model that the session is now in a room: it is
// added to the room list and shown. For a room the session is already in,
// it is only shown.
type JoinedMsg struct{ Room RoomView }

// PartedMsg tells the model that the session left a room (its stream
// ended): Reason says why, "" for a plain /part. The room goes from the
// list; if it was shown, another one is, or, with none left, a line that
// says how to /join one.
type PartedMsg struct{ Room, Reason string }

// DirectRoom is the ChatRoomID of direct messages: they are in no room,
// and show in whichever room the session is viewing.
const DirectRoom = "@direct"

// room is one room the session is in: its own transcript, with its own
// scrollback, and what the room list says of it. An empty room costs its
// struct and its strings: a transcript holds no lines until it is shown.
type room struct {
	id        string // as events carry it: "go"
	title     string // sanitized, with its '#': "#go"
	topic     string // sanitized, one line
	t         transcript
	unread    int  // things said in it since it was last shown
	mentioned bool // and one of them named the reader
}

// roomTitle is how a room is shown: "#go". Room names are ASCII; any
// other character, which no room name has, is shown as a '?', so that a
// title is always as wide as measured.
func roomTitle(id string) string {
	id = toASCII(sanitize.Line(id))
	if !strings.HasPrefix(id, "#") {
		id = "#" + id
	}
	return id
}

// roomID is the ID a user means by "#Go" or "go": without '#', lower case.
func roomID(name string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(name), "#"))
}

// newRoom makes the room of v, its history in its transcript. The
// history is written to a line-mode chat only when out is set.
func (m *Model) newRoom(v RoomView, out *Lines) *room {
	r := &room{id: v.ID, title: roomTitle(v.ID), topic: sanitize.Line(v.Topic)}
	r.t = newTranscript(m.st, m.loc)
	r.t.clock = m.clock
	r.t.out = out
	for _, ev := range v.History {
		if r.t.gatherEvent(ev) {
			continue
		}
		if e := m.entryFor(ev); e != nil {
			r.t.add(e)
		}
	}
	if len(v.History) > 0 {
		r.t.add(&entry{kind: kindSeparator})
	}
	r.t.out = m.lines
	return r
}

// find returns the room the session is in called id, and its index, or
// nil and -1.
func (m *Model) find(id string) (*room, int) {
	for i, r := range m.rooms {
		if r.id == id {
			return r, i
		}
	}
	return nil, -1
}

// roomOf is the room an event goes to: its own; the room shown for a
// direct message, and for an event of no room; nil for a room the
// session is not in (any more).
func (m *Model) roomOf(ev hub.Event) *room {
	if ev.ChatRoomID == DirectRoom || ev.ChatRoomID == "" {
		return m.cur
	}
	r, _ := m.find(ev.ChatRoomID)
	return r
}

// show makes r the room shown. The room left keeps its entries and where
// its reader was, but not their lines: they are laid out again when it is
// shown again, so a room not shown costs no more than its entries.
func (m *Model) show(r *room) {
	if r == m.cur {
		return
	}
	old := m.cur
	old.t.park()
	old.t.tag = old.title
	m.cur, m.transcript = r, &r.t
	r.t.tag = ""
	r.t.setClock(m.clock)
	r.unread, r.mentioned = 0, false
	m.header.setRoom(r.title, r.topic)
	m.members.setRoom(r.id)
	m.header.setOnline(m.members.count())
	m.list.dirty = true
	m.handleResize(m.width, m.height)
	if m.lines != nil && r.id != "" { // in no room, the line that says so follows
		text := "now in " + r.title
		if r.topic != "" {
			text += ": " + r.topic
		}
		m.lines.println(m.st.show(text))
	}
}

// noRoomText is what a session in no room is told.
const noRoomText = "you are in no room: /join #room to join one"

// nowhere is the room shown when the session is in none: it is not in
// the list, and goes when the session joins one.
func (m *Model) nowhere() *room {
	r := &room{}
	r.t = newTranscript(m.st, m.loc)
	r.t.clock = m.clock
	r.t.out = m.lines
	return r
}

func (m *Model) handleJoined(msg JoinedMsg) {
	id := sanitize.Line(msg.Room.ID)
	if id == "" {
		return
	}
	r, _ := m.find(id)
	if r == nil {
		msg.Room.ID = id
		r = m.newRoom(msg.Room, m.lines) // a line-mode chat writes its history: it is shown
		m.rooms = append(m.rooms, r)
		m.list.dirty = true
	} else if msg.Room.Topic != "" {
		r.topic = sanitize.Line(msg.Room.Topic)
	}
	m.show(r)
	m.header.setRoom(r.title, r.topic)
	m.resizeSide()
	m.refreshStatus()
}

func (m *Model) handleParted(msg PartedMsg) {
	r, i := m.find(msg.Room)
	if r == nil {
		return
	}
	m.rooms = append(m.rooms[:i], m.rooms[i+1:]...)
	m.list.dirty = true
	text := "you left " + r.title
	if why := sanitize.Line(msg.Reason); why != "" {
		text += " (" + why + ")"
	}
	if r == m.cur {
		next := m.nowhere()
		if len(m.rooms) > 0 {
			next = m.rooms[max(i-1, 0)]
		}
		m.show(next)
	}
	m.addLocal(kindNotice, text)
	if m.cur.id == "" {
		m.addLocal(kindNotice, noRoomText)
	}
	m.resizeSide()
	m.refreshStatus()
}

// switchTo shows the room at index i of the list, if there is one.
func (m *Model) switchTo(i int) {
	if i >= 0 && i < len(m.rooms) {
		m.show(m.rooms[i])
		m.resizeSide()
		m.refreshStatus()
	}
}

// cycle shows the next room of the list (by is 1) or the one before (-1),
// round.
func (m *Model) cycle(by int) {
	n := len(m.rooms)
	if n == 0 {
		return
	}
	_, i := m.find(m.cur.id) // never -1: with a room, one is shown
	m.switchTo(((i+by)%n + n) % n)
}

// counts notes what an entry of a room not shown says to its reader: one
// more unread, and whether it names them.
func (r *room) count(ev hub.Event, e *entry, userID string) bool {
	if !e.said() || ev.UserID == userID {
		return false
	}
	r.unread++
	if len(e.marks) > 0 || e.kind == kindDirect && ev.To == userID {
		r.mentioned = true
	}
	return true
}

// roomList is the list of the session's rooms, on the side of a wide
// screen above the member list: a number for Alt+1…9, the name, and how
// many things were said in it unseen, with a mark when one named the
// reader. Its rows are cached and rebuilt only when something in it
// changes.
type roomList struct {
	st    *styles
	width int
	rows  []string
	dirty bool
}

// maxListed is how many rooms the list shows at most in height rows of
// the side: the member list keeps at least half of them.
func maxListed(height int) int { return max(height/2-1, 1) }

// listRows is how many rows of the side the room list takes, its rule
// below included: none for a session in fewer than two rooms.
func (m *Model) listRows() int {
	if len(m.rooms) < 2 {
		return 0
	}
	return min(len(m.rooms), maxListed(m.height-chrome)) + 1
}

// unreadText is what a count of unread things looks like: "3", "99+",
// and "@" after it when one of them named the reader.
func unreadText(r *room) string {
	s := ""
	switch {
	case r.unread > 99:
		s = "99+"
	case r.unread > 0:
		s = strconv.Itoa(r.unread)
	}
	if r.mentioned {
		s += "@"
	}
	return s
}

// lines returns the rows of the list for rooms, cur shown, n rows of it
// and a rule, each exactly width cells.
func (l *roomList) lines(rooms []*room, cur *room, n int) []string {
	if !l.dirty && len(l.rows) == n {
		return l.rows
	}
	l.dirty = false
	l.rows = l.rows[:0]
	if n == 0 {
		return l.rows
	}
	st := l.st
	border := st.sideLead + " "
	inner := l.width - 2
	shown, more := rooms, 0
	if len(rooms) > n-1 {
		shown, more = rooms[:n-2], len(rooms)-(n-2)
	}
	for i, r := range shown {
		mark := " "
		if r == cur {
			mark = ">"
		}
		num := " "
		if i < 9 {
			num = strconv.Itoa(i + 1)
		}
		count := unreadText(r)
		cw := len(count)
		if cw > 0 {
			cw++
		}
		name := st.fit(st.show(r.title), max(inner-3-cw, 1))
		text := mark + num + " " + name
		w := st.width(text)
		paint := st.system
		if r == cur {
			paint = st.current
		}
		row := border + paint.render(text)
		if count != "" {
			row += spaces(inner-w-len(count)) + st.newCount.render(count)
			w = inner
		}
		l.rows = append(l.rows, row+spaces(inner-w))
	}
	if more > 0 {
		text := st.fit("  +"+strconv.Itoa(more)+" more", inner)
		l.rows = append(l.rows, border+st.subtle.render(text)+spaces(inner-st.width(text)))
	}
	rule := st.sideLead + st.separator.render(strings.Repeat(st.g.rule, l.width-1))
	return append(l.rows, rule)
}

// unreadSummary is what the status line of a narrow screen, without the
// room list, says of the rooms not shown: "#go 3 ⋅ #rust 1@"; "" when
// nothing waits.
func (m *Model) unreadSummary() string {
	var b strings.Builder
	for _, r := range m.rooms {
		if r == m.cur || r.unread == 0 && !r.mentioned {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(m.st.g.dot)
		}
		b.WriteString(m.st.show(r.title))
		b.WriteByte(' ')
		b.WriteString(unreadText(r))
	}
	return b.String()
}

// resizeSide shares the side of a wide screen between the room list and
// the member list.
func (m *Model) resizeSide() {
	h := max(m.height-chrome, 0)
	m.list.width = membersWidth
	m.list.dirty = true
	m.members.SetSize(membersWidth, h-m.listRows())
}
