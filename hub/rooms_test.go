package hub_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/sshchat/sshchat/hub"
)

// sequence is a stamp shared by hubs, as the single-node bus is: one
// counter under a lock, and the stamped events in the order it made them.
type sequence struct {
	mu      sync.Mutex
	last    int
	stamped []hub.Event
}

func (q *sequence) stamp(ev hub.Event) (hub.Event, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.last++
	ev.ID = q.last
	q.stamped = append(q.stamped, ev)
	return ev, nil
}

// TestSharedStampMakesOneSequence: hubs sharing a stamp give IDs that are
// unique and increasing across them, whatever the interleaving of their
// events; each hub's own stream is in ID order too.
func TestSharedStampMakesOneSequence(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		nHubs := rapid.IntRange(2, 4).Draw(rt, "hubs")
		var q sequence
		q.last = rapid.IntRange(0, 1000).Draw(rt, "lastID")
		start := q.last
		hubs := make([]*hub.Hub, nHubs)
		subs := make([]*hub.Subscription, nHubs)
		for i := range hubs {
			hubs[i] = hub.New(fmt.Sprint("room", i), 4, 64, hub.WithStamp(q.stamp), hub.WithLastID(5), hub.WithSubscriberBuffer(1024))
			sub, err := hubs[i].Subscribe(hub.Member{UserID: "reader", SessionID: "s"}, 0)
			if err != nil {
				rt.Fatal(err)
			}
			subs[i] = sub
		}
		counts := rapid.SliceOfN(rapid.IntRange(0, 20), nHubs, nHubs).Draw(rt, "messages")
		var wg sync.WaitGroup
		for i, h := range hubs {
			for w := range 2 {
				wg.Go(func() {
					for m := range counts[i] {
						if m%2 == w {
							h.Message("u", fmt.Sprint(m))
						}
					}
				})
			}
		}
		wg.Wait()
		for _, h := range hubs {
			if err := h.Close(); err != nil {
				rt.Fatal(err)
			}
		}
		seen := map[int]bool{}
		for i, sub := range subs {
			prev := 0
			for ev := range sub.Events() {
				if ev.ChatRoomID != hubs[i].ID() {
					rt.Fatalf("event of %s in the stream of %s", ev.ChatRoomID, hubs[i].ID())
				}
				if ev.ID <= prev {
					rt.Fatalf("%s: ID %d after %d", hubs[i].ID(), ev.ID, prev)
				}
				if seen[ev.ID] {
					rt.Fatalf("ID %d given twice", ev.ID)
				}
				seen[ev.ID] = true
				prev = ev.ID
			}
		}
		// Every recorded event went through the stamp, in ID order, with
		// no gap: join, messages and close of each hub.
		want := 0
		for _, n := range counts {
			want += n + 2
		}
		if len(q.stamped) != want {
			rt.Fatalf("stamped %d events, want %d", len(q.stamped), want)
		}
		for i, ev := range q.stamped {
			if ev.ID != start+i+1 {
				rt.Fatalf("stamped event %d has ID %d, want %d", i, ev.ID, start+i+1)
			}
			if ev.ChatRoomID == "" || ev.UnixTime == 0 {
				rt.Fatalf("stamp got %+v without its room and time", ev)
			}
		}
		if len(seen) != want {
			rt.Fatalf("readers saw %d IDs, want %d", len(seen), want)
		}
	})
}

// TestStampSeesRoomAndTime: the stamp is given the event with its room
// and time, and what it returns is what is recorded.
func TestStampSeesRoomAndTime(t *testing.T) {
	h := newHub(t, hub.WithStamp(func(ev hub.Event) (hub.Event, error) {
		ev.ID = 100 + len(ev.Message)
		ev.Reason = "stamped in " + ev.ChatRoomID
		return ev, nil
	}))
	h.Message("ann", "hi")
	hist := h.History()
	if len(hist) != 1 || hist[0].ID != 102 || hist[0].Reason != "stamped in lobby" {
		t.Fatalf("history %+v, want the stamped message with ID 102", hist)
	}
}

func TestWithoutPresence(t *testing.T) {
	h := newHub(t, hub.WithoutPresence(), hub.WithLastID(41))
	ann := mustSubscribeAs(t, h, hub.Member{UserID: "ann", SessionID: "a1", Name: "Ann"})
	bob := mustSubscribeAs(t, h, hub.Member{UserID: "bob", SessionID: "b1", Name: "Bob"})
	eve := mustSubscribeAs(t, h, hub.Member{UserID: "eve", SessionID: "e1", Name: "Eve"})
	if err := h.Post(hub.Event{Type: hub.EventTypeDirect, UserID: "ann", To: "bob", Message: "psst"}); err != nil {
		t.Fatal(err)
	}
	for name, sub := range map[string]*hub.Subscription{"ann": ann, "bob": bob} {
		got := next(t, sub.Events())
		if got.Type != hub.EventTypeDirect || got.ID != 42 || got.Name != "Ann" || got.ToName != "Bob" {
			t.Errorf("%s's stream starts with %+v, want the direct message 42 with both names", name, got)
		}
	}
	if err := h.Rename("bob", "Robert"); err != nil {
		t.Fatal(err)
	}
	mustRemove(t, h, "eve", "e1")
	if evs := drain(t, eve.Events()); len(evs) != 0 {
		t.Errorf("eve got %+v, want nothing: no presence, and the direct message was not hers", evs)
	}
	if err := h.Post(hub.Event{Type: hub.EventTypeDirect, UserID: "bob", To: "ann", Message: "ok"}); err != nil {
		t.Fatal(err)
	}
	if got := next(t, ann.Events()); got.Message != "ok" || got.Name != "Robert" {
		t.Errorf("ann got %+v, want bob's reply under his new name, with no nick or leave before it", got)
	}
	for _, ev := range h.History() {
		if slices.Contains([]string{hub.EventTypeJoin, hub.EventTypeAdd, hub.EventTypeRemove, hub.EventTypeLeave, hub.EventTypeNick}, ev.Type) {
			t.Errorf("history holds presence: %+v", ev)
		}
	}
	if err := h.Drop("ann", "kicked"); err != nil {
		t.Fatal(err)
	}
	drain(t, ann.Events())
	if ann.Err() == nil {
		t.Error("a dropped stream ends without error")
	}
}

func TestTypesHasTheRoomEvents(t *testing.T) {
	for _, typ := range []string{hub.EventTypeTopic, hub.EventTypeCreate, hub.EventTypeDrop, hub.EventTypeOp,
		hub.EventTypeDeop, hub.EventTypeMode, hub.EventTypeInvite} {
		if !slices.Contains(hub.Types(), typ) {
			t.Errorf("Types() lacks %q", typ)
		}
	}
}

func TestPartCarriesTheReason(t *testing.T) {
	h := newHub(t)
	ann := mustSubscribe(t, h, "ann", "a1")
	bob := mustSubscribe(t, h, "bob", "b1")
	if err := h.Part("bob", "b1", "off to lunch"); err != nil {
		t.Fatal(err)
	}
	drain(t, bob.Events())
	if bob.Err() != nil {
		t.Errorf("a part ends the stream with %v, want nil", bob.Err())
	}
	var ev hub.Event
	for ev.Type != hub.EventTypeLeave {
		ev = next(t, ann.Events())
	}
	if ev.UserID != "bob" || ev.Reason != "off to lunch" {
		t.Errorf("the room saw %+v, want bob's leave with the reason", ev)
	}
	if err := h.Part("bob", "b1", ""); !errors.Is(err, hub.ErrNotFound) {
		t.Errorf("a second part: %v, want ErrNotFound", err)
	}
	_ = h.Close()
	if err := h.Part("ann", "a1", ""); !errors.Is(err, hub.ErrClosed) {
		t.Errorf("a part after Close: %v, want ErrClosed", err)
	}
}
