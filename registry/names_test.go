package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNamesStayWithTheirKeyUntilReleased(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.json")
	r := open(t, path)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.Claim("keyA", "ann"))
	must(r.Claim("keyA", "annie"))
	if err := r.Claim("keyB", "ann"); !errors.Is(err, ErrTaken) {
		t.Errorf("keyB claiming keyA's earlier name: %v, want ErrTaken", err)
	}
	must(r.Claim("keyA", "Ann")) // back to an earlier name, written otherwise
	if got := r.NameOf("keyA"); got != "Ann" {
		t.Errorf("keyA goes by %q, want Ann", got)
	}

	// The cap: past it the key keeps the name it has.
	for i := range MaxNames - 2 {
		must(r.Claim("keyA", fmt.Sprintf("ann%c", 'k'+i)))
	}
	if got := len(r.NamesOf("keyA")); got != MaxNames {
		t.Fatalf("keyA owns %d names, want %d", got, MaxNames)
	}
	before := r.NameOf("keyA")
	if err := r.Claim("keyA", "zed"); !errors.Is(err, ErrNameLimit) {
		t.Errorf("a name past the cap: %v, want ErrNameLimit", err)
	}
	if got := r.NameOf("keyA"); got != before {
		t.Errorf("after a refused claim keyA goes by %q, want %q", got, before)
	}
	if _, taken := r.Owner("zed"); taken {
		t.Error("a name refused past the cap is owned")
	}
	must(r.Sync())

	// A restart keeps every name.
	r = open(t, path)
	if got, want := r.NamesOf("keyA"), []string{"Ann", "annie", "annk", "annl", "annm"}; !slices.Equal(got, want) {
		t.Errorf("after restart keyA owns %v, want %v", got, want)
	}

	// Only a release frees a name; the key then goes by another of its own.
	if _, err := r.Release("nobody-owns-this"); !errors.Is(err, ErrNotOwned) {
		t.Errorf("releasing a free name: %v, want ErrNotOwned", err)
	}
	owner, err := r.Release("ANN")
	if err != nil || owner != "keyA" {
		t.Fatalf("Release(ANN) = %q, %v; want keyA", owner, err)
	}
	if got := r.NameOf("keyA"); got == "" || Canonical(got) == "ann" {
		t.Errorf("after the release keyA goes by %q, want another of its names", got)
	}
	must(r.Claim("keyB", "ann"))
	must(r.Claim("keyA", "zed")) // below the cap again
	must(r.Sync())
	r = open(t, path)
	if owner, _ := r.Owner("ann"); owner != "keyB" {
		t.Errorf("after restart ann belongs to %q, want keyB", owner)
	}
}

func TestLookAlikesOfOwnedNamesAreTaken(t *testing.T) {
	r := open(t, "")
	if err := r.Claim("keyA", "watcher"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"wat.cher", "w4tcher", "Wat_Cher", "w-a-t-c-h-e-r", "WATCHER"} {
		if err := r.Claim("keyB", name); !errors.Is(err, ErrTaken) {
			t.Errorf("claiming %q: %v, want ErrTaken", name, err)
		}
	}
	for _, name := range []string{"sys7em", "5ystem", "r00t", "ad.min", "3veryone"} {
		if err := r.Claim("keyB", name); !errors.Is(err, ErrReserved) {
			t.Errorf("claiming %q: %v, want ErrReserved", name, err)
		}
	}
	if err := r.Claim("keyB", "watchers"); err != nil {
		t.Errorf("a different name: %v", err)
	}
}

// A file written before names were kept for good, or ignore lists had
// their own file, still reads; its ignore lists move to their own file.
func TestOpenOlderFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.json")
	old := `{"owners": {"ann": "keyA", "bob": "keyB"}, "names": {"keyA": "Ann", "keyB": "bob"},
		"ignores": {"keyA": ["keyB"]}, "bans": {}, "mutes": {}}`
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	r := open(t, path)
	if owner, _ := r.Owner("ann"); owner != "keyA" || r.NameOf("keyB") != "bob" {
		t.Errorf("ann belongs to %q, keyB goes by %q", owner, r.NameOf("keyB"))
	}
	if err := r.Claim("keyC", "cat"); err != nil { // rewrites registry.json
		t.Fatal(err)
	}
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	r = open(t, path)
	if !r.Ignored("keyA")["keyB"] {
		t.Errorf("the ignore list was lost: %v", r.Ignored("keyA"))
	}
}

func TestIgnoreOnlyKnownUsersUpToTheCap(t *testing.T) {
	r := open(t, "")
	if err := r.Ignore("keyA", "SHA256:junk"); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("ignoring a key never seen: %v, want ErrUnknownUser", err)
	}
	for i := range MaxIgnores + 1 {
		if err := r.Claim(fmt.Sprintf("key%d", i), fmt.Sprintf("user%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range MaxIgnores {
		if err := r.Ignore("keyA", fmt.Sprintf("key%d", i)); err != nil {
			t.Fatalf("ignore #%d: %v", i+1, err)
		}
	}
	if err := r.Ignore("keyA", fmt.Sprintf("key%d", MaxIgnores)); !errors.Is(err, ErrIgnoreLimit) {
		t.Errorf("ignore #%d: %v, want ErrIgnoreLimit", MaxIgnores+1, err)
	}
	if got := len(r.Ignored("keyA")); got != MaxIgnores {
		t.Errorf("%d ignored, want %d", got, MaxIgnores)
	}
}

// A name claimed writes the names, not the ignore lists; a list changed
// writes that list only.
func TestWritesDoNotCarryOthersLists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.json")
	r := open(t, path)
	fillIgnores(t, r, 20, 200)
	writes := func() int {
		r.ignoreSaving.Lock()
		defer r.ignoreSaving.Unlock()
		return r.ignoreWrites
	}
	before := writes()
	if err := r.Claim("SHA256:newcomer", "newcomer"); err != nil {
		t.Fatal(err)
	}
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
	if after := writes(); after != before {
		t.Errorf("a claim wrote ignore lists (%d writes, then %d)", before, after)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "ignores") || strings.Contains(string(data), "SHA256:user0001\"]") {
		t.Errorf("registry.json holds ignore lists:\n%.300s", data)
	}

	if err := r.Ignore("SHA256:newcomer", "SHA256:user0001"); err != nil {
		t.Fatal(err)
	}
	if after := writes(); after != before+1 {
		t.Errorf("an ignore made %d writes, want 1", after-before)
	}
	entries, err := os.ReadDir(r.ignoresDir)
	if err != nil || len(entries) != 21 {
		t.Fatalf("%d files of ignore lists (%v), want 21", len(entries), err)
	}
	r = open(t, path)
	if got := r.Ignored("SHA256:newcomer"); len(got) != 1 || len(r.Ignored("SHA256:user0003")) != 200 {
		t.Errorf("after restart: newcomer ignores %v, user0003 %d users", got, len(r.Ignored("SHA256:user0003")))
	}
	if _, err := r.Unignore("SHA256:newcomer", "SHA256:user0001"); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(r.ignoresDir); len(entries) != 20 {
		t.Errorf("an emptied list left its file: %d files", len(entries))
	}
}

// fillIgnores makes MaxIgnores+1 users with names, and users of them
// ignoring per others.
func fillIgnores(tb testing.TB, r *Registry, users, per int) {
	tb.Helper()
	ids := make([]string, MaxIgnores+1)
	for i := range ids {
		ids[i] = fmt.Sprintf("SHA256:user%04d", i)
		if err := r.Claim(ids[i], fmt.Sprintf("u%04d", i)); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range users {
		list := make([]string, 0, per)
		for j := 0; len(list) < per; j++ {
			if j != i {
				list = append(list, ids[j])
			}
		}
		r.mu.Lock()
		r.ignores[ids[i]] = list
		r.mu.Unlock()
		if err := r.saveIgnores(ids[i]); err != nil {
			tb.Fatal(err)
		}
	}
	if err := r.Sync(); err != nil {
		tb.Fatal(err)
	}
}

// withIgnores opens a registry on disk where 100 users ignore per others
// each.
func withIgnores(b *testing.B, per int) *Registry {
	b.Helper()
	r, err := Open(filepath.Join(b.TempDir(), "registry.json"))
	if err != nil {
		b.Fatal(err)
	}
	fillIgnores(b, r, 100, per)
	return r
}

// BenchmarkIgnore is an ignore and an unignore, each on disk, with the
// others' lists empty or full: their cost must not grow with them.
func BenchmarkIgnore(b *testing.B) {
	for _, per := range []int{0, MaxIgnores} {
		b.Run(fmt.Sprintf("ignores=%dx%d", 100, per), func(b *testing.B) {
			r := withIgnores(b, per)
			for b.Loop() {
				if err := r.Ignore("SHA256:user1000", "SHA256:user0000"); err != nil {
					b.Fatal(err)
				}
				if _, err := r.Unignore("SHA256:user1000", "SHA256:user0000"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkClaim is a new name claimed and on disk, with everyone's
// ignore lists empty or full: its cost must not grow with them.
func BenchmarkClaim(b *testing.B) {
	for _, per := range []int{0, MaxIgnores} {
		b.Run(fmt.Sprintf("ignores=%dx%d", 100, per), func(b *testing.B) {
			r := withIgnores(b, per)
			r.main.interval = 0 // the cost of a write, not the wait between writes
			for i := 0; b.Loop(); i++ {
				if err := r.Claim(fmt.Sprintf("SHA256:bench%d", i), fmt.Sprintf("b%d", i)); err != nil {
					b.Fatal(err)
				}
				if err := r.Sync(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// What arrivals and screens ask of the registry never waits for a file
// being encoded or written.
func TestReadsAndClaimsDoNotWaitForWrites(t *testing.T) {
	r := open(t, filepath.Join(t.TempDir(), "registry.json"))
	encoding, finish := make(chan struct{}), make(chan struct{})
	r.encode = func(v any) ([]byte, error) {
		close(encoding)
		<-finish // a very large file
		return json.Marshal(v)
	}
	if err := r.Claim("keyA", "ann"); err != nil {
		t.Fatal(err)
	}
	synced := make(chan error, 1)
	go func() { synced <- r.Sync() }()
	<-encoding

	done := make(chan error, 1)
	go func() {
		err := r.Claim("keyB", "bob")
		if owner, _ := r.Owner("b0b"); owner != "keyB" || r.NameOf("keyA") != "ann" || !r.Known("keyA") || len(r.Ignored("keyA")) != 0 {
			err = errors.Join(err, errors.New("wrong answers"))
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Error("a claim or a lookup waited for a write")
	}
	close(finish)
	if err := <-synced; err != nil {
		t.Fatal(err)
	}
}
