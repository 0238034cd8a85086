package sshserver

import (
	"strings"
	"testing"

	"github.com/sshchat/sshchat/hub"
)

// A script command runs under the key's current name and never renames
// it, online or not.
func TestScriptCommandsKeepTheKeysName(t *testing.T) {
	ts := startTestServer(t)
	key := newSigner(t)
	alice := ts.connect("alice", key)
	alice.waitText("#lobby")
	if _, stderr, status := ts.run("bob", key, "say while online"); status != 0 {
		t.Fatalf("say: %d %s", status, stderr)
	}
	alice.waitText("alice: while online")
	alice.close()
	ts.waitOffline("alice")
	if _, stderr, status := ts.run("bob", key, "say while away"); status != 0 {
		t.Fatalf("say: %d %s", status, stderr)
	}
	st := ts.start("carl", key, "tail")
	st.until("alice") // its own arrival, under the key's name
	out, _, _ := ts.run("watcher", newSigner(t), "history -n 100")
	if !strings.Contains(out, "alice: while away") || strings.Contains(out, "bob") || strings.Contains(out, "carl") {
		t.Errorf("history:\n%s\nwant every line as alice, none as bob or carl", out)
	}
	if got := ts.reg.NamesOf(fingerprint(key)); len(got) != 1 || got[0] != "alice" {
		t.Errorf("the key owns %v, want [alice]", got)
	}
}

func TestAdminReleasesName(t *testing.T) {
	ts := startTestServer(t)
	adminKey, bobKey, eveKey := newSigner(t), newSigner(t), newSigner(t)
	ts.srv.SetAdmins(map[string]bool{fingerprint(adminKey): true})
	admin := ts.connect("root-ish", adminKey)
	admin.waitText("#lobby")
	bob := ts.connect("bob", bobKey)
	bob.waitText("#lobby")

	if _, err := ts.chat("bob", "release", "bob"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("/release by a user who is not an admin: %v", err)
	}
	if _, err := ts.chat("root-ish", "release", "b0b"); err == nil || !strings.Contains(err.Error(), "online") {
		t.Errorf("/release of a name in use: %v, want a refusal", err)
	}
	bob.close()
	ts.waitOffline("bob")
	if _, err := ts.chat("root-ish", "release", "nobody-has-it"); err == nil {
		t.Error("/release of a free name succeeded")
	}
	if _, err := ts.chat("root-ish", "release", "bob"); err != nil {
		t.Fatalf("/release bob: %v", err)
	}
	eve := ts.connect("bob", eveKey)
	eve.waitText("#lobby")
	if id, ok := ts.online("bob"); !ok || id != fingerprint(eveKey) {
		t.Error("after the release another key did not get the name")
	}
	var logged bool
	for _, ev := range ts.hub.History() {
		if ev.Type == hub.EventTypeRelease {
			logged = ev.UserID == fingerprint(adminKey) && ev.To == fingerprint(bobKey) && ev.Message == "bob"
		}
	}
	if !logged {
		t.Errorf("no release event by the admin about bob's key in %+v", ts.hub.History())
	}
}

func TestIgnoreRefusesUnknownKeys(t *testing.T) {
	ts := startTestServer(t)
	carol := ts.connect("carol", newSigner(t))
	carol.waitText("#lobby")
	if _, err := ts.chat("carol", "ignore", "SHA256:"+strings.Repeat("j", 43)); err == nil || !strings.Contains(err.Error(), "nobody is known") {
		t.Errorf("/ignore of a key never seen: %v, want a refusal", err)
	}
	if _, stderr, status := ts.run("dave", newSigner(t), "say hi"); status != 0 {
		t.Fatalf("say: %d %s", status, stderr)
	}
	if reply, err := ts.chat("carol", "ignore", "dave"); err != nil || !strings.Contains(reply, "no longer see") {
		t.Errorf("/ignore dave = %q, %v", reply, err)
	}
}
