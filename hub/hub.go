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

// Defaults of the slow-consumer policy (see the package documentation).
const (
	// DefaultSubscriberBuffer is the size of a subscriber's channel: the
	// events it may hold before the hub queues the rest on its side. Each
	// slot costs an Event's size (about 200 bytes) for every subscriber.
	DefaultSubscriberBuffer = 64

	// DefaultMaxBehind is how many messages (every event but presence) may
	// wait for a subscriber behind its channel before it is evicted: at
	// 50 messages a second, 20 s of chat.
	DefaultMaxBehind = 1024

	// DefaultMaxLag is how long the oldest message waiting for a
	// subscriber behind its channel may wait before it is evicted.
	DefaultMaxLag = 30 * time.Second

	// DefaultFlushInterval is how long presence events may wait to be
	// delivered together, and how often the hub retries the queues of
	// subscribers whose channels were full.
	DefaultFlushInterval = 50 * time.Millisecond

	// presenceWakeups is how many subscribers a second presence events may
	// wake, all together: in a big room they wait longer than the flush
	// interval (at 1,000 subscribers 200 ms, at 5,000 a second), so that a storm of arrivals
	// does not cost every reader a wakeup every flush. Any other event
	// sends them at once.
	presenceWakeups = 5000
)

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
// closes; then Err says which. A subscriber that fell behind finds an
// EventTypeRoster event where presence events were coalesced.
func (s *Subscription) Events() <-chan Event { return s.events }

// History is the backlog requested at subscription: the most recent events
// before the session's own arrival, oldest first.
func (s *Subscription) History() []Event { return s.history }

// Release lets go of History and Users once the caller has what it needs
// of them: a subscription lives as long as its session, its snapshot need
// not.
func (s *Subscription) Release() { s.history, s.users = nil, nil }

// Err tells why the stream ended. It may be called only after Events has
// been closed (the close is what makes the value visible): nil after
// Remove, ErrClosed when the hub closed (wrapped, with a count, when the
// subscriber was too far behind to be given the close event), an error
// wrapping ErrEvicted when the subscriber fell too far behind or was
// evicted with Evict, one wrapping ErrDropped after Drop.
func (s *Subscription) Err() error { return s.err }

// SubscribeOption asks Subscribe for more.
type SubscribeOption func(*subscribeConfig)

type subscribeConfig struct {
	users  bool
	notify chan<- struct{} // see WithNotify
}

// Option configures a Hub.
type Option func(*config)

type config struct {
	history       []Event
	lastID        int
	subBuffer     int
	maxBehind     int
	maxLag        time.Duration
	flushInterval time.Duration
	now           func() time.Time
	stamp         func(Event) (Event, error)
	noPresence    bool
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

// WithSubscriberBuffer sets the size of each subscriber's channel (default
// DefaultSubscriberBuffer). Events that do not fit wait in a queue the hub
// keeps; see WithMaxBehind.
func WithSubscriberBuffer(n int) Option {
	return func(c *config) { c.subBuffer = n }
}

// WithMaxBehind sets how many messages may wait for a subscriber behind
// its channel before it is evicted (DefaultMaxBehind when n ≤ 0).
func WithMaxBehind(n int) Option {
	return func(c *config) { c.maxBehind = n }
}

// WithMaxLag sets how long the oldest message waiting for a subscriber
// behind its channel may wait before it is evicted (DefaultMaxLag when
// d ≤ 0).
func WithMaxLag(d time.Duration) Option {
	return func(c *config) { c.maxLag = d }
}

// Stats is what the hub knows of its subscribers' delivery.
type Stats struct {
	Subscribers int // subscribed sessions
	Lagging     int // subscribers with events queued behind their channel
	Queued      int // events queued behind channels, all subscribers together
	MaxQueued   int // the most events ever queued behind one subscriber's channel
	Evicted     int // subscribers evicted since the hub started
}

// Hub is the message hub of one room. Its methods are safe for concurrent
// use; all of its state is owned by one goroutine.
type Hub struct {
	id            string
	subBuffer     int
	maxBehind     int
	maxLag        time.Duration
	flushInterval time.Duration
	now           func() time.Time
	stamp         func(Event) (Event, error) // nil: the hub numbers its events itself
	noPresence    bool                       // arrivals, departures and renames are not events
	reqs          chan request
	done          chan struct{} // closed when run has ended

	nextID    int                        // owned by run; without stamp
	lastID    int                        // owned by run; the ID of the last event recorded
	history   ring                       // owned by run
	subs      []*subscriber              // owned by run; order is irrelevant
	bySession map[sessionKey]*subscriber // owned by run
	users     map[string]*user           // owned by run; the sessions of other nodes count in (remote)
	remote    map[sessionKey]string      // owned by run; the sessions of other nodes, and their node
	listeners []chan<- Event             // owned by run
	presence  []Event                    // owned by run; presence events not yet delivered, oldest first
	due       time.Time                  // owned by run; when presence is to be delivered
	lagging   []*subscriber              // owned by run; subscribers with a queue, order is irrelevant
	timer     *time.Timer                // owned by run; runs while presence or lagging is not empty
	armed     bool                       // owned by run; timer runs
	maxQueued int                        // owned by run
	evicted   int                        // owned by run
}

type sessionKey struct{ userID, sessionID string }

type subscriber struct {
	key     sessionKey
	index   int // position in Hub.subs
	since   int // the ID of its own arrival: it gets the events after it
	sub     *Subscription
	ch      chan Event // sub.events
	queue   []queued   // what its channel had no room for, from head on, oldest first
	head    int        // the first live entry of queue
	behind  int        // messages in the queue (roster markers do not count)
	lagging int        // position in Hub.lagging, or -1

	notify chan<- struct{} // woken after its stream changed; nil for none (WithNotify)
}

// queued is one event waiting for a subscriber's channel, and when it
// started waiting (messages only).
type queued struct {
	ev Event
	at time.Time
}

type user struct {
	name     string
	sessions int
}

type op int

const (
	opSubscribe op = iota
	opRemove
	opEvict
	opPart
	opMessage
	opPost
	opRename
	opDrop
	opHistory
	opUsers
	opStats
	opAttach
	opClose
	opApply
	opAddRemote
	opDropRemote
	opReap
	opRemoteCount
)

type request struct {
	op       op
	member   Member
	event    Event  // for opPost
	text     string // a message, a new name, a reason
	backlog  int
	users    bool // for opSubscribe: snapshot who is online
	listener chan<- Event
	reply    chan reply // nil for opMessage, which has no answer

	notify chan<- struct{} // for opSubscribe: WithNotify
}

type reply struct {
	err     error
	sub     *Subscription
	history []Event
	users   []User
	stats   Stats
	n       int
}

// New starts a hub for the room id. reqBufferSize is how many requests may
// queue before callers block; historySize how many recent events History
// keeps in memory.
func New(id string, reqBufferSize, historySize int, opts ...Option) *Hub {
	cfg := config{
		subBuffer:     DefaultSubscriberBuffer,
		maxBehind:     DefaultMaxBehind,
		maxLag:        DefaultMaxLag,
		flushInterval: DefaultFlushInterval,
		now:           time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.maxBehind <= 0 {
		cfg.maxBehind = DefaultMaxBehind
	}
	if cfg.maxLag <= 0 {
		cfg.maxLag = DefaultMaxLag
	}
	if cfg.flushInterval <= 0 {
		cfg.flushInterval = DefaultFlushInterval
	}
	h := &Hub{
		id:            id,
		subBuffer:     max(cfg.subBuffer, 1),
		maxBehind:     cfg.maxBehind,
		maxLag:        cfg.maxLag,
		flushInterval: max(cfg.flushInterval, time.Millisecond),
		now:           cfg.now,
		stamp:         cfg.stamp,
		noPresence:    cfg.noPresence,
		reqs:          make(chan request, max(reqBufferSize, 0)),
		done:          make(chan struct{}),
		nextID:        cfg.lastID + 1,
		history:       newRing(historySize),
		bySession:     make(map[sessionKey]*subscriber),
		users:         make(map[string]*user),
		remote:        make(map[sessionKey]string),
		timer:         time.NewTimer(time.Hour),
	}
	h.timer.Stop()
	for _, ev := range cfg.history {
		h.history.push(ev)
		h.nextID = max(h.nextID, ev.ID+1)
	}
	h.lastID = h.nextID - 1
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
// carries up to backlog events from before its arrival (and who is
// online, if asked), consistent with the first event of its stream.
func (h *Hub) Subscribe(m Member, backlog int, opts ...SubscribeOption) (*Subscription, error) {
	var c subscribeConfig
	for _, o := range opts {
		o(&c)
	}
	rep, err := h.call(request{op: opSubscribe, member: m, backlog: backlog, users: c.users, notify: c.notify})
	if err != nil {
		return nil, err
	}
	return rep.sub, rep.err
}

// Remove unsubscribes a session and closes its stream. Others see a remove,
// or a leave when it was the user's last session. Events the session had
// not taken yet are dropped with it.
func (h *Hub) Remove(userID, sessionID string) error {
	rep, err := h.call(request{op: opRemove, member: Member{UserID: userID, SessionID: sessionID}})
	if err != nil {
		return err
	}
	return rep.err
}

// Evict removes a session that cannot keep up for a reason found outside
// the hub (its client stopped reading): its stream closes with an error
// wrapping ErrEvicted, and the room sees it go with the reason
// "evicted: " + reason.
func (h *Hub) Evict(userID, sessionID, reason string) error {
	rep, err := h.call(request{op: opEvict, member: Member{UserID: userID, SessionID: sessionID}, text: reason})
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
	_ = h.send(request{op: opMessage, member: Member{UserID: userID, Name: name}, text: message})
}

// Post publishes an event the hub does not make itself: an action,
// direct message, away or back, notice, or a moderation event. The hub
// stamps its ID, room and time, and the current names of UserID and To
// when they are online. Like Message it blocks only while the request
// queue is full; after Close it returns ErrClosed at once.
func (h *Hub) Post(ev Event) error {
	switch ev.Type {
	case EventTypeJoin, EventTypeAdd, EventTypeRemove, EventTypeLeave, EventTypeClose, EventTypeNick, EventTypeRoster, "":
		return fmt.Errorf("%w: %q", ErrBadType, ev.Type)
	}
	return h.send(request{op: opPost, event: ev})
}

// send queues a request that has no answer: it blocks only while the
// request queue is full, and returns ErrClosed at once after Close.
func (h *Hub) send(r request) error {
	select {
	case <-h.done:
		return ErrClosed
	default:
	}
	select {
	case h.reqs <- r:
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

// Stats reports on the subscribers' delivery; the zero Stats after Close.
func (h *Hub) Stats() Stats {
	rep, err := h.call(request{op: opStats})
	if err != nil {
		return Stats{}
	}
	return rep.stats
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
	defer h.timer.Stop()
	for {
		select {
		case r := <-h.reqs:
			if !h.handle(r) {
				return
			}
		case <-h.timer.C:
			h.armed = false
			h.handleTick()
		}
		if !h.armed && (len(h.presence) > 0 || len(h.lagging) > 0) {
			h.timer.Reset(h.flushInterval)
			h.armed = true
		}
	}
}

// handle serves one request; it reports false when the hub has closed.
func (h *Hub) handle(r request) bool {
	switch r.op {
	case opSubscribe:
		r.reply <- h.handleSubscribe(r.member, r.backlog, r.users, r.notify)
	case opRemove:
		r.reply <- reply{err: h.handleRemove(r.member, "")}
	case opEvict:
		r.reply <- reply{err: h.handleRemove(r.member, r.text)}
	case opPart:
		r.reply <- reply{err: h.handlePart(r.member, r.text)}
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
	case opStats:
		r.reply <- reply{stats: h.stats()}
	case opAttach:
		h.listeners = append(h.listeners, r.listener)
		r.reply <- reply{}
	case opApply:
		h.handleApply(r.event)
	case opAddRemote:
		h.countIn(r.member, r.text)
		r.reply <- reply{}
	case opDropRemote:
		h.countOut(sessionKey{r.member.UserID, r.member.SessionID})
		r.reply <- reply{}
	case opReap:
		r.reply <- reply{n: h.handleReap(r.member.SessionID, r.text)}
	case opRemoteCount:
		r.reply <- reply{n: len(h.remote)}
	case opClose:
		h.handleClose()
		r.reply <- reply{}
		return false
	}
	return true
}

func (h *Hub) handleSubscribe(m Member, backlog int, withUsers bool, notify chan<- struct{}) reply {
	key := sessionKey{m.UserID, m.SessionID}
	if _, ok := h.bySession[key]; ok {
		return reply{err: fmt.Errorf("%w: %s/%s", ErrAlreadyExists, m.UserID, m.SessionID)}
	}
	sub := &Subscription{
		events:  make(chan Event, h.subBuffer),
		history: h.history.lastFor(backlog, m.UserID),
	}
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
	if withUsers {
		sub.users = h.snapshotUsers()
	}
	since := h.lastID // without presence, the stream starts after the last event
	if !h.noPresence {
		// The arrival goes to the others with the presence events; the new
		// stream starts with it at once, and takes only what follows it.
		ev := h.record(Event{Type: typ, UserID: m.UserID, SessionID: m.SessionID, Name: u.name})
		h.delay(ev)
		sub.events <- ev
		since = ev.ID
	}
	s := &subscriber{key: key, index: len(h.subs), since: since, sub: sub, ch: sub.events, lagging: -1, notify: notify}
	s.wake()
	h.subs = append(h.subs, s)
	h.bySession[key] = s
	return reply{sub: sub}
}

// handleRemove ends a session at its request, or evicts it when reason is
// not empty.
func (h *Hub) handleRemove(m Member, reason string) error {
	s, ok := h.bySession[sessionKey{m.UserID, m.SessionID}]
	if !ok {
		return fmt.Errorf("%w: %s/%s", ErrNotFound, m.UserID, m.SessionID)
	}
	if reason != "" {
		h.evict([]*subscriber{s}, reason)
		return nil
	}
	h.catchUp(s)
	h.detach(s)
	h.emitPresence(h.depart(s))
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
	h.emitPresence(Event{Type: EventTypeNick, UserID: userID, Name: name, OldName: old})
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
		h.catchUp(s)
		s.sub.err = fmt.Errorf("%w: %s", ErrDropped, reason)
		h.detach(s)
	}
	for _, s := range gone {
		d := h.depart(s)
		d.Reason = reason
		h.emitPresence(d)
	}
	return nil
}

// handleTick delivers the presence events that waited, retries the
// queues of lagging subscribers and evicts those whose oldest message
// has waited too long.
func (h *Hub) handleTick() {
	now := time.Now()
	if !now.Before(h.due) {
		h.flushPresence()
	}
	var late []*subscriber
	// Backwards: a subscriber that catches up leaves h.lagging, and the
	// last one, already seen, takes its place.
	for i := len(h.lagging) - 1; i >= 0; i-- {
		s := h.lagging[i]
		h.drain(s)
		if at := s.oldest(); !at.IsZero() && now.Sub(at) > h.maxLag {
			late = append(late, s)
		}
	}
	if len(late) > 0 {
		h.evict(late, fmt.Sprintf("more than %s behind", h.maxLag))
	}
}

func (h *Hub) handleClose() {
	h.flushPresence()
	ev := h.record(Event{Type: EventTypeClose})
	for _, s := range h.subs {
		h.drain(s)
		if len(s.queue) > s.head || !s.offer(ev) {
			// Closing cannot wait for a reader: this one did not get the
			// end of its stream.
			s.sub.err = fmt.Errorf("%w: %d events undelivered", ErrClosed, len(s.queue)-s.head+1)
		} else {
			s.sub.err = ErrClosed
		}
		close(s.ch)
		s.wake()
	}
	for _, l := range h.listeners {
		close(l)
	}
	h.subs, h.bySession, h.users, h.remote, h.listeners, h.presence, h.lagging = nil, nil, nil, nil, nil, nil, nil
}

// record stamps ev with the next ID (or has the stamp of WithStamp do
// it), keeps it in the history and hands it
// to every listener, waiting for each. An event the stamp fails on (a
// bus that gave up) is delivered to this hub's subscribers only: it is
// neither kept nor given to the listeners, and has the last ID.
func (h *Hub) record(ev Event) Event {
	ev.ChatRoomID = h.id
	ev.UnixTime = h.now().Unix()
	if h.stamp != nil {
		stamped, err := h.stamp(ev)
		if err != nil {
			ev.ID = h.lastID
			return ev
		}
		ev = stamped
	} else {
		ev.ID = h.nextID
		h.nextID++
	}
	h.lastID = ev.ID
	h.history.push(ev)
	for _, l := range h.listeners {
		l <- ev
	}
	return ev
}

// emitPresence emits an arrival, departure or rename, unless the hub
// makes no presence events (WithoutPresence).
func (h *Hub) emitPresence(ev Event) {
	if !h.noPresence {
		h.emit(ev)
	}
}

// emit records ev and delivers it. Presence events wait to go out
// together (a storm of arrivals wakes each reader once a flush, not once
// an arrival); anything else first sends them, so that every subscriber
// sees the events in ID order.
func (h *Hub) emit(ev Event) {
	h.deliverAll(h.record(ev))
}

// deliverAll delivers a recorded event to every subscriber that may see
// it.
func (h *Hub) deliverAll(ev Event) {
	if presenceLike(ev.Type) {
		h.delay(ev)
		return
	}
	h.flushPresence()
	direct := ev.Type == EventTypeDirect
	var over []*subscriber
	for _, s := range h.subs {
		switch {
		case direct && !Visible(ev, s.key.userID, nil):
		case s.head == len(s.queue) && s.offer(ev): // the common case, kept short
		case !h.deliver(s, ev):
			over = append(over, s)
		}
	}
	if len(over) > 0 {
		h.evict(over, fmt.Sprintf("more than %d messages behind", h.maxBehind))
	}
}

// delay keeps a presence event to be delivered with the others.
func (h *Hub) delay(ev Event) {
	if len(h.presence) == 0 {
		wait := max(h.flushInterval, time.Duration(len(h.subs))*time.Second/presenceWakeups)
		h.due = time.Now().Add(wait)
	}
	h.presence = append(h.presence, ev)
}

// flushPresence delivers the presence events that wait to every
// subscriber that arrived before each of them.
func (h *Hub) flushPresence() {
	if len(h.presence) == 0 {
		return
	}
	batch := h.presence
	h.presence = nil // evictions below add their departures to a new batch
	last := batch[len(batch)-1]
	var over []*subscriber
	for _, s := range h.subs {
		if s.since >= last.ID {
			continue // arrived after all of them
		}
		ok := true
		for _, ev := range batch {
			if ev.ID <= s.since {
				continue
			}
			ok = h.deliver(s, ev) && ok
			if s.head < len(s.queue) {
				// Behind now, and the rest would fold one by one into
				// the roster event just queued: fold them at once.
				r := &s.queue[len(s.queue)-1].ev
				r.ID, r.UnixTime = last.ID, last.UnixTime
				break
			}
		}
		if !ok {
			over = append(over, s)
		}
	}
	clear(batch)
	if h.presence == nil {
		h.presence = batch[:0]
	}
	if len(over) > 0 {
		h.evict(over, fmt.Sprintf("more than %d messages behind", h.maxBehind))
	}
}

// catchUp gives a subscriber about to leave the presence events that
// happened before, as far as its channel has room.
func (h *Hub) catchUp(s *subscriber) {
	for _, ev := range h.presence {
		if ev.ID > s.since {
			h.deliver(s, ev)
		}
	}
	h.drain(s)
}

// deliver hands ev to s without waiting: into its channel if it has room
// and nothing waits before ev, else into its queue. It reports false when
// s is now more messages behind than the hub allows.
func (h *Hub) deliver(s *subscriber, ev Event) bool {
	if s.head < len(s.queue) {
		h.drain(s)
	}
	if s.head == len(s.queue) && s.offer(ev) {
		return true
	}
	return h.enqueue(s, ev)
}

// enqueue queues ev for s behind its channel. Presence events are state:
// those in a row make one roster event, which tells the reader to look at
// who is online now, and what its own user is called. A departure never
// counts against anyone, so an eviction cannot push another subscriber
// over.
func (h *Hub) enqueue(s *subscriber, ev Event) bool {
	if s.lagging < 0 {
		s.lagging = len(h.lagging)
		h.lagging = append(h.lagging, s)
	}
	if presenceLike(ev.Type) {
		if n := len(s.queue); n > s.head && s.queue[n-1].ev.Type == EventTypeRoster {
			s.queue[n-1].ev.ID, s.queue[n-1].ev.UnixTime = ev.ID, ev.UnixTime
			return true
		}
		s.queue = append(s.queue, queued{ev: Event{ID: ev.ID, ChatRoomID: ev.ChatRoomID, Type: EventTypeRoster,
			UserID: s.key.userID, UnixTime: ev.UnixTime}})
	} else {
		s.queue = append(s.queue, queued{ev: ev, at: time.Now()})
		s.behind++
	}
	h.maxQueued = max(h.maxQueued, len(s.queue)-s.head)
	return s.behind <= h.maxBehind
}

// drain moves what waits in s's queue into its channel, as far as it has
// room.
func (h *Hub) drain(s *subscriber) {
	for s.head < len(s.queue) {
		q := &s.queue[s.head]
		if q.ev.Type == EventTypeRoster {
			q.ev.Name = h.users[s.key.userID].name // as of now: renames folded into it
		}
		if !s.offer(q.ev) {
			break
		}
		if q.ev.Type != EventTypeRoster {
			s.behind--
		}
		*q = queued{}
		s.head++
	}
	switch {
	case s.head == len(s.queue):
		// Caught up: the queue's memory goes back, unless it is small.
		if cap(s.queue) > 2*h.subBuffer {
			s.queue = nil
		}
		s.queue, s.head = s.queue[:0], 0
		h.unlag(s)
	case s.head > len(s.queue)/2:
		n := copy(s.queue, s.queue[s.head:])
		clear(s.queue[n:])
		s.queue, s.head = s.queue[:n], 0
	}
}

// oldest is when the oldest message in s's queue was queued, or zero.
// Roster markers sit only between messages, so it is one of the first two.
func (s *subscriber) oldest() time.Time {
	for i := s.head; i < len(s.queue) && i < s.head+2; i++ {
		if s.queue[i].ev.Type != EventTypeRoster {
			return s.queue[i].at
		}
	}
	return time.Time{}
}

// evict takes subscribers out for falling behind (or for reason given by
// Evict) and tells the room. Their departures are presence events, which
// never push anyone over.
func (h *Hub) evict(gone []*subscriber, reason string) {
	for _, s := range gone {
		s.sub.err = fmt.Errorf("%w: %s", ErrEvicted, reason)
		h.detach(s)
		h.evicted++
	}
	for _, s := range gone {
		d := h.depart(s)
		d.Reason = "evicted: " + reason
		h.emitPresence(d)
	}
}

// offer delivers ev to a stream unless it is full.
func offer(stream chan Event, ev Event) bool {
	select {
	case stream <- ev:
		return true
	default:
		return false
	}
}

// unlag takes s out of the lagging subscribers.
func (h *Hub) unlag(s *subscriber) {
	if s.lagging < 0 {
		return
	}
	last := len(h.lagging) - 1
	h.lagging[s.lagging] = h.lagging[last]
	h.lagging[s.lagging].lagging = s.lagging
	h.lagging[last] = nil
	h.lagging = h.lagging[:last]
	s.lagging = -1
}

// detach stops delivery to s, drops its queue and closes its stream.
func (h *Hub) detach(s *subscriber) {
	last := len(h.subs) - 1
	h.subs[s.index] = h.subs[last]
	h.subs[s.index].index = s.index
	h.subs[last] = nil
	h.subs = h.subs[:last]
	delete(h.bySession, s.key)
	h.unlag(s)
	s.queue, s.head, s.behind = nil, 0, 0
	close(s.ch)
	s.wake()
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

func (h *Hub) stats() Stats {
	st := Stats{Subscribers: len(h.subs), Lagging: len(h.lagging), MaxQueued: h.maxQueued, Evicted: h.evicted}
	for _, s := range h.lagging {
		st.Queued += len(s.queue) - s.head
	}
	return st
}

// presenceLike reports whether events of type typ are about who is
// online and under what name: state, which a reader that fell behind may
// take as one roster event.
func presenceLike(typ string) bool {
	switch typ {
	case EventTypeJoin, EventTypeAdd, EventTypeRemove, EventTypeLeave, EventTypeNick, EventTypeAway, EventTypeBack:
		return true
	}
	return false
}
