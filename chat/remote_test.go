package chat

import (
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sshchat/sshchat/hub"
	"github.com/sshchat/sshchat/registry"
)

// twoNodes is a chat on two nodes, a and b, joined as a bus between
// nodes joins them: one sequence of IDs, each node's events applied on
// the other in that order, and one registry (which nodes share through
// the bus).
type twoNodes struct {
	t      *testing.T
	mu     sync.Mutex
	last   int
	queued []stamped // guarded by mu: not yet carried to the other node
	nodes  map[string]*testCore
}

type stamped struct {
	node string
	ev   hub.Event
}

func newTwoNodes(t *testing.T) *twoNodes {
	reg, err := registry.Open("")
	if err != nil {
		t.Fatal(err)
	}
	n := &twoNodes{t: t, nodes: map[string]*testCore{}}
	stamp := func(node string) func(hub.Event) (hub.Event, error) {
		return func(ev hub.Event) (hub.Event, error) {
			n.mu.Lock()
			defer n.mu.Unlock()
			n.last++
			ev.ID = n.last
			if ev.Node == "" {
				ev.Node = node
			}
			n.queued = append(n.queued, stamped{node, ev})
			return ev, nil
		}
	}
	for _, name := range []string{"a", "b"} {
		tc := &testCore{t: t, reg: reg, hubs: map[string]*hub.Hub{}}
		open := func(id string) (Room, error) {
			opts := []hub.Option{hub.WithStamp(stamp(name)), hub.WithSubscriberBuffer(256)}
			if id == DirectID {
				opts = append(opts, hub.WithoutPresence())
			}
			h := hub.New(id, 64, 1024, opts...)
			tc.mu.Lock()
			tc.hubs[id] = h
			tc.mu.Unlock()
			return h, nil
		}
		core, err := New(reg, slog.New(slog.DiscardHandler), Config{OpenRoom: open})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = core.Close() })
		tc.core, tc.hub = core, tc.hubOf(core.Lobby())
		n.nodes[name] = tc
	}
	return n
}

// carry hands every event made so far to the node that did not make it,
// until no node makes more (putting a user out makes departures).
func (n *twoNodes) carry() {
	n.t.Helper()
	for range 10 {
		for _, tc := range n.nodes {
			tc.mu.Lock()
			hubs := slices.Collect(mapsValues(tc.hubs))
			tc.mu.Unlock()
			for _, h := range hubs {
				h.History() // what was asked of the hub before is done
			}
		}
		n.mu.Lock()
		q := n.queued
		n.queued = nil
		n.mu.Unlock()
		if len(q) == 0 {
			return
		}
		for _, s := range q {
			for name, tc := range n.nodes {
				if name != s.node {
					tc.core.Remote(s.ev)
				}
			}
		}
	}
	n.t.Fatal("the nodes never settle")
}

func mapsValues(m map[string]*hub.Hub) func(func(*hub.Hub) bool) {
	return func(yield func(*hub.Hub) bool) {
		for _, h := range m {
			if !yield(h) {
				return
			}
		}
	}
}

func memberNames(c *Core, room string) []string {
	top, _ := c.Members(room, 100)
	var names []string
	for _, m := range top {
		names = append(names, m.Name)
	}
	return names
}

// TestRemoteSessionsAreOnline: a user on node a is online on node b,
// in the room's roster, found by name, and counted against the sessions
// its key may hold; its messages reach b's sessions.
func TestRemoteSessionsAreOnline(t *testing.T) {
	n := newTwoNodes(t)
	a, b := n.nodes["a"], n.nodes["b"]
	annA, _ := a.join(annID, "ann", "a1")
	n.carry()
	_, bobSub := b.join(bobID, "bob", "b1")
	n.carry()
	if got := memberNames(b.core, "lobby"); !slices.Equal(got, []string{"ann", "bob"}) {
		t.Fatalf("node b's roster %v, want ann and bob", got)
	}
	if got := memberNames(a.core, "lobby"); !slices.Equal(got, []string{"ann", "bob"}) {
		t.Fatalf("node a's roster %v, want ann and bob", got)
	}
	_, arrival, _ := b.arrive(annID, "whoever", "b2")
	if arrival.Sessions != 2 || arrival.Name != "ann" {
		t.Fatalf("ann's second session, on node b: %+v; want her name and 2 sessions", arrival)
	}
	if err := annA.Post("lobby", "hello from a"); err != nil {
		t.Fatal(err)
	}
	n.carry()
	if ev := next(t, bobSub); ev.Message != "hello from a" || ev.Name != "ann" {
		t.Fatalf("bob on node b got %+v", ev)
	}
}

// TestRemoteModeration: a kick from the server on node a disconnects the
// user's sessions on node b; a room made on a is open on b; a room
// dropped on a is gone on b.
func TestRemoteModeration(t *testing.T) {
	n := newTwoNodes(t)
	a, b := n.nodes["a"], n.nodes["b"]
	a.core.SetAdmins(map[string]bool{annID: true})
	ann, _ := a.join(annID, "ann", "a1")
	bob, _, bobSess := b.arrive(bobID, "bob", "b1")
	n.carry()

	if _, _, err := ann.Join("#go", 0); err != nil {
		t.Fatal(err)
	}
	n.carry()
	if _, ok := b.core.RoomInfo("go"); !ok {
		t.Fatal("#go, made on node a, is not open on node b")
	}
	goSub, _, err := bob.Join("#go", 0)
	if err != nil {
		t.Fatal(err)
	}
	n.carry()
	if got := memberNames(a.core, "go"); !slices.Equal(got, []string{"ann", "bob"}) {
		t.Fatalf("#go on node a lists %v", got)
	}
	if _, err := ann.Run("go", "drop", "done here"); err != nil {
		t.Fatal(err)
	}
	n.carry()
	drain := func(sub *hub.Subscription) {
		for range sub.Events() {
		}
	}
	drain(goSub)
	if err := goSub.Err(); err == nil || !strings.Contains(err.Error(), "dropped") {
		t.Fatalf("bob's #go stream on node b ended with %v, want the drop", err)
	}
	if _, ok := b.core.RoomInfo("go"); ok {
		t.Fatal("#go is still open on node b")
	}

	if _, err := ann.Run("lobby", "kick", "bob flooding"); err != nil {
		t.Fatal(err)
	}
	n.carry()
	select {
	case why := <-bobSess.ended:
		if !strings.Contains(why, "kicked by ann: flooding") {
			t.Fatalf("bob told %q", why)
		}
	default:
		t.Fatal("bob's session on node b was not ended by the kick on node a")
	}
}

// TestNodeGone: the sessions of a node gone leave the rosters of the
// others, and their departures are announced once, by the node that
// takes them out.
func TestNodeGone(t *testing.T) {
	n := newTwoNodes(t)
	a, b := n.nodes["a"], n.nodes["b"]
	_, annSub := a.join(annID, "ann", "a1")
	b.join(bobID, "bob", "b1")
	b.arrive(bobID, "bob", "b2")
	n.carry()
	if got := len(b.core.Placements()); got != 2 {
		t.Fatalf("node b places %d sessions in rooms, want bob's 2 in the lobby", got)
	}
	a.core.NodeGone("b", "node b stopped answering")
	if got := memberNames(a.core, "lobby"); !slices.Equal(got, []string{"ann"}) {
		t.Fatalf("node a's roster after node b is gone: %v", got)
	}
	timeout := time.After(wait)
	for {
		var ev hub.Event
		select {
		case ev = <-annSub.Events():
		case <-timeout:
			t.Fatal("ann never saw bob leave")
		}
		if ev.Type == hub.EventTypeLeave && ev.UserID == bobID {
			if ev.Node != "b" || ev.Reason != "node b stopped answering" {
				t.Fatalf("bob's departure %+v", ev)
			}
			break
		}
	}
	n.mu.Lock()
	var departures []string
	for _, s := range n.queued {
		if s.node == "a" {
			departures = append(departures, s.ev.Type+" "+s.ev.SessionID)
		}
	}
	n.mu.Unlock()
	slices.Sort(departures)
	if want := []string{"leave b1", "remove b2"}; !slices.Equal(departures, want) && !slices.Equal(departures, []string{"leave b2", "remove b1"}) {
		t.Fatalf("node a announced %v, want one departure for each of bob's sessions", departures)
	}
}
