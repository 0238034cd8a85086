package hub

import (
	"errors"
	"fmt"
	"time"
)

// Errors returned by the hub. Test for them with errors.Is.
var (
	ErrClosed        = errors.New("hub: closed")
	ErrAlreadyExists = errors.New("hub: session already exists")
	ErrNotFound      = errors.New("hub: session not found")
	ErrEvicted       = errors.New("hub: evicted")
	ErrDropped       = errors.New("hub: dropped")
	ErrBadType       = errors.New("hub: event type not allowed here")
)

// DefaultSubscriberBuffer is how many undelivered events a subscriber may
// hold before it is evicted, unless WithSubscriberBuffer says otherwise.
// A subscriber that takes its events as they come needs the slack only
// for the moments it waits for a CPU; each slot costs an Event's size
// (about 180 bytes) for every subscriber.
const DefaultSubscriberBuffer = 64

// Member names one session of one user when it subscribes.
type Member struct {
	UserID    string
	SessionID string
	Name      string // display name; the latest subscriber's name wins for the user
}

// User is one user in the room, as of a snapshot.
type User struct {
	UserID   string
	Name     string
	Sessions int
}

// Subscription is one session's stream of events.
type Subscription struct {
	events  chan Event
	history []Event
	users   []User
	err     error // written by run before events is closed
}

// Events is the stream. It starts with the event of the session's own
// arrival and is closed when the session is removed, evicted or the hub
// closes; then Err says which.
func (s *Subscription) Events() <-chan Event { return s.events }

// History is the backlog requested at subscription: the most recent events
// before the session's own arrival, oldest first.
func (s *Subscription) History() []Event { return s.history }

// Users is who was online just after the session arrived, itself included.
func (s *Subscription) Users() []User { return s.users }

// Release lets go of History and Users once the caller has what it needs
// of them: a subscription lives as long as its session, its snapshot need
// not.
func (s *Subscription) Release() { s.history, s.users = nil, nil }

// Err tells why the stream ended. It may be called only after Events has
// been closed (the close is what makes the value visible): nil after
// Remove, ErrClosed when the hub closed, an error wrapping ErrEvicted when
// the subscriber fell too far behind.
func (s *Subscription) Err() error { return s.err }

// Option configures a Hub.
type Option func(*config)

type config struct {
	history   []Event
	lastID    int
	subBuffer int
	now       func() time.Time
}

// WithHistory seeds the hub with the events it had before a restart, oldest
// first: History is warm and new IDs continue after the last one.
func WithHistory(events []Event) Option {
	return func(c *config) { c.history = events }
}

// WithLastID makes new IDs continue after id even when no history is kept.
func WithLastID(id int) Option {
	return func(c *config) { c.lastID = id }
}

// WithSubscriberBuffer sets how many undelivered events a subscriber may
// hold before it is evicted (default DefaultSubscriberBuffer).
func WithSubscriberBuffer(n int) Option {
	return func(c *config) { c.subBuffer = n }
}

// WithClock sets the source of event times (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// Hub is the message hub of one room. Its methods are safe for concurrent
// use; all of its state is owned by one goroutine.
type Hub struct {
	id        string
	subBuffer int
	now       func() time.Time
	reqs      chan request
	done      chan struct{} // closed when run has ended

	nextID    int                        // owned by run
	history   ring                       // owned by run
	subs      []*subscriber              // owned by run; order is irrelevant
	streams   []chan Event               // owned by run; streams[i] is subs[i]'s, kept flat for the fan-out loop
	bySession map[sessionKey]*subscriber // owned by run
	users     map[string]*user           // owned by run
	listeners []chan<- Event             // owned by run
}

type sessionKey struct{ userID, sessionID string }

type subscriber struct {
	key   sessionKey
	index int // position in Hub.subs
	sub   *Subscription
}

type user struct {
	name     string
	sessions int
}

type op int

const (
	opSubscribe op = iota
	opRemove
	opMessage
	opPost
	opRename
	opDrop
	opHistory
	opUsers
	opAttach
	opClose
)

type request struct {
	op       op
	member   Member
	event    Event  // for opPost
	text     string // a message, a new name, a reason
	backlog  int
	listener chan<- Event
	reply    chan reply // nil for opMessage, which has no answer
}

type reply struct {
	err     error
	sub     *Subscription
	history []Event
	users   []User
}

// New starts a hub for the room id. reqBufferSize is how many requests may
// queue before callers block; historySize how many recent events History
// keeps in memory.
func New(id string, reqBufferSize, historySize int, opts ...Option) *Hub {
	cfg := config{subBuffer: DefaultSubscriberBuffer, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	h := &Hub{
		id:        id,
		subBuffer: max(cfg.subBuffer, 1),
		now:       cfg.now,
		reqs:      make(chan request, max(reqBufferSize, 0)),
		done:      make(chan struct{}),
		nextID:    cfg.lastID + 1,
		history:   newRing(historySize),
		bySession: make(map[sessionKey]*subscriber),
		users:     make(map[string]*user),
	}
	for _, ev := range cfg.history {
		h.history.push(ev)
		h.nextID = max(h.nextID, ev.ID+1)
	}
	go h.run()
	return h
}

// ID is the room's ID.
func (h *Hub) ID() string { return h.id }

// QueueLen is how many requests wait for the hub: a measure of its load.
func (h *Hub) QueueLen() int { return len(h.reqs) }

// Add subscribes a session of a user. The first session of a user is a
// join, later ones an add. The stream starts with that event.
func (h *Hub) Add(userID, sessionID string) (<-chan Event, error) {
	s, err := h.Subscribe(Member{UserID: userID, SessionID: sessionID}, 0)
	if err != nil {
		return nil, err
	}
	return s.Events(), nil
}

// Subscribe is Add with a display name and a backlog: the subscription
// carries up to backlog events from before its arrival and who is online,
// both consistent with the first event of its stream.
func (h *Hub) Subscribe(m Member, backlog int) (*Subscription, error) {
	rep, err := h.call(request{op: opSubscribe, member: m, backlog: backlog})
	if err != nil {
		return nil, err
	}
	return rep.sub, rep.err
}

// Remove unsubscribes a session and closes its stream. Others see a remove,
// or a leave when it was the user's last session.
func (h *Hub) Remove(userID, sessionID string) error {
	rep, err := h.call(request{op: opRemove, member: Member{UserID: userID, SessionID: sessionID}})
	if err != nil {
		return err
	}
	return rep.err
}

// Message publishes a message from userID to every subscriber. It blocks
// only while the request queue is full, and returns at once after Close.
func (h *Hub) Message(userID, message string) {
	h.Publish(userID, "", message)
}

// Publish is Message with a display name for a sender who may have no
// session (a script posting one line). A user who is online keeps the name
// the room knows.
func (h *Hub) Publish(userID, name, message string) {
	select {
	case <-h.done:
		return
	default:
	}
	select {
	case h.reqs <- request{op: opMessage, member: Member{UserID: userID, Name: name}, text: message}:
	case <-h.done:
	}
}

// Post publishes an event the hub does not make itself: an action,
// direct message, away or back, notice, or a moderation event. The hub
// stamps its ID, room and time, and the current names of UserID and To
// when they are online. Like Message it blocks only while the request
// queue is full; after Close it returns ErrClosed at once.
func (h *Hub) Post(ev Event) error {
	switch ev.Type {
	case EventTypeJoin, EventTypeAdd, EventTypeRemove, EventTypeLeave, EventTypeClose, EventTypeNick, "":
		return fmt.Errorf("%w: %q", ErrBadType, ev.Type)
	}
	select {
	case <-h.done:
		return ErrClosed
	default:
	}
	select {
	case h.reqs <- request{op: opPost, event: ev}:
		return nil
	case <-h.done:
		return ErrClosed
	}
}

// Rename changes the display name of an online user, for all its
// sessions, and tells the room with a nick event.
func (h *Hub) Rename(userID, name string) error {
	rep, err := h.call(request{op: opRename, member: Member{UserID: userID}, text: name})
	if err != nil {
		return err
	}
	return rep.err
}

// Drop ends every session of userID: each stream closes with an error
// wrapping ErrDropped that carries reason, and the room sees the sessions
// go, with the reason.
func (h *Hub) Drop(userID, reason string) error {
	rep, err := h.call(request{op: opDrop, member: Member{UserID: userID}, text: reason})
	if err != nil {
		return err
	}
	return rep.err
}

// Visible reports whether userID, who ignores the users in ignored (nil
// for none), may see ev. It is the one rule of every read path: a direct
// message is seen only by its two users, and what an ignored user says
// (messages, actions, direct messages) is not seen at all; everything
// else is seen by everyone.
func Visible(ev Event, userID string, ignored map[string]bool) bool {
	if ev.Type == EventTypeDirect && ev.UserID != userID && ev.To != userID {
		return false
	}
	if ignored[ev.UserID] {
		switch ev.Type {
		case EventTypeMessage, EventTypeAction, EventTypeDirect:
			return false
		}
	}
	return true
}

// History returns the most recent events, oldest first.
func (h *Hub) History() []Event {
	rep, err := h.call(request{op: opHistory})
	if err != nil {
		return nil
	}
	return rep.history
}

// Users returns who is online, in no particular order.
func (h *Hub) Users() []User {
	rep, err := h.call(request{op: opUsers})
	if err != nil {
		return nil
	}
	return rep.users
}

// AttachListener registers a listener: it receives every later event, in
// order, and the hub waits for it to take each one. The hub closes it after
// the close event; attached to a closed hub, it is closed at once.
func (h *Hub) AttachListener(listener chan<- Event) {
	if _, err := h.call(request{op: opAttach, listener: listener}); err != nil {
		close(listener)
	}
}

// Close sends a close event to every subscriber and listener, closes their
// channels and stops the hub. Later calls return ErrClosed.
func (h *Hub) Close() error {
	rep, err := h.call(request{op: opClose})
	if err != nil {
		return err
	}
	return rep.err
}

// call sends a request to run and waits for its reply. It fails with
// ErrClosed when run has ended before answering.
func (h *Hub) call(r request) (reply, error) {
	r.reply = make(chan reply, 1)
	select {
	case h.reqs <- r:
	case <-h.done:
		return reply{}, ErrClosed
	}
	select {
	case rep := <-r.reply:
		return rep, nil
	case <-h.done:
		// run may have answered just before ending.
		select {
		case rep := <-r.reply:
			return rep, nil
		default:
			return reply{}, ErrClosed
		}
	}
}

// run owns the hub's state until Close.
func (h *Hub) run() {
	defer close(h.done)
	for r := range h.reqs {
		switch r.op {
		case opSubscribe:
			r.reply <- h.handleSubscribe(r.member, r.backlog)
		case opRemove:
			r.reply <- reply{err: h.handleRemove(r.member)}
		case opMessage:
			h.handleMessage(r.member, r.text)
		case opPost:
			h.handlePost(r.event)
		case opRename:
			r.reply <- reply{err: h.handleRename(r.member.UserID, r.text)}
		case opDrop:
			r.reply <- reply{err: h.handleDrop(r.member.UserID, r.text)}
		case opHistory:
			r.reply <- reply{history: h.history.last(h.history.len())}
		case opUsers:
			r.reply <- reply{users: h.snapshotUsers()}
		case opAttach:
			h.listeners = append(h.listeners, r.listener)
			r.reply <- reply{}
		case opClose:
			h.handleClose()
			r.reply <- reply{}
			return
		}
	}
}

func (h *Hub) handleSubscribe(m Member, backlog int) reply {
	key := sessionKey{m.UserID, m.SessionID}
	if _, ok := h.bySession[key]; ok {
		return reply{err: fmt.Errorf("%w: %s/%s", ErrAlreadyExists, m.UserID, m.SessionID)}
	}
	sub := &Subscription{
		events:  make(chan Event, h.subBuffer),
		history: h.history.lastFor(backlog, m.UserID),
	}
	s := &subscriber{key: key, index: len(h.subs), sub: sub}
	h.subs = append(h.subs, s)
	h.streams = append(h.streams, sub.events)
	h.bySession[key] = s

	typ := EventTypeAdd
	u := h.users[m.UserID]
	if u == nil {
		u = &user{}
		h.users[m.UserID] = u
		typ = EventTypeJoin
	}
	u.sessions++
	if m.Name != "" {
		u.name = m.Name
	}
	sub.users = h.snapshotUsers()
	h.emit(Event{Type: typ, UserID: m.UserID, SessionID: m.SessionID, Name: u.name})
	return reply{sub: sub}
}

func (h *Hub) handleRemove(m Member) error {
	s, ok := h.bySession[sessionKey{m.UserID, m.SessionID}]
	if !ok {
		return fmt.Errorf("%w: %s/%s", ErrNotFound, m.UserID, m.SessionID)
	}
	h.detach(s)
	h.emit(h.depart(s))
	return nil
}

func (h *Hub) handleMessage(from Member, text string) {
	if u := h.users[from.UserID]; u != nil {
		from.Name = u.name
	}
	h.emit(Event{Type: EventTypeMessage, UserID: from.UserID, Name: from.Name, Message: text})
}

func (h *Hub) handlePost(ev Event) {
	if u := h.users[ev.UserID]; u != nil {
		ev.Name = u.name
	}
	if u := h.users[ev.To]; u != nil && ev.To != "" {
		ev.ToName = u.name
	}
	ev.SessionID = ""
	h.emit(ev)
}

func (h *Hub) handleRename(userID, name string) error {
	u := h.users[userID]
	if u == nil {
		return fmt.Errorf("%w: user %s", ErrNotFound, userID)
	}
	old := u.name
	u.name = name
	h.emit(Event{Type: EventTypeNick, UserID: userID, Name: name, OldName: old})
	return nil
}

func (h *Hub) handleDrop(userID, reason string) error {
	var gone []*subscriber
	for _, s := range h.subs {
		if s.key.userID == userID {
			gone = append(gone, s)
		}
	}
	if len(gone) == 0 {
		return fmt.Errorf("%w: user %s", ErrNotFound, userID)
	}
	for _, s := range gone {
		s.sub.err = fmt.Errorf("%w: %s", ErrDropped, reason)
		h.detach(s)
	}
	for _, s := range gone {
		d := h.depart(s)
		d.Reason = reason
		h.emit(d)
	}
	return nil
}

func (h *Hub) handleClose() {
	h.emit(Event{Type: EventTypeClose})
	for _, s := range h.subs {
		if s.sub.err == nil {
			s.sub.err = ErrClosed
		}
		close(s.sub.events)
	}
	for _, l := range h.listeners {
		close(l)
	}
	h.subs, h.streams, h.bySession, h.users, h.listeners = nil, nil, nil, nil, nil
}

// emit stamps ev with the next ID and delivers it: to every listener,
// waiting for each, then to every subscriber without waiting. Subscribers
// that have no room left are evicted after the delivery.
func (h *Hub) emit(ev Event) {
	ev.ID = h.nextID
	h.nextID++
	ev.ChatRoomID = h.id
	ev.UnixTime = h.now().Unix()
	h.history.push(ev)
	for _, l := range h.listeners {
		l <- ev
	}

	var slow []*subscriber
	if ev.Type == EventTypeDirect {
		for i, s := range h.subs {
			if Visible(ev, s.key.userID, nil) && !h.offer(h.streams[i], ev) {
				slow = append(slow, s)
			}
		}
	} else {
		for i, stream := range h.streams {
			if !h.offer(stream, ev) {
				slow = append(slow, h.subs[i])
			}
		}
	}
	if ev.Type == EventTypeClose {
		// Nobody is left to be told; the stream still says why it ends.
		for _, s := range slow {
			s.sub.err = fmt.Errorf("%w: missed the close event", ErrEvicted)
		}
		return
	}
	// Take every slow subscriber out of the delivery before telling anyone,
	// so that none of them can receive a later event after missing this one.
	// Each departure's type (remove or leave) is decided just before it is
	// emitted, so it matches what the others have seen by then, evictions
	// caused by earlier departures included.
	for _, s := range slow {
		s.sub.err = fmt.Errorf("%w: fell %d events behind", ErrEvicted, cap(s.sub.events))
		h.detach(s)
	}
	for _, s := range slow {
		d := h.depart(s)
		d.Reason = fmt.Sprintf("evicted: fell %d events behind", cap(s.sub.events))
		h.emit(d)
	}
}

// offer delivers ev to a stream unless it is full.
func (h *Hub) offer(stream chan Event, ev Event) bool {
	select {
	case stream <- ev:
		return true
	default:
		return false
	}
}

// detach stops delivery to s and closes its stream.
func (h *Hub) detach(s *subscriber) {
	last := len(h.subs) - 1
	h.subs[s.index] = h.subs[last]
	h.subs[s.index].index = s.index
	h.subs[last] = nil
	h.subs = h.subs[:last]
	h.streams[s.index] = h.streams[last]
	h.streams[last] = nil
	h.streams = h.streams[:last]
	delete(h.bySession, s.key)
	close(s.sub.events)
}

// depart counts a detached session out of its user and returns the event
// that tells the others: a remove, or a leave for the user's last session.
func (h *Hub) depart(s *subscriber) Event {
	u := h.users[s.key.userID]
	u.sessions--
	typ := EventTypeRemove
	if u.sessions == 0 {
		delete(h.users, s.key.userID)
		typ = EventTypeLeave
	}
	return Event{Type: typ, UserID: s.key.userID, SessionID: s.key.sessionID, Name: u.name}
}

func (h *Hub) snapshotUsers() []User {
	users := make([]User, 0, len(h.users))
	for id, u := range h.users {
		users = append(users, User{UserID: id, Name: u.name, Sessions: u.sessions})
	}
	return users
}
