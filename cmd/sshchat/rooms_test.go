package main

import (
	"testing"

	"github.com/sshchat/sshchat/hub"
)

// TestRoomsForgetAClosedRoom: the hub of a room dropped (closed) is no
// longer counted nor kept; the others are, added up.
func TestRoomsForgetAClosedRoom(t *testing.T) {
	r := newRooms(config{History: 16, MaxBehind: hub.DefaultMaxBehind, MaxLag: hub.DefaultMaxLag},
		map[string][]hub.Event{"go": {{ID: 7, ChatRoomID: "go", Type: hub.EventTypeMessage}}})
	r.stamp = func(ev hub.Event) (hub.Event, error) { return ev, nil }
	goRoom, err := r.open("go")
	if err != nil {
		t.Fatal(err)
	}
	lobby, err := r.open("lobby")
	if err != nil {
		t.Fatal(err)
	}
	defer lobby.Close()
	if got := goRoom.History(); len(got) != 1 || got[0].ID != 7 {
		t.Errorf("#go's history = %+v, want the event restored for it", got)
	}
	if _, err := goRoom.Subscribe(hub.Member{UserID: "ann", SessionID: "s1"}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := lobby.Subscribe(hub.Member{UserID: "bob", SessionID: "s1"}, 0); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Subscribers != 2 {
		t.Errorf("Stats() = %+v, want the two rooms' subscribers added up", st)
	}
	if err := goRoom.Close(); err != nil {
		t.Fatal(err)
	}
	if hubs := r.all(); len(hubs) != 1 || hubs[0].ID() != "lobby" {
		t.Errorf("hubs kept after #go closed: %d", len(hubs))
	}
	if st := r.Stats(); st.Subscribers != 1 {
		t.Errorf("Stats() = %+v, want the lobby's subscriber alone", st)
	}
}
