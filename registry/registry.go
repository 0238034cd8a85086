// Package registry keeps what the server knows about users between
// restarts: which key owns which name, whom each user ignores, bans,
// mutes and the message of the day. It is one JSON file, rewritten
// atomically after every change, with the changes made during a write
// going together in the next. It knows
// nothing of SSH or terminals; users are their key fingerprints.
package registry

import (
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
	ErrTaken    = errors.New("registry: name taken")
	ErrReserved = errors.New("registry: name reserved")
	ErrCorrupt  = errors.New("registry: unreadable file")
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

type state struct {
	Owners  map[string]string      `json:"owners"`  // canonical name → userID
	Names   map[string]string      `json:"names"`   // userID → its name, as it is written
	Ignores map[string][]string    `json:"ignores"` // userID → the userIDs it ignores
	Bans    map[string]Restriction `json:"bans"`    // userID → ban
	Mutes   map[string]Restriction `json:"mutes"`   // userID → mute
	Motd    string                 `json:"motd,omitempty"`
}

// Registry is the persistent state. Its methods are safe for concurrent use.
type Registry struct {
	path    string
	mu      sync.Mutex
	st      state  // guarded by mu
	version uint64 // guarded by mu; counts the changes

	saving    sync.Mutex // held by the one goroutine writing the file
	saved     uint64     // guarded by saving; the version on disk
	lastWrite time.Time  // guarded by saving
	writes    int        // guarded by saving; how many times the file was written
}

// minWriteInterval spaces the writes of the file: a change made within it
// of the last write waits for the rest of it, and goes with the others
// made meanwhile. Every write is of the whole state, so without it a
// storm of new users would cost a write of every name for each of them.
const minWriteInterval = 25 * time.Millisecond

// Open loads the registry at path, or starts an empty one there. With an
// empty path it is kept in memory only. A file that cannot be read as a
// registry is an error wrapping ErrCorrupt that names the backup (see
// BackupSuffix); MoveAside clears the way for an empty registry.
func Open(path string) (*Registry, error) {
	r := &Registry{path: path}
	if path != "" {
		if err := load(path, &r.st); err != nil {
			return nil, err
		}
	}
	init := func(m *map[string]string) {
		if *m == nil {
			*m = map[string]string{}
		}
	}
	init(&r.st.Owners)
	init(&r.st.Names)
	if r.st.Ignores == nil {
		r.st.Ignores = map[string][]string{}
	}
	if r.st.Bans == nil {
		r.st.Bans = map[string]Restriction{}
	}
	if r.st.Mutes == nil {
		r.st.Mutes = map[string]Restriction{}
	}
	return r, nil
}

// reserved names can't be taken: they would pass for the server.
var reserved = []string{"admin", "administrator", "root", "system", "server", "sshchat",
	"moderator", "mod", "operator", "op", "staff", "help", "support", "everyone", "all", "here", "nobody"}

// Canonical is the form in which two names are the same: ignoring case, and
// the look-alikes 0/O and 1/l/I (so i and l are one letter too).
func Canonical(name string) string {
	return strings.NewReplacer("0", "o", "1", "l", "i", "l").Replace(strings.ToLower(name))
}

// Reserved reports whether name is kept for the server.
func Reserved(name string) bool {
	c := Canonical(name)
	return slices.ContainsFunc(reserved, func(r string) bool { return Canonical(r) == c })
}

// NameOf is the name userID owns, or "".
func (r *Registry) NameOf(userID string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st.Names[userID]
}

// Owner is the user owning name (or a look-alike of it), if any.
func (r *Registry) Owner(name string) (userID string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	userID, ok = r.st.Owners[Canonical(name)]
	return userID, ok
}

// UserByName finds a user by a name it owns, or by its fingerprint.
func (r *Registry) UserByName(nameOrID string) (userID string, ok bool) {
	if strings.HasPrefix(nameOrID, "SHA256:") {
		return nameOrID, true
	}
	return r.Owner(nameOrID)
}

// Claim makes name userID's: the first key to use a name owns it, and a key
// owns one name at a time (its previous one is given up). It fails with
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
	_, err := r.change(func() (bool, error) {
		if owner, ok := r.st.Owners[c]; ok && owner != userID {
			return false, fmt.Errorf("%w: %s", ErrTaken, name)
		}
		if old, ok := r.st.Names[userID]; ok {
			if old == name {
				return false, nil
			}
			delete(r.st.Owners, Canonical(old))
		}
		r.st.Owners[c] = userID
		r.st.Names[userID] = name
		return true, nil
	})
	return err
}

// Sync returns once every change made so far is on disk.
func (r *Registry) Sync() error {
	r.mu.Lock()
	v := r.version
	r.mu.Unlock()
	return r.commit(v)
}

// Ignore adds target to the users userID does not want to hear.
func (r *Registry) Ignore(userID, target string) error {
	return r.update(func() (bool, error) {
		if slices.Contains(r.st.Ignores[userID], target) {
			return false, nil
		}
		r.st.Ignores[userID] = append(r.st.Ignores[userID], target)
		return true, nil
	})
}

// Unignore removes target from userID's ignore list; it reports whether
// target was on it.
func (r *Registry) Unignore(userID, target string) (bool, error) {
	found := false
	err := r.update(func() (bool, error) {
		list := r.st.Ignores[userID]
		i := slices.Index(list, target)
		if i < 0 {
			return false, nil
		}
		if list = slices.Delete(list, i, i+1); len(list) == 0 {
			delete(r.st.Ignores, userID)
		} else {
			r.st.Ignores[userID] = list
		}
		found = true
		return true, nil
	})
	return found, err
}

// Ignored is the set of users userID ignores.
func (r *Registry) Ignored(userID string) map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	set := make(map[string]bool, len(r.st.Ignores[userID]))
	for _, id := range r.st.Ignores[userID] {
		set[id] = true
	}
	return set
}

// Ban bans userID; Banned tells whether a ban holds.
func (r *Registry) Ban(userID string, b Restriction) error {
	return r.restrict(r.st.Bans, userID, b)
}

// Unban lifts a ban; it reports whether there was one.
func (r *Registry) Unban(userID string) (bool, error) { return r.lift(r.st.Bans, userID) }

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
	return r.restrict(r.st.Mutes, userID, m)
}

// Muted returns the mute holding on userID at now, if any.
func (r *Registry) Muted(userID string, now time.Time) (Restriction, bool) {
	return r.active(r.st.Mutes, userID, now)
}

// Unmute lifts a mute; it reports whether there was one.
func (r *Registry) Unmute(userID string) (bool, error) { return r.lift(r.st.Mutes, userID) }

// Motd is the message of the day, shown on connect.
func (r *Registry) Motd() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st.Motd
}

// SetMotd sets the message of the day; "" clears it.
func (r *Registry) SetMotd(text string) error {
	return r.update(func() (bool, error) {
		r.st.Motd = text
		return true, nil
	})
}

func (r *Registry) restrict(m map[string]Restriction, userID string, x Restriction) error {
	return r.update(func() (bool, error) {
		m[userID] = x
		return true, nil
	})
}

func (r *Registry) lift(m map[string]Restriction, userID string) (bool, error) {
	found := false
	err := r.update(func() (bool, error) {
		if _, ok := m[userID]; !ok {
			return false, nil
		}
		delete(m, userID)
		found = true
		return true, nil
	})
	return found, err
}

// update makes a change and, if there was one, returns once it is on disk.
func (r *Registry) update(apply func() (changed bool, err error)) error {
	v, err := r.change(apply)
	if v == 0 || err != nil {
		return err
	}
	return r.commit(v)
}

// change makes a change under the lock and returns the version it made,
// or 0 when nothing changed.
func (r *Registry) change(apply func() (changed bool, err error)) (uint64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	changed, err := apply()
	if !changed || err != nil {
		return 0, err
	}
	r.version++
	return r.version, nil
}

// commit returns once version v of the state, or a later one, is on disk.
// One goroutine writes at a time, the whole state as it is when it
// starts, at most once per minWriteInterval; the changes made meanwhile
// wait and go together in the next write. So a storm of new names costs
// a bounded number of writes a second, not a write of every name for
// every new one.
func (r *Registry) commit(v uint64) error {
	if r.path == "" {
		return nil
	}
	r.saving.Lock()
	defer r.saving.Unlock()
	if r.saved >= v {
		return nil
	}
	time.Sleep(time.Until(r.lastWrite.Add(minWriteInterval)))
	r.mu.Lock()
	data, err := json.MarshalIndent(r.st, "", "  ")
	latest := r.version
	r.mu.Unlock()
	if err != nil {
		return fmt.Errorf("save registry: %w", err)
	}
	if err := r.write(data); err != nil {
		return err
	}
	r.saved, r.writes, r.lastWrite = latest, r.writes+1, time.Now()
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
// file or the new one, never half of one. The old one stays as the backup.
func (r *Registry) write(data []byte) error {
	if r.path == "" {
		return nil
	}
	dir := filepath.Dir(r.path)
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
	backup(r.path)
	if err := os.Rename(f.Name(), r.path); err != nil {
		return fmt.Errorf("save registry: %w", err)
	}
	return nil
}

// Users lists the userIDs that own a name, for tests and tools.
func (r *Registry) Users() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.st.Names))
}
