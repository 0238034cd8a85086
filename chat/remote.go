package chat

import (
	"errors"
	"fmt"
	"slices"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/registry"
)

// With several nodes, each node's core has its own sessions, and learns
// of the other nodes' from their events (Remote): their sessions are in
// who is online and in the rooms' rosters, count against the sessions a
// key may hold, and can be found by name (/msg, /kick). The names, bans,
// mutes and rooms kept are shared by the registry; moderation of a user
// whose sessions are on this node is carried out here, when its event
// arrives.

// Placement is one room a session of this node is in: what the other
// nodes need to count it in when they start.
type Placement struct {
	Room, UserID, SessionID, Name string
}

// remoteSession is a session on another node, as this node's presence
// keeps it: this node cannot end it, nor put it in a room.
type remoteSession struct{ id, node string }

func (r remoteSession) ID() string                      { return r.id }
func (r remoteSession) Remote() string                  { return "node " + r.node }
func (remoteSession) End(string)                        {}
func (remoteSession) Enter(RoomInfo, *hub.Subscription) {}

// isRemote reports whether si is a session of another node.
func isRemote(si *sessionInfo) bool {
	_, ok := si.sess.(remoteSession)
	return ok
}

// nodeOf is the node of a session of another node; "" for this node's.
func nodeOf(si *sessionInfo) string {
	r, _ := si.sess.(remoteSession)
	return r.node
}

// sessionIs matches the session with the ID id.
func sessionIs(id string) func(*sessionInfo) bool {
	return func(si *sessionInfo) bool { return si.sess.ID() == id }
}

// Remote applies an event another node made, numbered by the bus: its
// sessions' arrivals and departures, renames and away marks change who is
// online here; a kick or ban of a user with sessions here puts them out;
// a room dropped there is dropped here; and the event reaches this node's
// sessions. A room made on another node is opened here at its first
// event. Events must come in the bus's order, from one goroutine.
func (c *Core) Remote(ev hub.Event) {
	if ev.ChatRoomID == DirectID {
		if err := c.direct.Apply(ev); err != nil && !errors.Is(err, hub.ErrClosed) {
			c.log.Error("apply another node's direct message", "err", err)
		}
		return
	}
	p := c.presence
	switch ev.Type {
	case hub.EventTypeClose:
		return // another node stopping: the room goes on
	case hub.EventTypeRemove, hub.EventTypeLeave, hub.EventTypeDrop:
		if _, open := c.find(ev.ChatRoomID); !open {
			p.remoteOut(ev.UserID, ev.SessionID, ev.ChatRoomID) // a room dropped here already
			return
		}
	}
	r, err := c.ensure(ev.ChatRoomID)
	if err != nil {
		c.log.Error("open a room made on another node", "room", ev.ChatRoomID, "err", err)
		return
	}
	switch ev.Type {
	case hub.EventTypeJoin, hub.EventTypeAdd:
		p.remoteIn(ev, r.id)
	case hub.EventTypeRemove, hub.EventTypeLeave:
		p.remoteOut(ev.UserID, ev.SessionID, r.id)
	case hub.EventTypeNick:
		p.remoteRename(ev.UserID, ev.Name)
	case hub.EventTypeAway, hub.EventTypeBack:
		p.mu.Lock()
		u := p.users[ev.UserID]
		p.mu.Unlock()
		if u != nil {
			p.setAway(u, ev.Type == hub.EventTypeAway, ev.Message)
		}
	}
	if err := r.hub.Apply(ev); err != nil && !errors.Is(err, hub.ErrClosed) {
		c.log.Error("apply another node's event", "room", r.id, "err", err)
	}
	switch ev.Type {
	case hub.EventTypeKick, hub.EventTypeBan:
		c.enforce(ev, r)
	case hub.EventTypeDrop:
		c.dropHere(r, ev)
	}
}

// enforce carries out here a kick or ban made on another node: the
// target's sessions on this node leave the room, or the server.
func (c *Core) enforce(ev hub.Event, r *room) {
	what := "kicked"
	if ev.Type == hub.EventTypeBan {
		what = "banned"
	}
	why := moderationReason(what, c.presence.nameByID(ev.UserID), ev.Reason, ev.Until)
	if !c.hasLocal(ev.To) {
		return
	}
	if r == c.lobby {
		c.disconnect(ev.To, why)
		return
	}
	c.putOut(ev.To, r, what+" from #"+r.id+": "+why)
}

// hasLocal reports whether userID has a session on this node.
func (c *Core) hasLocal(userID string) bool {
	return slices.ContainsFunc(c.presence.sessionsByID(userID), func(si *sessionInfo) bool { return !isRemote(si) })
}

// dropHere closes a room another node dropped: the sessions here in it
// are put out, and it is forgotten.
func (c *Core) dropHere(r *room, ev hub.Event) {
	if r == c.lobby {
		return
	}
	c.mu.Lock()
	if c.rooms[registry.RoomKey(r.id)] == r {
		delete(c.rooms, registry.RoomKey(r.id))
	}
	c.mu.Unlock()
	why := "#" + r.id + " was dropped by " + c.presence.nameByID(ev.UserID)
	if ev.Reason != "" {
		why += ": " + ev.Reason
	}
	for _, id := range c.presence.inRoom(r.id) {
		c.putOut(id, r, why)
	}
	if err := r.hub.Close(); err != nil && !errors.Is(err, hub.ErrClosed) {
		c.log.Error("close a room dropped on another node", "room", r.id, "err", err)
	}
}

// ensure is the open room id, opened now if another node made it.
func (c *Core) ensure(id string) (*room, error) {
	if r, ok := c.find(id); ok {
		return r, nil
	}
	c.creating.Lock()
	defer c.creating.Unlock()
	k := registry.RoomKey(id)
	if r, err := c.made(k); r != nil || err != nil {
		return r, err
	}
	h, err := c.cfg.OpenRoom(id)
	if err != nil {
		return nil, fmt.Errorf("open #%s: %w", id, err)
	}
	return c.keep(k, id, h)
}

// NodeGone takes out every session of node, which stopped without their
// departures: this node announces them, in every room (hub.Reap), with
// the reason. Exactly one node of the cluster calls it for a node gone.
func (c *Core) NodeGone(node, reason string) {
	c.mu.Lock()
	rooms := make([]*room, 0, len(c.rooms))
	for _, r := range c.rooms {
		rooms = append(rooms, r)
	}
	c.mu.Unlock()
	c.presence.dropNode(node)
	for _, r := range rooms {
		if _, err := r.hub.Reap(node, reason); err != nil && !errors.Is(err, hub.ErrClosed) {
			c.log.Error("announce the departures of a node gone", "room", r.id, "node", node, "err", err)
		}
	}
}

// SeedRemote counts in, without events, the sessions another node has:
// for a node that starts while others are up.
func (c *Core) SeedRemote(node string, sessions []Placement) {
	for _, s := range sessions {
		r, err := c.ensure(s.Room)
		if err != nil {
			c.log.Error("open a room of another node", "room", s.Room, "err", err)
			continue
		}
		ev := hub.Event{UserID: s.UserID, SessionID: s.SessionID, Name: s.Name, Node: node}
		c.presence.remoteIn(ev, r.id)
		if err := r.hub.AddRemote(hub.Member{UserID: s.UserID, SessionID: s.SessionID, Name: s.Name}, node); err != nil && !errors.Is(err, hub.ErrClosed) {
			c.log.Error("count in a session of another node", "room", r.id, "err", err)
		}
	}
}

// RemotePresence applies only who is online of another node's event
// (an arrival or departure), without delivering or keeping it: for a node
// that starts and catches up with the events its log has already, after
// SeedRemote. Applying an arrival or departure twice changes nothing.
func (c *Core) RemotePresence(ev hub.Event) {
	switch ev.Type {
	case hub.EventTypeJoin, hub.EventTypeAdd:
		if _, kept := c.reg.Room(ev.ChatRoomID); !kept {
			return // a room dropped since
		}
		r, err := c.ensure(ev.ChatRoomID)
		if err != nil {
			return
		}
		c.presence.remoteIn(ev, r.id)
		_ = r.hub.AddRemote(hub.Member{UserID: ev.UserID, SessionID: ev.SessionID, Name: ev.Name}, ev.Node)
	case hub.EventTypeRemove, hub.EventTypeLeave:
		c.presence.remoteOut(ev.UserID, ev.SessionID, ev.ChatRoomID)
		if r, ok := c.find(ev.ChatRoomID); ok {
			_ = r.hub.DropRemote(hub.Member{UserID: ev.UserID, SessionID: ev.SessionID})
		}
	}
}

// Placements is every room every session of this node is in (a script's
// say is in none).
func (c *Core) Placements() []Placement {
	p := c.presence
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Placement
	for _, u := range p.users {
		for _, si := range u.sessions {
			if isRemote(si) || !si.counted {
				continue
			}
			for _, room := range si.rooms {
				out = append(out, Placement{Room: room, UserID: u.userID, SessionID: si.sess.ID(), Name: u.name})
			}
		}
	}
	return out
}

// EndAll ends every session of this node, telling each why: a node cut
// off from the others, whose sessions are to reconnect elsewhere.
func (c *Core) EndAll(reason string) {
	p := c.presence
	p.mu.Lock()
	var local []*sessionInfo
	for _, u := range p.users {
		for _, si := range u.sessions {
			if !isRemote(si) {
				local = append(local, si)
			}
		}
	}
	p.mu.Unlock()
	for _, si := range local {
		si.sess.End(reason)
	}
}

// remoteIn counts in a session of another node in room (ev: its arrival).
func (p *presence) remoteIn(ev hub.Event, room string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.users[ev.UserID]
	if u == nil {
		name := ev.Name
		if name == "" {
			name = ev.UserID
		}
		u = &online{userID: ev.UserID, name: name}
		ignored := p.reg.Ignored(ev.UserID)
		u.ignored.Store(&ignored)
		p.users[ev.UserID] = u
	}
	i := slices.IndexFunc(u.sessions, sessionIs(ev.SessionID))
	var si *sessionInfo
	if i >= 0 {
		si = u.sessions[i]
	} else {
		si = newSessionInfo(remoteSession{id: ev.SessionID, node: ev.Node}, true)
		u.sessions = append(u.sessions, si)
	}
	if !slices.Contains(si.rooms, room) {
		si.rooms = append(si.rooms, room)
	}
	p.place(u)
	p.placeIn(u, room)
}

// remoteOut takes a session of another node out of room; out of every
// room, it is gone.
func (p *presence) remoteOut(userID, sessionID, room string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.users[userID]
	if u == nil {
		return
	}
	i := slices.IndexFunc(u.sessions, sessionIs(sessionID))
	if i < 0 || !isRemote(u.sessions[i]) {
		return
	}
	si := u.sessions[i]
	si.rooms = slices.DeleteFunc(si.rooms, func(r string) bool { return r == room })
	if len(si.rooms) == 0 {
		u.sessions = slices.Delete(u.sessions, i, i+1)
	}
	p.forgetIfGone(u)
	p.place(u)
	p.placeIn(u, room)
}

// dropNode takes out every session of node.
func (p *presence) dropNode(node string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.users {
		var rooms []string
		u.sessions = slices.DeleteFunc(u.sessions, func(si *sessionInfo) bool {
			if !isRemote(si) || nodeOf(si) != node {
				return false
			}
			rooms = append(rooms, si.rooms...)
			return true
		})
		p.forgetIfGone(u)
		p.place(u)
		for _, r := range rooms {
			p.placeIn(u, r)
		}
	}
}

// forgetIfGone forgets a user without sessions. p.mu must be held.
func (p *presence) forgetIfGone(u *online) {
	if len(u.sessions) == 0 {
		delete(p.users, u.userID)
	}
}

// remoteRename is a rename made on another node.
func (p *presence) remoteRename(userID, name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.users[userID]
	if u == nil || u.name == name {
		return
	}
	p.move(u, name, p.roomsOf(u))
}
