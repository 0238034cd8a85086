package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/sshchat/sshchat/hub"
)

// lastEvent is the newest event of type typ in the server's log.
func (s *testServer) lastEvent(typ string) (hub.Event, bool) {
	s.t.Helper()
	evs := s.events()
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == typ {
			return evs[i], true
		}
	}
	return hub.Event{}, false
}

func TestNickForAllSessions(t *testing.T) {
	s := startServer(t, t.TempDir())
	key := newKey(t)
	laptop := s.connect("ann", key, 100, 30)
	phone := s.connect("ann", key, 100, 30)
	bob := s.connect("bob", newKey(t), 100, 30)
	laptop.waitJoined("bob")
	laptop.say("/nick annie")
	bob.waitText("ann is now known as annie")
	phone.waitText("annie")
	phone.say("from the phone")
	bob.waitText("annie: from the phone")
	laptop.say("/nick bob")
	laptop.waitText("belongs to another key")
	laptop.say("/nick admin")
	laptop.waitText("reserved")
	if ev, ok := s.lastEvent(hub.EventTypeNick); !ok || ev.OldName != "ann" || ev.Name != "annie" {
		t.Errorf("nick event in the log = %+v", ev)
	}
}

func TestNamesBoundAcrossRestart(t *testing.T) {
	data := t.TempDir()
	owner := newKey(t)
	first := startServer(t, data)
	ann := first.connect("ann", owner, 100, 30)
	ann.waitText("#lobby")
	ann.close()
	first.stop()

	second := startServer(t, data)
	watcher := second.connect("watcher", newKey(t), 120, 30)
	watcher.waitText("#lobby")
	for _, asked := range []string{"ann", "ANN", "Ann"} {
		impostor := second.connect(asked, newKey(t), 120, 30)
		impostor.waitText("belongs to another key")
		scr := impostor.waitText("/nick")
		header := strings.Fields(strings.SplitN(scr, "\n", 2)[0])
		if got := header[len(header)-1]; strings.EqualFold(got, "ann") {
			t.Errorf("a key asking for %q got the name %q:\n%s", asked, got, scr)
		}
		impostor.close()
	}
	watcher.waitText("asked for the name ann")
	again := second.connect("ann", owner, 100, 30)
	watcher.waitJoined("ann")
	again.close()
}

func TestDirectMessagesAndReply(t *testing.T) {
	s := startServer(t, t.TempDir())
	ann := s.connect("ann", newKey(t), 100, 30)
	bob := s.connect("bob", newKey(t), 100, 30)
	carol := s.connect("carol", newKey(t), 100, 30)
	ann.waitJoined("bob", "carol")
	ann.say("/msg bob the secret is 42")
	bob.waitText("the secret is 42")
	ann.waitText("the secret is 42")
	bob.say("/reply got it")
	ann.waitText("got it")
	carol.say("public line")
	carol.waitText("carol: public line")
	if strings.Contains(carol.screen(), "secret") || strings.Contains(carol.screen(), "got it") {
		t.Errorf("a third user saw a direct message:\n%s", carol.screen())
	}
	ann.say("/msg nobody hi")
	ann.waitText("nobody is not online")
	if ev, ok := s.lastEvent(hub.EventTypeDirect); !ok || ev.Message != "got it" || ev.ToName != "ann" {
		t.Errorf("direct event in the log = %+v", ev)
	}
}

func TestMeWhoWhoisAwayBack(t *testing.T) {
	s := startServer(t, t.TempDir())
	bobKey := newKey(t)
	ann := s.connect("ann", newKey(t), 120, 40)
	bob := s.connect("bob", bobKey, 120, 40)
	ann.waitJoined("bob")
	bob.say("/me waves")
	ann.waitText("* bob waves")
	bob.say("/away lunch")
	ann.waitText("bob is away (lunch)")
	ann.say("/who")
	ann.waitText("in #lobby: 2")
	ann.waitText("bob (away: lunch)")
	ann.say("/whois bob")
	ann.waitText(ssh.FingerprintSHA256(bobKey.PublicKey()))
	bob.say("/back")
	ann.waitText("bob is back")
	ann.say("/frobnicate")
	ann.waitText("/help")
	ann.say("/msg")
	ann.waitText("usage: /msg NAME TEXT")
}

func TestIgnorePersists(t *testing.T) {
	data := t.TempDir()
	annKey, bobKey := newKey(t), newKey(t)
	first := startServer(t, data)
	ann := first.connect("ann", annKey, 100, 30)
	bob := first.connect("bob", bobKey, 100, 30)
	ann.waitJoined("bob")
	ann.say("/ignore bob")
	ann.waitText("no longer see messages from bob")
	bob.say("you cannot hear me")
	bob.say("/me shouts")
	bob.waitText("* bob shouts")
	ann.say("marker one")
	ann.waitText("ann: marker one")
	if strings.Contains(ann.screen(), "cannot hear") || strings.Contains(ann.screen(), "shouts") {
		t.Errorf("an ignored user's message was shown:\n%s", ann.screen())
	}
	first.stop()

	second := startServer(t, data)
	ann = second.connect("ann", annKey, 100, 30)
	bob = second.connect("bob", bobKey, 100, 30)
	ann.waitJoined("bob")
	bob.say("still ignored")
	ann.say("marker two")
	ann.waitText("ann: marker two")
	if strings.Contains(ann.screen(), "still ignored") {
		t.Error("the ignore did not survive the restart")
	}
	ann.say("/unignore bob")
	ann.waitText("see messages from bob again")
	bob.say("heard again")
	ann.waitText("bob: heard again")
}

func TestSessionsAndDetach(t *testing.T) {
	s := startServer(t, t.TempDir())
	key := newKey(t)
	laptop := s.connect("ann", key, 120, 30)
	ghost := s.connect("ann", key, 120, 30)
	ghost.waitText("#lobby")
	laptop.say("/sessions")
	scr := laptop.waitText("(this one)")
	n := ""
	for _, candidate := range []string{"1", "2"} {
		if line := lineWith(scr, candidate+"  from"); line != "" && !strings.Contains(line, "(this one)") {
			n = candidate
		}
	}
	if n == "" {
		t.Fatalf("/sessions does not list the other session:\n%s", scr)
	}
	laptop.say("/detach " + n)
	ghost.waitText("detached from another of your sessions")
	laptop.waitText("ann -1 session")
}

func lineWith(screen, text string) string {
	for line := range strings.SplitSeq(screen, "\n") {
		if strings.Contains(line, text) {
			return line
		}
	}
	return ""
}

// withAdmins writes an authorized_keys file of keys and sets it as --admins.
func withAdmins(t *testing.T, keys ...ssh.Signer) func(*config) {
	path := filepath.Join(t.TempDir(), "admins")
	writeKeys(t, path, keys...)
	return func(c *config) { c.Admins = path }
}

func writeKeys(t *testing.T, path string, keys ...ssh.Signer) {
	t.Helper()
	var b strings.Builder
	for _, k := range keys {
		b.Write(ssh.MarshalAuthorizedKey(k.PublicKey()))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestModeration(t *testing.T) {
	data := t.TempDir()
	adminKey, bobKey, carolKey := newKey(t), newKey(t), newKey(t)
	s := startServer(t, data, withAdmins(t, adminKey))
	admin := s.connect("boss", adminKey, 120, 40)
	bob := s.connect("bob", bobKey, 100, 30)
	carol := s.connect("carol", carolKey, 100, 30)
	admin.waitJoined("bob", "carol")

	bob.say("/kick carol")
	bob.waitText("/kick in #lobby is for the server's admins")

	admin.say("/kick bob flooding")
	bob.waitText("kicked by boss: flooding")
	carol.waitText("bob was kicked by boss (flooding)")
	if ev, ok := s.lastEvent(hub.EventTypeKick); !ok || ev.UserID != ssh.FingerprintSHA256(adminKey.PublicKey()) || ev.To != ssh.FingerprintSHA256(bobKey.PublicKey()) {
		t.Errorf("kick event in the log = %+v, want the admin's and bob's fingerprints", ev)
	}

	admin.say("/mute carol 1h")
	carol.waitText("carol was muted by boss")
	carol.say("can I talk")
	carol.waitText("you are muted until")

	admin.say("/motd welcome to the lobby")
	admin.waitText("message of the day: welcome to the lobby")

	admin.say("/ban bob 2h spam")
	admin.waitText("bob was banned by boss until")
	refusedBan := func(srv *testServer) {
		t.Helper()
		stdout, stderr, status := srv.runCmd("bob", bobKey, "", "who")
		if status != 1 || !strings.Contains(stderr, "banned until") || !strings.Contains(stderr, "spam") {
			t.Errorf("banned key: status %d, stdout %q, stderr %q; want a refusal with expiry and reason", status, stdout, stderr)
		}
	}
	refusedBan(s)
	admin.say("/banned")
	admin.waitText("banned: 1")
	s.stop()

	// Bans, mutes and the message of the day survive a restart.
	s = startServer(t, data, withAdmins(t, adminKey))
	refusedBan(s)
	carol = s.connect("carol", carolKey, 100, 30)
	carol.waitText("welcome to the lobby")
	carol.say("still muted?")
	carol.waitText("you are muted")
	admin = s.connect("boss", adminKey, 120, 40)
	admin.say("/unban bob")
	admin.waitText("bob was unbanned by boss")
	admin.say("/unmute carol")
	admin.waitText("carol was unmuted by boss")
	if _, _, status := s.runCmd("bob", bobKey, "", "who"); status != 0 {
		t.Errorf("after /unban, bob's key is still refused (status %d)", status)
	}
}

func TestAllowlistReload(t *testing.T) {
	friend, stranger := newKey(t), newKey(t)
	list := filepath.Join(t.TempDir(), "allowed")
	writeKeys(t, list, friend)
	s := startServer(t, t.TempDir(), func(c *config) { c.Allowlist = list })
	if _, _, status := s.runCmd("friend", friend, "", "who"); status != 0 {
		t.Errorf("a listed key was refused (%d)", status)
	}
	_, stderr, status := s.runCmd("stranger", stranger, "", "who")
	if status != 1 || !strings.Contains(stderr, "admits listed keys only") {
		t.Errorf("an unlisted key: status %d, stderr %q", status, stderr)
	}
	writeKeys(t, list, friend, stranger)
	if err := s.app.reload(); err != nil { // what SIGHUP does
		t.Fatal(err)
	}
	if _, _, status := s.runCmd("stranger", stranger, "", "who"); status != 0 {
		t.Errorf("after the reload the newly listed key is refused (%d)", status)
	}
	if err := os.WriteFile(list, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.app.reload(); err == nil {
		t.Error("a broken allow-list was accepted")
	}
	if _, _, status := s.runCmd("stranger", stranger, "", "who"); status != 0 {
		t.Error("a failed reload dropped the previous list")
	}
}

func TestLocalCommands(t *testing.T) {
	s := startServer(t, t.TempDir())
	ann := s.connect("ann", newKey(t), 100, 30)
	bob := s.connect("bob", newKey(t), 100, 30)
	ann.waitJoined("bob")
	ann.say("/help")
	ann.waitText("/whois NAME")
	ann.say("/help msg")
	ann.waitText("usage: /msg NAME TEXT")
	ann.say("/timestamp off")
	bob.say("no time")
	scr := ann.waitText("bob: no time")
	if line := lineWith(scr, "bob: no time"); !strings.HasPrefix(strings.TrimSpace(line), "bob:") {
		t.Errorf("with /timestamp off the line is %q", line)
	}
	ann.say("/bell sometimes")
	ann.waitText("usage: /bell on|off|mentions")
	ann.say("/bell off")
	ann.say("/quit")
	bob.waitLeft("ann")
	select {
	case <-ann.done:
	case <-time.After(wait):
		t.Fatal("/quit did not end the session")
	}
}

func TestServerFull(t *testing.T) {
	s := startServer(t, t.TempDir(), func(c *config) { c.Server.MaxSessions = 1 })
	s.connect("ann", newKey(t), 80, 24).waitText("#lobby")
	_, stderr, status := s.runCmd("bob", newKey(t), "", "tail")
	if status != 1 || !strings.Contains(stderr, "the server is full") {
		t.Errorf("a session past --max-sessions: status %d, stderr %q", status, stderr)
	}
}
