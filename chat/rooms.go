package chat

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/registry"
)

const (
	minRoomLen = 2
	maxRoomLen = 32
)

// reservedRooms can't be room names: they would pass for the server, or
// for what everyone reads. Look-alikes fold as names do.
var reservedRooms = []string{"admin", "root", "sshchat", "server", "system", "help", "all", "everyone",
	"direct", "ops", "operator", "moderator", "staff", "support", "here", "nobody"}

// RoomID reads a room name as typed (#Go, go) and returns its ID: 2–32 of
// a-z 0-9 _ -, case folded, without '#'. The error says why not in words.
func RoomID(name string) (string, error) {
	id := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(name), "#"))
	if len(id) < minRoomLen || len(id) > maxRoomLen {
		return "", fmt.Errorf("%.40q is not a room name: # and 2-32 of a-z 0-9 _ -", name)
	}
	for _, r := range id {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_' || r == '-') {
			return "", fmt.Errorf("%.40q is not a room name: # and 2-32 of a-z 0-9 _ -", name)
		}
	}
	k := registry.RoomKey(id)
	if slices.ContainsFunc(reservedRooms, func(r string) bool { return registry.RoomKey(r) == k }) {
		return "", fmt.Errorf("the room name #%s is reserved for the server", id)
	}
	return id, nil
}

// RoomInfo is what /rooms, the script rooms and a session entering a
// room are told of it.
type RoomInfo struct {
	ID         string `json:"id"` // without '#'
	Topic      string `json:"topic,omitempty"`
	Owner      string `json:"owner,omitempty"` // the owner's key; "" for the lobby
	Members    int    `json:"members"`         // users in it now
	InviteOnly bool   `json:"inviteOnly,omitempty"`
	Private    bool   `json:"private,omitempty"` // listed only to its members
}

// room is an open room: its hub. What is kept of it (owner, topic,
// modes, lists) is in the registry.
type room struct {
	id  string
	hub Room
}

// find is the open room name names (with or without '#', or a look-alike).
func (c *Core) find(name string) (*room, bool) {
	k := registry.RoomKey(strings.TrimPrefix(name, "#"))
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.rooms[k]
	return r, ok
}

// record is what the registry keeps of r.
func (c *Core) record(r *room) registry.Room {
	rec, _ := c.reg.Room(r.id)
	return rec
}

func (c *Core) info(r *room, rec registry.Room) RoomInfo {
	return RoomInfo{ID: r.id, Topic: rec.Topic, Owner: rec.Owner, Members: c.presence.count(r.id),
		InviteOnly: rec.InviteOnly, Private: rec.Private || rec.InviteOnly}
}

// RoomInfo describes the room name names.
func (c *Core) RoomInfo(name string) (RoomInfo, bool) {
	r, ok := c.find(name)
	if !ok {
		return RoomInfo{}, false
	}
	return c.info(r, c.record(r)), true
}

// Rooms lists the rooms userID may see, the lobby first, then by ID: a
// private or invite-only room only to its members (in it, its owner and
// operators, those invited) and to admins.
func (c *Core) Rooms(userID string) []RoomInfo {
	c.mu.Lock()
	open := make(map[string]*room, len(c.rooms))
	for k, r := range c.rooms {
		open[k] = r
	}
	c.mu.Unlock()
	var out []RoomInfo
	in := c.presence.roomsOfUser(userID)
	for _, rec := range c.reg.Rooms() {
		r, ok := open[registry.RoomKey(rec.ID)]
		if !ok || !c.maySee(userID, in, r, rec) {
			continue
		}
		out = append(out, c.info(r, rec))
	}
	slices.SortFunc(out, func(a, b RoomInfo) int {
		switch {
		case a.ID == c.cfg.Lobby:
			return -1
		case b.ID == c.cfg.Lobby:
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// maySee reports whether userID, in the rooms in, may see the room in a
// list.
func (c *Core) maySee(userID string, in []string, r *room, rec registry.Room) bool {
	return !rec.Private && !rec.InviteOnly || c.isAdmin(userID) || rec.IsOp(userID) ||
		slices.Contains(rec.Invited, userID) || slices.Contains(in, r.id)
}

// mayModerate reports whether userID may moderate room r: its owner and
// operators, and the server's admins in every room. The lobby is the
// server's: only admins.
func (c *Core) mayModerate(userID string, r *room, rec registry.Room) bool {
	return c.isAdmin(userID) || r != c.lobby && rec.IsOp(userID)
}

// in is the room name names, which the session is in.
func (s *Seat) in(name string) (*room, error) {
	r, ok := s.core.find(name)
	if !ok || !s.core.presence.isIn(s.session, r.id) {
		return nil, fmt.Errorf("%w: you are not in #%s: /join it first", ErrNotInRoom, strings.TrimPrefix(name, "#"))
	}
	return r, nil
}

// muted says why userID may not post in r (nil: a direct message), if it
// is muted from the server or from r.
func (c *Core) muted(userID string, r *room) error {
	now := time.Now()
	if m, muted := c.reg.Muted(userID, now); muted {
		return fmt.Errorf("you are muted %s", until(m.Until))
	}
	if r == nil || r == c.lobby {
		return nil
	}
	if m, muted := registry.Restricted(c.record(r).Mutes, userID, now); muted {
		return fmt.Errorf("you are muted in #%s %s", r.id, until(m.Until))
	}
	return nil
}

// join puts a session in a room, creating it if it may.
func (c *Core) join(s *Seat, name string, backlog int) (*hub.Subscription, RoomInfo, error) {
	id, err := RoomID(name)
	if err != nil {
		return nil, RoomInfo{}, err
	}
	userID := s.user.userID
	r, ok := c.find(id)
	if ok && c.presence.isIn(s.session, r.id) {
		return nil, RoomInfo{}, fmt.Errorf("%w: you are in #%s", ErrInRoom, r.id)
	}
	if n := len(c.presence.roomsOfSession(s.session)); n >= c.cfg.MaxRoomsPerSession {
		return nil, RoomInfo{}, fmt.Errorf("this session is in %d rooms, the most it may be in: /part one first", n)
	}
	if !ok {
		if r, err = c.create(userID, c.presence.nameOf(s.user), id); err != nil {
			return nil, RoomInfo{}, err
		}
	}
	rec := c.record(r)
	if err := c.mayEnter(userID, r, rec); err != nil {
		return nil, RoomInfo{}, err
	}
	p := c.presence
	p.renames.Lock()
	defer p.renames.Unlock()
	sub, err := r.hub.Subscribe(hub.Member{UserID: userID, SessionID: s.session.sess.ID(), Name: p.nameOf(s.user)}, backlog, s.opts...)
	switch {
	case errors.Is(err, hub.ErrClosed):
		return nil, RoomInfo{}, fmt.Errorf("#%s is closed: it was dropped, or the server is stopping", r.id)
	case err != nil:
		return nil, RoomInfo{}, fmt.Errorf("join #%s: %w", r.id, err)
	}
	p.join(s.user, s.session, r.id)
	return sub, c.info(r, rec), nil
}

// mayEnter says why userID may not come into r: a ban from it, or an
// invitation it lacks.
func (c *Core) mayEnter(userID string, r *room, rec registry.Room) error {
	if c.isAdmin(userID) || rec.IsOp(userID) {
		return nil
	}
	if b, banned := registry.Restricted(rec.Bans, userID, time.Now()); banned {
		why := fmt.Sprintf("you are banned from #%s %s", r.id, until(b.Until))
		if b.Reason != "" {
			why += ": " + b.Reason
		}
		return errors.New(why)
	}
	if rec.InviteOnly && !slices.Contains(rec.Invited, userID) {
		return fmt.Errorf("#%s is invite only: its owner or an operator may /invite you", r.id)
	}
	return nil
}

// create makes the room id, owned by userID (who goes by name), within
// the limits. Creations go one at a time, but the rooms' lock is not held
// while the new room is written down: posts in every other room go on
// meanwhile.
func (c *Core) create(userID, name, id string) (*room, error) {
	c.creating.Lock()
	defer c.creating.Unlock()
	k := registry.RoomKey(id)
	if r, err := c.made(k); r != nil || err != nil { // made a moment ago, or the end
		return r, err
	}
	rec := registry.Room{ID: id, Owner: userID, Created: time.Now().Unix()}
	switch err := c.reg.CreateRoom(rec, c.cfg.MaxRooms, c.cfg.MaxRoomsPerUser); {
	case errors.Is(err, registry.ErrRoomLimit):
		return nil, fmt.Errorf("the server has %d rooms, the most it keeps: join one of them (/rooms)", c.cfg.MaxRooms)
	case errors.Is(err, registry.ErrOwnerLimit):
		return nil, fmt.Errorf("you own %d rooms, the most one user may create: /drop one first", c.cfg.MaxRoomsPerUser)
	case err != nil:
		return nil, fmt.Errorf("create #%s: %w", id, err)
	}
	h, err := c.cfg.OpenRoom(id)
	if err != nil {
		_, _ = c.reg.DropRoom(id)
		return nil, fmt.Errorf("create #%s: %w", id, err)
	}
	if err := h.Post(hub.Event{Type: hub.EventTypeCreate, UserID: userID, Name: name, Message: "created #" + id}); err != nil {
		c.log.Error("post the creation of a room", "room", id, "err", err)
	}
	return c.keep(k, id, h)
}

// made returns the open room under key k, if there is one, or an error
// once the core is closed. Room makers call it holding c.creating, so that
// a room is made once.
func (c *Core) made(k string) (*room, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch r, ok := c.rooms[k]; {
	case ok:
		return r, nil
	case c.closed:
		return nil, errors.New("the server is stopping")
	}
	return nil, nil
}

// keep adds the room id, its hub h just opened, to the open rooms under
// key k; a core closed meanwhile closes h instead.
func (c *Core) keep(k, id string, h Room) (*room, error) {
	r := &room{id: id, hub: h}
	c.mu.Lock()
	closed := c.closed
	if !closed {
		c.rooms[k] = r
	}
	c.mu.Unlock()
	if closed {
		_ = h.Close()
		return nil, errors.New("the server is stopping")
	}
	return r, nil
}

// part takes a session out of a room at its request.
func (c *Core) part(s *Seat, name, reason string) error {
	r, err := s.in(name)
	if err != nil {
		return err
	}
	p := c.presence
	p.renames.Lock()
	defer p.renames.Unlock()
	if !p.part(s.user, s.session, r.id) {
		return fmt.Errorf("%w: you are not in #%s", ErrNotInRoom, r.id)
	}
	err = r.hub.Part(s.user.userID, s.session.sess.ID(), reason)
	if err != nil && !errors.Is(err, hub.ErrNotFound) && !errors.Is(err, hub.ErrClosed) {
		return fmt.Errorf("part #%s: %w", r.id, err)
	}
	return nil
}

// putOut takes every session of userID out of r, which closes their
// streams with an error wrapping hub.ErrDropped that carries reason.
func (c *Core) putOut(userID string, r *room, reason string) {
	p := c.presence
	p.renames.Lock()
	defer p.renames.Unlock()
	p.partUser(userID, r.id)
	if err := r.hub.Drop(userID, reason); err != nil && !errors.Is(err, hub.ErrNotFound) && !errors.Is(err, hub.ErrClosed) {
		c.log.Error("put a user out of a room", "room", r.id, "err", err)
	}
}

// drop removes room r: a drop event, every session in it put out (its
// stream closes with hub.ErrDropped and reason), its hub closed, and it
// is forgotten.
func (c *Core) drop(by string, r *room, reason string) error {
	if r == c.lobby {
		return fmt.Errorf("#%s is the default room: it can't be dropped", r.id)
	}
	c.mu.Lock()
	if c.rooms[registry.RoomKey(r.id)] != r {
		c.mu.Unlock()
		return fmt.Errorf("#%s is gone already", r.id)
	}
	delete(c.rooms, registry.RoomKey(r.id))
	c.mu.Unlock()
	if _, err := c.reg.DropRoom(r.id); err != nil {
		c.log.Error("forget a dropped room", "room", r.id, "err", err)
	}
	_ = r.hub.Post(hub.Event{Type: hub.EventTypeDrop, UserID: by, Reason: reason, Message: "dropped #" + r.id})
	why := "#" + r.id + " was dropped by " + c.presence.nameByID(by)
	if reason != "" {
		why += ": " + reason
	}
	for _, id := range c.presence.inRoom(r.id) {
		c.putOut(id, r, why)
	}
	if err := r.hub.Close(); err != nil && !errors.Is(err, hub.ErrClosed) {
		return fmt.Errorf("close #%s: %w", r.id, err)
	}
	return nil
}
