package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// recorder keeps what OnChange hands on.
type recorder struct{ changes []Change }

func record(r *Registry) *recorder {
	rec := &recorder{}
	r.OnChange(func(c Change) { rec.changes = append(rec.changes, c) })
	return rec
}

// take returns the changes recorded since the last take.
func (rec *recorder) take() []Change {
	out := rec.changes
	rec.changes = nil
	return out
}

// view is every answer of a registry about the given users, names and
// rooms: two registries with one view answer alike.
type view struct {
	NameOf  map[string]string
	NamesOf map[string][]string
	Owner   map[string]string
	Banned  map[string]Restriction
	Muted   map[string]Restriction
	Ignored map[string]map[string]bool
	Motd    string
	Rooms   []Room
}

var (
	viewUsers = []string{"keyA", "keyB", "keyC", "eve", "mal"}
	viewNames = []string{"ann", "annie", "bob", "cat", "ANN", "b0b"}
	viewNow   = time.Unix(1_800_000_000, 0)
)

func viewOf(r *Registry) view {
	v := view{NameOf: map[string]string{}, NamesOf: map[string][]string{}, Owner: map[string]string{},
		Banned: map[string]Restriction{}, Muted: map[string]Restriction{}, Ignored: map[string]map[string]bool{},
		Motd: r.Motd(), Rooms: r.Rooms()}
	for _, id := range viewUsers {
		v.NameOf[id], v.NamesOf[id], v.Ignored[id] = r.NameOf(id), r.NamesOf(id), r.Ignored(id)
		if b, ok := r.Banned(id, viewNow); ok {
			v.Banned[id] = b
		}
		if m, ok := r.Muted(id, viewNow); ok {
			v.Muted[id] = m
		}
	}
	for _, name := range viewNames {
		if id, ok := r.Owner(name); ok {
			v.Owner[name] = id
		}
	}
	return v
}

func sameView(t *testing.T, what string, a, b *Registry) {
	t.Helper()
	if va, vb := viewOf(a), viewOf(b); !reflect.DeepEqual(va, vb) {
		t.Errorf("%s: the registries answer differently:\n%+v\n%+v", what, va, vb)
	}
}

func applyAll(t *testing.T, r *Registry, changes []Change) {
	t.Helper()
	for _, c := range changes {
		if err := r.Apply(c); err != nil {
			t.Fatalf("Apply(%s %q %s): %v", c.Kind, c.Key, c.Value, err)
		}
	}
}

// Every kind of change made on one registry, handed to another by
// OnChange and Apply, makes it answer alike; and Apply hands nothing on.
func TestChangesReplicate(t *testing.T) {
	a, b := open(t, ""), open(t, "")
	recA, recB := record(a), record(b)
	steps := []struct {
		name   string
		change func() error
		want   []Change // kind and key of what OnChange hands on, in order
	}{
		{"claim", func() error { return a.Claim("keyA", "ann") }, []Change{{Kind: KindUser, Key: "keyA"}}},
		{"second name", func() error { return a.Claim("keyA", "annie") }, []Change{{Kind: KindUser, Key: "keyA"}}},
		{"back to the first", func() error { return a.Claim("keyA", "Ann") }, []Change{{Kind: KindUser, Key: "keyA"}}},
		{"another key", func() error { return a.Claim("keyB", "bob") }, []Change{{Kind: KindUser, Key: "keyB"}}},
		{"release", func() error { _, err := a.Release("annie"); return err }, []Change{{Kind: KindUser, Key: "keyA"}}},
		{"release the last name", func() error { _, err := a.Release("bob"); return err }, []Change{{Kind: KindUser, Key: "keyB"}}},
		{"ban", func() error { return a.Ban("eve", Restriction{Reason: "spam", By: "keyA", At: 1}) }, []Change{{Kind: KindBan, Key: "eve"}}},
		{"mute", func() error {
			return a.Mute("mal", Restriction{Until: viewNow.Add(time.Hour).Unix(), By: "keyA", At: 2})
		}, []Change{{Kind: KindMute, Key: "mal"}}},
		{"unmute", func() error { _, err := a.Unmute("mal"); return err }, []Change{{Kind: KindMute, Key: "mal"}}},
		{"motd", func() error { return a.SetMotd("be nice") }, []Change{{Kind: KindMotd}}},
		{"room", func() error { return a.CreateRoom(Room{ID: "Go", Owner: "keyA", Created: 3}, 0, 0) }, []Change{{Kind: KindRoom, Key: "go"}}},
		{"room change", func() error {
			return a.UpdateRoom("go", func(rm *Room) (bool, error) {
				rm.Topic, rm.Ops, rm.Bans = "gophers", []string{"keyB"}, map[string]Restriction{"eve": {By: "keyA"}}
				return true, nil
			})
		}, []Change{{Kind: KindRoom, Key: "go"}}},
		{"second room", func() error { return a.CreateRoom(Room{ID: "rust", Owner: "keyB"}, 0, 0) }, []Change{{Kind: KindRoom, Key: "rust"}}},
		{"drop room", func() error { _, err := a.DropRoom("rust"); return err }, []Change{{Kind: KindRoom, Key: "rust"}}},
		{"claim for ignores", func() error { return a.Claim("keyC", "cat") }, []Change{{Kind: KindUser, Key: "keyC"}}},
		{"ignore", func() error { return a.Ignore("keyB", "keyC") }, []Change{{Kind: KindIgnores, Key: "keyB"}}},
		{"ignore another", func() error { return a.Ignore("keyB", "keyA") }, []Change{{Kind: KindIgnores, Key: "keyB"}}},
		{"unignore", func() error { _, err := a.Unignore("keyB", "keyC"); return err }, []Change{{Kind: KindIgnores, Key: "keyB"}}},
		{"unban", func() error { _, err := a.Unban("eve"); return err }, []Change{{Kind: KindBan, Key: "eve"}}},
		{"clear motd", func() error { return a.SetMotd("") }, []Change{{Kind: KindMotd}}},
		{"no change: no call", func() error { _, err := a.Unban("nobody"); return err }, nil},
	}
	for _, s := range steps {
		if err := s.change(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got := recA.take()
		var kinds []Change
		for _, c := range got {
			kinds = append(kinds, Change{Kind: c.Kind, Key: c.Key})
		}
		if !reflect.DeepEqual(kinds, s.want) {
			t.Errorf("%s: OnChange got %v, want %v", s.name, kinds, s.want)
		}
		for _, c := range got {
			if e := a.Entry(c.Kind, c.Key); !reflect.DeepEqual(e, c) {
				t.Errorf("%s: Entry = %s, the change handed on %s", s.name, e.Value, c.Value)
			}
		}
		applyAll(t, b, got)
		sameView(t, s.name, a, b)
		if got := recB.take(); len(got) != 0 {
			t.Errorf("%s: Apply called OnChange with %v", s.name, got)
		}
	}
	if !reflect.DeepEqual(a.Entries(), b.Entries()) {
		t.Errorf("the entries differ:\n%v\n%v", a.Entries(), b.Entries())
	}
	// What gone entries look like: no value.
	a.OnChange(nil)
	rec := record(a)
	if _, err := a.DropRoom("go"); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 1 || got[0].Value != nil {
		t.Errorf("a dropped room: %v, want one change without a value", got)
	}
}

// A bad value is refused with ErrBadChange and changes nothing.
func TestApplyRefusesBadValues(t *testing.T) {
	r := open(t, "")
	if err := r.Claim("keyA", "ann"); err != nil {
		t.Fatal(err)
	}
	if err := r.CreateRoom(Room{ID: "go"}, 0, 0); err != nil {
		t.Fatal(err)
	}
	names := func(n int) string {
		list := make([]string, n)
		for i := range list {
			list[i] = fmt.Sprintf("%q", fmt.Sprintf("name%d", i))
		}
		return "[" + strings.Join(list, ",") + "]"
	}
	ids := func(n int) string {
		list := make([]string, n)
		for i := range list {
			list[i] = fmt.Sprintf("%q", fmt.Sprintf("key%d", i))
		}
		return "[" + strings.Join(list, ",") + "]"
	}
	many := func(n int) string {
		b, _ := json.Marshal(Room{ID: "go", Invited: strings.Split(strings.Repeat("x,", n), ",")})
		return string(b)
	}
	bad := []struct {
		name string
		c    Change
	}{
		{"unknown kind", Change{Kind: "colour", Key: "keyA", Value: json.RawMessage(`1`)}},
		{"not JSON", Change{Kind: KindBan, Key: "keyA", Value: json.RawMessage(`{`)}},
		{"wrong type", Change{Kind: KindBan, Key: "keyA", Value: json.RawMessage(`"ban"`)}},
		{"no user", Change{Kind: KindBan, Key: "", Value: json.RawMessage(`{"by":"x"}`)}},
		{"control in a key", Change{Kind: KindBan, Key: "key\x1b", Value: json.RawMessage(`{"by":"x"}`)}},
		{"negative until", Change{Kind: KindMute, Key: "keyA", Value: json.RawMessage(`{"until":-1,"by":"x"}`)}},
		{"too many names", Change{Kind: KindUser, Key: "keyB", Value: json.RawMessage(`{"name":"name0","owned":` + names(MaxNames+1) + `}`)}},
		{"no names", Change{Kind: KindUser, Key: "keyB", Value: json.RawMessage(`{"name":"","owned":[]}`)}},
		{"goes by a name not owned", Change{Kind: KindUser, Key: "keyB", Value: json.RawMessage(`{"name":"zed","owned":["bob"]}`)}},
		{"a name twice", Change{Kind: KindUser, Key: "keyB", Value: json.RawMessage(`{"name":"bob","owned":["bob","B0B"]}`)}},
		{"a reserved name", Change{Kind: KindUser, Key: "keyB", Value: json.RawMessage(`{"name":"admin","owned":["admin"]}`)}},
		{"a name with a space", Change{Kind: KindUser, Key: "keyB", Value: json.RawMessage(`{"name":"a b","owned":["a b"]}`)}},
		{"a time of no name", Change{Kind: KindUser, Key: "keyB", Value: json.RawMessage(`{"name":"bob","owned":["bob"],"since":{"zed":1}}`)}},
		{"motd with a key", Change{Kind: KindMotd, Key: "x", Value: json.RawMessage(`"hi"`)}},
		{"motd not a string", Change{Kind: KindMotd, Value: json.RawMessage(`["hi"]`)}},
		{"room under another key", Change{Kind: KindRoom, Key: "rust", Value: json.RawMessage(`{"id":"go"}`)}},
		{"room without an ID", Change{Kind: KindRoom, Key: "go", Value: json.RawMessage(`{"topic":"x"}`)}},
		{"room list over its bound", Change{Kind: KindRoom, Key: "go", Value: json.RawMessage(many(MaxInvited + 1))}},
		{"too many ignored", Change{Kind: KindIgnores, Key: "keyA", Value: json.RawMessage(ids(MaxIgnores + 1))}},
		{"ignored twice", Change{Kind: KindIgnores, Key: "keyA", Value: json.RawMessage(`["keyB","keyB"]`)}},
	}
	before := r.Entries()
	for _, tt := range bad {
		if err := r.Apply(tt.c); !errors.Is(err, ErrBadChange) {
			t.Errorf("%s: Apply = %v, want ErrBadChange", tt.name, err)
		}
	}
	if after := r.Entries(); !reflect.DeepEqual(before, after) {
		t.Errorf("refused changes changed the registry:\n%v\n%v", before, after)
	}
	// The bounds themselves are fine.
	ok := []Change{
		{Kind: KindUser, Key: "keyB", Value: json.RawMessage(`{"name":"name0","owned":` + names(MaxNames) + `}`)},
		{Kind: KindIgnores, Key: "keyA", Value: json.RawMessage(ids(MaxIgnores))},
		{Kind: KindRoom, Key: "go", Value: json.RawMessage(many(MaxInvited - 1))},
	}
	applyAll(t, r, ok)
	if got := len(r.NamesOf("keyB")); got != MaxNames {
		t.Errorf("keyB owns %d names, want %d", got, MaxNames)
	}
}

// userChange is a KindUser change with its claim times.
func userChange(id, name string, since int64, more ...string) Change {
	e := userEntry{Name: name, Owned: append([]string{name}, more...), Since: map[string]int64{}}
	for i, n := range e.Owned {
		e.Since[Canonical(n)] = since + int64(i)
	}
	v, _ := json.Marshal(e)
	return Change{Kind: KindUser, Key: id, Value: v}
}

// Two nodes let two keys claim one name at once: once each has applied
// the other's claim, both give it to the earlier claim, and, at the same
// time, to the key first in order; whatever the order of the claims.
func TestNameRaceConverges(t *testing.T) {
	tests := []struct {
		name   string
		claims []Change
		owner  string
		taken  string // the name both claimed
	}{
		{"earlier claim wins", []Change{userChange("keyB", "ann", 100), userChange("keyA", "Ann", 200, "alice")}, "keyB", "ann"},
		{"same time: first key wins", []Change{userChange("keyB", "ann", 100), userChange("keyA", "ANN", 100)}, "keyA", "ann"},
		{"no times (older files): first key wins", []Change{
			{Kind: KindUser, Key: "keyB", Value: json.RawMessage(`{"name":"b0b","owned":["b0b"]}`)},
			{Kind: KindUser, Key: "keyA", Value: json.RawMessage(`{"name":"bob","owned":["bob"]}`)},
		}, "keyA", "bob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var regs []*Registry
			for _, order := range [][]int{{0, 1}, {1, 0}} {
				r := open(t, "")
				for _, i := range order {
					applyAll(t, r, tt.claims[i:i+1])
				}
				regs = append(regs, r)
			}
			name := tt.taken
			for i, r := range regs {
				if owner, _ := r.Owner(name); owner != tt.owner {
					t.Errorf("order %d: %s belongs to %q, want %q", i, name, owner, tt.owner)
				}
			}
			sameView(t, "both orders", regs[0], regs[1])
			loser := map[string]string{"keyA": "keyB", "keyB": "keyA"}[tt.owner]
			if slices.ContainsFunc(regs[0].NamesOf(loser), func(n string) bool { return Canonical(n) == Canonical(name) }) {
				t.Errorf("the loser %s still shows %s: %v", loser, name, regs[0].NamesOf(loser))
			}
			if err := regs[0].Claim(loser, name); !errors.Is(err, ErrTaken) {
				t.Errorf("the loser claiming %s again: %v, want ErrTaken", name, err)
			}
			// The owner lets it go: the other claim gets it, on both.
			rec := record(regs[0])
			if _, err := regs[0].Release(name); err != nil {
				t.Fatal(err)
			}
			applyAll(t, regs[1], rec.take())
			for i, r := range regs {
				if owner, _ := r.Owner(name); owner != loser {
					t.Errorf("order %d: after the release %s belongs to %q, want %q", i, name, owner, loser)
				}
			}
			sameView(t, "after the release", regs[0], regs[1])
		})
	}
}

// A claim made on each of two registries, each then given the other's
// change, ends with one owner on both.
func TestLocalClaimsRaceConverges(t *testing.T) {
	a, b := open(t, ""), open(t, "")
	recA, recB := record(a), record(b)
	if err := a.Claim("keyA", "ann"); err != nil {
		t.Fatal(err)
	}
	if err := b.Claim("keyB", "ann"); err != nil {
		t.Fatal(err)
	}
	applyAll(t, a, recB.take())
	applyAll(t, b, recA.take())
	oa, _ := a.Owner("ann")
	ob, _ := b.Owner("ann")
	if oa != ob || oa == "" {
		t.Errorf("ann belongs to %q on one and %q on the other", oa, ob)
	}
	sameView(t, "after the race", a, b)
}

// The entries of a registry, applied to an empty one, make it answer
// alike, on disk too; and the claim times survive a restart.
func TestEntriesReproduceAndApplyWritesFiles(t *testing.T) {
	dir := t.TempDir()
	a := open(t, filepath.Join(dir, "a", "registry.json"))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(a.Claim("keyA", "ann"))
	must(a.Claim("keyA", "annie"))
	must(a.Claim("keyB", "bob"))
	must(a.Claim("keyC", "cat"))
	must(a.Ban("eve", Restriction{Reason: "spam", By: "keyA", At: 1}))
	must(a.Mute("mal", Restriction{By: "keyA", At: 2}))
	must(a.SetMotd("be nice"))
	must(a.CreateRoom(Room{ID: "go", Owner: "keyA", Topic: "gophers", Ops: []string{"keyB"}}, 0, 0))
	must(a.Ignore("keyB", "keyC"))
	must(a.Sync())

	pathB := filepath.Join(dir, "b", "registry.json")
	b := open(t, pathB)
	applyAll(t, b, a.Entries())
	sameView(t, "entries applied", a, b)
	must(b.Sync())
	b2 := open(t, pathB)
	sameView(t, "b reopened", a, b2)
	if !reflect.DeepEqual(a.Entries(), b2.Entries()) {
		t.Errorf("the entries differ after a restart:\n%v\n%v", a.Entries(), b2.Entries())
	}
	a2 := open(t, filepath.Join(dir, "a", "registry.json"))
	if !reflect.DeepEqual(a.Entries(), a2.Entries()) {
		t.Errorf("a restart changed the entries (claim times?):\n%v\n%v", a.Entries(), a2.Entries())
	}

	// Apply writes without a Sync: a reopened registry sees it in time.
	applyAll(t, b, []Change{{Kind: KindMotd, Value: json.RawMessage(`"new"`)},
		{Kind: KindIgnores, Key: "keyA", Value: json.RawMessage(`["keyB"]`)}})
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := open(t, pathB)
		if r.Motd() == "new" && r.Ignored("keyA")["keyB"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an applied change is not on disk after 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	must(b.Sync())
}
