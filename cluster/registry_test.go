package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sshchat/sshchat/internal/natstest"
	"github.com/sshchat/sshchat/registry"
)

const testBucket = "sshchat_test_registry"

// syncedNode is a registry shared through the bucket, over its own
// connection, as on a node of its own.
func syncedNode(t *testing.T, url, node string, reg *registry.Registry) (stop func()) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stop, err = SyncRegistry(ctx, js, testBucket, node, 1, reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop) // stopping twice is fine
	return stop
}

func openReg(t *testing.T, path string) *registry.Registry {
	t.Helper()
	r, err := registry.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// sameEntries reports whether the registries hold the same entries.
func sameEntries(regs ...*registry.Registry) bool {
	for _, r := range regs[1:] {
		if !reflect.DeepEqual(regs[0].Entries(), r.Entries()) {
			return false
		}
	}
	return true
}

// Two registries share every kind of entry through one server, both
// ways; a third, started later with entries of its own, gets everything
// (the bucket wins) and adds what the bucket lacked.
func TestSyncRegistry(t *testing.T) {
	srv := natstest.Run(t)
	dir := t.TempDir()
	a, b := openReg(t, filepath.Join(dir, "a", "registry.json")), openReg(t, "")
	must(t, a.SetMotd("from a, before the sync")) // a seeds the bucket
	syncedNode(t, srv.URL(), "node-a", a)
	syncedNode(t, srv.URL(), "node-b", b)
	waitFor(t, "b has a's motd from the seed", func() bool { return b.Motd() == "from a, before the sync" })

	now := time.Now()
	must(t, a.Ban("eve", registry.Restriction{Reason: "spam", By: "keyA", At: now.Unix()}))
	waitFor(t, "a's ban holds on b", func() bool { _, ok := b.Banned("eve", now); return ok })

	must(t, a.Claim("keyA", "ann"))
	must(t, a.Sync())
	waitFor(t, "a's claim on b", func() bool { id, _ := b.Owner("ANN"); return id == "keyA" && b.NameOf("keyA") == "ann" })

	must(t, b.CreateRoom(registry.Room{ID: "go", Owner: "keyA", Created: now.Unix()}, 0, 0))
	must(t, b.UpdateRoom("go", func(rm *registry.Room) (bool, error) { rm.Topic = "gophers"; return true, nil }))
	waitFor(t, "b's room on a", func() bool { rm, ok := a.Room("go"); return ok && rm.Topic == "gophers" })

	must(t, b.SetMotd("be nice"))
	waitFor(t, "b's motd on a", func() bool { return a.Motd() == "be nice" })

	must(t, b.Claim("keyB", "bob"))
	must(t, b.Ignore("keyB", "keyA"))
	waitFor(t, "b's ignore on a", func() bool { return a.Ignored("keyB")["keyA"] })

	must(t, a.Mute("mal", registry.Restriction{By: "keyA"}))
	waitFor(t, "a's mute on b", func() bool { _, ok := b.Muted("mal", now); return ok })

	// Entries that go.
	_, err := b.Unban("eve")
	must(t, err)
	_, err = a.Release("ann")
	must(t, err)
	_, err = a.DropRoom("go")
	must(t, err)
	waitFor(t, "the unban, release and dropped room on the other", func() bool {
		_, banned := a.Banned("eve", now)
		_, owned := b.Owner("ann")
		_, room := b.Room("go")
		return !banned && !owned && !room
	})
	waitFor(t, "a and b hold the same entries", func() bool { return sameEntries(a, b) })

	// A third node, with a motd of its own (the bucket's wins) and a ban
	// the bucket lacks (it seeds it).
	c := openReg(t, "")
	must(t, c.SetMotd("c's own"))
	must(t, c.Ban("troll", registry.Restriction{By: "keyC"}))
	syncedNode(t, srv.URL(), "node-c", c)
	if c.Motd() != "be nice" || !c.Ignored("keyB")["keyA"] {
		t.Errorf("c after its start: motd %q, keyB ignores %v", c.Motd(), c.Ignored("keyB"))
	}
	waitFor(t, "c's ban on a and b", func() bool {
		_, onA := a.Banned("troll", now)
		_, onB := b.Banned("troll", now)
		return onA && onB
	})
	waitFor(t, "a, b and c hold the same entries", func() bool { return sameEntries(a, b, c) })

	// What a applied is on its disk.
	must(t, a.Sync())
	if again := openReg(t, filepath.Join(dir, "a", "registry.json")); !reflect.DeepEqual(again.Entries(), a.Entries()) {
		t.Errorf("a reopened:\n%v\nwant\n%v", again.Entries(), a.Entries())
	}
}

// Two nodes changing the same entries at once end with the same entries,
// the bucket's.
func TestSyncRegistryConcurrentChangesConverge(t *testing.T) {
	srv := natstest.Run(t)
	a, b := openReg(t, ""), openReg(t, "")
	syncedNode(t, srv.URL(), "node-a", a)
	syncedNode(t, srv.URL(), "node-b", b)
	const n = 50
	var wg sync.WaitGroup
	for i, r := range []*registry.Registry{a, b} {
		wg.Go(func() {
			for j := range n {
				if err := r.SetMotd(fmt.Sprintf("%d-%d", i, j)); err != nil {
					t.Error(err)
				}
				if err := r.Mute("mal", registry.Restriction{By: fmt.Sprint(i), At: int64(j)}); err != nil {
					t.Error(err)
				}
				if j%2 == 0 {
					if _, err := r.Unmute("mal"); err != nil {
						t.Error(err)
					}
				}
				// The same name for two keys: one of them keeps it.
				if err := r.Claim(fmt.Sprintf("key%d", i), fmt.Sprintf("name%d", j)); err != nil && j < registry.MaxNames {
					t.Logf("claim: %v", err)
				}
			}
		})
	}
	wg.Wait()
	waitFor(t, "a and b hold the same entries", func() bool { return sameEntries(a, b) })
	for j := range registry.MaxNames {
		name := fmt.Sprintf("name%d", j)
		oa, _ := a.Owner(name)
		ob, _ := b.Owner(name)
		if oa != ob || oa == "" {
			t.Errorf("%s belongs to %q on a, %q on b", name, oa, ob)
		}
	}
}

// After stop, the registry's changes stay local, and the others' do not
// come in; stop ends every goroutine (TestMain checks).
func TestSyncRegistryStop(t *testing.T) {
	srv := natstest.Run(t)
	a, b := openReg(t, ""), openReg(t, "")
	stopA := syncedNode(t, srv.URL(), "node-a", a)
	syncedNode(t, srv.URL(), "node-b", b)
	must(t, a.SetMotd("shared"))
	waitFor(t, "b has a's motd", func() bool { return b.Motd() == "shared" })
	stopA()
	stopA()
	must(t, a.SetMotd("a alone"))
	must(t, b.Ban("eve", registry.Restriction{By: "keyB"}))
	// b's ban reaches a node that syncs, but not the stopped a.
	c := openReg(t, "")
	syncedNode(t, srv.URL(), "node-c", c)
	waitFor(t, "c has b's ban", func() bool { _, ok := c.Banned("eve", time.Now()); return ok })
	if c.Motd() != "shared" {
		t.Errorf("a's change after its stop reached c: %q", c.Motd())
	}
	if _, ok := a.Banned("eve", time.Now()); ok {
		t.Error("b's change reached a after its stop")
	}
}

// The queue of puts is bounded: past it a change is dropped and counted,
// and a change of an entry already queued takes no room.
func TestRegistryQueueIsBounded(t *testing.T) {
	s := newRegSync(nil, "node-a", openReg(t, ""), slog.New(slog.DiscardHandler), 3)
	for i := range 5 {
		s.changed(registry.Change{Kind: registry.KindBan, Key: fmt.Sprint("user", i)})
		s.changed(registry.Change{Kind: registry.KindBan, Key: "user0"})
	}
	if len(s.queue) != 3 || s.dropped != 2 {
		t.Errorf("queue %d, dropped %d; want 3 and 2", len(s.queue), s.dropped)
	}
}

func TestRegKeys(t *testing.T) {
	for _, c := range []registry.Change{
		{Kind: registry.KindUser, Key: "SHA256:abc/def+g"},
		{Kind: registry.KindMotd},
		{Kind: registry.KindRoom, Key: "go"},
		{Kind: registry.KindIgnores, Key: "ключ"},
	} {
		k := regKey(c.Kind, c.Key)
		kind, key, err := parseRegKey(k)
		if err != nil || kind != c.Kind || key != c.Key {
			t.Errorf("%q: %q %q %v", k, kind, key, err)
		}
	}
	if k := regKey(registry.KindMotd, ""); k != "motd._" {
		t.Errorf("motd's key %q", k)
	}
	for _, k := range []string{"motd.x", "colour.eA", "ban", "ban.", "ban.!!"} {
		if _, _, err := parseRegKey(k); err == nil {
			t.Errorf("%q read as a key", k)
		}
	}
}

// A restart of the server loses no change: the puts are tried again and
// the watch resumes.
func TestSyncRegistrySurvivesServerRestart(t *testing.T) {
	srv := natstest.Run(t)
	a, b := openReg(t, ""), openReg(t, "")
	stopA := syncedNode(t, srv.URL(), "node-a", a)
	stopB := syncedNode(t, srv.URL(), "node-b", b)
	must(t, a.SetMotd("before"))
	waitFor(t, "b has a's motd", func() bool { return b.Motd() == "before" })
	srv.Restart()
	start := time.Now()
	must(t, a.Ban("eve", registry.Restriction{By: "keyA"}))
	must(t, b.SetMotd("after"))
	waitFor(t, "the changes after the restart shared", func() bool {
		_, ok := b.Banned("eve", time.Now())
		return ok && a.Motd() == "after"
	})
	t.Logf("shared %v after the restart", time.Since(start))
	stopA() // before the restarted server stops: its cleanup runs first
	stopB()
}

// The first node seeds the bucket with every entry, however many more
// than the queue's bound.
func TestSyncRegistrySeedsPastTheQueueBound(t *testing.T) {
	srv := natstest.Run(t)
	a := openReg(t, "")
	for i := range 20 {
		must(t, a.Ban(fmt.Sprint("user", i), registry.Restriction{By: "keyA"}))
	}
	nc, err := nats.Connect(srv.URL())
	must(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: testBucket, History: 1})
	must(t, err)
	stop, err := newRegSync(kv, "node-a", a, slog.New(slog.DiscardHandler), 3).start(ctx, nc)
	must(t, err)
	defer stop()
	b := openReg(t, "")
	syncedNode(t, srv.URL(), "node-b", b)
	waitFor(t, "b has every ban of a", func() bool { return sameEntries(a, b) })
	// And a change of a, with the queue's room.
	must(t, a.SetMotd("hi"))
	waitFor(t, "b has a's motd", func() bool { return b.Motd() == "hi" })
}
