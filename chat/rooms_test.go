package chat

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/registry"
)

const daveID = "SHA256:daveKEY"

func TestRoomID(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{"#Go", "go", ""},
		{"go", "go", ""},
		{"#my-room_2", "my-room_2", ""},
		{"#g", "", "not a room name"},
		{"#" + strings.Repeat("a", 33), "", "not a room name"},
		{"#" + strings.Repeat("a", 32), strings.Repeat("a", 32), ""},
		{"#a b", "", "not a room name"},
		{"#a.b", "", "not a room name"},
		{"@direct", "", "not a room name"},
		{"#gö", "", "not a room name"},
		{"#admin", "", "reserved"},
		{"#4dm1n", "", "reserved"}, // a look-alike of a reserved name
		{"#Direct", "", "reserved"},
		{"#ops", "", "reserved"},
		{"#every-one", "", "reserved"},
	}
	for _, tt := range tests {
		got, err := RoomID(tt.in)
		switch {
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("RoomID(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("RoomID(%q) = %q, %v; want an error saying %q", tt.in, got, err, tt.wantErr)
		}
	}
}

// joinRoom puts seat in room or fails the test.
func joinRoom(t *testing.T, seat *Seat, room string) *hub.Subscription {
	t.Helper()
	sub, _, err := seat.Join(room, 0)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// until waits for an event of sub of type typ (presence included) and
// returns it.
func untilType(t *testing.T, sub *hub.Subscription, typ string) hub.Event {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				t.Fatalf("stream ended before a %s event: %v", typ, sub.Err())
			}
			if ev.Type == typ {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event", typ)
		}
	}
}

// ended waits for sub's stream to close and returns its Err.
func ended(t *testing.T, sub *hub.Subscription) error {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case _, ok := <-sub.Events():
			if !ok {
				return sub.Err()
			}
		case <-timeout:
			t.Fatal("stream did not end")
		}
	}
}

func TestJoinCreatesAndLookAlikesAreOneRoom(t *testing.T) {
	tc := newTestCore(t, Config{}, nil)
	ann, _ := tc.join(annID, "ann", "a1")
	sub, info, err := ann.Join("#Go", 10)
	if err != nil {
		t.Fatal(err)
	}
	if info.ID != "go" || info.Owner != annID || info.Members != 1 {
		t.Errorf("RoomInfo %+v, want go owned by ann with 1 member", info)
	}
	if h := sub.History(); len(h) != 1 || h[0].Type != hub.EventTypeCreate || h[0].UserID != annID || h[0].Name != "ann" || h[0].ChatRoomID != "go" {
		t.Errorf("backlog of a new room %+v, want its create event", h)
	}
	bob, _ := tc.join(bobID, "bob", "b1")
	for _, lookAlike := range []string{"#g0", "GO"} {
		_, info, err := bob.Join(lookAlike, 0)
		if err == nil {
			if info.ID != "go" {
				t.Errorf("Join(%s) joined %+v, want #go", lookAlike, info)
			}
			continue
		}
		if !errors.Is(err, ErrInRoom) {
			t.Errorf("Join(%s): %v", lookAlike, err)
		}
	}
	if got := bob.Rooms(); !slices.Equal(got, []string{"lobby", "go"}) {
		t.Errorf("bob's rooms %v, want [lobby go]", got)
	}
	if _, _, err := bob.Join("#go", 0); !errors.Is(err, ErrInRoom) {
		t.Errorf("joining a room again: %v, want ErrInRoom", err)
	}
	if _, _, err := bob.Join("#root", 0); err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("joining a reserved name: %v", err)
	}
	_, _, _ = bob.Join("#my-room", 0)
	if _, _, err := ann.Join("#my_room", 0); err != nil {
		t.Fatal(err)
	}
	if info, _ := tc.core.RoomInfo("myroom"); info.ID != "my-room" || info.Members != 2 {
		t.Errorf("#my_room and #myroom are %+v, want #my-room with 2", info)
	}
}

// TestRoomsAreApart: two users in two rooms; a message in one never
// reaches the other, and presence is per room.
func TestRoomsAreApart(t *testing.T) {
	tc := newTestCore(t, Config{MessageBurst: 100, MessageRate: 100}, nil)
	ann, annLobby := tc.join(annID, "ann", "a1")
	bob, bobLobby := tc.join(bobID, "bob", "b1")
	annGo := joinRoom(t, ann, "#go")
	bobRust := joinRoom(t, bob, "#rust")
	if err := ann.Post("go", "in go"); err != nil {
		t.Fatal(err)
	}
	if err := bob.Post("rust", "in rust"); err != nil {
		t.Fatal(err)
	}
	if err := ann.Post("rust", "sneaky"); !errors.Is(err, ErrNotInRoom) {
		t.Errorf("posting in a room one is not in: %v", err)
	}
	if ev := next(t, annGo); ev.Message != "in go" || ev.ChatRoomID != "go" {
		t.Errorf("#go got %+v", ev)
	}
	if ev := next(t, bobRust); ev.Message != "in rust" || ev.ChatRoomID != "rust" {
		t.Errorf("#rust got %+v", ev)
	}
	if err := ann.Post("lobby", "marker"); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []*hub.Subscription{annLobby, bobLobby} {
		if ev := next(t, sub); ev.Message != "marker" {
			t.Errorf("the lobby saw %+v before the marker", ev)
		}
	}
	if top, n := tc.core.Members("go", 10); n != 1 || top[0].UserID != annID {
		t.Errorf("#go's members %+v", top)
	}
	if top, n := tc.core.Members("#lobby", 10); n != 2 || len(top) != 2 {
		t.Errorf("lobby's members %+v", top)
	}
	if _, n := tc.core.Members("#nowhere", 10); n != 0 {
		t.Errorf("a room that does not exist has %d members", n)
	}
	// A second session of ann enters #go: an add there, and the first
	// session of bob in #go is a join although bob is in other rooms.
	ann2, _, _ := tc.arrive(annID, "ann", "a2")
	joinRoom(t, ann2, "go")
	if ev := untilType(t, annGo, hub.EventTypeAdd); ev.SessionID != "a2" || ev.ChatRoomID != "go" {
		t.Errorf("second session in #go: %+v", ev)
	}
	joinRoom(t, bob, "go")
	if ev := untilType(t, annGo, hub.EventTypeJoin); ev.UserID != bobID {
		t.Errorf("bob into #go: %+v", ev)
	}
	if top, _ := tc.core.Members("go", 10); len(top) != 2 || top[0].Sessions != 2 || top[1].Sessions != 1 {
		t.Errorf("#go's members %+v, want ann ×2 and bob", top)
	}
}

func TestPart(t *testing.T) {
	tc := newTestCore(t, Config{}, nil)
	ann, _ := tc.join(annID, "ann", "a1")
	bob, _ := tc.join(bobID, "bob", "b1")
	annGo := joinRoom(t, ann, "go")
	bobGo := joinRoom(t, bob, "go")
	if _, err := bob.Run("go", "part", "bye all"); err != nil {
		t.Fatal(err)
	}
	if err := ended(t, bobGo); err != nil {
		t.Errorf("a part ends the stream with %v, want nil", err)
	}
	if ev := untilType(t, annGo, hub.EventTypeLeave); ev.UserID != bobID || ev.Reason != "bye all" {
		t.Errorf("the room saw %+v, want bob's leave with the part reason", ev)
	}
	if got := bob.Rooms(); !slices.Equal(got, []string{"lobby"}) {
		t.Errorf("bob's rooms after the part: %v", got)
	}
	if _, n := tc.core.Members("go", 10); n != 1 {
		t.Errorf("#go has %d members after the part, want 1", n)
	}
	if err := bob.Part("go", ""); !errors.Is(err, ErrNotInRoom) {
		t.Errorf("parting again: %v", err)
	}
	// /part #room from another room; and out of every room the session
	// stays, in none.
	if _, err := ann.Run("lobby", "part", "#go"); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.Run("lobby", "part", ""); err != nil {
		t.Fatal(err)
	}
	if got := ann.Rooms(); len(got) != 0 {
		t.Errorf("ann's rooms %v, want none", got)
	}
	if _, err := ann.Run("", "who", ""); err == nil || !strings.Contains(err.Error(), "no room") {
		t.Errorf("/who in no room: %v", err)
	}
	if _, err := ann.Run("", "topic", "x"); err == nil || !strings.Contains(err.Error(), "/join") {
		t.Errorf("/topic in no room: %v", err)
	}
	if _, err := ann.Run("", "part", "#nowhere"); err == nil || !strings.Contains(err.Error(), "no room") {
		t.Errorf("/part of a room that does not exist: %v", err)
	}
	// The room lives on, empty.
	if info, ok := tc.core.RoomInfo("go"); !ok || info.Members != 0 {
		t.Errorf("#go after everyone left: %+v %v", info, ok)
	}
}

// TestJoinCommandEnters: /join puts the session in the room through
// Session.Enter; a room it is in only answers.
func TestJoinCommandEnters(t *testing.T) {
	tc := newTestCore(t, Config{Backlog: 5}, nil)
	ann, _, sess, _ := tc.enter(annID, "ann", "a1")
	if reply, err := ann.Run("lobby", "join", "#go"); err != nil || reply != "" {
		t.Fatalf("/join #go = %q, %v", reply, err)
	}
	var e entered
	select {
	case e = <-sess.entered:
	case <-time.After(wait):
		t.Fatal("not entered")
	}
	if e.room.ID != "go" || e.sub == nil {
		t.Fatalf("entered %+v", e)
	}
	if reply, err := ann.Run("go", "join", "#Go"); err != nil || !strings.Contains(reply, "you are in #go") {
		t.Errorf("/join of a room the session is in = %q, %v", reply, err)
	}
	if len(sess.entered) != 0 {
		t.Error("entered a room it was in")
	}
	if _, err := ann.Run("go", "join", ""); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("/join without a room: %v", err)
	}
	if reply, _ := ann.Run("go", "rooms", ""); !strings.Contains(reply, "rooms: 2") || !strings.Contains(reply, "* #go") {
		t.Errorf("/rooms = %q", reply)
	}
}

func TestTopicOpsAndModes(t *testing.T) {
	tc := newTestCore(t, Config{MessageBurst: 100, MessageRate: 100}, nil)
	tc.core.SetAdmins(map[string]bool{rootID: true})
	ann, _ := tc.join(annID, "ann", "a1")
	bob, _ := tc.join(bobID, "bob", "b1")
	carol, _ := tc.join(carolID, "carol", "c1")
	root, _ := tc.join(rootID, "boss", "r1")
	annGo := joinRoom(t, ann, "go")
	joinRoom(t, bob, "go")

	run := func(seat *Seat, room, line, wantErr string) string {
		t.Helper()
		name, args, _ := strings.Cut(line, " ")
		reply, err := seat.Run(room, name, args)
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("/%s in #%s: %v", line, room, err)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("/%s in #%s: %v, want an error saying %q", line, room, err, wantErr)
		}
		return reply
	}
	run(bob, "go", "topic gophers", "owner and operators")
	run(ann, "go", "topic gophers only", "")
	if ev := untilType(t, annGo, hub.EventTypeTopic); ev.Message != "gophers only" || ev.UserID != annID {
		t.Errorf("topic event %+v", ev)
	}
	if reply := run(bob, "go", "topic", ""); !strings.Contains(reply, "gophers only") {
		t.Errorf("/topic = %q", reply)
	}
	if info, _ := tc.core.RoomInfo("go"); info.Topic != "gophers only" {
		t.Errorf("RoomInfo topic %q", info.Topic)
	}
	run(bob, "go", "op carol", "named by its owner")
	run(ann, "go", "op bob", "")
	if ev := untilType(t, annGo, hub.EventTypeOp); ev.To != bobID {
		t.Errorf("op event %+v", ev)
	}
	run(bob, "go", "topic bob was here", "")
	run(ann, "go", "op ann", "owns")
	run(ann, "lobby", "op bob", "server's")
	run(bob, "go", "mode +x", "usage")
	run(bob, "go", "mode +i", "")
	if ev := untilType(t, annGo, hub.EventTypeMode); ev.Message != "+i" {
		t.Errorf("mode event %+v", ev)
	}
	run(root, "lobby", "mode +i", "default room")
	// Invite only: hidden from outsiders, and closed to them.
	if _, _, err := carol.Join("go", 0); err == nil || !strings.Contains(err.Error(), "invite only") {
		t.Errorf("carol into an invite-only room: %v", err)
	}
	if rooms := tc.core.Rooms(carolID); slices.ContainsFunc(rooms, func(r RoomInfo) bool { return r.ID == "go" }) {
		t.Errorf("carol sees the invite-only room: %+v", rooms)
	}
	for _, id := range []string{annID, bobID, rootID} {
		if rooms := tc.core.Rooms(id); !slices.ContainsFunc(rooms, func(r RoomInfo) bool { return r.ID == "go" && r.InviteOnly }) {
			t.Errorf("%s does not see #go: %+v", id, rooms)
		}
	}
	run(carol, "go", "invite carol", "not in #go")
	run(bob, "go", "invite carol", "")
	if ev := untilType(t, annGo, hub.EventTypeInvite); ev.To != carolID {
		t.Errorf("invite event %+v", ev)
	}
	if ev := next(t, carol.Direct()); ev.Type != hub.EventTypeDirect || !strings.Contains(ev.Message, "/join #go") {
		t.Errorf("carol was told %+v", ev)
	}
	if rooms := tc.core.Rooms(carolID); !slices.ContainsFunc(rooms, func(r RoomInfo) bool { return r.ID == "go" }) {
		t.Errorf("an invited user does not see the room: %+v", rooms)
	}
	joinRoom(t, carol, "go")
	// An admin enters an invite-only room uninvited.
	joinRoom(t, root, "go")
	run(ann, "go", "deop bob", "")
	if ev := untilType(t, annGo, hub.EventTypeDeop); ev.To != bobID {
		t.Errorf("deop event %+v", ev)
	}
	run(bob, "go", "mode -i", "owner and operators")
	run(root, "go", "mode -i", "")
	run(root, "go", "mode +p", "")
	if info, _ := tc.core.RoomInfo("go"); info.InviteOnly || !info.Private {
		t.Errorf("after -i +p: %+v", info)
	}
}

func TestModerationInARoom(t *testing.T) {
	tc := newTestCore(t, Config{MessageBurst: 100, MessageRate: 100}, nil)
	tc.core.SetAdmins(map[string]bool{rootID: true})
	ann, _ := tc.join(annID, "ann", "a1")
	bob, bobLobby := tc.join(bobID, "bob", "b1")
	carol, _ := tc.join(carolID, "carol", "c1")
	root, _ := tc.join(rootID, "boss", "r1")
	annGo := joinRoom(t, ann, "go")
	bobGo := joinRoom(t, bob, "go")
	joinRoom(t, carol, "go")
	joinRoom(t, bob, "rust")

	if _, err := carol.Run("go", "kick", "bob"); err == nil || !strings.Contains(err.Error(), "owner and operators of #go") {
		t.Errorf("a member kicks: %v", err)
	}
	if _, err := ann.Run("go", "kick", "bob enough"); err != nil {
		t.Fatal(err)
	}
	if err := ended(t, bobGo); !errors.Is(err, hub.ErrDropped) || !strings.Contains(err.Error(), "kicked from #go") || !strings.Contains(err.Error(), "enough") {
		t.Errorf("bob's stream of #go ended with %v", err)
	}
	if ev := untilType(t, annGo, hub.EventTypeKick); ev.To != bobID || ev.Reason != "enough" {
		t.Errorf("kick event %+v", ev)
	}
	if got := bob.Rooms(); !slices.Equal(got, []string{"lobby", "rust"}) {
		t.Errorf("bob's rooms after a kick from #go: %v", got)
	}
	if err := bob.Post("lobby", "still here"); err != nil {
		t.Errorf("a kick from a room ended more: %v", err)
	}
	if ev := next(t, bobLobby); ev.Message != "still here" {
		t.Errorf("bob's lobby got %+v", ev)
	}
	if _, err := ann.Run("go", "kick", "bob"); err == nil || !strings.Contains(err.Error(), "not in #go") {
		t.Errorf("kicking someone not in the room: %v", err)
	}
	// A kick is no ban: back in.
	bobGo = joinRoom(t, bob, "go")

	if _, err := ann.Run("go", "ban", "bob 1h spam"); err != nil {
		t.Fatal(err)
	}
	if err := ended(t, bobGo); !errors.Is(err, hub.ErrDropped) || !strings.Contains(err.Error(), "banned from #go") {
		t.Errorf("bob's stream of #go ended with %v", err)
	}
	if ev := untilType(t, annGo, hub.EventTypeBan); ev.To != bobID || ev.Until == 0 {
		t.Errorf("ban event %+v", ev)
	}
	if _, _, err := bob.Join("go", 0); err == nil || !strings.Contains(err.Error(), "banned from #go until") || !strings.Contains(err.Error(), "spam") {
		t.Errorf("a banned user joins: %v", err)
	}
	if _, banned := tc.reg.Banned(bobID, time.Now()); banned {
		t.Error("a room's ban banned the key from the server")
	}
	if reply, _ := ann.Run("go", "banned", ""); !strings.Contains(reply, "banned from #go: 1") {
		t.Errorf("/banned in #go = %q", reply)
	}
	if _, err := ann.Run("go", "unban", "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.Run("go", "unban", "bob"); err == nil || !strings.Contains(err.Error(), "not banned from #go") {
		t.Errorf("unban twice: %v", err)
	}
	joinRoom(t, bob, "go")

	// A mute holds in its room only.
	if _, err := ann.Run("go", "mute", "bob 10m"); err != nil {
		t.Fatal(err)
	}
	if err := bob.Post("go", "hi"); err == nil || !strings.Contains(err.Error(), "muted in #go") {
		t.Errorf("a muted user posts in the room: %v", err)
	}
	if _, err := bob.Run("go", "me", "waves"); err == nil || !strings.Contains(err.Error(), "muted in #go") {
		t.Errorf("a muted user acts in the room: %v", err)
	}
	if err := bob.Post("rust", "hi"); err != nil {
		t.Errorf("a mute of #go holds in #rust: %v", err)
	}
	if _, err := ann.Run("go", "unmute", "bob"); err != nil {
		t.Fatal(err)
	}
	if err := bob.Post("go", "free"); err != nil {
		t.Errorf("after the unmute: %v", err)
	}
	// An admin moderates every room, without being its operator.
	if _, err := root.Run("lobby", "kick", "carol"); err != nil {
		t.Fatal(err)
	}
	rootGo := joinRoom(t, root, "go")
	if _, err := root.Run("go", "mute", "ann"); err != nil {
		t.Errorf("an admin mutes the owner: %v", err)
	}
	_ = rootGo
}

// TestServerModerationFromTheLobby: in the lobby a kick or ban is the
// server's: every stream of the user ends, and its sessions are told.
func TestServerModerationFromTheLobby(t *testing.T) {
	tc := newTestCore(t, Config{MessageBurst: 100, MessageRate: 100}, nil)
	tc.core.SetAdmins(map[string]bool{rootID: true})
	root, _ := tc.join(rootID, "boss", "r1")
	bob, bobLobby, bobSess, _ := func() (*Seat, *hub.Subscription, *fakeSession, Arrival) {
		seat, a, sess, sub := tc.enter(bobID, "bob", "b1")
		return seat, sub, sess, a
	}()
	bobGo := joinRoom(t, bob, "go")
	if _, err := root.Run("lobby", "ban", "bob 1h flood"); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []*hub.Subscription{bobLobby, bobGo, bob.Direct()} {
		if err := ended(t, sub); !errors.Is(err, hub.ErrDropped) || !strings.Contains(err.Error(), "banned by boss") {
			t.Errorf("a stream of bob ended with %v", err)
		}
	}
	select {
	case why := <-bobSess.ended:
		// Said as the end of its direct messages says it (sshserver), so
		// the reason is one whichever of the two the session sees first.
		if !strings.HasPrefix(why, "disconnected: ") || !strings.Contains(why, "flood") {
			t.Errorf("bob was told %q", why)
		}
	case <-time.After(wait):
		t.Fatal("bob's session not ended")
	}
	if _, banned := tc.core.Banned(bobID); !banned {
		t.Error("the key is not banned")
	}
	if ev, ok := tc.lastOfType(hub.EventTypeBan); !ok || ev.ChatRoomID != "lobby" {
		t.Errorf("ban event %+v, want one in the lobby", ev)
	}
}

func TestDrop(t *testing.T) {
	tc := newTestCore(t, Config{}, nil)
	tc.core.SetAdmins(map[string]bool{rootID: true})
	ann, _ := tc.join(annID, "ann", "a1")
	bob, _ := tc.join(bobID, "bob", "b1")
	root, _ := tc.join(rootID, "boss", "r1")
	annGo := joinRoom(t, ann, "go")
	bobGo := joinRoom(t, bob, "go")
	if _, err := bob.Run("go", "drop", ""); err == nil || !strings.Contains(err.Error(), "owner or an admin") {
		t.Errorf("a member drops: %v", err)
	}
	if _, err := root.Run("lobby", "drop", "#lobby"); err == nil || !strings.Contains(err.Error(), "default room") {
		t.Errorf("dropping the lobby: %v", err)
	}
	if reply, err := ann.Run("lobby", "drop", "#go done here"); err != nil || !strings.Contains(reply, "dropped") {
		t.Fatalf("/drop = %q, %v", reply, err)
	}
	if ev := untilType(t, annGo, hub.EventTypeDrop); ev.UserID != annID || ev.Reason != "done here" {
		t.Errorf("drop event %+v", ev)
	}
	for _, sub := range []*hub.Subscription{annGo, bobGo} {
		if err := ended(t, sub); !errors.Is(err, hub.ErrDropped) || !strings.Contains(err.Error(), "#go was dropped by ann: done here") {
			t.Errorf("a stream of #go ended with %v", err)
		}
	}
	if _, ok := tc.core.RoomInfo("go"); ok {
		t.Error("#go is still there")
	}
	if _, ok := tc.reg.Room("go"); ok {
		t.Error("the registry keeps #go")
	}
	if got := ann.Rooms(); !slices.Equal(got, []string{"lobby"}) {
		t.Errorf("ann's rooms %v", got)
	}
	if _, err := ann.Run("lobby", "drop", "#go"); err == nil {
		t.Error("dropped twice")
	}
	// A new #go is a new room, with a new owner.
	joinRoom(t, bob, "go")
	if info, _ := tc.core.RoomInfo("go"); info.Owner != bobID {
		t.Errorf("the new #go %+v", info)
	}
	// An admin drops any room but the lobby.
	if _, err := root.Run("lobby", "drop", "#go"); err != nil {
		t.Errorf("an admin drops: %v", err)
	}
}

func TestRoomLimits(t *testing.T) {
	tc := newTestCore(t, Config{MaxRooms: 5, MaxRoomsPerUser: 2, MaxRoomsPerSession: 3}, nil)
	ann, _ := tc.join(annID, "ann", "a1")
	joinRoom(t, ann, "a1")
	joinRoom(t, ann, "a2")
	if err := ann.Part("a1", ""); err != nil { // still its owner
		t.Fatal(err)
	}
	if _, _, err := ann.Join("a3", 0); err == nil || !strings.Contains(err.Error(), "you own 2 rooms, the most") {
		t.Errorf("a third room of one user: %v", err)
	}
	bob, _ := tc.join(bobID, "bob", "b1")
	joinRoom(t, bob, "b1")
	joinRoom(t, bob, "b2")
	carol, _ := tc.join(carolID, "carol", "c1")
	if _, _, err := carol.Join("c1", 0); err == nil || !strings.Contains(err.Error(), "the server has 5 rooms") {
		t.Errorf("a room past the server's limit: %v", err)
	}
	// In 3 rooms, the most for a session (the lobby counts).
	joinRoom(t, carol, "a1")
	joinRoom(t, carol, "a2")
	if _, _, err := carol.Join("b1", 0); err == nil || !strings.Contains(err.Error(), "this session is in 3 rooms") {
		t.Errorf("a fourth room for a session: %v", err)
	}
	// Another session of the same user is counted apart.
	carol2, _, _ := tc.arrive(carolID, "carol", "c2")
	joinRoom(t, carol2, "b1")
	// Dropping a room makes room for another.
	if _, err := ann.Run("lobby", "drop", "#a1"); err != nil {
		t.Fatal(err)
	}
	joinRoom(t, ann, "a3")
}

// TestRoomsPersist: rooms survive a restart and being empty, with their
// owner, topic, modes and lists.
func TestRoomsPersist(t *testing.T) {
	path := t.TempDir() + "/registry.json"
	reg, err := registry.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	tc := newTestCore(t, Config{MessageBurst: 100, MessageRate: 100}, reg)
	ann, _ := tc.join(annID, "ann", "a1")
	bob, _ := tc.join(bobID, "bob", "b1")
	carol, _ := tc.join(carolID, "carol", "c1")
	tc.join(daveID, "dave", "d1")
	joinRoom(t, ann, "go")
	joinRoom(t, bob, "go")
	for _, line := range []string{"topic all things go", "op bob", "mode +i", "invite carol", "ban dave", "mute carol 1h"} {
		name, args, _ := strings.Cut(line, " ")
		if _, err := ann.Run("go", name, args); err != nil {
			t.Fatalf("/%s: %v", line, err)
		}
	}
	joinRoom(t, ann, "empty")
	if err := ann.Part("empty", ""); err != nil {
		t.Fatal(err)
	}
	_ = carol

	reg2, err := registry.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	tc2 := newTestCore(t, Config{}, reg2)
	rooms := tc2.core.Rooms(annID)
	var ids []string
	for _, r := range rooms {
		ids = append(ids, r.ID)
	}
	if !slices.Equal(ids, []string{"lobby", "empty", "go"}) {
		t.Fatalf("rooms after a restart %v, want lobby, empty, go", ids)
	}
	if g := rooms[2]; g.Topic != "all things go" || g.Owner != annID || !g.InviteOnly || g.Members != 0 {
		t.Errorf("#go after a restart: %+v", g)
	}
	bob2, _ := tc2.join(bobID, "bob", "b1")
	joinRoom(t, bob2, "go") // an operator: no invitation needed
	if _, err := bob2.Run("go", "topic", "bob's now"); err != nil {
		t.Errorf("an operator after a restart: %v", err)
	}
	carol2, _ := tc2.join(carolID, "carol", "c1")
	joinRoom(t, carol2, "go") // invited
	if err := carol2.Post("go", "hi"); err == nil || !strings.Contains(err.Error(), "muted in #go") {
		t.Errorf("a mute after a restart: %v", err)
	}
	dave2, _ := tc2.join(daveID, "dave", "d1")
	if _, _, err := dave2.Join("go", 0); err == nil || !strings.Contains(err.Error(), "banned from #go") {
		t.Errorf("a ban after a restart: %v", err)
	}
	eve, _ := tc2.join("SHA256:eveKEY", "eve", "e1")
	if _, _, err := eve.Join("go", 0); err == nil || !strings.Contains(err.Error(), "invite only") {
		t.Errorf("invite only after a restart: %v", err)
	}
	if tc2.hubOf("go") == nil || tc2.hubOf("empty") == nil {
		t.Error("the kept rooms were not opened at start")
	}
}

// TestRegistryWithoutRooms: a registry.json written before rooms opens
// with the lobby alone.
func TestRegistryWithoutRooms(t *testing.T) {
	dir := t.TempDir()
	old := `{"names":{"SHA256:annKEY":"ann"},"owned":{"SHA256:annKEY":["ann"]},"bans":{},"mutes":{},"owners":{"ann":"SHA256:annKEY"}}`
	if err := writeFile(dir+"/registry.json", old); err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Open(dir + "/registry.json")
	if err != nil {
		t.Fatal(err)
	}
	tc := newTestCore(t, Config{Lobby: "#Main"}, reg)
	if rooms := tc.core.Rooms(annID); len(rooms) != 1 || rooms[0].ID != "main" {
		t.Errorf("rooms %+v, want the lobby #main alone", rooms)
	}
	if reg.NameOf(annID) != "ann" {
		t.Error("the names of the older file are lost")
	}
	if _, err := New(reg, tc.core.log, Config{Lobby: "#x"}); err == nil {
		t.Error("a lobby with a bad name was accepted")
	}
}

// TestOpenRoomFailure: a room that cannot be opened fails New, and
// closes what it had opened.
func TestOpenRoomFailure(t *testing.T) {
	var opened []*hub.Hub
	_, err := New(nil, nil, Config{OpenRoom: func(id string) (Room, error) {
		if id == "lobby" {
			return nil, fmt.Errorf("no log for %s", id)
		}
		h := hub.New(id, 1, 1)
		opened = append(opened, h)
		return h, nil
	}})
	if err == nil || !strings.Contains(err.Error(), "no log for lobby") {
		t.Errorf("New = %v", err)
	}
	for _, h := range opened {
		if err := h.Close(); !errors.Is(err, hub.ErrClosed) {
			t.Errorf("%s left open: %v", h.ID(), err)
		}
	}
}

// TestConcurrentRooms: many sessions making, joining, posting in and
// parting the same rooms at once make each room once, with one owner,
// and the rosters end as the sessions are.
func TestConcurrentRooms(t *testing.T) {
	tc := newTestCore(t, Config{MessageBurst: 1000, MessageRate: 1000}, nil)
	const users = 8
	seats := make([]*Seat, users)
	for i := range seats {
		seats[i], _, _ = tc.arrive(fmt.Sprintf("SHA256:c%d", i), fmt.Sprintf("c%d", i), "s")
	}
	var wg sync.WaitGroup
	for i, seat := range seats {
		wg.Go(func() {
			for round := range 5 {
				for _, room := range []string{"#alpha", "#Beta", "#gamma"} {
					if _, _, err := seat.Join(room, 0); err != nil && !errors.Is(err, ErrInRoom) {
						t.Error(err)
					}
					_ = seat.Post(room, "hi")
				}
				if (i+round)%2 == 0 {
					_ = seat.Part("beta", "")
				}
			}
		})
	}
	wg.Wait()
	owners := map[string]bool{}
	for _, id := range []string{"alpha", "beta", "gamma"} {
		info, ok := tc.core.RoomInfo(id)
		if !ok {
			t.Fatalf("#%s missing", id)
		}
		owners[info.Owner] = true
		want := 0
		for _, seat := range seats {
			if slices.Contains(seat.Rooms(), id) {
				want++
			}
		}
		if info.Members != want {
			t.Errorf("#%s: %d members listed, %d sessions in it", id, info.Members, want)
		}
		creates := 0
		for _, ev := range tc.hubOf(id).History() {
			if ev.Type == hub.EventTypeCreate {
				creates++
			}
		}
		if creates != 1 {
			t.Errorf("#%s was created %d times", id, creates)
		}
	}
	if len(tc.reg.Rooms()) != 4 {
		t.Errorf("%d rooms kept, want 4", len(tc.reg.Rooms()))
	}
}

// TestEvictLeavesEveryRoom: a session whose client stopped reading leaves
// each of its rooms with the reason, and the lobby hears a notice.
func TestEvictLeavesEveryRoom(t *testing.T) {
	tc := newTestCore(t, Config{}, nil)
	ann, annLobby := tc.join(annID, "ann", "a1")
	annGo := joinRoom(t, ann, "go")
	bob, _ := tc.join(bobID, "bob", "b1")
	joinRoom(t, bob, "go")
	bob.Evict("output queue full")
	for _, sub := range []*hub.Subscription{annLobby, annGo} {
		if ev := untilType(t, sub, hub.EventTypeLeave); ev.UserID != bobID || ev.Reason != "evicted: output queue full" {
			t.Errorf("the room saw %+v", ev)
		}
	}
	if _, n := tc.core.Members("go", 10); n != 1 {
		t.Errorf("#go lists %d after the eviction", n)
	}
	if err := tc.core.Notice("someone asked for ann"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, annLobby); ev.Type != hub.EventTypeNotice || ev.Message != "someone asked for ann" {
		t.Errorf("the lobby got %+v", ev)
	}
}
