package hub_test

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/sshchat/sshchat/hub"
)

// nodes is a room on two nodes joined by a bus as the cluster's is: one
// sequence of IDs, and each node's events applied on the other.
type nodes struct {
	t      *testing.T
	mu     sync.Mutex
	last   int
	queued []origin // stamped, not yet carried to the other node
	hubs   map[string]*hub.Hub
}

type origin struct {
	node string
	ev   hub.Event
}

func newNodes(t *testing.T, names ...string) *nodes {
	n := &nodes{t: t, hubs: map[string]*hub.Hub{}}
	for _, name := range names {
		stamp := func(ev hub.Event) (hub.Event, error) {
			n.mu.Lock()
			defer n.mu.Unlock()
			n.last++
			ev.ID = n.last
			if ev.Node == "" {
				ev.Node = name
			}
			n.queued = append(n.queued, origin{name, ev})
			return ev, nil
		}
		h := hub.New("go", 64, 64, hub.WithStamp(stamp), hub.WithSubscriberBuffer(256))
		t.Cleanup(func() { _ = h.Close() })
		n.hubs[name] = h
	}
	return n
}

// carry applies every event stamped so far on the nodes that did not
// make it, in ID order.
func (n *nodes) carry() {
	n.t.Helper()
	for _, h := range n.hubs {
		h.History() // every request sent before is served
	}
	n.mu.Lock()
	q := n.queued
	n.queued = nil
	n.mu.Unlock()
	for _, o := range q {
		for name, h := range n.hubs {
			if name != o.node {
				if err := h.Apply(o.ev); err != nil {
					n.t.Fatal(err)
				}
			}
		}
	}
}

func subscribe(t *testing.T, h *hub.Hub, user, session string) *hub.Subscription {
	t.Helper()
	sub, err := h.Subscribe(hub.Member{UserID: user, SessionID: session, Name: user}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// TestPresenceAcrossNodes: a user's first session on any node is a
// join, a later one on another node an add; the last one anywhere is a
// leave, and each node's subscribers see the other's arrivals and
// departures.
func TestPresenceAcrossNodes(t *testing.T) {
	n := newNodes(t, "a", "b")
	a, b := n.hubs["a"], n.hubs["b"]
	watcher := subscribe(t, b, "watcher", "w1")
	n.carry()
	if ev := next(t, watcher.Events()); ev.Type != hub.EventTypeJoin {
		t.Fatalf("own arrival %+v", ev)
	}
	ann1 := subscribe(t, a, "ann", "s1")
	n.carry()
	if ev := next(t, watcher.Events()); briefOf(ev) != (brief{hub.EventTypeJoin, "ann", "s1"}) || ev.Node != "a" {
		t.Fatalf("node b saw %+v, want ann's join on node a", ev)
	}
	ann2 := subscribe(t, b, "ann", "s2")
	if ev := next(t, ann2.Events()); ev.Type != hub.EventTypeAdd {
		t.Fatalf("ann's second session, on the other node, arrived as %q, want add", ev.Type)
	}
	n.carry()
	if ev := next(t, ann1.Events()); briefOf(ev) != (brief{hub.EventTypeJoin, "ann", "s1"}) {
		t.Fatalf("node a got %+v, want ann's own join first", ev)
	}
	if ev := next(t, ann1.Events()); briefOf(ev) != (brief{hub.EventTypeAdd, "ann", "s2"}) {
		t.Fatalf("node a got %+v, want ann's add on node b", ev)
	}
	if err := a.Remove("ann", "s1"); err != nil {
		t.Fatal(err)
	}
	n.carry()
	if ev := next(t, watcher.Events()); briefOf(ev) != (brief{hub.EventTypeAdd, "ann", "s2"}) {
		t.Fatalf("watcher got %+v, want ann's add", ev)
	}
	if ev := next(t, watcher.Events()); briefOf(ev) != (brief{hub.EventTypeRemove, "ann", "s1"}) {
		t.Fatalf("ann's session on node a went as %+v, want remove: she is still on node b", ev)
	}
	if err := b.Remove("ann", "s2"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, watcher.Events()); briefOf(ev) != (brief{hub.EventTypeLeave, "ann", "s2"}) {
		t.Fatalf("ann's last session went as %+v, want leave", ev)
	}
	n.carry()
	if users := usersOf(a); !slices.Equal(users, []string{"watcher"}) {
		t.Fatalf("node a counts %v online, want the watcher only", users)
	}
}

// TestReap: the sessions of a node that stopped without their
// departures leave through a node that is still up, once, as its events.
func TestReap(t *testing.T) {
	n := newNodes(t, "a", "b")
	a, b := n.hubs["a"], n.hubs["b"]
	watcher := subscribe(t, a, "watcher", "w1")
	subscribe(t, b, "bob", "s1")
	subscribe(t, b, "bob", "s2")
	subscribe(t, b, "cy", "s3")
	n.carry()
	if got := a.RemoteSessions(); got != 3 {
		t.Fatalf("node a counts %d sessions of node b, want 3", got)
	}
	next(t, watcher.Events()) // its own join
	for range 3 {
		next(t, watcher.Events())
	}
	gone, err := a.Reap("b", "node b stopped")
	if err != nil || gone != 3 {
		t.Fatalf("Reap = %d, %v; want 3 sessions", gone, err)
	}
	var types []string
	for range 3 {
		ev := next(t, watcher.Events())
		if ev.Node != "b" || ev.Reason != "node b stopped" {
			t.Fatalf("departure %+v: want node b and the reason", ev)
		}
		types = append(types, ev.UserID+":"+ev.Type)
	}
	slices.Sort(types)
	if want := []string{"bob:leave", "bob:remove", "cy:leave"}; !slices.Equal(types, want) {
		t.Fatalf("departures %v, want %v", types, want)
	}
	if again, _ := a.Reap("b", "again"); again != 0 {
		t.Fatalf("a second Reap took %d sessions out", again)
	}
	if users := usersOf(a); !slices.Equal(users, []string{"watcher"}) {
		t.Fatalf("online after the reap: %v", users)
	}
}

// TestApplyDeliversAndKeeps: another node's message reaches the
// subscribers and the history; its close does not close this room; an
// arrival applied twice counts once.
func TestApplyDeliversAndKeeps(t *testing.T) {
	h := newHub(t)
	sub := subscribe(t, h, "ann", "s1")
	next(t, sub.Events())
	remote := []hub.Event{
		{ID: 40, ChatRoomID: "lobby", Type: hub.EventTypeJoin, UserID: "bob", SessionID: "x", Name: "bob", Node: "b"},
		{ID: 41, ChatRoomID: "lobby", Type: hub.EventTypeJoin, UserID: "bob", SessionID: "x", Name: "bob", Node: "b"},
		{ID: 42, ChatRoomID: "lobby", Type: hub.EventTypeMessage, UserID: "bob", Name: "bob", Message: "hi from b"},
		{ID: 43, ChatRoomID: "lobby", Type: hub.EventTypeClose, Node: "b"},
	}
	for _, ev := range remote {
		if err := h.Apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	if ev := next(t, sub.Events()); ev.ID != 40 || ev.Type != hub.EventTypeJoin {
		t.Fatalf("got %+v, want bob's join", ev)
	}
	if ev := next(t, sub.Events()); ev.ID != 41 {
		t.Fatalf("got %+v, want the second copy delivered as it came", ev)
	}
	if ev := next(t, sub.Events()); ev.Message != "hi from b" {
		t.Fatalf("got %+v, want bob's message", ev)
	}
	if got := h.RemoteSessions(); got != 1 {
		t.Fatalf("%d remote sessions, want 1: an arrival counts once", got)
	}
	hist := h.History()
	if last := hist[len(hist)-1]; last.ID != 42 {
		t.Fatalf("last of the history %+v, want the message: another node's close is not kept", last)
	}
	h.Message("ann", "still open")
	if ev := next(t, sub.Events()); ev.Message != "still open" || ev.ID != 43 {
		t.Fatalf("got %+v, want ann's message numbered after the last applied", ev)
	}
	if err := h.Apply(hub.Event{Type: hub.EventTypeRoster}); !errors.Is(err, hub.ErrBadType) {
		t.Fatalf("Apply of a roster: %v, want ErrBadType", err)
	}
}

// TestStampFailureDeliversLocally: an event the bus could not number
// still reaches this node's subscribers, and is not kept.
func TestStampFailureDeliversLocally(t *testing.T) {
	fail := errors.New("bus gave up")
	h := newHub(t, hub.WithStamp(func(ev hub.Event) (hub.Event, error) {
		if ev.Type == hub.EventTypeMessage {
			return ev, fail
		}
		ev.ID = 7
		return ev, nil
	}))
	sub := subscribe(t, h, "ann", "s1")
	next(t, sub.Events())
	h.Message("ann", "not numbered")
	if ev := next(t, sub.Events()); ev.Message != "not numbered" {
		t.Fatalf("got %+v", ev)
	}
	if hist := h.History(); len(hist) != 1 {
		t.Fatalf("history %+v, want the join only", hist)
	}
}

func usersOf(h *hub.Hub) []string {
	var ids []string
	for _, u := range h.Users() {
		ids = append(ids, u.UserID)
	}
	slices.Sort(ids)
	return ids
}
