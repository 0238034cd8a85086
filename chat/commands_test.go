package chat

import (
	"errors"
	"strings"
	"testing"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/registry"
)

const (
	annID   = "SHA256:annKEY"
	bobID   = "SHA256:bobKEY"
	rootID  = "SHA256:rootKEY"
	carolID = "SHA256:carolKEY"
)

// TestEveryCommand runs each slash command once, as a user would, and
// checks what it answers and what the room sees.
func TestEveryCommand(t *testing.T) {
	tc := newTestCore(t, Config{MessageBurst: 100, MessageRate: 100}, nil)
	tc.core.SetAdmins(map[string]bool{rootID: true})
	ann, annSub := tc.join(annID, "ann", "a1")
	_, annOther, annOtherSess := tc.arrive(annID, "ann", "a2")
	if annOther.Sessions != 2 {
		t.Fatalf("ann's second session: %d sessions", annOther.Sessions)
	}
	bob, bobSub := tc.join(bobID, "bob", "b1")
	root, _ := tc.join(rootID, "boss", "r1")

	tests := []struct {
		seat      *Seat
		line      string
		wantReply string // in the reply
		wantErr   string // in the error; "" for none
		wantEvent string // the event type the room sees; "" for none
	}{
		{ann, "who", "in #lobby: 3", "", ""},
		{ann, "who now", "", "usage: /who", ""},
		{ann, "whois bob", bobID, "", ""},
		{ann, "whois boss", "admin", "", ""},
		{ann, "whois nobody", "", "nobody is not online", ""},
		{ann, "whois", "", "usage: /whois NAME", ""},
		{ann, "me waves", "", "", hub.EventTypeAction},
		{ann, "me   ", "", "empty", ""},
		{ann, "msg bob psst", "", "", ""}, // not in the room: in the direct messages
		{ann, "msg bob", "", "usage", ""},
		{ann, "msg @zed hi", "", "@zed is not online", ""},
		{ann, "away lunch", "", "", hub.EventTypeAway},
		{ann, "away " + strings.Repeat("x", 201), "", "too long", ""},
		{bob, "who", "ann (away: lunch)", "", ""},
		{ann, "back", "", "", hub.EventTypeBack},
		{ann, "back now", "", "usage", ""},
		{ann, "nick annie", "", "", hub.EventTypeNick},
		{ann, "nick a b", "", "usage", ""},
		{ann, "nick -", "", "not a usable name", ""},
		{ann, "nick b0b", "", "belongs to another key", ""},
		{ann, "sessions", "(this one)", "", ""},
		{ann, "sessions x", "", "usage", ""},
		{ann, "detach 9", "", "no session 9", ""},
		{ann, "detach x", "", "usage", ""},
		{ann, "ignore bob", "no longer see", "", ""},
		{ann, "ignore bob", "no longer see", "", ""}, // again: harmless
		{ann, "ignore annie", "", "yourself", ""},
		{ann, "ignore ghost", "", "nobody is known", ""},
		{ann, "unignore bob", "again", "", ""},
		{ann, "unignore bob", "", "were not ignoring", ""},
		{ann, "kick bob", "", "/kick in #lobby is for the server's admins", ""},
		{ann, "frobnicate", "", "unknown command", ""},
		{root, "mute bob 1h flooding", "", "", hub.EventTypeMute},
		{root, "mute bob 0s", "", "positive", ""},
		{root, "unmute bob", "", "", hub.EventTypeUnmute},
		{root, "unmute bob", "", "not muted", ""},
		{root, "motd hello all", "", "", hub.EventTypeMotd},
		{root, "motd " + strings.Repeat("x", 5000), "", "over", ""},
		{root, "banned", "nobody is banned", "", ""},
		{root, "banned x", "", "usage", ""},
		{root, "ban boss", "", "yourself", ""},
		{root, "release annie", "", "online under that name", ""},
		{root, "release", "", "usage", ""},
		{root, "release ghost", "", "nobody owns", ""},
		{root, "unban bob", "", "not banned", ""},
		{root, "ban ghost", "", "nobody is known", ""},
	}
	for _, tt := range tests {
		name, args, _ := strings.Cut(tt.line, " ")
		before := len(tc.hub.History())
		reply, err := tt.seat.Run("lobby", name, args)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("/%s: %v", tt.line, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("/%s: error %v, want one saying %q", tt.line, err, tt.wantErr)
		case !strings.Contains(reply, tt.wantReply):
			t.Errorf("/%s = %q, want %q in it", tt.line, reply, tt.wantReply)
		}
		after := tc.hub.History()[before:]
		var types []string
		for _, ev := range after {
			types = append(types, ev.Type)
		}
		if tt.wantEvent == "" && len(after) > 0 || tt.wantEvent != "" && (len(after) != 1 || after[0].Type != tt.wantEvent) {
			t.Errorf("/%s: the room saw %v, want [%s]", tt.line, types, tt.wantEvent)
		}
	}
	if reply, _ := ann.Run("lobby", "who", ""); !strings.Contains(reply, "annie") || !strings.Contains(reply, "2 sessions") {
		t.Errorf("/who after /nick: %q, want annie with 2 sessions", reply)
	}
	if got := next(t, bobSub); got.Type != hub.EventTypeAction {
		t.Errorf("bob's first event: %+v", got)
	}
	if got := next(t, bob.Direct()); got.Type != hub.EventTypeDirect || got.Message != "psst" || got.ChatRoomID != DirectID {
		t.Errorf("bob's direct message: %+v", got)
	}
	_ = annSub

	// /detach ends the other session, with a reason.
	if _, err := ann.Run("lobby", "detach", "2"); err != nil {
		t.Fatal(err)
	}
	select {
	case why := <-annOtherSess.ended:
		if !strings.Contains(why, "detached") {
			t.Errorf("detached with %q", why)
		}
	default:
		t.Error("/detach 2 did not end ann's second session")
	}
}

// TestModeration: a kick and a ban end every session of the user with a
// reason naming the admin; a ban outlives the session; /release frees a
// name for another key.
func TestModeration(t *testing.T) {
	tc := newTestCore(t, Config{MessageBurst: 100}, nil)
	tc.core.SetAdmins(map[string]bool{rootID: true})
	root, _ := tc.join(rootID, "boss", "r1")
	seat1, bob1 := tc.join(bobID, "bob", "b1")
	seat2, bob2 := tc.join(bobID, "bob", "b2")

	if _, err := root.Run("lobby", "kick", "bob spamming"); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []*hub.Subscription{bob1, bob2} {
		for range sub.Events() {
		}
		if err := sub.Err(); !errors.Is(err, hub.ErrDropped) || !strings.Contains(err.Error(), "kicked by boss: spamming") {
			t.Errorf("bob's session after the kick: %v", err)
		}
	}
	if ev, ok := tc.lastOfType(hub.EventTypeKick); !ok || ev.To != bobID || ev.Reason != "spamming" {
		t.Errorf("kick event %+v", ev)
	}
	seat1.Leave() // as the sessions' handlers do when their streams end
	seat2.Leave()
	if _, err := root.Run("lobby", "kick", "bob"); err == nil {
		t.Error("kicked a user who is not online")
	}

	seat3, bob3 := tc.join(bobID, "bob", "b3")
	if _, err := root.Run("lobby", "ban", "bob 2h spam"); err != nil {
		t.Fatal(err)
	}
	for range bob3.Events() {
	}
	if err := bob3.Err(); !errors.Is(err, hub.ErrDropped) || !strings.Contains(err.Error(), "banned by boss until") {
		t.Errorf("bob's session after the ban: %v", err)
	}
	seat3.Leave()
	if why, banned := tc.core.Banned(bobID); !banned || !strings.Contains(why, "until") || !strings.Contains(why, "spam") {
		t.Errorf("Banned(bob) = %q, %v", why, banned)
	}
	if reply, _ := root.Run("lobby", "banned", ""); !strings.Contains(reply, "banned: 1") || !strings.Contains(reply, "(spam)") {
		t.Errorf("/banned = %q", reply)
	}
	if _, err := root.Run("lobby", "unban", bobID); err != nil { // by fingerprint
		t.Fatal(err)
	}
	if _, banned := tc.core.Banned(bobID); banned {
		t.Error("still banned after /unban")
	}
	if _, err := root.Run("lobby", "ban", "bob 7d"); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Run("lobby", "unban", "bob"); err != nil { // by owned name, offline
		t.Fatal(err)
	}

	// bob is offline: his name may be released for another key.
	if _, err := root.Run("lobby", "release", "bob"); err != nil {
		t.Fatal(err)
	}
	if ev, ok := tc.lastOfType(hub.EventTypeRelease); !ok || ev.To != bobID || ev.Message != "bob" {
		t.Errorf("release event %+v", ev)
	}
	_, a, _ := tc.arrive(carolID, "bob", "c1")
	if a.Name != "bob" {
		t.Errorf("after /release another key got %q, want bob", a.Name)
	}
	if tc.core.Motd() != "" {
		t.Errorf("motd %q before any was set", tc.core.Motd())
	}
}

// TestMuteRefusesMessages: a muted user's messages, actions and direct
// messages are refused, its presence commands too; an admin's are not.
func TestMuteRefusesMessages(t *testing.T) {
	tc := newTestCore(t, Config{}, nil)
	tc.core.SetAdmins(map[string]bool{rootID: true})
	root, _ := tc.join(rootID, "boss", "r1")
	bob, _ := tc.join(bobID, "bob", "b1")
	if _, err := root.Run("lobby", "mute", "bob"); err != nil {
		t.Fatal(err)
	}
	if err := bob.Post("lobby", "hello"); err == nil || !strings.Contains(err.Error(), "muted for good") {
		t.Errorf("a muted user's message: %v", err)
	}
	if err := root.Post("lobby", "still here"); err != nil {
		t.Errorf("the admin's message: %v", err)
	}
}

// TestStoreRefusesWhileItCannotSave: messages are refused while the log
// cannot write, and accepted again after.
func TestStoreRefusesWhileItCannotSave(t *testing.T) {
	var broken error = errors.New("disk full")
	tc := newTestCore(t, Config{Store: func() error { return broken }}, nil)
	ann, _ := tc.join(annID, "ann", "a1")
	if err := ann.Post("lobby", "hi"); !errors.Is(err, ErrCannotSave) {
		t.Errorf("a message while the log is broken: %v", err)
	}
	broken = nil
	if err := ann.Post("lobby", "hi"); err != nil {
		t.Errorf("a message after the log recovered: %v", err)
	}
	if err := ann.Post("lobby", strings.Repeat("x", 4097)); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("a message over the limit: %v", err)
	}
}

// TestRateLimitPerUser: the bucket is the user's, shared by its sessions
// and by messages and commands that post; another user has its own; the
// refusals are counted.
func TestRateLimitPerUser(t *testing.T) {
	throttled := 0
	tc := newTestCore(t, Config{MessageBurst: 3, MessageRate: 0.001, Throttled: func() { throttled++ }}, nil)
	a1, _ := tc.join(annID, "ann", "a1")
	a2, _ := tc.join(annID, "ann", "a2")
	bob, _ := tc.join(bobID, "bob", "b1")
	sent := 0
	for i := range 10 {
		seat := a1
		if i%2 == 1 {
			seat = a2
		}
		if err := seat.Post("lobby", "hi"); err == nil {
			sent++
		} else if !strings.Contains(err.Error(), "slow down: at most 3 messages at once") {
			t.Errorf("refusal %q does not say to slow down", err)
		}
	}
	if sent != 3 || throttled != 7 {
		t.Errorf("%d of 10 sent, %d throttled; want the burst of 3 across both sessions, 7 throttled", sent, throttled)
	}
	if _, err := a1.Run("lobby", "away", ""); err == nil {
		t.Error("/away past the rate: let through")
	}
	if err := bob.Post("lobby", "hi"); err != nil {
		t.Errorf("another user's message was throttled: %v", err)
	}
}

// TestRatesForgetRestedUsers: the buckets of users who sent nothing for a
// while are dropped, so the map stays the size of the recent senders.
func TestRatesForgetRestedUsers(t *testing.T) {
	r := newRates(1e9, 1) // refills at once
	for i := range 3000 {
		if !r.allow(string(rune('a'+i%26)) + strings.Repeat("x", i)) {
			t.Fatal("a first message was refused")
		}
	}
	r.mu.Lock()
	n := len(r.byUser)
	r.mu.Unlock()
	if n > 2048 {
		t.Errorf("%d buckets kept for 3000 users who all rested", n)
	}
}

// TestNickIsOneStep: /nick changes the name every reader sees — /who, the
// roster, the room's events — or none of them.
func TestNickIsOneStep(t *testing.T) {
	reg, err := registry.Open("")
	if err != nil {
		t.Fatal(err)
	}
	tc := newTestCore(t, Config{}, reg)
	ann, sub := tc.join(annID, "ann", "a1")
	tc.arrive(annID, "ann", "a2")
	if _, err := ann.Run("lobby", "nick", "annie"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, sub); ev.Type != hub.EventTypeNick || ev.Name != "annie" {
		t.Errorf("the room saw %+v, want a nick to annie", ev)
	}
	if top, _ := tc.core.Members("lobby", 10); len(top) != 1 || top[0].Name != "annie" || top[0].Sessions != 2 {
		t.Errorf("roster after /nick: %+v", top)
	}
	if err := ann.Post("lobby", "hello"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, sub); ev.Name != "annie" {
		t.Errorf("a message after /nick is signed %q", ev.Name)
	}

	// A room that refuses the rename leaves the roster as it was.
	if err := tc.hub.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.Run("lobby", "nick", "anna"); err == nil {
		t.Error("/nick on a closed room succeeded")
	}
	if top, _ := tc.core.Members("lobby", 10); top[0].Name != "annie" {
		t.Errorf("the roster says %q after a refused rename, the room annie", top[0].Name)
	}
}
