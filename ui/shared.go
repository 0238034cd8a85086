package ui

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/sshchat/sshchat/hub"
)

// Shared is what the screens of one server have in common, made once for
// all of them: the paints of each colour profile, and the transcript
// entry of each event with its lines, laid out once for each width and
// look. A message to a room of a thousand screens of one width is so
// wrapped and styled once, not a thousand times, and held once: each
// screen keeps a pointer to it. What differs from reader to reader stays
// theirs: an entry that mentions its reader is their own, their name
// highlighted in it. Give the same Shared to every session (Config.Shared);
// it is safe for concurrent use. Make it with NewShared.
type Shared struct {
	mu       sync.Mutex
	palettes map[termenv.Profile]*palette
	sides    map[sideKey]*sideRows // member lists

	shards [sharedShards]entryShard

	scratch sync.Pool // of *frameScratch
	keys    keyMap    // never changed
}

// frameScratch is what a frame is laid out in.
type frameScratch struct {
	rows  []row    // the frame
	lines []line   // the transcript's window
	side  []string // the room list and the member list
}

const (
	// sharedEntries bounds the entries a Shared finds by event: enough for
	// the events on their way to the screens and the recent history of
	// the busy rooms, which a new session shows. An entry it forgot stays
	// with the screens that hold it; a screen that comes too late for it
	// makes its own.
	sharedEntries = 4096
	sharedShards  = 16
	// maxLooks bounds the layouts kept with a shared entry, one for each
	// width and look its screens show it at. A screen of yet another one
	// lays the entry out for itself.
	maxLooks = 8
	// maxSides bounds the member lists kept, one for each room, size and
	// look.
	maxSides = 1024
)

// NewShared returns an empty Shared.
func NewShared() *Shared {
	return &Shared{
		palettes: make(map[termenv.Profile]*palette),
		sides:    make(map[sideKey]*sideRows),
		scratch:  sync.Pool{New: func() any { return new(frameScratch) }},
		keys:     defaultKeyMap(),
	}
}

// keysOf returns the keys of the screens of s, or with none a keyMap of
// the screen's own.
func keysOf(s *Shared) *keyMap {
	if s == nil {
		k := defaultKeyMap()
		return &k
	}
	return &s.keys
}

// palette returns the paints of r's colour profile, made from r the
// first time.
func (s *Shared) palette(r *lipgloss.Renderer) *palette {
	profile := r.ColorProfile()
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.palettes[profile]
	if !ok {
		p = newPalette(r)
		s.palettes[profile] = p
	}
	return p
}

// entry returns the shared entry of ev as screens of st and loc show it,
// made now if there is none; nil for an event not shown. The entry is
// read-only: see entry.shared.
func (s *Shared) entry(ev hub.Event, loc *time.Location, st *styles) *entry {
	k := entryKey{room: ev.ChatRoomID, id: ev.ID, ascii: st.ascii, loc: loc}
	sh := &s.shards[uint(ev.ID)%sharedShards]
	if e := sh.find(k, ev); e != nil {
		return e
	}
	e := makeEntry(ev, loc, st)
	if e == nil {
		return nil
	}
	e.shared = &layouts{}
	sh.put(k, ev, e)
	return e
}

// entryKey is what an entry is found by: the event, and what its text
// depends on besides it.
type entryKey struct {
	room  string
	id    int
	ascii bool           // the text as a terminal without UTF-8 shows it
	loc   *time.Location // the times the text mentions
}

type entrySlot struct {
	key entryKey
	// ev is what the entry was made of: an event with the same ID but
	// other content (of another data directory, or of a test) gets an
	// entry of its own.
	ev  hub.Event
	e   *entry
	ref bool // found since the hand last passed
}

// entryShard is a part of the entries, forgotten by the clock algorithm:
// the hand passes over the slots, skipping (once) those found since it
// last passed.
type entryShard struct {
	mu    sync.Mutex
	index map[entryKey]int
	slots []entrySlot
	hand  int
}

func (sh *entryShard) find(k entryKey, ev hub.Event) *entry {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i, ok := sh.index[k]
	if !ok || sh.slots[i].ev != ev {
		return nil
	}
	sh.slots[i].ref = true
	return sh.slots[i].e
}

func (sh *entryShard) put(k entryKey, ev hub.Event, e *entry) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.index == nil {
		sh.index = make(map[entryKey]int)
	}
	if i, ok := sh.index[k]; ok {
		sh.slots[i] = entrySlot{key: k, ev: ev, e: e}
		return
	}
	if len(sh.slots) < sharedEntries/sharedShards {
		sh.index[k] = len(sh.slots)
		sh.slots = append(sh.slots, entrySlot{key: k, ev: ev, e: e})
		return
	}
	for sh.slots[sh.hand].ref {
		sh.slots[sh.hand].ref = false
		sh.hand = (sh.hand + 1) % len(sh.slots)
	}
	delete(sh.index, sh.slots[sh.hand].key)
	sh.slots[sh.hand] = entrySlot{key: k, ev: ev, e: e}
	sh.index[k] = sh.hand
	sh.hand = (sh.hand + 1) % len(sh.slots)
}

// look is everything but the entry that its lines depend on.
type look struct {
	pal   *palette
	loc   *time.Location
	width int
	ms    measure
	ascii bool
	clock bool
}

// laidOut is an entry's lines for one look.
type laidOut struct {
	look  look
	lines []line
}

// layouts are the lines of a shared entry, for each look it was laid out
// for. Reading them takes no lock: the list is replaced whole, never
// changed, and so are the lines in it.
type layouts struct {
	mu  sync.Mutex // held to add to the list
	all atomic.Pointer[[]laidOut]
}

// get returns the lines for k, or nil when there are none.
func (l *layouts) get(k look) []line {
	if all := l.all.Load(); all != nil {
		for i := range *all {
			if (*all)[i].look == k {
				return (*all)[i].lines
			}
		}
	}
	return nil
}

// add keeps the lines for k, unless there are lines for as many looks as
// are kept already.
func (l *layouts) add(k look, lines []line) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var all []laidOut
	if p := l.all.Load(); p != nil {
		all = *p
	}
	if len(all) >= maxLooks {
		return
	}
	for _, lo := range all {
		if lo.look == k {
			return
		}
	}
	next := append(append(make([]laidOut, 0, len(all)+1), all...), laidOut{k, lines})
	l.all.Store(&next)
}

// sideKey is what the rows of a member list depend on, but who is in it.
type sideKey struct {
	room          string
	width, height int
	pal           *palette
	ms            measure
	ascii         bool
}

// sideRows is a member list: the rows made of the first users of a room.
type sideRows struct {
	top   []Member
	total int
	rows  []string
}

// memberRows returns the rows of the member list of k that shows top, the
// first of total users, if another screen made them; nil if none did.
func (s *Shared) memberRows(k sideKey, top []Member, total int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sr := s.sides[k]; sr != nil && sr.total == total && slices.Equal(sr.top, top) {
		return sr.rows
	}
	return nil
}

// keepMemberRows keeps rows, the member list of k that shows top, the
// first of total users, for the other screens; they must never change.
func (s *Shared) keepMemberRows(k sideKey, top []Member, total int, rows []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sides[k]; !ok && len(s.sides) >= maxSides {
		for old := range s.sides { // any one
			delete(s.sides, old)
			break
		}
	}
	s.sides[k] = &sideRows{top: slices.Clone(top), total: total, rows: rows}
}
