package hub

import "fmt"

// With several nodes, a room has a hub on every node: each hub has the
// sessions of its own node as subscribers, and learns of the others'
// from their events, which the bus hands it with Apply. Who is online is
// the room's on every node: a user's first session on any node is a join,
// its last anywhere a leave.

// Apply hands the hub an event of its room made on another node, and
// numbered there (its ID set): it is kept in the history, given to the
// listeners and delivered to the subscribers as the hub's own events are,
// in the order Apply is called. The arrivals and departures of other
// nodes' sessions count in who is online here (Users, and whether the
// next session is a join or an add). A close of another node's hub is
// not delivered: this room stays open. Like Post it blocks only while the
// request queue is full; after Close it returns ErrClosed.
func (h *Hub) Apply(ev Event) error {
	if ev.Type == "" || ev.Type == EventTypeRoster {
		return fmt.Errorf("%w: %q", ErrBadType, ev.Type)
	}
	return h.send(request{op: opApply, event: ev})
}

// AddRemote counts a session of another node in, without an event: for
// a node that starts while the others already have sessions.
func (h *Hub) AddRemote(m Member, node string) error {
	_, err := h.call(request{op: opAddRemote, member: m, text: node})
	return err
}

// DropRemote counts a session of another node out, without an event:
// for a node that starts, catching up with arrivals and departures
// already in its history.
func (h *Hub) DropRemote(m Member) error {
	_, err := h.call(request{op: opDropRemote, member: m})
	return err
}

// Reap takes out every session of node, which stopped without their
// departures: the hub emits them (remove, or leave for a user's last
// session anywhere) as its own events, with reason, and returns how many
// sessions it took out.
func (h *Hub) Reap(node, reason string) (int, error) {
	rep, err := h.call(request{op: opReap, member: Member{SessionID: node}, text: reason})
	return rep.n, err
}

// RemoteSessions is how many sessions of other nodes the hub counts.
func (h *Hub) RemoteSessions() int {
	rep, _ := h.call(request{op: opRemoteCount})
	return rep.n
}

func (h *Hub) handleApply(ev Event) {
	if ev.Type == EventTypeClose {
		return
	}
	key := sessionKey{ev.UserID, ev.SessionID}
	switch ev.Type {
	case EventTypeJoin, EventTypeAdd:
		h.countIn(Member{UserID: ev.UserID, SessionID: ev.SessionID, Name: ev.Name}, ev.Node)
	case EventTypeRemove, EventTypeLeave:
		h.countOut(key)
	case EventTypeNick:
		if u := h.users[ev.UserID]; u != nil {
			u.name = ev.Name
		}
	}
	h.lastID = max(h.lastID, ev.ID)
	h.nextID = max(h.nextID, ev.ID+1)
	h.history.push(ev)
	for _, l := range h.listeners {
		l <- ev
	}
	h.deliverAll(ev)
}

// countIn counts a session of another node in, once.
func (h *Hub) countIn(m Member, node string) {
	key := sessionKey{m.UserID, m.SessionID}
	if _, ok := h.remote[key]; ok || h.noPresence {
		return
	}
	if _, local := h.bySession[key]; local {
		return
	}
	h.remote[key] = node
	u := h.users[m.UserID]
	if u == nil {
		u = &user{}
		h.users[m.UserID] = u
	}
	u.sessions++
	if m.Name != "" {
		u.name = m.Name
	}
}

// countOut counts a session of another node out; it returns the user's
// departure event (remove or leave), or false if the session was not
// counted.
func (h *Hub) countOut(key sessionKey) (Event, bool) {
	if _, ok := h.remote[key]; !ok {
		return Event{}, false
	}
	delete(h.remote, key)
	u := h.users[key.userID]
	u.sessions--
	typ := EventTypeRemove
	if u.sessions == 0 {
		delete(h.users, key.userID)
		typ = EventTypeLeave
	}
	return Event{Type: typ, UserID: key.userID, SessionID: key.sessionID, Name: u.name}, true
}

func (h *Hub) handleReap(node, reason string) int {
	var gone []sessionKey
	for key, n := range h.remote {
		if n == node {
			gone = append(gone, key)
		}
	}
	for _, key := range gone {
		if d, ok := h.countOut(key); ok {
			d.Reason, d.Node = reason, node
			h.emitPresence(d)
		}
	}
	return len(gone)
}
