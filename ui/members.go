package ui

import (
	"slices"
	"strconv"
	"strings"

	"github.com/sshchat/sshchat/hub"
)

// membersWidth is the width of the member list, its border included; it
// is shown when the terminal is at least membersMinWidth wide.
const (
	membersWidth    = 24
	membersMinWidth = 100
)

type member struct {
	userID   string
	name     string // sanitized
	key      string // sort key: the name folded to lower case
	sessions int
	away     bool
}

// Roster is who is online, kept once by the server for all of its
// sessions: a session's member list reads it rather than keeping a copy of
// its own (a thousand sessions of a thousand users would otherwise hold a
// million entries). Its methods are called from the program's goroutine
// and must be safe for concurrent use.
type Roster interface {
	// Members returns the first n users online, in display order (by name,
	// ignoring case), and how many are online.
	Members(n int) (top []Member, total int)
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

// members is who is online: from a Roster, or kept current from the hub's
// events. Its rows are cached and rebuilt only when membership or size
// change.
type members struct {
	st            *styles
	width, height int
	roster        Roster // nil: the list below is kept here
	total         int    // users online, with a roster

	byID   map[string]*member
	sorted []*member
	rows   []string // height rows, each exactly width cells
	dirty  bool
}

func newMembers(st *styles, users []hub.User, roster Roster) members {
	if roster != nil {
		m := members{st: st, roster: roster, dirty: true}
		_, m.total = roster.Members(0)
		return m
	}
	m := members{st: st, byID: make(map[string]*member, len(users)), dirty: true}
	for _, u := range users {
		m.byID[u.UserID] = m.newMember(u.UserID, u.Name, max(u.Sessions, 1))
	}
	return m
}

func (m *members) newMember(userID, name string, sessions int) *member {
	name = displayName(userID, name)
	return &member{userID: userID, name: name, key: strings.ToLower(name), sessions: sessions}
}

// count is how many users are online.
func (m *members) count() int {
	if m.roster != nil {
		if m.dirty {
			_, m.total = m.roster.Members(0)
		}
		return m.total
	}
	return len(m.byID)
}

// apply follows a join, add, remove, leave, rename, away or back, and
// reports whether the list changed.
func (m *members) apply(ev hub.Event) bool {
	if m.roster != nil {
		switch ev.Type {
		case hub.EventTypeJoin, hub.EventTypeAdd, hub.EventTypeRemove, hub.EventTypeLeave,
			hub.EventTypeClose, hub.EventTypeNick, hub.EventTypeAway, hub.EventTypeBack:
			m.dirty = true
			return true
		}
		return false
	}
	u := m.byID[ev.UserID]
	switch ev.Type {
	case hub.EventTypeJoin, hub.EventTypeAdd:
		if u == nil {
			m.byID[ev.UserID] = m.newMember(ev.UserID, ev.Name, 1)
		} else {
			u.sessions++
			m.rename(u, ev.Name)
		}
	case hub.EventTypeRemove:
		if u == nil {
			return false
		}
		// The user keeps at least this one session: a remove is never the last.
		u.sessions = max(u.sessions-1, 1)
	case hub.EventTypeLeave:
		if u == nil {
			return false
		}
		delete(m.byID, ev.UserID)
	case hub.EventTypeClose:
		if len(m.byID) == 0 {
			return false
		}
		clear(m.byID)
	case hub.EventTypeNick:
		if u == nil || !m.rename(u, ev.Name) {
			return false
		}
	case hub.EventTypeAway, hub.EventTypeBack:
		if u == nil || u.away == (ev.Type == hub.EventTypeAway) {
			return false
		}
		u.away = !u.away
	default:
		return false
	}
	m.dirty = true
	return true
}

// rename gives u a new name, and reports whether it changed.
func (m *members) rename(u *member, name string) bool {
	if name == "" {
		return false
	}
	if name = displayName(u.userID, name); name != u.name {
		u.name, u.key = name, strings.ToLower(name)
		return true
	}
	return false
}

// complete returns the names of the users online, but the one with
// userID, that start with prefix ignoring case, in the list's order.
func (m *members) complete(prefix, userID string) []string {
	if m.roster != nil {
		return m.roster.Complete(prefix, userID)
	}
	prefix = strings.ToLower(prefix)
	m.lines() // sorts
	var names []string
	for _, u := range m.sorted {
		if u.userID != userID && strings.HasPrefix(u.key, prefix) {
			names = append(names, u.name)
		}
	}
	return names
}

// SetSize sets the size of the list, its border included.
func (m *members) SetSize(width, height int) {
	if width != m.width || height != m.height {
		m.width, m.height, m.dirty = width, height, true
	}
}

// View renders the list: height rows of width cells.
func (m *members) View() string { return strings.Join(m.lines(), "\n") }

// lines returns the rows, rebuilding them if membership or size changed.
func (m *members) lines() []string {
	if !m.dirty {
		return m.rows
	}
	m.dirty = false
	total := m.sortMembers()

	m.rows = m.rows[:0]
	if m.width <= 0 {
		return m.rows
	}
	border := m.st.border.render(m.st.g.border) + " "
	inner := m.width - 2
	shown := m.sorted
	more := 0
	if total > m.height {
		shown, more = shown[:max(m.height-1, 0)], total-max(m.height-1, 0)
	}
	for _, u := range shown {
		count := ""
		if u.sessions > 1 {
			count = " " + m.st.g.times + strconv.Itoa(u.sessions)
		}
		colour := m.st.name(u.userID)
		if u.away {
			count += " (away)"
			colour = m.st.subtle
		}
		name := m.st.fit(m.st.show(u.name), max(inner-m.st.width(count), 1))
		w := 2 + m.st.width(name) + m.st.width(count)
		row := border + colour.render(name) + m.st.subtle.render(count)
		m.rows = append(m.rows, row+spaces(m.width-w))
	}
	if more > 0 {
		text := m.st.fit("+"+strconv.Itoa(more)+" more", inner)
		m.rows = append(m.rows, border+m.st.subtle.render(text)+spaces(inner-m.st.width(text)))
	}
	for len(m.rows) < m.height {
		m.rows = append(m.rows, border+spaces(inner))
	}
	return m.rows
}

// sortMembers puts the users to show in m.sorted, in display order, and
// returns how many are online: all of them, or with a roster the first
// height of them.
func (m *members) sortMembers() int {
	m.sorted = m.sorted[:0]
	if m.roster != nil {
		var top []Member
		top, m.total = m.roster.Members(max(m.height, 0))
		for _, u := range top {
			mm := m.newMember(u.UserID, u.Name, u.Sessions)
			mm.away = u.Away
			m.sorted = append(m.sorted, mm)
		}
		return m.total
	}
	for _, u := range m.byID {
		m.sorted = append(m.sorted, u)
	}
	slices.SortFunc(m.sorted, func(a, b *member) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.userID, b.userID)
	})
	return len(m.sorted)
}
