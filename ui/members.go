package ui

import (
	"strconv"

	"github.com/sshchat/sshchat/hub"
)

// membersWidth is the width of the member list, its border included; it
// is shown when the terminal is at least membersMinWidth wide.
const (
	membersWidth    = 24
	membersMinWidth = 100
)

// Roster is who is in each room, kept once by the server for all of its
// sessions: a session's member list reads it rather than keeping a copy of
// its own (a thousand sessions of a thousand users would otherwise hold a
// million entries). Its methods are called from the program's goroutine
// and must be safe for concurrent use.
type Roster interface {
	// Members returns the first n users in room (its ID, without '#'), in
	// display order (by name, ignoring case), and how many are in it.
	Members(room string, n int) (top []Member, total int)
	// Complete returns the names of the users online, but userID, that
	// start with prefix ignoring case, in display order.
	Complete(prefix, userID string) []string
}

// Member is one user of a Roster.
type Member struct {
	UserID, Name string
	Sessions     int
	Away         bool
}

// members is who is online, as the Roster says. Its rows are cached and
// rebuilt only when membership or size change; with a Shared, the screens
// of one look and size list the members of a room with the same rows.
type members struct {
	st            *styles
	shared        *Shared // nil: the rows are the list's own
	width, height int
	roster        Roster
	room          string // the room whose members are listed
	total         int    // users in it

	rows  []string // height rows, each exactly width cells; never changed, maybe shared
	dirty bool
}

func newMembers(st *styles, shared *Shared, roster Roster, room string) members {
	if roster == nil {
		roster = noOne{}
	}
	m := members{st: st, shared: shared, roster: roster, room: room, dirty: true}
	_, m.total = roster.Members(room, 0)
	return m
}

// setRoom lists the members of another room.
func (m *members) setRoom(room string) {
	if room != m.room {
		m.room, m.dirty = room, true
	}
}

// noOne is the Roster of a model given none.
type noOne struct{}

func (noOne) Members(string, int) ([]Member, int) { return nil, 0 }
func (noOne) Complete(string, string) []string    { return nil }

// count is how many users are online.
func (m *members) count() int {
	if m.dirty {
		_, m.total = m.roster.Members(m.room, 0)
	}
	return m.total
}

// apply follows a join, add, remove, leave, rename, away or back (or a
// roster event, which stands for some of them), and reports whether the
// list may have changed: it is read from the Roster again.
func (m *members) apply(ev hub.Event) bool {
	switch ev.Type {
	case hub.EventTypeJoin, hub.EventTypeAdd, hub.EventTypeRemove, hub.EventTypeLeave, hub.EventTypeRoster,
		hub.EventTypeClose, hub.EventTypeNick, hub.EventTypeAway, hub.EventTypeBack:
		m.dirty = true
		return true
	}
	return false
}

// complete returns the names of the users online, but the one with
// userID, that start with prefix ignoring case, in the list's order.
func (m *members) complete(prefix, userID string) []string {
	return m.roster.Complete(prefix, userID)
}

// SetSize sets the size of the list, its border included.
func (m *members) SetSize(width, height int) {
	if width != m.width || height != m.height {
		m.width, m.height, m.dirty = width, height, true
	}
}

// lines returns the rows, rebuilding them if membership or size changed.
func (m *members) lines() []string {
	if !m.dirty {
		return m.rows
	}
	m.dirty = false
	var top []Member
	top, m.total = m.roster.Members(m.room, max(m.height, 0))
	if m.width <= 0 {
		m.rows = nil
		return m.rows
	}
	k := sideKey{room: m.room, width: m.width, height: m.height, pal: m.st.palette, ms: m.st.ms, ascii: m.st.ascii}
	if m.shared != nil {
		if rows := m.shared.memberRows(k, top, m.total); rows != nil {
			m.rows = rows
			return m.rows
		}
	}
	m.rows = m.build(top)
	if m.shared != nil {
		m.shared.keepMemberRows(k, top, m.total, m.rows)
	}
	return m.rows
}

// build makes the rows of the list of top, the first of m.total users.
func (m *members) build(top []Member) []string {
	rows := make([]string, 0, max(m.height, 0))
	border := m.st.sideLead + " "
	inner := m.width - 2
	shown := top
	more := 0
	if m.total > m.height {
		shown, more = shown[:min(len(shown), max(m.height-1, 0))], m.total-max(m.height-1, 0)
	}
	for _, u := range shown {
		count := ""
		if u.Sessions > 1 {
			count = " " + m.st.g.times + strconv.Itoa(u.Sessions)
		}
		colour := m.st.name(u.UserID)
		if u.Away {
			count += " (away)"
			colour = m.st.subtle
		}
		name := m.st.fit(m.st.show(displayName(u.UserID, u.Name)), max(inner-m.st.width(count), 1))
		w := 2 + m.st.width(name) + m.st.width(count)
		row := border + colour.render(name) + m.st.subtle.render(count)
		rows = append(rows, row+spaces(m.width-w))
	}
	if more > 0 {
		text := m.st.fit("+"+strconv.Itoa(more)+" more", inner)
		rows = append(rows, border+m.st.subtle.render(text)+spaces(inner-m.st.width(text)))
	}
	for len(rows) < m.height {
		rows = append(rows, border+spaces(inner))
	}
	return rows
}
