package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// The kinds of entry a Change carries, and what its Key and Value are.
const (
	KindUser    = "user"    // Key: userID; Value: its names (see userEntry)
	KindBan     = "ban"     // Key: userID; Value: a Restriction
	KindMute    = "mute"    // Key: userID; Value: a Restriction
	KindMotd    = "motd"    // Key: ""; Value: a JSON string
	KindRoom    = "room"    // Key: RoomKey of the room's ID; Value: a Room
	KindIgnores = "ignores" // Key: userID; Value: the userIDs it ignores, a JSON array
)

// ErrBadChange is returned by Apply for a change it refuses.
var ErrBadChange = errors.New("registry: bad change")

// Bounds of what Apply accepts, beyond the registry's own (MaxNames,
// MaxIgnores, a room's lists): generous, for values no node would make.
const (
	maxIDBytes   = 256      // a userID; fingerprints are about 50
	maxNameBytes = 64       // a name; the chat's are at most 24
	maxRoomBytes = 64       // a room's ID; the chat's are at most 32
	maxTextBytes = 64 << 10 // the message of the day, a reason; the chat's are its message limit
)

// Change is one entry of the registry, for another node: what a local
// change made it (OnChange), or what another node's change made it
// (Apply). Its Value is the whole entry, not a difference: the last
// Change of a key is the entry.
type Change struct {
	Kind  string          // one of the Kind constants
	Key   string          // userID, RoomKey, "" for the motd
	Value json.RawMessage // the entry as JSON; nil: the entry is gone
}

// userEntry is the Value of a KindUser change: the names a key owns, the
// one it goes by, and when it claimed each. The times decide a name that
// two nodes let two keys claim at once (see beats); Since is never
// changed in place, so that an entry taken under the lock stays as it is.
type userEntry struct {
	Name  string           `json:"name"`            // the name it goes by, one of Owned
	Owned []string         `json:"owned"`           // as written, in the order claimed
	Since map[string]int64 `json:"since,omitempty"` // Canonical(name) → Unix nanoseconds
}

// ref names an entry.
type ref struct{ kind, key string }

// replica is the part of the Registry that other nodes share.
type replica struct {
	onChange  func(Change) // guarded by Registry.mu
	pending   []ref        // guarded by Registry.mu; entries changed, not yet handed to onChange
	notifying sync.Mutex   // held while changes are handed to onChange: one batch at a time, in order

	dirtyIgnores map[string]bool // guarded by Registry.mu; lists set by Apply, not yet written
	flushDone    chan struct{}   // guarded by Registry.mu; closed when the running flush ends; nil: none runs
	flushErr     error           // guarded by Registry.mu; the first failed write of a flush, for Sync
}

// OnChange has fn called after each local change, once for each entry it
// changed (releasing a name changes its owner's KindUser entry), with the
// entry as it is when fn is called. Calls come one at a time, in the
// order of the changes, outside the registry's lock, before the change
// is on disk, from the goroutine that made the change (or one making
// another change at the same time). fn must be quick and must not change
// the registry; it may read it. Changes made by Apply are not passed to
// fn. A later call replaces fn; nil stops the calls.
func (r *Registry) OnChange(fn func(Change)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onChange = fn
	r.pending = nil
}

// touch records that an entry changed, for OnChange. mu must be held.
func (r *Registry) touch(kind, key string) {
	if r.onChange == nil {
		return
	}
	if x := (ref{kind, key}); !slices.Contains(r.pending, x) {
		r.pending = append(r.pending, x)
	}
}

// notify hands the entries changed so far to onChange, as they are now.
// Called after a change that touched an entry, outside mu: it returns once
// that change has been handed on, by this goroutine or another.
func (r *Registry) notify() {
	r.notifying.Lock()
	defer r.notifying.Unlock()
	r.mu.Lock()
	refs, fn := r.pending, r.onChange
	r.pending = nil
	values := make([]any, len(refs))
	for i, x := range refs {
		values[i] = r.entry(x)
	}
	r.mu.Unlock()
	if fn == nil {
		return
	}
	for i, x := range refs {
		fn(change(x, values[i]))
	}
}

// change makes the Change of an entry from its value (nil: gone).
func change(x ref, v any) Change {
	c := Change{Kind: x.kind, Key: x.key}
	if v != nil {
		// The values are maps, slices and structs of strings and numbers:
		// they always encode.
		c.Value, _ = json.Marshal(v)
	}
	return c
}

// entry is the value of an entry, or nil when it is gone. Its maps and
// slices are shared, never changed in place: it may be encoded after mu
// is released. mu must be held.
func (r *Registry) entry(x ref) any {
	switch x.kind {
	case KindUser:
		if len(r.st.Owned[x.key]) == 0 {
			return nil
		}
		return userEntry{Name: r.st.Names[x.key], Owned: r.st.Owned[x.key], Since: r.st.Since[x.key]}
	case KindBan, KindMute:
		if res, ok := r.restrictions(x.kind)[x.key]; ok {
			return res
		}
	case KindMotd:
		if r.st.Motd != "" {
			return r.st.Motd
		}
	case KindRoom:
		if rm, ok := r.rooms[x.key]; ok {
			return rm
		}
	case KindIgnores:
		if list := r.ignores[x.key]; len(list) > 0 {
			return list
		}
	}
	return nil
}

// Entry is the entry of kind and key as it is now (Value nil: there is
// none): what another node should have of it.
func (r *Registry) Entry(kind, key string) Change {
	x := ref{kind, key}
	r.mu.Lock()
	v := r.entry(x)
	r.mu.Unlock()
	return change(x, v)
}

// Entries is every entry of the registry, by kind and key: what another
// node needs to be this one.
func (r *Registry) Entries() []Change {
	r.mu.Lock()
	var refs []ref
	add := func(kind string, keys []string) {
		for _, k := range keys {
			refs = append(refs, ref{kind, k})
		}
	}
	add(KindUser, slices.Sorted(maps.Keys(r.st.Owned)))
	add(KindBan, slices.Sorted(maps.Keys(r.st.Bans)))
	add(KindMute, slices.Sorted(maps.Keys(r.st.Mutes)))
	if r.st.Motd != "" {
		add(KindMotd, []string{""})
	}
	add(KindRoom, slices.Sorted(maps.Keys(r.rooms)))
	add(KindIgnores, slices.Sorted(maps.Keys(r.ignores)))
	values := make([]any, len(refs))
	for i, x := range refs {
		values[i] = r.entry(x)
	}
	r.mu.Unlock()
	out := make([]Change, 0, len(refs))
	for i, x := range refs {
		if values[i] != nil {
			out = append(out, change(x, values[i]))
		}
	}
	return out
}

// Apply sets an entry as another node's change made it: the whole entry,
// whatever was here. A value that no node would make (not the JSON of its
// kind, over a bound of the registry, a name reserved or claimed twice, a
// room under another key) is an error wrapping ErrBadChange, and changes
// nothing. The files are written as after a local change, by a goroutine
// of the registry's that ends when they are; Sync waits for it. OnChange
// is not called.
//
// A name that two nodes let two keys claim at once stays with the earlier
// claim, or of two at the same time with the key first in order of
// fingerprints, whatever the order the claims are applied in: every node
// decides alike. The other key keeps its claim, hidden (NameOf, NamesOf
// and Owner do not show it), and gets the name if the owner releases it.
func (r *Registry) Apply(c Change) error {
	set, err := r.decode(c)
	if err != nil {
		return fmt.Errorf("apply %s %.80q: %w", c.Kind, c.Key, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	set()
	if r.main.path != "" && r.flushDone == nil {
		r.flushDone = make(chan struct{})
		go r.flush(r.flushDone)
	}
	return nil
}

// decode checks a change and returns what sets it, under mu.
func (r *Registry) decode(c Change) (set func(), err error) {
	gone := len(c.Value) == 0 || string(bytes.TrimSpace(c.Value)) == "null"
	value := func(v any) error {
		if gone {
			return nil
		}
		if err := json.Unmarshal(c.Value, v); err != nil {
			return fmt.Errorf("%w: %v", ErrBadChange, err)
		}
		return nil
	}
	switch c.Kind {
	case KindUser:
		var e userEntry
		if err := errors.Join(checkID(c.Key), value(&e)); err != nil {
			return nil, err
		}
		if !gone {
			if err := e.check(); err != nil {
				return nil, err
			}
		}
		return func() { r.setUser(c.Key, e); r.main.version++ }, nil
	case KindBan, KindMute:
		var res Restriction
		if err := errors.Join(checkID(c.Key), value(&res)); err != nil {
			return nil, err
		}
		if res.Until < 0 || res.At < 0 || len(res.By) > maxIDBytes || len(res.Reason) > maxTextBytes {
			return nil, fmt.Errorf("%w: a restriction out of bounds", ErrBadChange)
		}
		return func() {
			if m := r.restrictions(c.Kind); gone {
				delete(m, c.Key)
			} else {
				m[c.Key] = res
			}
			r.main.version++
		}, nil
	case KindMotd:
		var text string
		if err := value(&text); err != nil {
			return nil, err
		}
		if c.Key != "" || len(text) > maxTextBytes || !utf8.ValidString(text) {
			return nil, fmt.Errorf("%w: a message of the day has no key and at most %d bytes of UTF-8", ErrBadChange, maxTextBytes)
		}
		return func() { r.st.Motd = text; r.main.version++ }, nil
	case KindRoom:
		var rm Room
		if err := value(&rm); err != nil {
			return nil, err
		}
		if c.Key == "" || len(c.Key) > maxRoomBytes {
			return nil, fmt.Errorf("%w: a room's key is 1-%d bytes", ErrBadChange, maxRoomBytes)
		}
		if !gone {
			if rm.ID == "" || len(rm.ID) > maxRoomBytes || RoomKey(rm.ID) != c.Key {
				return nil, fmt.Errorf("%w: room %.80q under the key %.80q", ErrBadChange, rm.ID, c.Key)
			}
			if err := rm.check(time.Now()); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrBadChange, err)
			}
		}
		return func() {
			if gone {
				delete(r.rooms, c.Key)
			} else {
				r.rooms[c.Key] = rm
			}
			r.roomsF.version++
		}, nil
	case KindIgnores:
		var list []string
		if err := errors.Join(checkID(c.Key), value(&list)); err != nil {
			return nil, err
		}
		if len(list) > MaxIgnores {
			return nil, fmt.Errorf("%w: %d ignored, at most %d", ErrBadChange, len(list), MaxIgnores)
		}
		seen := make(map[string]bool, len(list))
		for _, id := range list {
			if err := checkID(id); err != nil || seen[id] {
				return nil, fmt.Errorf("%w: the ignored %.80q", ErrBadChange, id)
			}
			seen[id] = true
		}
		return func() {
			if len(list) == 0 {
				delete(r.ignores, c.Key)
			} else {
				r.ignores[c.Key] = slices.Clip(list)
			}
			if r.ignoresDir == "" {
				return
			}
			if r.dirtyIgnores == nil {
				r.dirtyIgnores = map[string]bool{}
			}
			r.dirtyIgnores[c.Key] = true
		}, nil
	}
	return nil, fmt.Errorf("%w: unknown kind", ErrBadChange)
}

// checkID checks a userID: 1 to maxIDBytes of UTF-8 without controls.
func checkID(id string) error {
	if id == "" || len(id) > maxIDBytes || !utf8.ValidString(id) || strings.IndexFunc(id, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: the user %.80q", ErrBadChange, id)
	}
	return nil
}

// check checks a user's names as Claim would have made them.
func (e userEntry) check() error {
	if len(e.Owned) == 0 || len(e.Owned) > MaxNames {
		return fmt.Errorf("%w: %d names, 1 to %d", ErrBadChange, len(e.Owned), MaxNames)
	}
	seen := make(map[string]bool, len(e.Owned))
	for _, name := range e.Owned {
		c := Canonical(name)
		if name == "" || len(name) > maxNameBytes || !utf8.ValidString(name) ||
			strings.IndexFunc(name, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0 {
			return fmt.Errorf("%w: the name %.80q", ErrBadChange, name)
		}
		if Reserved(name) || seen[c] {
			return fmt.Errorf("%w: the name %.80q is reserved or owned twice", ErrBadChange, name)
		}
		seen[c] = true
	}
	if !slices.Contains(e.Owned, e.Name) {
		return fmt.Errorf("%w: goes by %.80q, not one of its names", ErrBadChange, e.Name)
	}
	for c, t := range e.Since {
		if !seen[c] || t < 0 {
			return fmt.Errorf("%w: a claim time for %.80q", ErrBadChange, c)
		}
	}
	return nil
}

// setUser makes id's names e's (none: e is zero), and gives each name
// claimed by several keys to the claim that beats the others. mu must be
// held.
func (r *Registry) setUser(id string, e userEntry) {
	for _, name := range r.st.Owned[id] {
		r.dropClaim(id, Canonical(name))
	}
	r.setOwned(id, nil)
	if len(e.Owned) == 0 {
		return
	}
	r.st.Owned[id], r.st.Names[id] = slices.Clip(e.Owned), e.Name
	if len(e.Since) > 0 {
		r.st.Since[id] = e.Since
	}
	for _, name := range e.Owned {
		r.addClaim(id, Canonical(name))
	}
}

// flush writes what Apply changed, until nothing is left to write; it
// closes done when it ends.
func (r *Registry) flush(done chan struct{}) {
	defer close(done)
	var mainV, roomsV uint64
	for {
		r.mu.Lock()
		ids := r.dirtyIgnores
		r.dirtyIgnores = nil
		if r.main.version == mainV && r.roomsF.version == roomsV && len(ids) == 0 {
			r.flushDone = nil
			r.mu.Unlock()
			return
		}
		mainV, roomsV = r.main.version, r.roomsF.version
		r.mu.Unlock()
		errs := []error{r.commit(&r.main, mainV), r.commit(&r.roomsF, roomsV)}
		for _, id := range slices.Sorted(maps.Keys(ids)) {
			errs = append(errs, r.saveIgnores(id))
		}
		if err := errors.Join(errs...); err != nil {
			r.mu.Lock()
			if r.flushErr == nil {
				r.flushErr = err
			}
			r.mu.Unlock()
		}
	}
}
