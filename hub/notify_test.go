package hub_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sshchat/sshchat/hub"
)

// roomsReader is one session in several rooms that waits on a single notify
// channel and takes from each stream only what is ready: the way a
// session reads its rooms without a goroutine per room.
type roomsReader struct {
	notify chan struct{}
	subs   map[string]*hub.Subscription // by room
	got    map[string][]hub.Event
	closed map[string]bool
}

func newRoomsReader() *roomsReader {
	return &roomsReader{notify: make(chan struct{}, 1), subs: map[string]*hub.Subscription{},
		got: map[string][]hub.Event{}, closed: map[string]bool{}}
}

func (r *roomsReader) join(t *testing.T, h *hub.Hub, userID, sessionID string) {
	t.Helper()
	sub, err := h.Subscribe(hub.Member{UserID: userID, SessionID: sessionID}, 0, hub.WithNotify(r.notify))
	if err != nil {
		t.Fatal(err)
	}
	r.subs[h.ID()] = sub
}

// take drains every open stream without blocking.
func (r *roomsReader) take() {
	for room, sub := range r.subs {
		if r.closed[room] {
			continue
		}
	stream:
		for {
			select {
			case ev, ok := <-sub.Events():
				if !ok {
					r.closed[room] = true
					break stream
				}
				r.got[room] = append(r.got[room], ev)
			default:
				break stream
			}
		}
	}
}

// waitFor takes events on each wake, and only then, until done says so.
func (r *roomsReader) waitFor(t *testing.T, what string, done func() bool) {
	t.Helper()
	deadline := time.After(timeout)
	for !done() {
		select {
		case <-r.notify:
			r.take()
		case <-deadline:
			t.Fatalf("not woken for %s within timeout; got %v, closed %v", what, r.counts(), r.closed)
		}
	}
}

func (r *roomsReader) counts() map[string]int {
	n := map[string]int{}
	for room, evs := range r.got {
		n[room] = len(evs)
	}
	return n
}

func (r *roomsReader) messages(room string) int {
	n := 0
	for _, ev := range r.got[room] {
		if ev.Type == hub.EventTypeMessage {
			n++
		}
	}
	return n
}

// TestNotifyWakesAfterEvents: a roomsReader in two rooms that waits on one
// channel and only takes what is ready when woken gets every message of
// both, the wake coming after the event it is for.
func TestNotifyWakesAfterEvents(t *testing.T) {
	a, b := hub.New("a", 16, 64), hub.New("b", 16, 64)
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	r := newRoomsReader()
	r.join(t, a, "ann", "s1")
	r.join(t, b, "ann", "s1")
	const n = 200
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			a.Message("bob", fmt.Sprint("a", i))
			b.Message("bob", fmt.Sprint("b", i))
		}
	}()
	r.waitFor(t, "every message", func() bool { return r.messages("a") == n && r.messages("b") == n })
	<-done
	for _, room := range []string{"a", "b"} {
		assertIncreasing(t, r.got[room])
		if first := r.got[room][0]; first.Type != hub.EventTypeJoin {
			t.Errorf("room %s: first event %+v, want the session's own join", room, first)
		}
	}
}

// TestNotifyWakesALaggingReader: events that waited in the hub's queue
// behind a full channel wake the roomsReader when they move into it, so a
// roomsReader that takes only what is ready is never left with events stuck
// behind its channel.
func TestNotifyWakesALaggingReader(t *testing.T) {
	h := newHub(t, hub.WithSubscriberBuffer(1), hub.WithFlushInterval(time.Millisecond))
	r := newRoomsReader()
	r.join(t, h, "ann", "s1")
	const n = 20
	for i := range n {
		h.Message("bob", fmt.Sprint(i))
	}
	r.waitFor(t, "the queued messages", func() bool { return r.messages("lobby") == n })
	if st := h.Stats(); st.Evicted != 0 {
		t.Errorf("Stats() = %+v, want nobody evicted", st)
	}
}

// TestNotifyWakesOnEveryEnd: a stream that ends, whatever ends it (a
// remove, an eviction, a drop, the hub's close), wakes its roomsReader, which
// finds it closed and Err saying why; its other room goes on.
func TestNotifyWakesOnEveryEnd(t *testing.T) {
	tests := []struct {
		name string
		end  func(h *hub.Hub) error
		want error // nil: Err is nil
	}{
		{"remove", func(h *hub.Hub) error { return h.Remove("ann", "s1") }, nil},
		{"evict", func(h *hub.Hub) error { return h.Evict("ann", "s1", "output queue full") }, hub.ErrEvicted},
		{"drop", func(h *hub.Hub) error { return h.Drop("ann", "kicked") }, hub.ErrDropped},
		{"close", func(h *hub.Hub) error { return h.Close() }, hub.ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ending, staying := hub.New("ending", 16, 64), hub.New("staying", 16, 64)
			t.Cleanup(func() { _ = ending.Close(); _ = staying.Close() })
			r := newRoomsReader()
			r.join(t, ending, "ann", "s1")
			r.join(t, staying, "ann", "s1")
			r.waitFor(t, "the arrivals", func() bool { return len(r.got["ending"]) > 0 && len(r.got["staying"]) > 0 })
			if err := tt.end(ending); err != nil {
				t.Fatal(err)
			}
			r.waitFor(t, "the end of the stream", func() bool { return r.closed["ending"] })
			err := r.subs["ending"].Err()
			if (tt.want == nil && err != nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("Err() = %v, want %v", err, tt.want)
			}
			staying.Message("bob", "still here")
			r.waitFor(t, "the other room's message", func() bool { return r.messages("staying") == 1 })
			if r.closed["staying"] {
				t.Error("the other room's stream closed")
			}
		})
	}
}
