package sshserver

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sshchat/sshchat/chat"
	"github.com/sshchat/sshchat/hub"
)

// subscribeAll subscribes ann's session s1 to each hub with the streams'
// notify option, and has the streams read them.
func subscribeAll(t *testing.T, st *streams, hubs ...*hub.Hub) {
	t.Helper()
	for _, h := range hubs {
		sub, err := h.Subscribe(hub.Member{UserID: "ann", SessionID: "s1"}, 0, st.subscribeOption())
		if err != nil {
			t.Fatal(err)
		}
		st.add(roomStream{info: chat.RoomInfo{ID: h.ID()}, sub: sub})
	}
}

func newTestHub(t *testing.T, id string, opts ...hub.Option) *hub.Hub {
	t.Helper()
	h := hub.New(id, 64, 64, opts...)
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// waitWake waits for the streams' wake-up.
func waitWake(t *testing.T, st *streams) {
	t.Helper()
	select {
	case <-st.notify:
	case <-time.After(wait):
		t.Fatal("no wake-up")
	}
}

// TestCollectSharesTheLimitAmongRooms: a collect stops at its limit and
// wakes the pump again; the next one starts with another room, so a busy
// room does not starve the others, and together they take everything.
func TestCollectSharesTheLimitAmongRooms(t *testing.T) {
	a, b := newTestHub(t, "a"), newTestHub(t, "b")
	st := newStreams("ann", func() map[string]bool { return nil })
	subscribeAll(t, st, a, b)
	const n = 10
	for i := range n {
		a.Message("bob", fmt.Sprint("a", i))
		b.Message("bob", fmt.Sprint("b", i))
	}
	messages := map[string]int{}
	keep := func(ev hub.Event) {
		if ev.Type == hub.EventTypeMessage {
			messages[ev.ChatRoomID]++
		}
	}
	waitWake(t, st)
	// The hubs deliver in their own time: collect until all are in.
	deadline := time.Now().Add(wait)
	first := true
	for messages["a"]+messages["b"] < 2*n {
		if time.Now().After(deadline) {
			t.Fatalf("collected %v, want %d of each", messages, n)
		}
		if ended := st.collect(3, keep); len(ended) != 0 {
			t.Fatalf("streams ended: %v", ended)
		}
		woke := false // the wake for the next collect was taken here
		if first && messages["b"] == 0 && messages["a"] > 0 {
			// The limit cut the first collect short: it asked to be called again.
			select {
			case <-st.notify:
				woke = true
			default:
				t.Fatal("a collect cut short by its limit did not wake the pump")
			}
		}
		first = false
		if messages["a"]+messages["b"] < 2*n && !woke {
			waitWake(t, st)
		}
	}
	if messages["a"] != n || messages["b"] != n {
		t.Errorf("collected %v, want %d of each", messages, n)
	}
}

// TestCollectKeepsOnlyWhatTheUserMaySee: direct messages between others
// and what an ignored user says never reach keep.
func TestCollectKeepsOnlyWhatTheUserMaySee(t *testing.T) {
	room, direct := newTestHub(t, "lobby"), newTestHub(t, chat.DirectID, hub.WithoutPresence())
	st := newStreams("ann", func() map[string]bool { return map[string]bool{"mallory": true} })
	subscribeAll(t, st, room, direct)
	room.Message("mallory", "NOISE")
	if err := direct.Post(hub.Event{Type: hub.EventTypeDirect, UserID: "bob", To: "carol", Message: "SECRET"}); err != nil {
		t.Fatal(err)
	}
	if err := direct.Post(hub.Event{Type: hub.EventTypeDirect, UserID: "bob", To: "ann", Message: "for ann"}); err != nil {
		t.Fatal(err)
	}
	room.Message("bob", "MARK")
	var got []string
	keep := func(ev hub.Event) { got = append(got, ev.Message) }
	deadline := time.Now().Add(wait)
	for !contains(got, "MARK") || !contains(got, "for ann") {
		if time.Now().After(deadline) {
			t.Fatalf("kept %q, want MARK and the direct message to ann", got)
		}
		waitWake(t, st)
		st.collect(maxBatch, keep)
	}
	if contains(got, "NOISE") || contains(got, "SECRET") {
		t.Errorf("kept %q: an ignored user's message or someone else's direct message", got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestCollectReturnsEndedStreams: a stream that ends is returned once,
// with its Err, and no longer read; the other rooms go on.
func TestCollectReturnsEndedStreams(t *testing.T) {
	a, b := newTestHub(t, "a"), newTestHub(t, "b")
	st := newStreams("ann", func() map[string]bool { return nil })
	subscribeAll(t, st, a, b)
	if err := a.Drop("ann", "kicked"); err != nil {
		t.Fatal(err)
	}
	var ended []roomStream
	deadline := time.Now().Add(wait)
	for len(ended) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the dropped stream was not returned")
		}
		waitWake(t, st)
		ended = st.collect(maxBatch, func(hub.Event) {})
	}
	if len(ended) != 1 || ended[0].info.ID != "a" || ended[0].sub.Err() == nil {
		t.Fatalf("ended = %+v, want room a with its error", ended)
	}
	if len(st.rooms) != 1 || st.rooms[0].info.ID != "b" {
		t.Errorf("rooms read = %+v, want b alone", st.rooms)
	}
}

// TestEnterNeverBlocks: the core hands rooms over in the middle of a
// command, with no pump reading: enter must return at once, and the pump
// finds them all.
func TestEnterNeverBlocks(t *testing.T) {
	st := newStreams("ann", nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 100 {
			st.enter(chat.RoomInfo{ID: fmt.Sprint("r", i)}, nil)
		}
	}()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("enter blocked")
	}
	waitWake(t, st)
	if got := len(st.take()); got != 100 {
		t.Errorf("took %d rooms, want 100", got)
	}
}

// TestStreamEndedSaysWhetherTheSessionEnds: leaving a room (a /part, a
// kick or ban from it, the room dropped) ends only the room; the server
// closing, an eviction and the end of the direct messages end the
// session.
func TestStreamEndedSaysWhetherTheSessionEnds(t *testing.T) {
	tests := []struct {
		name   string
		room   string
		end    func(h *hub.Hub) error
		ends   bool
		reason string // in why
	}{
		{"part", "go", func(h *hub.Hub) error { return h.Remove("ann", "s1") }, false, ""},
		{"kick", "go", func(h *hub.Hub) error { return h.Drop("ann", "kicked from #go") }, false, "kicked from #go"},
		{"closed", "go", func(h *hub.Hub) error { return h.Close() }, true, "shutting down"},
		{"evicted", "go", func(h *hub.Hub) error { return h.Evict("ann", "s1", "output queue full") }, true, "fell too far behind"},
		{"put out of the server", chat.DirectID, func(h *hub.Hub) error { return h.Drop("ann", "banned") }, true, "banned"},
	}
	s := &Server{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHub(t, tt.room)
			st := newStreams("ann", func() map[string]bool { return nil })
			subscribeAll(t, st, h)
			if err := tt.end(h); err != nil {
				t.Fatal(err)
			}
			var ended []roomStream
			for len(ended) == 0 {
				waitWake(t, st)
				ended = st.collect(maxBatch, func(hub.Event) {})
			}
			why, ends := s.streamEnded(ended[0], slog.New(slog.DiscardHandler))
			if ends != tt.ends || !strings.Contains(why, tt.reason) {
				t.Errorf("streamEnded = %q, %v; want %v with %q", why, ends, tt.ends, tt.reason)
			}
		})
	}
}
