package registry

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Errors of the rooms; test them with errors.Is.
var (
	ErrRoomExists    = errors.New("registry: room exists")
	ErrNoRoom        = errors.New("registry: no such room")
	ErrRoomLimit     = errors.New("registry: too many rooms")
	ErrOwnerLimit    = errors.New("registry: too many rooms of one owner")
	ErrRoomListLimit = errors.New("registry: room list full")
)

// Bounds of a room's lists: each change is a write of every room, so no
// list may grow without bound.
const (
	MaxInvited    = 1000 // users invited into one room
	MaxOps        = 100  // operators of one room
	MaxRoomBans   = 1000 // bans of one room (those that ended are dropped first)
	MaxRoomMutes  = 1000 // mutes of one room (likewise)
	maxTopicBytes = 512
)

// Room is what is kept of a room between restarts, empty or not. Its
// slices and maps are never changed in place: a Room read is a snapshot.
type Room struct {
	ID         string                 `json:"id"`              // as created, without '#'
	Owner      string                 `json:"owner,omitempty"` // its creator's key; "" for the default room
	Ops        []string               `json:"ops,omitempty"`
	Topic      string                 `json:"topic,omitempty"`
	InviteOnly bool                   `json:"inviteOnly,omitempty"`
	Private    bool                   `json:"private,omitempty"` // listed only to its members
	Invited    []string               `json:"invited,omitempty"`
	Bans       map[string]Restriction `json:"bans,omitempty"`
	Mutes      map[string]Restriction `json:"mutes,omitempty"`
	Created    int64                  `json:"created,omitempty"` // Unix seconds
}

// IsOp reports whether userID is the room's owner or one of its operators.
func (rm Room) IsOp(userID string) bool {
	return userID != "" && (rm.Owner == userID || slices.Contains(rm.Ops, userID))
}

// roomsFile is the rooms' file, beside the registry: registry-rooms.json.
// A registry written before rooms has none, and no rooms.
type roomsFile struct {
	Rooms []Room `json:"rooms"`
}

// RoomKey is the form in which two room IDs are the same room: the
// look-alike folding of names (Canonical).
func RoomKey(id string) string { return Canonical(id) }

func (r *Registry) readRooms() error {
	r.rooms = map[string]Room{}
	var f roomsFile
	if err := readJSON(r.roomsF.path, &f); err != nil {
		return err
	}
	for _, rm := range f.Rooms {
		if rm.ID == "" {
			continue
		}
		r.rooms[RoomKey(rm.ID)] = rm
	}
	return nil
}

func (r *Registry) roomsSnapshot() roomsFile {
	f := roomsFile{Rooms: make([]Room, 0, len(r.rooms))}
	for _, k := range slices.Sorted(maps.Keys(r.rooms)) {
		f.Rooms = append(f.Rooms, r.rooms[k])
	}
	return f
}

// Rooms lists the rooms, by key.
func (r *Registry) Rooms() []Room {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.roomsSnapshot().Rooms
}

// Room is the room id names (or a look-alike of it), if there is one.
func (r *Registry) Room(id string) (Room, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rm, ok := r.rooms[RoomKey(id)]
	return rm, ok
}

// CreateRoom keeps a new room, on disk when it returns. It fails with
// ErrRoomExists when the room or a look-alike exists, ErrRoomLimit when
// maxRooms rooms exist, and ErrOwnerLimit when rm.Owner owns maxPerOwner
// already (a limit ≤ 0 is none).
func (r *Registry) CreateRoom(rm Room, maxRooms, maxPerOwner int) error {
	k := RoomKey(rm.ID)
	return r.update(&r.roomsF, func() (bool, error) {
		if _, ok := r.rooms[k]; ok {
			return false, fmt.Errorf("%w: %s", ErrRoomExists, rm.ID)
		}
		if maxRooms > 0 && len(r.rooms) >= maxRooms {
			return false, fmt.Errorf("%w: %d", ErrRoomLimit, maxRooms)
		}
		if maxPerOwner > 0 && rm.Owner != "" && r.ownedRooms(rm.Owner) >= maxPerOwner {
			return false, fmt.Errorf("%w: %d", ErrOwnerLimit, maxPerOwner)
		}
		r.rooms[k] = rm
		r.touch(KindRoom, k)
		return true, nil
	})
}

// OwnedRooms is how many rooms userID owns.
func (r *Registry) OwnedRooms(userID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ownedRooms(userID)
}

func (r *Registry) ownedRooms(userID string) int {
	n := 0
	for _, rm := range r.rooms {
		if rm.Owner == userID {
			n++
		}
	}
	return n
}

// DropRoom forgets a room; it reports whether there was one.
func (r *Registry) DropRoom(id string) (bool, error) {
	k := RoomKey(id)
	found := false
	err := r.update(&r.roomsF, func() (bool, error) {
		if _, ok := r.rooms[k]; !ok {
			return false, nil
		}
		delete(r.rooms, k)
		r.touch(KindRoom, k)
		found = true
		return true, nil
	})
	return found, err
}

// UpdateRoom changes the room id with change, which is given a copy to
// edit and reports whether it changed anything; the change is on disk
// when UpdateRoom returns. ErrNoRoom when there is no such room; a list
// over its bound is refused with ErrRoomListLimit. change runs under the
// registry's lock and must not call it.
func (r *Registry) UpdateRoom(id string, change func(rm *Room) (bool, error)) error {
	k := RoomKey(id)
	return r.update(&r.roomsF, func() (bool, error) {
		rm, ok := r.rooms[k]
		if !ok {
			return false, fmt.Errorf("%w: %s", ErrNoRoom, id)
		}
		rm.Ops, rm.Invited = slices.Clone(rm.Ops), slices.Clone(rm.Invited)
		rm.Bans, rm.Mutes = maps.Clone(rm.Bans), maps.Clone(rm.Mutes)
		changed, err := change(&rm)
		if !changed || err != nil {
			return false, err
		}
		if err := rm.check(time.Now()); err != nil {
			return false, err
		}
		r.rooms[k] = rm
		r.touch(KindRoom, k)
		return true, nil
	})
}

// check bounds the room's lists; bans and mutes that ended are dropped
// to make room.
func (rm *Room) check(now time.Time) error {
	for _, m := range []map[string]Restriction{rm.Bans, rm.Mutes} {
		if len(m) > MaxRoomBans {
			maps.DeleteFunc(m, func(_ string, x Restriction) bool { return !x.Active(now) })
		}
	}
	switch {
	case len(rm.Invited) > MaxInvited:
		return fmt.Errorf("%w: at most %d invited", ErrRoomListLimit, MaxInvited)
	case len(rm.Ops) > MaxOps:
		return fmt.Errorf("%w: at most %d operators", ErrRoomListLimit, MaxOps)
	case len(rm.Bans) > MaxRoomBans:
		return fmt.Errorf("%w: at most %d bans", ErrRoomListLimit, MaxRoomBans)
	case len(rm.Mutes) > MaxRoomMutes:
		return fmt.Errorf("%w: at most %d mutes", ErrRoomListLimit, MaxRoomMutes)
	case len(rm.Topic) > maxTopicBytes:
		return fmt.Errorf("%w: a topic of at most %d bytes", ErrRoomListLimit, maxTopicBytes)
	}
	return nil
}

// Restricted returns the restriction of userID in m holding at now.
func Restricted(m map[string]Restriction, userID string, now time.Time) (Restriction, bool) {
	x, ok := m[userID]
	if !ok || !x.Active(now) {
		return Restriction{}, false
	}
	return x, true
}
