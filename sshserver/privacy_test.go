package sshserver

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/sshchat/sshchat/hub"
)

// readPath is one way a user reads what happens in the room.
type readPath struct {
	kind    string // "script", "chat" or "screen"
	command string // the script or slash command; for a screen, what it shows
	args    string
	read    func() string // what the viewer was shown
}

// TestNoReadPathLeaks runs every read path as carol, who ignores mallory,
// while alice sends direct messages to bob and mallory talks: no path may
// show carol a direct message between others, or anything mallory says.
// Every script command and slash command must have a row: a new one
// without a row fails the test.
func TestNoReadPathLeaks(t *testing.T) {
	ts := startTestServer(t)
	aliceKey, bobKey, carolKey, malloryKey := newSigner(t), newSigner(t), newSigner(t), newSigner(t)
	alice := ts.connect("alice", aliceKey)
	alice.waitText("#lobby")
	bob := ts.connect("bob", bobKey)
	bob.waitText("#lobby")
	carol := ts.connect("carol", carolKey)
	carol.waitText("#lobby")
	if _, stderr, status := ts.run("mallory", malloryKey, "say hello"); status != 0 {
		t.Fatalf("say as mallory: %d %s", status, stderr)
	}
	if _, err := ts.chat("carol", "ignore", "mallory"); err != nil {
		t.Fatalf("/ignore mallory: %v", err)
	}
	ts.srv.SetAdmins(map[string]bool{fingerprint(carolKey): true}) // so that every slash command runs

	// round makes the events carol must not see, then one she must.
	rounds := 0
	round := func() (marker string) {
		t.Helper()
		rounds++
		if _, err := ts.chat("alice", "msg", fmt.Sprintf("bob SECRET-%d", rounds)); err != nil {
			t.Fatalf("/msg: %v", err)
		}
		if err := ts.direct.Post(hub.Event{Type: hub.EventTypeDirect, UserID: fingerprint(malloryKey), To: fingerprint(carolKey), Message: fmt.Sprintf("NOISE-dm-%d", rounds)}); err != nil {
			t.Fatal(err)
		}
		if _, stderr, status := ts.run("mallory", malloryKey, fmt.Sprintf("say NOISE-%d", rounds)); status != 0 {
			t.Fatalf("say as mallory: %d %s", status, stderr)
		}
		marker = fmt.Sprintf("MARK-%d", rounds)
		if _, stderr, status := ts.run("alice", aliceKey, "say "+marker); status != 0 {
			t.Fatalf("say as alice: %d %s", status, stderr)
		}
		return marker
	}
	first := round()
	carol.waitText(first)

	// The events are there for those who may see them: the checks below
	// would find them if a path leaked.
	bob.waitText("SECRET-1")
	// Direct messages are in no room: no room's history has them, and
	// the screens show them (bob's above).
	if out, _, _ := ts.run("alice", aliceKey, "history -n 100"); !strings.Contains(out, "NOISE-1") {
		t.Fatalf("alice's history lacks mallory's message:\n%s", out)
	}

	script := func(cmd string) func() string {
		return func() string {
			out, errOut, _ := ts.run("carol", carolKey, cmd)
			return out + errOut
		}
	}
	tail := func(cmd string) func() string {
		return func() string {
			st := ts.start("carol", carolKey, cmd)
			st.until("carol") // its own arrival: it is subscribed
			return st.until(round())
		}
	}
	screenNow := func(c *screen) string {
		now, raw := c.text()
		return now + "\n" + ansi.Strip(raw)
	}
	paths := []readPath{
		{kind: "script", command: "help", read: script("help")},
		{kind: "script", command: "say", read: script("say hi from carol")},
		{kind: "script", command: "who", read: script("who")},
		{kind: "script", command: "who", args: "--json", read: script("who --json")},
		{kind: "script", command: "history", read: script("history")},
		{kind: "script", command: "history", args: "--json -n 100", read: script("history --json -n 100")},
		{kind: "script", command: "tail", read: tail("tail")},
		{kind: "script", command: "rooms", read: script("rooms")},
		{kind: "script", command: "rooms", args: "--json", read: script("rooms --json")},
		{kind: "script", command: "tail", args: "--json", read: tail("tail --json")},
		{kind: "screen", command: "live", read: func() string {
			carol.waitText(round())
			return screenNow(carol)
		}},
		{kind: "screen", command: "backlog of another session", read: func() string {
			marker := round()
			other := ts.connect("carol", carolKey)
			other.waitText(marker)
			defer other.close()
			return screenNow(other)
		}},
	}
	chatArgs := map[string]string{
		"nick": "carol", "me": "waves", "msg": "alice hello", "whois": "alice", "away": "lunch",
		"ignore": "mallory", "unignore": "alice", "detach": "99", "kick": "nobody", "ban": "nobody",
		"unban": "nobody", "mute": "nobody", "unmute": "nobody", "motd": "welcome", "release": "nobody",
	}
	carolID, _ := ts.online("carol")
	seat, _, err := ts.srv.chat.Arrive(carolID, "carol", newChatSession("commands", "192.0.2.1:1", newStreams(carolID, nil)))
	if err != nil {
		t.Fatal(err)
	}
	chatCommands := seat.Commands() // carol is an admin: all of them
	seat.Leave()
	for _, c := range chatCommands {
		paths = append(paths, readPath{kind: "chat", command: c.Name, args: chatArgs[c.Name], read: func() string {
			reply, err := ts.chat("carol", c.Name, chatArgs[c.Name])
			return fmt.Sprint(reply, err)
		}})
	}
	// Last: a reconnection, with the ignore list read back from the registry.
	paths = append(paths, readPath{kind: "screen", command: "backlog after reconnecting", read: func() string {
		marker := round()
		carol.waitText(marker)
		carol.close()
		again := ts.connect("carol", carolKey)
		again.waitText(marker)
		return screenNow(again)
	}})

	// The guard: every command has a row.
	var want, got []string
	help, _, _ := ts.run("carol", carolKey, "help")
	for _, line := range strings.Split(help, "\n")[1:] { // after the usage line, a command a line
		if name, _, _ := strings.Cut(strings.TrimSpace(line), " "); name != "" && !strings.HasPrefix(name, "-") {
			want = append(want, "script "+name)
		}
	}
	for _, c := range chatCommands {
		want = append(want, "chat "+c.Name)
	}
	for _, p := range paths {
		if p.kind != "screen" {
			got = append(got, p.kind+" "+p.command)
		}
	}
	slices.Sort(want)
	got = slices.Compact(slices.Sorted(slices.Values(got)))
	if !slices.Equal(got, want) {
		t.Errorf("read paths tested = %v\nwant every command: %v", got, want)
	}

	for _, p := range paths {
		seen := p.read()
		for _, secret := range []string{"SECRET", "NOISE"} {
			if strings.Contains(seen, secret) {
				t.Errorf("%s %s %s shows carol %q:\n%s", p.kind, p.command, p.args, secret, seen)
			}
		}
	}
}
