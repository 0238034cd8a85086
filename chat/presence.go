package chat

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sshchat/sshchat/registry"
)

// presence is who is online: the name each user goes by (bound to its key
// in the registry), its sessions, the rooms each session is in, and
// whether it is away.
type presence struct {
	reg *registry.Registry

	// renames is held through a change that a room's hub and the rosters
	// must agree on: a rename, a session entering a room, a user put out
	// of one (kick, ban, drop).
	renames sync.Mutex

	mu      sync.Mutex
	users   map[string]*online   // guarded by mu; userID → while it has a session
	sorted  []*online            // guarded by mu; the users with a session that counts, in display order, kept so (never sorted again)
	rosters map[string][]*online // guarded by mu; room → the users with a session that counts in it, in display order
}

// online is one user while it has sessions. Fields are guarded by
// presence.mu but for ignored, which its sessions' pumps read lock-free.
type online struct {
	userID   string
	name     string
	away     bool
	awayWhy  string
	sessions []*sessionInfo
	ignored  atomic.Pointer[map[string]bool] // userIDs whose messages are hidden
}

// sessionInfo is one session, for /sessions and /detach.
type sessionInfo struct {
	sess    Session
	since   time.Time
	active  atomic.Int64 // Unix nanoseconds of the last message or command
	counted bool         // it counts as a session (a say does not)
	rooms   []string     // guarded by presence.mu: the rooms whose hubs have it, in the order joined; a room's roster lists it from then on
}

func newSessionInfo(sess Session, counted bool) *sessionInfo {
	si := &sessionInfo{sess: sess, since: time.Now(), counted: counted}
	si.touch()
	return si
}

func (si *sessionInfo) touch() { si.active.Store(time.Now().UnixNano()) }

func (si *sessionInfo) idle(now time.Time) time.Duration {
	return now.Sub(time.Unix(0, si.active.Load()))
}

func newPresence(reg *registry.Registry) *presence {
	return &presence{reg: reg, users: make(map[string]*online), rosters: make(map[string][]*online)}
}

// arrival is what acquire decided for a new session.
type arrival struct {
	user     *online
	name     string
	notices  []string // for the person
	warning  string   // for the room: a known name asked for with another key
	sessions int      // the user's sessions, this one included
}

// acquire adds a session of userID, which asked for the name wanted. A user
// already online keeps its name. Otherwise the key gets the name it asked
// for if that is free or already its own; a name another key owns (or a
// look-alike of it) is never given: the key gets its own name, or a
// distinct one, and is told why.
func (p *presence) acquire(userID, wanted string, si *sessionInfo) (arrival, error) {
	a, err := p.arrive(userID, wanted, si)
	if err != nil {
		return a, err
	}
	// The name is on disk before the session starts; written outside the
	// lock, which every screen's member list reads.
	if err := p.reg.Sync(); err != nil {
		p.release(userID, si)
		return arrival{}, err
	}
	return a, nil
}

// arrive is acquire in memory.
func (p *presence) arrive(userID, wanted string, si *sessionInfo) (arrival, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u := p.users[userID]; u != nil {
		u.sessions = append(u.sessions, si)
		p.place(u) // it may now be shown: a script's session is not
		a := arrival{user: u, name: u.name, sessions: p.counted(u)}
		if !strings.EqualFold(wanted, u.name) {
			a.notices = []string{fmt.Sprintf("you are already online as %s; this session has that name too", u.name)}
		}
		return a, nil
	}
	a, err := p.choose(userID, wanted)
	if err != nil {
		return a, err
	}
	u := &online{userID: userID, name: a.name, sessions: []*sessionInfo{si}}
	ignored := p.reg.Ignored(userID)
	u.ignored.Store(&ignored)
	p.users[userID] = u
	p.place(u)
	a.user, a.sessions = u, p.counted(u)
	return a, nil
}

// counted is how many of u's sessions count against the limit.
func (p *presence) counted(u *online) int {
	n := 0
	for _, si := range u.sessions {
		if si.counted {
			n++
		}
	}
	return n
}

// listedIn is how many of u's sessions the roster of room counts: those
// that count and are in the room. p.mu must be held.
func (p *presence) listedIn(u *online, room string) int {
	n := 0
	for _, si := range u.sessions {
		if si.counted && slices.Contains(si.rooms, room) {
			n++
		}
	}
	return n
}

// roomsOf is every room u has a session in. p.mu must be held.
func (p *presence) roomsOf(u *online) []string {
	var rooms []string
	for _, si := range u.sessions {
		for _, r := range si.rooms {
			if !slices.Contains(rooms, r) {
				rooms = append(rooms, r)
			}
		}
	}
	return rooms
}

// join marks si as in room: from now on the room's roster lists it, so
// that nobody is listed (and found by /kick, say) before the room has
// them.
func (p *presence) join(u *online, si *sessionInfo, room string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !slices.Contains(si.rooms, room) {
		si.rooms = append(si.rooms, room)
	}
	p.placeIn(u, room)
}

// part takes si out of room; it reports whether it was in it.
func (p *presence) part(u *online, si *sessionInfo, room string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := slices.Index(si.rooms, room)
	if i < 0 {
		return false
	}
	si.rooms = slices.Delete(si.rooms, i, i+1)
	p.placeIn(u, room)
	return true
}

// partUser takes every session of userID out of room.
func (p *presence) partUser(userID, room string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.users[userID]
	if u == nil {
		return
	}
	for _, si := range u.sessions {
		si.rooms = slices.DeleteFunc(si.rooms, func(r string) bool { return r == room })
	}
	p.placeIn(u, room)
}

// inRoom lists the users with a session in room.
func (p *presence) inRoom(room string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []string
	for id, u := range p.users {
		for _, si := range u.sessions {
			if slices.Contains(si.rooms, room) {
				ids = append(ids, id)
				break
			}
		}
	}
	return ids
}

// roomsOfSession is the rooms si is in, in the order joined.
func (p *presence) roomsOfSession(si *sessionInfo) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(si.rooms)
}

// isIn reports whether si is in room.
func (p *presence) isIn(si *sessionInfo, room string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Contains(si.rooms, room)
}

// count is how many users the roster of room lists.
func (p *presence) count(room string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.rosters[room])
}

// release removes a session and returns the rooms it was in; the user
// goes offline with its last one. Releasing a session twice is harmless.
func (p *presence) release(userID string, si *sessionInfo) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.users[userID]
	if u == nil || !slices.Contains(u.sessions, si) {
		return nil
	}
	rooms := si.rooms
	si.rooms = nil
	u.sessions = slices.DeleteFunc(u.sessions, func(s *sessionInfo) bool { return s == si })
	if len(u.sessions) == 0 {
		delete(p.users, userID)
	}
	p.place(u)
	for _, r := range rooms {
		p.placeIn(u, r)
	}
	return rooms
}

// rename gives an online user a new name, bound to its key, and tells the
// room (its events carry the sender's name) before the roster changes:
// when the room refuses, nothing changed but the key owning one more
// name. Renames are serialized, so that two of one user's sessions
// renaming at once leave the room and the roster agreeing. When the name
// is taken but could not be saved, the error wraps errNotSaved.
func (p *presence) rename(userID, name string, room func(userID, name string, rooms []string) error) (old string, err error) {
	p.renames.Lock()
	defer p.renames.Unlock()
	u, old, err := p.claim(userID, name)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	rooms := p.roomsOf(u)
	p.mu.Unlock()
	if old != name && room != nil {
		if err := room(userID, name, rooms); err != nil {
			return "", fmt.Errorf("rename: %w", err)
		}
	}
	p.mu.Lock()
	p.move(u, name, rooms)
	p.mu.Unlock()
	if err := p.reg.Sync(); err != nil {
		return old, fmt.Errorf("%w: %w", errNotSaved, err)
	}
	return old, nil
}

// claim binds name to an online user's key, in memory.
func (p *presence) claim(userID, name string) (u *online, old string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u = p.users[userID]
	if u == nil {
		return nil, "", errors.New("you are not online")
	}
	if owner, taken := p.reg.Owner(name); taken && owner != userID {
		return nil, "", fmt.Errorf("the name %s belongs to another key", name)
	}
	if err := p.reg.Claim(userID, name); err != nil {
		switch {
		case errors.Is(err, registry.ErrReserved):
			return nil, "", fmt.Errorf("the name %s is reserved", name)
		case errors.Is(err, registry.ErrNameLimit):
			return nil, "", errors.New(nameLimit(p.reg.NamesOf(userID)))
		}
		return nil, "", fmt.Errorf("the name %s can't be taken: %w", name, err)
	}
	return u, u.name, nil
}

// find is the online user going by name (or a look-alike of it).
func (p *presence) find(name string) (*online, bool) {
	c := registry.Canonical(name)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.users {
		if registry.Canonical(u.name) == c {
			return u, true
		}
	}
	return nil, false
}

// userView is what /who and /whois show of a user.
type userView struct {
	userID, name, awayWhy string
	away                  bool
	sessions              int
	since                 time.Time
	idle                  time.Duration
}

func (p *presence) view(u *online, now time.Time) userView {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := userView{userID: u.userID, name: u.name, away: u.away, awayWhy: u.awayWhy, sessions: p.counted(u), idle: 1<<63 - 1}
	for _, si := range u.sessions {
		if !si.counted && v.sessions > 0 { // a script's say
			continue
		}
		if v.since.IsZero() || si.since.Before(v.since) {
			v.since = si.since
		}
		v.idle = min(v.idle, si.idle(now))
	}
	return v
}

// all is what /who shows: the users of room's roster (a script's say is
// not a session), in its order, with their sessions in that room.
func (p *presence) all(room string, now time.Time) []userView {
	p.mu.Lock()
	users := slices.Clone(p.rosters[room])
	p.mu.Unlock()
	views := make([]userView, len(users))
	for i, u := range users {
		views[i] = p.view(u, now)
		p.mu.Lock()
		views[i].sessions = p.listedIn(u, room)
		p.mu.Unlock()
	}
	return views
}

// setAway marks a user away (why may be empty) or back.
func (p *presence) setAway(u *online, away bool, why string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u.away, u.awayWhy = away, why
}

func (p *presence) sessionsOf(u *online) []*sessionInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(u.sessions)
}

func (p *presence) nameOf(u *online) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return u.name
}

// members is the roster of room: the users with a session that counts
// in it (a script's say does not), in display order. The order is kept as
// users arrive, leave or are renamed, never made again from the whole
// room.
func (p *presence) members(room string, n int) ([]Member, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	shown := p.rosters[room]
	top := make([]Member, 0, min(max(n, 0), len(shown)))
	for _, u := range shown[:cap(top)] {
		top = append(top, Member{UserID: u.userID, Name: u.name, Sessions: p.listedIn(u, room), Away: u.away})
	}
	return top, len(shown)
}

// complete returns the names of the users shown, but userID, that start
// with prefix ignoring case.
func (p *presence) complete(prefix, userID string) []string {
	prefix = strings.ToLower(prefix)
	p.mu.Lock()
	defer p.mu.Unlock()
	var names []string
	for _, u := range p.shown() {
		if u.userID != userID && strings.HasPrefix(strings.ToLower(u.name), prefix) {
			names = append(names, u.name)
		}
	}
	return names
}

// shown is the users with a session that counts, in display order. p.mu
// must be held.
func (p *presence) shown() []*online { return p.sorted }

// place puts u where it belongs in p.sorted: in display order while it has
// a session that counts, out of the list otherwise. An arrival or
// departure costs a binary search, not a sort of everyone. p.mu must be
// held.
func (p *presence) place(u *online) {
	p.sorted = placed(p.sorted, u, p.counted(u) > 0)
}

// placeIn is place for the roster of room.
func (p *presence) placeIn(u *online, room string) {
	list := placed(p.rosters[room], u, p.listedIn(u, room) > 0)
	if len(list) == 0 {
		delete(p.rosters, room) // an empty room costs nothing here
		return
	}
	p.rosters[room] = list
}

// move gives u the name name, and moves it to its new place in p.sorted
// and in the rosters of rooms (the rooms it is in), where it is found by
// its old name. p.mu must be held.
func (p *presence) move(u *online, name string, rooms []string) {
	p.hide(u)
	for _, r := range rooms {
		p.hideIn(u, r)
	}
	u.name = name
	p.place(u)
	for _, r := range rooms {
		p.placeIn(u, r)
	}
}

// hide takes u out of p.sorted. p.mu must be held.
func (p *presence) hide(u *online) { p.sorted = placed(p.sorted, u, false) }

// hideIn takes u out of the roster of room. p.mu must be held.
func (p *presence) hideIn(u *online, room string) {
	if list, ok := p.rosters[room]; ok {
		p.rosters[room] = placed(list, u, false)
	}
}

// placed puts u in list, in display order, or takes it out.
func placed(list []*online, u *online, in bool) []*online {
	i, found := slices.BinarySearchFunc(list, u, displayOrder)
	switch {
	case in && !found:
		return slices.Insert(list, i, u)
	case !in && found:
		return slices.Delete(list, i, i+1)
	}
	return list
}

// displayOrder orders users by name ignoring case, then by key.
func displayOrder(a, b *online) int {
	if c := strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name)); c != 0 {
		return c
	}
	return strings.Compare(a.userID, b.userID)
}

// nameByID is what userID is called: its name online, else the name its
// key owns, else its key.
func (p *presence) nameByID(userID string) string {
	p.mu.Lock()
	u := p.users[userID]
	p.mu.Unlock()
	if u != nil {
		return p.nameOf(u)
	}
	if name := p.reg.NameOf(userID); name != "" {
		return name
	}
	return userID
}

// sessionsByID is userID's sessions, if it is online.
func (p *presence) sessionsByID(userID string) []*sessionInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u := p.users[userID]; u != nil {
		return slices.Clone(u.sessions)
	}
	return nil
}

// roomsOfUser is every room userID has a session in.
func (p *presence) roomsOfUser(userID string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u := p.users[userID]; u != nil {
		return p.roomsOf(u)
	}
	return nil
}
