package chat

import (
	"fmt"
	"strings"
	"testing"
)

// TestPresenceAcrossSessions: users come and go with several sessions
// each; after every step the roster, /who and the script who agree on who
// is online and with how many sessions, and a user goes offline with its
// last session only.
func TestPresenceAcrossSessions(t *testing.T) {
	tc := newTestCore(t, Config{}, nil)
	watch, _, _ := tc.arrive(carolID, "carol", "c1")
	type step struct {
		user, name string
		arrive     bool
	}
	steps := []step{
		{annID, "ann", true}, {annID, "ann", true}, {bobID, "bob", true}, {annID, "ann", true},
		{annID, "ann", false}, {bobID, "bob", true}, {bobID, "bob", false}, {annID, "ann", false},
		{bobID, "bob", false}, {annID, "ann", false},
	}
	seats := map[string][]*Seat{}
	for i, st := range steps {
		if st.arrive {
			sessionID := fmt.Sprint(st.user, i)
			seat, a, err := tc.core.Arrive(st.user, st.name, newFakeSession(sessionID))
			if err != nil {
				t.Fatal(err)
			}
			if top, _ := tc.core.Members("lobby", 100); len(top) != len(seats)+1-empty(seats) {
				t.Errorf("step %d: %s listed before the room has the session: %+v", i, st.name, top)
			}
			if _, _, err := seat.Join("lobby", 0); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(seat.Leave)
			seats[st.user] = append(seats[st.user], seat)
			if a.Sessions != len(seats[st.user]) || a.Name != st.name {
				t.Errorf("step %d: arrival %+v, want %s with %d sessions", i, a, st.name, len(seats[st.user]))
			}
		} else {
			last := seats[st.user][len(seats[st.user])-1]
			last.Leave()
			last.Leave() // twice is harmless
			seats[st.user] = seats[st.user][:len(seats[st.user])-1]
		}
		want := map[string]int{"carol": 1}
		for id, s := range seats {
			if len(s) > 0 {
				want[map[string]string{annID: "ann", bobID: "bob"}[id]] = len(s)
			}
		}
		top, total := tc.core.Members("lobby", 100)
		if total != len(want) {
			t.Errorf("step %d: %d online, want %d", i, total, len(want))
		}
		who, _ := watch.Run("lobby", "who", "")
		_, x := tc.script(carolID, "carol", "", "who")
		for _, m := range top {
			if want[m.Name] != m.Sessions {
				t.Errorf("step %d: roster has %s with %d sessions, want %d", i, m.Name, m.Sessions, want[m.Name])
			}
			if !strings.Contains(who, fmt.Sprintf("%-24s %d session", m.Name, m.Sessions)) {
				t.Errorf("step %d: /who disagrees with the roster on %s:\n%s", i, m.Name, who)
			}
			if !strings.Contains(x.stdout.String(), fmt.Sprintf("%-24s %3d  %s", m.Name, m.Sessions, m.UserID)) {
				t.Errorf("step %d: who disagrees with the roster on %s:\n%s", i, m.Name, x.stdout.String())
			}
		}
		if got := strings.Count(x.stdout.String(), "\n"); got != len(want) {
			t.Errorf("step %d: who lists %d users, want %d", i, got, len(want))
		}
	}
}

// TestSecondSessionKeepsTheName: a user online under one name keeps it in
// a session that asks for another, and is told so.
func TestSecondSessionKeepsTheName(t *testing.T) {
	tc := newTestCore(t, Config{}, nil)
	tc.arrive(annID, "ann", "a1")
	_, a, _ := tc.arrive(annID, "zed", "a2")
	if a.Name != "ann" || len(a.Notices) != 1 || !strings.Contains(a.Notices[0], "already online as ann") {
		t.Errorf("second session asking for zed: %+v", a)
	}
	_, a, _ = tc.arrive(bobID, "ANN", "b1")
	if a.Name == "ANN" || a.Warning == "" {
		t.Errorf("another key asking for ann's name: %+v, want a distinct name and a warning for the room", a)
	}
}

// empty is how many users of seats have no session.
func empty(seats map[string][]*Seat) int {
	n := 0
	for _, s := range seats {
		if len(s) == 0 {
			n++
		}
	}
	return n
}
