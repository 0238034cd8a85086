package bus

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/sshchat/sshchat/hub"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestStampConcurrentRooms stamps from many goroutines at once, as the hubs
// of many rooms do: the log receives every event once, in strictly
// increasing ID order with no gap, and each stamper sees its own IDs
// increase.
func TestStampConcurrentRooms(t *testing.T) {
	const (
		rooms   = 32
		perRoom = 500
		lastID  = 41 // a log that already holds events
	)
	log := make(chan hub.Event, 8) // small: stampers wait on the log
	b := NewLocal(lastID, log)

	got := make(chan []hub.Event)
	go func() {
		var evs []hub.Event
		for ev := range log {
			evs = append(evs, ev)
		}
		got <- evs
	}()

	var wg sync.WaitGroup
	returned := make([][]int, rooms)
	for r := range rooms {
		wg.Go(func() {
			room := fmt.Sprintf("room%d", r)
			for i := range perRoom {
				ev, _ := b.Stamp(hub.Event{ChatRoomID: room, Type: hub.EventTypeMessage, Message: fmt.Sprint(i)})
				returned[r] = append(returned[r], ev.ID)
			}
		})
	}
	wg.Wait()
	b.Close()
	logged := <-got

	if len(logged) != rooms*perRoom {
		t.Fatalf("log received %d events, want %d", len(logged), rooms*perRoom)
	}
	for i, ev := range logged {
		if want := lastID + 1 + i; ev.ID != want {
			t.Fatalf("log event %d has ID %d, want %d (strictly increasing, no gap)", i, ev.ID, want)
		}
	}
	// Within a room the log keeps the order the room stamped in.
	next := map[string]int{}
	for _, ev := range logged {
		if want := fmt.Sprint(next[ev.ChatRoomID]); ev.Message != want {
			t.Fatalf("event %d of %s is message %s, want %s", ev.ID, ev.ChatRoomID, ev.Message, want)
		}
		next[ev.ChatRoomID]++
	}
	for r, ids := range returned {
		if !slices.IsSorted(ids) || len(ids) != perRoom {
			t.Fatalf("room%d got %d IDs, sorted %v", r, len(ids), slices.IsSorted(ids))
		}
	}
	if got, want := b.LastID(), lastID+rooms*perRoom; got != want {
		t.Errorf("LastID() = %d, want %d", got, want)
	}
}

// TestStampWaitsForLog: Stamp returns only once the log took the event, so
// a log that stops reading holds up every room rather than losing events.
func TestStampWaitsForLog(t *testing.T) {
	log := make(chan hub.Event) // unbuffered: a send is a hand-over
	b := NewLocal(0, log)
	done := make(chan hub.Event)
	go func() {
		ev, _ := b.Stamp(hub.Event{Type: hub.EventTypeMessage})
		done <- ev
	}()
	select {
	case ev := <-done:
		t.Fatalf("Stamp returned %+v before the log took it", ev)
	case ev := <-log:
		if ev.ID != 1 {
			t.Fatalf("logged ID %d, want 1", ev.ID)
		}
	}
	if ev := <-done; ev.ID != 1 {
		t.Fatalf("Stamp returned ID %d, want 1", ev.ID)
	}
	b.Close()
	if _, ok := <-log; ok {
		t.Fatal("log channel still open after Close")
	}
}

func TestCloseThenStamp(t *testing.T) {
	log := make(chan hub.Event, 1)
	b := NewLocal(7, log)
	b.Close()
	b.Close() // a second Close does nothing
	if ev, _ := b.Stamp(hub.Event{Type: hub.EventTypeClose}); ev.ID != 8 {
		t.Fatalf("Stamp after Close gave ID %d, want 8", ev.ID)
	}
	if ev, ok := <-log; ok {
		t.Fatalf("event %+v logged after Close", ev)
	}
}

func TestNoLog(t *testing.T) {
	b := NewLocal(0, nil)
	for want := 1; want <= 3; want++ {
		if ev, _ := b.Stamp(hub.Event{}); ev.ID != want {
			t.Fatalf("ID %d, want %d", ev.ID, want)
		}
	}
	if b.LastID() != 3 {
		t.Fatalf("LastID() = %d, want 3", b.LastID())
	}
	b.Close()
}

// BenchmarkStamp is the cost the bus adds to every event, with a reader
// taking the log as the history listener does; Parallel has every CPU
// stamping, as busy rooms do.
func BenchmarkStamp(b *testing.B) {
	run := func(b *testing.B, stamp func(*Local, hub.Event)) {
		log := make(chan hub.Event, 1024)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range log {
			}
		}()
		l := NewLocal(0, log)
		b.ReportAllocs()
		b.ResetTimer()
		stamp(l, hub.Event{ChatRoomID: "lobby", Type: hub.EventTypeMessage, Message: "hello"})
		b.StopTimer()
		l.Close()
		<-done
	}
	b.Run("Serial", func(b *testing.B) {
		run(b, func(l *Local, ev hub.Event) {
			for b.Loop() {
				l.Stamp(ev)
			}
		})
	})
	b.Run("Parallel", func(b *testing.B) {
		run(b, func(l *Local, ev hub.Event) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					l.Stamp(ev)
				}
			})
		})
	})
}
