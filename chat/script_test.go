package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/sshchat/sshchat/hub"
)

func (tc *testCore) script(userID, user, stdin string, argv ...string) (status int, x *fakeScript) {
	tc.t.Helper()
	x = &fakeScript{fakeSession: newFakeSession("x-" + user), ctx: context.Background(), user: user, stdin: strings.NewReader(stdin)}
	return tc.core.Exec(x, userID, argv), x
}

func TestScriptSayWhoHistory(t *testing.T) {
	tc := newTestCore(t, Config{Line: func(ev hub.Event) string {
		if ev.Type != hub.EventTypeMessage {
			return ""
		}
		return ev.Name + ": " + ev.Message
	}}, nil)
	_, watcher := tc.join(annID, "ann", "a1")

	if status, x := tc.script(bobID, "robot", "", "say", "hello", "there"); status != exitOK {
		t.Fatalf("say: %d %s", status, x.stderr.String())
	}
	if ev := next(t, watcher); ev.Message != "hello there" || ev.Name != "robot" {
		t.Errorf("say posted %+v", ev)
	}
	if status, x := tc.script(bobID, "robot", "from\nstdin\n", "say"); status != exitOK {
		t.Fatalf("say from stdin: %d %s", status, x.stderr.String())
	}
	if ev := next(t, watcher); ev.Message != "from\nstdin" {
		t.Errorf("say from stdin posted %q", ev.Message)
	}
	if status, _ := tc.script(bobID, "robot", "  ", "say"); status != exitUsage {
		t.Errorf("say of nothing: status %d, want %d", status, exitUsage)
	}
	if status, x := tc.script(bobID, "robot", strings.Repeat("x", maxSayInput+1), "say"); status != exitFailed || !strings.Contains(x.stderr.String(), "over") {
		t.Errorf("say of too much: %d %q", status, x.stderr.String())
	}
	if status, _ := tc.script(bobID, "robot", "", "say", "--bogus"); status != exitUsage {
		t.Errorf("say --bogus: status %d", status)
	}
	// A say is not a session: the robot is not listed.
	status, x := tc.script(carolID, "carol", "", "who")
	if status != exitOK || !strings.Contains(x.stdout.String(), "ann") || strings.Contains(x.stdout.String(), "robot") {
		t.Errorf("who: %d %q", status, x.stdout.String())
	}
	_, x = tc.script(carolID, "carol", "", "who", "--json")
	var u struct {
		UserID   string `json:"userId"`
		Name     string `json:"name"`
		Sessions int    `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(x.stdout.String()), &u); err != nil || u.Name != "ann" || u.Sessions != 1 || u.UserID != annID {
		t.Errorf("who --json = %q (%v)", x.stdout.String(), err)
	}
	if status, _ := tc.script(carolID, "carol", "", "who", "--bogus"); status != exitUsage {
		t.Errorf("who --bogus: status %d", status)
	}

	_, x = tc.script(carolID, "carol", "", "history", "-n", "1")
	if got := x.stdout.String(); got != "robot: from\nstdin\n" {
		t.Errorf("history -n 1 = %q", got)
	}
	_, x = tc.script(carolID, "carol", "", "history", "--json")
	if n := strings.Count(x.stdout.String(), "\n"); n < 3 || !strings.Contains(x.stdout.String(), `"hello there"`) {
		t.Errorf("history --json = %q", x.stdout.String())
	}
	if status, _ := tc.script(carolID, "carol", "", "history", "-n", "-1"); status != exitUsage {
		t.Errorf("history -n -1: status %d", status)
	}
	if status, x := tc.script(carolID, "carol", "", "help"); status != exitOK || !strings.Contains(x.stdout.String(), "tail") {
		t.Errorf("help: %d %q", status, x.stdout.String())
	}
	if status, x := tc.script(carolID, "carol", "", "rm", "-rf"); status != exitUsage || !strings.Contains(x.stderr.String(), "unknown command") {
		t.Errorf("an unknown command: %d %q", status, x.stderr.String())
	}
}

// TestScriptReadPathsHideWhatIsNotTheirs: history and tail show the
// caller neither others' direct messages nor the users it ignores.
func TestScriptReadPathsHideWhatIsNotTheirs(t *testing.T) {
	tc := newTestCore(t, Config{}, nil)
	carol, _ := tc.join(carolID, "carol", "c1")
	bobSeat, bob := tc.join(bobID, "bob", "b1")
	tc.join(rootID, "mallory", "m1")
	if _, err := carol.Run("lobby", "ignore", "mallory"); err != nil {
		t.Fatal(err)
	}
	secrets := func() {
		t.Helper()
		if err := tc.hub.Post(hub.Event{Type: hub.EventTypeDirect, UserID: annID, To: bobID, Message: "SECRET"}); err != nil {
			t.Fatal(err)
		}
		tc.hub.Message(rootID, "NOISE")
	}
	secrets()
	tc.hub.Message(bobID, "MARK-1")
	_, x := tc.script(carolID, "carol", "", "history", "--json", "-n", "100")
	if out := x.stdout.String(); !strings.Contains(out, "MARK-1") || strings.Contains(out, "SECRET") || strings.Contains(out, "NOISE") {
		t.Errorf("history shows carol:\n%s", out)
	}

	// The direct messages are in no room: @direct gives each user theirs.
	if _, err := bobSeat.Run("lobby", "msg", "carol FOR-CAROL"); err != nil {
		t.Fatal(err)
	}
	if _, x := tc.script(carolID, "carol", "", "history", "--room", DirectID); !strings.Contains(x.stdout.String(), "FOR-CAROL") || strings.Contains(x.stdout.String(), "SECRET") {
		t.Errorf("history --room @direct shows carol:\n%s", x.stdout.String())
	}
	if _, x := tc.script(rootID, "mallory", "", "history", "--room", DirectID); strings.Contains(x.stdout.String(), "FOR-CAROL") || strings.Contains(x.stdout.String(), "SECRET") {
		t.Errorf("history --room @direct shows mallory:\n%s", x.stdout.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	x = &fakeScript{fakeSession: newFakeSession("tail"), ctx: ctx, user: "carol", stdin: strings.NewReader("")}
	done := make(chan int)
	go func() { done <- tc.core.Exec(x, carolID, []string{"tail", "--json"}) }()
	// The tail is subscribed once the room sees carol's second session.
	for ev := range bob.Events() {
		if ev.Type == hub.EventTypeAdd && ev.UserID == carolID {
			break
		}
	}
	secrets()
	tc.hub.Message(bobID, "MARK-2")
	// The tail has written MARK-2 once it is in the history the room
	// keeps and the tail has ended: stop it after the room closes.
	if err := tc.hub.Close(); err != nil {
		t.Fatal(err)
	}
	status := <-done
	cancel()
	if out := x.stdout.String(); status != exitOK || !strings.Contains(out, "MARK-2") || strings.Contains(out, "SECRET") || strings.Contains(out, "NOISE") || !x.finished {
		t.Errorf("tail: status %d, finished %v, shows carol:\n%s", status, x.finished, out)
	}
}

// TestScriptRooms: say, history, who and tail take --room (go or #go);
// rooms lists them, --json too; a private room is not read by outsiders.
func TestScriptRooms(t *testing.T) {
	tc := newTestCore(t, Config{Line: func(ev hub.Event) string { return ev.Message }}, nil)
	ann, _ := tc.join(annID, "ann", "a1")
	annGo := joinRoom(t, ann, "go")
	if _, err := ann.Run("go", "topic", "gophers"); err != nil {
		t.Fatal(err)
	}
	joinRoom(t, ann, "secret")
	if _, err := ann.Run("secret", "mode", "+i"); err != nil {
		t.Fatal(err)
	}

	if status, x := tc.script(bobID, "bob", "", "say", "--room", "#go", "hello", "go"); status != exitOK {
		t.Fatalf("say --room: %d %s", status, x.stderr.String())
	}
	if ev := untilType(t, annGo, hub.EventTypeMessage); ev.Message != "hello go" || ev.ChatRoomID != "go" || ev.Name != "bob" {
		t.Errorf("#go got %+v", ev)
	}
	if status, x := tc.script(bobID, "bob", "", "say", "--room", "nowhere", "hi"); status != exitFailed || !strings.Contains(x.stderr.String(), "no room #nowhere") {
		t.Errorf("say in a room that does not exist: %d %q", status, x.stderr.String())
	}
	if status, x := tc.script(bobID, "bob", "", "say", "--room", "secret", "hi"); status != exitFailed || !strings.Contains(x.stderr.String(), "invite only") {
		t.Errorf("say in an invite-only room: %d %q", status, x.stderr.String())
	}
	_, x := tc.script(bobID, "bob", "", "history", "--room", "go", "-n", "1")
	if got := x.stdout.String(); got != "hello go\n" {
		t.Errorf("history --room go -n 1 = %q", got)
	}
	_, x = tc.script(bobID, "bob", "", "history", "-n", "100")
	if strings.Contains(x.stdout.String(), "hello go") {
		t.Errorf("the lobby's history holds #go's message:\n%s", x.stdout.String())
	}
	if status, x := tc.script(bobID, "bob", "", "history", "--room", "secret"); status != exitFailed || x.stdout.Len() != 0 {
		t.Errorf("history of an invite-only room to an outsider: %d %q", status, x.stdout.String())
	}
	_, x = tc.script(bobID, "bob", "", "who", "--room", "go")
	if !strings.Contains(x.stdout.String(), "ann") {
		t.Errorf("who --room go = %q", x.stdout.String())
	}
	if status, x := tc.script(bobID, "bob", "", "who", "--room", "secret"); status != exitFailed {
		t.Errorf("who of an invite-only room to an outsider: %d %q", status, x.stdout.String())
	}

	_, x = tc.script(bobID, "bob", "", "rooms")
	if out := x.stdout.String(); !strings.Contains(out, "#lobby") || !strings.Contains(out, "gophers") || strings.Contains(out, "secret") {
		t.Errorf("rooms = %q", out)
	}
	_, x = tc.script(annID, "ann", "", "rooms", "--json")
	var got []RoomInfo
	for line := range strings.Lines(x.stdout.String()) {
		var ri RoomInfo
		if err := json.Unmarshal([]byte(line), &ri); err != nil {
			t.Fatalf("rooms --json line %q: %v", line, err)
		}
		got = append(got, ri)
	}
	want := []RoomInfo{
		{ID: "lobby", Members: 1},
		{ID: "go", Topic: "gophers", Owner: annID, Members: 1},
		{ID: "secret", Owner: annID, Members: 1, InviteOnly: true, Private: true},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rooms --json = %+v, want %+v", got, want)
	}
	if status, _ := tc.script(annID, "ann", "", "rooms", "extra", "--bogus"); status != exitUsage {
		t.Errorf("rooms --bogus: %d", status)
	}

	// tail --room follows that room only, and ends when it is dropped.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	x = &fakeScript{fakeSession: newFakeSession("tail"), ctx: ctx, user: "bob", stdin: strings.NewReader("")}
	done := make(chan int)
	go func() { done <- tc.core.Exec(x, bobID, []string{"tail", "--room", "go"}) }()
	untilType(t, annGo, hub.EventTypeJoin) // bob's tail is in
	if err := ann.Post("lobby", "LOBBY"); err != nil {
		t.Fatal(err)
	}
	if err := ann.Post("go", "GO"); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.Run("go", "drop", "bye"); err != nil {
		t.Fatal(err)
	}
	if status := <-done; status != exitFailed || !strings.Contains(x.stderr.String(), "dropped") {
		t.Errorf("tail of a dropped room: %d %q", status, x.stderr.String())
	}
	if out := x.stdout.String(); !strings.Contains(out, "GO") || strings.Contains(out, "LOBBY") {
		t.Errorf("tail --room go wrote %q", out)
	}
	if status, x := tc.script(bobID, "bob", "", "tail", "--room", "go"); status != exitFailed || !strings.Contains(x.stderr.String(), "no room") {
		t.Errorf("tail of a room that is gone: %d %q", status, x.stderr.String())
	}
}
