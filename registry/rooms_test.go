package registry

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRoomsPersistAndAreBounded(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "registry.json")
	r := open(t, path)
	if err := r.CreateRoom(Room{ID: "lobby"}, 3, 1); err != nil {
		t.Fatal(err)
	}
	if err := r.CreateRoom(Room{ID: "go", Owner: "ann", Created: 1}, 3, 1); err != nil {
		t.Fatal(err)
	}
	if err := r.CreateRoom(Room{ID: "g0", Owner: "bob"}, 3, 1); !errors.Is(err, ErrRoomExists) {
		t.Errorf("a look-alike room: %v, want ErrRoomExists", err)
	}
	if err := r.CreateRoom(Room{ID: "rust", Owner: "ann"}, 3, 1); !errors.Is(err, ErrOwnerLimit) {
		t.Errorf("a second room of ann: %v, want ErrOwnerLimit", err)
	}
	if err := r.CreateRoom(Room{ID: "rust", Owner: "bob"}, 3, 1); err != nil {
		t.Fatal(err)
	}
	if err := r.CreateRoom(Room{ID: "zig", Owner: "carl"}, 3, 1); !errors.Is(err, ErrRoomLimit) {
		t.Errorf("a fourth room: %v, want ErrRoomLimit", err)
	}
	if n := r.OwnedRooms("ann"); n != 1 {
		t.Errorf("ann owns %d rooms", n)
	}
	before, _ := r.Room("go")
	err := r.UpdateRoom("GO", func(rm *Room) (bool, error) {
		rm.Topic = "gophers"
		rm.InviteOnly = true
		rm.Ops = append(rm.Ops, "bob")
		rm.Invited = append(rm.Invited, "carl")
		rm.Bans = map[string]Restriction{"eve": {By: "ann", At: 1}}
		rm.Mutes = map[string]Restriction{"mal": {Until: time.Now().Add(time.Hour).Unix(), By: "ann"}}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if before.Topic != "" || len(before.Ops) != 0 {
		t.Errorf("a Room read before a change changed: %+v", before)
	}
	if err := r.UpdateRoom("nowhere", func(*Room) (bool, error) { return true, nil }); !errors.Is(err, ErrNoRoom) {
		t.Errorf("UpdateRoom of no room: %v", err)
	}
	// The invited list is bounded.
	err = r.UpdateRoom("go", func(rm *Room) (bool, error) {
		for i := range MaxInvited {
			rm.Invited = append(rm.Invited, fmt.Sprint("u", i))
		}
		return true, nil
	})
	if !errors.Is(err, ErrRoomListLimit) {
		t.Errorf("%d invited: %v, want ErrRoomListLimit", MaxInvited+1, err)
	}
	err = r.UpdateRoom("go", func(rm *Room) (bool, error) {
		rm.Topic = strings.Repeat("x", maxTopicBytes+1)
		return true, nil
	})
	if !errors.Is(err, ErrRoomListLimit) {
		t.Errorf("a long topic: %v", err)
	}
	if found, err := r.DropRoom("rust"); !found || err != nil {
		t.Errorf("DropRoom = %v, %v", found, err)
	}
	if found, _ := r.DropRoom("rust"); found {
		t.Error("dropped twice")
	}

	r2 := open(t, path)
	var ids []string
	for _, rm := range r2.Rooms() {
		ids = append(ids, rm.ID)
	}
	if !slices.Equal(ids, []string{"go", "lobby"}) {
		t.Errorf("rooms after a reopen %v", ids)
	}
	g, ok := r2.Room("go")
	if !ok || g.Topic != "gophers" || !g.InviteOnly || g.Owner != "ann" || !g.IsOp("bob") || !g.IsOp("ann") || g.IsOp("carl") ||
		!slices.Equal(g.Invited, []string{"carl"}) || g.Created != 1 {
		t.Errorf("#go after a reopen: %+v", g)
	}
	if _, banned := Restricted(g.Bans, "eve", time.Now()); !banned {
		t.Error("the room's ban is lost")
	}
	if _, muted := Restricted(g.Mutes, "mal", time.Now()); !muted {
		t.Error("the room's mute is lost")
	}
	// No room name is a path: the rooms are one file beside the registry.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "registry") {
			t.Errorf("a file %s beside the registry", e.Name())
		}
	}
}

// TestRoomBansMakeRoomForMore: a full list of bans drops those that ended
// before refusing a new one.
func TestRoomBansMakeRoomForMore(t *testing.T) {
	r := open(t, "")
	if err := r.CreateRoom(Room{ID: "go", Owner: "ann"}, 0, 0); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour).Unix()
	err := r.UpdateRoom("go", func(rm *Room) (bool, error) {
		rm.Bans = map[string]Restriction{}
		for i := range MaxRoomBans {
			rm.Bans[fmt.Sprint("u", i)] = Restriction{Until: past}
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = r.UpdateRoom("go", func(rm *Room) (bool, error) {
		rm.Bans["new"] = Restriction{}
		return true, nil
	})
	if err != nil {
		t.Fatalf("a ban past the bound with ended ones: %v", err)
	}
	if g, _ := r.Room("go"); len(g.Bans) != 1 {
		t.Errorf("%d bans kept, want the one that holds", len(g.Bans))
	}
}

func TestDamagedRoomsFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "registry-rooms.json"), []byte("{\"rooms\": [tr"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(dir, "registry.json")); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Open with a damaged rooms file: %v, want ErrCorrupt", err)
	}
}
