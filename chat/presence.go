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

const (
	minNameLen = 2
	maxNameLen = 24
)

// validName reports whether name is 2–24 characters of A-Z a-z 0-9 _ . -
// with at least two letters or digits: the separators do not tell names
// apart (registry.Canonical).
func validName(name string) bool {
	if len(name) < minNameLen || len(name) > maxNameLen {
		return false
	}
	alnum := 0
	for _, r := range name {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			alnum++
		case r == '_', r == '.', r == '-':
		default:
			return false
		}
	}
	return alnum >= minNameLen
}

// shortID is a few characters of a key fingerprint, enough to tell two users
// with the same wanted name apart.
func shortID(userID string) string {
	id := strings.TrimPrefix(userID, "SHA256:")
	var b strings.Builder
	for _, r := range id {
		if b.Len() == 4 {
			break
		}
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// presence is who is online: the name each user goes by (bound to its key
// in the registry), its sessions and whether it is away.
type presence struct {
	reg *registry.Registry

	renames sync.Mutex // held through a rename, room and roster together

	mu     sync.Mutex
	users  map[string]*online // guarded by mu; userID → while it has a session
	sorted []*online          // guarded by mu; the users shown, in display order, kept so (never sorted again)
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
	return &presence{reg: reg, users: make(map[string]*online)}
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

// choose picks the name of a user arriving with its first session.
func (p *presence) choose(userID, wanted string) (arrival, error) {
	var a arrival
	own := p.reg.NameOf(userID)
	switch owner, taken := p.reg.Owner(wanted); {
	case !validName(wanted):
		a.notices = append(a.notices, fmt.Sprintf("%.40q is not a usable name (2-24 of A-Z a-z 0-9 _ . -, two of them letters or digits)", wanted))
	case registry.Reserved(wanted):
		a.notices = append(a.notices, fmt.Sprintf("the name %s is reserved", wanted))
	case taken && owner != userID:
		a.notices = append(a.notices, fmt.Sprintf("the name %s belongs to another key", wanted))
		a.warning = fmt.Sprintf("someone with a different key (%s…) asked for the name %s", shortID(userID), wanted)
	default:
		switch err := p.reg.Claim(userID, wanted); {
		case err == nil:
			a.name = wanted
			return a, nil
		case errors.Is(err, registry.ErrNameLimit):
			a.notices = append(a.notices, nameLimit(p.reg.NamesOf(userID)))
		case !errors.Is(err, registry.ErrTaken):
			return a, err
		}
	}
	if len(a.notices) == 0 { // another key took it a moment ago
		a.notices = append(a.notices, fmt.Sprintf("the name %s was just taken", wanted))
	}
	// The fallback: the key's own name, or a new one made from what it
	// asked for and its fingerprint.
	if own != "" {
		a.name = own
	} else {
		base := wanted
		if !validName(base) || registry.Reserved(base) {
			base = "user"
		}
		name, err := p.distinct(base, userID)
		if err != nil {
			return a, err
		}
		a.name = name
	}
	a.notices[len(a.notices)-1] += fmt.Sprintf(": you are %s; /nick NAME chooses another", a.name)
	if a.warning != "" {
		a.warning += "; they are " + a.name
	}
	return a, nil
}

// distinct claims a free name made of base and a few characters of the
// user's key: "ann-3f2a", then "ann-3f2a2", ...
func (p *presence) distinct(base, userID string) (string, error) {
	for i := 0; i < 100; i++ {
		suffix := "-" + shortID(userID)
		if i > 0 {
			suffix += fmt.Sprint(i + 1)
		}
		candidate := base[:min(len(base), maxNameLen-len(suffix))] + suffix
		err := p.reg.Claim(userID, candidate)
		if err == nil {
			return candidate, nil
		}
		if !errors.Is(err, registry.ErrTaken) && !errors.Is(err, registry.ErrReserved) {
			return "", err
		}
	}
	return "", fmt.Errorf("no free name for %s", base)
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

// release removes a session; the user goes offline with its last one.
// Releasing a session twice is harmless.
func (p *presence) release(userID string, si *sessionInfo) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.users[userID]
	if u == nil {
		return
	}
	u.sessions = slices.DeleteFunc(u.sessions, func(s *sessionInfo) bool { return s == si })
	if len(u.sessions) == 0 {
		delete(p.users, userID)
	}
	p.place(u)
}

// rename gives an online user a new name, bound to its key, and tells the
// room (its events carry the sender's name) before the roster changes:
// when the room refuses, nothing changed but the key owning one more
// name. Renames are serialized, so that two of one user's sessions
// renaming at once leave the room and the roster agreeing. When the name
// is taken but could not be saved, the error wraps errNotSaved.
func (p *presence) rename(userID, name string, room func(userID, name string) error) (old string, err error) {
	p.renames.Lock()
	defer p.renames.Unlock()
	u, old, err := p.claim(userID, name)
	if err != nil {
		return "", err
	}
	if old != name && room != nil {
		if err := room(userID, name); err != nil {
			return "", fmt.Errorf("rename: %w", err)
		}
	}
	p.mu.Lock()
	p.hide(u) // found by its old name
	u.name = name
	p.place(u)
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

// nameLimit tells a key that owns as many names as it may.
func nameLimit(owned []string) string {
	return fmt.Sprintf("your key owns %d names, the most it may (%s): use one of them, or ask an admin to /release one",
		len(owned), strings.Join(owned, ", "))
}

// releaseName frees a name for other keys, unless someone online goes by
// it, and returns its owner. It is on disk when it returns.
func (p *presence) releaseName(name string) (owner string, err error) {
	if owner, err = p.releaseMemory(name); err != nil {
		return "", err
	}
	return owner, p.reg.Sync()
}

func (p *presence) releaseMemory(name string) (string, error) {
	c := registry.Canonical(name)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.users {
		if registry.Canonical(u.name) == c {
			return "", fmt.Errorf("%s is online under that name: /kick them first", u.name)
		}
	}
	owner, err := p.reg.Release(name)
	if errors.Is(err, registry.ErrNotOwned) {
		return "", fmt.Errorf("nobody owns the name %s", name)
	}
	return owner, err
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

// snapshot copies what /who and /whois show of a user.
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
	v := userView{userID: u.userID, name: u.name, away: u.away, awayWhy: u.awayWhy, sessions: len(u.sessions), idle: 1<<63 - 1}
	for _, si := range u.sessions {
		if v.since.IsZero() || si.since.Before(v.since) {
			v.since = si.since
		}
		v.idle = min(v.idle, si.idle(now))
	}
	return v
}

func (p *presence) all(now time.Time) []userView {
	p.mu.Lock()
	users := make([]*online, 0, len(p.users))
	for _, u := range p.users {
		users = append(users, u)
	}
	p.mu.Unlock()
	views := make([]userView, len(users))
	for i, u := range users {
		views[i] = p.view(u, now)
	}
	slices.SortFunc(views, func(a, b userView) int {
		return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name))
	})
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

// members is the roster: the users with a session that counts (a
// script's say does not), in display order. The order is kept as users
// arrive, leave or are renamed, never made again from the whole room.
func (p *presence) members(n int) ([]Member, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	shown := p.shown()
	top := make([]Member, 0, min(max(n, 0), len(shown)))
	for _, u := range shown[:cap(top)] {
		top = append(top, Member{UserID: u.userID, Name: u.name, Sessions: p.counted(u), Away: u.away})
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

// shown is the users with a counted session, in display order. p.mu must
// be held.
func (p *presence) shown() []*online { return p.sorted }

// place puts u where it belongs in p.sorted: in display order while it has
// a counted session, out of the list otherwise. An arrival or departure
// costs a binary search, not a sort of the room. p.mu must be held.
func (p *presence) place(u *online) {
	if len(u.sessions) > 0 && p.counted(u) > 0 {
		if i, found := slices.BinarySearchFunc(p.sorted, u, displayOrder); !found {
			p.sorted = slices.Insert(p.sorted, i, u)
		}
		return
	}
	p.hide(u)
}

// hide takes u out of p.sorted. p.mu must be held.
func (p *presence) hide(u *online) {
	if i, found := slices.BinarySearchFunc(p.sorted, u, displayOrder); found {
		p.sorted = slices.Delete(p.sorted, i, i+1)
	}
}

// displayOrder orders users by name ignoring case, then by key.
func displayOrder(a, b *online) int {
	if c := strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name)); c != 0 {
		return c
	}
	return strings.Compare(a.userID, b.userID)
}
