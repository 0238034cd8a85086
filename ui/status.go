package ui

import (
	"strconv"
	"strings"
)

// header is the top line: the room, how many are online in it, its
// topic, who you are.
type header struct {
	st     *styles
	width  int
	room   string // sanitized, with its '#'; "" for none
	topic  string // sanitized
	pos    string // "2/3": which of the session's rooms, when no room list shows it
	name   string // sanitized
	online int

	view  string // cached
	dirty bool
}

// SetSize sets the width of the line.
func (h *header) SetSize(width int) {
	h.width, h.dirty = width, true
}

func (h *header) setName(name string) {
	if name != h.name {
		h.name, h.dirty = name, true
	}
}

func (h *header) setRoom(room, topic string) {
	if room != h.room || topic != h.topic {
		h.room, h.topic, h.dirty = room, topic, true
	}
}

func (h *header) setPos(pos string) {
	if pos != h.pos {
		h.pos, h.dirty = pos, true
	}
}

func (h *header) setOnline(n int) {
	if n != h.online {
		h.online, h.dirty = n, true
	}
}

// View renders the line, exactly width cells wide.
func (h *header) View() string {
	if !h.dirty {
		return h.view
	}
	h.dirty = false
	left := " no room"
	if h.room != "" {
		left = " " + h.st.show(h.room)
		if h.pos != "" {
			left += " " + h.pos
		}
		left += h.st.g.dot + strconv.Itoa(h.online) + " online"
	}
	if h.topic != "" {
		left += h.st.g.dot + h.st.show(h.topic)
	}
	right := h.st.show(h.name) + " "
	h.view = h.st.header.render(spread(h.st, left, right, h.width))
	return h.view
}

// status is the line above the input: hints, and how many new messages
// wait below when scrolled up.
type status struct {
	st       *styles
	width    int
	scrolled bool
	unread   int
	rooms    string // what waits in the rooms not shown, when no room list shows it

	view  string // cached
	cells int    // the view's width
	dirty bool
}

// SetSize sets the width of the line.
func (s *status) SetSize(width int) {
	s.width, s.dirty = width, true
}

func (s *status) set(scrolled bool, unread int, rooms string) {
	if scrolled != s.scrolled || unread != s.unread || rooms != s.rooms {
		s.scrolled, s.unread, s.rooms, s.dirty = scrolled, unread, rooms, true
	}
}

// View renders the line, at most width cells wide, and says how wide it is.
func (s *status) View() (string, int) {
	if !s.dirty {
		return s.view, s.cells
	}
	s.dirty = false
	g, st := s.st.g, s.st
	var right string
	switch {
	case s.unread > 0:
		right = strconv.Itoa(s.unread) + " new " + g.down
	case s.scrolled:
		right = "scrolled up" + g.dot + "End " + g.down
	}
	rightWidth := st.width(right)
	left := "PgUp/PgDn scroll" + g.dot + "/help" + g.dot + "Ctrl+C quit"
	if st.width(left)+rightWidth+2 > s.width {
		left = "/help" + g.dot + "Ctrl+C quit"
	}
	if s.rooms != "" {
		left = "unread: " + s.rooms
	}
	if rightWidth > 0 {
		right = st.fit(right, s.width)
		rightWidth = st.width(right)
	}
	leftWidth := max(s.width-rightWidth-1, 0)
	if rightWidth == 0 {
		leftWidth = s.width
	}
	left = st.fit(left, leftWidth)

	var b strings.Builder
	b.WriteString(s.st.status.render(left))
	if rightWidth > 0 {
		b.WriteString(spaces(s.width - st.width(left) - rightWidth))
		b.WriteString(s.st.newCount.render(right))
	}
	s.view = b.String()
	s.cells = st.styledWidth(s.view)
	return s.view, s.cells
}

// spread lays out left and right on one line of exactly width cells,
// dropping right and then truncating left when they do not fit.
func spread(st *styles, left, right string, width int) string {
	lw, rw := st.width(left), st.width(right)
	if lw+1+rw > width {
		right, rw = "", 0
	}
	left = st.fit(left, width)
	lw = st.width(left)
	return left + spaces(width-lw-rw) + right
}
