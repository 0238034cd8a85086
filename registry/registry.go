// Package registry keeps what the server knows about users between
// restarts: which key owns which names, whom each user ignores, bans,
// mutes and the message of the day, and the rooms (owner, operators,
// topic, modes, invitations, a room's bans and mutes). It is a JSON file,
// rewritten atomically after a change, with the changes made during a
// write going together in the next; beside it the rooms' file
// (registry-rooms.json: no room name is ever a path), and a directory
// with a file for each user's ignore list, so that no write costs the
// size of everyone's lists. Several nodes share it entry by entry
// (OnChange, Apply, Entries: replica.go). It knows nothing of SSH,
// terminals or networks; users are their key fingerprints.
package registry

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Errors returned by the registry; test them with errors.Is.
var (
	ErrTaken       = errors.New("registry: name taken")
	ErrReserved    = errors.New("registry: name reserved")
	ErrCorrupt     = errors.New("registry: unreadable file")
	ErrNameLimit   = errors.New("registry: too many names for one key")
	ErrNotOwned    = errors.New("registry: nobody owns the name")
	ErrIgnoreLimit = errors.New("registry: ignore list full")
	ErrUnknownUser = errors.New("registry: unknown user")
)

const (
	// MaxNames is how many names one key may own: a key keeps every name
	// it has used, so that nobody else can pass for it later.
	MaxNames = 5
	// MaxIgnores is how many users one user may ignore.
	MaxIgnores = 1000
)

// Restriction is a ban or a mute of one user.
type Restriction struct {
	Until  int64  `json:"until,omitempty"` // Unix seconds; 0 for never
	Reason string `json:"reason,omitempty"`
	By     string `json:"by"` // the admin's fingerprint
	At     int64  `json:"at"`
}

// Active reports whether the restriction still holds at now.
func (r Restriction) Active(now time.Time) bool { return r.Until == 0 || now.Unix() < r.Until }

// state is the main file. Its slices are never changed in place, so that
// a shallow copy of it is a snapshot.
type state struct {
	Names map[string]string      `json:"names"` // userID → the name it goes by, as it is written
	Owned map[string][]string    `json:"owned"` // userID → every name it owns, as written; Names' among them (see beats)
	Bans  map[string]Restriction `json:"bans"`  // userID → ban
	Mutes map[string]Restriction `json:"mutes"` // userID → mute
	Motd  string                 `json:"motd,omitempty"`

	// Since is when each name was claimed: userID → Canonical(name) →
	// Unix nanoseconds. Two nodes may each let a key claim one name; the
	// earlier claim keeps it (see beats). A name claimed before the times
	// were kept has none, and counts as claimed at 0.
	Since map[string]map[string]int64 `json:"since,omitempty"`

	// Owners is written for an older server, which reads only this and
	// Names; this one makes its owners from Owned.
	Owners map[string]string `json:"owners"`
	// Ignores is read from files written before the ignore lists had
	// their own files, and moved there.
	Ignores map[string][]string `json:"ignores,omitempty"`
}

// file is one of the registry's files and what is known of its writes.
type file struct {
	path    string
	version uint64 // guarded by Registry.mu; counts the changes

	interval  time.Duration // minWriteInterval; 0 in benchmarks: no spacing at all
	saving    sync.Mutex    // held by the one goroutine writing the file
	saved     uint64        // guarded by saving; the version on disk
	lastWrite time.Time     // guarded by saving
	encoding  time.Duration // guarded by saving; what the last write's encoding cost
	writes    int           // guarded by saving; how many times the file was written
}

// Registry is the persistent state. Its methods are safe for concurrent
// use; none holds its lock while it encodes or writes a file.
type Registry struct {
	mu        sync.Mutex
	st        state               // guarded by mu
	owners    map[string]string   // guarded by mu; canonical name → userID, made from st.Owned
	contested map[string][]string // guarded by mu; canonical name → the other keys that claimed it (see addClaim)
	ignores   map[string][]string // guarded by mu; userID → the userIDs it ignores; slices never changed in place

	main   file                      // st
	rooms  map[string]Room           // guarded by mu; RoomKey(id) → the room; values never changed in place
	roomsF file                      // rooms
	encode func(any) ([]byte, error) // json.MarshalIndent, but in tests

	ignoresDir   string     // a file per user: its ignore list; "" in memory
	ignoreSaving sync.Mutex // held while an ignore list is written
	ignoreWrites int        // guarded by ignoreSaving

	replica // OnChange and Apply: see replica.go
}

// minWriteInterval spaces the writes of a file: a change made within it
// of the last write waits for the rest of it, and goes with the others
// made meanwhile. Every write is of the whole file, so without it a
// storm of new users would cost a write of every name for each of them.
const minWriteInterval = 25 * time.Millisecond

// Writes are spaced further as the file grows: by encodeShare times what
// encoding it last cost, so that a storm of new users spends at most about
// a tenth of a core re-encoding the registry, and by at most maxWriteWait,
// which a new user may wait for its name to be on disk.
const (
	encodeShare  = 10
	maxWriteWait = time.Second
)

// Open loads the registry at path, with the ignore lists beside it
// (registry.json, registry-ignores/), or starts an empty one there. With
// an empty path it is kept in memory only. A registry file that cannot be
// read is an error wrapping ErrCorrupt that names the backup (see
// BackupSuffix); MoveAside clears the way for an empty registry.
func Open(path string) (*Registry, error) {
	r := &Registry{main: file{path: path, interval: minWriteInterval}, ignores: map[string][]string{},
		roomsF: file{interval: minWriteInterval},
		encode: func(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }}
	if path != "" {
		r.ignoresDir = strings.TrimSuffix(path, ".json") + "-ignores"
		r.roomsF.path = strings.TrimSuffix(path, ".json") + "-rooms.json"
	}
	if err := load(path, &r.st); err != nil {
		return nil, err
	}
	if err := r.readRooms(); err != nil {
		return nil, err
	}
	legacy := r.st.Ignores
	r.st.Ignores, r.st.Owners = nil, nil
	if err := r.readIgnores(); err != nil {
		return nil, err
	}
	if r.st.Names == nil {
		r.st.Names = map[string]string{}
	}
	if r.st.Owned == nil {
		r.st.Owned = map[string][]string{}
	}
	if r.st.Bans == nil {
		r.st.Bans = map[string]Restriction{}
	}
	if r.st.Mutes == nil {
		r.st.Mutes = map[string]Restriction{}
	}
	if r.st.Since == nil {
		r.st.Since = map[string]map[string]int64{}
	}
	r.index()
	if len(r.ignores) == 0 { // a file of an older server: the lists move out
		for id, list := range legacy {
			r.ignores[id] = list[:min(len(list), MaxIgnores):min(len(list), MaxIgnores)]
			if err := r.saveIgnores(id); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

// readIgnores loads the ignore lists, one file a user named after it.
func (r *Registry) readIgnores() error {
	if r.ignoresDir == "" {
		return nil
	}
	entries, err := os.ReadDir(r.ignoresDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("open registry: %w", err)
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		id, err := base64.RawURLEncoding.DecodeString(name)
		if !ok || err != nil || strings.HasPrefix(e.Name(), ".") {
			continue // not a list: a write's temporary file
		}
		var list []string
		if err := readJSON(filepath.Join(r.ignoresDir, e.Name()), &list); err != nil {
			return err
		}
		if len(list) > 0 {
			r.ignores[string(id)] = list
		}
	}
	return nil
}

// saveIgnores writes userID's ignore list to its own file, as it is when
// the write starts: its cost is that list's, whatever the others hold.
func (r *Registry) saveIgnores(userID string) error {
	if r.ignoresDir == "" {
		return nil
	}
	r.ignoreSaving.Lock()
	defer r.ignoreSaving.Unlock()
	r.mu.Lock()
	list := r.ignores[userID]
	r.mu.Unlock()
	path := filepath.Join(r.ignoresDir, base64.RawURLEncoding.EncodeToString([]byte(userID))+".json")
	r.ignoreWrites++
	if len(list) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("save registry: %w", err)
		}
		return nil
	}
	data, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("save registry: %w", err)
	}
	return write(path, data)
}

// index makes the owners of the names from what each key owns. A file of
// an older server lists only each key's current name; a key's names that
// the look-alike rule now makes one are kept once; and a name that the
// rule makes one with another key's goes to the earlier claim, or, with
// no times, to the key first in order of fingerprints (see beats).
func (r *Registry) index() {
	for id, name := range r.st.Names {
		if !slices.Contains(r.st.Owned[id], name) {
			r.st.Owned[id] = append(slices.Clip(r.st.Owned[id]), name)
		}
	}
	r.owners, r.contested = map[string]string{}, map[string][]string{}
	for _, id := range slices.Sorted(maps.Keys(r.st.Owned)) {
		seen := map[string]bool{}
		kept := r.st.Owned[id][:0:0]
		for _, name := range r.st.Owned[id] {
			c := Canonical(name)
			if seen[c] {
				continue
			}
			seen[c] = true
			kept = append(kept, name)
			r.addClaim(id, c)
		}
		r.setOwned(id, kept)
	}
}

// beats reports whether a's claim on the name c wins over b's: the
// earlier claim, and of two at the same time (or without times: from
// files written before them) the key first in order of fingerprints.
// Every node decides alike, whatever the order it learns the claims in.
// mu must be held.
func (r *Registry) beats(a, b, c string) bool {
	ta, tb := r.st.Since[a][c], r.st.Since[b][c]
	if ta != tb {
		return ta < tb
	}
	return a < b
}

// addClaim adds id's claim on the name c to the owners, or to the keys
// that lost it: only a race between nodes makes two keys claim one name,
// and the loser keeps its claim, hidden, in case the owner releases the
// name. Every node then has the same claims, and so the same owners,
// whatever the order it learnt them in. mu must be held.
func (r *Registry) addClaim(id, c string) {
	switch owner, ok := r.owners[c]; {
	case !ok:
		r.owners[c] = id
	case owner == id || slices.Contains(r.contested[c], id):
	case r.beats(id, owner, c):
		r.owners[c] = id
		r.contested[c] = append(slices.Clip(r.contested[c]), owner)
	default:
		r.contested[c] = append(slices.Clip(r.contested[c]), id)
	}
}

// dropClaim removes id's claim on the name c; when id owned it, the best
// of the other claims, if any, gets it. mu must be held.
func (r *Registry) dropClaim(id, c string) {
	if r.owners[c] != id {
		if rest := slices.DeleteFunc(slices.Clone(r.contested[c]), func(o string) bool { return o == id }); len(rest) > 0 {
			r.contested[c] = rest
		} else {
			delete(r.contested, c)
		}
		return
	}
	delete(r.owners, c)
	rest := r.contested[c]
	delete(r.contested, c)
	for _, o := range rest {
		r.addClaim(o, c)
	}
}

// owns reports whether id owns the name, not only claimed it. mu must be
// held.
func (r *Registry) owns(id, name string) bool {
	return len(r.contested) == 0 || r.owners[Canonical(name)] == id
}

// setOwned records the names id owns; the name it goes by stays one of
// them (the last it took, when its own is gone). mu must be held.
func (r *Registry) setOwned(id string, names []string) {
	if len(names) == 0 {
		delete(r.st.Owned, id)
		delete(r.st.Names, id)
		delete(r.st.Since, id)
		return
	}
	r.st.Owned[id] = names
	if !slices.Contains(names, r.st.Names[id]) {
		r.st.Names[id] = names[len(names)-1]
	}
}

// reserved names can't be taken: they would pass for the server.
var reserved = []string{"admin", "administrator", "root", "system", "server", "sshchat",
	"moderator", "mod", "operator", "op", "staff", "help", "support", "everyone", "all", "here", "nobody"}

// lookAlikes folds what reads alike into one letter: case, the digits
// that pass for letters (0/o, 1/l/i, 3/e, 4/a, 5/s, 7/t) and the
// separators, which are dropped (wat.cher, wat_cher and watcher are one).
var lookAlikes = strings.NewReplacer(
	"0", "o", "1", "l", "i", "l", "3", "e", "4", "a", "5", "s", "7", "t",
	".", "", "-", "", "_", "",
)

// Canonical is the form in which two names are the same: see lookAlikes.
func Canonical(name string) string {
	return lookAlikes.Replace(strings.ToLower(name))
}

// Reserved reports whether name is kept for the server.
func Reserved(name string) bool {
	c := Canonical(name)
	return slices.ContainsFunc(reserved, func(r string) bool { return Canonical(r) == c })
}

// NameOf is the name userID goes by, or "". When another node's key won
// that name (see beats), it is the last other name userID owns.
func (r *Registry) NameOf(userID string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if name := r.st.Names[userID]; r.owns(userID, name) {
		return name
	}
	owned := r.st.Owned[userID]
	for i := len(owned) - 1; i >= 0; i-- {
		if r.owns(userID, owned[i]) {
			return owned[i]
		}
	}
	return ""
}

// NamesOf is every name userID owns.
func (r *Registry) NamesOf(userID string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(r.st.Owned[userID]), func(n string) bool { return !r.owns(userID, n) })
}

// Owner is the user owning name (or a look-alike of it), if any.
func (r *Registry) Owner(name string) (userID string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	userID, ok = r.owners[Canonical(name)]
	return userID, ok
}

// UserByName finds a user by a name it owns, or by its fingerprint.
func (r *Registry) UserByName(nameOrID string) (userID string, ok bool) {
	if strings.HasPrefix(nameOrID, "SHA256:") {
		return nameOrID, true
	}
	return r.Owner(nameOrID)
}

// Claim makes name the one userID goes by. The first key to use a name
// owns it, and keeps it when it goes by another, until Release: a key
// may own MaxNames names (ErrNameLimit past them). It fails with
// ErrTaken when another key owns the name or a look-alike, and with
// ErrReserved for the server's names.
//
// Unlike the other changes, a claim is only in memory when Claim returns:
// Sync puts it on disk. A caller holding a lock of its own (the server's
// list of who is online) claims under it and syncs after releasing it.
func (r *Registry) Claim(userID, name string) error {
	if Reserved(name) {
		return fmt.Errorf("%w: %s", ErrReserved, name)
	}
	c := Canonical(name)
	_, err := r.change(&r.main, func() (bool, error) {
		owned := r.st.Owned[userID]
		switch owner, ok := r.owners[c]; {
		case ok && owner != userID:
			return false, fmt.Errorf("%w: %s", ErrTaken, name)
		case ok && r.st.Names[userID] == name:
			return false, nil
		case ok: // one of its names, perhaps written another way
			i := slices.IndexFunc(owned, func(n string) bool { return Canonical(n) == c })
			owned = slices.Concat(owned[:i], []string{name}, owned[i+1:])
		case len(owned) >= MaxNames:
			return false, fmt.Errorf("%w: a key may own %d names (%s)", ErrNameLimit, MaxNames, strings.Join(owned, ", "))
		default:
			owned = append(slices.Clip(owned), name)
			r.owners[c] = userID
			since := maps.Clone(r.st.Since[userID]) // never changed in place: see entry
			if since == nil {
				since = map[string]int64{}
			}
			since[c] = time.Now().UnixNano()
			r.st.Since[userID] = since
		}
		r.st.Owned[userID] = owned
		r.st.Names[userID] = name
		r.touch(KindUser, userID)
		return true, nil
	})
	return err
}

// Release gives up name (or its look-alike) for whichever key owns it,
// and returns that key; ErrNotOwned when none does. The key goes by
// another of its names, if it has one. Like a claim, a release is on disk
// after Sync.
func (r *Registry) Release(name string) (userID string, err error) {
	c := Canonical(name)
	_, err = r.change(&r.main, func() (bool, error) {
		owner, ok := r.owners[c]
		if !ok {
			return false, fmt.Errorf("%w: %s", ErrNotOwned, name)
		}
		if since := r.st.Since[owner]; since != nil {
			since = maps.Clone(since)
			delete(since, c)
			r.st.Since[owner] = since
		}
		r.setOwned(owner, slices.DeleteFunc(slices.Clone(r.st.Owned[owner]), func(n string) bool { return Canonical(n) == c }))
		r.dropClaim(owner, c) // a key that lost the name to owner on another node gets it
		r.touch(KindUser, owner)
		userID = owner
		return true, nil
	})
	return userID, err
}

// Sync returns once every change made so far is on disk: the claims and
// releases, and every entry set by Apply. It returns the error of a write
// that Apply scheduled, if one failed since the last Sync.
func (r *Registry) Sync() error {
	r.mu.Lock()
	v, done := r.main.version, r.flushDone
	r.mu.Unlock()
	if done != nil {
		<-done
	}
	r.mu.Lock()
	ferr := r.flushErr
	r.flushErr = nil
	r.mu.Unlock()
	return errors.Join(ferr, r.commit(&r.main, v))
}

// Ignore adds target to the users userID does not want to hear. Target
// must be a user the server has seen (ErrUnknownUser), and a list holds
// at most MaxIgnores (ErrIgnoreLimit).
func (r *Registry) Ignore(userID, target string) error {
	return r.updateIgnores(userID, func() (bool, error) {
		list := r.ignores[userID]
		switch {
		case slices.Contains(list, target):
			return false, nil
		case len(r.st.Owned[target]) == 0:
			return false, fmt.Errorf("%w: %.80s", ErrUnknownUser, target)
		case len(list) >= MaxIgnores:
			return false, fmt.Errorf("%w: at most %d users", ErrIgnoreLimit, MaxIgnores)
		}
		r.ignores[userID] = append(slices.Clip(list), target)
		r.touch(KindIgnores, userID)
		return true, nil
	})
}

// Unignore removes target from userID's ignore list; it reports whether
// target was on it.
func (r *Registry) Unignore(userID, target string) (bool, error) {
	found := false
	err := r.updateIgnores(userID, func() (bool, error) {
		list := r.ignores[userID]
		i := slices.Index(list, target)
		if i < 0 {
			return false, nil
		}
		if len(list) == 1 {
			delete(r.ignores, userID)
		} else {
			r.ignores[userID] = slices.Concat(list[:i], list[i+1:])
		}
		r.touch(KindIgnores, userID)
		found = true
		return true, nil
	})
	return found, err
}

// Ignored is the set of users userID ignores.
func (r *Registry) Ignored(userID string) map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	set := make(map[string]bool, len(r.ignores[userID]))
	for _, id := range r.ignores[userID] {
		set[id] = true
	}
	return set
}

// Ban bans userID; Banned tells whether a ban holds.
func (r *Registry) Ban(userID string, b Restriction) error {
	return r.restrict(KindBan, userID, b)
}

// Unban lifts a ban; it reports whether there was one.
func (r *Registry) Unban(userID string) (bool, error) { return r.lift(KindBan, userID) }

// Banned returns the ban holding on userID at now, if any.
func (r *Registry) Banned(userID string, now time.Time) (Restriction, bool) {
	return r.active(r.st.Bans, userID, now)
}

// Bans lists the bans holding at now, by userID.
func (r *Registry) Bans(now time.Time) map[string]Restriction {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]Restriction{}
	for id, b := range r.st.Bans {
		if b.Active(now) {
			out[id] = b
		}
	}
	return out
}

// Mute mutes userID; Muted tells whether a mute holds.
func (r *Registry) Mute(userID string, m Restriction) error {
	return r.restrict(KindMute, userID, m)
}

// Muted returns the mute holding on userID at now, if any.
func (r *Registry) Muted(userID string, now time.Time) (Restriction, bool) {
	return r.active(r.st.Mutes, userID, now)
}

// Unmute lifts a mute; it reports whether there was one.
func (r *Registry) Unmute(userID string) (bool, error) { return r.lift(KindMute, userID) }

// Motd is the message of the day, shown on connect.
func (r *Registry) Motd() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st.Motd
}

// SetMotd sets the message of the day; "" clears it.
func (r *Registry) SetMotd(text string) error {
	return r.update(&r.main, func() (bool, error) {
		r.st.Motd = text
		r.touch(KindMotd, "")
		return true, nil
	})
}

// restrictions is the map of bans (KindBan) or mutes (KindMute). mu must
// be held.
func (r *Registry) restrictions(kind string) map[string]Restriction {
	if kind == KindBan {
		return r.st.Bans
	}
	return r.st.Mutes
}

func (r *Registry) restrict(kind, userID string, x Restriction) error {
	return r.update(&r.main, func() (bool, error) {
		r.restrictions(kind)[userID] = x
		r.touch(kind, userID)
		return true, nil
	})
}

func (r *Registry) lift(kind, userID string) (bool, error) {
	found := false
	err := r.update(&r.main, func() (bool, error) {
		m := r.restrictions(kind)
		if _, ok := m[userID]; !ok {
			return false, nil
		}
		delete(m, userID)
		r.touch(kind, userID)
		found = true
		return true, nil
	})
	return found, err
}

// update makes a change to f and, if there was one, returns once it is
// on disk.
func (r *Registry) update(f *file, apply func() (changed bool, err error)) error {
	v, err := r.change(f, apply)
	if v == 0 || err != nil {
		return err
	}
	return r.commit(f, v)
}

// updateIgnores makes a change to userID's ignore list and, if there was
// one, returns once the list is on disk.
func (r *Registry) updateIgnores(userID string, apply func() (changed bool, err error)) error {
	r.mu.Lock()
	changed, err := apply()
	touched := len(r.pending) > 0
	r.mu.Unlock()
	if !changed || err != nil {
		return err
	}
	if touched {
		r.notify()
	}
	return r.saveIgnores(userID)
}

// change makes a change to f under the lock and returns the version it
// made, or 0 when nothing changed.
func (r *Registry) change(f *file, apply func() (changed bool, err error)) (uint64, error) {
	r.mu.Lock()
	changed, err := apply()
	if !changed || err != nil {
		r.mu.Unlock()
		return 0, err
	}
	f.version++
	v, touched := f.version, len(r.pending) > 0
	r.mu.Unlock()
	if touched {
		r.notify()
	}
	return v, nil
}

// snapshot copies the main file's state, under mu: the maps, not the
// slices in them (never changed in place), so it costs one entry per user.
func (r *Registry) snapshot() state {
	st := r.st
	st.Names, st.Owned = maps.Clone(st.Names), maps.Clone(st.Owned)
	st.Bans, st.Mutes = maps.Clone(st.Bans), maps.Clone(st.Mutes)
	st.Since = maps.Clone(st.Since) // its maps are never changed in place
	st.Owners = maps.Clone(r.owners)
	return st
}

// commit returns once version v of f, or a later one, is on disk. One
// goroutine writes a file at a time, the whole of it as it is when it
// starts, at most once per minWriteInterval (longer for a large file, see
// encodeShare); the changes made meanwhile
// wait and go together in the next write. So a storm of new names costs
// a bounded number of writes a second, not a write of every name for
// every new one. The lock is held only for a snapshot: encoding and
// writing happen outside it, so that nobody waits for them but those
// waiting for their own change to be on disk.
func (r *Registry) commit(f *file, v uint64) error {
	if f.path == "" {
		return nil
	}
	f.saving.Lock()
	defer f.saving.Unlock()
	if f.saved >= v {
		return nil
	}
	if f.interval > 0 { // a benchmark sets 0, for the cost of a write alone
		gap := min(max(f.interval, encodeShare*f.encoding), maxWriteWait)
		time.Sleep(time.Until(f.lastWrite.Add(gap)))
	}
	r.mu.Lock()
	var snap any
	if f == &r.roomsF {
		snap = r.roomsSnapshot()
	} else {
		snap = r.snapshot()
	}
	latest := f.version
	r.mu.Unlock()
	start := time.Now()
	data, err := r.encode(snap)
	f.encoding = time.Since(start)
	if err != nil {
		return fmt.Errorf("save registry: %w", err)
	}
	backup(f.path) // the state before this change, for a file damaged later
	if err := write(f.path, data); err != nil {
		return err
	}
	f.saved, f.writes, f.lastWrite = latest, f.writes+1, time.Now()
	return nil
}

func (r *Registry) active(m map[string]Restriction, userID string, now time.Time) (Restriction, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, ok := m[userID]
	if !ok || !x.Active(now) {
		return Restriction{}, false
	}
	return x, true
}

// write replaces the file with data atomically: a crash leaves the old
// file or the new one, never half of one.
func write(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save registry: %w", err)
	}
	f, err := os.CreateTemp(dir, ".registry-*.tmp")
	if err != nil {
		return fmt.Errorf("save registry: %w", err)
	}
	defer os.Remove(f.Name()) // after the rename, there is nothing to remove
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("save registry: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("save registry: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save registry: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("save registry: %w", err)
	}
	return nil
}
