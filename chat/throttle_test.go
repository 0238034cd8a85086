package chat

import (
	"strings"
	"testing"

	"github.com/sshchat/sshchat/registry"
)

// runAs brings userID online under name, with one session, and returns
// the function the UI would run its commands with.
func (tc *testCore) runAs(userID, name string) func(name, args string) (string, error) {
	tc.t.Helper()
	seat, _, _ := tc.arrive(userID, name, "s-"+name)
	return func(name, args string) (string, error) { return seat.Run(tc.core.Lobby(), name, args) }
}

func TestEventCommandsThrottled(t *testing.T) {
	const burst = 3
	for _, line := range []string{"away lunch", "back", "nick ann2"} {
		tc := newTestCore(t, Config{MessageBurst: burst, MessageRate: 0.001}, nil)
		run := tc.runAs("SHA256:ann", "ann")
		name, args, _ := strings.Cut(line, " ")
		ran := 0
		var refusal error
		for range 100 {
			if _, err := run(name, args); err == nil {
				ran++
			} else if strings.Contains(err.Error(), "slow down") {
				refusal = err
			}
		}
		if ran > burst {
			t.Errorf("/%s ran %d times in a row; want at most the burst of %d", line, ran, burst)
		}
		if refusal == nil {
			t.Errorf("/%s: no refusal said to slow down", line)
		}
		// The same bucket as messages: the next message is refused too.
		if _, err := tc.core.checkOutgoing("SHA256:ann", tc.core.lobby, "hello"); err == nil {
			t.Errorf("a message after a burst of /%s was let through", name)
		}
	}
}

func TestModerationThrottled(t *testing.T) {
	tc := newTestCore(t, Config{MessageBurst: 2, MessageRate: 0.001}, nil)
	tc.core.SetAdmins(map[string]bool{"SHA256:root": true})
	run := tc.runAs("SHA256:root", "root")
	tc.runAs("SHA256:bob", "bob")
	refused := 0
	for range 20 {
		if _, err := run("motd", "hello"); err != nil && strings.Contains(err.Error(), "slow down") {
			refused++
		}
	}
	if refused != 18 {
		t.Errorf("%d of 20 /motd refused; want 18 past a burst of 2", refused)
	}
}

func TestMutedUserCannotPostEvents(t *testing.T) {
	reg, err := registry.Open("")
	if err != nil {
		t.Fatal(err)
	}
	tc := newTestCore(t, Config{}, reg)
	run := tc.runAs("SHA256:bob", "bob")
	if err := reg.Mute("SHA256:bob", registry.Restriction{By: "SHA256:root"}); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"away x", "back", "nick bobby", "me waves", "msg bob hi"} {
		name, args, _ := strings.Cut(line, " ")
		if _, err := run(name, args); err == nil || !strings.Contains(err.Error(), "muted") {
			t.Errorf("/%s by a muted user: %v; want refused, the mute named", line, err)
		}
	}
}

// TestRoomCommandsThrottled: the commands of rooms that make events
// (/join /part /topic /op /deop /drop) take tokens of the user's rate of
// room commands, so that a /join and /part loop cannot fill the log; a
// mute does not stop them.
func TestRoomCommandsThrottled(t *testing.T) {
	const burst = 4
	tc := newTestCore(t, Config{MessageBurst: burst, MessageRate: 0.001}, nil)
	tc.core.SetAdmins(map[string]bool{"SHA256:root": true})
	seat, _, _ := tc.arrive("SHA256:ann", "ann", "s-ann")
	tc.arrive("SHA256:bob", "bob", "s-bob")
	root := tc.runAs("SHA256:root", "root")
	if _, err := root("mute", "ann"); err != nil {
		t.Fatal(err)
	}
	ran := 0
	var refusal error
	for range 50 {
		for _, cmd := range [][2]string{{"join", "#flood"}, {"topic", "spam"}, {"op", "bob"}, {"part", "#flood"}} {
			room := tc.core.Lobby()
			if cmd[0] == "topic" || cmd[0] == "op" {
				room = "flood"
			}
			_, err := seat.Run(room, cmd[0], cmd[1])
			switch {
			case err == nil:
				ran++
			case strings.Contains(err.Error(), "slow down"):
				refusal = err
			case strings.Contains(err.Error(), "muted"):
				t.Fatalf("/%s refused for a mute: %v", cmd[0], err)
			}
		}
	}
	if ran != roomBurst*burst {
		t.Errorf("%d room commands ran; want their burst of %d, then none", ran, roomBurst*burst)
	}
	// Their own bucket: the messages' is untouched.
	for i := range burst {
		if !tc.core.rates.allow("SHA256:ann") {
			t.Fatalf("message %d after the room commands refused: they took the messages' tokens", i+1)
		}
	}
	if refusal == nil {
		t.Error("no refusal said to slow down")
	}
}
