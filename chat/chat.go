package chat

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/registry"
	"github.com/sshchat/sshchat/sanitize"
)

// Errors a session may act on; the others are sentences for the person.
var (
	// ErrEmpty refuses a message with nothing in it.
	ErrEmpty = errors.New("the message is empty")
	// ErrCannotSave refuses a message while the server cannot keep it: a
	// room that showed it would lose it.
	ErrCannotSave = errors.New("the server cannot save messages right now: try again in a while")
	// ErrInRoom: the session is in the room already (/join only answers).
	ErrInRoom = errors.New("already in the room")
	// ErrNotInRoom: the session is not in the room it names.
	ErrNotInRoom = errors.New("not in the room")

	errUsage = errors.New("usage")
	// errNotSaved is a change that holds, but could not be written down:
	// it is lost if the server stops before a later write succeeds.
	errNotSaved = errors.New("not saved")
)

// Room is what the core needs of a room: a *hub.Hub, or what a bus
// between nodes puts in front of one.
type Room interface {
	ID() string
	Subscribe(m hub.Member, backlog int, opts ...hub.SubscribeOption) (*hub.Subscription, error)
	Remove(userID, sessionID string) error
	Part(userID, sessionID, reason string) error
	Evict(userID, sessionID, reason string) error
	Message(userID, text string)
	Publish(userID, name, text string)
	Post(ev hub.Event) error
	Rename(userID, name string) error
	Drop(userID, reason string) error
	History() []hub.Event
	Close() error

	// With several nodes (see Remote): another node's event, the
	// sessions of a node that starts up while others are up, and of a
	// node gone.
	Apply(ev hub.Event) error
	AddRemote(m hub.Member, node string) error
	DropRemote(m hub.Member) error
	Reap(node, reason string) (int, error)
}

// Session is one session of a user as the core sees it; the SSH side
// implements it. The session sends text and runs commands through its
// Seat (Post, Run); the core reaches back only to end it, or to put it in
// a room.
type Session interface {
	ID() string     // unique among the user's sessions
	Remote() string // where it connects from, for /sessions
	// End asks the session to end, telling the person why (/detach, a
	// kick or ban from the server). It must not block: a session that is
	// ending already ignores it.
	End(reason string)
	// Enter tells the session that a command it ran (/join #go) put it in
	// a room: it takes sub's events from then on (sub.History is the
	// backlog, to pass through Seat.Visible). It must not block.
	Enter(room RoomInfo, sub *hub.Subscription)
}

// DirectID is the ID of the hidden hub of direct messages, which every
// interactive session is subscribed to (Seat.Direct). No room name starts
// with '@'.
const DirectID = "@direct"

// How many events a session's stream holds before the hub queues the rest
// on its side (hub.WithSubscriberBuffer). Each slot costs an event's size,
// about 200 bytes, for every session in the room, idle or not. A room's
// stream holds a frame's worth of a busy room (a screen reads it once a
// frame: 32 events are 480 messages a second at 15 frames a second), and
// direct messages come few at a time. What does not fit waits in the hub,
// which hands it on as the reader catches up.
const (
	RoomBuffer   = 32
	DirectBuffer = 8
)

// Defaults of the room limits.
const (
	DefaultMaxRooms           = 1000
	DefaultMaxRoomsPerUser    = 10
	DefaultMaxRoomsPerSession = 20
	DefaultLobby              = "lobby"
	DefaultBacklog            = 100
)

// Config holds the core's limits and the hooks the server gives it. The
// zero value of a field means its default, given beside it.
type Config struct {
	MaxMessage   int     // bytes in one message; default 4096
	MessageRate  float64 // messages per second per user, all sessions together; default 1
	MessageBurst int     // messages a user may send at once before the rate applies; default 5

	// Lobby is the default room's ID (without '#'): it always exists and
	// cannot be dropped; server-wide moderation happens there. Default
	// "lobby".
	Lobby string
	// OpenRoom makes the hub of a room (its history seeded, the shared
	// stamp of event IDs): for the lobby and every persisted room in New,
	// for a new room on /join, and for DirectID, whose hub must be made
	// with hub.WithoutPresence. Nil: hubs in memory.
	OpenRoom func(id string) (Room, error)
	// MaxRooms (default 1000) is how many rooms the server keeps, the
	// lobby included; MaxRoomsPerUser (default 10) how many one user may
	// create; MaxRoomsPerSession (default 20) how many one session may be
	// in at once.
	MaxRooms, MaxRoomsPerUser, MaxRoomsPerSession int
	// Backlog is how many events of a room's history a session gets when
	// a command puts it in the room, and of its direct messages on
	// arrival; default 100.
	Backlog int

	// Store says whether new messages can be saved now; while it returns
	// an error, messages, actions, direct messages and say are refused
	// with ErrCannotSave. Nil: always.
	Store func() error
	// Throttled is told of each refusal by the rate limit (metrics). Nil: nobody.
	Throttled func()
	// SessionLimit says why a user who would have sessions sessions, the
	// new one included, may not open it, or "". Nil: no limit.
	SessionLimit func(sessions int) string
	// Line is an event as one line of plain text, for the script
	// commands; "" skips it. Nil: the event's message.
	Line func(hub.Event) string
}

func (c Config) withDefaults() Config {
	if c.MaxMessage <= 0 {
		c.MaxMessage = 4096
	}
	if c.MessageRate <= 0 {
		c.MessageRate = 1
	}
	if c.MessageBurst <= 0 {
		c.MessageBurst = 5
	}
	if c.Lobby == "" {
		c.Lobby = DefaultLobby
	}
	if c.OpenRoom == nil {
		c.OpenRoom = memoryRoom
	}
	if c.MaxRooms <= 0 {
		c.MaxRooms = DefaultMaxRooms
	}
	if c.MaxRoomsPerUser <= 0 {
		c.MaxRoomsPerUser = DefaultMaxRoomsPerUser
	}
	if c.MaxRoomsPerSession <= 0 {
		c.MaxRoomsPerSession = DefaultMaxRoomsPerSession
	}
	if c.Backlog <= 0 {
		c.Backlog = DefaultBacklog
	}
	if c.Store == nil {
		c.Store = func() error { return nil }
	}
	if c.Throttled == nil {
		c.Throttled = func() {}
	}
	if c.SessionLimit == nil {
		c.SessionLimit = func(int) string { return "" }
	}
	if c.Line == nil {
		c.Line = func(ev hub.Event) string { return ev.Message }
	}
	return c
}

// memoryRoom is a room's hub in memory, for a core without OpenRoom.
func memoryRoom(id string) (Room, error) {
	if id == DirectID {
		return hub.New(id, 64, 1024, hub.WithoutPresence(), hub.WithSubscriberBuffer(DirectBuffer)), nil
	}
	return hub.New(id, 64, 1024, hub.WithSubscriberBuffer(RoomBuffer)), nil
}

// Core is the chat of a server: its rooms, who is online and in which,
// what they may say and run.
type Core struct {
	reg      *registry.Registry
	log      *slog.Logger
	cfg      Config
	presence *presence
	rates    *rates
	roomRate *rates                          // the room commands': see roomBurst
	admins   atomic.Pointer[map[string]bool] // fingerprints of the admins
	lobby    *room
	direct   Room

	creating sync.Mutex       // held through the creation of a room
	mu       sync.Mutex       // never held through a hub's call or a write
	rooms    map[string]*room // guarded by mu; registry.RoomKey(id) → the open room
	closed   bool             // guarded by mu
}

// New makes the core of a server, with names, ignores, bans, mutes, the
// message of the day and the rooms kept in reg (nil: in memory, until the
// server stops). It opens the lobby, every room kept in reg and the hub of
// direct messages, with cfg.OpenRoom.
func New(reg *registry.Registry, log *slog.Logger, cfg Config) (*Core, error) {
	if reg == nil {
		reg, _ = registry.Open("") // in memory: cannot fail
	}
	cfg = cfg.withDefaults()
	lobby, err := RoomID(cfg.Lobby)
	if err != nil {
		return nil, fmt.Errorf("the default room: %w", err)
	}
	cfg.Lobby = lobby
	c := &Core{
		reg:      reg,
		log:      log,
		cfg:      cfg,
		presence: newPresence(reg),
		rates:    newRates(cfg.MessageRate, cfg.MessageBurst),
		roomRate: newRates(cfg.MessageRate, roomBurst*cfg.MessageBurst),
		rooms:    map[string]*room{},
	}
	if _, ok := reg.Room(lobby); !ok {
		if err := reg.CreateRoom(registry.Room{ID: lobby, Created: time.Now().Unix()}, 0, 0); err != nil {
			return nil, fmt.Errorf("the default room: %w", err)
		}
	}
	if c.direct, err = cfg.OpenRoom(DirectID); err != nil {
		return nil, fmt.Errorf("open the direct messages: %w", err)
	}
	for _, rec := range reg.Rooms() {
		h, err := cfg.OpenRoom(rec.ID)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("open room %s: %w", rec.ID, err), c.Close())
		}
		c.rooms[registry.RoomKey(rec.ID)] = &room{id: rec.ID, hub: h}
	}
	c.lobby = c.rooms[registry.RoomKey(lobby)]
	return c, nil
}

// Close closes every room's hub and the hub of direct messages: every
// stream ends with hub.ErrClosed. Later calls do nothing.
func (c *Core) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	rooms := slices.Collect(maps.Values(c.rooms))
	c.mu.Unlock()
	var errs []error
	for _, r := range rooms {
		if err := r.hub.Close(); err != nil && !errors.Is(err, hub.ErrClosed) {
			errs = append(errs, fmt.Errorf("close room %s: %w", r.id, err))
		}
	}
	if c.direct != nil {
		if err := c.direct.Close(); err != nil && !errors.Is(err, hub.ErrClosed) {
			errs = append(errs, fmt.Errorf("close the direct messages: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Lobby is the default room's ID.
func (c *Core) Lobby() string { return c.cfg.Lobby }

// Notice posts a line of the server (Message) in the lobby: a warning
// about a name asked for with another key, say.
func (c *Core) Notice(text string) error {
	return c.lobby.hub.Post(hub.Event{Type: hub.EventTypeNotice, Message: text})
}

// SetAdmins sets the keys (fingerprints) that may moderate; it may be
// called at any time (e.g. on SIGHUP).
func (c *Core) SetAdmins(keys map[string]bool) { c.admins.Store(&keys) }

func (c *Core) isAdmin(userID string) bool {
	admins := c.admins.Load()
	return admins != nil && (*admins)[userID]
}

// Banned says why userID may not come in, if its key is banned from the
// server.
func (c *Core) Banned(userID string) (why string, banned bool) {
	b, banned := c.reg.Banned(userID, time.Now())
	if !banned {
		return "", false
	}
	why = "this key is banned " + until(b.Until)
	if b.Reason != "" {
		why += ": " + b.Reason
	}
	return why, true
}

// Motd is the message of the day, "" when there is none.
func (c *Core) Motd() string { return c.reg.Motd() }

// Member is one user of a room's roster.
type Member struct {
	UserID, Name string
	Sessions     int // in the room, that count: a script's say does not
	Away         bool
}

// Members returns the first n users in room (its ID, with or without
// '#'), in display order (by name, ignoring case), and how many are in
// it: what member lists show.
func (c *Core) Members(room string, n int) (top []Member, total int) {
	r, ok := c.find(room)
	if !ok {
		return nil, 0
	}
	return c.presence.members(r.id, n)
}

// Complete returns the names of the users online, in any room, but
// userID, that start with prefix ignoring case, in display order.
func (c *Core) Complete(prefix, userID string) []string {
	return c.presence.complete(prefix, userID)
}

// Arrival is what the core decided for a new session.
type Arrival struct {
	Name     string   // the name the user goes by
	Notices  []string // for the person: why it is not the name asked for
	Warning  string   // for the room: a known name asked for with another key (see Notice)
	Sessions int      // the user's sessions that count, this one included
}

// Seat is one session's place on the server, from its arrival to Leave:
// the rooms it is in and its stream of direct messages.
type Seat struct {
	core    *Core
	user    *online
	session *sessionInfo
	opts    []hub.SubscribeOption // for every stream of the session
	direct  *hub.Subscription     // nil for a script
}

// Arrive adds sess, a session of userID who asked for the name wanted, to
// who is online, in no room yet (Join), and subscribes it to the direct
// messages (Direct) with opts, which every later Join uses too. A user
// already online keeps its name; otherwise the key gets the name it asked
// for if that is free or already its own, and is told why when not. The
// name is saved before Arrive returns.
func (c *Core) Arrive(userID, wanted string, sess Session, opts ...hub.SubscribeOption) (*Seat, Arrival, error) {
	seat, a, err := c.arrive(userID, wanted, sess, true)
	if err != nil {
		return nil, a, err
	}
	seat.opts = opts
	p := c.presence
	p.renames.Lock()
	seat.direct, err = c.direct.Subscribe(hub.Member{UserID: userID, SessionID: sess.ID(), Name: p.nameOf(seat.user)}, c.cfg.Backlog, opts...)
	p.renames.Unlock()
	if err != nil {
		p.release(userID, seat.session)
		return nil, Arrival{}, fmt.Errorf("subscribe to direct messages: %w", err)
	}
	return seat, a, nil
}

func (c *Core) arrive(userID, wanted string, sess Session, counted bool) (*Seat, Arrival, error) {
	si := newSessionInfo(sess, counted)
	a, err := c.presence.acquire(userID, wanted, si)
	if err != nil {
		return nil, Arrival{}, err
	}
	seat := &Seat{core: c, user: a.user, session: si}
	return seat, Arrival{Name: a.name, Notices: a.notices, Warning: a.warning, Sessions: a.sessions}, nil
}

// Direct is the session's stream of direct messages (chatroomId
// DirectID), taken at Arrive; its History is the backlog of the user's
// direct messages. It ends at Leave, or with hub.ErrDropped when the user
// is kicked or banned from the server. Nil for a script command.
func (s *Seat) Direct() *hub.Subscription { return s.direct }

// Join puts the session in room (its ID, with or without '#'; a
// look-alike of an existing room is that room), creating the room if it
// does not exist and the user may, and subscribes it with backlog events
// of the room's history and the options of Arrive. From then on the
// room's roster lists it. The error says in words why not: a bad or
// reserved name, an invite-only room, a ban from it, a limit; it wraps
// ErrInRoom when the session is in the room already.
//
// The stream ends when the session leaves the room, and Err says how: nil
// after Part (or Leave); an error wrapping hub.ErrDropped, with the
// reason in words, after a kick or ban from the room (or the server) and
// when the room is dropped; hub.ErrEvicted when the session fell too far
// behind; hub.ErrClosed when the server stops. Leaving a room never ends
// the session: with no room left it stays, and may /join one.
func (s *Seat) Join(room string, backlog int) (*hub.Subscription, RoomInfo, error) {
	return s.core.join(s, room, backlog)
}

// Part takes the session out of room: the room sees it go (remove or
// leave) with reason, and its stream closes with a nil Err. It fails
// when the session is not in the room.
func (s *Seat) Part(room, reason string) error {
	return s.core.part(s, room, reason)
}

// Rooms is the rooms this session is in, in the order joined.
func (s *Seat) Rooms() []string { return s.core.presence.roomsOfSession(s.session) }

// Leave takes the session out of every room and of who is online (the
// rosters first, so that screens redrawing on its departure no longer
// list it); the user goes offline with its last session. Leaving twice is
// harmless.
func (s *Seat) Leave() { s.leave("") }

// Evict is Leave for a session whose client stopped reading: every room
// sees it go with "evicted: " + reason (hub.Evict).
func (s *Seat) Evict(reason string) { s.leave(reason) }

func (s *Seat) leave(evicted string) {
	rooms := s.core.presence.release(s.user.userID, s.session)
	id := s.session.sess.ID()
	gone := func(r Room) {
		var err error
		if evicted != "" {
			err = r.Evict(s.user.userID, id, evicted)
		} else {
			err = r.Remove(s.user.userID, id)
		}
		if err != nil && !errors.Is(err, hub.ErrNotFound) && !errors.Is(err, hub.ErrClosed) {
			s.core.log.Error("leave a room", "room", r.ID(), "err", err)
		}
	}
	for _, id := range rooms {
		if r, ok := s.core.find(id); ok {
			gone(r.hub)
		}
	}
	if s.direct != nil { // a second Leave finds nothing to remove
		gone(s.core.direct)
	}
}

// UserID is the key the session came with.
func (s *Seat) UserID() string { return s.user.userID }

// Ignored is the set of users whose messages the user does not see, as
// of now: it changes with /ignore and /unignore. It must not be modified.
func (s *Seat) Ignored() map[string]bool { return *s.user.ignored.Load() }

// Visible keeps the events of evs the user may see (hub.Visible).
func (s *Seat) Visible(evs []hub.Event) []hub.Event {
	return visibleTo(evs, s.user.userID, s.Ignored())
}

// Post sends a message of the user to room, which the session is in, or
// says why it may not.
func (s *Seat) Post(room, text string) error {
	s.session.touch()
	r, err := s.in(room)
	if err != nil {
		return err
	}
	text, err = s.core.checkOutgoing(s.user.userID, r, text)
	if err != nil {
		return err
	}
	r.hub.Message(s.user.userID, text)
	return nil
}

// checkOutgoing checks a message a user wants to send in room r (nil: a
// direct message), with everything that can refuse it: the length, a
// mute (from the server, or from r), a log that cannot save it, the rate.
// It returns the sanitized text.
func (c *Core) checkOutgoing(userID string, r *room, text string) (string, error) {
	text, err := c.checkMessage(text)
	if err != nil {
		return "", err
	}
	if err := c.muted(userID, r); err != nil {
		return "", err
	}
	if c.cfg.Store() != nil {
		return "", ErrCannotSave
	}
	return text, c.throttle(userID)
}

// checkMessage sanitizes a message and checks it against the limits.
func (c *Core) checkMessage(text string) (string, error) {
	text = strings.TrimSpace(sanitize.Text(text))
	switch {
	case text == "":
		return "", ErrEmpty
	case len(text) > c.cfg.MaxMessage:
		return "", fmt.Errorf("the message is %d bytes, over the limit of %d", len(text), c.cfg.MaxMessage)
	}
	return text, nil
}

// throttle takes a token of the user's message rate, or says to slow down.
func (c *Core) throttle(userID string) error {
	if c.rates.allow(userID) {
		return nil
	}
	c.cfg.Throttled()
	return fmt.Errorf("slow down: at most %d messages at once, then %g a second", c.cfg.MessageBurst, c.cfg.MessageRate)
}

// roomBurst is how many times the message burst a user may run room
// commands that make events (/join, /part, /topic ...) at once: a session
// opening with its usual rooms must not be told to slow down, nor lose its
// next message to them; past the burst they go at the message rate, so a
// /join and /part loop cannot fill the log.
const roomBurst = 4

// throttleRooms takes a token of the user's rate of room commands, or
// says to slow down.
func (c *Core) throttleRooms(userID string) error {
	if c.roomRate.allow(userID) {
		return nil
	}
	c.cfg.Throttled()
	return fmt.Errorf("slow down: at most %d room commands at once, then %g a second", roomBurst*c.cfg.MessageBurst, c.cfg.MessageRate)
}

// visibleTo keeps the events userID may see (hub.Visible), who ignores
// the users in ignored.
func visibleTo(evs []hub.Event, userID string, ignored map[string]bool) []hub.Event {
	out := make([]hub.Event, 0, len(evs))
	for _, ev := range evs {
		if hub.Visible(ev, userID, ignored) {
			out = append(out, ev)
		}
	}
	return out
}
