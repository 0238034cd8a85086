package registry

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/crypto/ssh"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func open(t *testing.T, path string) *Registry {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCanonicalLookAlikes(t *testing.T) {
	tests := []struct{ a, b string }{
		{"Ann", "ann"},
		{"b0b", "bob"},
		{"B0B", "bob"},
		{"l1ly", "lily"},
		{"Iily", "lily"},
		{"al1ce", "alIce"},
		{"wat.cher", "watcher"},
		{"wat-cher", "wat_cher"},
		{"w4tcher", "watcher"},
		{"sys7em", "system"},
		{"5t3ve", "steve"},
		{"_b.o-b_", "bob"},
	}
	for _, tt := range tests {
		if Canonical(tt.a) != Canonical(tt.b) {
			t.Errorf("%q and %q should be one name", tt.a, tt.b)
		}
	}
	if Canonical("ann") == Canonical("anne") {
		t.Error("different names made one")
	}
}

func TestClaimIsFirstComeAndSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.json")
	r := open(t, path)
	if err := r.Claim("keyA", "ann"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ann", "ANN", "Ann"} {
		if err := r.Claim("keyB", name); !errors.Is(err, ErrTaken) {
			t.Errorf("another key claiming %q: %v, want ErrTaken", name, err)
		}
	}
	if err := r.Claim("keyA", "ann"); err != nil {
		t.Errorf("owner claiming again: %v", err)
	}
	for _, name := range []string{"admin", "Adm1n", "SYSTEM", "server"} {
		if err := r.Claim("keyC", name); !errors.Is(err, ErrReserved) {
			t.Errorf("claiming %q: %v, want ErrReserved", name, err)
		}
	}
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}

	again := open(t, path)
	if got := again.NameOf("keyA"); got != "ann" {
		t.Errorf("after restart keyA owns %q, want ann", got)
	}
	if owner, _ := again.Owner("AnN"); owner != "keyA" {
		t.Errorf("after restart ann belongs to %q", owner)
	}
	// A new name does not give the old one up.
	if err := again.Claim("keyA", "annie"); err != nil {
		t.Fatal(err)
	}
	if err := again.Claim("keyB", "ann"); !errors.Is(err, ErrTaken) {
		t.Errorf("keyB took keyA's earlier name: %v, want ErrTaken", err)
	}
	if err := again.Sync(); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("registry file mode: %v %v, want 0600", info.Mode(), err)
	}
}

func TestIgnoresBansMutesMotdPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.json")
	r := open(t, path)
	now := time.Unix(1_800_000_000, 0)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.Claim("bob", "bob"))
	must(r.Ignore("ann", "bob"))
	must(r.Ignore("ann", "bob"))
	must(r.Ban("eve", Restriction{Until: now.Add(time.Hour).Unix(), Reason: "spam", By: "admin"}))
	must(r.Ban("old", Restriction{Until: now.Add(-time.Hour).Unix(), By: "admin"}))
	must(r.Mute("mal", Restriction{By: "admin"}))
	must(r.SetMotd("be nice"))

	r = open(t, path)
	if got := r.Ignored("ann"); len(got) != 1 || !got["bob"] {
		t.Errorf("ignores after restart = %v", got)
	}
	if b, ok := r.Banned("eve", now); !ok || b.Reason != "spam" {
		t.Errorf("eve's ban after restart = %+v %v", b, ok)
	}
	if _, ok := r.Banned("old", now); ok {
		t.Error("an expired ban still holds")
	}
	if _, ok := r.Banned("eve", now.Add(2*time.Hour)); ok {
		t.Error("a ban holds past its end")
	}
	if _, ok := r.Muted("mal", now.Add(1000*time.Hour)); !ok {
		t.Error("a mute for good ended")
	}
	if r.Motd() != "be nice" {
		t.Errorf("motd = %q", r.Motd())
	}
	if ok, err := r.Unignore("ann", "bob"); !ok || err != nil {
		t.Errorf("unignore: %v %v", ok, err)
	}
	if ok, _ := r.Unban("eve"); !ok {
		t.Error("unban found no ban")
	}
	if len(r.Bans(now)) != 0 {
		t.Errorf("bans after unban: %v", r.Bans(now))
	}
}

func TestOpenCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("corrupt registry: %v, want an error naming the file", err)
	}
}

func TestReadKeys(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "admins")
	content := "# admins\n\n" + string(ssh.MarshalAuthorizedKey(key))
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := ReadKeys(path)
	if err != nil || !keys[ssh.FingerprintSHA256(key)] || len(keys) != 1 {
		t.Errorf("ReadKeys = %v, %v", keys, err)
	}
	if err := os.WriteFile(path, []byte("garbage line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadKeys(path); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Errorf("bad line: %v, want an error naming the line", err)
	}
}

// TestClaimStormWritesInBatches checks that names claimed at once are all
// on disk when their Sync returns, written together rather than one
// whole file per name (which made a storm of new users quadratic).
func TestClaimStormWritesInBatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.json")
	r := open(t, path)
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := r.Claim(fmt.Sprintf("SHA256:user%d", i), fmt.Sprintf("user%d", i)); err != nil {
				t.Error(err)
			}
			if err := r.Sync(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	again := open(t, path)
	if got := len(again.Users()); got != n {
		t.Errorf("%d names on disk after %d claims returned", got, n)
	}
	r.main.saving.Lock()
	writes := r.main.writes
	r.main.saving.Unlock()
	if writes >= n {
		t.Errorf("%d claims at once wrote the file %d times", n, writes)
	}
	t.Logf("%d claims, %d writes", n, writes)
}
