package chat

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sshchat/sshchat/registry"
)

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"al", true},
		{"alice_B.c-9", true},
		{strings.Repeat("a", 24), true},
		{"a", false},
		{strings.Repeat("a", 25), false},
		{"ali ce", false},
		{"álice", false},
		{"al\x1b[2J", false},
		{"", false},
		{"--", false},
		{"a._", false},
		{"a.b", true},
	}
	for _, tt := range tests {
		if got := validName(tt.name); got != tt.want {
			t.Errorf("validName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func newTestPresence(t *testing.T, path string) *presence {
	t.Helper()
	reg, err := registry.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return newPresence(reg)
}

func arrive(t *testing.T, p *presence, userID, wanted string) (arrival, *sessionInfo) {
	t.Helper()
	si := newSessionInfo(newFakeSession(userID+"/s"), true)
	a, err := p.acquire(userID, wanted, si)
	if err != nil {
		t.Fatal(err)
	}
	p.join(a.user, si, "lobby") // in the room: listed
	return a, si
}

func TestNamesAreBoundToKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.json")
	p := newTestPresence(t, path)
	const alice, mallory = "SHA256:aliceKEY", "SHA256:mallKEY"

	a, si := arrive(t, p, alice, "alice")
	if a.name != "alice" || a.notices != nil || a.warning != "" {
		t.Fatalf("first claim = %+v, want alice and no notice", a)
	}
	if a2, _ := arrive(t, p, alice, "other"); a2.name != "alice" || a2.sessions != 2 {
		t.Errorf("a second session got %q (%d sessions), want alice and 2", a2.name, a2.sessions)
	}
	p.release(alice, si)

	// Offline or not, the name is alice's: look-alikes too.
	for _, wanted := range []string{"alice", "ALICE", "al1ce", "aIice"} {
		m, msi := arrive(t, p, mallory, wanted)
		if registry.Canonical(m.name) == registry.Canonical("alice") {
			t.Errorf("another key asking for %q got %q", wanted, m.name)
		}
		if len(m.notices) != 1 || !strings.Contains(m.notices[0], "belongs to another key") || m.warning == "" {
			t.Errorf("another key asking for %q: notices %v, warning %q", wanted, m.notices, m.warning)
		}
		if strings.HasPrefix(m.name, "Guest") {
			t.Errorf("fallback %q", m.name)
		}
		p.release(mallory, msi)
	}

	// After a restart the binding holds, and mallory keeps its fallback.
	p = newTestPresence(t, path)
	m, _ := arrive(t, p, mallory, "alice")
	if !validName(m.name) || registry.Canonical(m.name) == registry.Canonical("alice") {
		t.Errorf("after restart mallory got %q", m.name)
	}
	if a, _ := arrive(t, p, alice, "alice"); a.name != "alice" {
		t.Errorf("after restart alice got %q", a.name)
	}
}

func TestReservedAndInvalidNames(t *testing.T) {
	p := newTestPresence(t, "")
	for _, wanted := range []string{"admin", "Server", "SYSTEM", "bad name!", "x"} {
		a, si := arrive(t, p, "SHA256:"+wanted, wanted)
		if a.name == wanted || !validName(a.name) || len(a.notices) != 1 || !strings.Contains(a.notices[0], a.name) {
			t.Errorf("%q gave %+v, want a valid fallback named in the notice", wanted, a)
		}
		p.release("SHA256:"+wanted, si)
	}
}

func TestRename(t *testing.T) {
	p := newTestPresence(t, "")
	arrive(t, p, "SHA256:a", "ann")
	arrive(t, p, "SHA256:b", "bob")
	if _, err := p.rename("SHA256:a", "B0B", nil); err == nil {
		t.Error("renamed to a look-alike of another key's name")
	}
	if _, err := p.rename("SHA256:a", "admin", nil); err == nil {
		t.Error("renamed to a reserved name")
	}
	if old, err := p.rename("SHA256:a", "annie", nil); err != nil || old != "ann" {
		t.Errorf("rename = %q, %v", old, err)
	}
	if u, ok := p.find("ANNIE"); !ok || u.userID != "SHA256:a" {
		t.Error("the new name does not find its user")
	}
	// The old name stays the key's.
	if _, err := p.rename("SHA256:b", "ann", nil); err == nil || !strings.Contains(err.Error(), "belongs to another key") {
		t.Errorf("another key took a name its key went by before: %v", err)
	}
	if old, err := p.rename("SHA256:a", "ann", nil); err != nil || old != "annie" {
		t.Errorf("back to an earlier name: %q, %v", old, err)
	}
}

func TestDistinctNameFitsLimit(t *testing.T) {
	p := newTestPresence(t, "")
	long := strings.Repeat("x", 24)
	arrive(t, p, "SHA256:first", long)
	a, _ := arrive(t, p, "SHA256:second", long)
	if len(a.name) > maxNameLen || a.name == long {
		t.Errorf("distinct name %q (len %d) for a 24-character name", a.name, len(a.name))
	}
}

func TestRosterIsSharedAndSorted(t *testing.T) {
	p := newTestPresence(t, "")
	arrive(t, p, "SHA256:c", "carol")
	_, annSession := arrive(t, p, "SHA256:a", "Ann")
	arrive(t, p, "SHA256:a", "Ann")
	arrive(t, p, "SHA256:b", "bob")
	bot := newSessionInfo(newFakeSession("bot/s"), false) // a script's say: not listed
	if _, err := p.acquire("SHA256:z", "zed", bot); err != nil {
		t.Fatal(err)
	}
	top, total := p.members("lobby", 2)
	if total != 3 || len(top) != 2 || top[0].Name != "Ann" || top[0].Sessions != 2 || top[1].Name != "bob" {
		t.Errorf("Members(2) = %+v, %d; want Ann ×2, bob of 3", top, total)
	}
	if got := p.complete("C", "SHA256:a"); len(got) != 1 || got[0] != "carol" {
		t.Errorf("Complete(C) = %v", got)
	}
	if got := p.complete("a", "SHA256:a"); len(got) != 0 {
		t.Errorf("completion offers the user its own name: %v", got)
	}
	p.release("SHA256:a", annSession)
	if top, _ := p.members("lobby", 1); top[0].Sessions != 1 {
		t.Errorf("after one session ends, Ann has %d", top[0].Sessions)
	}
}

// A key that comes back under a new name keeps its old one: nobody else
// can pass for it.
func TestNameKeptWhenKeyGoesByAnother(t *testing.T) {
	p := newTestPresence(t, filepath.Join(t.TempDir(), "registry.json"))
	const bob, eve = "SHA256:bobKEY", "SHA256:eveKEY"
	_, si := arrive(t, p, bob, "bob")
	p.release(bob, si)
	if a, si := arrive(t, p, bob, "robert"); a.name != "robert" {
		t.Fatalf("bob's key asking for robert got %q", a.name)
	} else {
		p.release(bob, si)
	}
	e, _ := arrive(t, p, eve, "bob")
	if registry.Canonical(e.name) == registry.Canonical("bob") || e.warning == "" {
		t.Errorf("another key asking for bob's earlier name got %q (warning %q)", e.name, e.warning)
	}
	if a, _ := arrive(t, p, bob, "bob"); a.name != "bob" {
		t.Errorf("bob's key asking for bob again got %q", a.name)
	}
}

func TestLookAlikesFoldSeparatorsAndDigits(t *testing.T) {
	p := newTestPresence(t, "")
	arrive(t, p, "SHA256:w", "watcher")
	for _, wanted := range []string{"wat.cher", "w4tcher", "wat_cher", "WAT-CHER", "w4t.ch3r"} {
		a, si := arrive(t, p, "SHA256:x", wanted)
		if registry.Canonical(a.name) == registry.Canonical("watcher") || len(a.notices) != 1 || !strings.Contains(a.notices[0], "belongs to another key") {
			t.Errorf("asking for %q: %+v, want a name of its own and a notice", wanted, a)
		}
		p.release("SHA256:x", si)
	}
	for _, wanted := range []string{"sys7em", "5erver", "r0.ot"} {
		a, si := arrive(t, p, "SHA256:y", wanted)
		if len(a.notices) != 1 || !strings.Contains(a.notices[0], "reserved") {
			t.Errorf("asking for %q: %+v, want it refused as reserved", wanted, a)
		}
		p.release("SHA256:y", si)
	}
}

// Past the cap of names, a key is told so and keeps its name.
func TestNameCapKeepsCurrentName(t *testing.T) {
	p := newTestPresence(t, "")
	const key = "SHA256:many"
	var si *sessionInfo
	for i := range registry.MaxNames {
		var a arrival
		a, si = arrive(t, p, key, fmt.Sprintf("name%d", i))
		if a.name != fmt.Sprintf("name%d", i) {
			t.Fatalf("name #%d: got %q", i+1, a.name)
		}
		if i < registry.MaxNames-1 {
			p.release(key, si)
		}
	}
	last := fmt.Sprintf("name%d", registry.MaxNames-1)
	if _, err := p.rename(key, "onemore", nil); err == nil || !strings.Contains(err.Error(), "the most it may") {
		t.Errorf("/nick past the cap: %v, want a refusal saying the cap", err)
	}
	p.release(key, si)
	a, _ := arrive(t, p, key, "onemore")
	if a.name != last || len(a.notices) != 1 || !strings.Contains(a.notices[0], fmt.Sprintf("owns %d names", registry.MaxNames)) {
		t.Errorf("arriving past the cap: %+v, want %s and a notice of the cap", a, last)
	}
	if _, taken := p.reg.Owner("onemore"); taken {
		t.Error("a name past the cap was taken")
	}
}
