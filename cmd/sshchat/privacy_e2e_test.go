package main

import (
	"strings"
	"testing"
)

// A direct message is in no room's history, in either format.
func TestHistoryKeepsDirectMessagesPrivate(t *testing.T) {
	s := startServer(t, t.TempDir())
	alice := s.connect("alice", newKey(t), 100, 30)
	alice.waitText("#lobby")
	bobKey := newKey(t)
	bob := s.connect("bob", bobKey, 100, 30)
	bob.waitText("#lobby")
	alice.say("/msg bob SECRET-42")
	bob.waitText("SECRET-42")
	alice.say("after the secret")
	bob.waitText("alice: after the secret")

	eve := newKey(t)
	for _, cmd := range []string{"history", "history --json -n 100"} {
		stdout, stderr, status := s.runCmd("eve", eve, "", cmd)
		if status != 0 || !strings.Contains(stdout, "after the secret") {
			t.Fatalf("%s as eve: status %d, stderr %q, stdout:\n%s", cmd, status, stderr, stdout)
		}
		if strings.Contains(stdout, "SECRET-42") {
			t.Errorf("%s as eve shows alice's direct message to bob:\n%s", cmd, stdout)
		}
		// Direct messages are in no room, so in no room's history,
		// bob's own included: his screen showed it above.
		if stdout, _, _ = s.runCmd("bob", bobKey, "", cmd); strings.Contains(stdout, "SECRET-42") {
			t.Errorf("%s as bob shows a direct message in the room's history:\n%s", cmd, stdout)
		}
	}
}
