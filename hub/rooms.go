package hub

import "fmt"

// WithStamp hands the numbering of events to stamp: the hub calls it in
// its own goroutine for every event it records, instead of giving it the
// next ID of its own, and records what it returns. The event comes with
// its room and time set; stamp sets the ID (and may do more, such as send
// the event to a log). The hubs of all the rooms of a data directory share
// one stamp, so that their IDs are one increasing sequence; stamp must
// return IDs that increase for each hub, and may block (that is the log's
// backpressure on the room). WithHistory and WithLastID then only seed the
// history. A stamp that fails (a bus between nodes that gave up) leaves
// the event to this hub's subscribers: see record.
func WithStamp(stamp func(Event) (Event, error)) Option {
	return func(c *config) { c.stamp = stamp }
}

// WithoutPresence makes a hub that records no arrivals, departures or
// renames (join, add, remove, leave, nick): the hidden hub of direct
// messages, which every session subscribes to but which is no room. A
// stream then starts with the first event after the subscription, and
// ends (Remove, Evict, Drop, Close) as any other.
func WithoutPresence() Option {
	return func(c *config) { c.noPresence = true }
}

// Part is Remove at the session's own request with a reason: the room
// sees the remove or leave with Reason set (a part message). The stream
// closes with a nil Err, as after Remove.
func (h *Hub) Part(userID, sessionID, reason string) error {
	rep, err := h.call(request{op: opPart, member: Member{UserID: userID, SessionID: sessionID}, text: reason})
	if err != nil {
		return err
	}
	return rep.err
}

func (h *Hub) handlePart(m Member, reason string) error {
	s, ok := h.bySession[sessionKey{m.UserID, m.SessionID}]
	if !ok {
		return fmt.Errorf("%w: %s/%s", ErrNotFound, m.UserID, m.SessionID)
	}
	h.catchUp(s)
	h.detach(s)
	d := h.depart(s)
	d.Reason = reason
	h.emitPresence(d)
	return nil
}
