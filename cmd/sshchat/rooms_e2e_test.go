package main

import (
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/sshchat/sshchat/hub"
)

// Key presses of the room list.
const (
	altOne = "\x1b1"
	altTwo = "\x1b2"
	ctrlN  = "\x0e"
	ctrlP  = "\x10"
)

// connectIn opens an interactive session of user that runs command with
// its PTY: a room's name ("#go") opens the chat in that room.
func (s *testServer) connectIn(user string, key ssh.Signer, width, height int, command string) *client {
	s.t.Helper()
	conn, err := ssh.Dial("tcp", s.addr, clientConfig(user, ssh.PublicKeys(key)))
	if err != nil {
		s.t.Fatalf("dial as %s: %v", user, err)
	}
	return s.openCmd(conn, user, width, height, command)
}

// header is the top line of a screen: the room shown, and its topic.
func header(screen string) string {
	first, _, _ := strings.Cut(screen, "\n")
	return first
}

// waitShown waits until the screen shows room ("#go") in its header.
func (c *client) waitShown(room string) string {
	c.t.Helper()
	return c.waitFor(room+" shown", func(scr string) bool { return strings.Contains(header(scr)+" ", " "+room+" ") })
}

// listRow is the row of the room list that names room ("#go"), "" when
// none does.
func listRow(screen, room string) string {
	for line := range strings.SplitSeq(screen, "\n") {
		i := strings.LastIndex(line, "╎ ")
		if i < 0 {
			continue
		}
		row := strings.TrimSpace(line[i+len("╎ "):])
		if fields := strings.Fields(row); len(fields) >= 2 && (fields[1] == room || len(fields) >= 3 && fields[0] == ">" && fields[2] == room) {
			return row
		}
	}
	return ""
}

// TestTwoRoomsKeepTheirMessagesApart: ann is in the lobby and #go, bob in
// #go only, carol in the lobby only. What is said in one room never shows
// in the other, on any screen; each event in the log carries its room.
func TestTwoRoomsKeepTheirMessagesApart(t *testing.T) {
	s := startServer(t, t.TempDir())
	ann := s.connect("ann", newKey(t), 120, 40)
	ann.waitShown("#lobby")
	bob := s.connectIn("bob", newKey(t), 120, 40, "#go")
	bob.waitShown("#go")
	carol := s.connect("carol", newKey(t), 120, 40)
	carol.waitShown("#lobby")
	ann.say("/join #go")
	ann.waitShown("#go")

	bob.say("only in go")
	ann.waitText("bob: only in go")
	ann.typeText(altOne)
	ann.waitShown("#lobby")
	carol.say("only in lobby")
	ann.waitText("carol: only in lobby")

	// A later line in each room: once it shows, the other room's line
	// would have too.
	ann.say("lobby marker")
	carol.waitText("ann: lobby marker")
	ann.typeText(altTwo)
	ann.waitShown("#go")
	ann.say("go marker")
	bob.waitText("ann: go marker")
	if scr := bob.screen(); strings.Contains(scr, "only in lobby") || strings.Contains(scr, "lobby marker") {
		t.Errorf("bob, in #go only, sees the lobby:\n%s", scr)
	}
	if scr := carol.screen(); strings.Contains(scr, "only in go") || strings.Contains(scr, "go marker") {
		t.Errorf("carol, in the lobby only, sees #go:\n%s", scr)
	}
	if scr := ann.screen(); strings.Contains(scr, "only in lobby") {
		t.Errorf("ann's #go shows the lobby's line:\n%s", scr)
	}
	ann.typeText(altOne)
	if scr := ann.waitShown("#lobby"); strings.Contains(scr, "only in go") || strings.Contains(scr, "go marker") {
		t.Errorf("ann's lobby shows #go's lines:\n%s", scr)
	}

	s.stop()
	want := map[string]string{"only in go": "go", "go marker": "go", "only in lobby": "lobby", "lobby marker": "lobby"}
	for _, ev := range s.events() {
		if room, ok := want[ev.Message]; ok && ev.Type == hub.EventTypeMessage {
			if ev.ChatRoomID != room {
				t.Errorf("%q logged in %q, want %q", ev.Message, ev.ChatRoomID, room)
			}
			delete(want, ev.Message)
		}
	}
	if len(want) > 0 {
		t.Errorf("not in the log: %v", want)
	}
}

// TestRoomListUnreadAndSwitching: a room not shown counts what is said in
// it, with a mark when it names the reader; Ctrl+N, Ctrl+P, Alt+1…9 and
// /join of a room the session is in switch, and showing a room clears
// its count.
func TestRoomListUnreadAndSwitching(t *testing.T) {
	s := startServer(t, t.TempDir())
	ann := s.connect("ann", newKey(t), 120, 40)
	ann.waitShown("#lobby")
	ann.say("/join #go")
	ann.waitShown("#go")
	ann.waitFor("the room list", func(scr string) bool {
		return listRow(scr, "#lobby") != "" && strings.HasPrefix(listRow(scr, "#go"), ">")
	})
	bob := s.connect("bob", newKey(t), 120, 40)
	bob.waitShown("#lobby")
	for _, m := range []string{"one", "two", "three"} {
		bob.say(m)
	}
	bob.waitText("bob: three")
	scr := ann.waitFor("3 unread in the lobby", func(scr string) bool { return strings.HasSuffix(listRow(scr, "#lobby"), " 3") })
	if strings.Contains(scr, "bob: three") {
		t.Errorf("ann shows #go, and the lobby's line is on it:\n%s", scr)
	}
	bob.say("ann: are you there?")
	ann.waitFor("a mention mark on the lobby", func(scr string) bool { return strings.HasSuffix(listRow(scr, "#lobby"), " 4@") })

	ann.typeText(ctrlN) // after the last room, the first
	ann.waitShown("#lobby")
	ann.waitText("bob: ann: are you there?")
	scr = ann.waitFor("the lobby marked shown", func(scr string) bool { return strings.HasPrefix(listRow(scr, "#lobby"), ">") })
	if row := listRow(scr, "#lobby"); strings.HasSuffix(row, "@") || strings.HasSuffix(row, " 4") {
		t.Errorf("the lobby shown still has its count: %q", row)
	}
	ann.typeText(ctrlP)
	ann.waitShown("#go")
	ann.typeText(altOne)
	ann.waitShown("#lobby")
	ann.say("/join #go") // in it already: only switches
	ann.waitShown("#go")
	ann.say("/join #Go")
	ann.waitShown("#go")
	if got := strings.Count(ann.screen(), "#go"); got < 2 {
		t.Errorf("ann's screen names #go %d times, want the header and the list", got)
	}
}

// TestRoomsTopicAndListing: /topic sets what the header shows; /rooms
// lists every room with how many are in it and its topic.
func TestRoomsTopicAndListing(t *testing.T) {
	s := startServer(t, t.TempDir())
	ann := s.connectIn("ann", newKey(t), 120, 40, "#go")
	ann.waitShown("#go")
	ann.say("/topic Gophers only")
	ann.waitFor("the topic in the header", func(scr string) bool { return strings.Contains(header(scr), "Gophers only") })
	bob := s.connect("bob", newKey(t), 120, 40)
	bob.waitShown("#lobby")
	bob.say("/rooms")
	scr := bob.waitText("rooms: 2")
	line := lineWith(scr, "#go ")
	if !strings.Contains(line, " 1 ") || !strings.Contains(line, "Gophers only") {
		t.Errorf("/rooms lists #go as %q, want its one member and its topic", line)
	}
	if lineWith(scr, "#lobby ") == "" {
		t.Errorf("/rooms does not list the lobby:\n%s", scr)
	}
	if ev, ok := s.lastEvent(hub.EventTypeTopic); !ok || ev.ChatRoomID != "go" || ev.Message != "Gophers only" {
		t.Errorf("topic event in the log = %+v, want #go's", ev)
	}
}

// TestRoomCommandOpensTheRoom: ssh -t HOST '#go' opens the chat in #go,
// and only there; '#Go' is the same room; a name that is no room's opens
// the lobby and says why; without a terminal it is no script command.
func TestRoomCommandOpensTheRoom(t *testing.T) {
	s := startServer(t, t.TempDir())
	key := newKey(t)
	ann := s.connectIn("ann", key, 100, 30, "#Go")
	ann.waitShown("#go")
	ann.say("hello go")
	ann.waitText("ann: hello go")
	bad := s.connectIn("bob", newKey(t), 100, 30, "#x")
	bad.waitShown("#lobby")
	bad.waitText("not a room name")

	_, stderr, status := s.runCmd("carol", newKey(t), "", "'#go'")
	if status != 1 || !strings.Contains(stderr, "interactive terminal") {
		t.Errorf("'#go' without a terminal: status %d, stderr %q; want 1 and the need for a terminal", status, stderr)
	}

	s.stop()
	annID := ssh.FingerprintSHA256(key.PublicKey())
	for _, ev := range s.events() {
		if ev.UserID == annID && ev.Type == hub.EventTypeJoin && ev.ChatRoomID != "go" {
			t.Errorf("ann joined %q, want #go only", ev.ChatRoomID)
		}
		if ev.Message == "hello go" && ev.ChatRoomID != "go" {
			t.Errorf("ann's message logged in %q, want go", ev.ChatRoomID)
		}
	}
}

// TestRestartKeepsRooms: after a restart, a room is still there with its
// topic and history, and event IDs go on increasing, one sequence for all
// rooms.
func TestRestartKeepsRooms(t *testing.T) {
	data := t.TempDir()
	first := startServer(t, data)
	ann := first.connectIn("ann", newKey(t), 120, 40, "#go")
	ann.waitShown("#go")
	ann.say("/topic kept over restarts")
	ann.waitFor("the topic", func(scr string) bool { return strings.Contains(header(scr), "kept over restarts") })
	ann.say("before the restart")
	ann.waitText("ann: before the restart")
	lobby := first.connect("carol", newKey(t), 120, 40)
	lobby.say("in the lobby before")
	lobby.waitText("carol: in the lobby before")
	first.stop()
	before := first.events()
	lastBefore := before[len(before)-1].ID

	second := startServer(t, data)
	bob := second.connectIn("bob", newKey(t), 120, 40, "#go")
	scr := bob.waitText("ann: before the restart")
	if !strings.Contains(header(scr), "#go") || !strings.Contains(header(scr), "kept over restarts") {
		t.Errorf("header after the restart = %q, want #go and its topic", header(scr))
	}
	if strings.Contains(scr, "in the lobby before") {
		t.Errorf("#go's history after the restart has the lobby's line:\n%s", scr)
	}
	bob.say("/rooms")
	bob.waitText("rooms: 2")
	bob.say("after the restart")
	bob.waitText("bob: after the restart")
	second.stop()
	evs := second.events()
	for i := 1; i < len(evs); i++ {
		if evs[i].ID <= evs[i-1].ID {
			t.Fatalf("IDs not increasing in the log: %d then %d", evs[i-1].ID, evs[i].ID)
		}
	}
	if last := evs[len(evs)-1].ID; last <= lastBefore {
		t.Errorf("IDs did not go on: last before %d, last after %d", lastBefore, last)
	}
}

// TestDirectMessageReachesEveryView: a direct message reaches every
// session of its recipient, whatever room each shows, and no one else.
func TestDirectMessageReachesEveryView(t *testing.T) {
	s := startServer(t, t.TempDir())
	annKey := newKey(t)
	inGo := s.connectIn("ann", annKey, 120, 40, "#go")
	inGo.waitShown("#go")
	inLobby := s.connect("ann", annKey, 120, 40)
	inLobby.waitShown("#lobby")
	carol := s.connectIn("carol", newKey(t), 120, 40, "#go")
	carol.waitShown("#go")
	bob := s.connect("bob", newKey(t), 120, 40)
	bob.waitShown("#lobby")
	bob.say("/msg ann SECRET-DM")
	inGo.waitText("SECRET-DM")
	inLobby.waitText("SECRET-DM")
	bob.say("/msg carol marker")
	carol.waitText("marker")
	if strings.Contains(carol.screen(), "SECRET-DM") {
		t.Errorf("carol sees a direct message to ann:\n%s", carol.screen())
	}
}

// TestLeavingARoomKeepsTheSession: a kick from a room, /part and a
// dropped room end only that room's stream: the screen says why, shows
// another room, and the session goes on; with no room left it says how
// to /join one.
func TestLeavingARoomKeepsTheSession(t *testing.T) {
	s := startServer(t, t.TempDir())
	owner := s.connectIn("ann", newKey(t), 120, 40, "#go")
	owner.waitShown("#go")
	bob := s.connect("bob", newKey(t), 120, 40)
	bob.waitShown("#lobby")
	bob.say("/join #go")
	bob.waitShown("#go")
	owner.waitJoined("bob")

	owner.say("/kick bob off topic")
	bob.waitText("you left #go")
	bob.waitText("off topic")
	bob.waitShown("#lobby")
	bob.say("still here")
	bob.waitText("bob: still here")
	if ev, ok := s.lastEvent(hub.EventTypeKick); !ok || ev.ChatRoomID != "go" {
		t.Errorf("kick event in the log = %+v, want one in #go", ev)
	}

	owner.say("/join #rust")
	owner.waitShown("#rust")
	owner.say("/part #go")
	owner.waitText("you left #go")
	owner.waitShown("#rust")
	owner.say("/drop #rust")
	owner.waitText("you left #rust")
	owner.waitText("/join #room")
	owner.say("/join #go")
	owner.waitShown("#go")
	owner.say("back in go")
	owner.waitText("ann: back in go")
}

// TestShutdownClosesEveryRoom: a graceful stop closes every room: each
// session sees it whatever room it is in, and the log ends with a close
// event of every room, direct messages' included, all written.
func TestShutdownClosesEveryRoom(t *testing.T) {
	s := startServer(t, t.TempDir())
	inGo := s.connectIn("ann", newKey(t), 100, 30, "#go")
	inGo.waitShown("#go")
	inLobby := s.connect("bob", newKey(t), 100, 30)
	inLobby.waitShown("#lobby")
	s.stop()
	for _, c := range []*client{inGo, inLobby} {
		c.waitText("server is shutting down")
	}
	evs := s.events()
	closed := map[string]bool{}
	for i := len(evs) - 1; i >= 0 && evs[i].Type == hub.EventTypeClose; i-- {
		closed[evs[i].ChatRoomID] = true
	}
	for _, room := range []string{"go", "lobby", "@direct"} {
		if !closed[room] {
			t.Errorf("the log does not end with the close of %q; closes at its end: %v", room, closed)
		}
	}
}
