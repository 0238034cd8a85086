package chat

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
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

	errUsage = errors.New("usage")
	// errNotSaved is a change that holds, but could not be written down:
	// it is lost if the server stops before a later write succeeds.
	errNotSaved = errors.New("not saved")
)

// Room is what the core needs of a room: a *hub.Hub, or what rooms and a
// bus between nodes put in front of one.
type Room interface {
	ID() string
	Subscribe(m hub.Member, backlog int, opts ...hub.SubscribeOption) (*hub.Subscription, error)
	Remove(userID, sessionID string) error
	Message(userID, text string)
	Publish(userID, name, text string)
	Post(ev hub.Event) error
	Rename(userID, name string) error
	Drop(userID, reason string) error
	History() []hub.Event
}

// Session is one session of a user as the core sees it; the SSH side
// implements it. The session sends text and runs commands through its
// Seat (Post, Run); the core reaches back only to end it.
type Session interface {
	ID() string     // unique among the room's sessions
	Remote() string // where it connects from, for /sessions
	// End asks the session to end, telling the person why (/detach). It
	// must not block: a session that is ending already ignores it.
	End(reason string)
}

// Config holds the core's limits and the hooks the server gives it. The
// zero value of a field means its default, given beside it.
type Config struct {
	MaxMessage   int     // bytes in one message; default 4096
	MessageRate  float64 // messages per second per user, all sessions together; default 1
	MessageBurst int     // messages a user may send at once before the rate applies; default 5

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

// Core is the chat of one room: who is online, what they may say and run.
type Core struct {
	room     Room
	reg      *registry.Registry
	log      *slog.Logger
	cfg      Config
	presence *presence
	rates    *rates
	admins   atomic.Pointer[map[string]bool] // fingerprints of the admins
}

// New makes the core of room, with names, ignores, bans, mutes and the
// message of the day kept in reg (nil: in memory, until the server stops).
func New(room Room, reg *registry.Registry, log *slog.Logger, cfg Config) *Core {
	if reg == nil {
		reg, _ = registry.Open("") // in memory: cannot fail
	}
	cfg = cfg.withDefaults()
	return &Core{
		room:     room,
		reg:      reg,
		log:      log,
		cfg:      cfg,
		presence: newPresence(reg),
		rates:    newRates(cfg.MessageRate, cfg.MessageBurst),
	}
}

// SetAdmins sets the keys (fingerprints) that may moderate; it may be
// called at any time (e.g. on SIGHUP).
func (c *Core) SetAdmins(keys map[string]bool) { c.admins.Store(&keys) }

func (c *Core) isAdmin(userID string) bool {
	admins := c.admins.Load()
	return admins != nil && (*admins)[userID]
}

// Banned says why userID may not come in, if it is banned.
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

// Member is one user of the roster.
type Member struct {
	UserID, Name string
	Sessions     int // that count: a script's say does not
	Away         bool
}

// Members returns the first n users online, in display order (by name,
// ignoring case), and how many are online: what member lists show.
func (c *Core) Members(n int) (top []Member, total int) { return c.presence.members(n) }

// Complete returns the names of the users online, but userID, that start
// with prefix ignoring case, in display order.
func (c *Core) Complete(prefix, userID string) []string {
	return c.presence.complete(prefix, userID)
}

// Arrival is what the core decided for a new session.
type Arrival struct {
	Name     string   // the name the user goes by
	Notices  []string // for the person: why it is not the name asked for
	Warning  string   // for the room: a known name asked for with another key
	Sessions int      // the user's sessions that count, this one included
}

// Seat is one session's place in the room, from its arrival to Leave.
type Seat struct {
	core    *Core
	user    *online
	session *sessionInfo
}

// Arrive adds sess, a session of userID who asked for the name wanted, to
// who is online: a user already online keeps its name; otherwise the key
// gets the name it asked for if that is free or already its own, and is
// told why when not. The name is saved before Arrive returns.
func (c *Core) Arrive(userID, wanted string, sess Session) (*Seat, Arrival, error) {
	return c.arrive(userID, wanted, sess, true)
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

// Join subscribes the session to the room, with backlog events of its
// history, and from then on lists it in the roster: whoever the roster
// lists, the room has. The name is the user's as of now, renames held off
// until the room has it.
func (s *Seat) Join(backlog int) (*hub.Subscription, error) {
	p := s.core.presence
	p.renames.Lock()
	defer p.renames.Unlock()
	sub, err := s.core.room.Subscribe(hub.Member{UserID: s.user.userID, SessionID: s.session.sess.ID(), Name: p.nameOf(s.user)}, backlog)
	if err != nil {
		return nil, err
	}
	p.join(s.user, s.session)
	return sub, nil
}

// Leave takes the session out of who is online; the user goes offline
// with its last session. Leaving twice is harmless.
func (s *Seat) Leave() { s.core.presence.release(s.user.userID, s.session) }

// UserID is the key the session came with.
func (s *Seat) UserID() string { return s.user.userID }

// Ignored is the set of users whose messages the user does not see, as
// of now: it changes with /ignore and /unignore. It must not be modified.
func (s *Seat) Ignored() map[string]bool { return *s.user.ignored.Load() }

// Visible keeps the events of evs the user may see (hub.Visible).
func (s *Seat) Visible(evs []hub.Event) []hub.Event {
	return visibleTo(evs, s.user.userID, s.Ignored())
}

// Post sends a message of the user to the room, or says why it may not.
func (s *Seat) Post(text string) error {
	s.session.touch()
	text, err := s.core.checkOutgoing(s.user.userID, text)
	if err != nil {
		return err
	}
	s.core.room.Message(s.user.userID, text)
	return nil
}

// checkOutgoing checks a message a user wants to send, with everything
// that can refuse it: the length, a mute, a log that cannot save it, the
// rate. It returns the sanitized text.
func (c *Core) checkOutgoing(userID, text string) (string, error) {
	text, err := c.checkMessage(text)
	if err != nil {
		return "", err
	}
	if m, muted := c.reg.Muted(userID, time.Now()); muted {
		return "", fmt.Errorf("you are muted %s", until(m.Until))
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
